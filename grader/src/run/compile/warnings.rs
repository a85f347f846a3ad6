//! Warnings for a submission whose workbook-owned files (`Cargo.toml`, `src/main.rs`) differ
//! from the workbook's: the grader ignores them, and says so.

use std::path::Path;

use super::WORKBOOK_MAIN;
use crate::course::{self, Exercise};

/// Warnings for a submission whose workbook-owned files (`Cargo.toml`, `src/main.rs`) differ
/// from the workbook's: the grader ignores them.
pub fn workbook_file_warnings(submission: &Path, exercise: &Exercise) -> Vec<String> {
    [manifest_warning(submission, exercise), main_warning(submission, exercise)]
        .into_iter()
        .flatten()
        .collect()
}

/// A warning for a submission whose `src/main.rs` is not the workbook's (but for the name of
/// the library it serves: a solution's is `solution_NN_slug`).
fn main_warning(submission: &Path, exercise: &Exercise) -> Option<String> {
    let read = |dir: &Path| std::fs::read_to_string(dir.join(WORKBOOK_MAIN)).ok();
    let theirs = read(&submission.join(exercise.dir_name()))?;
    let ours = read(&course::root().join("exercises").join(exercise.dir_name()))?;
    let library = exercise.package().replace('-', "_");
    let theirs = theirs.replace(&library.replacen("exercise_", "solution_", 1), &library);
    (theirs != ours).then(|| {
        format!(
            "your {}/{WORKBOOK_MAIN} differs from the workbook's. The grader ignores it and \
             builds the workbook's, which serves the `app` of your lib.rs: put your code in \
             lib.rs and its modules.",
            exercise.dir_name()
        )
    })
}

/// A warning for a submission whose `Cargo.toml` differs from the workbook's in anything but
/// the package name: the grader ignores it, so what it adds is not there.
fn manifest_warning(submission: &Path, exercise: &Exercise) -> Option<String> {
    let theirs = std::fs::read_to_string(submission.join(exercise.dir_name()).join("Cargo.toml"));
    let pristine = course::root().join("exercises").join(exercise.dir_name()).join("Cargo.toml");
    let ours = std::fs::read_to_string(pristine).ok()?;
    let differs = match theirs {
        Ok(theirs) => manifest_without_name(&theirs) != manifest_without_name(&ours),
        Err(_) => return None,
    };
    differs.then(|| {
        format!(
            "your {}/Cargo.toml differs from the workbook's. The grader ignores it and builds \
             with the workbook's Cargo.toml and Cargo.lock, so crates or settings you added are \
             not there: use only {}.",
            exercise.dir_name(),
            dependency_list(&ours)
        )
    })
}

/// The manifest's content, normalised, without `package.name` (solutions differ in it).
pub(crate) fn manifest_without_name(text: &str) -> Option<String> {
    let mut manifest: toml_edit::DocumentMut = text.parse().ok()?;
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_like_mut()) {
        package.remove("name");
    }
    Some(normalise_toml(&manifest))
}

/// Comments and formatting do not count: keys and values only, in order.
fn normalise_toml(manifest: &toml_edit::DocumentMut) -> String {
    let mut out = String::new();
    for (key, item) in manifest.iter() {
        out.push_str(&format!("[{key}]\n"));
        if let Some(table) = item.as_table_like() {
            let mut entries: Vec<String> = table
                .iter()
                .map(|(key, value)| format!("{key}={}", value.to_string().trim()))
                .collect();
            entries.sort();
            out.push_str(&entries.join("\n"));
        }
        out.push('\n');
    }
    out
}

/// "the crates workbook, anyhow, …", from a manifest's `[dependencies]`.
pub(super) fn dependency_list(manifest: &str) -> String {
    let names: Vec<String> = manifest
        .parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|doc| {
            doc.get("dependencies")
                .and_then(|deps| deps.as_table_like())
                .map(|deps| deps.iter().map(|(name, _)| name.to_owned()).collect())
        })
        .unwrap_or_default();
    format!("the crates in the workbook's Cargo.toml ({})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_differing_only_in_its_name_earns_no_warning() {
        let submission = tempfile::tempdir().unwrap();
        let exercise = crate::course::EXERCISES[0];
        let folder = submission.path().join(exercise.dir_name());
        std::fs::create_dir_all(&folder).unwrap();
        let solution = course::root().join("solutions/01-redis-setup/Cargo.toml");
        std::fs::copy(&solution, folder.join("Cargo.toml")).unwrap();
        assert_eq!(manifest_warning(submission.path(), &exercise), None);

        let added = std::fs::read_to_string(&solution).unwrap() + "rand = \"0.9\"\n";
        std::fs::write(folder.join("Cargo.toml"), added).unwrap();
        let warning = manifest_warning(submission.path(), &exercise).unwrap();
        assert!(warning.contains("ignores it") && warning.contains("redis"), "{warning}");
    }
}
