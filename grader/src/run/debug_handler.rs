//! A second look at a function axum does not take as a handler.
//!
//! rustc says so at the route ("`Handler<_, _>` is not satisfied"), in the router's file, and
//! never why. axum's `#[debug_handler]` makes it say why, at the handler: a guard held across
//! an `.await` (with the guard's type and line), an extractor out of place, a return type that
//! is no answer. When a build fails so, the grader puts the attribute on those handlers in its
//! stage (never in the student's files), builds once more, and reads that build's errors. The
//! attribute goes on the function's own line, so every line number stays the student's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The attribute, as the workbook's axum (feature `macros`) provides it.
const ATTRIBUTE: &str = "#[axum::debug_handler] ";

/// Puts [`ATTRIBUTE`] on each of `handlers` (as rustc names them: `dashboard`, or
/// `routes::dashboard`) in the staged crate's `src`; the files changed. A handler is marked
/// only where it is declared exactly once: rustc usually gives the bare name, so the module is
/// whichever one file declares it.
pub fn mark(src: &Path, handlers: &[String]) -> Result<Vec<PathBuf>> {
    let mut sources = Vec::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        sources.push((file, text));
    }
    let mut changed = Vec::new();
    for handler in handlers {
        let name = handler.rsplit("::").next().unwrap_or(handler);
        let declaring: Vec<(usize, String)> =
            (0..sources.len()).filter_map(|at| Some((at, marked(&sources[at].1, name)?))).collect();
        if let [(at, marked)] = declaring.as_slice() {
            let (file, text) = &mut sources[*at];
            std::fs::write(&*file, marked)
                .with_context(|| format!("cannot write {}", file.display()))?;
            *text = marked.clone();
            changed.push(file.clone());
        }
    }
    Ok(changed)
}

/// The `.rs` files below `src`, regular files only: the stage holds nothing else, and a link
/// is followed by no one.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![src.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `text` with [`ATTRIBUTE`] before the one `async fn name(` it declares; `None` when it
/// declares none, or more than one.
fn marked(text: &str, name: &str) -> Option<String> {
    let declares = |line: &str| {
        let rest = line.trim_start();
        let rest = rest.strip_prefix("pub(crate) ").or(rest.strip_prefix("pub ")).unwrap_or(rest);
        rest.strip_prefix("async fn ")
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with('(') || rest.starts_with('<'))
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let declaring: Vec<usize> = (0..lines.len()).filter(|&at| declares(lines[at])).collect();
    let [index] = declaring.as_slice() else { return None };
    let line = lines[*index];
    let indent = line.len() - line.trim_start().len();
    let mut out = String::with_capacity(text.len() + ATTRIBUTE.len());
    for (at, line) in lines.iter().enumerate() {
        if at == *index {
            out.push_str(&line[..indent]);
            out.push_str(ATTRIBUTE);
            out.push_str(&line[indent..]);
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attribute_goes_on_the_handlers_own_line() {
        let text =
            "/// Doc.\npub async fn dashboard(\n    headers: HeaderMap,\n) {}\nfn other() {}\n";
        let marked = marked(text, "dashboard").unwrap();
        assert_eq!(
            marked,
            "/// Doc.\n#[axum::debug_handler] pub async fn dashboard(\n    headers: HeaderMap,\n) {}\nfn other() {}\n"
        );
        assert_eq!(marked.lines().count(), text.lines().count(), "line numbers stay");
    }

    #[test]
    fn a_name_declared_twice_or_not_at_all_is_left_alone() {
        assert!(marked("async fn list() {}\nasync fn list_all() {}\n", "list").is_some());
        assert_eq!(marked("async fn list() {}\n    async fn list() {}\n", "list"), None);
        assert_eq!(marked("fn list() {}\n", "list"), None);
    }

    #[test]
    fn a_handler_is_marked_in_the_one_file_that_declares_it() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::write(src.join("lib.rs"), "mod routes;\nmod pages;\n").unwrap();
        std::fs::write(src.join("routes.rs"), "pub async fn dashboard() {}\n").unwrap();
        std::fs::create_dir(src.join("pages")).unwrap();
        std::fs::write(src.join("pages/mod.rs"), "async fn list() {}\n").unwrap();
        std::fs::write(src.join("pages/other.rs"), "async fn list() {}\n").unwrap();

        let handlers = ["dashboard".to_owned(), "routes::dashboard".to_owned(), "list".to_owned()];
        let changed = mark(src, &handlers).unwrap();
        assert_eq!(changed, [src.join("routes.rs")], "`list` is declared twice: left alone");
        let routes = std::fs::read_to_string(src.join("routes.rs")).unwrap();
        assert_eq!(routes, "#[axum::debug_handler] pub async fn dashboard() {}\n", "marked once");
    }
}
