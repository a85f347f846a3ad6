//! The same queries give the same answers on SQLite and on PostgreSQL. Skipped, saying so,
//! when no PostgreSQL server answers (`WORKBOOK_TEST_POSTGRES_URL` names another admin URL).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions};
use workbook::db::{Backend, query, query_as, query_scalar};
use workbook::model::Task;
use workbook::{Config, Db, pages, reports, sidebar};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of the test's own on the PostgreSQL server, dropped at the end of the test.
struct ScratchDatabase {
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// `None`, with a note, when no server answers.
    async fn create() -> Option<Self> {
        let admin_url =
            std::env::var("WORKBOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let Some(mut admin) = admin_connection(&admin_url).await else {
            eprintln!(
                "skipped: no PostgreSQL server answers at {admin_url} (set \
                 WORKBOOK_TEST_POSTGRES_URL to test the PostgreSQL path)"
            );
            return None;
        };
        let name = format!("workbook_support_test_{}", std::process::id());
        for statement in
            [format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")]
        {
            sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut admin).await.unwrap();
        }
        Some(Self { admin_url, name })
    }

    fn url(&self) -> String {
        PgConnectOptions::from_str(&self.admin_url)
            .unwrap()
            .database(&self.name)
            .to_url_lossy()
            .to_string()
    }

    async fn drop(self) {
        let mut admin = admin_connection(&self.admin_url).await.unwrap();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut admin).await.unwrap();
    }
}

async fn admin_connection(url: &str) -> Option<PgConnection> {
    let options = PgConnectOptions::from_str(url).ok()?;
    tokio::time::timeout(Duration::from_secs(3), options.connect()).await.ok()?.ok()
}

fn config(database_url: String) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url,
        seed: 11,
        tasks: 60,
        query_delay: Duration::ZERO,
    }
}

/// Everything the support crate's queries answer, as text to compare.
async fn answers(db: &Db) -> Vec<String> {
    let tasks: Vec<Task> = db
        .fetch_all(query_as("SELECT id, title, done, category_id, owner_id FROM tasks ORDER BY id"))
        .await
        .unwrap();
    vec![
        format!("{tasks:?}"),
        format!("{:?}", reports::task_count(db).await.unwrap()),
        format!("{:?}", reports::categories_with_counts(db).await.unwrap()),
        format!("{:?}", reports::user_stats(db, 2).await.unwrap()),
        format!("{:?}", sidebar::category_counts(db, None).await.unwrap()),
        format!("{:?}", sidebar::category_counts(db, Some(3)).await.unwrap()),
        format!("{:?}", pages::task_list(db, Some(4)).await.unwrap()),
        format!("{:?}", pages::task_detail(db, 7).await.unwrap()),
        format!("{:?}", pages::dashboard(db, "carol").await.unwrap()),
    ]
}

/// Writes with each kind of value, then reads back what changed.
async fn changes(db: &Db) -> Vec<String> {
    let updated = db
        .execute(
            query("UPDATE tasks SET done = $1, title = $2 WHERE id = $3")
                .bind(true)
                .bind("Renamed")
                .bind(5),
        )
        .await
        .unwrap();
    // A row without an id takes the next one after the seed's.
    db.execute(query("INSERT INTO categories (name) VALUES ($1)").bind("Brand new")).await.unwrap();
    let new_id: i64 = db
        .fetch_scalar(query_scalar("SELECT id FROM categories WHERE name = $1").bind("Brand new"))
        .await
        .unwrap();
    let done: bool = db
        .fetch_scalar(query_scalar("SELECT done FROM tasks WHERE id = $1").bind(5))
        .await
        .unwrap();
    vec![format!("{}", updated.rows_affected()), format!("{new_id}"), format!("{done}")]
}

#[tokio::test]
async fn postgres_answers_like_sqlite() {
    let Some(scratch) = ScratchDatabase::create().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::open(&config(format!("sqlite://{}", dir.path().join("t.sqlite3").display())))
        .await
        .unwrap();
    let postgres = Db::open(&config(scratch.url())).await.unwrap();
    assert_eq!((sqlite.backend(), postgres.backend()), (Backend::Sqlite, Backend::Postgres));

    let (on_sqlite, on_postgres) = (answers(&sqlite).await, answers(&postgres).await);
    let (changed_sqlite, changed_postgres) = (changes(&sqlite).await, changes(&postgres).await);
    drop(postgres);
    scratch.drop().await;

    assert_eq!(on_sqlite, on_postgres);
    assert_eq!(changed_sqlite, vec!["1", "11", "true"]);
    assert_eq!(changed_postgres, changed_sqlite);
}
