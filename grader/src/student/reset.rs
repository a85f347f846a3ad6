//! `grader reset N`: puts one exercise back to its starter.
//!
//! The student edits `exercises/` in place, so the grader cannot carry a pristine copy of its
//! own (it would be built from the edited one). The workbook's git history has the starter:
//! the exercise as it was in the commit the student's work started from. That is where
//! the branch left the course's repository (`upstream`, else `origin`); without either, the
//! commit that added the exercise; or the commit named with `--from`. The student's files are
//! copied aside first, so a reset loses nothing.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::course::Exercise;

/// What to reset, and how.
pub struct Options {
    /// The folder of exercises (the workbook's `exercises/` unless `--path`).
    pub exercises_dir: PathBuf,
    pub exercise: Exercise,
    /// Restore from this commit instead of the one found in the history.
    pub from: Option<String>,
    /// Do not ask.
    pub yes: bool,
    /// Where the student's files are copied before they are replaced.
    pub backups: PathBuf,
}

/// How a reset ended.
pub enum Ending {
    Reset,
    Declined,
}

/// The commit the starter comes from, and why that one.
struct Source {
    commit: String,
    why: String,
}

pub fn run(options: &Options, answers: &mut dyn BufRead, out: &mut dyn Write) -> Result<Ending> {
    if !options.exercises_dir.is_dir() {
        bail!("{} is not a folder of exercises", options.exercises_dir.display());
    }
    let folder = options.exercises_dir.join(options.exercise.dir_name());
    let git = Git::around(&options.exercises_dir)?;
    let path = git.relative(&folder)?;
    let source = match &options.from {
        Some(revision) => Source {
            commit: git.commit_of(revision)?,
            why: format!("the commit you named with --from {revision}"),
        },
        None => git.starting_commit(&path)?,
    };
    if !git.has_path(&source.commit, &path) {
        bail!(
            "commit {} has no {path}: name a commit that has the starter with --from",
            short(&source.commit)
        );
    }

    writeln!(
        out,
        "This puts {path} back to its starter: the exercise as you got it, TODOs and all."
    )?;
    writeln!(out, "(It comes from {}: commit {}.)", source.why, git.describe(&source.commit)?)?;
    if folder.exists() {
        writeln!(out, "Your files there are copied to {} first.", options.backups.display())?;
    }
    if !options.yes
        && !confirm(&format!("Reset exercise {}?", options.exercise.number), answers, out)?
    {
        writeln!(out, "Nothing changed.")?;
        return Ok(Ending::Declined);
    }

    let backup = if folder.exists() {
        let backup = backup_path(&options.backups, &options.exercise)?;
        copy_dir(&folder, &backup)
            .with_context(|| format!("cannot copy {} to {}", folder.display(), backup.display()))?;
        // Files the starter does not have (a module the student added) go too: the folder
        // becomes exactly the starter.
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("cannot empty {}", folder.display()))?;
        Some(backup)
    } else {
        None
    };
    git.restore(&source.commit, &path).with_context(|| match &backup {
        Some(backup) => format!("your files are safe in {}", backup.display()),
        None => "nothing was there before".to_owned(),
    })?;
    writeln!(out, "{path} is its starter again.")?;
    if let Some(backup) = &backup {
        writeln!(out, "Your previous files are in {}", backup.display())?;
    }
    Ok(Ending::Reset)
}

