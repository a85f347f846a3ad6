//! Helpers shared by the grader's integration tests: run the real grader binary, build
//! known-bad variants of a solution, and read the JSON it prints.

#![allow(dead_code)] // each test binary uses its own subset of these helpers

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use assert_cmd::Command;
use serde_json::Value;

/// The workbook's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// One grader at a time per test binary: runs share the build folder, and the resilience
/// checks are fairer when two runs do not compete for the same cores.
pub fn serial() -> MutexGuard<'static, ()> {
    static GRADER: Mutex<()> = Mutex::new(());
    GRADER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// At most two graders at a time per test binary, one per core: while one builds (the build
/// folder's lock keeps builds one at a time anyway), the other checks. The checks judge by
/// counts and by ratios measured within one run, so a neighbour does not change a verdict
/// (`stability.rs` proves it for the criteria that look at a clock).
pub fn one_of_two() -> Permit {
    Permit::acquire()
}

/// A place among the two graders [`one_of_two`] allows; given back when dropped.
pub struct Permit(());

static PERMITS: (Mutex<usize>, std::sync::Condvar) = (Mutex::new(2), std::sync::Condvar::new());

impl Permit {
    fn acquire() -> Self {
        let (free, freed) = &PERMITS;
        let mut free = free.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while *free == 0 {
            free = freed.wait(free).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *free -= 1;
        Permit(())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let (free, freed) = &PERMITS;
        *free.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        freed.notify_one();
    }
}

/// What a grader run printed and returned.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Run {
    /// The exercise with folder name `id`.
    pub fn exercise(&self, id: &str) -> &Value {
        self.json["exercises"]
            .as_array()
            .and_then(|all| all.iter().find(|exercise| exercise["id"] == id))
            .unwrap_or_else(|| panic!("no exercise {id} in {}", self.json))
    }

    /// Ids of the exercise's criteria that did not pass, sorted.
    pub fn failed(&self, id: &str) -> Vec<String> {
        let mut failed: Vec<String> = self.exercise(id)["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|criterion| criterion["status"] != "passed")
            .map(|criterion| criterion["id"].as_str().unwrap().to_owned())
            .collect();
        failed.sort();
        failed
    }

    /// The exercise's scorecard, as the student sees it (without colours): for assertion
    /// messages, and for what a fixture must show.
    pub fn explain(&self, id: &str) -> String {
        let mut report: grader::report::Report = serde_json::from_value(self.json.clone())
            .unwrap_or_else(|err| {
                panic!("the JSON report does not read back ({err}): {}", self.json)
            });
        report.exercises.retain(|exercise| exercise.id == id);
        grader::report::scorecard::render_plain(&report)
    }
}

/// Runs `grader --format json --seed SEED ARGS...` and parses what it prints.
pub fn grade(seed: u64, args: &[&str]) -> Run {
    let output = Command::cargo_bin("grader")
        .unwrap()
        .env_remove("REDIS_URL")
        .env_remove("GRADER_DATABASE_URL")
        .args(["--format", "json", "--seed", &seed.to_string()])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("the grader printed no JSON ({err}); stderr:\n{stderr}"));
    Run { code: output.status.code().unwrap_or(-1), json, stderr }
}

/// Builds the grader's copy of the dependencies (minutes on a clean clone), so that tests
/// with short time limits measure grading, not the first build.
pub fn warm_build() {
    let run = grade(1, &["--path", root().join("solutions").to_str().unwrap(), "1"]);
    assert_eq!(run.exercise("01-redis-setup")["stage"], "graded", "{}", run.stderr);
}

/// A known-bad variant: a patch over the reference solution and the criteria it must fail.
pub struct Fixture {
    pub name: String,
    pub exercise: String,
    pub description: String,
    pub fails: Vec<String>,
    /// Texts the scorecard must show (the compiler's words, a criterion's evidence, the
    /// service's output or a hint).
    pub shows: Vec<String>,
    /// Whether only bubblewrap contains this fixture's attack (`needs = "bubblewrap"`).
    pub needs_bubblewrap: bool,
    patches: Vec<(String, String, String)>,
}

impl Fixture {
    /// Every fixture of an exercise, from `grader/tests/fixtures/<exercise>/*.toml`.
    pub fn all(exercise: &str) -> Vec<Fixture> {
        let dir = root().join("grader/tests/fixtures").join(exercise);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        paths.iter().map(|path| Fixture::load(exercise, path)).collect()
    }

    fn load(exercise: &str, path: &Path) -> Fixture {
        let text = std::fs::read_to_string(path).unwrap();
        let doc: toml_edit::DocumentMut =
            text.parse().unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let string = |item: &toml_edit::Item, field: &str| -> String {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("{}: missing `{field}`", path.display()))
                .to_owned()
        };
        let mut fails: Vec<String> = doc["fails"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: missing `fails`", path.display()))
            .iter()
            .map(|id| id.as_str().unwrap().to_owned())
            .collect();
        fails.sort();
        // A fixture may build on another one's bug: its patches come first.
        let mut patches = match doc.get("base").and_then(|base| base.as_str()) {
            Some(base) => {
                Fixture::load(exercise, &path.with_file_name(format!("{base}.toml"))).patches
            }
            None => Vec::new(),
        };
        patches.extend(
            doc["patch"]
                .as_array_of_tables()
                .unwrap_or_else(|| panic!("{}: no [[patch]]", path.display()))
                .iter()
                .map(|patch| {
                    let item = toml_edit::Item::Table(patch.clone());
                    (string(&item, "file"), string(&item, "find"), string(&item, "replace"))
                }),
        );
        // One text or a list of them.
        let shows: Vec<String> = match doc.get("shows") {
            None => Vec::new(),
            Some(item) => match (item.as_str(), item.as_array()) {
                (Some(one), _) => vec![one.to_owned()],
                (_, Some(many)) => {
                    many.iter().filter_map(|s| s.as_str()).map(str::to_owned).collect()
                }
                _ => panic!("{}: `shows` is a string or a list of strings", path.display()),
            },
        };
        let needs_bubblewrap = match doc.get("needs").and_then(|needs| needs.as_str()) {
            None => false,
            Some("bubblewrap") => true,
            Some(other) => {
                panic!("{}: `needs` knows only \"bubblewrap\", not {other:?}", path.display())
            }
        };
        Fixture {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            exercise: exercise.to_owned(),
            description: string(doc.as_item(), "description"),
            fails,
            shows,
            needs_bubblewrap,
            patches,
        }
    }

