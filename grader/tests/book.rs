//! The book builds cleanly, its code comes from real files, its links resolve, every lesson
//! ends with a self-check, and its criteria tables and checklist are the grader's own.
//!
//! The book is built once per run of these tests, by mdBook's library (no `mdbook` binary is
//! needed), with the grader binary cargo has just built as its preprocessor.

#[path = "book/answers.rs"]
mod answers;
mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use assert_cmd::Command;
use common::root;
use grader::book::preprocessor;
use mdbook_driver::MDBook;
use mdbook_driver::book::Book;
use mdbook_driver::config::Config;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use serde_json::Value;

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

/// The exercises the workbook ships (`exercises/NN-slug`), by folder name.
fn exercises() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("exercises"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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

/// Builds the book in `dir` into `dest` with mdBook's own library, the version the book
/// targets, so that the tests need no `mdbook` binary, and the grader's preprocessor in process
/// (`the_preprocessor_command_speaks_mdbooks_protocol` checks the command `mdbook serve` runs).
/// Returns whether the build succeeded and every warning and error mdBook logged.
fn build(dir: &Path, dest: &Path) -> (bool, String) {
    let (outcome, mut log) = logged(|| {
        let mut config = Config::from_disk(dir.join("book.toml"))?;
        config.build.build_dir = dest.to_owned();
        let mut book = MDBook::load_with_config(dir, config)?;
        book.with_preprocessor(preprocessor::Workbook);
        book.build()
    });
    if let Err(err) = &outcome {
        log.push_str(&format!("ERROR {err:#}\n"));
    }
    (outcome.is_ok(), log)
}

/// Runs `work` and returns its outcome with every warning and error it logged.
fn logged<T>(work: impl FnOnce() -> T) -> (T, String) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer({
            let log = Arc::clone(&log);
            move || LogWriter(Arc::clone(&log))
        })
        .finish();
    let outcome = tracing::subscriber::with_default(subscriber, work);
    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    (outcome, log)
}

/// Collects what mdBook logs, for [`build`].
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The workbook's book, built once for all the tests here.
struct Built {
    dest: PathBuf,
    log: String,
}

impl Built {
    fn html(&self, page: &str) -> String {
        let path = self.dest.join(page);
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book");
        let _ = std::fs::remove_dir_all(&dest);
        let (built, log) = build(&book(), &dest);
        assert!(built, "the book did not build:\n{log}");
        Built { dest, log }
    })
}

