//! `report.html`: one self-contained page for the instructor. Its figures come from
//! [`super::stats`]: invalid submissions are counted apart, never as zeros.

use std::fmt::Write as _;

use super::meta::{Meta, Outcome, display_name, outcome_name};
use super::similarity;
use super::stats::{self, PassRate, Spread, THRESHOLD_PERCENT};
use crate::report::{Report, Stage};

/// Where the page's figures come from: the run's seed, the workbook's commit, and when the
/// page was written.
pub struct Provenance {
    pub seed: Option<u64>,
    /// The workbook's commit the grader was built from, when known.
    pub workbook: Option<String>,
    /// When the page was written (an HTTP date, UTC).
    pub generated: String,
}

pub fn render(
    students: &[(Meta, Option<Report>)],
    run: &Provenance,
    similarity: Option<&similarity::Findings>,
) -> String {
    let mut body = String::new();
    let counted = stats::counted(students);
    metadata(&mut body, run);
    containment(&mut body, students);
    summary(&mut body, students, &counted);
    flags(&mut body, students);
    distribution(&mut body, &counted);
    exercises(&mut body, &counted);
    grid(&mut body, students);
    pass_rates(&mut body, &stats::pass_rates(&counted));
    body.push_str(&similarity::section(similarity));
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Class report — Caching &amp; Performance</title><style>{STYLE}</style></head>\
         <body><h1>Class report — Caching &amp; Performance</h1>{body}<script>{SORTING}</script>\
         </body></html>\n"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}\
table.sortable th{cursor:pointer;user-select:none}th[data-dir=asc]::after{content:' ▲'}th[data-dir=desc]::after{content:' ▼'}\
.bar{background:#4a7;height:1rem;display:inline-block;vertical-align:middle}.bad{color:#b22}.muted{color:#888}\
td.num,th.num{text-align:right}td.id{white-space:nowrap}.flag{display:inline-block;padding:0 .4rem;margin-right:.3rem;border-radius:.3rem;background:#fde2e2;color:#8a1c1c;font-size:.85em}\
.flag.late{background:#fff1c2;color:#7a5b00}.meta{color:#555}";

/// Sorts a table by the clicked column: numbers as numbers (a cell's `data-sort` first), text
/// as text; a second click reverses.
const SORTING: &str = "document.querySelectorAll('table.sortable').forEach(t=>{t.querySelectorAll('thead th').forEach((th,i)=>{th.addEventListener('click',()=>{\
const asc=th.dataset.dir!=='asc';t.querySelectorAll('thead th').forEach(h=>delete h.dataset.dir);th.dataset.dir=asc?'asc':'desc';\
const key=r=>{const c=r.cells[i];const v=c?(c.dataset.sort??c.textContent.trim()):'';const n=parseFloat(v);return isNaN(n)?[1,v.toLowerCase()]:[0,n]};\
const b=t.tBodies[0];[...b.rows].sort((x,y)=>{const a=key(x),c=key(y);const o=a[0]-c[0]||(a[1]<c[1]?-1:a[1]>c[1]?1:0);return asc?o:-o}).forEach(r=>b.appendChild(r));});});});";

fn metadata(out: &mut String, run: &Provenance) {
    let seed = run.seed.map_or_else(|| "unknown".to_owned(), |seed| seed.to_string());
    let workbook = run.workbook.as_deref().unwrap_or("unknown");
    let _ = write!(
        out,
        "<p class=meta id=run data-seed=\"{seed}\">Seed <b>{seed}</b> · generated {} · workbook \
         commit <code>{}</code> · grader {}</p>",
        escape(&run.generated),
        escape(workbook),
        env!("CARGO_PKG_VERSION")
    );
}

/// A warning on top when any submission was graded without the containment.
fn containment(out: &mut String, students: &[(Meta, Option<Report>)]) {
    let uncontained: Vec<&Meta> =
        students.iter().map(|(meta, _)| meta).filter(|meta| !meta.uncontained.is_empty()).collect();
    let Some(first) = uncontained.first() else { return };
    let _ = write!(
        out,
        "<p class=bad id=uncontained data-count={}><b>{} of {} submissions were graded without \
         containment</b> (--allow-unsandboxed): {}</p>",
        uncontained.len(),
        uncontained.len(),
        students.len(),
        escape(&first.uncontained.join("; "))
    );
}

fn summary(out: &mut String, students: &[(Meta, Option<Report>)], counted: &[(&Meta, &Report)]) {
    let invalid = students.iter().filter(|(m, _)| m.outcome == Outcome::Invalid).count();
    let errors = students.iter().filter(|(m, _)| m.outcome == Outcome::Error).count();
    let percents: Vec<f64> = counted.iter().map(|(_, report)| stats::percent(report)).collect();
    let passing = percents.iter().filter(|p| **p >= THRESHOLD_PERCENT).count();
    let _ = write!(
        out,
        "<h2>Summary</h2><p id=summary data-submissions={} data-counted={} data-invalid={invalid} \
         data-errors={errors}",
        students.len(),
        counted.len()
    );
    // Submissions without a grade are named, never averaged in as zeros.
    let mut apart = format!("{invalid} invalid (could not be read)");
    if errors > 0 {
        apart.push_str(&format!(" and {errors} not graded (a grader error: run the batch again)"));
    }
    match Spread::of(&percents) {
        Some(spread) => {
            let _ = write!(
                out,
                " data-mean=\"{:.1}\" data-median=\"{:.1}\">{} submissions: <b>{} graded</b>, \
                 {apart}, not counted in the figures below. Mean score {:.1}%, median {:.1}%; \
                 {passing} of {} at or above {THRESHOLD_PERCENT:.0}%.</p>",
                spread.mean,
                spread.median,
                students.len(),
                counted.len(),
                spread.mean,
                spread.median,
                counted.len()
            );
        }
        None => {
            let _ = write!(out, ">{} submissions, none graded: {apart}.</p>", students.len());
        }
    }
}

/// Why a student needs a look, as short flags.
fn flags_of(meta: &Meta, report: Option<&Report>) -> Vec<(&'static str, String)> {
    let mut flags = Vec::new();
    if meta.late {
        flags.push(("late", "late".to_owned()));
    }
    match meta.outcome {
        Outcome::Invalid => flags.push(("", "invalid".to_owned())),
        Outcome::Error => flags.push(("", "grader error".to_owned())),
        Outcome::TimedOut => flags.push(("", "ran out of time".to_owned())),
        Outcome::Graded => {}
    }
    if meta.outcome != Outcome::Invalid {
        for exercise in report.iter().flat_map(|r| &r.exercises) {
            let problem = match exercise.stage {
                Stage::Missing => "missing",
                Stage::BuildFailed => "does not build",
                Stage::DidNotStart => "did not start",
                Stage::TimedOut => "not reached",
                Stage::Invalid | Stage::Graded => continue,
            };
            flags.push(("", format!("{} {problem}", exercise.id)));
        }
        if let Some(report) = report
            && matches!(meta.outcome, Outcome::Graded | Outcome::TimedOut)
            && stats::percent(report) < THRESHOLD_PERCENT
        {
            flags.push(("", format!("below {THRESHOLD_PERCENT:.0}%")));
        }
    }
    if !meta.superseded.is_empty() {
        flags.push(("late", format!("{} workbooks, newest graded", meta.superseded.len() + 1)));
    }
    flags
}

fn flags(out: &mut String, students: &[(Meta, Option<Report>)]) {
    out.push_str(
        "<h2>Students who need a look</h2><table class=sortable id=flags><thead><tr>\
         <th>student</th><th>flags</th><th>detail</th></tr></thead><tbody>",
    );
    let mut any = false;
    for (meta, report) in students {
        let flags = flags_of(meta, report.as_ref());
        if flags.is_empty() {
            continue;
        }
        any = true;
        let badges: String = flags
            .iter()
            .map(|(class, text)| format!("<span class=\"flag {class}\">{}</span>", escape(text)))
            .collect();
        let _ = write!(
            out,
            "<tr data-student=\"{}\"><td>{}</td><td>{badges}</td><td class=muted>{}</td></tr>",
            escape(&meta.student),
            student_link(meta),
            escape(meta.message.as_deref().unwrap_or_default())
        );
    }
    if !any {
        out.push_str("<tr><td colspan=3>None: every submission was read, built and finished in time, none late.</td></tr>");
    }
    out.push_str("</tbody></table>");
}

fn distribution(out: &mut String, counted: &[(&Meta, &Report)]) {
    let mut buckets = [0usize; 10];
    for (_, report) in counted {
        buckets[((stats::percent(report) / 10.0) as usize).min(9)] += 1;
    }
    let most = buckets.iter().copied().max().unwrap_or(0).max(1);
    out.push_str(
        "<h2>Score distribution</h2><p class=muted>Graded submissions only.</p><table>\
         <tr><th>score</th><th class=num>students</th><th></th></tr>",
    );
    for (index, count) in buckets.iter().enumerate() {
        let width = count * 20 / most;
        let upper = if index == 9 { 100 } else { index * 10 + 9 };
        let _ = write!(
            out,
            "<tr><td>{}–{upper}%</td><td class=num>{count}</td><td><span class=bar style=\"width:{width}rem\"></span></td></tr>",
            index * 10
        );
    }
    out.push_str("</table>");
}

/// The exercises the results hold, in checklist order, with their points.
fn exercise_columns<'a>(reports: impl Iterator<Item = &'a Report>) -> Vec<(String, String, u32)> {
    let mut columns: Vec<(String, String, u32)> = Vec::new();
    for exercise in reports.flat_map(|report| &report.exercises) {
        if !columns.iter().any(|(id, _, _)| *id == exercise.id) {
            columns.push((exercise.id.clone(), exercise.title.clone(), exercise.max_score));
        }
    }
    columns.sort();
    columns
}

