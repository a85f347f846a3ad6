//! `OUT/batch.json`: what every result in an output folder was graded with, the seed and the
//! workbook's commit. A resumed batch, a shard and a merge all read it, so a class is graded
//! alike and outputs of different runs are never mixed.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::fs::write_atomically;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub seed: u64,
    /// The workbook's git commit (with `-dirty` for local changes), when it is a checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workbook: Option<String>,
}

pub fn load(out: &Path) -> Option<RunInfo> {
    let bytes = std::fs::read(out.join("batch.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn save(out: &Path, info: &RunInfo) -> Result<()> {
    let file = out.join("batch.json");
    write_atomically(&file, &serde_json::to_vec_pretty(info)?)
        .with_context(|| format!("cannot write {}", file.display()))
}

/// The commit of the workbook this grader grades with: `git describe` of its checkout.
pub fn workbook_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(crate::course::root())
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}
