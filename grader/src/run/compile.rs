//! Building a submission's exercise against the pristine workbook.
//!
//! The *stage* is a small Cargo workspace in the grader's own target folder: the pristine
//! workspace manifest and `Cargo.lock`, the pristine manifest of each exercise, and the
//! submission's `src/` (and `templates/`). Nothing else of the submission is used, so it cannot
//! add crates, build scripts or change the support crate; a submission whose `Cargo.toml` asks
//! for more is warned that it is ignored.
//!
//! The build is `--frozen`: offline and locked to the instructor's `Cargo.lock`. The grader
//! fetches the dependencies itself beforehand ([`fetch_dependencies`]), on the machine's network.
//! After the build, cargo's dep-info lists every file the compiler read; one outside the
//! exercise (`include_str!("/home/…/another-student/…")`) refuses the build.
//!
//! There is one stage, shared by every grader process, and one target folder, so dependencies
//! are compiled once and a re-grade rebuilds one crate. Syncing a submission into the stage,
//! building it and copying its binary out happen under one lock: cargo tells crates apart by
//! their path inside the workspace, so two stages could not safely share a target folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::course::{self, Exercise};
use crate::fs::LockWaits;
use crate::run::bwrap::{self, Jail};
use crate::run::diagnostics::{self, Warning};
use crate::run::sandbox::{Ended, Limits, Sandboxed};
use crate::run::users::{self, Reach, RunUser};
use crate::run::{debug_handler, error_notes};

/// The folders of an exercise that are the student's to write.
pub const STUDENT_DIRS: &[&str] = &["src", "templates"];

/// The binary's source, the workbook's own like `Cargo.toml`: it starts the service around the
/// student's library and serves the routes the grader measures with. Always the pristine copy.
pub const WORKBOOK_MAIN: &str = "src/main.rs";
/// Limits on what one exercise may contain.
const MAX_FILES: usize = 200;
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The grader's own build area: `target/grader`, so that it never waits on an editor's cargo.
pub fn grader_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| course::root().join("target"));
    target.join("grader")
}

/// The result of building one exercise.
pub enum Build {
    Built(Built),
    /// The compiler's complaint, or why the build was refused, ready to show the student.
    Failed(String),
    /// The submission's exercise breaks a staging rule (a linked folder, too many files):
    /// never built, and why, ready to show the student.
    Refused(String),
}

/// A successful build.
pub struct Built {
    /// The binary, copied into the run's own folder.
    pub binary: PathBuf,
    /// What staging left out, in words for the student.
    pub left_out: Vec<String>,
    /// The compiler's warnings about the student's crate.
    pub warnings: Vec<Warning>,
}

/// Where a build's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildFolder {
    /// The workspace's own `target/`, for grading one's own work: `cargo run -p grader` and the
    /// student's own `cargo build` compiled every dependency there already (the
    /// `workspace-hack` crate gives all members one set of features), so none is compiled twice.
    Workspace,
    /// A private folder of the grader's, `target/grader/build`, for grading other people's
    /// code (a class): it holds no binary but the submissions'.
    Private,
}

impl BuildFolder {
    /// The folder, and the parts of it a build writes: what a run user is lent for its build.
    fn paths(self, grader: &Path) -> Result<(PathBuf, Vec<(PathBuf, Reach)>)> {
        match self {
            BuildFolder::Workspace => {
                let target = grader.parent().context("the grader's folder has no parent")?;
                let profile = target.join("debug");
                std::fs::create_dir_all(&profile)?;
                // Cargo writes its notes at the top and its output in `debug/`; the rest of
                // `target/` (the grader's own folders) stays the grader's.
                Ok((
                    target.to_owned(),
                    vec![(target.to_owned(), Reach::Folder), (profile, Reach::Tree)],
                ))
            }
            BuildFolder::Private => {
                let own = grader.join("build");
                std::fs::create_dir_all(&own)?;
                keep_private(&own)?;
                Ok((own.clone(), vec![(own, Reach::Tree)]))
            }
        }
    }
}

