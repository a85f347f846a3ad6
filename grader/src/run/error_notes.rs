//! The grader's notes on compiler errors that point away from their cause.
//!
//! Some of rustc's errors land where the mistake shows, not where it is. A `MutexGuard` held
//! across an `.await` in a helper makes every handler that reaches it unfit for axum, and rustc
//! blames the router, in a file the student never touched. Each entry of [`NOTES`] recognises
//! one such error in rustc's JSON diagnostic (message, children, spans) and says in a few lines
//! where to look, naming the file and the item at fault when the diagnostic does. Each is
//! proved by the known-bad fixture it names, whose scorecard must show the note.

use super::compiler_message::CompilerMessage;

/// One kind of misleading error and what to say about it.
struct ErrorNote {
    /// The fixture that makes the mistake, `NN-slug/name` under `grader/tests/fixtures/`.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the test that every note has one"))]
    fixture: &'static str,
    /// The note for `error`, or `None` when `error` is not of this kind.
    note: fn(&CompilerMessage) -> Option<String>,
}

/// The most precise first: the first entry that recognises an error gives its note.
const NOTES: &[ErrorNote] = &[
    ErrorNote { fixture: "04-invalidation/guard-held-across-await", note: held_across_await },
    ErrorNote { fixture: "02-view-cache/handler-returns-anyhow", note: not_a_handler },
];

/// The grader's note on `error`, when it is one of the errors of [`NOTES`].
pub(crate) fn note_for(error: &CompilerMessage) -> Option<String> {
    NOTES.iter().find_map(|entry| (entry.note)(error))
}

/// A future that must be `Send` holds something that is not across an `.await`. rustc's child
/// notes say what and where: "has type `MutexGuard<'_, …>` which is not `Send`", with a span
/// in the student's file, and "await occurs here".
fn held_across_await(error: &CompilerMessage) -> Option<String> {
    let spans = || error.all().flat_map(|message| &message.spans);
    let (held, kind) = spans().find_map(|span| {
        let label = span.label.as_deref()?;
        let kind = label.strip_prefix("has type `")?.strip_suffix("` which is not `Send`")?;
        Some((span, kind))
    })?;
    // axum's `#[debug_handler]` (on a second look) reports it at the handler.
    let from_handler = is_about_a_handler(error)
        || error.rendered.as_deref().is_some_and(|text| text.contains("axum::debug_handler"));
    let whose = if from_handler { "a handler's future" } else { "a future" };
    let statement = held.text.first().map_or("", |line| line.text.trim());
    let awaited = spans()
        .find(|span| span.label.as_deref().is_some_and(|label| label.starts_with("await occurs")))
        .map_or(String::new(), |span| format!(" at line {}", span.line_start));
    Some(format!(
        "{whose} is not `Send`: {} holds a `{kind}` (`{statement}`) across an `.await`{awaited}. \
         Let go of it before awaiting: lock in a block of its own that ends before the \
         `.await`, copying out what you need.",
        held.location()
    ))
}

/// A function that axum cannot take as a handler, for a reason rustc does not say: it only
/// says, at the route, that the function does not implement `Handler`.
fn not_a_handler(error: &CompilerMessage) -> Option<String> {
    if error.code() != Some("E0277") || !is_about_a_handler(error) {
        return None;
    }
    let handler = handler_name(&error.message).unwrap_or("the handler");
    Some(format!(
        "`{handler}` {GENERAL}, and rustc says so where the route is added, \
         not why. Every argument must be an extractor, and the one that reads the body (`Json`, \
         `String`, `Form`) the last; it must return a type that implements `IntoResponse` (an \
         `anyhow::Error` does not); and its future must be `Send` (no guard or `Rc` held across \
         an `.await`, in it or in what it calls). Put `#[axum::debug_handler]` on the line above \
         `{handler}` and build again: rustc then names the cause."
    ))
}

/// The function of a "`Handler<_, _>` is not satisfied" error that says nothing of why
/// (`routes::dashboard`): the errors [`not_a_handler`] notes.
pub(crate) fn unexplained_handler(error: &CompilerMessage) -> Option<&str> {
    if held_across_await(error).is_some() || not_a_handler(error).is_none() {
        return None;
    }
    handler_name(&error.message)
}

/// How [`not_a_handler`]'s note, which lists the possible causes, names none.
const GENERAL: &str = "is not a handler axum accepts";

/// Whether `note` lists a handler's possible causes rather than naming one.
pub(crate) fn is_general(note: &str) -> bool {
    note.contains(GENERAL)
}

fn is_about_a_handler(error: &CompilerMessage) -> bool {
    error.message.contains(": Handler<") && error.message.contains("is not satisfied")
}

