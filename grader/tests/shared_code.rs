//! Code that several exercise crates carry as copies stays one piece of code: exercise 1's
//! Redis client (the time limit, the connection's settings, the time-limited command), which
//! every later exercise builds on. A copy that drifts teaches two answers to one question.

mod common;

use std::path::PathBuf;

use common::root;

/// Every cache module of the starters and solutions (`src/cache.rs`, or `src/cache/mod.rs`
/// where the client's methods are split by file), exercise 1's solution (the original) first.
fn cache_modules() -> Vec<(PathBuf, String)> {
    let original = root().join("solutions/01-redis-setup/src/cache.rs");
    let mut modules = vec![original.clone()];
    for folder in ["solutions", "exercises"] {
        for exercise in grader::course::EXERCISES {
            let src = root().join(folder).join(exercise.dir_name()).join("src");
            let module = [src.join("cache.rs"), src.join("cache/mod.rs")]
                .into_iter()
                .find(|path| path.is_file());
            if let Some(path) = module.filter(|path| *path != original) {
                modules.push(path);
            }
        }
    }
    modules
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// The code of the item that starts with `start` (a line beginning so, comments dropped):
/// up to its closing brace, or to the `;` that ends a statement.
fn item(text: &str, start: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|line| !line.trim_start().starts_with(start));
    let mut code = Vec::new();
    let mut depth = 0i32;
    for line in lines.by_ref() {
        let line = line.trim();
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        code.push(line);
        depth += line.matches(['{', '(']).count() as i32 - line.matches(['}', ')']).count() as i32;
        if depth <= 0 && (line.ends_with('}') || line.ends_with(';')) {
            return Some(code.join("\n"));
        }
    }
    None
}

#[test]
fn every_copy_of_exercise_ones_redis_client_agrees_with_it() {
    let modules = cache_modules();
    let (_, original) = &modules[0];
    let pieces =
        ["const COMMAND_TIMEOUT", "let config = ConnectionManagerConfig", "async fn limited"];
    let mut copies = 0;
    for start in pieces {
        let expected = item(original, start).unwrap_or_else(|| panic!("exercise 1 has no {start}"));
        for (path, text) in &modules[1..] {
            if let Some(copy) = item(text, start) {
                copies += 1;
                assert_eq!(
                    copy,
                    expected,
                    "{}: `{start}` differs from exercise 1's",
                    path.display()
                );
            }
        }
    }
    assert!(
        copies >= pieces.len() * 4,
        "only {copies} copies found: is `item` still finding them?"
    );
}

#[test]
fn an_item_is_read_to_its_end_and_no_further() {
    let text =
        "// c\nconst A: u8 = 1;\nfn limited(x: u8) -> u8 {\n    // why\n    x\n}\nfn next() {}\n";
    assert_eq!(item(text, "const A").as_deref(), Some("const A: u8 = 1;"));
    assert_eq!(item(text, "fn limited").as_deref(), Some("fn limited(x: u8) -> u8 {\nx\n}"));
    assert_eq!(item(text, "fn missing"), None);
}

#[test]
fn every_main_is_the_workbooks_one_line() {
    for folder in ["exercises", "solutions"] {
        for exercise in grader::course::EXERCISES {
            let crate_dir = root().join(folder).join(exercise.dir_name());
            let package = format!("{}-{}", &folder[..folder.len() - 1], exercise.dir_name());
            let main = std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap();
            let code: Vec<&str> =
                main.lines().filter(|line| !line.starts_with("//") && !line.is_empty()).collect();
            let library = package.replace('-', "_");
            let expected = [
                "fn main() -> std::process::ExitCode {".to_owned(),
                format!("    workbook::run({library}::app)"),
                "}".to_owned(),
            ];
            assert_eq!(code, expected, "{folder}/{}/src/main.rs", exercise.dir_name());
        }
    }
}