/// The grader's criteria registry, from the grader itself.
fn registry() -> Value {
    let output = Command::cargo_bin("grader")
        .unwrap()
        .args(["criteria", "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The text of each cell of each row of each table in a rendered page, tags removed.
fn tables(html: &str) -> Vec<Vec<Vec<String>>> {
    between(html, "<table", "</table>")
        .into_iter()
        .map(|table| {
            table
                .split("<tr>")
                .skip(1)
                .map(|row| row.split("<t").filter(|cell| is_cell(cell)).map(cell_text).collect())
                .collect()
        })
        .collect()
}

/// Whether the rest of a `<t` starts a cell (`<td>`, `<th style=...>`), not `<thead>` or `<tbody>`.
fn is_cell(rest: &str) -> bool {
    ["d>", "d ", "h>", "h "].iter().any(|start| rest.starts_with(start))
}

/// The text of `d>...</td>` (or `h ...>...</th>`), as a reader sees it, with mdBook's smart
/// punctuation (`user’s`) turned back into the plain characters of the source (`user's`).
fn cell_text(cell: &str) -> String {
    let mut text = String::new();
    let mut in_tag = true; // the cell starts inside its own `<td>`
    for c in cell.split("</t").next().unwrap_or_default().chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace(['‘', '’'], "'")
        .replace(['“', '”'], "\"")
        .replace('…', "...")
        .replace('—', "---")
        .replace('–', "--")
        .trim()
        .to_owned()
}

#[test]
fn the_book_builds_without_warnings() {
    let built = built();
    let complaints: Vec<&str> =
        built.log.lines().filter(|line| line.contains("WARN") || line.contains("ERROR")).collect();
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
    assert!(built.dest.join("index.html").is_file());
    assert!(!built.html("checklist.html").contains("{{#"), "a directive was left unexpanded");
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
fn the_generated_checklist_links_pages_that_exist() {
    let html = built().html("checklist.html");
    let main = between(&html, "<main>", "</main>").concat();
    let links = between(&main, "href=\"", "\"");
    assert!(links.len() >= 12, "the checklist links too little:\n{main}");
    for link in links.into_iter().filter(|link| !link.starts_with("http") && !link.starts_with('#'))
    {
        let file = link.split('#').next().unwrap();
        assert!(built().dest.join(file).is_file(), "checklist.html links {link}: no such page");
    }
}

#[test]
fn every_checklist_item_has_a_lesson_an_exercise_page_and_criteria() {
    let summary = std::fs::read_to_string(book().join("src/SUMMARY.md")).unwrap();
    let checklist = built().html("checklist.html");
    let registry = registry();
    for name in exercises() {
        for page in [format!("chapters/{name}.md"), format!("exercises/{name}.md")] {
            assert!(book().join("src").join(&page).is_file(), "the book has no {page}");
            assert!(summary.contains(&format!("({page})")), "SUMMARY.md does not list {page}");
            let rendered = page.replace(".md", ".html");
            assert!(
                checklist.contains(&format!("href=\"{rendered}\"")),
                "the checklist does not link {rendered}"
            );
        }
        let exercise_page =
            std::fs::read_to_string(book().join(format!("src/exercises/{name}.md"))).unwrap();
        let number = name[..2].trim_start_matches('0');
        for part in ["## What to build", "## Grade it", &format!("cargo run -p grader -- {number}")]
        {
            assert!(exercise_page.contains(part), "exercises/{name}.md has no `{part}`");
        }
        let directive = format!("## Criteria\n\n{{{{#criteria {name}}}}}");
        assert!(
            exercise_page.contains(&directive),
            "exercises/{name}.md does not show its criteria: add\n{directive}"
        );
        let criteria = registry["exercises"]
            .as_array()
            .unwrap()
            .iter()
            .find(|exercise| exercise["id"] == name.as_str())
            .map(|exercise| exercise["criteria"].as_array().unwrap().len());
        assert!(criteria.unwrap_or(0) > 0, "the grader has no criteria for {name}");
    }
}

#[test]
fn criteria_tables_are_the_graders_own() {
    let registry = registry();
    let exercises = registry["exercises"].as_array().unwrap();
    assert!(!exercises.is_empty());
    for exercise in exercises {
        let id = exercise["id"].as_str().unwrap();
        let html = built().html(&format!("exercises/{id}.html"));
        let expected: Vec<Vec<String>> = exercise["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|criterion| {
                ["title", "id", "category", "points"]
                    .map(|field| match &criterion[field] {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .to_vec()
            })
            .collect();
        let shown = tables(&html)
            .into_iter()
            .find(|table| table.first().is_some_and(|header| header[0] == "criterion"))
            .unwrap_or_else(|| panic!("exercises/{id}.html has no criteria table"));
        assert_eq!(shown[1..], expected, "exercises/{id}.html: the criteria table");
        let total = format!("{} points in all", exercise["max_score"]);
        assert!(html.contains(&total), "exercises/{id}.html does not say `{total}`");
    }
}

#[test]
fn every_criterion_is_explained_on_its_exercise_page_and_only_those() {
    for exercise in registry()["exercises"].as_array().unwrap() {
        let id = exercise["id"].as_str().unwrap();
        let page = std::fs::read_to_string(book().join(format!("src/exercises/{id}.md"))).unwrap();
        // "What each one checks": one `- **criterion-id** — ...` bullet per criterion.
        let explained: Vec<&str> = page
            .lines()
            .filter_map(|line| line.strip_prefix("- **")?.split_once("**").map(|(id, _)| id))
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .collect();
        let criteria: Vec<&str> = exercise["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|criterion| criterion["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            explained, criteria,
            "exercises/{id}.md: the bullets of \"What each one checks\""
        );
    }
}

#[test]
fn the_checklist_shows_each_exercises_points() {
    let registry = registry();
    let html = built().html("checklist.html");
    let table = tables(&html).into_iter().next().expect("checklist.html has no table");
    assert_eq!(table[0], ["", "item", "lesson", "exercise", "points", "check"]);
    let rows = &table[1..];
    assert_eq!(rows.len(), 6, "the checklist has six items");
    for exercise in registry["exercises"].as_array().unwrap() {
        let number = exercise["id"].as_str().unwrap()[..2].trim_start_matches('0').to_owned();
        let row = rows.iter().find(|row| row[0] == number).unwrap();
        assert_eq!(row[4], exercise["max_score"].to_string(), "item {number}'s points");
        assert_eq!(row[5], format!("cargo run -p grader -- {number}"));
    }
}

#[test]
fn a_directive_naming_an_unknown_exercise_fails_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        "[book]\ntitle = \"t\"\n[preprocessor.workbook]\ncommand = \"grader\"\n",
    )
    .unwrap();
    std::fs::write(src.join("SUMMARY.md"), "# Summary\n\n[Page](page.md)\n").unwrap();
    std::fs::write(src.join("page.md"), "# Page\n\n{{#criteria 09-no-such-exercise}}\n").unwrap();
    let (built, log) = build(dir.path(), &dir.path().join("out"));
    assert!(!built, "the build passed:\n{log}");
    assert!(log.contains("09-no-such-exercise") && log.contains("page.md"), "{log}");
}

#[test]
fn every_lesson_ends_with_check_yourself() {
    for name in exercises() {
        let lesson =
            std::fs::read_to_string(book().join(format!("src/chapters/{name}.md"))).unwrap();
        let (_, check) = lesson
            .split_once("\n## Check yourself\n")
            .unwrap_or_else(|| panic!("chapters/{name}.md has no `## Check yourself` section"));
        assert!(
            !check.contains("\n## "),
            "chapters/{name}.md: Check yourself is not the last section"
        );
        let questions = between(check, "<details>", "</details>");
        assert!(
            (3..=5).contains(&questions.len()),
            "chapters/{name}.md: Check yourself has {} questions, wants 3 to 5",
            questions.len()
        );
        for question in questions {
            let (summary, answer) = question
                .split_once("</summary>")
                .unwrap_or_else(|| panic!("chapters/{name}.md: a question without <summary>"));
            assert!(summary.contains("<summary>"), "chapters/{name}.md: {question}");
            assert!(answer.trim().len() > 20, "chapters/{name}.md: no answer to {summary}");
        }
    }
}

#[test]
fn the_exercise_page_renders_with_its_criteria_table() {
    let page = built().dest.join("exercises/01-redis-setup.html");
    let Some(rendered) = common::render_in_chromium_at(&page, "criteria") else { return };
    assert!(rendered.dom.contains("<table"), "no table rendered");
    assert!(rendered.dom.contains("health-pings-redis"), "the criteria table is missing");
    assert!(rendered.screenshot.starts_with(b"\x89PNG") && rendered.screenshot.len() > 10_000);
}

#[test]
fn every_title_is_the_course_catalogues() {
    let summary = std::fs::read_to_string(book().join("src/SUMMARY.md")).unwrap();
    let first_heading = |page: &str| {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        text.lines().next().unwrap_or_default().trim_start_matches("# ").to_owned()
    };
    for exercise in grader::course::EXERCISES {
        let dir = exercise.dir_name();
        let lesson = exercise.lesson_title;
        let page = format!("Exercise {}: {}", exercise.number, exercise.title);
        assert!(summary.contains(&format!("[{lesson}](chapters/{dir}.md)")), "SUMMARY: {lesson}");
        assert!(summary.contains(&format!("[{page}](exercises/{dir}.md)")), "SUMMARY: {page}");
        assert_eq!(first_heading(&exercise.lesson_source()), lesson);
        assert_eq!(first_heading(&exercise.page_source()), page);
    }
    let checklist = built().html("checklist.html");
    for exercise in grader::course::EXERCISES {
        assert!(checklist.contains(exercise.title), "the checklist lacks {:?}", exercise.title);
    }
}

/// Keeps what mdBook hands the `workbook` preprocessor, as the command would receive it.
struct Capture(Arc<Mutex<Option<Value>>>);

impl Preprocessor for Capture {
    fn name(&self) -> &str {
        "workbook"
    }

    fn run(&self, context: &PreprocessorContext, book: Book) -> anyhow::Result<Book> {
        *self.0.lock().unwrap() = Some(serde_json::json!([context, book]));
        Ok(book)
    }
}

#[test]
fn the_preprocessor_command_speaks_mdbooks_protocol() {
    // What mdBook would pipe to `grader mdbook-preprocessor`.
    let input = Arc::new(Mutex::new(None));
    let mut book = MDBook::load(book()).unwrap();
    book.with_preprocessor(Capture(Arc::clone(&input)));
    let dest = tempfile::tempdir().unwrap();
    book.config.build.build_dir = dest.path().to_owned();
    let renderer = mdbook_driver::builtin_renderers::MarkdownRenderer::new();
    book.preprocess_book(&renderer).unwrap();
    let input = input.lock().unwrap().take().expect("mdBook ran the preprocessor");

    let supports = Command::cargo_bin("grader")
        .unwrap()
        .args(["mdbook-preprocessor", "supports", "html"])
        .output()
        .unwrap();
    assert!(supports.status.success());
    let output = Command::cargo_bin("grader")
        .unwrap()
        .arg("mdbook-preprocessor")
        .write_stdin(input.to_string())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expanded: Book = serde_json::from_slice(&output.stdout).unwrap();
    let checklist = expanded
        .iter()
        .find_map(|item| match item {
            mdbook_driver::book::BookItem::Chapter(chapter)
                if chapter.path.as_deref() == Some(Path::new("checklist.md")) =>
            {
                Some(chapter.content.clone())
            }
            _ => None,
        })
        .expect("the book has its checklist page");
    assert!(!checklist.contains("{{#checklist}}"), "the directive was left unexpanded");
    assert!(checklist.contains("cargo run -p grader -- 6"), "{checklist}");
}

#[test]
fn every_rust_block_is_marked_as_not_runnable() {
    // The book's Rust blocks are excerpts of the workbook's crates: mdBook's Run button would
    // send them to the playground, where they can only fail.
    for (page, text) in pages() {
        for (number, line) in text.lines().enumerate() {
            let fence = line.trim_start();
            if let Some(rest) = fence.strip_prefix("```rust") {
                let attributes: Vec<&str> = rest.split(',').collect();
                assert!(
                    attributes.iter().any(|attribute| ["ignore", "no_run", "noplayground"]
                        .contains(&attribute.trim())),
                    "{}:{}: `{fence}` has a Run button; write ```rust,ignore",
                    page.display(),
                    number + 1
                );
            }
        }
    }
}

/// The source files of an exercise's starter (`exercises/NN-slug/src`), relative to its folder.
fn starter_sources(name: &str) -> Vec<PathBuf> {
    let folder = root().join("exercises").join(name);
    let mut files = Vec::new();
    let mut stack = vec![folder.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path.strip_prefix(&folder).unwrap().to_owned());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_lesson_or_exercise_page_includes_an_answer() {
    // Lessons teach on worked examples (`book/examples`); the answers to the starters' TODOs
    // are shown only on the walkthrough pages, after the exercises.
    let src = book().join("src");
    let mut shown = Vec::new();
    for (page, text) in pages() {
        let relative = page.strip_prefix(&src).unwrap();
        if answers::is_walkthrough(relative) {
            continue;
        }
        for answer in answers::answers_shown(&root(), &page, &text) {
            shown.push(format!("{}: {answer}", relative.display()));
        }
    }
    assert!(
        shown.is_empty(),
        "these pages give away answers; include them from a walkthrough (book/src/{}/) \
         instead:\n{}",
        answers::WALKTHROUGHS,
        shown.join("\n")
    );
}

#[test]
fn the_answer_guard_catches_a_page_that_includes_an_answer() {
    let page = book().join("src/chapters/made-up.md");
    let solution = "../../../solutions";
    let text = format!(
        "{{{{#include {solution}/02-view-cache/src/view_cache.rs:policy}}}}\n\
         {{{{#include {solution}/02-view-cache/src/view_cache.rs:key}}}}\n\
         {{{{#include {solution}/06-query-optimisation/src/slow_log.rs:slow_log}}}}\n\
         {{{{#include ../../examples/src/ch02_view_cache.rs:category_page}}}}\n"
    );
    let shown: Vec<String> =
        answers::answers_shown(&root(), &page, &text).iter().map(ToString::to_string).collect();
    // `policy` is given in the starter, the example is not a solution: neither is an answer.
    assert_eq!(
        shown,
        [
            "02-view-cache/src/view_cache.rs:key shows the answer to `todo_cache_page`",
            "06-query-optimisation/src/slow_log.rs:slow_log is a file no starter has: all of it \
             is answer",
        ]
    );
}

#[test]
fn every_todo_of_a_starter_is_anchored_and_answered_under_the_same_name() {
    for name in exercises() {
        let mut todos = 0;
        for file in starter_sources(&name) {
            let starter_path = root().join("exercises").join(&name).join(&file);
            let starter = std::fs::read_to_string(&starter_path).unwrap();
            let regions = answers::todo_regions(&starter);
            for (number, line) in starter.lines().enumerate() {
                if line.contains("TODO:") {
                    assert!(
                        regions.iter().any(|region| region.lines.contains(&number)),
                        "exercises/{name}/{}:{}: a TODO outside every `// ANCHOR: {}...` region",
                        file.display(),
                        number + 1,
                        answers::TODO_PREFIX
                    );
                }
            }
            let solution_path = root().join("solutions").join(&name).join(&file);
            let solution = std::fs::read_to_string(&solution_path).unwrap_or_default();
            let names = |regions: Vec<answers::Region>| {
                let mut names: Vec<String> = regions.into_iter().map(|r| r.name).collect();
                names.sort();
                names.dedup();
                names
            };
            assert_eq!(
                names(regions),
                names(answers::todo_regions(&solution)),
                "{}: the starter's TODO anchors and the solution's answers must pair up by name",
                file.display()
            );
            if file != Path::new("src/main.rs") {
                // main.rs names its own crate (`exercise_...` or `solution_...`).
                let given = answers::given_code(&starter);
                let missing = answers::not_kept(&given, &answers::given_code(&solution));
                assert!(
                    missing.is_empty(),
                    "{name}/{}: outside its TODO anchors the solution must keep the starter's \
                     code, but lacks:\n{}",
                    file.display(),
                    missing.join("\n")
                );
            }
            todos += starter.matches("TODO:").count();
        }
        assert!(todos > 0, "exercises/{name} asks for nothing");
    }
}

#[test]
fn each_exercise_page_shows_its_todos_and_each_walkthrough_its_answers() {
    let summary = std::fs::read_to_string(book().join("src/SUMMARY.md")).unwrap();
    for name in exercises() {
        let page = book().join(format!("src/exercises/{name}.md"));
        let text = std::fs::read_to_string(&page).unwrap();
        let shown_on_page = answers::includes(&page, &text);
        let walkthrough = book().join(format!("src/{}/{name}.md", answers::WALKTHROUGHS));
        let explained = std::fs::read_to_string(&walkthrough)
            .unwrap_or_else(|_| panic!("{name} has no walkthrough at {}", walkthrough.display()));
        let answered: Vec<String> = answers::answers_shown(&root(), &walkthrough, &explained)
            .into_iter()
            .filter_map(|answer| answer.todo)
            .collect();
        for file in starter_sources(&name) {
            let starter_path = root().join("exercises").join(&name).join(&file);
            let starter = std::fs::read_to_string(&starter_path).unwrap();
            for region in answers::todo_regions(&starter) {
                assert!(
                    shown_on_page.contains(&(starter_path.clone(), region.name.clone())),
                    "exercises/{name}.md does not show the skeleton of `{}` in {}: \
                     {{{{#include ../../../exercises/{name}/{}:{}}}}}",
                    region.name,
                    file.display(),
                    file.display(),
                    region.name
                );
                assert!(
                    answered.contains(&region.name),
                    "{}/{name}.md does not show the answer to `{}` ({})",
                    answers::WALKTHROUGHS,
                    region.name,
                    file.display()
                );
            }
        }
        assert!(text.contains("https://docs.rs/"), "exercises/{name}.md links no API docs");
        assert!(
            explained.contains("Try the exercise first"),
            "{}/{name}.md must say at the top that it is the answer",
            answers::WALKTHROUGHS
        );
        let exercise_entry = summary.find(&format!("(exercises/{name}.md)"));
        let walkthrough_entry = summary.find(&format!("({}/{name}.md)", answers::WALKTHROUGHS));
        assert!(
            walkthrough_entry.is_some() && walkthrough_entry > exercise_entry,
            "SUMMARY.md must list {}/{name}.md after exercises/{name}.md",
            answers::WALKTHROUGHS
        );
    }
}

/// The lines of the fenced code blocks of `text`.
fn code_lines(text: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            lines.push(line);
        }
    }
    lines
}

/// The sample scorecards of the README and the setup page show the checklist as the grader
/// prints it: its one heading, the catalogue's items and titles, and a `next:` line that names
/// a real criterion by its registry title.
#[test]
fn sample_checklists_are_the_graders_own() {
    let setup = std::fs::read_to_string(book().join("src/setup.md")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let heading = grader::student::checklist::heading("book/book/checklist.html");
    let width = grader::course::EXERCISES.iter().map(|item| item.title.len()).max().unwrap();
    let specs = grader::criteria::registry();
    for (name, text) in [("README.md", &readme), ("book/src/setup.md", &setup)] {
        let lines = code_lines(text);
        let start = lines
            .iter()
            .position(|line| line.starts_with("Submission checklist"))
            .unwrap_or_else(|| panic!("{name} shows no sample checklist"));
        assert_eq!(lines[start], heading, "{name}: the checklist's heading");
        for line in lines[start + 1..].iter().take_while(|line| line.starts_with("  [")) {
            let (number, rest) = line[6..].split_once(' ').unwrap();
            let item = grader::course::EXERCISES
                .iter()
                .find(|item| item.number.to_string() == number)
                .unwrap_or_else(|| panic!("{name}: no checklist item {number}: {line}"));
            let row = format!("{} {:<width$}  ", item.number, item.title);
            assert!(
                rest.is_empty() || line[6..].starts_with(&row),
                "{name}: {line:?}, not {row:?}"
            );
        }
        let next = lines[start..].iter().find(|line| line.starts_with("next: ")).unwrap();
        let named = specs.iter().flat_map(|spec| {
            let number = spec.exercise.number;
            spec.criteria.iter().map(move |criterion| {
                format!("next: exercise {number}, criterion {}: {}", criterion.id, criterion.title)
            })
        });
        assert!(named.into_iter().any(|line| line == *next), "{name}: {next:?} names no criterion");
    }
}

/// What the setup page starts: a throwaway Redis (`redis-server --port N`) and a service
/// (`curl http://127.0.0.1:N/health`). Every command of the book that talks to either talks to
/// those, so that a student who follows the setup page can run each one as written.
#[test]
fn commands_by_hand_reach_the_setup_pages_servers() {
    let setup = std::fs::read_to_string(book().join("src/setup.md")).unwrap();
    let setup_lines = code_lines(&setup);
    let port_after = |prefix: &str| {
        setup_lines.iter().find_map(|line| {
            let rest = &line[line.find(prefix)? + prefix.len()..];
            Some(rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        })
    };
    let redis = port_after("redis-server --port ").expect("setup.md starts no redis-server");
    let service = port_after("curl http://127.0.0.1:").expect("setup.md curls no service");
    let mut wrong = Vec::new();
    for (path, text) in pages() {
        let page = path.strip_prefix(book().join("src")).unwrap().display().to_string();
        for line in code_lines(&text) {
            // The command without its comment, ending in a space as every argument does.
            let command = format!("{} ", line.split('#').next().unwrap().trim_end());
            let command = command.as_str();
            if command.matches("redis-cli").count()
                != command.matches(&format!("redis-cli -p {redis} ")).count()
            {
                wrong.push(format!("{page}: `redis-cli` without `-p {redis}`: {line}"));
            }
            for url in command.split("REDIS_URL=").skip(1) {
                if !url.starts_with(&format!("redis://127.0.0.1:{redis}/")) {
                    wrong.push(format!("{page}: a REDIS_URL off port {redis}: {line}"));
                }
            }
            if command.trim_start().starts_with("curl ") {
                let hosts = [format!("localhost:{service}/"), format!("127.0.0.1:{service}/")];
                if !hosts.iter().any(|host| command.contains(host.as_str())) {
                    wrong
                        .push(format!("{page}: a `curl` off the service's port {service}: {line}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "commands a student cannot run as written:\n{}", wrong.join("\n"));
}
