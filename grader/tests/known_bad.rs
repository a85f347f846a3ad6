//! Every known-bad variant loses exactly the points of its bug (see `fixtures/README.md`).

mod common;

#[test]
fn redis_setup_variants_lose_exactly_their_points() {
    common::check_fixtures("01-redis-setup");
}

#[test]
fn view_cache_variants_lose_exactly_their_points() {
    common::check_fixtures("02-view-cache");
}

#[test]
fn low_level_cache_variants_lose_exactly_their_points() {
    common::check_fixtures("03-low-level-cache");
}

#[test]
fn invalidation_variants_lose_exactly_their_points() {
    common::check_fixtures("04-invalidation");
}

#[test]
fn fragment_cache_variants_lose_exactly_their_points() {
    common::check_fixtures("05-fragment-cache");
}

#[test]
fn query_optimisation_variants_lose_exactly_their_points() {
    common::check_fixtures("06-query-optimisation");
}

/// Every hint for a particular kind of failure is one a fixture has seen the grader give:
/// a hint no failure can produce would be dead text in the registry.
#[test]
fn every_hint_for_a_kind_of_failure_is_shown_by_a_fixture() {
    let mut unshown = Vec::new();
    for spec in grader::criteria::registry() {
        let exercise = spec.exercise.dir_name();
        let shown: Vec<String> =
            common::Fixture::all(&exercise).into_iter().flat_map(|fixture| fixture.shows).collect();
        for criterion in &spec.criteria {
            for (symptom, hint) in criterion.hints {
                if !shown.iter().any(|text| hint.contains(text.as_str())) {
                    unshown.push(format!("{exercise} {} ({symptom:?}): {hint}", criterion.id));
                }
            }
        }
    }
    assert!(
        unshown.is_empty(),
        "no fixture's `shows` quotes these hints, so none proves the grader gives them:\n{}",
        unshown.join("\n")
    );
}
