//! The pristine workbook the grader was built from, and its list of exercises.
//!
//! Everything but a submission's exercise sources comes from here: the support crate, the
//! exercise manifests, the workspace manifest and `Cargo.lock`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The workbook's root folder, as the grader was compiled from it.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the grader lives one folder below the workbook root")
        .to_owned()
}

/// One checklist item: `01-redis-setup` is number 1, slug `redis-setup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    pub number: u32,
    pub slug: String,
}

impl Exercise {
    /// The folder name, e.g. `01-redis-setup`.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The package the grader builds (always the starter's manifest).
    pub fn package(&self) -> String {
        format!("exercise-{}", self.dir_name())
    }

    /// Parses a folder name such as `01-redis-setup`.
    pub fn from_dir_name(name: &str) -> Option<Self> {
        let (number, slug) = name.split_once('-')?;
        if number.len() != 2 || slug.is_empty() {
            return None;
        }
        Some(Self { number: number.parse().ok()?, slug: slug.to_owned() })
    }
}

/// The exercises of the workbook, in checklist order.
pub fn exercises() -> Result<Vec<Exercise>> {
    let dir = root().join("exercises");
    let mut found: Vec<Exercise> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .filter_map(|entry| Exercise::from_dir_name(&entry.file_name().to_string_lossy()))
        .collect();
    found.sort_by_key(|exercise| exercise.number);
    Ok(found)
}

/// The exercises named on the command line (`1`, `01`, `redis-setup` or `01-redis-setup`),
/// or all of them.
pub fn select(all: Vec<Exercise>, wanted: Option<&str>) -> Result<Vec<Exercise>> {
    let Some(wanted) = wanted else { return Ok(all) };
    let chosen: Vec<Exercise> = all
        .iter()
        .filter(|e| {
            wanted.parse::<u32>().ok() == Some(e.number)
                || wanted == e.slug
                || wanted == e.dir_name()
        })
        .cloned()
        .collect();
    if chosen.is_empty() {
        let names: Vec<String> = all.iter().map(Exercise::dir_name).collect();
        bail!("no exercise called {wanted:?}; the exercises are: {}", names.join(", "));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Exercise> {
        vec![
            Exercise { number: 1, slug: "redis-setup".into() },
            Exercise { number: 2, slug: "view-cache".into() },
        ]
    }

    #[test]
    fn folder_names_parse() {
        let exercise = Exercise::from_dir_name("01-redis-setup").unwrap();
        assert_eq!(exercise.number, 1);
        assert_eq!(exercise.package(), "exercise-01-redis-setup");
        assert_eq!(Exercise::from_dir_name("target"), None);
        assert_eq!(Exercise::from_dir_name("1-x"), None);
    }

    #[test]
    fn exercises_are_picked_by_number_or_name() {
        for name in ["2", "02", "view-cache", "02-view-cache"] {
            assert_eq!(select(all(), Some(name)).unwrap()[0].number, 2, "{name}");
        }
        let err = select(all(), Some("9")).unwrap_err().to_string();
        assert!(err.contains("01-redis-setup"), "{err}");
    }

    #[test]
    fn the_workbook_lists_exercise_one() {
        assert_eq!(exercises().unwrap()[0].dir_name(), "01-redis-setup");
    }
}
