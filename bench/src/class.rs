//! A generated class for `grader batch`: copies of the reference solutions and of the
//! starters, of one exercise or of all of them, each with a note of its own so that every
//! submission is a fresh build.

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

/// Which submissions a class holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Odd students hand in the solution, even ones the starter.
    Alternating,
    /// Every student hands in the solution.
    SolutionsOnly,
}

impl Mix {
    fn origin(self, number: usize) -> Origin {
        match self {
            Mix::Alternating if number.is_multiple_of(2) => Origin::Starter,
            _ => Origin::Solution,
        }
    }
}

/// Writes `size` submissions into `class`, each as `student-NN/exercises/<exercise>/` for
/// every one of `exercises` (folder names such as `02-view-cache`). `label` goes into each
/// note, so that two classes generated alike still differ.
pub fn generate(
    workbook: &Path,
    exercises: &[String],
    mix: Mix,
    size: usize,
    class: &Path,
    label: &str,
) -> Result<Vec<Student>> {
    (1..=size)
        .map(|number| {
            let name = format!("student-{number:02}");
            let origin = mix.origin(number);
            let folder = match origin {
                Origin::Solution => "solutions",
                Origin::Starter => "exercises",
            };
            for exercise in exercises {
                let source = workbook.join(folder).join(exercise);
                let submission = class.join(&name).join("exercises").join(exercise);
                copy_with_note(&source, &submission, &format!("{name}'s submission ({label})"))?;
            }
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

    /// A workbook with two exercises whose solutions and starters differ.
    fn workbook() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for exercise in ["01-redis-setup", "02-view-cache"] {
            for (folder, body) in
                [("solutions", "fn main() { solved() }"), ("exercises", "fn main() {}")]
            {
                let exercise = root.path().join(folder).join(exercise);
                std::fs::create_dir_all(exercise.join("src")).unwrap();
                std::fs::create_dir_all(exercise.join("target/debug")).unwrap();
                std::fs::write(exercise.join("Cargo.toml"), "[package]").unwrap();
                std::fs::write(exercise.join("src/main.rs"), format!("{body}\n")).unwrap();
            }
        }
        root
    }

    fn main_rs(class: &Path, student: &str, exercise: &str) -> String {
        let path = class.join(student).join("exercises").join(exercise).join("src/main.rs");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn alternates_solutions_and_starters_each_with_its_own_note() {
        let root = workbook();
        let class = root.path().join("class");
        let exercises = ["02-view-cache".to_owned()];

        let students =
            generate(root.path(), &exercises, Mix::Alternating, 4, &class, "j2").unwrap();

        let origins: Vec<Origin> = students.iter().map(|s| s.origin).collect();
        assert_eq!(origins, [Origin::Solution, Origin::Starter, Origin::Solution, Origin::Starter]);
        assert_eq!(
            main_rs(&class, "student-01", "02-view-cache"),
            "fn main() { solved() }\n// student-01's submission (j2)\n"
        );
        assert_eq!(
            main_rs(&class, "student-04", "02-view-cache"),
            "fn main() {}\n// student-04's submission (j2)\n"
        );
        assert!(class.join("student-02/exercises/02-view-cache/Cargo.toml").is_file());
        assert!(!class.join("student-02/exercises/02-view-cache/target").exists());
        assert!(!class.join("student-01/exercises/01-redis-setup").exists());
    }

    #[test]
    fn a_full_class_hands_in_every_exercise_solved() {
        let root = workbook();
        let class = root.path().join("class");
        let exercises = ["01-redis-setup".to_owned(), "02-view-cache".to_owned()];

        let students =
            generate(root.path(), &exercises, Mix::SolutionsOnly, 2, &class, "full").unwrap();

        assert!(students.iter().all(|student| student.origin == Origin::Solution));
        for student in ["student-01", "student-02"] {
            for exercise in &exercises {
                assert!(main_rs(&class, student, exercise).starts_with("fn main() { solved() }"));
            }
        }
    }
}
