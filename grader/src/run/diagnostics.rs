//! The compiler's own words: cargo's JSON messages, read back into what rustc would have printed.
//!
//! The build runs with `--message-format json`, so every diagnostic arrives as one JSON line
//! holding rustc's *rendered* text: the message, the source snippet with its carets, and the
//! `note:` and `help:` lines, exactly as `cargo build` shows them. Cargo replays the messages of
//! a crate it did not need to rebuild, so a re-grade shows the same warnings.

use serde::{Deserialize, Serialize};

use super::compiler_message::{CompilerMessage, Span};
use super::error_notes;

/// What the compiler said about one build.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Errors, rendered, from whichever crate they came (in a graded build, the student's).
    pub errors: Vec<String>,
    /// Warnings about the student's own crate; dependencies' warnings are not theirs to fix.
    pub warnings: Vec<Warning>,
    /// The grader's notes on errors whose cause lies elsewhere than they point (see
    /// [`error_notes`](super::error_notes)), each once.
    pub notes: Vec<String>,
    /// The functions rustc refused as handlers without saying why (`routes::dashboard`), each
    /// once: a second look with `#[axum::debug_handler]` says (see
    /// [`debug_handler`](super::debug_handler)).
    pub handlers: Vec<String>,
}

/// One warning of the student's crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The lint that fired, e.g. `unused_must_use`, when the warning names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<String>,
    /// The message's first line, e.g. "unused implementer of `Future` that must be used".
    pub message: String,
    /// `src/lib.rs:42:9`, where the warning points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// All of it as rustc prints it: snippet, notes and help.
    pub rendered: String,
}

impl Warning {
    /// Code that compiles yet does nothing: a result or a future dropped unused. An un-awaited
    /// `cache.set(...)` is the classic: the command is never sent, and caching criteria fail
    /// for a reason the scorecard's evidence cannot show.
    pub fn explains_silent_failures(&self) -> bool {
        self.lint.as_deref() == Some("unused_must_use")
            || self.message.contains("futures do nothing")
            || self.message.contains("that must be used")
    }

    /// "unused implementer of `Future` that must be used (src/lib.rs:42:9)".
    pub fn summary(&self) -> String {
        match &self.location {
            Some(location) => format!("{} ({location})", self.message),
            None => self.message.clone(),
        }
    }
}

/// One line of cargo's JSON output; only compiler messages matter here.
#[derive(Deserialize)]
struct CargoLine {
    reason: String,
    #[serde(default)]
    package_id: String,
    message: Option<CompilerMessage>,
}

