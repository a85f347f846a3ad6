//! Students' names in a Gradescope export: `submission_metadata.yml` beside the
//! `submission_<id>/` folders.

use std::collections::HashMap;
use std::path::Path;

/// The first submitter's name of each `submission_<id>` folder, when the export has its
/// metadata file. Only the few lines needed are read: the file is
/// `submission_<id>:` at the margin, then `- :name: Jane Doe` among its submitters.
pub fn names(class: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(class.join("submission_metadata.yml")) else {
        return HashMap::new();
    };
    let mut names = HashMap::new();
    let mut folder: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('-') {
            folder = line.strip_suffix(':').map(|key| unquote(key).to_owned());
            continue;
        }
        let field = line.trim_start().trim_start_matches("- ");
        if let (Some(folder), Some(name)) = (&folder, field.strip_prefix(":name:")) {
            names.entry(folder.clone()).or_insert_with(|| unquote(name.trim()).to_owned());
        }
    }
    names
}

fn unquote(text: &str) -> &str {
    text.trim_matches(|c| c == '\'' || c == '"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_submitter_names_the_folder() {
        let class = tempfile::tempdir().unwrap();
        std::fs::write(
            class.path().join("submission_metadata.yml"),
            "submission_111:\n  :submitters:\n  - :name: José García\n    :sid: '7'\n  \
             - :name: Partner\n  :created_at: 2026-01-01\nsubmission_222:\n  :submitters:\n  \
             - :name: 'Ann Lee'\n",
        )
        .unwrap();
        let names = names(class.path());
        assert_eq!(names["submission_111"], "José García");
        assert_eq!(names["submission_222"], "Ann Lee");
        assert_eq!(names.len(), 2);
    }
}
