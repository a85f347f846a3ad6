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
