//! `grader criteria`: the criteria registry as JSON or as Markdown tables, so that the book and
//! course tooling always show what the grader really checks.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::course::Exercise;
use crate::criteria::{ExerciseSpec, registry};

/// The registry of `exercises` as one JSON document.
pub fn json(exercises: &[Exercise]) -> Value {
    let specs = registry();
    let listed: Vec<Value> = selected(&specs, exercises)
        .map(|(exercise, spec)| {
            json!({
                "id": exercise.dir_name(),
                "title": exercise.title,
                "max_score": spec.max_score(),
                "criteria": spec.criteria.iter().map(|c| json!({
                    "id": c.id,
                    "title": c.title,
                    "category": c.category,
                    "points": c.points,
                    "hint": c.hint,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "exercises": listed })
}

/// A Markdown table of criteria per exercise.
pub fn markdown(exercises: &[Exercise]) -> String {
    let specs = registry();
    let mut out = String::new();
    for (exercise, spec) in selected(&specs, exercises) {
        let _ = writeln!(
            out,
            "### {} · {} ({} points)\n",
            exercise.dir_name(),
            exercise.title,
            spec.max_score()
        );
        out.push_str(&criteria_table(spec));
        out.push('\n');
    }
    out
}

/// One exercise's criteria as a Markdown table: title, id, category and points.
pub fn criteria_table(spec: &ExerciseSpec) -> String {
    let mut out =
        String::from("| criterion | id | category | points |\n| --- | --- | --- | --- |\n");
    for criterion in &spec.criteria {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            escape_markdown(criterion.title),
            criterion.id,
            criterion.category,
            criterion.points
        );
    }
    out
}

/// `text` with the Markdown punctuation escaped that would change how it shows (a `|` ends a
/// table cell, a `*` starts emphasis), and no more, so the table stays readable as plain text.
pub fn escape_markdown(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let in_word =
        |at: Option<usize>| at.and_then(|at| chars.get(at)).is_some_and(|c| c.is_alphanumeric());
    let mut escaped = String::with_capacity(text.len());
    for (index, &c) in chars.iter().enumerate() {
        let special = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '&' => true,
            // An `_` inside a word (`CACHE_DEFAULT_TIMEOUT`) never starts emphasis.
            '_' => !(in_word(index.checked_sub(1)) && in_word(Some(index + 1))),
            _ => false,
        };
        if special {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The criteria of `exercises`, in checklist order.
fn selected<'a>(
    specs: &'a [ExerciseSpec],
    exercises: &'a [Exercise],
) -> impl Iterator<Item = (Exercise, &'a ExerciseSpec)> {
    specs.iter().filter(|spec| exercises.contains(&spec.exercise)).map(|spec| (spec.exercise, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_escaped_only_where_markdown_would_change_them() {
        assert_eq!(escape_markdown("a | b"), r"a \| b");
        assert_eq!(escape_markdown("*and* <b>"), r"\*and\* \<b\>");
        assert_eq!(
            escape_markdown("get_many after CACHE_DEFAULT_TIMEOUT"),
            "get_many after CACHE_DEFAULT_TIMEOUT"
        );
        assert_eq!(escape_markdown("_private_ user's"), r"\_private\_ user's");
    }
}