fn exercises(out: &mut String, counted: &[(&Meta, &Report)]) {
    out.push_str(
        "<h2>Exercises</h2><table class=sortable id=exercises><thead><tr><th>exercise</th>\
         <th class=num>points</th><th class=num>mean</th><th class=num>median</th>\
         <th class=num>min</th><th class=num>max</th><th class=num>spread (σ)</th></tr></thead><tbody>",
    );
    for (id, title, points) in exercise_columns(counted.iter().map(|(_, r)| *r)) {
        let scores: Vec<f64> = counted
            .iter()
            .filter_map(|(_, report)| report.exercises.iter().find(|e| e.id == id))
            .map(|exercise| f64::from(exercise.score))
            .collect();
        let Some(spread) = Spread::of(&scores) else { continue };
        let _ = write!(
            out,
            "<tr data-exercise=\"{}\" data-mean=\"{:.2}\" data-min=\"{}\" data-max=\"{}\"><td class=id>{} \
             <small>{}</small></td><td class=num>{points}</td><td class=num>{:.1}</td>\
             <td class=num>{:.1}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{:.1}</td></tr>",
            escape(&id),
            spread.mean,
            spread.min,
            spread.max,
            escape(&id),
            escape(&title),
            spread.mean,
            spread.median,
            spread.min,
            spread.max,
            spread.deviation
        );
    }
    out.push_str("</tbody></table>");
}

