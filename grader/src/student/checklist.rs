//! The book's submission checklist (`book/src/checklist.md`), item by item, with where the
//! student stands on each: the end of a scorecard, `grader list`, and the next thing to do.

use std::fmt::Write as _;

use crate::course::{self, Exercise};
use crate::criteria::{self, ExerciseSpec};
use crate::report::Stage;
use crate::student::progress::{Progress, Record, StateDir};

/// A checklist item and where the student stands on it.
#[derive(Clone)]
pub struct Row {
    pub item: Exercise,
    /// The grader's criteria (id, title) in order; `None` while the exercise is not available.
    pub criteria: Option<Vec<(&'static str, &'static str)>>,
    /// The last grade, if any.
    pub last: Option<Record>,
}

impl Row {
    fn new(item: Exercise, specs: &[ExerciseSpec], progress: &Progress) -> Self {
        let criteria = specs.iter().find(|spec| spec.exercise == item).map(|spec| {
            spec.criteria.iter().map(|criterion| (criterion.id, criterion.title)).collect()
        });
        let last = progress.exercises.get(&item.dir_name()).cloned();
        Self { item, criteria, last }
    }

    /// The first criterion the last grade did not pass; `None` when all did (or none is known).
    fn first_to_do(&self) -> Option<(&'static str, &'static str)> {
        let last = self.last.as_ref()?;
        self.criteria.as_ref()?.iter().copied().find(|(id, _)| !last.passed(id))
    }

    fn done(&self) -> bool {
        self.criteria.is_some() && self.last.is_some() && self.first_to_do().is_none()
    }

    /// `20/20`, `8/20, 3 of 7 criteria pass`, `not graded yet` or `not available yet`.
    fn standing(&self) -> String {
        let Some(criteria) = &self.criteria else {
            return "not available yet".to_owned();
        };
        let Some(last) = &self.last else {
            return "not graded yet".to_owned();
        };
        let score = format!("{}/{}", last.score, last.max_score);
        if self.done() {
            return score;
        }
        let passed = criteria.iter().filter(|(id, _)| last.passed(id)).count();
        let mut text = format!("{score}, {passed} of {} criteria pass", criteria.len());
        match last.stage {
            Stage::Missing => text.push_str(" (its folder was missing)"),
            Stage::BuildFailed => text.push_str(" (it did not build)"),
            Stage::DidNotStart => text.push_str(" (it did not start)"),
            _ => {}
        }
        text
    }
}

/// Every checklist item with the student's progress on it.
pub fn rows(progress: &Progress) -> Vec<Row> {
    let specs = criteria::registry();
    course::EXERCISES.into_iter().map(|item| Row::new(item, &specs, progress)).collect()
}

/// The checklist's first line, naming where the book's checklist page is. The README and the
/// book's setup page quote it; the book's tests hold them to this one string.
pub fn heading(page: &str) -> String {
    format!("Submission checklist ({page})")
}

/// The checklist with a box per item, then the next thing to do: in `focus`, the exercises
/// just graded, while one of them has something left; else the first in checklist order.
pub fn render(rows: &[Row], focus: &[Exercise]) -> String {
    let width = rows.iter().map(|row| row.item.title.len()).max().unwrap_or(0);
    let mut out = format!("{}\n", heading(&course::book_page("checklist.html")));
    for row in rows {
        let mark = if row.done() { "[x]" } else { "[ ]" };
        let _ = writeln!(
            out,
            "  {mark} {} {:<width$}  {}",
            row.item.number,
            row.item.title,
            row.standing()
        );
    }
    let focused: Vec<Row> = rows.iter().filter(|row| focus.contains(&row.item)).cloned().collect();
    let next = match focused.iter().any(|row| row.criteria.is_some() && !row.done()) {
        true => next_step(&focused),
        false => next_step(rows),
    };
    let _ = writeln!(out, "{next}");
    out
}

/// Prints the checklist after a scorecard of the exercises in `focus`, from the progress kept
/// in `state`.
pub fn print(state: &StateDir, focus: &[Exercise]) {
    match state.load() {
        Ok(progress) => print!("\n{}", render(&rows(&progress), focus)),
        Err(err) => eprintln!("warning: {err:#}"),
    }
}

