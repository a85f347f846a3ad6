//! `grader --watch`: grades the exercise being edited again on every save.
//!
//! One grading session lasts the whole watch: one private Redis and one set of settings drawn
//! from the seed, with the build folder warm, so a re-grade costs one crate's build and the
//! checks. File events come from `notify`; where they do not arrive (some network or shared
//! folders), Enter grades again by hand.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::course::Exercise;
use crate::criteria;
use crate::grade::{self, Session};
use crate::report::scorecard;
use crate::report::{ExerciseReport, Report, Stage, Status};
use crate::run::compile::STUDENT_DIRS;
use crate::student::checklist;
use crate::student::progress::StateDir;

/// An editor's save is a burst of events (write, rename, delete of a backup): once they have
/// been quiet this long, the burst is one change.
const QUIET: Duration = Duration::from_millis(300);

/// What to watch.
pub struct Options<'a> {
    /// The submission and the run's settings; `exercises` are the ones watched.
    pub grading: &'a grade::Options,
    /// Graded once at the start.
    pub first: Exercise,
    /// Where progress is recorded: only when watching the workbook's own exercises.
    pub state: Option<StateDir>,
}

/// Something that asks for a grade, or for the end of the watch.
#[derive(Debug)]
enum Event {
    /// Files changed below the submission folder.
    Changed(Vec<PathBuf>),
    /// Enter (or `r`): grade the current exercise again.
    Again,
    Quit,
}

/// Watches until the student quits; `Err` only when grading cannot run at all.
pub async fn run(options: Options<'_>) -> Result<()> {
    let submission = options.grading.submission.canonicalize().with_context(|| {
        format!("{} is not a folder of exercises", options.grading.submission.display())
    })?;
    let (events, mut received) = unbounded_channel();
    let _watcher = match watch_files(&submission, events.clone()) {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            eprintln!(
                "warning: cannot watch {} for changes ({err}); press Enter to grade again",
                submission.display()
            );
            None
        }
    };
    read_keys(events);

    let mut session = Session::start(options.grading).await?;
    // Each verdict as soon as it is judged; the scorecard follows when all are.
    session.stream_verdicts(Box::new(|verdict| {
        print!("{}", scorecard::verdict_line(verdict, owo_colors::Stream::Stdout));
    }));
    let specs = criteria::registry();
    let mut due = vec![(options.first, "first grade".to_owned())];
    // What failed in this watch's last grade of each exercise, by folder name.
    let mut failed_before: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = options.first;
    let watched = match options.grading.exercises.as_slice() {
        [only] => submission.join(only.dir_name()),
        _ => submission.clone(),
    };
    loop {
        for (exercise, why) in due.drain(..) {
            clear_screen();
            println!("── {} · {why} ──", exercise.dir_name());
            let first = match failed_before.get(&exercise.dir_name()) {
                Some(failed) => failed.clone(),
                None => failed_last_time(&options, &exercise),
            };
            session.check_first(first);
            match session.grade(&exercise, criteria::spec_of(&specs, &exercise)?).await {
                Ok(graded) => {
                    let failed = graded.criteria.iter().filter(|c| c.status != Status::Passed);
                    failed_before.insert(graded.id.clone(), failed.map(|c| c.id.clone()).collect());
                    if graded.stage == Stage::Graded {
                        println!();
                    }
                    show(&options, &session, graded);
                }
                Err(err) => eprintln!("error: {err:#}"),
            }
            current = exercise;
        }
        println!(
            "Watching {} · save a file to grade it again · Enter: grade {} now · q, Enter: quit",
            watched.display(),
            current.dir_name()
        );
        while due.is_empty() {
            match received.recv().await {
                None | Some(Event::Quit) => return Ok(()),
                Some(Event::Again) => due.push((current, "graded again".to_owned())),
                Some(Event::Changed(paths)) => {
                    due = changed_exercises(&submission, &paths, &options.grading.exercises);
                }
            }
        }
    }
}