/// Asks a yes/no question; anything but `y` or `yes` (or no answer at all) is a no.
fn confirm(question: &str, answers: &mut dyn BufRead, out: &mut dyn Write) -> Result<bool> {
    write!(out, "{question} [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    answers.read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `backups/01-redis-setup-2026-12-06-13h45m12s` (local time where the machine tells it, else
/// UTC), never one that exists.
fn backup_path(backups: &Path, exercise: &Exercise) -> Result<PathBuf> {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let when = now.format(time::macros::format_description!(
        "[year]-[month]-[day]-[hour]h[minute]m[second]s"
    ))?;
    let stem = format!("{}-{when}", exercise.dir_name());
    (0..100)
        .map(|n| backups.join(if n == 0 { stem.clone() } else { format!("{stem}-{n}") }))
        .find(|candidate| !candidate.exists())
        .context("too many backups made this second")
}

/// Copies a folder, without a `target/` inside it.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target)?;
            }
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The git checkout that holds the exercises.
struct Git {
    top: PathBuf,
}

impl Git {
    /// The checkout around `dir`; a clear refusal outside one.
    fn around(dir: &Path) -> Result<Self> {
        let output =
            Command::new("git").arg("-C").arg(dir).args(["rev-parse", "--show-toplevel"]).output();
        match output {
            Ok(output) if output.status.success() => {
                let top = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                Ok(Self { top: PathBuf::from(top) })
            }
            Ok(_) => bail!(
                "{} is not in a git checkout, and `grader reset` takes the starter from the \
                 workbook's git history.\nTo reset by hand, copy the exercise's folder from a \
                 fresh download of the workbook.",
                dir.display()
            ),
            Err(err) => bail!(
                "`grader reset` takes the starter from the workbook's git history, but git \
                 does not run ({err}). Install git, or copy the exercise's folder from a fresh \
                 download of the workbook."
            ),
        }
    }

    /// `path` relative to the checkout, with `/` separators, as git names it.
    fn relative(&self, path: &Path) -> Result<String> {
        let parent = path.parent().context("an exercise folder has a parent")?;
        let parent =
            parent.canonicalize().with_context(|| format!("cannot find {}", parent.display()))?;
        let top = self.top.canonicalize()?;
        let inside = parent.strip_prefix(&top).with_context(|| {
            format!("{} is outside the checkout {}", parent.display(), top.display())
        })?;
        let name = path.file_name().context("an exercise folder has a name")?;
        let parts: Vec<String> = inside
            .join(name)
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(parts.join("/"))
    }

    /// The commit the student's work started from (see the module's comment).
    fn starting_commit(&self, path: &str) -> Result<Source> {
        for remote in ["upstream", "origin"] {
            for branch in ["HEAD", "main", "master"] {
                let reference = format!("{remote}/{branch}");
                if let Some(commit) = self.text(&["merge-base", "HEAD", &reference])
                    && self.has_path(&commit, path)
                {
                    return Ok(Source {
                        commit,
                        why: format!("where your branch left {reference}"),
                    });
                }
            }
        }
        let added = self.text(&["rev-list", "--reverse", "HEAD", "--", path]);
        match added.as_deref().and_then(|list| list.lines().next()) {
            Some(commit) => Ok(Source {
                commit: commit.to_owned(),
                why: "the commit that added the exercise: this checkout has no upstream or \
                      origin remote to start from"
                    .to_owned(),
            }),
            None => bail!(
                "the git history of {} has no {path}: name a commit that has the starter with \
                 --from",
                self.top.display()
            ),
        }
    }

    fn commit_of(&self, revision: &str) -> Result<String> {
        self.text(&["rev-parse", "--verify", "--quiet", &format!("{revision}^{{commit}}")])
            .with_context(|| format!("git knows no commit {revision:?}"))
    }

    fn has_path(&self, commit: &str, path: &str) -> bool {
        self.text(&["rev-parse", "--verify", "--quiet", &format!("{commit}:{path}")]).is_some()
    }

    /// `abc1234 Subject (date)`.
    fn describe(&self, commit: &str) -> Result<String> {
        // "3f2a9c1 of 2026-11-30": the commit message is the developers', not the student's.
        self.text(&["log", "-1", "--format=%h of %as", commit])
            .with_context(|| format!("cannot read commit {commit}"))
    }

    /// Writes the files of `path` as they are in `commit`, leaving the index alone: to git the
    /// reset is a change of the student's, like any edit.
    fn restore(&self, commit: &str, path: &str) -> Result<()> {
        let output = self
            .command()
            .args(["restore", "--worktree", "--source", commit, "--", path])
            .output()?;
        if !output.status.success() {
            bail!("git restore failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(())
    }

    fn command(&self) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.top);
        command
    }

    /// Trimmed standard output of a git command that succeeded.
    fn text(&self, args: &[&str]) -> Option<String> {
        let output = self.command().args(args).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    }
}
