//! `report.html`: one self-contained page for the instructor.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::outputs::{Meta, Outcome};
use crate::report::{Report, Stage, Status};

pub fn render(students: &[(Meta, Option<Report>)]) -> String {
    let mut body = String::new();
    let graded: Vec<&Report> = students.iter().filter_map(|(_, report)| report.as_ref()).collect();
    summary(&mut body, students, &graded);
    distribution(&mut body, &graded);
    pass_rates(&mut body, &graded);
    problems(&mut body, students);
    roster(&mut body, students);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Class report — Caching &amp; Performance</title><style>{STYLE}</style></head>\
         <body><h1>Class report — Caching &amp; Performance</h1>{body}</body></html>\n"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}\
.bar{background:#4a7;height:1rem;display:inline-block;vertical-align:middle}.bad{color:#b22}\
td.num,th.num{text-align:right}";

fn summary(out: &mut String, students: &[(Meta, Option<Report>)], graded: &[&Report]) {
    let mut percents: Vec<f64> = graded.iter().map(|r| percent(r)).collect();
    percents.sort_by(f64::total_cmp);
    let median = percents.get(percents.len() / 2).copied().unwrap_or(0.0);
    let mean = if percents.is_empty() {
        0.0
    } else {
        percents.iter().sum::<f64>() / percents.len() as f64
    };
    let _ = write!(
        out,
        "<h2>Summary</h2><p>{} submissions, {} graded. Mean score {mean:.0}%, median {median:.0}%.</p>",
        students.len(),
        graded.len()
    );
}

fn distribution(out: &mut String, graded: &[&Report]) {
    let mut buckets = [0usize; 10];
    for report in graded {
        buckets[((percent(report) / 10.0) as usize).min(9)] += 1;
    }
    let most = buckets.iter().copied().max().unwrap_or(0).max(1);
    out.push_str("<h2>Score distribution</h2><table><tr><th>score</th><th class=num>students</th><th></th></tr>");
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

fn pass_rates(out: &mut String, graded: &[&Report]) {
    // (exercise, criterion id) → (title, passed, attempts), in registry order of first sight.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut rates: BTreeMap<(String, String), (String, usize, usize)> = BTreeMap::new();
    for report in graded {
        for exercise in &report.exercises {
            for criterion in &exercise.criteria {
                let key = (exercise.id.clone(), criterion.id.clone());
                if !rates.contains_key(&key) {
                    order.push(key.clone());
                }
                let entry = rates.entry(key).or_insert((criterion.title.clone(), 0, 0));
                entry.1 += usize::from(criterion.status == Status::Passed);
                entry.2 += 1;
            }
        }
    }
    out.push_str("<h2>Pass rate per criterion</h2><table><tr><th>exercise</th><th>criterion</th><th class=num>passed</th><th></th></tr>");
    for key in order {
        let (title, passed, attempts) = &rates[&key];
        let rate = *passed as f64 * 100.0 / (*attempts).max(1) as f64;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} <small>({})</small></td><td class=num>{rate:.0}%</td><td><span class=bar style=\"width:{}rem\"></span></td></tr>",
            escape(&key.0),
            escape(title),
            escape(&key.1),
            (rate / 5.0).round()
        );
    }
    out.push_str("</table>");
}

fn problems(out: &mut String, students: &[(Meta, Option<Report>)]) {
    out.push_str("<h2>Submissions that need a look</h2><ul>");
    let mut any = false;
    for (meta, report) in students {
        let mut reasons: Vec<String> = Vec::new();
        match meta.outcome {
            Outcome::Graded => {}
            Outcome::TimedOut => reasons.push("ran out of time".to_owned()),
            Outcome::Invalid => reasons
                .push(format!("could not be read: {}", meta.message.clone().unwrap_or_default())),
            Outcome::Error => {
                reasons.push(format!("grader error: {}", meta.message.clone().unwrap_or_default()))
            }
        }
        for exercise in report.iter().flat_map(|r| &r.exercises) {
            let problem = match exercise.stage {
                Stage::BuildFailed => "does not build",
                Stage::DidNotStart => "did not start",
                Stage::TimedOut => "timed out",
                Stage::Invalid | Stage::Graded => continue,
            };
            reasons.push(format!("{} {problem}", exercise.id));
        }
        if !reasons.is_empty() {
            any = true;
            let _ = write!(
                out,
                "<li class=bad><a href=\"students/{0}/feedback.md\">{0}</a>: {1}</li>",
                escape(&meta.student),
                escape(&reasons.join("; "))
            );
        }
    }
    if !any {
        out.push_str("<li>None: every submission built, started and finished in time.</li>");
    }
    out.push_str("</ul>");
}

fn roster(out: &mut String, students: &[(Meta, Option<Report>)]) {
    out.push_str("<h2>Students</h2><table><tr><th>student</th><th class=num>score</th><th>outcome</th><th>feedback</th></tr>");
    for (meta, report) in students {
        let score = report
            .as_ref()
            .map(|r| format!("{}/{}", r.score, r.max_score))
            .unwrap_or_else(|| "—".to_owned());
        let outcome = serde_json::to_value(meta.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{0}</td><td class=num>{score}</td><td>{outcome}</td><td><a href=\"students/{0}/feedback.md\">feedback.md</a></td></tr>",
            escape(&meta.student)
        );
    }
    out.push_str("</table>");
}

fn percent(report: &Report) -> f64 {
    report.score as f64 * 100.0 / report.max_score.max(1) as f64
}

/// Escapes text for HTML: student output and names end up on this page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_text_is_escaped() {
        assert_eq!(escape("<script>\"x\" & y"), "&lt;script&gt;&quot;x&quot; &amp; y");
    }
}
