//! Similarity across a class: which submissions share more code than the starter gave them,
//! for the instructor to look at side by side. Never a verdict: two students may share code
//! for reasons the grader cannot know (they worked together as allowed, they followed the same
//! worked example), and a careful copier can write around any fingerprint.
//!
//! What is compared: each exercise's `src/**/*.rs` and `templates/**` ([`code`]), as
//! normalised tokens ([`tokens`]: names, literals, comments and layout do not count), reduced
//! to fingerprints by winnowing ([`winnowing`]: Schleimer, Wilkerson and Aiken, SIGMOD 2003,
//! as in MOSS), less every k-gram of the starter. Each fingerprint is placed in an index of
//! the submissions that hold it ([`compare`]), so a class of hundreds costs seconds. Then:
//! - a *pair* is worth a look when, in one exercise, at least [`MIN_SHARED`] fingerprints of
//!   one submission are in the other and they make [`PAIR_PERCENT`] of the smaller one's
//!   (all of them, beyond the starter); fingerprints of the reference solution and those much
//!   of the class holds (more than [`common_limit`] submissions) are not evidence between two
//!   students;
//! - a *submission* is flagged as mostly the reference solution in an exercise where
//!   [`REFERENCE_PERCENT`] of its fingerprints (at least [`MIN_SHARED`]) are k-grams of
//!   `solutions/`.
//!
//! A batch keeps each student's code in `students/<id>/code.json` while their submission is
//! unpacked ([`keep_code`]); [`write_class_files`], at the end of a batch and of a merge,
//! compares everybody kept there and writes `similarity.json` (for `report.html`),
//! `similarity.csv` and a side-by-side page per pair worth a look, `similarity/<a>--<b>.html`.

pub mod code;
mod compare;
mod pages;
mod tokens;
mod winnowing;

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::meta::{self, Meta, Outcome};
use crate::course;
use crate::fs::write_atomically;
pub use code::Code;
use compare::{Evidence, Fingerprints, Pairs};
pub use pages::section;

/// The fewest shared fingerprints that are evidence: about 35 tokens of code, a few lines.
pub const MIN_SHARED: usize = 8;
/// The share of the smaller submission's fingerprints (in one exercise) that makes a pair
/// worth a look.
pub const PAIR_PERCENT: f64 = 50.0;
/// The share of a submission's fingerprints (in one exercise) found in the reference solution
/// that flags it as mostly the reference.
pub const REFERENCE_PERCENT: f64 = 70.0;

/// Submissions beyond which a fingerprint is the class's common idiom rather than evidence
/// between two students: ten, or a tenth of a large class.
pub fn common_limit(class_size: usize) -> usize {
    (class_size / 10).max(10)
}

/// The whole class compared: what `similarity.json` holds and `report.html` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// When it was computed (an HTTP date, UTC).
    pub computed: String,
    /// Submissions compared.
    pub compared: usize,
    /// Students whose code was not kept (graded before the grader kept it): not compared.
    pub without_code: Vec<String>,
    /// Pairs that share at least [`MIN_SHARED`] fingerprints in an exercise, most alike first.
    pub pairs: Vec<PairFinding>,
    /// Submissions that are mostly the reference solution in some exercise.
    pub reference: Vec<ReferenceFinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairFinding {
    pub a: String,
    pub b: String,
    /// The exercises in which they share at least [`MIN_SHARED`] fingerprints.
    pub exercises: Vec<ExerciseFigures>,
}

impl PairFinding {
    /// Whether some exercise reaches the thresholds.
    pub fn worth_a_look(&self) -> bool {
        self.exercises.iter().any(ExerciseFigures::worth_a_look)
    }

    /// The highest share over its exercises: the pair's rank.
    pub fn percent(&self) -> f64 {
        self.exercises.iter().map(|e| e.percent).fold(0.0, f64::max)
    }

    /// The side-by-side page, from the output folder.
    pub fn page(&self) -> String {
        format!("similarity/{}--{}.html", self.a, self.b)
    }
}

/// What a pair shares in one exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseFigures {
    pub exercise: String,
    /// Fingerprints in both.
    pub shared: usize,
    /// Each one's fingerprints in the exercise, beyond the starter.
    pub fingerprints_a: usize,
    pub fingerprints_b: usize,
    /// `shared` of the smaller of the two, in percent.
    pub percent: f64,
}

impl ExerciseFigures {
    pub fn worth_a_look(&self) -> bool {
        self.shared >= MIN_SHARED && self.percent >= PAIR_PERCENT
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceFinding {
    pub student: String,
    /// The exercises in which it is mostly the reference solution.
    pub exercises: Vec<ReferenceFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceFigures {
    pub exercise: String,
    pub in_reference: usize,
    pub fingerprints: usize,
    pub percent: f64,
}

/// A class compared, with what its pages need besides the figures.
pub struct Comparison<'a> {
    pub findings: Findings,
    class: &'a [(String, Code)],
    fingerprints: Vec<Fingerprints>,
    reference: HashSet<u64>,
    pairs: Pairs,
}

/// Compares `class` (student id and code), with `starter` (the workbook's `exercises/`)
/// taken out and `reference` (its `solutions/`) flagged.
pub fn compare<'a>(
    class: &'a [(String, Code)],
    starter: &Code,
    reference: &Code,
) -> Comparison<'a> {
    let starter = compare::all_kgrams(starter);
    let reference = compare::all_kgrams(reference);
    let fingerprints = fingerprint_in_parallel(class, &starter);
    let evidence = Evidence { reference: &reference, common_limit: common_limit(class.len()) };
    let pairs = compare::pairs(&fingerprints, &evidence);