/// Builds `exercise` from `submission` as `builder` (the run's user; the grader's when `None`)
/// and returns a copy of its binary in `run_dir`, a folder of the grader's own, or the
/// compiler's errors.
/// Waiting for the build lock is counted in `waits`, so that it is never charged to the
/// submission.
pub async fn build(
    submission: &Path,
    exercise: &Exercise,
    timeout: Duration,
    run_dir: &Path,
    builder: Option<RunUser>,
    folder: BuildFolder,
    waits: &LockWaits,
) -> Result<Build> {
    let grader = grader_dir();
    std::fs::create_dir_all(&grader)?;
    let _one_build_at_a_time = waits.lock_file(&grader.join("build.lock")).await?;
    let stage = grader.join("stage");
    let skipped = match prepare(&stage, Some((submission, exercise)))? {
        Staged::Ready(skipped) => skipped,
        Staged::Refused(reason) => return Ok(Build::Refused(reason)),
    };

    let (target, written) = folder.paths(&grader)?;
    if folder == BuildFolder::Private {
        forget_earlier_submissions(&target)?;
    }
    let toolchain = Toolchain::find().await?;
    // The run's own user compiles, never root: the stage and the target folder become its.
    let builder = builder.filter(|_| bwrap::can_change_user());
    for (path, reach) in std::iter::once((stage.clone(), Reach::Tree)).chain(written) {
        users::hand_over(&path, reach, builder)?;
    }
    let command = cargo_build(&toolchain, &stage, &target, &[exercise.package()], builder)?;
    let log = run_dir.join(format!("build-{}", exercise.dir_name()));
    let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
    match process.wait(timeout).await? {
        Ended::TimedOut => {
            Ok(Build::Failed(format!("the build did not finish within {} s", timeout.as_secs())))
        }
        Ended::Exited(status) if status.success() => {
            let dep_info = target.join("debug").join(format!("{}.d", exercise.package()));
            let allowed = allowed_reads(&stage, exercise, &target, &toolchain);
            if let Some(refusal) = reads_outside(&dep_info, &allowed)? {
                return Ok(Build::Failed(refusal));
            }
            let private = run_dir.join(exercise.package());
            std::fs::copy(target.join("debug").join(exercise.package()), &private)
                .context("cannot copy the built binary")?;
            let warnings = compiler_messages(&process, exercise).warnings;
            Ok(Build::Built(Built { binary: private, left_out: skipped, warnings }))
        }
        Ended::Exited(_) => {
            let output = crate::run::sandbox::tail(process.stderr_path(), 64 * 1024);
            // Not the student's fault: an error of the grader's, retried, never a zero.
            if output.contains("No space left on device") && crate::run::sandbox::disk_full(&target)
            {
                bail!(
                    "the disk holding {} is full: free some space and grade again",
                    target.display()
                );
            }
            let pristine = course::root().join("exercises").join(exercise.dir_name());
            // rustc's own rendering (snippet, notes, help) where there is one; cargo's words
            // (a manifest or lock file problem) otherwise.
            let mut diagnostics = compiler_messages(&process, exercise);
            if !diagnostics.handlers.is_empty() {
                let look = SecondLook { toolchain: &toolchain, stage: &stage, target: &target };
                let found = look.debug_handlers(exercise, &diagnostics.handlers, builder, run_dir);
                match found.await? {
                    // The cause, named: instead of the list of possible causes.
                    Found::Notes(notes) => diagnostics.notes = notes,
                    Found::Said(said) => diagnostics.notes.push(said),
                    Found::Nothing => {}
                }
            }
            let errors = if diagnostics.errors.is_empty() {
                compiler_errors(&output)
            } else {
                diagnostics.errors.join("\n\n")
            };
            let mut errors = explain_failure(&errors, &pristine);
            // First, where the scorecard cannot cut them off: these errors point elsewhere.
            for note in diagnostics.notes.iter().rev() {
                errors.insert_str(0, &format!("note from the grader: {note}\n\n"));
            }
            for note in &skipped {
                errors.push_str(&format!("\n\nnote from the grader: {note}"));
            }
            Ok(Build::Failed(errors))
        }
    }
}

/// What a second build of the stage needs: the failed build's toolchain and folders.
struct SecondLook<'a> {
    toolchain: &'a Toolchain,
    stage: &'a Path,
    target: &'a Path,
}

