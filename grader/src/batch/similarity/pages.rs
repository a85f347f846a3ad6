//! What the instructor reads: the section of `report.html`, a side-by-side page per pair worth
//! a look, and `similarity.csv`. Submission text is hostile: every bit of it is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;

use super::compare::{self, Evidence, Place};
use super::{
    Comparison, Findings, MIN_SHARED, PAIR_PERCENT, PairFinding, REFERENCE_PERCENT, common_limit,
};
use crate::batch::html::escape;
use crate::report::sanitise::csv_cell;

/// The similarity section of `report.html`.
pub fn section(findings: Option<&Findings>) -> String {
    let mut out = String::from("<h2>Similarity: worth a look</h2>");
    let Some(findings) = findings else {
        out.push_str(
            "<p id=similarity class=muted>Not computed yet: the batch compares the class when \
             it finishes.</p>",
        );
        return out;
    };
    let worth: Vec<&PairFinding> = findings.pairs.iter().filter(|p| p.worth_a_look()).collect();
    let _ = write!(
        out,
        "<p id=similarity data-pairs={} data-reference={}>{} submissions compared on {}: \
         their exercise code with the starter taken out, names, literals, comments and layout \
         ignored. A pair is listed when, in one exercise, {MIN_SHARED} or more fingerprints \
         (runs of about 20 tokens) of one are in the other and make {PAIR_PERCENT:.0}% of the \
         smaller one's. Code of the reference solution and code most of the class shares are \
         not counted between two students. <b>No verdict</b>: shared code has innocent causes \
         too (allowed collaboration, the same worked example); open the pair and decide. \
         Every pair with shared code is in <a href=\"similarity.csv\">similarity.csv</a>.</p>",
        worth.len(),
        findings.reference.len(),
        findings.compared,
        escape(&findings.computed)
    );
    if !findings.without_code.is_empty() {
        let _ = write!(
            out,
            "<p class=muted>Not compared (graded before the grader kept code; <code>grader batch \
             --regrade</code> includes them): {}.</p>",
            escape(&findings.without_code.join(", "))
        );
    }
    out.push_str(
        "<table class=sortable id=pairs><thead><tr><th class=num>rank</th><th>student</th>\
         <th>student</th><th>exercises (shared fingerprints, % of the smaller)</th>\
         <th class=num>highest</th><th></th></tr></thead><tbody>",
    );
    for (rank, pair) in worth.iter().enumerate() {
        let exercises: Vec<String> = pair
            .exercises
            .iter()
            .filter(|e| e.worth_a_look())
            .map(|e| format!("{} ({}, {:.0}%)", escape(&e.exercise), e.shared, e.percent))
            .collect();
        let _ = write!(
            out,
            "<tr data-pair=\"{}--{}\"><td class=num>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=num data-sort=\"{:.1}\">{:.0}%</td><td><a href=\"{}\">side by side</a>\
             </td></tr>",
            escape(&pair.a),
            escape(&pair.b),
            rank + 1,
            escape(&pair.a),
            escape(&pair.b),
            exercises.join("; "),
            pair.percent(),
            pair.percent(),
            escape(&pair.page())
        );
    }
    if worth.is_empty() {
        out.push_str("<tr><td colspan=6>None above the thresholds.</td></tr>");
    }
    out.push_str("</tbody></table>");
    let _ = write!(
        out,
        "<h3>Mostly the reference solution</h3><p class=muted>Exercises in which \
         {REFERENCE_PERCENT:.0}% or more of a submission's fingerprints are in \
         <code>solutions/</code>. Worth a look too: a student may have been shown it.</p>\
         <table class=sortable id=reference><thead><tr><th>student</th>\
         <th>exercises (% of its fingerprints in the reference)</th></tr></thead><tbody>"
    );
    // Not `data-student`: the student grid above is found by that attribute.
    for finding in &findings.reference {
        let exercises: Vec<String> = finding
            .exercises
            .iter()
            .map(|e| format!("{} ({:.0}%)", escape(&e.exercise), e.percent))
            .collect();
        let _ = write!(
            out,
            "<tr data-mostly-reference=\"{}\"><td>{}</td><td>{}</td></tr>",
            escape(&finding.student),
            escape(&finding.student),
            exercises.join("; ")
        );
    }
    if findings.reference.is_empty() {
        out.push_str("<tr><td colspan=2>None.</td></tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// `similarity.csv`: a row per pair and exercise in which they share at least [`MIN_SHARED`]
/// fingerprints.
pub fn csv(findings: &Findings) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "student_a",
        "student_b",
        "exercise",
        "shared_fingerprints",
        "fingerprints_a",
        "fingerprints_b",
        "percent_of_smaller",
        "worth_a_look",
    ])?;
    for pair in &findings.pairs {
        for exercise in &pair.exercises {
            writer.write_record([
                csv_cell(&pair.a),
                csv_cell(&pair.b),
                csv_cell(&exercise.exercise),
                exercise.shared.to_string(),
                exercise.fingerprints_a.to_string(),
                exercise.fingerprints_b.to_string(),
                format!("{:.1}", exercise.percent),
                exercise.worth_a_look().to_string(),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// The side-by-side page of every pair worth a look.
pub fn pair_pages<'a>(comparison: &'a Comparison) -> Vec<(&'a PairFinding, String)> {
    let index: BTreeMap<&str, usize> =
        comparison.class.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    let evidence = Evidence {
        reference: &comparison.reference,
        common_limit: common_limit(comparison.class.len()),
    };
    comparison
        .findings
        .pairs
        .iter()
        .filter(|pair| pair.worth_a_look())
        .filter_map(|pair| {
            let (a, b) = (*index.get(pair.a.as_str())?, *index.get(pair.b.as_str())?);
            Some((pair, pair_page(comparison, pair, (a, b), &evidence)))
        })
        .collect()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1rem;color:#222}\
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.side{overflow-x:auto}\
pre{margin:0 0 1rem;font-size:.8rem;line-height:1.3}mark{background:#ffe08a;display:block}\
.n{color:#999;display:inline-block;width:3.5em;text-align:right;margin-right:.6em;user-select:none}\
.region{color:#8a1c1c;font-weight:bold}.muted{color:#888}";

fn pair_page(
    comparison: &Comparison,
    pair: &PairFinding,
    (a, b): (usize, usize),
    evidence: &Evidence,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{} and {}: worth a look</h1><p class=muted>Marked: code both hand in beyond the \
         starter, the reference solution and what most of the class writes (names, literals, \
         comments and layout ignored). A number links the regions that match; regions may \
         come in another order on each side. Not a verdict.</p>",
        escape(&pair.a),
        escape(&pair.b)
    );
    for exercise in pair.exercises.iter().filter(|e| e.worth_a_look()) {
        let shared = compare::shared_places(
            &comparison.fingerprints[a],
            &comparison.fingerprints[b],
            &exercise.exercise,
            evidence,
            &comparison.pairs,
        );
        let (marks_a, marks_b) = regions(&shared);
        let _ = write!(
            body,
            "<h2>{}: {} shared fingerprints, {:.0}% of the smaller</h2><div class=sides>\
             <div class=side><h3>{}</h3>{}</div><div class=side><h3>{}</h3>{}</div></div>",
            escape(&exercise.exercise),
            exercise.shared,
            exercise.percent,
            escape(&pair.a),
            side(comparison, a, &exercise.exercise, &marks_a),
            escape(&pair.b),
            side(comparison, b, &exercise.exercise, &marks_b),
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} and {}\
         </title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        escape(&pair.a),
        escape(&pair.b)
    )
}

/// Marked lines by file, with the number of the region each belongs to.
type Marks = BTreeMap<(usize, u32), usize>;

/// Numbers the matching regions in a's order (overlapping fingerprints make one region) and
/// marks the lines of both sides with them.
fn regions(shared: &[(Vec<Place>, Vec<Place>)]) -> (Marks, Marks) {
    let (mut marks_a, mut marks_b) = (Marks::new(), Marks::new());
    let mut region = 0;
    // Where the current region ends in a: the next fingerprint continues it when it starts
    // in the same file by the next line.
    let mut region_end: Option<(usize, u32)> = None;
    for (ours, theirs) in shared {
        let first = ours[0];
        match region_end {
            Some((file, end)) if file == first.file && first.first_line <= end + 1 => {
                region_end = Some((file, end.max(first.last_line)));
            }
            _ => {
                region += 1;
                region_end = Some((first.file, first.last_line));
            }
        }
        for (places, marks) in [(ours, &mut marks_a), (theirs, &mut marks_b)] {
            for place in places {
                for line in place.first_line..=place.last_line {
                    marks.entry((place.file, line)).or_insert(region);
                }
            }
        }
    }
    (marks_a, marks_b)
}

/// One side of the page: the student's files of the exercise, numbered, marked lines
/// highlighted, the region's number where a region starts.
fn side(comparison: &Comparison, student: usize, exercise: &str, marks: &Marks) -> String {
    let files = &comparison.fingerprints[student].files;
    let code = &comparison.class[student].1;
    let mut out = String::new();
    for (path, text) in code.of_exercise(exercise) {
        let Some(file) = files.iter().position(|known| known == path) else { continue };
        let _ = write!(out, "<h4>{}</h4><pre>", escape(path));
        let mut previous = None;
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let region = marks.get(&(file, number)).copied();
            let label = match region {
                Some(region) if previous != Some(region) => {
                    format!("<span class=region>[{region}]</span> ")
                }
                _ => String::new(),
            };
            let content =
                format!("<span class=n>{number}</span>{label}{}", escape(line.trim_end()));
            match region {
                Some(region) => {
                    let _ = write!(out, "<mark data-region={region}>{content}</mark>");
                }
                None => {
                    let _ = writeln!(out, "{content}");
                }
            }
            previous = region;
        }
        out.push_str("</pre>");
    }
    out
}
