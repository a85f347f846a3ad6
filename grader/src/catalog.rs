//! `grader criteria`: the criteria registry as JSON or as Markdown tables, so that the book and
//! course tooling always show what the grader really checks.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::criteria::{ExerciseSpec, registry};
use crate::workbook::{self, Exercise};

/// The registry of `exercises` as one JSON document.
pub fn json(exercises: &[Exercise]) -> Value {
    let specs = registry();
    let listed: Vec<Value> = selected(&specs, exercises)
        .map(|(exercise, spec)| {
            json!({
                "id": exercise.dir_name(),
                "title": spec.title,
                "max_score": spec.criteria.iter().map(|c| c.points).sum::<u32>(),
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
        let total: u32 = spec.criteria.iter().map(|c| c.points).sum();
        let _ = writeln!(out, "### {} · {} ({total} points)\n", exercise.dir_name(), spec.title);
        let _ = writeln!(out, "| criterion | id | category | points |\n| --- | --- | --- | --- |");
        for criterion in &spec.criteria {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                criterion.title, criterion.id, criterion.category, criterion.points
            );
        }
        out.push('\n');
    }
    out
}

fn selected<'a>(
    specs: &'a [ExerciseSpec],
    exercises: &'a [Exercise],
) -> impl Iterator<Item = (&'a Exercise, &'a ExerciseSpec)> {
    exercises.iter().filter_map(move |exercise| {
        Some((exercise, specs.iter().find(|s| s.slug == exercise.slug)?))
    })
}

/// The exercises named on the command line, or all.
pub fn exercises(wanted: Option<&str>) -> anyhow::Result<Vec<Exercise>> {
    workbook::select(workbook::exercises()?, wanted)
}