impl SecondLook<'_> {
    /// Builds the staged exercise again with `#[axum::debug_handler]` on `handlers`, which rustc
    /// refused without saying why (see [`debug_handler`]): the notes on what that build says.
    /// The next build's staging puts the student's files back.
    async fn debug_handlers(
        &self,
        exercise: &Exercise,
        handlers: &[String],
        builder: Option<RunUser>,
        run_dir: &Path,
    ) -> Result<Found> {
        let src = self.stage.join("exercises").join(exercise.dir_name()).join("src");
        if debug_handler::mark(&src, handlers)?.is_empty() {
            return Ok(Found::Nothing);
        }
        let packages = [exercise.package()];
        let command = cargo_build(self.toolchain, self.stage, self.target, &packages, builder)?;
        let log = run_dir.join(format!("build-{}-debug-handler", exercise.dir_name()));
        let mut process = Sandboxed::spawn(command, Limits::BUILD, &log)?;
        if !matches!(process.wait(SECOND_LOOK_TIMEOUT).await?, Ended::Exited(_)) {
            return Ok(Found::Nothing);
        }
        let found = compiler_messages(&process, exercise);
        // The routes' errors are still there, and say no more than the first time.
        let precise: Vec<String> =
            found.notes.into_iter().filter(|note| !error_notes::is_general(note)).collect();
        if !precise.is_empty() {
            return Ok(Found::Notes(precise));
        }
        // No note of ours for the cause: rustc's own words, now at the handler.
        let Some(error) = found.errors.into_iter().next() else { return Ok(Found::Nothing) };
        Ok(Found::Said(format!(
            "with `#[axum::debug_handler]` on `{}` (in the grader's copy, not in your file), \
             rustc says why:\n\n{error}",
            handlers.join("`, `")
        )))
    }
}

/// What a second look found.
enum Found {
    /// The cause, in the grader's notes.
    Notes(Vec<String>),
    /// rustc's words about the cause, which no note covers.
    Said(String),
    Nothing,
}

/// The most a second look may take: one crate's build, its dependencies already compiled.
const SECOND_LOOK_TIMEOUT: Duration = Duration::from_secs(120);

/// Removes what earlier builds compiled from submissions (each exercise's binary, library,
/// incremental cache and fingerprint) from a private build folder, before a build whose jail
/// shows that folder: a build must never find another student's code, even compiled. The
/// dependencies' outputs stay, so nothing but the exercise's own crate is compiled again.
fn forget_earlier_submissions(target: &Path) -> Result<()> {
    let debug = target.join("debug");
    for exercise in course::exercises() {
        let package = exercise.package();
        let krate = package.replace('-', "_");
        for (folder, prefixes) in [
            (debug.clone(), vec![package.clone(), format!("{package}.d")]),
            (debug.join("deps"), vec![format!("{krate}-"), format!("lib{krate}-")]),
            (debug.join(".fingerprint"), vec![format!("{package}-")]),
            (debug.join("incremental"), vec![format!("{krate}-")]),
        ] {
            remove_entries_named(&folder, &prefixes)?;
        }
    }
    Ok(())
}

/// Removes every entry of `folder` whose name is one of `names` or, for those ending in `-`,
/// starts with it. Links are removed themselves, never followed.
fn remove_entries_named(folder: &Path, names: &[String]) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let matches = names.iter().any(|wanted| {
            if wanted.ends_with('-') { name.starts_with(wanted.as_str()) } else { name == *wanted }
        });
        if !matches {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(())
}

