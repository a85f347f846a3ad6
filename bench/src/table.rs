//! The benchmark's one report: the machine, then every figure side by side in Markdown (for
//! the terminal and for the book alike).

use std::fmt::Write as _;
use std::time::Duration;

use crate::first_scorecard::FirstScorecard;
use crate::grading::BatchCost;
use crate::load::Load;
use crate::machine::Machine;
use crate::similarity::SimilarityCost;
use crate::watch::AfterSave;

/// Who answered the requests of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Solution,
    Django,
    /// axum answering with one Redis `GET` of the same bytes: the limit of any page cache
    /// backed by Redis.
    OneGetLimit,
    /// `redis-benchmark` GET of the same bytes: what Redis alone serves.
    RedisLimit,
    /// axum answering the same bytes with no Redis: what the framework alone serves.
    FrameworkLimit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub role: Role,
    pub server: String,
    pub load: Load,
    /// The size of one answer's body.
    pub bytes: Option<usize>,
    /// SQL statements the service ran during the load (from `/__workbook/stats`).
    pub queries: Option<u64>,
}

/// One page measured on every server.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub title: String,
    pub rows: Vec<Row>,
}

impl Page {
    fn rate_of(&self, role: Role) -> Option<f64> {
        self.rows.iter().find(|row| row.role == role).map(|row| row.load.requests_per_second)
    }
}

/// The grader's cost, each part optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraderCost {
    /// The exercise graded, e.g. `02-view-cache`.
    pub exercise: String,
    /// A new student's fresh clone: the first scorecard and a re-grade after an edit.
    pub first_scorecard: Option<FirstScorecard>,
    /// `grader --watch` after a save, per exercise (`--watch`).
    pub after_save: Vec<AfterSave>,
    pub warm_seconds: Option<f64>,
    /// The same grade without the containment (`--without-containment`), just after it: the
    /// difference is what bubblewrap, run users, the network namespace, cgroups and the run's
    /// disk cost one submission.
    pub uncontained_seconds: Option<f64>,
    /// The class of one exercise, at the default `-j` and then at `-j` = the machine's cores
    /// when that differs.
    pub batches: Vec<BatchCost>,
    /// A class of full submissions (every exercise solved), at the default `-j`.
    pub full_batch: Option<BatchCost>,
    /// One full submission through the Gradescope bundle's `run_autograder`, after warm-up.
    pub gradescope_seconds: Option<f64>,
    /// The class similarity check over a generated class of full submissions.
    pub similarity: Option<SimilarityCost>,
    /// The grader's default `-j` and the machine's cores, to say which `-j` each batch used.
    pub default_jobs: usize,
    pub cores: usize,
}

pub struct Report {
    pub started: Machine,
    pub ended: Machine,
    /// How the load was applied, e.g. `wrk -t2 -c64 -d10s --latency`.
    pub settings: String,
    pub pages: Vec<Page>,
    pub grader: Option<GraderCost>,
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let load = |machine: &Machine| match machine.load_average {
        Some([one, five, fifteen]) => format!("{one:.2} {five:.2} {fifteen:.2}"),
        None => "unknown".to_owned(),
    };
    let _ = writeln!(out, "Benchmark of {}", report.started.date);
    let _ = writeln!(
        out,
        "machine: {} cores; load average {} at the start, {} at the end ({})",
        report.started.cores,
        load(&report.started),
        load(&report.ended),
        report.ended.date
    );
    let _ = writeln!(out, "load: {}\n", report.settings);
    if report.pages.iter().any(|page| !page.rows.is_empty()) {
        out.push_str(&serving_table(&report.pages));
    }
    if let Some(grader) = &report.grader {
        out.push('\n');
        out.push_str(&grader_rows(grader));
    }
    out
}

fn serving_table(pages: &[Page]) -> String {
    let mut out = String::new();
    out.push_str(
        "| page | server | req/s | p50 | p99 | errors | body | DB queries | vs Django | of axum + GET | of Redis GET | of axum fixed |\n\
         | --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n",
    );
    for page in pages {
        for row in &page.rows {
            out.push_str(&serving_row(page, row));
        }
    }
    out
}

fn serving_row(page: &Page, row: &Row) -> String {
    let rate = row.load.requests_per_second;
    let measured = matches!(row.role, Role::Solution | Role::Django);
    let compared = |role: Role, format: fn(f64) -> String| match page.rate_of(role) {
        Some(reference) if measured && row.role != role && reference > 0.0 => {
            format(rate / reference)
        }
        _ => "—".to_owned(),
    };
    let times = |ratio: f64| format!("{ratio:.1}×");
    let percent = |ratio: f64| format!("{:.0} %", ratio * 100.0);
    let optional = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    format!(
        "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        page.title,
        row.server,
        rate,
        duration(row.load.p50),
        duration(row.load.p99),
        optional(row.load.errors.map(|errors| errors.to_string())),
        optional(row.bytes.map(size)),
        optional(row.queries.map(|queries| queries.to_string())),
        compared(Role::Django, times),
        compared(Role::OneGetLimit, percent),
        compared(Role::RedisLimit, percent),
        compared(Role::FrameworkLimit, percent),
    )
}