/// Reads cargo's JSON output (`stdout` of `cargo build --message-format json`). `package` is
/// the student's package: only its warnings are kept. Lines that are not JSON (a panic of
/// cargo's, say) are left to the caller's reading of stderr.
pub fn parse(json_lines: &str, package: &str) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    let own_package = |id: &str| {
        // `path+file:///…/exercises/01-redis-setup#exercise-01-redis-setup@0.1.0`, or in older
        // cargo `exercise-01-redis-setup 0.1.0 (path+file://…)`.
        id.contains(&format!("#{package}@")) || id.starts_with(&format!("{package} "))
    };
    for line in json_lines.lines() {
        let Ok(CargoLine { reason, package_id, message: Some(message) }) =
            serde_json::from_str::<CargoLine>(line)
        else {
            continue;
        };
        if reason != "compiler-message" {
            continue;
        }
        let rendered = message.rendered.clone().unwrap_or_else(|| message.message.clone());
        match message.level.as_str() {
            // rustc's closing "aborting due to 2 previous errors" says nothing new.
            "error" | "error: internal compiler error"
                if !message.message.starts_with("aborting due to") =>
            {
                if let Some(note) = error_notes::note_for(&message)
                    && !diagnostics.notes.contains(&note)
                {
                    diagnostics.notes.push(note);
                }
                if let Some(handler) = error_notes::unexplained_handler(&message)
                    && !diagnostics.handlers.iter().any(|known| known == handler)
                {
                    diagnostics.handlers.push(handler.to_owned());
                }
                diagnostics.errors.push(rendered.trim_end().to_owned());
            }
            "warning" if own_package(&package_id) => {
                // The count at the end ("`x` generated 3 warnings") is not a warning itself.
                if message.spans.is_empty() && message.message.contains("generated") {
                    continue;
                }
                let location =
                    message.spans.iter().find(|span| span.is_primary).map(Span::location);
                diagnostics.warnings.push(Warning {
                    lint: message.code().map(str::to_owned),
                    message: message.message,
                    location,
                    rendered: rendered.trim_end().to_owned(),
                });
            }
            _ => {}
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cargo 1.9x prints for a crate with an un-awaited future (trimmed to the fields
    /// read here, which cargo has kept stable since 1.0's JSON messages).
    const UNAWAITED: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///s/exercises/03-low-level-cache#serde@1.0.0","target":{"name":"serde"}}
{"reason":"compiler-message","package_id":"registry+https://github.com/rust-lang/crates.io-index#redis@0.27.0","message":{"message":"unused variable","level":"warning","code":{"code":"unused_variables"},"spans":[],"rendered":"warning: unused variable in redis\n"}}
{"reason":"compiler-message","package_id":"path+file:///s/exercises/03-low-level-cache#exercise-03-low-level-cache@0.1.0","message":{"message":"unused implementer of `Future` that must be used","level":"warning","code":{"code":"unused_must_use"},"spans":[{"file_name":"src/lib.rs","line_start":42,"column_start":9,"is_primary":true}],"rendered":"warning: unused implementer of `Future` that must be used\n  --> src/lib.rs:42:9\n   |\n42 |         cache.set_for(&key, &value, ttl);\n   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n   |\n   = note: futures do nothing unless you `.await` or poll them\n"}}
{"reason":"compiler-message","package_id":"path+file:///s/exercises/03-low-level-cache#exercise-03-low-level-cache@0.1.0","message":{"message":"`exercise-03-low-level-cache` (lib) generated 1 warning","level":"warning","code":null,"spans":[],"rendered":"warning: `exercise-03-low-level-cache` (lib) generated 1 warning\n"}}
{"reason":"build-finished","success":true}"#;

    #[test]
    fn only_the_students_own_warnings_are_kept_with_rustcs_notes() {
        let diagnostics = parse(UNAWAITED, "exercise-03-low-level-cache");
        assert!(diagnostics.errors.is_empty());
        let [warning] = diagnostics.warnings.as_slice() else {
            panic!("one warning expected: {:?}", diagnostics.warnings);
        };
        assert_eq!(warning.lint.as_deref(), Some("unused_must_use"));
        assert_eq!(
            warning.summary(),
            "unused implementer of `Future` that must be used (src/lib.rs:42:9)"
        );
        assert!(warning.rendered.contains("futures do nothing unless you `.await`"));
        assert!(warning.explains_silent_failures());
    }

    #[test]
    fn errors_keep_their_help_lines_and_lose_the_aborting_line() {
        let json = r#"{"reason":"compiler-message","package_id":"path+file:///s#exercise-01-redis-setup@0.1.0","message":{"message":"cannot find value `conection` in this scope","level":"error","code":{"code":"E0425"},"spans":[],"rendered":"error[E0425]: cannot find value `conection` in this scope\n --> src/lib.rs:3:5\n  |\nhelp: a local variable with a similar name exists: `connection`\n"}}
{"reason":"compiler-message","package_id":"path+file:///s#exercise-01-redis-setup@0.1.0","message":{"message":"aborting due to 1 previous error","level":"error","code":null,"spans":[],"rendered":"error: aborting due to 1 previous error\n"}}"#;
        let diagnostics = parse(json, "exercise-01-redis-setup");
        assert_eq!(diagnostics.errors.len(), 1, "{:?}", diagnostics.errors);
        assert!(diagnostics.errors[0].contains("help: a local variable with a similar name"));
    }

    #[test]
    fn a_warning_that_is_only_style_does_not_claim_to_explain_failures() {
        let warning = Warning {
            lint: Some("unused_imports".to_owned()),
            message: "unused import: `std::fmt`".to_owned(),
            location: None,
            rendered: String::new(),
        };
        assert!(!warning.explains_silent_failures());
        assert_eq!(warning.summary(), "unused import: `std::fmt`");
    }
}