/// Compiles every dependency of the exercises into `folder`, as the grader (only the
/// workbook's own crates and the registry's take part), before any submission is built there.
/// The first build of a folder takes minutes; done here, it holds no student's time limit and
/// no build lock a student waits on, and each submission's build then compiles its own crate
/// only, which is why a batch can give builds a short limit of their own. On a warm folder it
/// takes a second.
///
/// It builds the support crate and `workspace-hack`, whose features are the union of every
/// member's (see CONTRIBUTING, "Shared builds"): the same artifacts an exercise's build uses.
pub async fn warm_up(folder: BuildFolder, timeout: Duration, waits: &LockWaits) -> Result<()> {
    // The stage's `Cargo.lock` is written by the fetch: a fresh clone has none yet.
    fetch_dependencies().await;
    let grader = grader_dir();
    std::fs::create_dir_all(&grader)?;
    let _one_build_at_a_time = waits.lock_file(&grader.join("build.lock")).await?;
    let stage = grader.join("stage");
    prepare(&stage, None)?;
    let (target, written) = folder.paths(&grader)?;
    for (path, reach) in std::iter::once((stage.clone(), Reach::Tree)).chain(written) {
        users::hand_over(&path, reach, None)?;
    }
    let toolchain = Toolchain::find().await?;
    let packages = ["workbook".to_owned(), "workspace-hack".to_owned()];
    let command = cargo_build(&toolchain, &stage, &target, &packages, None)?;
    let log = tempfile::Builder::new().prefix("grader-warm-up-").tempdir()?;
    let mut process = Sandboxed::spawn(command, Limits::BUILD, &log.path().join("build"))?;
    match process.wait(timeout).await? {
        Ended::Exited(status) if status.success() => Ok(()),
        Ended::Exited(_) => bail!(
            "the workbook's own dependencies do not build:\n{}",
            compiler_errors(&crate::run::sandbox::tail(process.stderr_path(), 16 * 1024))
        ),
        Ended::TimedOut => bail!(
            "compiling the workbook's dependencies took longer than {} s (--build-timeout)",
            timeout.as_secs()
        ),
    }
}

/// `cargo build` of the staged exercise: in bubblewrap where it runs (no network, a root of
/// the toolchain, the stage, the registry's sources and the build folder only), else as is.
/// Either way with a cleared environment and a scratch `HOME`, so that `option_env!` finds
/// nothing of the grader's to compile into the binary.
fn cargo_build(
    toolchain: &Toolchain,
    stage: &Path,
    target: &Path,
    packages: &[String],
    user: Option<RunUser>,
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
struct Toolchain {
    /// The toolchain's own folder (`rustc --print sysroot`), with `bin/cargo` and `bin/rustc`.
    sysroot: PathBuf,
    /// Cargo's home, whose `registry/` holds the downloaded crates.
    cargo_home: PathBuf,
}

impl Toolchain {
    async fn find() -> Result<Self> {
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

/// Makes `dir` the grader's alone: no run user may list or read what other runs left there.
fn keep_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))
}

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
    let grader = grader_dir();
    std::fs::create_dir_all(&grader)?;
    let _one_build_at_a_time = crate::fs::lock_file(&grader.join("build.lock")).await?;
    let stage = grader.join("stage");
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

/// What staging made of a submission's exercise.
enum Staged {
    /// Ready to build; what was left out, in words for the student.
    Ready(Vec<String>),
    /// Not built at all, and why.
    Refused(String),
}

/// Makes the stage a workspace of every exercise, with `exercise` taken from `submission` and
/// every other member the pristine starter: only the exercise being built is compiled, and no
/// other submission's code is in the stage. Stage and build folders are the grader's alone.
fn prepare(stage: &Path, graded: Option<(&Path, &Exercise)>) -> Result<Staged> {
    let root = course::root();
    let all = course::exercises();
    std::fs::create_dir_all(stage)?;
    keep_private(stage)?;
    write_if_changed(&stage.join("Cargo.toml"), &stage_manifest(&root, &all)?)?;
    let mut skipped = Vec::new();
    for member in &all {
        let name = member.dir_name();
        let staged = stage.join("exercises").join(&name);
        let pristine = root.join("exercises").join(&name);
        std::fs::create_dir_all(&staged)?;
        write_if_changed(&staged.join("Cargo.toml"), &std::fs::read(pristine.join("Cargo.toml"))?)?;
        let source = match graded {
            Some((submission, exercise)) if exercise == member => {
                let folder = submission.join(&name);
                // A link would take another folder's code (another student's) as this one's.
                if !is_real_dir(&folder) {
                    return Ok(Staged::Refused(format!(
                        "refused: {name} in your submission is a symbolic link (or not a folder); \
                         submit the exercise's own folder, not a link to one"
                    )));
                }
                Some(folder)
            }
            // Every other member goes back to the starter: the build's jail shows the whole
            // stage, and no build may see another student's code (sync_dir writes only what
            // changed, so this costs nothing once the starters are there).
            _ => Some(pristine.clone()),
        };
        if let Some(source) = source {
            for dir in STUDENT_DIRS {
                match sync_dir(&source.join(dir), &staged.join(dir), Path::new(WORKBOOK_MAIN))? {
                    Synced::Done(left_out) => skipped
                        .extend(left_out.into_iter().map(|why| format!("{name}/{dir}/{why}"))),
                    Synced::TooMany => {
                        return Ok(Staged::Refused(format!(
                            "refused: {name}/{dir} holds more than {MAX_FILES} files; \
                             the grader takes at most {MAX_FILES} per folder"
                        )));
                    }
                }
            }
        }
        write_if_changed(
            &staged.join(WORKBOOK_MAIN),
            &std::fs::read(pristine.join(WORKBOOK_MAIN))?,
        )?;
    }
    Ok(Staged::Ready(skipped))
}