    let mut findings = Findings { compared: class.len(), ..Findings::default() };
    for ((a, b), exercises) in &pairs.shared {
        let exercises: Vec<ExerciseFigures> = exercises
            .iter()
            .filter(|(_, shared)| shared.shared >= MIN_SHARED)
            .map(|(exercise, shared)| ExerciseFigures {
                exercise: exercise.clone(),
                shared: shared.shared,
                fingerprints_a: shared.of_a,
                fingerprints_b: shared.of_b,
                percent: percent(shared.shared, shared.of_a.min(shared.of_b)),
            })
            .collect();
        if !exercises.is_empty() {
            let (a, b) = (class[*a].0.clone(), class[*b].0.clone());
            findings.pairs.push(PairFinding { a, b, exercises });
        }
    }
    findings.pairs.sort_by(|x, y| y.percent().total_cmp(&x.percent()).then(x.a.cmp(&y.a)));
    for ((student, _), fingerprints) in class.iter().zip(&fingerprints) {
        let exercises: Vec<ReferenceFigures> = compare::in_reference(fingerprints, &reference)
            .into_iter()
            .map(|(exercise, (in_reference, fingerprints))| ReferenceFigures {
                exercise,
                in_reference,
                fingerprints,
                percent: percent(in_reference, fingerprints),
            })
            .filter(|f| f.fingerprints >= MIN_SHARED && f.percent >= REFERENCE_PERCENT)
            .collect();
        if !exercises.is_empty() {
            findings.reference.push(ReferenceFinding { student: student.clone(), exercises });
        }
    }
    Comparison { findings, class, fingerprints, reference, pairs }
}

/// `part` of `whole` in percent, to a tenth (all the figures can tell).
fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { (1000.0 * part as f64 / whole as f64).round() / 10.0 }
}

/// Fingerprints every submission, on every core: tokenising is most of the work.
fn fingerprint_in_parallel(class: &[(String, Code)], starter: &HashSet<u64>) -> Vec<Fingerprints> {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let chunk = class.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = class
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|(_, code)| compare::fingerprint(code, starter)).collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| -> Vec<Fingerprints> {
                worker.join().expect("fingerprinting does not panic")
            })
            .collect()
    })
}

/// Keeps what similarity needs of a submission while it is unpacked: the code of its
/// exercises folder, or nothing when it has none.
pub fn keep_code(out: &Path, student: &str, code: Option<&Code>) -> Result<()> {
    code::save(&meta::student_dir(out, student), code)
}

/// Compares every student in `out` whose code was kept and writes `similarity.json`,
/// `similarity.csv` and the pages of the pairs worth a look (`similarity/`).
pub fn write_class_files(out: &Path) -> Result<Findings> {
    let (class, without_code) = load_class(out);
    let every_exercise = course::exercises();
    let starter = Code::read(&course::root().join("exercises"), &every_exercise);
    let reference = Code::read(&course::root().join("solutions"), &every_exercise);
    let mut comparison = compare(&class, &starter, &reference);
    comparison.findings.without_code = without_code;
    comparison.findings.computed = httpdate::fmt_http_date(std::time::SystemTime::now());

    let folder = out.join("similarity");
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("cannot clear {} of earlier pages", folder.display()))?;
    }
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    for (pair, page) in pages::pair_pages(&comparison) {
        write_atomically(&out.join(pair.page()), page.as_bytes())?;
    }
    write_atomically(&out.join("similarity.csv"), &pages::csv(&comparison.findings)?)?;
    let json = serde_json::to_vec_pretty(&comparison.findings)?;
    write_atomically(&out.join("similarity.json"), &json)?;
    Ok(comparison.findings)
}

/// The findings last written to `out`, for `report.html`.
pub fn load(out: &Path) -> Option<Findings> {
    serde_json::from_slice(&std::fs::read(out.join("similarity.json")).ok()?).ok()
}

/// Every student in `out` with kept code, by id, and the ids of those graded without it
/// (submissions that could not be read have no code to compare and are not listed).
fn load_class(out: &Path) -> (Vec<(String, Code)>, Vec<String>) {
    let mut class = Vec::new();
    let mut without_code = Vec::new();
    let Ok(entries) = std::fs::read_dir(out.join("students")) else { return (class, without_code) };
    for entry in entries.filter_map(|entry| entry.ok()) {
        let meta: Option<Meta> = std::fs::read(entry.path().join("meta.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let Some(meta) = meta else { continue };
        match code::load(&entry.path()) {
            Some(code) => class.push((meta.student, code)),
            None if meta.outcome != Outcome::Invalid => without_code.push(meta.student),
            None => {}
        }
    }
    class.sort_by(|a, b| a.0.cmp(&b.0));
    without_code.sort();
    (class, without_code)
}

#[cfg(test)]
mod tests;
