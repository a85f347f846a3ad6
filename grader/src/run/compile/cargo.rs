//! The `cargo build` command line of a staged exercise, and the toolchain it runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::grader_dir;
use crate::course;
use crate::run::bwrap::{self, Jail};
use crate::run::users::RunUser;

/// `cargo build` of the staged exercise: in bubblewrap where it runs (no network, a root of
/// the toolchain, the stage, the registry's sources and the build folder only), else as is.
/// Either way with a cleared environment and a scratch `HOME`, so that `option_env!` finds
/// nothing of the grader's to compile into the binary.
pub(super) fn cargo_build(
    toolchain: &Toolchain,
    stage: &Path,
    target: &Path,
    packages: &[String],
    user: Option<RunUser>,
    settings: &[(&str, &str)],
) -> Result<Command> {
    // A scratch `HOME`: nothing of the grader's user for the build to find.
    let home = grader_dir().join("home");
    let mut command = match bwrap::available() {
        Ok(bwrap) => {
            let root = course::root();
            let mut jail = Jail::new(bwrap::Network::None);
            // The target folder first: the stage may be inside it, and must stay read-only.
            jail.rw(target)
                .ro(&toolchain.sysroot)
                // The support crate, the workspace's manifest it inherits from, and the crate
                // that gives every member the same dependency features.
                .ro(root.join("support"))
                .ro(root.join("workspace-hack"))
                .ro(root.join("Cargo.toml"))
                .ro(stage)
                // A cargo home of its own, with the registry's sources read-only: no
                // credentials, no installed binaries, nothing to write.
                .scratch(&toolchain.cargo_home)
                .ro(toolchain.cargo_home.join("registry"))
                .scratch(&home);
            let cargo = toolchain.sysroot.join("bin/cargo");
            match user {
                Some(user) => jail.command_as(bwrap, user, cargo),
                None => jail.command(bwrap, cargo),
            }
        }
        Err(_) => {
            std::fs::create_dir_all(&home)?;
            Command::new(toolchain.sysroot.join("bin/cargo"))
        }
    };
    let path =
        std::env::join_paths([toolchain.sysroot.join("bin"), "/usr/bin".into(), "/bin".into()])?;
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("CARGO_HOME", &toolchain.cargo_home)
        .env("RUSTC", toolchain.sysroot.join("bin/rustc"))
        .envs(settings.iter().copied())
        .arg("build")
        .arg("--manifest-path")
        .arg(stage.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .args(packages.iter().flat_map(|package| ["--package", package.as_str()]))
        .args(["--color", "never"])
        // One JSON line per diagnostic, on stdout, with rustc's rendering inside.
        .args(["--message-format", "json"])
        // Offline, and with the stage's lock file as the grader left it.
        .arg("--frozen");
    Ok(command)
}

/// Where the Rust toolchain and the downloaded crates are.
pub(super) struct Toolchain {
    /// The toolchain's own folder (`rustc --print sysroot`), with `bin/cargo` and `bin/rustc`.
    pub sysroot: PathBuf,
    /// Cargo's home, whose `registry/` holds the downloaded crates.
    pub cargo_home: PathBuf,
}

impl Toolchain {
    pub async fn find() -> Result<Self> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let output = Command::new(rustc)
            .args(["--print", "sysroot"])
            .output()
            .await
            .context("cannot run rustc to find the toolchain")?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if !output.status.success() || !sysroot.join("bin/cargo").is_file() {
            bail!("the Rust toolchain has no cargo next to rustc in {}", sysroot.display());
        }
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
            .context("neither CARGO_HOME nor HOME is set: cannot find cargo's registry")?;
        Ok(Self { sysroot, cargo_home })
    }
}