/// The criteria of `exercise` that did not pass in its last recorded grade: checked first, so
/// that a save that fixes one (or not) says so within seconds. None when progress is not kept
/// (`--path`): then the registry's order until this watch has graded it once.
fn failed_last_time(options: &Options<'_>, exercise: &Exercise) -> Vec<String> {
    let Some(progress) = options.state.as_ref().and_then(|state| state.load().ok()) else {
        return Vec::new();
    };
    let Some(record) = progress.exercises.get(&exercise.dir_name()) else { return Vec::new() };
    record
        .criteria
        .iter()
        .filter(|(_, status)| **status != Status::Passed)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Prints the scorecard and, for the student's own exercises, records it and shows the
/// checklist.
fn show(options: &Options<'_>, session: &Session<'_>, graded: ExerciseReport) {
    let focus = options.grading.exercises.clone();
    let mut report = Report::new(options.grading.seed, session.redis_description(), vec![graded]);
    // --watch grades on the main runtime, which has no network of its own.
    report.isolation =
        grade::isolation("network: the machine's (--watch grades without a network of its own)");
    report.database = session.database.describe();
    print!("{}", scorecard::render(&report, owo_colors::Stream::Stdout));
    let Some(state) = &options.state else { return };
    if let Err(err) = state.record(&report.exercises) {
        eprintln!("warning: could not save your progress: {err:#}");
    }
    checklist::print(state, &focus);
}

/// The watched exercises whose graded files are among `paths`, each with a note of what
/// changed. A folder alone is no change; a file that is gone by now was removed, or was an
/// editor's temporary file (`sed -i` and some editors save through one).
fn changed_exercises(
    submission: &Path,
    paths: &[PathBuf],
    watched: &[Exercise],
) -> Vec<(Exercise, String)> {
    let mut changed: Vec<(Exercise, Files)> = Vec::new();
    for path in paths {
        let Some((exercise, file)) = graded_file(submission, path) else { continue };
        let files = if path.is_file() {
            Files { saved: vec![file], removed: vec![] }
        } else if !path.exists() {
            Files { saved: vec![], removed: vec![file] }
        } else {
            continue;
        };
        if !watched.contains(&exercise) {
            continue;
        }
        match changed.iter_mut().find(|(seen, _)| *seen == exercise) {
            Some((_, seen)) => seen.add(files),
            None => changed.push((exercise, files)),
        }
    }
    changed.into_iter().map(|(exercise, files)| (exercise, files.describe())).collect()
}

/// The files of one exercise in a burst of changes.
struct Files {
    saved: Vec<String>,
    removed: Vec<String>,
}

impl Files {
    fn add(&mut self, other: Files) {
        for (mine, theirs) in [(&mut self.saved, other.saved), (&mut self.removed, other.removed)] {
            for file in theirs {
                if !mine.contains(&file) {
                    mine.push(file);
                }
            }
        }
    }

    /// `src/main.rs, src/cache.rs changed`; `src/old.rs removed` when nothing was saved.
    fn describe(&self) -> String {
        let (files, what) = if self.saved.is_empty() {
            (&self.removed, "removed")
        } else {
            (&self.saved, "changed")
        };
        let mut named = files.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if files.len() > 3 {
            named.push_str(&format!(" and {} more", files.len() - 3));
        }
        format!("{named} {what}")
    }
}

/// The exercise `path` belongs to and its path inside it, when the grader reads that file:
/// below `src/` or `templates/`, and not an editor's temporary file.
fn graded_file(submission: &Path, path: &Path) -> Option<(Exercise, String)> {
    let relative = path.strip_prefix(submission).ok()?;
    let mut parts = relative.components().map(|part| part.as_os_str().to_string_lossy());
    let exercise = Exercise::from_dir_name(&parts.next()?)?;
    if !STUDENT_DIRS.contains(&&*parts.next()?) {
        return None;
    }
    let name = relative.file_name()?.to_string_lossy();
    // Vim's swap files and its `4913` probe, Emacs' `#file#` and `file~`.
    let temporary = name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name == "4913";
    if temporary {
        return None;
    }
    let inside = relative.strip_prefix(exercise.dir_name()).ok()?;
    Some((exercise, inside.to_string_lossy().into_owned()))
}

/// Watches `dir` and sends the paths written, created or removed below it, a burst at a time.
fn watch_files(dir: &Path, events: UnboundedSender<Event>) -> notify::Result<RecommendedWatcher> {
    let (paths, bursts) = std::sync::mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        match event {
            // Reads are not changes: the grader itself reads every file when it builds.
            Ok(event) if changes_files(&event.kind) => {
                for path in event.paths {
                    let _ = paths.send(path);
                }
            }
            Ok(_) => {}
            Err(err) => eprintln!("warning: file events: {err}; press Enter to grade again"),
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        while let Ok(first) = bursts.recv() {
            let mut burst = vec![first];
            while let Ok(path) = bursts.recv_timeout(QUIET) {
                burst.push(path);
            }
            if events.send(Event::Changed(burst)).is_err() {
                return;
            }
        }
    });
    Ok(watcher)
}

