//! Comparing a class: each submission's fingerprints, per exercise, with the starter's k-grams
//! taken out; then an index from fingerprint to the submissions holding it, so the work grows
//! with what submissions share, not with the number of pairs.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::code::{Code, exercise_of};
use super::tokens;
use super::winnowing::{self, K, WINDOW};

/// Where a fingerprint's k-gram lies in a submission: a file and its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The file's index in [`Fingerprints::files`].
    pub file: usize,
    pub first_line: u32,
    pub last_line: u32,
}

/// One submission's fingerprints, per exercise, each with where it was found.
#[derive(Debug, Default)]
pub struct Fingerprints {
    /// The paths of the submission's files, as [`Place::file`] counts them.
    pub files: Vec<String>,
    pub exercises: BTreeMap<String, HashMap<u64, Vec<Place>>>,
}

/// Every k-gram hash of `code` (not only the winnowed ones): what a submission is compared
/// against when the other side is the starter or the reference, so that no shared run escapes
/// by being winnowed differently there.
pub fn all_kgrams(code: &Code) -> HashSet<u64> {
    code.files
        .iter()
        .flat_map(|(path, text)| {
            let ids: Vec<u64> = tokens::of_file(path, text).iter().map(|t| t.id).collect();
            winnowing::kgram_hashes(&ids, K)
        })
        .collect()
}

/// The winnowed fingerprints of `code`, less those of the starter's k-grams (what every
/// student was given is never evidence).
pub fn fingerprint(code: &Code, starter: &HashSet<u64>) -> Fingerprints {
    let mut fingerprints = Fingerprints::default();
    for (file, (path, text)) in code.files.iter().enumerate() {
        fingerprints.files.push(path.clone());
        let found = fingerprints.exercises.entry(exercise_of(path).to_owned()).or_default();
        let tokens = tokens::of_file(path, text);
        let ids: Vec<u64> = tokens.iter().map(|token| token.id).collect();
        let hashes = winnowing::kgram_hashes(&ids, K);
        for kept in winnowing::winnow(&hashes, WINDOW) {
            if starter.contains(&kept.hash) {
                continue;
            }
            let place = Place {
                file,
                first_line: tokens[kept.start].line,
                last_line: tokens[kept.start + K - 1].line,
            };
            found.entry(kept.hash).or_default().push(place);
        }
    }
    fingerprints
}

/// What two submissions share in one exercise: fingerprints of evidence in both, and each
/// one's fingerprints (beyond the starter) in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub shared: usize,
    pub of_a: usize,
    pub of_b: usize,
}

/// A fingerprint is evidence in a pair unless it came from the reference solution (the
/// reference flag says that) or the class has it widely (more than `common_limit`
/// submissions: an idiom the whole class writes, as MOSS's `-m` option leaves out).
pub struct Evidence<'a> {
    pub reference: &'a HashSet<u64>,
    pub common_limit: usize,
}

/// What a class shares, pair by pair.
#[derive(Debug, Default)]
pub struct Pairs {
    /// For every pair of submissions (indices into the class, the smaller first) and exercise
    /// in which they share a fingerprint of evidence: what they share.
    pub shared: BTreeMap<(usize, usize), BTreeMap<String, Shared>>,
    /// The fingerprints left out as the class's common idiom.
    pub common: HashSet<u64>,
}

impl Evidence<'_> {
    fn counts(&self, hash: u64, pairs: &Pairs) -> bool {
        !self.reference.contains(&hash) && !pairs.common.contains(&hash)
    }
}

/// Finds what every pair of `class` shares, through an index from fingerprint to holders.
pub fn pairs(class: &[Fingerprints], evidence: &Evidence) -> Pairs {
    let mut found = Pairs::default();
    let exercises: HashSet<&String> = class.iter().flat_map(|f| f.exercises.keys()).collect();
    for exercise in exercises {
        let mut holders: HashMap<u64, Vec<usize>> = HashMap::new();
        for (student, fingerprints) in class.iter().enumerate() {
            for hash in fingerprints.exercises.get(exercise).into_iter().flat_map(|f| f.keys()) {
                if !evidence.reference.contains(hash) {
                    holders.entry(*hash).or_default().push(student);
                }
            }
        }
        let mut shared: HashMap<(usize, usize), usize> = HashMap::new();
        for (hash, students) in &holders {
            if students.len() > evidence.common_limit {
                found.common.insert(*hash);
                continue;
            }
            for (position, &a) in students.iter().enumerate() {
                for &b in &students[position + 1..] {
                    *shared.entry((a, b)).or_default() += 1;
                }
            }
        }
        // Each one's share is of all its fingerprints, evidence or not: a submission that is
        // mostly the reference is not a copy of another for the few runs left beside it.
        let own = |student: usize| class[student].exercises.get(exercise).map_or(0, HashMap::len);
        for ((a, b), count) in shared {
            let figures = Shared { shared: count, of_a: own(a), of_b: own(b) };
            found.shared.entry((a, b)).or_default().insert(exercise.clone(), figures);
        }
    }
    found
}

/// How much of each exercise of a submission is in the reference solution: (fingerprints in
/// the reference, fingerprints) by exercise.
pub fn in_reference(
    fingerprints: &Fingerprints,
    reference: &HashSet<u64>,
) -> BTreeMap<String, (usize, usize)> {
    fingerprints
        .exercises
        .iter()
        .map(|(exercise, hashes)| {
            let found = hashes.keys().filter(|hash| reference.contains(hash)).count();
            (exercise.clone(), (found, hashes.len()))
        })
        .collect()
}

/// The places of the fingerprints two submissions share in `exercise`, for marking them side
/// by side: pairs of (a's places, b's places), one per shared fingerprint, in a's order.
pub fn shared_places(
    a: &Fingerprints,
    b: &Fingerprints,
    exercise: &str,
    evidence: &Evidence,
    pairs: &Pairs,
) -> Vec<(Vec<Place>, Vec<Place>)> {
    let (Some(ours), Some(theirs)) = (a.exercises.get(exercise), b.exercises.get(exercise)) else {
        return Vec::new();
    };
    let mut shared: Vec<(Vec<Place>, Vec<Place>)> = ours
        .iter()
        .filter(|(hash, _)| evidence.counts(**hash, pairs))
        .filter_map(|(hash, places)| Some((places.clone(), theirs.get(hash)?.clone())))
        .collect();
    shared.sort_by_key(|(places, _)| places.first().map(|p| (p.file, p.first_line)));
    shared
}
