//! The reference solutions earn full marks and the starters earn nothing, for every exercise.

mod common;

use common::{grade, root, serial};

#[test]
fn every_solution_earns_full_marks_and_exit_code_0() {
    let _one_at_a_time = serial();
    let run = grade(11, &["--path", root().join("solutions").to_str().unwrap()]);
    for exercise in run.json["exercises"].as_array().unwrap() {
        let id = exercise["id"].as_str().unwrap();
        assert!(run.failed(id).is_empty(), "{}", run.explain(id));
        assert_eq!(exercise["score"], exercise["max_score"]);
    }
    assert_eq!(run.json["score"], run.json["max_score"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn every_starter_builds_runs_and_earns_nothing() {
    let _one_at_a_time = serial();
    let run = grade(12, &[]);
    for exercise in run.json["exercises"].as_array().unwrap() {
        let id = exercise["id"].as_str().unwrap();
        assert_eq!(
            exercise["stage"],
            "graded",
            "the starter of {id} must build and start: {}",
            run.explain(id)
        );
        assert_eq!(exercise["score"], 0, "{}", run.explain(id));
        assert!(exercise["max_score"].as_u64().unwrap() > 0);
    }
    assert_eq!(run.code, 1, "failures exit with 1");
}
