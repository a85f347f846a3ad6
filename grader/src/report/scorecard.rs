//! The scorecard printed on a terminal (in colour) or into a file (plain).

use std::fmt::Write;

use owo_colors::{OwoColorize, Stream, Style};

use crate::report::sanitise::for_terminal;
use crate::report::{CriterionReport, ExerciseReport, Report, Stage, Status};
use crate::words::counted;

/// Renders the report for `stream`; colours only when it is a terminal that wants them.
pub fn render(report: &Report, stream: Stream) -> String {
    render_painted(report, &|text, style| {
        text.if_supports_color(stream, |text| text.style(style)).to_string()
    })
}

/// Renders the report without colours, wherever it goes.
pub fn render_plain(report: &Report) -> String {
    render_painted(report, &|text, _| text.to_owned())
}

fn render_painted(report: &Report, paint: &dyn Fn(&str, Style) -> String) -> String {
    let mut out = String::new();
    for exercise in &report.exercises {
        render_exercise(&mut out, exercise, paint);
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
    render_compiler_warnings(out, exercise, paint);
    match exercise.stage {
        Stage::Graded => {}
        Stage::BuildFailed => {
            let _ = writeln!(
                out,
                "  {}",
                paint("The exercise does not compile:", Style::new().red().bold())
            );
            let details = exercise.details.as_deref().unwrap_or_default();
            compiler_text(out, details, MAX_COMPILER_LINES, paint);
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
        criterion_line(out, criterion, paint);
        if criterion.status != Status::Passed && exercise.stage == Stage::Graded {
            indent(out, &criterion.message, "        ");
            if let Some(said) = &criterion.service_output {
                let _ = writeln!(out, "        {}", paint("the service said:", Style::new().red()));
                indent(out, said, "          ");
            }
            for note in &criterion.notes {
                let note = for_terminal(note);
                let _ = writeln!(out, "        {} {note}", paint("note:", Style::new().yellow()));
            }
            let _ =
                writeln!(out, "        {} {}", paint("hint:", Style::new().cyan()), criterion.hint);
        }
    }
    out.push('\n');
}

/// One criterion's verdict on a line of its own, as the scorecard shows it: `--watch` prints
/// each as soon as it is judged, before the scorecard.
pub fn verdict_line(criterion: &CriterionReport, stream: Stream) -> String {
    let mut out = String::new();
    criterion_line(&mut out, criterion, &|text, style| {
        text.if_supports_color(stream, |text| text.style(style)).to_string()
    });
    out
}

/// `  ✓ 3/3   The title  [id · category]`.
fn criterion_line(
    out: &mut String,
    criterion: &CriterionReport,
    paint: &dyn Fn(&str, Style) -> String,
) {
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
}

/// The most lines of the compiler's words on a terminal; `--format json` (and a batch's
/// feedback) keeps all of them.
const MAX_COMPILER_LINES: usize = 40;

/// The compiler's warnings about the student's own crate, as rustc rendered them.
fn render_compiler_warnings(
    out: &mut String,
    exercise: &ExerciseReport,
    paint: &dyn Fn(&str, Style) -> String,
) {
    let count = exercise.compiler_warnings.len();
    if count == 0 {
        return;
    }
    let heading = format!("The compiler warned ({}):", counted(count as u64, "warning"));
    let _ = writeln!(out, "  {}", paint(&heading, Style::new().yellow().bold()));
    let text: Vec<&str> =
        exercise.compiler_warnings.iter().map(|warning| warning.rendered.as_str()).collect();
    compiler_text(out, &text.join("\n\n"), MAX_COMPILER_LINES / 2, paint);
}

/// rustc's rendering, indented, cut to `max_lines`, with its labels coloured as cargo would.
fn compiler_text(
    out: &mut String,
    text: &str,
    max_lines: usize,
    paint: &dyn Fn(&str, Style) -> String,
) {
    let text = for_terminal(text);
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(max_lines) {
        let _ = writeln!(out, "    {}", paint_diagnostic_line(line, paint));
    }
    if lines.len() > max_lines {
        let more = format!(
            "[... {}: all of it with --format json, or `cargo build` in the exercise's folder]",
            counted((lines.len() - max_lines) as u64, "more line")
        );
        let _ = writeln!(out, "    {}", paint(&more, Style::new().dimmed()));
    }
}

/// A line of rustc's output with its label (`error`, `warning`, `help`, `note`) coloured.
fn paint_diagnostic_line(line: &str, paint: &dyn Fn(&str, Style) -> String) -> String {
    let trimmed = line.trim_start().trim_start_matches("= ");
    let style = if trimmed.starts_with("error") {
        Style::new().red().bold()
    } else if trimmed.starts_with("warning") {
        Style::new().yellow().bold()
    } else if trimmed.starts_with("help") {
        Style::new().cyan().bold()
    } else if trimmed.starts_with("note") {
        Style::new().bold()
    } else {
        return line.to_owned();
    };
    paint(line, style)
}

/// `text`, written by the submission or about it, indented and without control characters.
fn indent(out: &mut String, text: &str, prefix: &str) {
    for line in for_terminal(text).lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::diagnostics::Warning;

    fn exercise(stage: Stage, details: Option<String>) -> ExerciseReport {
        ExerciseReport::new("03-low-level-cache".into(), "Low-level".into(), stage, details, vec![])
    }

    #[test]
    fn a_long_compiler_error_is_cut_on_the_terminal_and_says_where_the_rest_is() {
        let details: Vec<String> = (1..=100).map(|n| format!("line {n}")).collect();
        let report = Report::new(
            1,
            String::new(),
            vec![exercise(Stage::BuildFailed, Some(details.join("\n")))],
        );
        let card = render_plain(&report);
        assert!(card.contains("    line 40\n") && !card.contains("line 41\n"), "{card}");
        assert!(card.contains("[... 60 more lines: all of it with --format json"), "{card}");
    }

    #[test]
    fn compiler_warnings_are_shown_as_rustc_rendered_them() {
        let mut graded = exercise(Stage::Graded, None);
        graded.add_compiler_warnings(vec![Warning {
            lint: Some("unused_must_use".into()),
            message: "unused implementer of `Future` that must be used".into(),
            location: Some("src/lib.rs:4:5".into()),
            rendered: "warning: unused implementer\n  = note: futures do nothing".into(),
        }]);
        let card = render_plain(&Report::new(1, String::new(), vec![graded]));
        assert!(card.contains("The compiler warned (1 warning):"), "{card}");
        assert!(card.contains("    warning: unused implementer\n      = note: futures"), "{card}");
    }
}