/// A folder that is one, not a symbolic link to one.
fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
}

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
fn dependency_list(manifest: &str) -> String {
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

/// Explains the failures a student cannot fix from the compiler's words alone.
fn explain_failure(errors: &str, pristine: &Path) -> String {
    let manifest = std::fs::read_to_string(pristine.join("Cargo.toml")).unwrap_or_default();
    let unlinked = ["unresolved import", "unlinked crate", "can't find crate"];
    if unlinked.iter().any(|phrase| errors.contains(phrase)) {
        return format!(
            "{errors}\n\nnote from the grader: if that name is a crate, it is not available. \
             The grader builds your exercise with the workbook's own Cargo.toml and Cargo.lock, \
             offline, so you can use only {}.",
            dependency_list(&manifest)
        );
    }
    if errors.contains("usage of an `unsafe` block") || errors.contains("`unsafe` ") {
        return format!(
            "{errors}\n\nnote from the grader: exercise code may not use `unsafe`. The workbook \
             forbids it (`unsafe_code = \"forbid\"` in its Cargo.toml) for every exercise, so that \
             no code can reach around the counters the grader reads."
        );
    }
    if errors.contains("is private") && errors.contains("workbook::") {
        return format!(
            "{errors}\n\nnote from the grader: the workbook's counters and its query brake are \
             its own, private to it: exercise code reaches the database through \
             `workbook::Db` and `workbook::db`, and the grader reads the counters from outside."
        );
    }
    if errors.contains("--offline") || errors.contains("offline mode") {
        return format!(
            "{errors}\n\nnote from the grader: a dependency of the workbook has not been \
             downloaded. Run `cargo fetch` once with a network connection, then grade again."
        );
    }
    errors.to_owned()
}

/// What the compiler may read while building `exercise`: its own staged folder, the pristine
/// support crate, the registry's sources, generated files and the toolchain. Not the whole
/// cargo home: it may hold credentials and whatever else a user keeps there.
fn allowed_reads(
    stage: &Path,
    exercise: &Exercise,
    target: &Path,
    toolchain: &Toolchain,
) -> Vec<PathBuf> {
    vec![
        stage.join("exercises").join(exercise.dir_name()),
        course::root().join("support"),
        course::root().join("workspace-hack"),
        // Files generated by the dependencies' build scripts; not the whole target folder,
        // which holds other submissions' binaries.
        target.join("debug").join("build"),
        toolchain.cargo_home.join("registry").join("src"),
        toolchain.sysroot.clone(),
        PathBuf::from("/usr/lib"),
        PathBuf::from("/usr/local/lib"),
    ]
}

/// A refusal when cargo's dep-info for the binary names a file outside `allowed`, or holds
/// anything that cannot be read with certainty: fail closed.
fn reads_outside(dep_info: &Path, allowed: &[PathBuf]) -> Result<Option<String>> {
    let text = std::fs::read_to_string(dep_info)
        .with_context(|| format!("cannot read the build's dep-info {}", dep_info.display()))?;
    let files = match dep_info_files(&text) {
        Ok(files) => files,
        Err(unreadable) => {
            return Ok(Some(format!(
                "refused: the grader cannot tell which files the build read ({unreadable}). \
                 Keep file and folder names to plain characters (no backslashes, newlines or \
                 other control characters)."
            )));
        }
    };
    let allowed: Vec<PathBuf> =
        allowed.iter().map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.clone())).collect();
    let mut outside: Vec<PathBuf> = files
        .into_iter()
        .filter(|file| {
            let file = file.canonicalize().unwrap_or_else(|_| file.clone());
            !allowed.iter().any(|dir| file.starts_with(dir))
        })
        .collect();
    outside.sort();
    outside.dedup();
    if outside.is_empty() {
        return Ok(None);
    }
    let files: Vec<String> =
        outside.iter().take(5).map(|file| format!("  {}", file.display())).collect();
    Ok(Some(format!(
        "refused: the build read files outside your exercise:\n{}\n\
         The grader builds only your exercise's src/ and templates/; include_str!, \
         include_bytes! and #[path] may name only files inside them.",
        files.join("\n")
    )))
}

