//! What the book may show of the reference solutions, and where.
//!
//! A starter marks each piece it asks the student to write with an anchor whose name starts
//! with `todo_` (`// ANCHOR: todo_key` ... `// ANCHOR_END: todo_key`), and the solution marks
//! its answer to that piece with the same name. Lessons and exercise pages may include any
//! other part of a solution; only the walkthrough pages (`book/src/solutions/`, after the
//! exercises) may include the answers.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// The prefix of the anchors that mark a starter's TODOs and the solution's answers to them.
pub const TODO_PREFIX: &str = "todo_";

/// The folder of the walkthrough pages, relative to `book/src`.
pub const WALKTHROUGHS: &str = "solutions";

/// One named region of a source file: the lines strictly between its two anchor lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub lines: Range<usize>,
}

/// The name an anchor line opens (`marker` = `ANCHOR:`) or closes (`ANCHOR_END:`).
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let (_, rest) = line.split_once(marker)?;
    let rest = rest.trim_start();
    let end =
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Every anchored region of `text`, in the order they open.
pub fn regions(text: &str) -> Vec<Region> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = anchor_name(line, "ANCHOR:") else { continue };
        let end = lines[start + 1..]
            .iter()
            .position(|line| anchor_name(line, "ANCHOR_END:") == Some(name))
            .map_or(lines.len(), |offset| start + 1 + offset);
        found.push(Region { name: name.to_owned(), lines: start + 1..end });
    }
    found
}

/// The regions of `text` that mark a TODO (in a starter) or its answer (in a solution).
pub fn todo_regions(text: &str) -> Vec<Region> {
    regions(text).into_iter().filter(|region| region.name.starts_with(TODO_PREFIX)).collect()
}

/// Every `{{#include FILE:SELECTOR}}` of a page, the file resolved against the page's folder.
pub fn includes(page: &Path, text: &str) -> Vec<(PathBuf, String)> {
    text.split("{{#include ")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(inside, _)| inside.trim()))
        .map(|include| {
            // `file`, `file:anchor` or `file:first:last` (lines).
            let (file, selector) = include.split_once(':').unwrap_or((include, ""));
            (normalise(&page.parent().unwrap().join(file)), selector.to_owned())
        })
        .collect()
}

/// The lines of `text` an include's selector takes: an anchor, a line range, or everything.
fn selected(text: &str, selector: &str) -> Vec<Range<usize>> {
    let count = text.lines().count();
    if selector.is_empty() {
        return std::iter::once(0..count).collect();
    }
    let mut bounds = selector.split(':').map(str::parse::<usize>);
    if let Some(Ok(first)) = bounds.next() {
        let last = bounds.next().and_then(Result::ok).unwrap_or(count);
        return std::iter::once(first.saturating_sub(1)..last).collect();
    }
    regions(text)
        .into_iter()
        .filter(|region| region.name == selector)
        .map(|region| region.lines)
        .collect()
}

/// The code of `text` that lies outside its `todo_` regions, one trimmed line each: what a
/// starter gives the student, and its solution must keep. Comments, blank lines, `use` lines
/// and `allow` attributes are left out (a solution may document more, import more and need
/// fewer allowances).
pub fn given_code(text: &str) -> Vec<&str> {
    let todo = todo_regions(text);
    text.lines()
        .enumerate()
        .filter(|(number, _)| {
            !todo.iter().any(|region| (region.lines.start - 1..=region.lines.end).contains(number))
        })
        .map(|(_, line)| line.trim())
        .filter(|line| {
            !(line.is_empty()
                || line.starts_with("//")
                || line.starts_with("use ")
                || line.starts_with("#[allow")
                || line.starts_with("#![allow"))
        })
        .collect()
}

/// The lines of `given` that `kept` lacks, in order: `kept` must hold `given` as a subsequence.
pub fn not_kept<'a>(given: &[&'a str], kept: &[&str]) -> Vec<&'a str> {
    let mut next = 0;
    let mut missing = Vec::new();
    for &line in given {
        match kept[next..].iter().position(|candidate| *candidate == line) {
            Some(offset) => next += offset + 1,
            None => missing.push(line),
        }
    }
    missing
}

/// An include of solution code that answers a starter's TODO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `NN-slug/src/file.rs:selector`, relative to `solutions/`.
    pub include: String,
    /// The `todo_` region it overlaps, or `None` for a file no starter has (all answer).
    pub todo: Option<String>,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.todo {
            Some(todo) => write!(f, "{} shows the answer to `{todo}`", self.include),
            None => write!(f, "{} is a file no starter has: all of it is answer", self.include),
        }
    }
}

/// The answers `page` (its path and text) includes from `solutions/`: each include that
/// overlaps a solution's `todo_` region, or that takes a file no starter has. `root` is the
/// workbook's root folder.
pub fn answers_shown(root: &Path, page: &Path, text: &str) -> Vec<Answer> {
    let solutions = root.join("solutions");
    let mut shown = Vec::new();
    for (file, selector) in includes(page, text) {
        let Ok(relative) = file.strip_prefix(&solutions) else { continue };
        let Ok(solution) = std::fs::read_to_string(&file) else { continue };
        let include = format!("{}:{selector}", relative.display());
        if !root.join("exercises").join(relative).is_file() {
            shown.push(Answer { include, todo: None });
            continue;
        }
        let answers = todo_regions(&solution);
        for taken in selected(&solution, &selector) {
            for answer in answers.iter().filter(|answer| overlaps(&taken, &answer.lines)) {
                shown.push(Answer { include: include.clone(), todo: Some(answer.name.clone()) });
            }
        }
    }
    shown
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `a/b/../c` as `a/c`, without touching the file system (the page may be made up).
fn normalise(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// Whether a page of the book (relative to `book/src`) is a solution walkthrough.
pub fn is_walkthrough(relative: &Path) -> bool {
    relative.starts_with(WALKTHROUGHS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "\
fn given() {}
// ANCHOR: todo_answer
fn answer() {
    // ANCHOR: inner
    todo!()
    // ANCHOR_END: inner
}
// ANCHOR_END: todo_answer
";

    #[test]
    fn regions_are_the_lines_between_their_anchors() {
        let found = regions(CODE);
        assert_eq!(found[0], Region { name: "todo_answer".into(), lines: 2..7 });
        assert_eq!(found[1], Region { name: "inner".into(), lines: 4..5 });
        assert_eq!(todo_regions(CODE).len(), 1);
        let lines = |selector| selected(CODE, selector).into_iter().flatten().collect::<Vec<_>>();
        assert_eq!(lines("inner"), [4]);
        assert_eq!(lines("2:3"), [1, 2]);
        assert_eq!(lines(""), Vec::from_iter(0..8));
    }

    #[test]
    fn given_code_leaves_out_the_todo_regions_and_comments() {
        assert_eq!(given_code(CODE), ["fn given() {}"]);
        assert_eq!(not_kept(&["a", "b", "c"], &["a", "x", "c"]), ["b"]);
        assert_eq!(not_kept(&["a", "c"], &["a", "x", "c"]), Vec::<&str>::new());
    }
}
