//! The grader's house rules, read from its sources: lower layers never import higher ones
//! (the crate doc's Layout), and no two modules import each other, however indirectly.
//!
//! An import is a `crate::`, `super::` or `self::` path outside comments and test modules;
//! a module's references to its own parent or children do not count (Rust nests them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules from the bottom up; a module may import its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &["course", "fs", "words"],
    &["run"],
    &["criteria"],
    &["report"],
    &["grade"],
    &["student", "batch", "book"],
    &["cli"],
];

/// Modules compiled for the unit tests alone, which may use any layer.
const TEST_ONLY: &[&str] = &["fuzz_tests"];

/// Module path (`run::compile`) → its source, with comments and test modules removed.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> =
                relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            if TEST_ONLY.contains(&parts.join("::").as_str()) {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            modules.insert(parts.join("::"), code_only(&source));
        }
    }
    modules
}

/// `source` without its comments and without its `#[cfg(test)] mod tests` (always last).
fn code_only(source: &str) -> String {
    let code = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    code.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `module` imports, by their full paths.
fn imports(module: &str, source: &str, known: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for start in ["crate::", "super::", "self::"] {
        for (at, _) in source.match_indices(start) {
            let preceded_by_word =
                source[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
            if preceded_by_word {
                continue;
            }
            let path: String = source[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if let Some(target) = resolve(module, &path, known) {
                let related = target.starts_with(&format!("{module}::"))
                    || module.starts_with(&format!("{target}::"))
                    || target.is_empty()
                    || target == module;
                if !related {
                    found.insert(target);
                }
            }
        }
    }
    found
}

/// The longest known module that `path`, written in `module`, names.
fn resolve(module: &str, path: &str, known: &BTreeSet<&str>) -> Option<String> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<&str> = match *segments.first()? {
        "crate" => Vec::new(),
        "self" | "super" => module.split("::").filter(|s| !s.is_empty()).collect(),
        _ => return None,
    };
    while let Some(&first) = segments.first() {
        match first {
            "crate" | "self" => {}
            "super" => {
                base.pop();
            }
            _ => break,
        }
        segments.remove(0);
    }
    (0..=segments.len())
        .rev()
        .map(|taken| base.iter().chain(&segments[..taken]).copied().collect::<Vec<_>>().join("::"))
        .find(|candidate| known.contains(candidate.as_str()))
}

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or_default();
    LAYERS.iter().position(|layer| layer.contains(&top)).unwrap_or_else(|| {
        panic!(
            "the top-level module `{top}` is in no layer: add it to LAYERS and to lib.rs' Layout"
        )
    })
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    modules
        .iter()
        .map(|(module, source)| (module.clone(), imports(module, source, &known)))
        .collect()
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let mut upward = Vec::new();
    for (module, targets) in graph().iter().filter(|(module, _)| !module.is_empty()) {
        for target in targets.iter().filter(|target| layer_of(target) > layer_of(module)) {
            upward.push(format!("{module} imports {target}"));
        }
    }
    assert!(upward.is_empty(), "imports that run up the layers:\n{}", upward.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph();
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|module| (module, reachable_from(&graph, module))).collect();
    let circles: Vec<String> = reachable
        .iter()
        .filter(|(module, from_it)| from_it.contains(module.as_str()))
        .map(|(module, from_it)| {
            // The modules that lead back to it are on the circle with it.
            let with: Vec<&String> =
                from_it.iter().filter(|other| reachable[other].contains(module.as_str())).collect();
            format!("{module}, with {with:?}")
        })
        .collect();
    assert!(circles.is_empty(), "modules on an import circle:\n{}", circles.join("\n"));
}

/// Every module `from` imports, directly or through others.
fn reachable_from(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec![from.to_owned()];
    while let Some(module) = next.pop() {
        for target in graph.get(&module).into_iter().flatten() {
            if seen.insert(target.clone()) {
                next.push(target.clone());
            }
        }
    }
    seen
}

#[test]
fn a_planted_circle_is_found() {
    let known: BTreeSet<&str> = ["run", "run::a", "run::b", "criteria"].into_iter().collect();
    assert_eq!(
        imports("run::a", "use super::b::Thing;", &known),
        BTreeSet::from(["run::b".to_owned()])
    );
    assert_eq!(
        imports("run::b", "use crate::run::a;", &known),
        BTreeSet::from(["run::a".to_owned()])
    );
    assert_eq!(
        imports("run::a", "use crate::criteria::X;", &known),
        BTreeSet::from(["criteria".to_owned()])
    );
    // The parent and a comment are not imports.
    assert!(
        imports("run::a", &code_only("super::helper(); // crate::criteria"), &known).is_empty()
    );
    assert!(layer_of("criteria") > layer_of("run::a"));
}
