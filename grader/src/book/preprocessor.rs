//! `grader mdbook-preprocessor`: mdBook runs it before rendering the book (`book/book.toml`).
//! It replaces `{{#criteria NN-slug}}` with that exercise's criteria table and `{{#checklist}}`
//! with the submission checklist, both taken from the registry, so that the book and the
//! grader cannot disagree on ids, titles or points.
//!
//! [`Workbook`] is the preprocessor itself, for `mdbook-driver` (the book's tests build the book
//! with it, in process). As a command, the protocol: mdBook first asks `grader mdbook-preprocessor supports RENDERER` (every
//! renderer is fine: the directives become plain Markdown), then pipes `[context, book]` as
//! JSON to `grader mdbook-preprocessor` and reads the book back from its standard output.

use std::fmt::Write as _;
use std::io;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context as _, bail};
use pulldown_cmark::{Event, Parser, Tag};

use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use crate::book::tables;
use crate::course::{EXERCISES, Exercise};
use crate::criteria::{ExerciseSpec, registry};

/// The book's preprocessor, named `workbook` as in `book/book.toml`.
pub struct Workbook;

impl Preprocessor for Workbook {
    fn name(&self) -> &str {
        "workbook"
    }

    /// Replaces every directive of every chapter. A directive that cannot be expanded fails
    /// the build, naming its page.
    fn run(&self, _context: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let specs = registry();
        let mut errors = Vec::new();
        book.for_each_chapter_mut(|chapter| {
            // Draft chapters have no file and nothing to expand.
            let Some(page) = &chapter.path else { return };
            match expand(&chapter.content, page, &specs) {
                Ok(expanded) => chapter.content = expanded,
                Err(err) => errors.push(format!("book/src/{}: {err:#}", page.display())),
            }
        });
        if !errors.is_empty() {
            bail!("{}", errors.join("\n"));
        }
        Ok(book)
    }
}

/// Reads mdBook's `[context, book]` from standard input and writes the book, every directive
/// replaced, to standard output.
pub fn run() -> anyhow::Result<()> {
    let (context, book) = mdbook_preprocessor::parse_input(io::stdin().lock()).context(
        "mdBook's input is not what this preprocessor expects: it speaks mdBook 0.5's \
         protocol (cargo install mdbook --locked --no-default-features --features search)",
    )?;
    let book = Workbook.run(&context, book)?;
    serde_json::to_writer(io::stdout().lock(), &book).context("cannot write the book for mdBook")
}

/// `content` of the page at `page` (relative to `book/src`) with every directive replaced.
pub fn expand(content: &str, page: &Path, specs: &[ExerciseSpec]) -> anyhow::Result<String> {
    let mut expanded = String::with_capacity(content.len());
    let mut copied = 0;
    for directive in directives(content) {
        expanded.push_str(&content[copied..directive.range.start]);
        expanded.push_str(&directive.render(page, specs)?);
        copied = directive.range.end;
    }
    expanded.push_str(&content[copied..]);
    Ok(expanded)
}

/// One `{{#criteria NN-slug}}` or `{{#checklist}}` in a page.
struct Directive<'a> {
    range: Range<usize>,
    name: &'a str,
    argument: &'a str,
}

/// The names this preprocessor expands; mdBook's own (`include`, ...) are left to mdBook.
const NAMES: [&str; 2] = ["criteria", "checklist"];

/// The directives of a page, in order. One shown as code (in backticks or a code block) is an
/// example, not a directive: Markdown is parsed to tell which is which.
fn directives(content: &str) -> Vec<Directive<'_>> {
    let code = code_ranges(content);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = content[from..].find("{{#").map(|offset| from + offset) {
        let Some(length) = content[start..].find("}}") else { break };
        let end = start + length + 2;
        let inside = content[start + 3..end - 2].trim();
        let (name, argument) = inside.split_once(char::is_whitespace).unwrap_or((inside, ""));
        if NAMES.contains(&name) && !code.iter().any(|range| range.contains(&start)) {
            found.push(Directive { range: start..end, name, argument: argument.trim() });
        }
        from = end;
    }
    found
}

/// Where a page has inline code and code blocks.
fn code_ranges(content: &str) -> Vec<Range<usize>> {
    Parser::new(content)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => Some(range),
            _ => None,
        })
        .collect()
}

impl Directive<'_> {
    fn render(&self, page: &Path, specs: &[ExerciseSpec]) -> anyhow::Result<String> {
        match (self.name, self.argument) {
            ("checklist", "") => Ok(checklist(page, specs)),
            ("checklist", argument) => {
                bail!("{{{{#checklist}}}} takes no argument, found `{argument}`")
            }
            ("criteria", exercise) => criteria(exercise, specs),
            (name, _) => unreachable!("`{name}` is not in NAMES"),
        }
    }
}

