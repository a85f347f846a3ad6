//! Students' names in a Gradescope export: `submission_metadata.yml` beside the
//! `submission_<id>/` folders.

use std::collections::HashMap;
use std::path::Path;

/// The first submitter of a `submission_<id>` folder, as the export's metadata names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submitter {
    pub name: String,
    /// The student id of the school's information system (`:sid:`), when the roster has one.
    pub sis_id: Option<String>,
    pub email: Option<String>,
}

/// The first submitter of each `submission_<id>` folder, when the export has its metadata
/// file. Only the few lines needed are read: the file is `submission_<id>:` at the margin,
/// then, among its submitters, `- :name: Jane Doe` with `:sid:` and `:email:` below it.
pub fn submitters(class: &Path) -> HashMap<String, Submitter> {
    let Ok(text) = std::fs::read_to_string(class.join("submission_metadata.yml")) else {
        return HashMap::new();
    };
    let mut submitters: HashMap<String, Submitter> = HashMap::new();
    let mut folder: Option<String> = None;
    // Whether the lines being read belong to the folder's first submitter.
    let mut first = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('-') {
            folder = line.strip_suffix(':').map(|key| unquote(key).to_owned());
            first = false;
            continue;
        }
        let Some(folder) = &folder else { continue };
        let trimmed = line.trim_start();
        let starts_submitter = trimmed.starts_with("- ");
        let field = trimmed.trim_start_matches("- ");
        if starts_submitter {
            first = !submitters.contains_key(folder) && field.starts_with(":name:");
        }
        if !first {
            continue;
        }
        let value = |key: &str| field.strip_prefix(key).map(|v| unquote(v.trim()).to_owned());
        let submitter = submitters.entry(folder.clone()).or_default();
        if let Some(name) = value(":name:") {
            submitter.name = name;
        } else if let Some(sid) = value(":sid:").filter(|sid| !sid.is_empty()) {
            submitter.sis_id = Some(sid);
        } else if let Some(email) = value(":email:").filter(|email| !email.is_empty()) {
            submitter.email = Some(email);
        }
    }
    submitters
}

fn unquote(text: &str) -> &str {
    text.trim_matches(|c| c == '\'' || c == '"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_submitter_names_the_folder_with_their_ids() {
        let class = tempfile::tempdir().unwrap();
        std::fs::write(
            class.path().join("submission_metadata.yml"),
            "submission_111:\n  :submitters:\n  - :name: José García\n    :sid: '7'\n    \
             :email: jose@example.edu\n  - :name: Partner\n    :sid: '8'\n    \
             :email: partner@example.edu\n  :created_at: 2026-01-01\nsubmission_222:\n  \
             :submitters:\n  - :name: 'Ann Lee'\n    :sid: ''\n",
        )
        .unwrap();
        let submitters = submitters(class.path());
        let jose = &submitters["submission_111"];
        assert_eq!(jose.name, "José García");
        assert_eq!(jose.sis_id.as_deref(), Some("7"));
        assert_eq!(jose.email.as_deref(), Some("jose@example.edu"));
        let ann = &submitters["submission_222"];
        assert_eq!((ann.name.as_str(), &ann.sis_id, &ann.email), ("Ann Lee", &None, &None));
        assert_eq!(submitters.len(), 2);
    }
}
