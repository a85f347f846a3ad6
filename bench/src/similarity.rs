//! The class similarity check's cost: a generated class of full submissions, each the
//! reference solutions with names renamed and top-level items shuffled at random (what a
//! copier would do), compared as `grader batch` compares a class at its end: from the code it
//! kept in `students/<id>/code.json`, to `similarity.json`, the CSV and the pair pages.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use grader::batch::similarity::{self, Code};

#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityCost {
    pub submissions: usize,
    pub seconds: f64,
    /// Kept code per submission, on average.
    pub bytes_per_submission: usize,
    pub pairs_worth_a_look: usize,
    pub mostly_reference: usize,
}

/// Generates `size` disguised copies of the solutions in `work` and times their comparison.
pub fn measure(workbook: &Path, work: &Path, size: usize) -> Result<SimilarityCost> {
    let out = work.join("similarity-class");
    let solutions = Code::read(&workbook.join("solutions"), &grader::course::exercises());
    let mut random = Random(0x5eed);
    let mut bytes = 0;
    for number in 1..=size {
        let student = format!("student-{number:03}");
        let mut code = Code::default();
        for (path, text) in &solutions.files {
            let disguised = disguise(text, &mut random);
            bytes += disguised.len();
            code.files.insert(path.clone(), disguised);
        }
        let dir = out.join("students").join(&student);
        std::fs::create_dir_all(&dir)?;
        let meta = serde_json::json!({
            "student": student, "source": student, "fingerprint": "", "outcome": "graded",
            "seconds": 0.0,
        });
        std::fs::write(dir.join("meta.json"), meta.to_string())?;
        similarity::keep_code(&out, &student, Some(&code))?;
    }
    let started = Instant::now();
    let findings = similarity::write_class_files(&out)?;
    Ok(SimilarityCost {
        submissions: findings.compared,
        seconds: started.elapsed().as_secs_f64(),
        bytes_per_submission: bytes / size.max(1),
        pairs_worth_a_look: findings.pairs.iter().filter(|pair| pair.worth_a_look()).count(),
        mostly_reference: findings.reference.len(),
    })
}

/// `text` with a random half of the names its `let`s bind renamed and its top-level items
/// (blocks that start a line after a blank one) shuffled, the first (docs and `use`s) kept
/// first.
fn disguise(text: &str, random: &mut Random) -> String {
    let mut renamed = text.to_owned();
    let bound: Vec<String> = text
        .split("let ")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .trim_start_matches("mut ")
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (name.len() > 2).then_some(name)
        })
        .collect();
    for name in bound {
        if random.below(2) == 0 {
            renamed = renamed.replace(&name, &format!("{name}_{}", random.below(100)));
        }
    }
    let mut items: Vec<&str> = renamed.split("\n\n").collect();
    let mut top_level: Vec<String> = vec![];
    for item in items.drain(..) {
        match top_level.last_mut() {
            // An indented block belongs to the item before it (a method, a match arm).
            Some(last) if item.starts_with(char::is_whitespace) || item.starts_with('}') => {
                last.push_str("\n\n");
                last.push_str(item);
            }
            _ => top_level.push(item.to_owned()),
        }
    }
    for index in (2..top_level.len()).rev() {
        let other = 1 + random.below(index as u64) as usize;
        top_level.swap(index, other);
    }
    top_level.join("\n\n")
}

/// SplitMix64: reproducible randomness without a crate for it.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disguise_keeps_the_first_item_first_and_every_line() {
        let text = "use a;\n\nfn one() {\n    let total = 1;\n}\n\nfn two() {}\n\nfn three() {}";
        let disguised = disguise(text, &mut Random(7));
        assert!(disguised.starts_with("use a;\n\n"), "{disguised}");
        for item in ["fn two() {}", "fn three() {}", "fn one() {"] {
            assert!(disguised.contains(item), "{disguised}");
        }
        assert_eq!(disguised.lines().count(), text.lines().count());
    }
}
