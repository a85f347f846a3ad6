//! A generated class for `grader batch`: copies of the reference solution and of the starter
//! of one exercise, each with a note of its own so that every submission is a fresh build.

use std::path::Path;

use anyhow::{Context, Result};

/// Where a generated submission came from, and so the score it must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The reference solution: full marks.
    Solution,
    /// The untouched starter: 0.
    Starter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    pub origin: Origin,
}

/// Writes `size` submissions of `exercise` (a folder name such as `02-view-cache`) into
/// `class`, as `student-NN/exercises/<exercise>/`: odd students hand in the solution, even
/// ones the starter.
pub fn generate(
    workbook: &Path,
    exercise: &str,
    size: usize,
    class: &Path,
) -> Result<Vec<Student>> {
    (1..=size)
        .map(|number| {
            let name = format!("student-{number:02}");
            let origin = if number % 2 == 1 { Origin::Solution } else { Origin::Starter };
            let source = match origin {
                Origin::Solution => workbook.join("solutions").join(exercise),
                Origin::Starter => workbook.join("exercises").join(exercise),
            };
            let submission = class.join(&name).join("exercises").join(exercise);
            copy_with_note(&source, &submission, &format!("{name}'s submission"))?;
            Ok(Student { name, origin })
        })
        .collect()
}

/// Copies an exercise folder (its manifest, `src/` and `templates/`) and appends `// NOTE` to
/// its `src/main.rs`, which makes cargo build it again as it would a student's edit.
pub fn copy_with_note(exercise: &Path, into: &Path, note: &str) -> Result<()> {
    copy_dir(exercise, into, &["Cargo.toml", "src", "templates"])?;
    let main = into.join("src/main.rs");
    let mut source = std::fs::read_to_string(&main)
        .with_context(|| format!("{} has no src/main.rs", exercise.display()))?;
    source.push_str(&format!("// {note}\n"));
    std::fs::write(&main, source)?;
    Ok(())
}

/// Copies the entries of `from` named in `only` (all entries when empty), recursively.
fn copy_dir(from: &Path, to: &Path, only: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if !only.is_empty() && !only.iter().any(|wanted| name == *wanted) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(&name), &[])?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workbook with one exercise whose solution and starter differ.
    fn workbook() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (folder, body) in
            [("solutions", "fn main() { solved() }"), ("exercises", "fn main() {}")]
        {
            let exercise = root.path().join(folder).join("02-view-cache");
            std::fs::create_dir_all(exercise.join("src")).unwrap();
            std::fs::create_dir_all(exercise.join("target/debug")).unwrap();
            std::fs::write(exercise.join("Cargo.toml"), "[package]").unwrap();
            std::fs::write(exercise.join("src/main.rs"), format!("{body}\n")).unwrap();
        }
        root
    }

    #[test]
    fn alternates_solutions_and_starters_each_with_its_own_note() {
        let root = workbook();
        let class = root.path().join("class");

        let students = generate(root.path(), "02-view-cache", 4, &class).unwrap();

        let origins: Vec<Origin> = students.iter().map(|s| s.origin).collect();
        assert_eq!(origins, [Origin::Solution, Origin::Starter, Origin::Solution, Origin::Starter]);
        let main = |name: &str| {
            std::fs::read_to_string(class.join(name).join("exercises/02-view-cache/src/main.rs"))
                .unwrap()
        };
        assert_eq!(main("student-01"), "fn main() { solved() }\n// student-01's submission\n");
        assert_eq!(main("student-04"), "fn main() {}\n// student-04's submission\n");
        assert!(class.join("student-02/exercises/02-view-cache/Cargo.toml").is_file());
        assert!(!class.join("student-02/exercises/02-view-cache/target").exists());
    }
}