/// `categories::list` in "the trait bound `fn(State<AppState>) -> … {categories::list}:
/// Handler<_, _>` is not satisfied": rustc names a function item in braces after its type.
fn handler_name(message: &str) -> Option<&str> {
    let before = &message[..message.find("}: Handler<")?];
    let name = &before[before.rfind('{')? + 1..];
    let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || "_:".contains(c));
    plain.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> CompilerMessage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_note_has_its_fixture() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for entry in NOTES {
            let path = fixtures.join(format!("{}.toml", entry.fixture));
            assert!(path.is_file(), "{} has no fixture {}", entry.fixture, path.display());
        }
    }

    #[test]
    fn the_handler_is_read_from_the_function_item() {
        let message = "the trait bound `fn(State<AppState>) -> impl Future<Output = Result<Json<Vec<Category>>, StatusCode>> {categories::list}: Handler<_, _>` is not satisfied";
        assert_eq!(handler_name(message), Some("categories::list"));
        assert_eq!(handler_name("the trait bound `{closure}: Handler<_, _>`"), Some("closure"));
        assert_eq!(handler_name("the trait bound `String: Handler<_, _>`"), None);
    }

    #[test]
    fn a_guard_across_an_await_is_named_with_its_file() {
        let note = note_for(&error(
            r#"{"message":"the trait bound `fn() -> impl Future<Output = ()> {tasks::list}: Handler<_, _>` is not satisfied","level":"error","code":{"code":"E0277"},"spans":[{"file_name":"src/routes.rs","line_start":9,"column_start":30,"is_primary":true}],"children":[{"message":"future is not `Send` as this value is used across an await","level":"note","spans":[{"file_name":"src/entry_cache.rs","line_start":113,"column_start":13,"is_primary":true,"label":"has type `MutexGuard<'_, BTreeSet<Entry>>` which is not `Send`","text":[{"text":"        let mut unsynced = self.unsynced();"}]},{"file_name":"src/entry_cache.rs","line_start":115,"column_start":41,"is_primary":false,"label":"await occurs here, with `mut unsynced` maybe used later"}]}],"rendered":"error[E0277]: …"}"#,
        ))
        .unwrap();
        assert_eq!(
            note,
            "a handler's future is not `Send`: src/entry_cache.rs:113:13 holds a \
             `MutexGuard<'_, BTreeSet<Entry>>` (`let mut unsynced = self.unsynced();`) across \
             an `.await` at line 115. Let go of it before awaiting: lock in a block of its own \
             that ends before the `.await`, copying out what you need."
        );
    }

    /// What rustc says once `#[axum::debug_handler]` is on the handler (the grader's second
    /// look): the error is at the handler, its note at the guard.
    #[test]
    fn the_second_looks_error_names_the_guard_too() {
        let error = error(
            r#"{"message":"future cannot be sent between threads safely","level":"error","code":null,"spans":[{"file_name":"exercises/04-invalidation/src/categories.rs","line_start":21,"column_start":1,"is_primary":true,"label":"future returned by `list` is not `Send`"}],"children":[{"message":"future is not `Send` as this value is used across an await","level":"note","spans":[{"file_name":"exercises/04-invalidation/src/entry_cache.rs","line_start":116,"column_start":35,"is_primary":true,"label":"await occurs here, with `mut unsynced` maybe used later"},{"file_name":"exercises/04-invalidation/src/entry_cache.rs","line_start":114,"column_start":13,"is_primary":false,"label":"has type `std::sync::MutexGuard<'_, BTreeSet<entry_cache::Entry>>` which is not `Send`","text":[{"text":"        let mut unsynced = self.unsynced();"}]}]}],"rendered":"error: future cannot be sent between threads safely\n 21 | #[axum::debug_handler] pub async fn list(\n"}"#,
        );
        let note = note_for(&error).unwrap();
        assert!(note.starts_with("a handler's future is not `Send`: exercises/04-invalidation/src/entry_cache.rs:114:13 holds a `std::sync::MutexGuard"), "{note}");
        assert!(note.contains("at line 116"), "{note}");
        assert_eq!(unexplained_handler(&error), None);
    }

    #[test]
    fn a_handler_error_without_a_cause_names_the_handler_and_debug_handler() {
        let error = error(
            r#"{"message":"the trait bound `fn(HeaderMap) -> impl Future<Output = Result<Response, anyhow::Error>> {dashboard}: Handler<_, _>` is not satisfied","level":"error","code":{"code":"E0277"},"spans":[],"rendered":null}"#,
        );
        let note = note_for(&error).unwrap();
        assert!(note.starts_with("`dashboard` is not a handler axum accepts"), "{note}");
        assert!(note.contains("#[axum::debug_handler]"), "{note}");
        assert!(is_general(&note));
        // The grader takes a second look at it.
        assert_eq!(unexplained_handler(&error), Some("dashboard"));
    }

    #[test]
    fn other_errors_get_no_note() {
        let typo = error(
            r#"{"message":"cannot find value `conection` in this scope","level":"error","code":{"code":"E0425"},"spans":[],"rendered":null}"#,
        );
        assert_eq!(note_for(&typo), None);
    }
}
