//! Exercise 2 compares the latency of hits and misses: the one check that looks at a clock.
//! With a busy core beside it, the solution still passes it every time, and a cache whose hits
//! save nothing still fails it every time.

mod common;

use common::{BusyCore, Fixture, grade, root, serial};

const EXERCISE: &str = "02-view-cache";

/// The failed criteria of `runs` gradings of `path`, one seed each.
fn failures(path: &std::path::Path, runs: u64) -> Vec<Vec<String>> {
    (0..runs)
        .map(|seed| grade(200 + seed, &["--path", path.to_str().unwrap(), "2"]).failed(EXERCISE))
        .collect()
}

#[test]
fn hit_and_miss_latencies_are_judged_the_same_way_under_load() {
    let _one_at_a_time = serial();
    let _busy = BusyCore::start();

    let solution = failures(&root().join("solutions"), 3);
    assert!(solution.iter().all(Vec::is_empty), "{solution:?}");

    let fixture =
        Fixture::all(EXERCISE).into_iter().find(|f| f.name == "handler-runs-on-hit").unwrap();
    let dir = tempfile::tempdir().unwrap();
    fixture.materialise(dir.path());
    let variant = failures(dir.path(), 3);
    assert!(variant.iter().all(|failed| *failed == fixture.fails), "{variant:?}");
}