fn grid(out: &mut String, students: &[(Meta, Option<Report>)]) {
    let columns = exercise_columns(students.iter().filter_map(|(_, report)| report.as_ref()));
    out.push_str(
        "<h2>Students</h2><table class=sortable id=grid><thead><tr><th>student</th><th>LMS id</th>",
    );
    for (id, _, _) in &columns {
        let _ = write!(out, "<th class=num>{}</th>", escape(id));
    }
    out.push_str("<th class=num>total</th><th>outcome</th><th>feedback</th></tr></thead><tbody>");
    for (meta, report) in students {
        let _ = write!(
            out,
            "<tr data-student=\"{}\"><td>{}</td><td>{}</td>",
            escape(&meta.student),
            escape(display_name(meta)),
            escape(meta.lms_id.as_deref().unwrap_or_default())
        );
        let invalid = meta.outcome == Outcome::Invalid;
        for (id, _, _) in &columns {
            let exercise = report.iter().flat_map(|r| &r.exercises).find(|e| &e.id == id);
            match exercise {
                Some(exercise) if !invalid => {
                    let class = if exercise.stage == Stage::Graded { "num" } else { "num bad" };
                    let note = match exercise.stage {
                        Stage::Graded => "",
                        Stage::Missing => " (missing)",
                        Stage::BuildFailed => " (no build)",
                        Stage::DidNotStart => " (no start)",
                        Stage::TimedOut => " (time)",
                        Stage::Invalid => " (invalid)",
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{class}\" data-sort=\"{}\">{}{note}</td>",
                        exercise.score, exercise.score
                    );
                }
                _ => out.push_str("<td class=\"num muted\" data-sort=\"-1\">—</td>"),
            }
        }
        let total = match report {
            Some(report) if !invalid => format!(
                "<td class=num data-sort=\"{}\">{}/{}</td>",
                report.score, report.score, report.max_score
            ),
            _ => "<td class=\"num muted\" data-sort=\"-1\">—</td>".to_owned(),
        };
        let _ = write!(
            out,
            "{total}<td>{}</td><td>{}</td></tr>",
            outcome_name(meta.outcome),
            feedback_link(meta, "feedback")
        );
    }
    out.push_str("</tbody></table>");
}