fn grader_rows(grader: &GraderCost) -> String {
    let exercise = &grader.exercise;
    let mut rows = vec![];
    if let Some(first) = &grader.first_scorecard {
        rows.extend(first_scorecard_rows(first));
    }
    for wait in &grader.after_save {
        rows.extend(after_save_rows(wait));
    }
    if let Some(seconds) = grader.warm_seconds {
        rows.push((
            format!("one student, warm build ({exercise})"),
            seconds,
            "dependencies already built; the student's crate rebuilt".to_owned(),
        ));
        if let Some(uncontained) = grader.uncontained_seconds {
            rows.push((
                format!("… the same without containment ({exercise})"),
                uncontained,
                format!(
                    "`--without-containment`: no bubblewrap, run users, network namespace, \
                     cgroups or run disk; the containment costs {:+.1} s a submission",
                    seconds - uncontained
                ),
            ));
        }
    }
    let one_at_a_time = grader.batches.iter().find(|batch| batch.jobs == 1);
    for batch in &grader.batches {
        let mut jobs = jobs_note(batch.jobs, grader);
        if let Some(baseline) = one_at_a_time.filter(|_| batch.jobs > 1) {
            let gain = baseline.seconds_per_submission / batch.seconds_per_submission;
            let _ = write!(jobs, "; {gain:.2}× the throughput of -j 1");
        }
        rows.extend(batch_rows(batch, &format!("submissions of {exercise}"), &jobs));
    }
    if let Some(batch) = &grader.full_batch {
        let jobs = jobs_note(batch.jobs, grader);
        rows.extend(batch_rows(batch, "full submissions (every exercise solved)", &jobs));
    }
    if let Some(seconds) = grader.gradescope_seconds {
        rows.push((
            "one full submission on Gradescope".to_owned(),
            seconds,
            "the bundle's `run_autograder` on a fresh folder after `setup.sh`'s warm-up: \
             every exercise built and graded"
                .to_owned(),
        ));
    }
    if let Some(similarity) = &grader.similarity {
        rows.push(similarity_row(similarity));
    }
    let mut out = String::from("| grader cost | seconds | what |\n| --- | --: | --- |\n");
    for (what, seconds, note) in rows {
        let _ = writeln!(out, "| {what} | {seconds:.1} | {note} |");
    }
    out
}

type CostRow = (String, f64, String);

fn first_scorecard_rows(first: &FirstScorecard) -> [CostRow; 3] {
    [
        (
            "first scorecard (fresh clone, cold)".to_owned(),
            first.first_seconds,
            "`cargo run -p grader -- 1` in a fresh `git clone` to its scorecard: the grader and \
             every dependency compiled"
                .to_owned(),
        ),
        (
            "re-grade after an edit".to_owned(),
            first.regrade_seconds,
            "the same command after a comment added to 01-redis-setup's `src/lib.rs`".to_owned(),
        ),
        (
            "… of which build".to_owned(),
            first.regrade_build_seconds,
            "from the grader's `building` line to its `grading` line".to_owned(),
        ),
    ]
}

/// What a student waits for in `--watch` after saving a file of `wait.exercise`.
fn after_save_rows(wait: &AfterSave) -> [CostRow; 2] {
    let exercise = &wait.exercise;
    [
        (
            format!("--watch: first verdict after a save ({exercise})"),
            wait.first_verdict,
            format!(
                "from the save: the build took {:.1} s, the first verdict came {:.1} s after it",
                wait.built,
                wait.first_verdict_after_build()
            ),
        ),
        (
            format!("--watch: whole scorecard after a save ({exercise})"),
            wait.scorecard,
            "from the save to the scorecard's `Total` line".to_owned(),
        ),
    ]
}

/// A class's whole run and its cost per submission, e.g. of `submissions of 02-view-cache`.
fn batch_rows(batch: &BatchCost, of: &str, jobs: &str) -> [CostRow; 2] {
    let n = batch.submissions;
    [
        (
            format!("batch of {n} {of}, -j {}", batch.jobs),
            batch.wall_seconds,
            format!("`grader batch`, whole run; {} of {n} scored as expected", batch.as_expected),
        ),
        (
            format!("… per submission at -j {}", batch.jobs),
            batch.seconds_per_submission,
            format!("the whole run's wall time over its submissions; {jobs}"),
        ),
    ]
}