/// The files a Makefile-style dep-info lists (`target: a.rs b\ c.rs`), or what could not be
/// read. Only what cargo and rustc write is accepted: blank lines, `#` comments, and
/// `target: files` lines of absolute paths where a backslash escapes only a space. Anything
/// else (a name with a newline or a backslash, which rustc does not escape) is an error, never
/// skipped: a line skipped could be the one naming a stolen file.
pub(crate) fn dep_info_files(text: &str) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (target, dependencies) = match line.split_once(": ") {
            Some(split) => split,
            // `file:`, a target with no dependencies, which rustc writes for every input.
            None => match line.strip_suffix(':') {
                Some(input) => ("", input),
                None => return Err(format!("a line without a target: {line:?}")),
            },
        };
        // The target is what was built, not read: checked for form, not listed.
        for name in split_escaped(target)? {
            if !name.starts_with('/') || name.chars().any(char::is_control) {
                return Err(format!("not a plain absolute path: {name:?}"));
            }
        }
        for name in split_escaped(dependencies)? {
            if !name.starts_with('/') || name.chars().any(char::is_control) {
                return Err(format!("not a plain absolute path: {name:?}"));
            }
            files.push(PathBuf::from(name));
        }
    }
    Ok(files)
}

/// Space-separated names where `\ ` is a space within a name; any other backslash is an error.
fn split_escaped(list: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut characters = list.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some(' ') => current.push(' '),
                _ => return Err(format!("a backslash that escapes no space in {list:?}")),
            },
            ' ' => names.extend((!current.is_empty()).then(|| std::mem::take(&mut current))),
            character => current.push(character),
        }
    }
    names.extend((!current.is_empty()).then_some(current));
    Ok(names)
}

/// The pristine workspace manifest with only the staged exercises as members and the support
/// crate pointing at the pristine copy.
fn stage_manifest(root: &Path, exercises: &[Exercise]) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut manifest: toml_edit::DocumentMut = text.parse().context("workspace Cargo.toml")?;
    let workspace = manifest["workspace"].as_table_mut().context("no [workspace]")?;
    let mut members = toml_edit::Array::new();
    for exercise in exercises {
        members.push(format!("exercises/{}", exercise.dir_name()));
    }
    workspace["members"] = toml_edit::value(members);
    for (dependency, folder) in [("workbook", "support"), ("workspace-hack", "workspace-hack")] {
        let path = root.join(folder);
        workspace["dependencies"][dependency]["path"] =
            toml_edit::value(path.to_string_lossy().as_ref());
    }
    Ok(manifest.to_string().into_bytes())
}

/// What syncing a student's folder into the stage did.
enum Synced {
    /// Done; the entries left out, each with why (relative to the folder).
    Done(Vec<String>),
    /// The folder holds more files than the grader takes.
    TooMany,
}

