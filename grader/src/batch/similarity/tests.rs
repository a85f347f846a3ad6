//! A test class, in memory: pairs that copied behind renamed names, reordered functions,
//! rewritten comments and new layout (each worth a look); independent solutions and the
//! untouched starter (not); a near-copy of the reference solution (flagged as such).

use super::*;

const FILE: &str = "03-low-level-cache/src/reports.rs";

const STARTER: &str = include_str!("tests/starter.rs");
const REFERENCE: &str = include_str!("tests/reference.rs");
/// Two solutions written apart from each other and from the reference.
const ANN: &str = include_str!("tests/ann.rs");
const CY: &str = include_str!("tests/cy.rs");

fn code(text: &str) -> Code {
    let mut code = Code::default();
    code.files.insert(FILE.to_owned(), text.to_owned());
    code
}

/// `text` with each name of `renames` replaced by another, as a copier does with find and
/// replace.
fn renamed(text: &str, renames: &[(&str, &str)]) -> String {
    renames.iter().fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
}

/// `text` laid out anew: no indentation, and a line that ends in `,`, `(` or `{` joined with
/// the next.
fn relaid(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim) {
        out.push_str(line);
        out.push(if line.ends_with([',', '(', '{']) && !line.contains("//") { ' ' } else { '\n' });
    }
    out
}

/// `text` with its top-level items (blocks separated by a blank line) in reverse order, and
/// every comment reworded.
fn reordered_and_recommented(text: &str) -> String {
    let mut items: Vec<&str> = text.split("\n\n").collect();
    items.reverse();
    items
        .join("\n\n")
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => format!("{}// my own words here", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn class() -> Vec<(String, Code)> {
    let bob = renamed(
        ANN,
        &[("conn", "redis_link"), ("stored", "hit"), ("fresh", "value"), ("pattern", "glob")],
    );
    let fay = reordered_and_recommented(CY);
    let gus = relaid(ANN);
    let eve = renamed(REFERENCE, &[("connection", "c"), ("cached", "found"), ("key", "k")]);
    [
        ("ann", ANN.to_owned()),
        ("bob", bob),
        ("cy", CY.to_owned()),
        ("dee", STARTER.to_owned()),
        ("eve", eve),
        ("fay", fay),
        ("gus", gus),
    ]
    .into_iter()
    .map(|(student, text)| (student.to_owned(), code(&text)))
    .collect()
}

fn worth_a_look(findings: &Findings) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = findings
        .pairs
        .iter()
        .filter(|pair| pair.worth_a_look())
        .map(|pair| (pair.a.as_str(), pair.b.as_str()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn copies_are_worth_a_look_and_independent_work_is_not() {
    let class = class();
    let findings = compare(&class, &code(STARTER), &code(REFERENCE)).findings;
    for pair in &findings.pairs {
        eprintln!("{} {} {:?}", pair.a, pair.b, pair.exercises);
    }
    // Renamed (bob), reordered and recommented (fay), laid out anew (gus); ann and cy wrote
    // their own, dee handed in the starter, eve the reference.
    assert_eq!(
        worth_a_look(&findings),
        [("ann", "bob"), ("ann", "gus"), ("bob", "gus"), ("cy", "fay")]
    );
    let reference: Vec<&str> = findings.reference.iter().map(|f| f.student.as_str()).collect();
    assert_eq!(reference, ["eve"]);
    assert_eq!(findings.reference[0].exercises[0].exercise, "03-low-level-cache");
}

#[test]
fn the_starter_alone_leaves_nothing_to_compare() {
    let starter = compare::all_kgrams(&code(STARTER));
    let fingerprints = compare::fingerprint(&code(STARTER), &starter);
    assert!(fingerprints.exercises.values().all(|hashes| hashes.is_empty()));
}

#[test]
fn the_pages_mark_both_sides_and_escape_the_code() {
    let hostile = format!("{ANN}\n// </pre><script>alert(1)</script>\n");
    let class = vec![("ann".to_owned(), code(&hostile)), ("bob".to_owned(), code(&relaid(ANN)))];
    let comparison = compare(&class, &code(STARTER), &code(REFERENCE));
    let pages = pages::pair_pages(&comparison);
    assert_eq!(pages.len(), 1);
    let (pair, page) = &pages[0];
    assert_eq!(pair.page(), "similarity/ann--bob.html");
    assert!(page.contains("<mark data-region=1>"), "{page}");
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");

    let csv = String::from_utf8(pages::csv(&comparison.findings).unwrap()).unwrap();
    assert!(csv.starts_with("student_a,student_b,exercise,"), "{csv}");
    assert!(csv.contains("\nann,bob,03-low-level-cache,"), "{csv}");
    let section = section(Some(&comparison.findings));
    assert!(section.contains("href=\"similarity/ann--bob.html\""), "{section}");
    assert!(section.contains("No verdict"), "{section}");
}

#[test]
fn the_workbooks_reference_is_flagged_in_every_exercise_and_its_starter_is_empty() {
    let exercises = course::exercises();
    let starter = Code::read(&course::root().join("exercises"), &exercises);
    let reference = Code::read(&course::root().join("solutions"), &exercises);
    let class = vec![("dee".to_owned(), starter.clone()), ("eve".to_owned(), reference.clone())];

    let findings = compare(&class, &starter, &reference).findings;

    assert!(worth_a_look(&findings).is_empty());
    let flagged: Vec<&str> =
        findings.reference[0].exercises.iter().map(|e| e.exercise.as_str()).collect();
    assert_eq!(findings.reference.len(), 1);
    assert_eq!(flagged.len(), exercises.len(), "{flagged:?}");
}

#[test]
fn merge_compares_from_the_kept_code_alone() {
    let out = tempfile::tempdir().unwrap();
    for (student, code) in class() {
        let dir = meta::student_dir(out.path(), &student);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = serde_json::json!({
            "student": student, "source": student, "fingerprint": "", "outcome": "graded",
            "seconds": 0.0
        });
        std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
        keep_code(out.path(), &student, Some(&code)).unwrap();
    }
    std::fs::create_dir_all(meta::student_dir(out.path(), "old")).unwrap();
    let meta =
        r#"{"student":"old","source":"old","fingerprint":"","outcome":"graded","seconds":0}"#;
    std::fs::write(meta::student_dir(out.path(), "old").join("meta.json"), meta).unwrap();

    let findings = write_class_files(out.path()).unwrap();

    assert_eq!(findings.compared, 7);
    assert_eq!(findings.without_code, ["old"]);
    let loaded = load(out.path()).unwrap();
    assert_eq!((loaded.compared, loaded.pairs.len()), (7, findings.pairs.len()));
    assert!(out.path().join("similarity/ann--bob.html").is_file());
    assert!(out.path().join("similarity.csv").is_file());
}
