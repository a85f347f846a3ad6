//! The course catalogue: every exercise of the workbook, once, in checklist order.
//!
//! Everything else that lists exercises derives from [`EXERCISES`]: the submission checklist,
//! the criteria registry's lookups, the book's generated pages, the folders the grader expects
//! and the reference builds. Tests check that the folders, the registry and the book agree with
//! it (`course::tests`, `criteria::tests`, `tests/book.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// One exercise of the course: `01-redis-setup` is number 1, slug `redis-setup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exercise {
    pub number: u32,
    pub slug: &'static str,
    /// The checklist item, as the checklist, the exercise page and the scorecard show it.
    pub title: &'static str,
    /// The title of the lesson that teaches it.
    pub lesson_title: &'static str,
}

// Each exercise by name, so that the criteria registry names its exercise by type, not by a
// string that could fail to match.
pub const REDIS_SETUP: Exercise = Exercise {
    number: 1,
    slug: "redis-setup",
    title: "Redis configured and running",
    lesson_title: "Redis configured and running",
};

pub const VIEW_CACHE: Exercise = Exercise {
    number: 2,
    slug: "view-cache",
    title: "View caching implemented",
    lesson_title: "Caching whole responses",
};

pub const LOW_LEVEL_CACHE: Exercise = Exercise {
    number: 3,
    slug: "low-level-cache",
    title: "Low-level caching for expensive queries",
    lesson_title: "The low-level cache API",
};

pub const INVALIDATION: Exercise = Exercise {
    number: 4,
    slug: "invalidation",
    title: "Cache invalidation on data changes",
    lesson_title: "Invalidating cached data",
};

pub const FRAGMENT_CACHE: Exercise = Exercise {
    number: 5,
    slug: "fragment-cache",
    title: "Template fragment caching",
    lesson_title: "Caching template fragments",
};

pub const QUERY_OPTIMISATION: Exercise = Exercise {
    number: 6,
    slug: "query-optimisation",
    title: "Query optimisation verified",
    lesson_title: "Database optimisation and profiling",
};

/// The exercises of the course, in checklist order.
pub const EXERCISES: [Exercise; 6] =
    [REDIS_SETUP, VIEW_CACHE, LOW_LEVEL_CACHE, INVALIDATION, FRAGMENT_CACHE, QUERY_OPTIMISATION];

impl Exercise {
    /// The folder name, e.g. `01-redis-setup`.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The package the grader builds (always the starter's manifest).
    pub fn package(&self) -> String {
        format!("exercise-{}", self.dir_name())
    }

    /// The exercise whose folder is called `name`, e.g. `01-redis-setup`.
    pub fn from_dir_name(name: &str) -> Option<Self> {
        EXERCISES.iter().find(|exercise| exercise.dir_name() == name).copied()
    }

    /// The lesson's source, from the workbook's root.
    pub fn lesson_source(&self) -> String {
        format!("book/src/chapters/{}.md", self.dir_name())
    }

    /// The exercise page's source, from the workbook's root.
    pub fn page_source(&self) -> String {
        format!("book/src/exercises/{}.md", self.dir_name())
    }

    /// The lesson as a page of the built book, from the book's root (`book/book/`).
    pub fn lesson_page(&self) -> String {
        format!("chapters/{}.html", self.dir_name())
    }

    /// The exercise as a page of the built book, from the book's root (`book/book/`).
    pub fn exercise_page(&self) -> String {
        format!("exercises/{}.html", self.dir_name())
    }
}

/// Where a student opens a page of the book: the built file when `mdbook build book` has made
/// it, else the address `mdbook serve book` serves it at.
pub fn book_page(page: &str) -> String {
    let built = Path::new("book/book").join(page);
    if root().join(&built).is_file() {
        built.display().to_string()
    } else {
        format!("http://localhost:3000/{page} (mdbook serve book)")
    }
}

/// The workbook's root folder, as the grader was compiled from it: the pristine copy of
/// everything but a submission's exercise sources (the support crate, the exercise manifests,
/// the workspace manifest and `Cargo.lock`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the grader lives one folder below the workbook root")
        .to_owned()
}

/// Every exercise of the course, in checklist order.
pub fn exercises() -> Vec<Exercise> {
    EXERCISES.to_vec()
}

/// The exercises named on the command line (`1`, `01`, `redis-setup` or `01-redis-setup`),
/// or all of them.
pub fn select(wanted: Option<&str>) -> Result<Vec<Exercise>> {
    let Some(wanted) = wanted else { return Ok(exercises()) };
    let chosen: Vec<Exercise> = EXERCISES
        .iter()
        .filter(|e| {
            wanted.parse::<u32>().ok() == Some(e.number)
                || wanted == e.slug
                || wanted == e.dir_name()
        })
        .copied()
        .collect();
    if chosen.is_empty() {
        let names: Vec<String> = EXERCISES.iter().map(Exercise::dir_name).collect();
        bail!("no exercise called {wanted:?}; the exercises are: {}", names.join(", "));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn folder_names_parse_to_catalogue_entries_only() {
        let exercise = Exercise::from_dir_name("01-redis-setup").unwrap();
        assert_eq!(exercise.number, 1);
        assert_eq!(exercise.package(), "exercise-01-redis-setup");
        assert_eq!(Exercise::from_dir_name("target"), None);
        assert_eq!(Exercise::from_dir_name("1-redis-setup"), None);
        assert_eq!(Exercise::from_dir_name("07-anything"), None);
    }

    #[test]
    fn exercises_are_picked_by_number_or_name() {
        for name in ["2", "02", "view-cache", "02-view-cache"] {
            assert_eq!(select(Some(name)).unwrap()[0].number, 2, "{name}");
        }
        let err = select(Some("9")).unwrap_err().to_string();
        assert!(err.contains("01-redis-setup"), "{err}");
    }

    #[test]
    fn the_catalogue_is_numbered_in_order() {
        for (index, exercise) in EXERCISES.iter().enumerate() {
            assert_eq!(exercise.number as usize, index + 1, "{}", exercise.slug);
        }
    }

    /// The folders of `dir` that hold a crate.
    fn crate_folders(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.path().join("Cargo.toml").is_file())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_exercise_has_a_starter_and_a_solution_and_nothing_else_does() {
        let catalogue: BTreeSet<String> = EXERCISES.iter().map(Exercise::dir_name).collect();
        assert_eq!(crate_folders("exercises"), catalogue, "exercises/ against the catalogue");
        assert_eq!(crate_folders("solutions"), catalogue, "solutions/ against the catalogue");
    }

    #[test]
    fn every_exercise_has_its_lesson_and_exercise_page() {
        for exercise in EXERCISES {
            for page in [exercise.lesson_source(), exercise.page_source()] {
                assert!(root().join(&page).is_file(), "the book has no {page}");
            }
        }
    }
}