/// Whether an event changes a file's content or existence (not a read, not a timestamp).
fn changes_files(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Other => false,
    }
}

/// Reads commands from standard input, a line at a time: Enter or `r` grades again, `q` quits.
/// A thread of its own, because a read from a terminal cannot be cancelled and must not keep
/// the grader from exiting. When input ends (none was given), file events go on alone.
fn read_keys(events: UnboundedSender<Event>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { return };
            let event = match line.trim() {
                "" | "r" => Event::Again,
                "q" | "quit" => Event::Quit,
                other => {
                    eprintln!("{other:?}? Enter or r grades again, q quits");
                    continue;
                }
            };
            if events.send(event).is_err() {
                return;
            }
        }
    });
}

/// A fresh screen for each grade, on a terminal only (a log keeps every scorecard).
fn clear_screen() {
    if std::io::stdout().is_terminal() {
        print!("\x1b[2J\x1b[H");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(number: u32, slug: &str) -> Exercise {
        let exercise = crate::course::EXERCISES[number as usize - 1];
        assert_eq!(exercise.slug, slug);
        exercise
    }

    /// A submission folder holding `files`.
    fn submission(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        dir
    }

    #[test]
    fn only_the_graded_folders_of_a_watched_exercise_count() {
        let ignored = [
            "01-redis-setup/Cargo.toml",
            "01-redis-setup/src/.main.rs.swp",
            "01-redis-setup/src/main.rs~",
            "01-redis-setup/src/4913",
            "02-view-cache/src/main.rs",
            "README.md",
        ];
        let counted = ["01-redis-setup/src/main.rs", "01-redis-setup/templates/page.html"];
        let dir = submission(&[&ignored[..], &counted[..]].concat());
        let watched = [exercise(1, "redis-setup")];
        let changed =
            |path: &str| changed_exercises(dir.path(), &[dir.path().join(path)], &watched);

        assert_eq!(changed(counted[0]), [(watched[0], "src/main.rs changed".to_owned())]);
        assert_eq!(changed(counted[1]).len(), 1);
        for path in ignored {
            assert!(changed(path).is_empty(), "{path}");
        }
        assert!(changed("01-redis-setup/src").is_empty(), "a folder alone is no change");
    }

    #[test]
    fn one_burst_grades_each_exercise_once_naming_the_files_saved() {
        let dir = submission(&[
            "01-redis-setup/src/x.rs",
            "02-view-cache/src/y.rs",
            "01-redis-setup/src/z.rs",
        ]);
        let watched = [exercise(1, "redis-setup"), exercise(2, "view-cache")];
        // `sed -i` writes a temporary file and renames it over the real one.
        let burst = [
            "01-redis-setup/src/sedX1b2c3",
            "01-redis-setup/src/x.rs",
            "02-view-cache/src/y.rs",
            "01-redis-setup/src/z.rs",
        ]
        .map(|path| dir.path().join(path));
        let changed = changed_exercises(dir.path(), &burst, &watched);
        assert_eq!(
            changed,
            [
                (watched[0], "src/x.rs, src/z.rs changed".to_owned()),
                (watched[1], "src/y.rs changed".to_owned()),
            ]
        );
        let removed = changed_exercises(
            dir.path(),
            &[dir.path().join("01-redis-setup/src/gone.rs")],
            &watched,
        );
        assert_eq!(removed, [(watched[0], "src/gone.rs removed".to_owned())]);
    }

    #[test]
    fn reads_and_timestamps_are_not_changes() {
        use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind};
        assert!(!changes_files(&EventKind::Access(AccessKind::Any)));
        assert!(!changes_files(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any))));
        assert!(changes_files(&EventKind::Modify(ModifyKind::Data(DataChange::Any))));
        assert!(changes_files(&EventKind::Create(CreateKind::File)));
    }
}
