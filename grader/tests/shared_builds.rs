//! One build of each dependency serves the whole workbook: `cargo run -p grader`, the grader's
//! builds of the exercises and a student's own `cargo build -p exercise-…`. Cargo compiles a
//! dependency once per set of features, and the features of a dependency depend on which
//! members a command builds; every member depends on `workspace-hack` (kept by
//! `cargo hakari generate`), which gives each dependency the same features whatever is built.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

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

/// The crates that only run while the exercises compile (proc macros and what they and build
/// scripts use), by name: reached through a build dependency or a proc macro from an exercise,
/// the support crate or `workspace-hack`, and never as code the exercises run.
fn build_time_crates_of_the_exercises() -> BTreeSet<String> {
    let rustc = std::process::Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names its host");
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(common::root())
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages: HashMap<&str, &Value> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| (package["id"].as_str().unwrap(), package))
        .collect();
    let name = |id: &str| packages[id]["name"].as_str().unwrap().to_owned();
    let is_proc_macro = |id: &str| {
        packages[id]["targets"].as_array().unwrap().iter().any(|target| {
            target["kind"].as_array().unwrap().iter().any(|kind| kind == "proc-macro")
        })
    };
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| (node["id"].as_str().unwrap(), node))
        .collect();
    let staged = |id: &&str| {
        let name = name(id);
        name.starts_with("exercise-") || name == "workbook" || name == "workspace-hack"
    };
    // (package, reached only to compile) pairs; dev-dependencies are never staged.
    let mut pending: Vec<(&str, bool)> =
        nodes.keys().copied().filter(staged).map(|id| (id, false)).collect();
    let mut seen = HashSet::new();
    while let Some((id, build_time)) = pending.pop() {
        if !seen.insert((id, build_time)) {
            continue;
        }
        for dependency in nodes[id]["deps"].as_array().unwrap() {
            let to = dependency["pkg"].as_str().unwrap();
            for kind in dependency["dep_kinds"].as_array().unwrap() {
                let build_time = build_time || kind["kind"] == "build" || is_proc_macro(to);
                if kind["kind"] != "dev" {
                    pending.push((to, build_time));
                }
            }
        }
    }
    let run = |id: &str| seen.contains(&(id, false));
    seen.iter().filter(|(id, build_time)| *build_time && !run(id)).map(|(id, _)| name(id)).collect()
}

/// The packages that the workspace manifest compiles unoptimised by name.
fn unoptimised_by_name() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::root().join("Cargo.toml")).unwrap();
    let manifest: toml_edit::DocumentMut = text.parse().unwrap();
    let overrides = manifest["profile"]["dev"]["package"].as_table_like().unwrap();
    overrides
        .iter()
        .filter(|(_, settings)| {
            settings.get("opt-level").and_then(|level| level.as_integer()) == Some(0)
        })
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn the_exercises_build_time_crates_and_only_they_are_compiled_unoptimised() {
    // `"*"` optimises every dependency, which makes the proc macros and their parsers (`syn`)
    // take a third of a fresh clone's first grade; a name the exercises do not reach would make
    // the grader's stage, a workspace of the exercises only, warn in every student's build.
    let expected = build_time_crates_of_the_exercises();
    let listed = unoptimised_by_name();
    let missing: Vec<&String> = expected.difference(&listed).collect();
    let unknown: Vec<&String> = listed.difference(&expected).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "the workspace manifest's `[profile.dev.package]` should name, with `opt-level = 0`, \
         exactly the crates that only run while the exercises compile.\nadd: {missing:?}\n\
         remove: {unknown:?}"
    );
}
