//! `--database-url`: the same solution runs on PostgreSQL, each service in a database of its
//! own that the grader drops afterwards. Skipped, saying so, when no PostgreSQL server answers
//! (set `WORKBOOK_TEST_POSTGRES_URL` to an admin URL to use another server).

mod common;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const EXERCISE: &str = "06-query-optimisation";

/// The admin URL of a PostgreSQL server that accepts a connection, if there is one.
fn reachable_server() -> Option<String> {
    let url = std::env::var("WORKBOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let answers = runtime().block_on(async {
        let options = PgConnectOptions::from_str(&url).ok()?;
        let connection = tokio::time::timeout(Duration::from_secs(3), options.connect()).await;
        connection.ok()?.ok()?.close().await.ok()
    });
    match answers {
        Some(()) => Some(url),
        None => {
            eprintln!(
                "skipped: no PostgreSQL server answers at {url} (set WORKBOOK_TEST_POSTGRES_URL \
                 to test the PostgreSQL path)"
            );
            None
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The grader's databases and roles still on the server.
fn leftovers(url: &str) -> Vec<String> {
    runtime().block_on(async {
        let mut connection = PgConnection::connect(url).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'workbook\\_grader\\_%'
             UNION ALL
             SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'workbook\\_grader\\_%'",
        )
        .fetch_all(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
        names
    })
}

#[test]
fn the_solution_and_a_known_bad_variant_grade_the_same_on_postgres() {
    let Some(url) = reachable_server() else { return };
    let solutions = common::root().join("solutions");
    let solution = {
        let _one_at_a_time = common::serial();
        common::grade(7, &["--database-url", &url, "--path", solutions.to_str().unwrap(), "6"])
    };
    assert_eq!(solution.failed(EXERCISE), Vec::<String>::new(), "{}", solution.explain(EXERCISE));
    let database = solution.json["database"].as_str().unwrap_or_default();
    assert!(database.starts_with("PostgreSQL"), "the report names {database:?}");

    let no_index = common::Fixture::all(EXERCISE)
        .into_iter()
        .find(|fixture| fixture.name == "no-index")
        .expect("the no-index fixture of exercise 6");
    let dir = tempfile::tempdir().unwrap();
    no_index.materialise(dir.path());
    let variant = {
        let _one_at_a_time = common::serial();
        common::grade(7, &["--database-url", &url, "--path", dir.path().to_str().unwrap(), "6"])
    };
    assert_eq!(variant.failed(EXERCISE), no_index.fails, "{}", variant.explain(EXERCISE));

    assert_eq!(leftovers(&url), Vec::<String>::new(), "the grader left these on the server");
}