/// An exercise's criteria table and its total, or a note while the grader has no criteria
/// for it; an exercise that is not on the checklist is an error.
fn criteria(exercise: &str, specs: &[ExerciseSpec]) -> anyhow::Result<String> {
    let Some(item) = Exercise::from_dir_name(exercise) else {
        let known: Vec<String> = EXERCISES.iter().map(|item| item.dir_name()).collect();
        bail!(
            "{{{{#criteria {exercise}}}}} names no exercise of the checklist; write one of: {}",
            known.join(", ")
        );
    };
    let Some(spec) = specs.iter().find(|spec| spec.exercise == item) else {
        return Ok(format!("*The grader has no criteria for exercise {} yet.*\n", item.number));
    };
    Ok(format!(
        "{}\n{} criteria, {} points in all.\n",
        tables::criteria_table(spec),
        spec.criteria.len(),
        spec.max_score()
    ))
}

/// The submission checklist: each item with its lesson, exercise page, points and the command
/// that grades it. Links are relative to `page`.
fn checklist(page: &Path, specs: &[ExerciseSpec]) -> String {
    let depth = page.parent().map_or(0, |folder| folder.components().count());
    let up = "../".repeat(depth);
    let mut table = String::from(
        "| | item | lesson | exercise | points | check |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for item in &EXERCISES {
        let dir = item.dir_name();
        let points = match specs.iter().find(|spec| spec.exercise == *item) {
            Some(spec) => spec.max_score().to_string(),
            None => "not available yet".to_owned(),
        };
        let _ = writeln!(
            table,
            "| {number} | {title} | [lesson]({up}chapters/{dir}.md) | \
             [exercise]({up}exercises/{dir}.md) | {points} | `cargo run -p grader -- {number}` |",
            number = item.number,
            title = tables::escape_markdown(item.title),
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_page(content: &str, page: &str) -> anyhow::Result<String> {
        expand(content, Path::new(page), &registry())
    }

    #[test]
    fn criteria_become_the_registrys_table() {
        let page = expand_page("# Exercise 1\n\n{{#criteria 01-redis-setup}}\n\nAfter.\n", "a.md")
            .unwrap();
        let spec = registry().remove(0);
        assert!(page.starts_with("# Exercise 1\n\n| criterion | id | category | points |"));
        for criterion in &spec.criteria {
            let row =
                format!("| `{}` | {} | {} |", criterion.id, criterion.category, criterion.points);
            assert!(page.contains(&row), "no row for {}:\n{page}", criterion.id);
        }
        let total =
            format!("{} criteria, {} points in all.", spec.criteria.len(), spec.max_score());
        assert!(page.ends_with(&format!("{total}\n\n\nAfter.\n")), "{page}");
    }

    #[test]
    fn an_exercise_not_on_the_checklist_is_an_error_that_names_it() {
        let err = expand_page("{{#criteria 09-nothing}}\n", "a.md").unwrap_err().to_string();
        assert!(err.contains("09-nothing") && err.contains("01-redis-setup"), "{err}");
        assert!(expand_page("{{#checklist 1}}\n", "a.md").is_err());
    }

    #[test]
    fn an_exercise_without_criteria_yet_says_so() {
        let page = expand("{{#criteria 04-invalidation}}\n{{#checklist}}", Path::new("a.md"), &[])
            .unwrap();
        assert!(page.contains("no criteria for exercise 4 yet"), "{page}");
        assert!(page.contains("| not available yet |"), "{page}");
    }

    #[test]
    fn directives_shown_as_code_stay_as_written() {
        let content = "Write `{{#checklist}}`:\n\n```md\n{{#criteria 01-redis-setup}}\n```\n";
        assert_eq!(expand_page(content, "a.md").unwrap(), content);
    }

    #[test]
    fn other_directives_are_left_to_mdbook() {
        let content = "{{#include ../../solutions/01-redis-setup/src/cache.rs:connect}}\n";
        assert_eq!(expand_page(content, "a.md").unwrap(), content);
    }

    #[test]
    fn checklist_links_are_relative_to_the_page() {
        let top = expand_page("{{#checklist}}\n", "checklist.md").unwrap();
        assert!(top.contains("| [lesson](chapters/01-redis-setup.md) |"), "{top}");
        let nested = expand_page("{{#checklist}}\n", "exercises/01-redis-setup.md").unwrap();
        assert!(nested.contains("| [exercise](../exercises/06-query-optimisation.md) |"));
        assert_eq!(top.lines().filter(|line| line.starts_with('|')).count(), 2 + EXERCISES.len());
    }
}