/// `grader list`: each exercise, its lesson and exercise page, and its last score; with
/// `detail`, that exercise's criteria and how each fared.
pub fn render_list(rows: &[Row], detail: Option<&Exercise>) -> String {
    let mut out = String::new();
    for row in rows {
        let exercise = row.item;
        if detail.is_some_and(|wanted| *wanted != exercise) {
            continue;
        }
        let _ = writeln!(
            out,
            "{}  {} · {} · {}",
            row.item.number,
            exercise.dir_name(),
            row.item.title,
            row.standing()
        );
        let _ = writeln!(out, "   lesson    {}", course::book_page(&row.item.lesson_page()));
        let _ = writeln!(out, "   exercise  {}", course::book_page(&row.item.exercise_page()));
        if detail.is_some() {
            render_criteria(&mut out, row);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", next_step(rows));
    out
}

fn render_criteria(out: &mut String, row: &Row) {
    let Some(criteria) = &row.criteria else { return };
    let width = criteria.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    for (id, title) in criteria {
        let mark = match &row.last {
            None => "·",
            Some(last) if last.passed(id) => "✓",
            Some(_) => "✗",
        };
        let _ = writeln!(out, "   {mark} {id:<width$}  {title}");
    }
}

/// The first available exercise not done yet.
pub fn next_exercise(rows: &[Row]) -> Option<Exercise> {
    rows.iter().find(|row| row.criteria.is_some() && !row.done()).map(|row| row.item)
}

/// `next: exercise N, criterion X`: the first criterion not yet passed, in checklist order.
pub fn next_step(rows: &[Row]) -> String {
    let Some(row) = rows.iter().find(|row| row.criteria.is_some() && !row.done()) else {
        let unavailable: Vec<String> = rows
            .iter()
            .filter(|row| row.criteria.is_none())
            .map(|row| row.item.number.to_string())
            .collect();
        return match unavailable.as_slice() {
            [] => "next: every item passes; submit the way your course asks".to_owned(),
            numbers => format!(
                "next: every available exercise passes; exercise {} is not available yet",
                numbers.join(", ")
            ),
        };
    };
    let number = row.item.number;
    match row.first_to_do() {
        Some((id, title)) => format!("next: exercise {number}, criterion {id}: {title}"),
        None => format!("next: exercise {number}, not graded yet: cargo run -p grader -- {number}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::report::Status;

    fn record(statuses: &[(&str, Status)]) -> Record {
        Record {
            score: 0,
            max_score: 0,
            stage: Stage::Graded,
            graded_at: 0,
            criteria: statuses.iter().map(|(id, status)| ((*id).to_owned(), *status)).collect(),
        }
    }

    fn row(item: usize, criteria: Option<&[&'static str]>, last: Option<Record>) -> Row {
        Row {
            item: course::EXERCISES[item],
            criteria: criteria.map(|ids| ids.iter().map(|id| (*id, "a title")).collect()),
            last,
        }
    }

    #[test]
    fn next_is_the_first_criterion_not_passed_in_checklist_order() {
        let rows = [
            row(
                0,
                Some(&["a", "b"]),
                Some(record(&[("a", Status::Passed), ("b", Status::Passed)])),
            ),
            row(1, Some(&["c", "d"]), Some(record(&[("c", Status::Passed), ("d", Status::Error)]))),
            row(2, Some(&["e"]), None),
        ];
        assert_eq!(next_step(&rows), "next: exercise 2, criterion d: a title");
        assert!(render(&rows, &[]).contains("[x] 1"), "{}", render(&rows, &[]));
        assert!(render(&rows, &[]).contains("1 of 2 criteria pass"), "{}", render(&rows, &[]));
    }

    #[test]
    fn after_grading_one_exercise_next_stays_in_it_while_it_has_something_left() {
        let rows = [
            row(0, Some(&["a"]), Some(record(&[("a", Status::Failed)]))),
            row(
                1,
                Some(&["c", "d"]),
                Some(record(&[("c", Status::Passed), ("d", Status::Failed)])),
            ),
            row(2, Some(&["e"]), Some(record(&[("e", Status::Passed)]))),
        ];
        let second = rows[1].item;
        assert!(render(&rows, &[second]).ends_with("next: exercise 2, criterion d: a title\n"));
        // Once it passes, the checklist's own next is shown.
        let third = rows[2].item;
        assert!(render(&rows, &[third]).ends_with("next: exercise 1, criterion a: a title\n"));
    }

    #[test]
    fn an_exercise_never_graded_is_next_with_the_command_to_grade_it() {
        let rows = [
            row(0, Some(&["a"]), Some(record(&[("a", Status::Passed)]))),
            row(1, Some(&["c"]), None),
        ];
        assert_eq!(next_step(&rows), "next: exercise 2, not graded yet: cargo run -p grader -- 2");
    }

    #[test]
    fn a_criterion_added_since_the_last_grade_is_still_to_do() {
        let rows = [row(0, Some(&["a", "new"]), Some(record(&[("a", Status::Passed)])))];
        assert_eq!(next_step(&rows), "next: exercise 1, criterion new: a title");
    }

    #[test]
    fn exercises_without_criteria_are_not_available_yet() {
        let rows =
            [row(0, Some(&["a"]), Some(record(&[("a", Status::Passed)]))), row(3, None, None)];
        assert!(render(&rows, &[]).contains("not available yet"));
        assert_eq!(
            next_step(&rows),
            "next: every available exercise passes; exercise 4 is not available yet"
        );
    }

    #[test]
    fn rows_take_their_criteria_from_the_registry() {
        let rows = rows(&Progress { exercises: BTreeMap::new() });
        let first = rows[0].criteria.as_ref().expect("exercise 1 has criteria");
        assert_eq!(first[0].0, "health-pings-redis");
        assert!(rows.iter().all(|row| row.last.is_none()));
    }
}