/// The similarity check of a generated class, as `grader batch` runs it at its end.
fn similarity_row(cost: &SimilarityCost) -> CostRow {
    (
        format!("similarity of {} full submissions", cost.submissions),
        cost.seconds,
        format!(
            "the solutions renamed and reordered at random, {} of code each: read, tokenised, \
             winnowed, indexed, pages written; {} pairs worth a look, {} mostly the reference",
            size(cost.bytes_per_submission),
            cost.pairs_worth_a_look,
            cost.mostly_reference
        ),
    )
}

/// Where a batch's `-j` came from: the grader's default, the machine's cores, or both.
fn jobs_note(jobs: usize, grader: &GraderCost) -> String {
    let cores = grader.cores;
    match (jobs == grader.default_jobs, jobs == cores) {
        (true, true) => format!("the default -j, which is the machine's {cores} cores"),
        (true, false) => format!("the default -j (the memory allows fewer than the {cores} cores)"),
        (false, true) => format!("-j = the machine's {cores} cores"),
        (false, false) => format!("-j {jobs}"),
    }
}

/// `850 µs`, `1.23 ms`, `2.50 s`.
pub fn duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.2} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

/// `512 B`, `93.8 KiB`.
pub fn size(bytes: usize) -> String {
    if bytes < 1024 { format!("{bytes} B") } else { format!("{:.1} KiB", bytes as f64 / 1024.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(role: Role, requests_per_second: f64) -> Row {
        Row {
            role,
            server: format!("{role:?}"),
            load: Load {
                requests_per_second,
                p50: Duration::from_micros(850),
                p99: Duration::from_micros(12_340),
                errors: Some(0),
            },
            bytes: Some(96_045),
            queries: None,
        }
    }

    fn report(rows: Vec<Row>, grader: Option<GraderCost>) -> Report {
        let machine = Machine {
            cores: 2,
            load_average: Some([3.91, 2.13, 0.87]),
            date: "Mon, 30 Nov 2026 17:40:00 GMT".into(),
        };
        Report {
            started: machine.clone(),
            ended: machine,
            settings: "wrk -t2 -c64 -d10s --latency".into(),
            pages: vec![Page { title: "task list".into(), rows }],
            grader,
        }
    }

    #[test]
    fn ratios_compare_each_server_with_django_and_the_limits() {
        let rows = vec![
            row(Role::Solution, 6000.0),
            row(Role::Django, 1500.0),
            row(Role::OneGetLimit, 7500.0),
            row(Role::RedisLimit, 20000.0),
            row(Role::FrameworkLimit, 8000.0),
        ];
        let table = render(&report(rows, None));

        assert!(table.contains("machine: 2 cores; load average 3.91 2.13 0.87"), "{table}");
        assert!(
            table.contains("| task list | Solution | 6000 | 850 µs | 12.34 ms | 0 | 93.8 KiB | — | 4.0× | 80 % | 30 % | 75 % |"),
            "{table}"
        );
        assert!(table.contains("| task list | Django | 1500 | 850 µs | 12.34 ms | 0 | 93.8 KiB | — | — | 20 % | 8 % | 19 % |"), "{table}");
        assert!(table.contains("| task list | RedisLimit | 20000 | 850 µs | 12.34 ms | 0 | 93.8 KiB | — | — | — | — | — |"), "{table}");
    }

    #[test]
    fn a_missing_server_leaves_its_ratio_empty() {
        let table = render(&report(vec![row(Role::Solution, 6000.0)], None));
        assert!(
            table.contains("| 6000 | 850 µs | 12.34 ms | 0 | 93.8 KiB | — | — | — | — | — |"),
            "{table}"
        );
    }

    fn batch(submissions: usize, wall_seconds: f64, jobs: usize) -> BatchCost {
        BatchCost {
            submissions,
            wall_seconds,
            jobs,
            seconds_per_submission: wall_seconds / submissions as f64,
            as_expected: submissions,
        }
    }

    #[test]
    fn the_grader_rows_show_only_what_was_measured() {
        let grader = GraderCost {
            exercise: "02-view-cache".into(),
            warm_seconds: Some(14.24),
            uncontained_seconds: Some(12.04),
            batches: vec![batch(20, 300.0, 2)],
            default_jobs: 2,
            cores: 2,
            ..GraderCost::default()
        };
        let table = render(&report(vec![], Some(grader)));
        assert!(!table.contains("first scorecard"), "{table}");
        assert!(!table.contains("full submissions"), "{table}");
        assert!(table.contains("| one student, warm build (02-view-cache) | 14.2 |"), "{table}");
        assert!(table.contains("| … the same without containment (02-view-cache) | 12.0 |"));
        assert!(table.contains("the containment costs +2.2 s a submission"), "{table}");
        assert!(
            table.contains("| batch of 20 submissions of 02-view-cache, -j 2 | 300.0 |"),
            "{table}"
        );
        assert!(table.contains("20 of 20 scored as expected"), "{table}");
        assert!(table.contains("| … per submission at -j 2 | 15.0 |"), "{table}");
        assert!(table.contains("the default -j, which is the machine's 2 cores"), "{table}");
    }

    #[test]
    fn a_new_students_first_scorecard_and_re_grade() {
        let grader = GraderCost {
            exercise: "02-view-cache".into(),
            first_scorecard: Some(FirstScorecard {
                first_seconds: 412.34,
                regrade_seconds: 9.87,
                regrade_build_seconds: 3.21,
            }),
            ..GraderCost::default()
        };
        let table = render(&report(vec![], Some(grader)));
        assert!(table.contains("| first scorecard (fresh clone, cold) | 412.3 |"), "{table}");
        assert!(table.contains("fresh `git clone`"), "{table}");
        assert!(table.contains("| re-grade after an edit | 9.9 |"), "{table}");
        assert!(table.contains("| … of which build | 3.2 |"), "{table}");
    }

    #[test]
    fn batches_at_the_default_j_and_at_the_cores_and_of_full_submissions() {
        let grader = GraderCost {
            exercise: "02-view-cache".into(),
            batches: vec![batch(20, 480.0, 1), batch(20, 300.0, 2), batch(20, 240.0, 4)],
            full_batch: Some(batch(3, 180.0, 2)),
            gradescope_seconds: Some(41.26),
            default_jobs: 2,
            cores: 4,
            ..GraderCost::default()
        };
        let table = render(&report(vec![], Some(grader)));
        assert!(table.contains("| … per submission at -j 2 | 15.0 |"), "{table}");
        assert!(table.contains("the default -j (the memory allows fewer than the 4 cores)"));
        assert!(
            table.contains("| batch of 20 submissions of 02-view-cache, -j 4 | 240.0 |"),
            "{table}"
        );
        assert!(table.contains("| … per submission at -j 4 | 12.0 |"), "{table}");
        assert!(table.contains("-j = the machine's 4 cores"), "{table}");
        assert!(
            table.contains("| batch of 3 full submissions (every exercise solved), -j 2 | 180.0 |"),
            "{table}"
        );
        assert!(table.contains("| … per submission at -j 2 | 60.0 |"), "{table}");
        assert!(table.contains("1.60× the throughput of -j 1"), "{table}");
        assert!(table.contains("2.00× the throughput of -j 1"), "{table}");
        assert!(table.contains("| one full submission on Gradescope | 41.3 |"), "{table}");
    }

    #[test]
    fn the_similarity_row_stands_alone() {
        let similarity = SimilarityCost {
            submissions: 500,
            seconds: 7.24,
            bytes_per_submission: 90_000,
            pairs_worth_a_look: 0,
            mostly_reference: 500,
        };
        let grader = GraderCost { similarity: Some(similarity), ..GraderCost::default() };
        let table = render(&report(vec![], Some(grader)));
        assert!(table.contains("| similarity of 500 full submissions | 7.2 |"), "{table}");
        assert!(table.contains("87.9 KiB of code each"), "{table}");
        assert!(!table.contains("warm build"), "{table}");
    }

    #[test]
    fn the_wait_after_a_save_is_shown_per_exercise() {
        let wait = AfterSave {
            exercise: "02-view-cache".to_owned(),
            built: 3.1,
            first_verdict: 4.0,
            scorecard: 9.5,
        };
        let grader = GraderCost { after_save: vec![wait], ..GraderCost::default() };
        let table = render(&report(vec![], Some(grader)));
        assert!(table.contains("| --watch: first verdict after a save (02-view-cache) | 4.0 |"));
        assert!(table.contains("the first verdict came 0.9 s after it"), "{table}");
        assert!(table.contains("| --watch: whole scorecard after a save (02-view-cache) | 9.5 |"));
    }

    #[test]
    fn without_serving_figures_the_serving_table_is_left_out() {
        let table = render(&report(vec![], None));
        assert!(!table.contains("| page | server |"), "{table}");
        let table = render(&report(vec![row(Role::Solution, 6000.0)], None));
        assert!(table.contains("| page | server |"), "{table}");
    }

    #[test]
    fn durations_and_sizes_in_readable_units() {
        assert_eq!(duration(Duration::from_micros(1_500_000)), "1.50 s");
        assert_eq!(size(512), "512 B");
    }
}