    /// Writes the patched solution into `dir/<exercise>/`, ready for `--path dir`.
    pub fn materialise(&self, dir: &Path) {
        let target = dir.join(&self.exercise);
        copy_dir(&root().join("solutions").join(&self.exercise), &target);
        for (file, find, replace) in &self.patches {
            let path = target.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains(find.as_str()),
                "fixture {}: the text to replace is no longer in {file}:\n{find}",
                self.name
            );
            std::fs::write(&path, text.replace(find.as_str(), replace)).unwrap();
        }
    }
}

/// Copies a folder recursively (sources only: no `target`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Grades every fixture of `exercise` and checks that each fails exactly its criteria.
pub fn check_fixtures(exercise: &str) {
    let fixtures = Fixture::all(exercise);
    assert!(!fixtures.is_empty(), "no fixtures for {exercise}");
    let mut mismatches = Vec::new();
    // `KNOWN_BAD_ONLY=name,name`: grade just these while working on them.
    let only = std::env::var("KNOWN_BAD_ONLY").ok();
    let chosen = |name: &str| only.as_deref().is_none_or(|only| only.split(',').any(|o| o == name));
    for fixture in fixtures.iter().filter(|fixture| chosen(&fixture.name)) {
        if fixture.needs_bubblewrap && !bubblewrap_runs(&fixture.name) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        fixture.materialise(dir.path());
        let run = {
            let _two_at_a_time = one_of_two();
            grade(7, &["--path", dir.path().to_str().unwrap(), exercise])
        };
        let failed = run.failed(exercise);
        let explained = run.explain(exercise);
        for shows in &fixture.shows {
            if !explained.contains(shows.as_str()) {
                mismatches.push(format!(
                    "{}: the scorecard does not show {shows:?}:\n{explained}",
                    fixture.name
                ));
            }
        }
        if failed != fixture.fails {
            mismatches.push(format!(
                "{} ({}):\n  expected to fail {:?}\n  failed {:?}\n{}",
                fixture.name,
                fixture.description,
                fixture.fails,
                failed,
                run.explain(exercise)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Whether the grader runs students' code in bubblewrap here. Where it cannot, a fixture whose
/// attack only bubblewrap contains fails under CI (`CI` set), saying how to install it, and
/// elsewhere is skipped, saying so loudly: a student's machine needs only Rust and Redis.
pub fn bubblewrap_runs(fixture: &str) -> bool {
    let Err(why) = grader::run::bwrap::available() else { return true };
    assert!(std::env::var_os("CI").is_none(), "fixture {fixture} needs bubblewrap: {why}");
    eprintln!("SKIPPED fixture {fixture}: it needs bubblewrap ({why})");
    false
}

/// What headless Chromium made of a page: its DOM after rendering, and a screenshot.
pub struct Rendered {
    pub dom: String,
    pub screenshot: Vec<u8>,
}

/// Headless Chromium (Debian's `chromium`; `.ci/run` installs it). Where it is missing, a
/// test that needs it fails under CI (`CI` set), saying how to install it, and elsewhere is
/// skipped, saying so loudly: `None`.
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| std::process::Command::new(name).arg("--version").output().is_ok());
    let install = "headless Chromium is needed for this test: sudo apt-get install -y chromium";
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{install}");
        eprintln!("SKIPPED: {install}");
    }
    found
}

/// Opens `page` in headless Chromium; `None` when the test is skipped ([`chromium`]).
pub fn render_in_chromium(page: &Path) -> Option<Rendered> {
    render_in_chromium_at(page, "")
}

/// Opens `page` scrolled to `#fragment` (none when empty), so the screenshot shows that part.
pub fn render_in_chromium_at(page: &Path, fragment: &str) -> Option<Rendered> {
    let browser = chromium()?;
    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("shot.png");
    let url = match fragment {
        "" => format!("file://{}", page.display()),
        fragment => format!("file://{}#{fragment}", page.display()),
    };
    let run = |extra: &[&str]| {
        std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = String::from_utf8_lossy(&run(&["--dump-dom"]).stdout).into_owned();
    run(&[&format!("--screenshot={}", shot.display()), "--window-size=1200,1600"]);
    let screenshot = std::fs::read(&shot).unwrap_or_default();
    Some(Rendered { dom, screenshot })
}

/// Keeps one core spinning until dropped.
pub struct BusyCore(Arc<AtomicBool>);

impl BusyCore {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        Self(stop)
    }
}

impl Drop for BusyCore {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Gradebook `rows` (the header first) as `grader batch` writes them on this machine: each
/// ends with the `contained` column, `yes` where the containment a batch relies on is in
/// force (root, bubblewrap), `no` where the tests' `--allow-unsandboxed` let it go without.
pub fn gradebook(rows: &str) -> String {
    let contained = if grader::run::containment::missing().is_empty() { "yes" } else { "no" };
    rows.lines()
        .enumerate()
        .map(|(index, row)| match index {
            0 => format!("{row},contained\n"),
            _ => format!("{row},{contained}\n"),
        })
        .collect()
}
