//! `grader batch` over a small class: exact gradebook figures, per-student files, resuming,
//! and merging shards.

mod common;

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use common::{Fixture, copy_dir, root, serial};

const EXERCISE: &str = "01-redis-setup";

/// A class of ten: complete, partial, broken, hanging, zipped by PowerShell with its build
/// output, unreadable, a workbook beside a newer zip of screenshots, a Unicode name in a Moodle
/// folder export with its online text, a decomposed name with an empty zip, and a truncated
/// upload.
fn build_class(dir: &Path) {
    let solution = root().join("solutions").join(EXERCISE);
    // alice: a checkout of the whole workbook with the exercise solved (and solutions beside).
    copy_dir(&solution, &dir.join("alice/exercises").join(EXERCISE));
    copy_dir(&solution, &dir.join("alice/solutions").join(EXERCISE));
    // bob: sessions without a TTL, the two points of `session-expiry` lost.
    let bob =
        Fixture::all(EXERCISE).into_iter().find(|f| f.name == "sessions-without-ttl").unwrap();
    bob.materialise(&dir.join("bob"));
    // carol: does not compile.
    copy_dir(&solution, &dir.join("carol").join(EXERCISE));
    std::fs::write(dir.join("carol").join(EXERCISE).join("src/cache.rs"), "fn broken(").unwrap();
    // dave: every exercise route hangs.
    copy_dir(&solution, &dir.join("dave").join(EXERCISE));
    let routes = dir.join("dave").join(EXERCISE).join("src/routes.rs");
    let hanging = std::fs::read_to_string(&routes).unwrap().replace(
        "pub fn router(state: AppState) -> Router {",
        "pub fn router(state: AppState) -> Router {\n    let state = state.clone();\n    \
         let hang = || async { std::future::pending::<()>().await };\n    \
         return Router::new().fallback(hang).with_state(state);\n    #[allow(unreachable_code)]",
    );
    std::fs::write(&routes, hanging).unwrap();
    // erin: the solution as a late Canvas download, zipped by Windows PowerShell 5.1 (names
    // with backslashes) with its build output (more than the 64 MiB an archive may unpack to,
    // were it counted) and macOS' copies.
    let erin = zip_folder_with(
        &solution,
        &dir.join("erin_LATE_1234_5678_workbook.zip"),
        &format!("workbook\\exercises\\{EXERCISE}"),
        '\\',
    );
    finish_with_junk(erin);
    // frank: not an archive at all.
    std::fs::write(dir.join("frank.zip"), b"this is not a zip file").unwrap();
    // gina: two Canvas attachments, her workbook (carol's, which fails fast) and a later zip
    // of screenshots: the workbook is graded.
    let workbook = dir.join("gina_77_100_workbook.zip");
    zip_folder(&dir.join("carol"), &workbook, "workbook/exercises").finish().unwrap();
    let screenshots = dir.join("gina_77_200_screenshots.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&screenshots).unwrap());
    zip.start_file("screenshots/scorecard.png", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(b"\x89PNG").unwrap();
    zip.finish().unwrap();
    set_modified(&workbook, 1_000);
    set_modified(&screenshots, 2_000);
    // hal: an upload that broke off half way.
    let hal = dir.join("hal_88_300_workbook.zip");
    zip_folder(&solution, &hal, &format!("workbook/exercises/{EXERCISE}")).finish().unwrap();
    let bytes = std::fs::read(&hal).unwrap();
    std::fs::write(&hal, &bytes[..bytes.len() / 2]).unwrap();
    // Zoë Ångström: a Moodle name as macOS spells it (decomposed), and an empty zip.
    let zoe = dir.join("Zoe\u{308} A\u{30a}ngstro\u{308}m_21_assignsubmission_file_workbook.zip");
    zip::ZipWriter::new(std::fs::File::create(zoe).unwrap()).finish().unwrap();
    // José García: Moodle's "download in folders", a folder holding the student's zip.
    let moodle = dir.join("José García_12_assignsubmission_file_");
    std::fs::create_dir(&moodle).unwrap();
    let zip = zip_folder(
        &solution,
        &moodle.join("workbook.zip"),
        &format!("workbook/exercises/{EXERCISE}"),
    );
    zip.finish().unwrap();
    // His online text, which Moodle exports as a folder of its own: not a second submission.
    let online_text = dir.join("José García_12_assignsubmission_onlinetext_");
    std::fs::create_dir(&online_text).unwrap();
    std::fs::write(online_text.join("onlinetext.html"), "<p>Done, see my zip.</p>").unwrap();
}

/// Adds a 65 MiB `target/` file (it compresses to almost nothing) and `__MACOSX/` copies.
fn finish_with_junk(mut zip: zip::ZipWriter<std::fs::File>) {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("workbook\\target\\debug\\deps\\libbig.rlib", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..65 {
        zip.write_all(&chunk).unwrap();
    }
    zip.start_file("__MACOSX/workbook/._Cargo.toml", options).unwrap();
    zip.write_all(b"\0\x05\x16\x07").unwrap();
    zip.finish().unwrap();
}

fn set_modified(path: &Path, seconds: u64) {
    let file = std::fs::File::options().append(true).open(path).unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)).unwrap();
}

/// A zip of `folder` under `prefix`, left open for more entries.
fn zip_folder(folder: &Path, archive: &Path, prefix: &str) -> zip::ZipWriter<std::fs::File> {
    zip_folder_with(folder, archive, prefix, '/')
}

/// A zip of `folder` under `prefix` whose names separate folders with `separator`.
fn zip_folder_with(
    folder: &Path,
    archive: &Path,
    prefix: &str,
    separator: char,
) -> zip::ZipWriter<std::fs::File> {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(archive).unwrap());
    let mut stack = vec![folder.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(folder).unwrap().display().to_string();
                let name = format!("{prefix}/{relative}").replace('/', &separator.to_string());
                zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    zip
}

/// `grader batch`, also where the Linux containment is missing (macOS): these tests are about
/// the batch, not the containment (`hostile.rs` is).
fn batch(class: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    batch_with_env(class, out, extra, &[])
}

/// The variables a job scheduler sets to name a shard: none leaks in from the test's own.
const SCHEDULER_VARIABLES: [&str; 6] = [
    "GRADER_SHARD",
    "GRADER_SHARD_COUNT",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
    "JOB_COMPLETION_INDEX",
];

fn batch_with_env(
    class: &Path,
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = Command::cargo_bin("grader").unwrap();
    for variable in SCHEDULER_VARIABLES {
        command.env_remove(variable);
    }
    command
        .envs(env.iter().copied())
        .env_remove("REDIS_URL")
        .args(["batch", class.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--exercise", "1", "--jobs", "2", "--timeout", "60", "--allow-unsandboxed"])
        .args(extra)
        .output()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn a_class_is_graded_into_a_gradebook_feedback_and_a_report() {
    let _one_at_a_time = serial();
    // The per-submission time limit below is short on purpose (dave hangs): build first.
    common::warm_build();
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    build_class(class.path());

    let first = batch(class.path(), out.path(), &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");

    assert_eq!(
        read(&out.path().join("gradebook.csv")),
        common::gradebook(
            "student,name,lms_id,sis_id,email,late,source,01-redis-setup,total,max,outcome\n\
         alice,alice,,,,,alice,20,20,20,graded\n\
         bob,bob,,,,,bob,18,18,20,graded\n\
         carol,carol,,,,,carol,0,0,20,graded\n\
         dave,dave,,,,,dave,0,0,20,timed_out\n\
         erin,erin,1234,,,late,erin_LATE_1234_5678_workbook.zip,20,20,20,graded\n\
         frank,frank,,,,,frank.zip,0,0,20,invalid\n\
         gina,gina,77,,,,gina_77_100_workbook.zip,0,0,20,graded\n\
         hal,hal,88,,,,hal_88_300_workbook.zip,0,0,20,invalid\n\
         José-García,José García,12,,,,José García_12_assignsubmission_file_/workbook.zip,20,20,20,graded\n\
         Zoë-Ångström,Zoë Ångström,21,,,,Zoe\u{308} A\u{30a}ngstro\u{308}m_21_assignsubmission_file_workbook.zip,0,0,20,invalid\n",
        ),
        "{stderr}"
    );

    // The LMS imports, each with its own students: Canvas' matched on user ids, in points,
    // Moodle's on participant ids, in percent; an invalid submission has no grade.
    assert_eq!(
        read(&out.path().join("canvas-import.csv")),
        "Student,ID,SIS User ID,SIS Login ID,Section,Caching & Performance workbook\n\
         Points Possible,,,,,20\nerin,1234,,,,20\ngina,77,,,,0\nhal,88,,,,\n"
    );
    let moodle = read(&out.path().join("moodle-grades.csv"));
    let rows: Vec<&str> = moodle.lines().collect();
    assert_eq!(rows.len(), 3, "{moodle}");
    assert!(rows[0].contains(",Grade,") && rows[0].contains("Last modified (grade)"), "{moodle}");
    assert!(rows[1].starts_with("Participant 12,José García,100,100,"), "{moodle}");
    assert!(rows[1].contains("20/20 points, entered as 100% (seed 9)"), "{moodle}");
    assert!(rows[2].starts_with("Participant 21,Zoë Ångström,,100,"), "{moodle}");
    assert!(rows[2].contains("Not graded: the archive is empty"), "{moodle}");

    let students = out.path().join("students");
    // Per student: the same JSON as --format json, Markdown feedback and Gradescope's file.
    let bob: serde_json::Value =
        serde_json::from_str(&read(&students.join("bob/result.json"))).unwrap();
    assert_eq!(bob["score"], 18);
    let feedback = read(&students.join("bob/feedback.md"));
    assert!(feedback.contains("session-expiry") && feedback.contains("*Hint:*"), "{feedback}");
    let gradescope: serde_json::Value =
        serde_json::from_str(&read(&students.join("bob/results.json"))).unwrap();
    assert_eq!(gradescope["score"], 18);
    assert_eq!(gradescope["tests"].as_array().unwrap().len(), 8);
    assert!(
        gradescope["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["status"] == "failed" && t["max_score"] == 2)
    );
    assert!(
        read(&students.join("carol/feedback.md")).contains("error"),
        "the compiler's message reaches carol"
    );
    assert!(read(&students.join("frank/meta.json")).contains("not a readable zip file"));
    // An unreadable submission's feedback gives its reason once, not once per criterion.
    let frank = read(&students.join("frank/feedback.md"));
    assert_eq!(frank.matches("not a readable zip file").count(), 1, "{frank}");
    // Every feedback file says how to grade the same way.
    for student in ["bob", "frank", "José-García"] {
        let feedback = read(&students.join(student).join("feedback.md"));
        assert!(feedback.contains("cargo run -p grader -- --seed 9 1\n"), "{feedback}");
    }
    // Gradescope shows the compiler's errors and the reason a submission was refused.
    let carol: serde_json::Value =
        serde_json::from_str(&read(&students.join("carol/results.json"))).unwrap();
    assert_eq!(carol["tests"].as_array().unwrap().len(), 1, "{carol:#}");
    assert!(carol["tests"][0]["output"].as_str().unwrap().contains("error"), "{carol:#}");
    assert_eq!(carol["tests"][0]["tags"], serde_json::json!(["does not build"]));
    let output = carol["output"].as_str().unwrap();
    assert!(output.contains("01-redis-setup does not build:\n"), "{output}");
    assert!(output.contains("unclosed delimiter"), "the compiler's error: {output}");
    let frank: serde_json::Value =
        serde_json::from_str(&read(&students.join("frank/results.json"))).unwrap();
    assert!(frank["output"].as_str().unwrap().contains("not a readable zip file"), "{frank:#}");
    assert_eq!(frank["tests"], serde_json::json!([]));
    assert!(gradescope["tests"][0]["tags"][0].is_string());
    // Files beside the workbook are attachments, and the feedback says so.
    let gina: serde_json::Value =
        serde_json::from_str(&read(&students.join("gina/meta.json"))).unwrap();
    assert_eq!(gina["attachments"], serde_json::json!(["gina_77_200_screenshots.zip"]));
    assert_eq!(gina.get("superseded"), None, "{gina:#}");
    let jose = read(&students.join("José-García/feedback.md"));
    // A file name is shown in code, as it is: no `\\_` in it.
    assert!(jose.contains("no workbook is in them: `José García_12"), "{jose}");
    // A refusal says what went wrong and what to change.
    for (student, wrong, to_do) in [
        ("hal", "looks truncated or damaged", "upload it again"),
        ("Zoë-Ångström", "the archive is empty", "zip the whole workbook folder"),
    ] {
        let meta: serde_json::Value =
            serde_json::from_str(&read(&students.join(student).join("meta.json"))).unwrap();
        let message = meta["message"].as_str().unwrap();
        assert!(message.contains(wrong) && message.contains(to_do), "{student}: {message}");
    }

    let html = read(&out.path().join("report.html"));
    for expected in [
        "Score distribution",
        "Pass rate per criterion",
        "students/dave/feedback.html",
        "ran out of time",
        "does not build",
        "José García",
        "data-seed=\"9\"",
    ] {
        assert!(html.contains(expected), "report.html lacks {expected:?}");
    }
    report_agrees_with_gradebook(&html, &read(&out.path().join("gradebook.csv")));
    // Similarity: the seven readable submissions are the reference solution or variants of it,
    // each flagged as such; what they share is the reference's, so no pair is worth a look.
    let similarity: serde_json::Value =
        serde_json::from_str(&read(&out.path().join("similarity.json"))).unwrap();
    assert_eq!(similarity["compared"], 7, "{similarity:#}");
    let mostly_reference: Vec<&str> = similarity["reference"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["student"].as_str().unwrap())
        .collect();
    for student in ["alice", "erin", "José-García"] {
        assert!(mostly_reference.contains(&student), "{student}: {similarity:#}");
    }
    assert!(
        students.join("alice/code.json").is_file() && !students.join("frank/code.json").exists()
    );
    assert!(
        html.contains("id=similarity data-pairs=0"),
        "report.html lacks the similarity section"
    );
    assert!(read(&out.path().join("similarity.csv")).starts_with("student_a,student_b,"));
    // The report as a browser shows it: every section there, the names as written.
    if let Some(rendered) = common::render_in_chromium(&out.path().join("report.html")) {
        for id in ["run", "summary", "flags", "exercises", "grid", "criteria"] {
            assert!(rendered.dom.contains(&format!("id=\"{id}\"")), "no #{id}: {}", rendered.dom);
        }
        assert!(rendered.dom.contains("José García") && !rendered.screenshot.is_empty());
        // Sorting works: two clicks on the grid's "total" heading sort it highest first.
        let clicked = out.path().join("report-sorted.html");
        let click = "<script>const total = document.querySelectorAll('#grid thead th')[3]; \
                     total.click(); total.click();</script></body>";
        std::fs::write(&clicked, html.replace("</body>", click)).unwrap();
        let sorted = common::render_in_chromium(&clicked).unwrap().dom;
        let grid = sorted.split("id=\"grid\"").nth(1).unwrap();
        let order: Vec<&str> = grid
            .split("data-student=\"")
            .skip(1)
            .map(|row| row.split('"').next().unwrap())
            .collect();
        assert_eq!(order.len(), 10, "{order:?}");
        assert!(["alice", "erin", "José-García"].contains(&order[0]), "{order:?}");
        let nothing = ["carol", "dave", "frank", "gina", "hal", "Zoë-Ångström"];
        assert!(nothing.contains(&order[9]), "{order:?}");
    }
    // Late erin is flagged, whatever her score; the feedback the report links to is HTML.
    let erin = html.split("<tr data-student=\"erin\">").nth(1).expect("erin is flagged");
    assert!(erin.split("</tr>").next().unwrap().contains(">late<"), "{erin}");
    let page = read(&students.join("carol/feedback.html"));
    assert!(page.contains("<h1>") && page.contains("<pre>"), "{page}");

    // A second run finds nothing changed and grades nothing ...
    let gradebook = read(&out.path().join("gradebook.csv"));
    let second = batch(class.path(), out.path(), &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("0 to grade, 10 unchanged"), "{stderr}");
    assert_eq!(read(&out.path().join("gradebook.csv")), gradebook);

    // ... and merging two overlapping halves of the output (alice is in both) gives the same
    // gradebook, each student once ...
    let (half_a, half_b, merged) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (index, entry) in std::fs::read_dir(&students).unwrap().enumerate() {
        let entry = entry.unwrap();
        let halves = if entry.file_name() == "alice" {
            vec![half_a.path(), half_b.path()]
        } else if index % 2 == 0 {
            vec![half_a.path()]
        } else {
            vec![half_b.path()]
        };
        for half in halves {
            copy_dir(&entry.path(), &half.join("students").join(entry.file_name()));
            std::fs::copy(out.path().join("batch.json"), half.join("batch.json")).unwrap();
        }
    }
    let merging = Command::cargo_bin("grader")
        .unwrap()
        .args(["merge", half_a.path().to_str().unwrap(), half_b.path().to_str().unwrap()])
        .args(["--out", merged.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&merging.stderr);
    assert!(merging.status.success(), "{stderr}");
    assert!(
        stderr.contains("merged 10 students") && stderr.contains("1 found in more"),
        "{stderr}"
    );
    assert_eq!(read(&merged.path().join("gradebook.csv")), gradebook);
    // The merge compares the whole class again from the code each part kept.
    let merged_similarity = read(&merged.path().join("similarity.json"));
    assert!(merged_similarity.contains("\"compared\": 7"), "{merged_similarity}");
    // ... which a batch into the merged folder resumes: same seed, nobody graded again.
    let resumed = batch(class.path(), merged.path(), &[]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(stderr.contains("0 to grade, 10 unchanged") && stderr.contains("seed 9"), "{stderr}");

    // A student whose file is gone leaves the gradebook (kept aside, not deleted).
    std::fs::remove_file(class.path().join("frank.zip")).unwrap();
    let without_frank = batch(class.path(), out.path(), &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&without_frank.stderr);
    assert!(stderr.contains("1 no longer in") && stderr.contains("frank"), "{stderr}");
    let rows: Vec<String> =
        read(&out.path().join("gradebook.csv")).lines().map(String::from).collect();
    assert_eq!(rows.len(), 10, "{rows:?}");
    assert!(!rows.iter().any(|row| row.starts_with("frank,")), "{rows:?}");
    assert!(out.path().join("gone/frank/meta.json").is_file());

    // A part graded with another seed is refused.
    let other = tempfile::tempdir().unwrap();
    copy_dir(&students.join("bob"), &other.path().join("students/bob"));
    std::fs::write(other.path().join("batch.json"), r#"{"seed": 10}"#).unwrap();
    let mixed = Command::cargo_bin("grader")
        .unwrap()
        .args(["merge", half_a.path().to_str().unwrap(), other.path().to_str().unwrap()])
        .args(["--out", tempfile::tempdir().unwrap().path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    assert_eq!(mixed.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("seed 10") && stderr.contains("same --seed"), "{stderr}");
}

/// The value of `attribute` in the element of report.html with `id` (or `data-exercise`).
fn attribute(html: &str, element: &str, attribute: &str) -> String {
    let tag = html.split(element).nth(1).unwrap_or_else(|| panic!("no {element} in the report"));
    let tag = tag.split('>').next().unwrap();
    let value = tag.split(&format!("{attribute}=")).nth(1).unwrap_or_else(|| panic!("{tag}"));
    value.trim_start_matches('"').split(['"', ' ']).next().unwrap().to_owned()
}

/// The report's figures are those of the gradebook's rows, without the invalid ones.
fn report_agrees_with_gradebook(html: &str, gradebook: &str) {
    // Each row without its last cell, `contained`: `outcome` is last then.
    let rows: Vec<Vec<&str>> = gradebook
        .lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').map_or(l, |(row, _)| row).split(',').collect())
        .collect();
    let outcome = |row: &Vec<&str>| row.last().unwrap().to_string();
    let counted: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|row| ["graded", "timed_out"].contains(&outcome(row).as_str()))
        .collect();
    let invalid = rows.iter().filter(|row| outcome(row) == "invalid").count();
    let number = |cell: &str| cell.parse::<f64>().unwrap();
    let column = |row: &Vec<&str>, from_end: usize| number(row[row.len() - from_end]);
    let mut percents: Vec<f64> =
        counted.iter().map(|row| column(row, 3) * 100.0 / column(row, 2)).collect();
    percents.sort_by(f64::total_cmp);
    let n = percents.len();
    let mean = percents.iter().sum::<f64>() / n as f64;
    let median = (percents[(n - 1) / 2] + percents[n / 2]) / 2.0;
    let summary = "id=summary";
    assert_eq!(attribute(html, summary, "data-submissions"), rows.len().to_string());
    assert_eq!(attribute(html, summary, "data-counted"), counted.len().to_string());
    assert_eq!(attribute(html, summary, "data-invalid"), invalid.to_string());
    assert_eq!(attribute(html, summary, "data-mean"), format!("{mean:.1}"));
    assert_eq!(attribute(html, summary, "data-median"), format!("{median:.1}"));
    // This class: 100 90 0 0 100 0 100 → a median of 90.
    assert_eq!((counted.len(), invalid, format!("{median:.1}")), (7, 3, "90.0".to_owned()));
    let scores: Vec<f64> = counted.iter().map(|row| column(row, 4)).collect();
    let exercise = "data-exercise=\"01-redis-setup\"";
    let exercise_mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert_eq!(attribute(html, exercise, "data-mean"), format!("{exercise_mean:.2}"));
    let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(attribute(html, exercise, "data-min"), min.to_string());
    assert_eq!(attribute(html, exercise, "data-max"), max.to_string());
}

#[test]
fn shards_named_by_schedulers_partition_the_class_with_one_seed() {
    let class = tempfile::tempdir().unwrap();
    for student in ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"] {
        std::fs::create_dir_all(class.path().join(student)).unwrap();
    }
    // The book's recipes: a Slurm array (`--array=1-2`), a Kubernetes Indexed Job of two
    // completions, and GitHub Actions' matrix through GRADER_SHARD; no --seed anywhere.
    let schedulers: [&[(&str, &str)]; 3] = [
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ],
        &[("JOB_COMPLETION_INDEX", "1"), ("GRADER_SHARD_COUNT", "2")],
        &[("GRADER_SHARD", "2/2")],
    ];
    let mut seen = Vec::new();
    let mut seeds = Vec::new();
    let mut outs = Vec::new();
    for env in schedulers {
        let out = tempfile::tempdir().unwrap();
        // No exercises folder: each is graded as invalid at once, which is enough to see who.
        let run = batch_with_env(class.path(), out.path(), &[], env);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{stderr}");
        let gradebook = read(&out.path().join("gradebook.csv"));
        let shard: Vec<String> = gradebook
            .lines()
            .skip(1)
            .map(|line| line.split(',').next().unwrap().to_owned())
            .collect();
        assert_eq!(shard.len(), 4, "shards are balanced: {shard:?}");
        seen.push(shard);
        let info: serde_json::Value =
            serde_json::from_str(&read(&out.path().join("batch.json"))).unwrap();
        seeds.push(info["seed"].as_u64().unwrap());
        outs.push(out);
    }
    assert_eq!(seen[1], seen[2], "Kubernetes' index 1 and GRADER_SHARD 2/2 are one shard");
    let mut everyone = [seen[0].clone(), seen[1].clone()].concat();
    everyone.sort();
    assert_eq!(everyone, ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"]);
    assert!(seeds.iter().all(|seed| *seed == seeds[0]), "one seed for every shard: {seeds:?}");

    // The recipes' last step: merge the shards.
    let merged = tempfile::tempdir().unwrap();
    Command::cargo_bin("grader")
        .unwrap()
        .args(["merge", outs[0].path().to_str().unwrap(), outs[1].path().to_str().unwrap()])
        .args(["--out", merged.path().to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicates::str::contains("merged 8 students"));
}

#[test]
fn an_interrupted_batch_resumes_without_losing_a_grade() {
    let _one_at_a_time = serial();
    common::warm_build();
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let solution = root().join("solutions").join(EXERCISE);
    for student in ["amy", "ben", "cy"] {
        copy_dir(&solution, &class.path().join(student).join(EXERCISE));
    }

    // Kill the batch as soon as the first student's result is on disk.
    let mut running = std::process::Command::new(assert_cmd::cargo::cargo_bin("grader"))
        .args(["batch", class.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()])
        .args(["--exercise", "1", "--jobs", "1", "--allow-unsandboxed"])
        .env_remove("REDIS_URL")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_meta = || {
        std::fs::read_dir(out.path().join("students"))
            .map(|entries| {
                entries.flatten().filter(|e| e.path().join("meta.json").exists()).count()
            })
            .unwrap_or(0)
    };
    while first_meta() == 0 {
        assert!(
            running.try_wait().unwrap().is_none(),
            "the batch ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    running.kill().unwrap();
    running.wait().unwrap();
    let finished = first_meta();
    assert!(finished < 3, "the batch was interrupted after {finished} of 3");

    // The second run (no --seed: the batch's own is reused) grades only what the first did not
    // finish, and every grade is whole.
    let resumed = batch(class.path(), out.path(), &[]);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!("{} to grade, {finished} unchanged", 3 - finished)),
        "{stderr}"
    );
    assert_eq!(
        read(&out.path().join("gradebook.csv")),
        common::gradebook(
            "student,name,lms_id,sis_id,email,late,source,01-redis-setup,total,max,outcome\n\
         amy,amy,,,,,amy,20,20,20,graded\nben,ben,,,,,ben,20,20,20,graded\n\
         cy,cy,,,,,cy,20,20,20,graded\n",
        )
    );
}

#[test]
fn the_gradescope_bundle_grades_a_simulated_autograder_folder() {
    let _one_at_a_time = serial();
    common::warm_build();
    let bundle = tempfile::tempdir().unwrap();
    Command::cargo_bin("grader")
        .unwrap()
        .args(["gradescope-bundle", bundle.path().to_str().unwrap()])
        .args(["--exercise", "1", "--allow-unsandboxed"])
        .assert()
        .success();
    assert!(bundle.path().join("setup.sh").is_file());
    assert!(bundle.path().join("workbook/grader/Cargo.toml").is_file(), "the workbook is bundled");

    // Gradescope's layout: the student's upload in ROOT/submission, results in ROOT/results.
    let root = tempfile::tempdir().unwrap();
    let bob =
        Fixture::all(EXERCISE).into_iter().find(|f| f.name == "sessions-without-ttl").unwrap();
    bob.materialise(&root.path().join("submission"));
    let run = std::process::Command::new(bundle.path().join("run_autograder"))
        .env("GRADESCOPE_ROOT", root.path())
        .env("GRADER", assert_cmd::cargo::cargo_bin("grader"))
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let results: serde_json::Value =
        serde_json::from_str(&read(&root.path().join("results/results.json"))).unwrap();
    assert_eq!(results["score"], 18, "{results:#}");
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 8, "{results:#}");
    let failed: Vec<&serde_json::Value> =
        tests.iter().filter(|t| t["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{results:#}");
    assert_eq!(failed[0]["tags"], serde_json::json!(["security"]), "{results:#}");
    assert!(failed[0]["output"].as_str().unwrap().contains("Hint:"), "{results:#}");
}

/// A fault of the grader's while it starts a student's service (bubblewrap gone, no process
/// left) is the grader's: the submission is not graded rather than given a zero, the run says
/// to run again, and the next run grades it in full. The fault is injected through the
/// library, in this process, for this run's seed alone.
#[test]
fn a_grader_fault_at_a_service_start_is_graded_again_by_the_next_run() {
    use grader::run::testbed::injected_faults;

    let _serial = serial();
    let class = tempfile::tempdir().unwrap();
    copy_dir(&root().join("solutions").join(EXERCISE), &class.path().join("ada").join(EXERCISE));
    let out = tempfile::tempdir().unwrap();
    let seed = 290_002;
    let options = grader::batch::Options {
        submissions: class.path().to_owned(),
        exercises: grader::course::select(Some(EXERCISE)).unwrap(),
        out: out.path().to_owned(),
        jobs: 1,
        regrade: false,
        shard: None,
        seed: Some(seed),
        timeout: std::time::Duration::from_secs(300),
        build_timeout: std::time::Duration::from_secs(1800),
        uncontained: grader::run::containment::missing(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let meta = out.path().join("students/ada/meta.json");

    injected_faults::fail_starts(seed, true);
    let faulty = runtime.block_on(grader::batch::run(&options));
    injected_faults::fail_starts(seed, false);
    let faulty = faulty.unwrap();
    assert_eq!((faulty.errors, faulty.graded), (1, 0), "{faulty:?}");
    let said = read(&meta);
    assert!(said.contains("\"outcome\": \"error\""), "{said}");
    assert!(said.contains("the grader could not start the service"), "{said}");
    let gradebook = read(&out.path().join("gradebook.csv"));
    let ada = gradebook.lines().find(|line| line.starts_with("ada,")).unwrap_or_default();
    assert!(!ada.contains(",0,"), "a grader fault became a zero: {ada}");

    let again = runtime.block_on(grader::batch::run(&options)).unwrap();
    assert_eq!((again.errors, again.graded, again.skipped), (0, 1, 0), "{again:?}");
    let said = read(&meta);
    assert!(said.contains("\"outcome\": \"graded\""), "{said}");
    let results = read(&out.path().join("students/ada/results.json"));
    assert!(results.contains("\"score\": 20"), "{results}");
}