/// Makes `to` hold exactly the regular files of `from` that the grader may take (none when
/// `from` is missing or is a link): links, names with control characters and files over
/// [`MAX_FILE_BYTES`] are left out, and said so. `owned` is a file of the workbook's
/// (`src/main.rs`): neither side's copy touches it.
fn sync_dir(from: &Path, to: &Path, owned: &Path) -> Result<Synced> {
    let is_owned = |relative: &Path| to.join(relative).ends_with(owned);
    let mut left_out = Vec::new();
    let wanted: Vec<PathBuf> = if is_real_dir(from) {
        match collect_files(from, &mut left_out)? {
            Some(files) => files.into_iter().filter(|relative| !is_owned(relative)).collect(),
            None => return Ok(Synced::TooMany),
        }
    } else {
        if std::fs::symlink_metadata(from).is_ok() {
            left_out.push("(the whole folder): it is a symbolic link or not a folder".to_owned());
        }
        Vec::new()
    };
    if to.exists() {
        let mut ignored = Vec::new();
        for existing in collect_files(to, &mut ignored)?.unwrap_or_default() {
            if !wanted.contains(&existing) && !is_owned(&existing) {
                std::fs::remove_file(to.join(&existing))?;
            }
        }
    }
    for relative in &wanted {
        let source = from.join(relative);
        let target = to.join(relative);
        if std::fs::symlink_metadata(&source)?.len() > MAX_FILE_BYTES {
            left_out.push(format!(
                "{}: larger than {} KiB",
                relative.display(),
                MAX_FILE_BYTES / 1024
            ));
            let _ = std::fs::remove_file(&target);
            continue;
        }
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
        write_if_changed(&target, &std::fs::read(&source)?)?;
    }
    Ok(Synced::Done(left_out))
}

/// Regular files below `dir`, relative to it, or `None` when there are more than
/// [`MAX_FILES`]. Symbolic links and names with control characters are never followed or
/// taken; each is added to `left_out`, with why.
fn collect_files(dir: &Path, left_out: &mut Vec<String>) -> Result<Option<Vec<PathBuf>>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&relative)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = relative.join(entry.file_name());
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.chars().any(char::is_control) {
                left_out.push(format!("{:?}: a name with control characters", path));
            } else if kind.is_symlink() {
                left_out.push(format!("{}: a symbolic link", path.display()));
            } else if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
        if files.len() > MAX_FILES {
            return Ok(None);
        }
    }
    files.sort();
    Ok(Some(files))
}

/// Writes only when the content differs, so that cargo does not rebuild unchanged crates.
fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// What the compiler said, read from the build's JSON output (see [`diagnostics`]).
fn compiler_messages(process: &Sandboxed, exercise: &Exercise) -> diagnostics::Diagnostics {
    // A generous cap: the messages of one crate, not a flood a submission could make.
    let json = crate::run::sandbox::tail(process.stdout_path(), 16 << 20);
    diagnostics::parse(&json, &exercise.package())
}

