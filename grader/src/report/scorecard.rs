//! The scorecard printed on a terminal (in colour) or into a file (plain).

use std::fmt::Write;

use owo_colors::{OwoColorize, Stream, Style};

use crate::report::sanitise::for_terminal;
use crate::report::{ExerciseReport, Report, Stage, Status};

/// Renders the report for `stream`; colours only when it is a terminal that wants them.
pub fn render(report: &Report, stream: Stream) -> String {
    let paint = |text: &str, style: Style| -> String {
        text.if_supports_color(stream, |text| text.style(style)).to_string()
    };
    let mut out = String::new();
    for exercise in &report.exercises {
        render_exercise(&mut out, exercise, &paint);
    }
    let total = format!("Total {}/{}", report.score, report.max_score);
    let style = if report.all_passed() { Style::new().green().bold() } else { Style::new().bold() };
    let _ = writeln!(
        out,
        "{}  ·  seed {} (replay with --seed {})  ·  {}",
        paint(&total, style),
        report.seed,
        report.seed,
        report.redis
    );
    if !report.database.is_empty() {
        let database = format!("database: {}", report.database);
        let _ = writeln!(out, "{}", paint(&database, Style::new().dimmed()));
    }
    let _ = writeln!(
        out,
        "{}",
        paint(&format!("isolation: {}", report.isolation), Style::new().dimmed())
    );
    out
}

fn render_exercise(
    out: &mut String,
    exercise: &ExerciseReport,
    paint: &dyn Fn(&str, Style) -> String,
) {
    let heading = format!("Exercise {} · {}", exercise.id, exercise.title);
    let _ = writeln!(
        out,
        "{}  {}/{}",
        paint(&heading, Style::new().bold()),
        exercise.score,
        exercise.max_score
    );
    for warning in &exercise.warnings {
        let warning = for_terminal(warning);
        let _ = writeln!(out, "  {} {warning}", paint("warning:", Style::new().yellow().bold()));
    }
    match exercise.stage {
        Stage::Graded => {}
        Stage::BuildFailed => {
            let _ = writeln!(
                out,
                "  {}",
                paint("The exercise does not compile:", Style::new().red().bold())
            );
            indent(out, exercise.details.as_deref().unwrap_or_default(), "    ");
        }
        Stage::Missing | Stage::DidNotStart | Stage::TimedOut | Stage::Invalid => {
            let heading = match exercise.stage {
                Stage::Missing => "The exercise is missing:",
                Stage::DidNotStart => "The service did not start:",
                Stage::TimedOut => "Grading ran out of time:",
                _ => "The submission could not be read:",
            };
            let _ = writeln!(out, "  {}", paint(heading, Style::new().red().bold()));
            indent(out, exercise.details.as_deref().unwrap_or_default(), "    ");
        }
    }
    for criterion in &exercise.criteria {
        let (mark, style) = match criterion.status {
            Status::Passed => ("✓", Style::new().green()),
            Status::Failed => ("✗", Style::new().red()),
            Status::Error => ("!", Style::new().yellow()),
        };
        let points = format!("{}/{}", criterion.score, criterion.max_score);
        let _ = writeln!(
            out,
            "  {} {:<5} {}  {}",
            paint(mark, style),
            points,
            criterion.title,
            paint(&format!("[{} · {}]", criterion.id, criterion.category), Style::new().dimmed()),
        );
        if criterion.status != Status::Passed && exercise.stage == Stage::Graded {
            indent(out, &criterion.message, "        ");
            let _ =
                writeln!(out, "        {} {}", paint("hint:", Style::new().cyan()), criterion.hint);
        }
    }
    out.push('\n');
}

/// `text`, written by the submission or about it, indented and without control characters.
fn indent(out: &mut String, text: &str, prefix: &str) {
    for line in for_terminal(text).lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
}
