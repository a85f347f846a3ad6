//! One build of each dependency serves the whole workbook: `cargo run -p grader`, the grader's
//! builds of the exercises and a student's own `cargo build -p exercise-…`. Cargo compiles a
//! dependency once per set of features, and the features of a dependency depend on which
//! members a command builds; every member depends on `workspace-hack` (kept by
//! `cargo hakari generate`), which gives each dependency the same features whatever is built.

mod common;

use serde_json::Value;

/// The dependencies that `cargo build -p package` compiles again, in a target folder where the
/// whole workspace is built.
fn dependencies_compiled_again(package: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(common::root())
        .args(["build", "--locked", "--message-format", "json", "-p", package])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["fresh"] == false)
        .map(|artifact| artifact["package_id"].as_str().unwrap_or_default().to_owned())
        // The package's own code is compiled, of course: only its dependencies are shared.
        .filter(|id| !id.contains(&format!("#{package}@")) && !id.ends_with(&format!("/{package}")))
        .collect()
}

#[test]
fn building_one_exercise_after_the_workspace_compiles_no_dependency_again() {
    // `cargo test --workspace` built every member, the grader included, before this test ran.
    let _one_at_a_time = common::serial();
    for package in ["exercise-01-redis-setup", "solution-06-query-optimisation"] {
        let again = dependencies_compiled_again(package);
        assert!(
            again.is_empty(),
            "building {package} alone compiled these again, with other features than the \
             workspace's: {again:#?}\nRun `cargo hakari generate` after changing a dependency \
             (see CONTRIBUTING.md)."
        );
    }
}