/// The useful part of cargo's output: errors and what follows them, without progress lines.
fn compiler_errors(output: &str) -> String {
    let useful: Vec<&str> = output
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("Compiling ")
                || line.starts_with("Checking ")
                || line.starts_with("Blocking ")
                || line.starts_with("Building "))
        })
        .collect();
    useful.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_manifest_lists_only_the_graded_exercises() {
        let exercise = crate::course::EXERCISES[0];
        let manifest = stage_manifest(&course::root(), &[exercise]).unwrap();
        let manifest = String::from_utf8(manifest).unwrap();
        assert!(manifest.contains(r#"members = ["exercises/01-redis-setup"]"#), "{manifest}");
        let support = course::root().join("support");
        assert!(manifest.contains(&*support.to_string_lossy()), "{manifest}");
    }

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

    #[test]
    fn dep_info_lists_every_file_with_escaped_spaces() {
        let text = "/t/debug/app: /a/main.rs /b/with\\ space.rs\n\n/a/main.rs:\n# env-dep:X=1\n";
        let files = dep_info_files(text).unwrap();
        let expected = ["/a/main.rs", "/b/with space.rs", "/a/main.rs"];
        assert_eq!(files, expected.map(PathBuf::from));
    }

    #[test]
    fn dep_info_that_cannot_be_read_with_certainty_is_refused() {
        // rustc escapes neither backslashes nor newlines in the names it lists: a folder
        // called `x\` or `x<newline>y` would hide the name of a stolen file.
        for text in [
            "/t/app: /a/main.rs /b/x\\\n",
            "/t/app: /a/main.rs /b/x\\/../../etc/shadow\n",
            "/t/app: /a/main.rs /b/x\n/etc/shadow\n",
            "/t/app: relative/main.rs\n",
        ] {
            assert!(dep_info_files(text).is_err(), "{text:?} was accepted");
        }
        let dir = tempfile::tempdir().unwrap();
        let dep_info = dir.path().join("app.d");
        std::fs::write(&dep_info, "/t/app: /a/x\nshadow\n").unwrap();
        let refusal = reads_outside(&dep_info, &[PathBuf::from("/")]).unwrap().unwrap();
        assert!(refusal.contains("cannot tell which files"), "{refusal}");
    }

    #[test]
    fn reading_outside_the_allowed_folders_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("stage/exercises/01-redis-setup");
        let dep_info = dir.path().join("app.d");
        let stolen = dir.path().join("alice/src/cache.rs");
        let line = format!("/t/app: {}/src/main.rs {}\n", own.display(), stolen.display());
        std::fs::write(&dep_info, line).unwrap();
        let refusal = reads_outside(&dep_info, std::slice::from_ref(&own)).unwrap().unwrap();
        assert!(refusal.contains(&stolen.display().to_string()), "{refusal}");
        assert!(!refusal.contains("main.rs"), "{refusal}");
        std::fs::write(&dep_info, format!("/t/app: {}/src/main.rs\n", own.display())).unwrap();
        assert_eq!(reads_outside(&dep_info, &[own]).unwrap(), None);
    }

    #[test]
    fn an_unknown_crate_gets_a_note_naming_the_crates_there_are() {
        let pristine = course::root().join("exercises/01-redis-setup");
        let errors = "error[E0432]: unresolved import `rand`";
        let explained = explain_failure(errors, &pristine);
        assert!(explained.starts_with(errors), "{explained}");
        assert!(explained.contains("anyhow, axum"), "{explained}");
        assert_eq!(explain_failure("error: expected `;`", &pristine), "error: expected `;`");
        let forbidden = explain_failure("error: usage of an `unsafe` block", &pristine);
        assert!(forbidden.contains("`unsafe_code = \"forbid\"`"), "{forbidden}");
        let private = "error[E0603]: module `hold` is private\n --> src/x.rs\n  | workbook::hold";
        assert!(explain_failure(private, &pristine).contains("private to it"));
    }

    #[test]
    fn syncing_mirrors_files_and_leaves_out_links_and_odd_names_saying_so() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("nested")).unwrap();
        std::fs::write(from.path().join("main.rs"), "fn main() {}").unwrap();
        std::fs::write(from.path().join("nested/mod.rs"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.path().join("stolen.rs")).unwrap();
        std::os::unix::fs::symlink("/root", from.path().join("stolen")).unwrap();
        std::fs::write(from.path().join("line\nbreak.rs"), "").unwrap();
        std::fs::write(from.path().join("huge.rs"), vec![b' '; MAX_FILE_BYTES as usize + 1])
            .unwrap();
        std::fs::write(to.path().join("old.rs"), "stale").unwrap();
        std::fs::write(from.path().join("lib.rs"), "// theirs").unwrap();
        std::fs::write(to.path().join("lib.rs"), "// the workbook's").unwrap();

        let Synced::Done(left_out) =
            sync_dir(from.path(), to.path(), &to.path().join("lib.rs")).unwrap()
        else {
            panic!("too many files")
        };

        assert!(to.path().join("main.rs").is_file());
        let owned = std::fs::read_to_string(to.path().join("lib.rs")).unwrap();
        assert_eq!(owned, "// the workbook's", "an owned file is neither copied nor removed");
        assert!(to.path().join("nested/mod.rs").is_file());
        for gone in ["stolen.rs", "stolen", "old.rs", "line\nbreak.rs", "huge.rs"] {
            assert!(!to.path().join(gone).exists(), "{gone} was staged");
        }
        let said = left_out.join("\n");
        for reason in ["stolen.rs: a symbolic link", "stolen: a symbolic link", "control", "KiB"] {
            assert!(said.contains(reason), "{reason} not in {said}");
        }
    }

    #[test]
    fn a_linked_student_folder_is_not_followed() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("main.rs"), "// another student's").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), from.path().join("src")).unwrap();

        let Synced::Done(left_out) =
            sync_dir(&from.path().join("src"), to.path(), Path::new(WORKBOOK_MAIN)).unwrap()
        else {
            panic!("too many files")
        };
        assert!(!to.path().join("main.rs").exists());
        assert!(left_out[0].contains("symbolic link"), "{left_out:?}");
    }
}