fn pass_rates(out: &mut String, rates: &[PassRate]) {
    out.push_str(
        "<h2>Pass rate per criterion</h2><p class=muted>Lowest first: what the class found \
         hardest. Graded submissions only.</p><table class=sortable id=criteria><thead><tr>\
         <th>exercise</th><th>criterion</th><th class=num>passed</th><th class=num>rate</th>\
         <th></th></tr></thead><tbody>",
    );
    for rate in rates {
        let percent = rate.percent();
        let _ = write!(
            out,
            "<tr><td class=id>{}</td><td>{} <small>({})</small></td><td class=num>{}/{}</td>\
             <td class=num data-sort=\"{percent:.1}\">{percent:.0}%</td><td><span class=bar \
             style=\"width:{}rem\"></span></td></tr>",
            escape(&rate.exercise),
            escape(&rate.title),
            escape(&rate.criterion),
            rate.passed,
            rate.attempts,
            (percent / 5.0).round()
        );
    }
    out.push_str("</tbody></table>");
}

fn student_link(meta: &Meta) -> String {
    feedback_link(meta, display_name(meta))
}

fn feedback_link(meta: &Meta, text: &str) -> String {
    format!("<a href=\"students/{}/feedback.html\">{}</a>", escape(&meta.student), escape(text))
}

/// Escapes text for HTML: student output and names end up on this page.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_text_is_escaped() {
        assert_eq!(escape("<script>\"x\" & y'"), "&lt;script&gt;&quot;x&quot; &amp; y&#39;");
    }

    #[test]
    fn a_late_student_is_flagged_whatever_the_score() {
        let meta = Meta {
            late: true,
            message: Some("no exercises folder".to_owned()),
            ..Meta::example("ann", Outcome::Invalid)
        };
        let flags: Vec<String> = flags_of(&meta, None).into_iter().map(|(_, f)| f).collect();
        assert_eq!(flags, ["late", "invalid"]);
    }
}
