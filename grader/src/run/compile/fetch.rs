//! Downloading the exercises' dependencies, once per grader run, before any build: the builds
//! themselves are offline.

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::slot::Slot;
use super::stage::{prepare, write_if_changed};
use crate::course;

/// Fetches every dependency of the stage once per grader run, on the machine's network, so
/// that the submissions' builds can be offline. Trusted: only pristine manifests take part.
/// A failure is not fatal (a laptop may be offline with everything already downloaded); the
/// build then says what is missing.
pub async fn fetch_dependencies() {
    static FETCHED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    FETCHED
        .get_or_init(|| async {
            if let Err(err) = fetch().await {
                eprintln!("warning: could not fetch the exercises' dependencies: {err:#}");
            }
        })
        .await;
}

async fn fetch() -> Result<()> {
    // The first slot's stage; the other slots take its `Cargo.lock` (`Slot::take_from_first`).
    let _one_build_at_a_time = crate::fs::lock_file(&Slot::FIRST.lock()?).await?;
    let stage = Slot::FIRST.stage();
    prepare(&stage, None)?;
    // The instructor's lock file; cargo trims it to the stage's members, keeping every version.
    write_if_changed(
        &stage.join("Cargo.lock"),
        &std::fs::read(course::root().join("Cargo.lock"))?,
    )?;
    let host = host_target().await?;
    let mut last = String::new();
    // Offline first: nothing to download is the usual case, and it needs no network.
    for network in [&["--offline"][..], &[]] {
        let output = cargo()
            .arg("fetch")
            .arg("--manifest-path")
            .arg(stage.join("Cargo.toml"))
            .args(["--target", &host])
            .args(network)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .context("cannot run cargo")?;
        if output.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&output.stderr).into_owned();
    }
    bail!("cargo fetch failed:\n{last}")
}

/// The machine's target triple, e.g. `x86_64-unknown-linux-gnu`: only its dependencies are
/// fetched.
async fn host_target() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().await.context("cannot run rustc")?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV names no host")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
