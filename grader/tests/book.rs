//! The book builds cleanly, its code comes from real files, its links resolve, and its criteria
//! tables are the grader's own.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::root;

fn book() -> PathBuf {
    root().join("book")
}

/// Every Markdown page of the book, with its text.
fn pages() -> Vec<(PathBuf, String)> {
    let mut pages = Vec::new();
    let mut stack = vec![book().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                pages.push((path, text));
            }
        }
    }
    pages.sort();
    pages
}

/// The text between each `open` and the next `close`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .filter_map(|rest| rest.split_once(close).map(|(inside, _)| inside))
        .collect()
}

/// mdBook's own anchor for a heading: lower case, spaces to dashes, punctuation dropped.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn mdbook() -> std::process::Command {
    let installed = std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin/mdbook"));
    let program = match installed {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("mdbook"),
    };
    std::process::Command::new(program)
}

fn build_book(dest: &Path) -> String {
    let output = mdbook()
        .args(["build", book().to_str().unwrap(), "--dest-dir", dest.to_str().unwrap()])
        .output()
        .expect("mdbook is needed: cargo install mdbook --locked --no-default-features --features search");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "mdbook build failed:\n{log}");
    log
}

#[test]
fn the_book_builds_without_warnings() {
    let dest = tempfile::tempdir().unwrap();
    let log = build_book(dest.path());
    let complaints: Vec<&str> =
        log.lines().filter(|line| line.contains("WARN") || line.contains("ERROR")).collect();
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
    assert!(dest.path().join("index.html").is_file());
}

#[test]
fn every_included_anchor_exists() {
    for (page, text) in pages() {
        for include in between(&text, "{{#include ", "}}") {
            let (file, anchor) = include.rsplit_once(':').unwrap_or((include, ""));
            let source = page.parent().unwrap().join(file);
            let code = std::fs::read_to_string(&source).unwrap_or_else(|err| {
                panic!("{}: includes {}: {err}", page.display(), source.display())
            });
            if !anchor.is_empty() {
                for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                    assert!(
                        code.contains(&marker),
                        "{}: {} has no `{marker}`",
                        page.display(),
                        source.display()
                    );
                }
            }
        }
    }
}

#[test]
fn internal_links_and_their_fragments_resolve() {
    for (page, text) in pages() {
        for target in between(&text, "](", ")") {
            if target.starts_with("http") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked =
                if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            let linked_text = std::fs::read_to_string(&linked)
                .unwrap_or_else(|_| panic!("{}: broken link to {target}", page.display()));
            if !fragment.is_empty() {
                let headings: Vec<String> = linked_text
                    .lines()
                    .filter_map(|line| line.strip_prefix('#'))
                    .map(|h| heading_id(h.trim_start_matches('#')))
                    .collect();
                assert!(
                    headings.iter().any(|id| id == fragment),
                    "{}: no heading #{fragment} in {file}",
                    page.display()
                );
            }
        }
    }
}

#[test]
fn every_checklist_item_has_a_lesson_an_exercise_page_and_a_place_in_the_summary() {
    let summary = std::fs::read_to_string(book().join("src/SUMMARY.md")).unwrap();
    let checklist = std::fs::read_to_string(book().join("src/checklist.md")).unwrap();
    for entry in std::fs::read_dir(root().join("exercises")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        for page in [format!("chapters/{name}.md"), format!("exercises/{name}.md")] {
            assert!(book().join("src").join(&page).is_file(), "the book has no {page}");
            assert!(summary.contains(&format!("({page})")), "SUMMARY.md does not list {page}");
            assert!(checklist.contains(&format!("({page})")), "the checklist does not link {page}");
        }
    }
}

#[test]
fn criteria_tables_are_the_graders_own() {
    let registry: serde_json::Value = serde_json::from_slice(
        &Command::cargo_bin("grader")
            .unwrap()
            .args(["criteria", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for exercise in registry["exercises"].as_array().unwrap() {
        let id = exercise["id"].as_str().unwrap();
        let page =
            std::fs::read_to_string(book().join("src/exercises").join(format!("{id}.md"))).unwrap();
        let blocks = between(&page, &format!("<!-- criteria: {id} -->"), "<!-- /criteria -->");
        assert_eq!(
            blocks.len(),
            1,
            "exercises/{id}.md needs one criteria block (grader criteria {id})"
        );
        let generated =
            Command::cargo_bin("grader").unwrap().args(["criteria", id]).output().unwrap().stdout;
        let generated = String::from_utf8(generated).unwrap();
        let table: Vec<&str> = generated.lines().filter(|line| line.starts_with('|')).collect();
        let shown: Vec<&str> = blocks[0].lines().filter(|line| line.starts_with('|')).collect();
        assert_eq!(
            shown, table,
            "exercises/{id}.md: the criteria table differs from `grader criteria {id}`"
        );
    }
}

#[test]
fn the_exercise_page_renders_with_its_criteria_table() {
    let dest = tempfile::tempdir().unwrap();
    build_book(dest.path());
    let rendered = common::render_in_chromium(&dest.path().join("exercises/01-redis-setup.html"));
    assert!(rendered.dom.contains("<table"), "no table rendered");
    assert!(rendered.dom.contains("health-pings-redis"), "the criteria table is missing");
    assert!(rendered.screenshot.starts_with(b"\x89PNG") && rendered.screenshot.len() > 10_000);
}
