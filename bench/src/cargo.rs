//! Building workspace binaries with the cargo that runs the benchmark.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::processes;

/// Builds `packages` (`--release` when `release`) and returns each binary by name.
pub async fn build(
    workbook: &Path,
    packages: &[&str],
    release: bool,
) -> Result<Vec<(String, PathBuf)>> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workbook).args(["build", "--message-format=json-render-diagnostics"]);
    if release {
        command.arg("--release");
    }
    for package in packages {
        command.args(["--package", package]);
    }
    let messages = processes::run(command, Duration::from_secs(3600))
        .await
        .with_context(|| format!("cannot build {}", packages.join(", ")))?;
    Ok(executables(&messages))
}

/// The binaries named in cargo's JSON messages: `(name, path)`.
pub fn executables(messages: &str) -> Vec<(String, PathBuf)> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|artifact| {
            let name = artifact["target"]["name"].as_str()?.to_owned();
            let path = artifact["executable"].as_str()?;
            Some((name, PathBuf::from(path)))
        })
        .collect()
}

/// The binary called `name` among `built`.
pub fn binary(built: &[(String, PathBuf)], name: &str) -> Result<PathBuf> {
    built
        .iter()
        .find(|(built_name, _)| built_name == name)
        .map(|(_, path)| path.clone())
        .with_context(|| format!("cargo built no binary called {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executables_among_the_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"workbook"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"grader"},"executable":"/t/debug/grader"}
{"reason":"build-finished","success":true}"#;
        let built = executables(messages);
        assert_eq!(built, vec![("grader".to_owned(), PathBuf::from("/t/debug/grader"))]);
        assert!(binary(&built, "bench").is_err());
    }
}
