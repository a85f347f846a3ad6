//! `workbook`: the task manager every exercise of the course builds on.
//!
//! Think of it as the framework in a Django project: it owns the parts that are the same for
//! every exercise, so that an exercise crate holds only the caching code the student writes.
//!
//! - [`config`]: the settings the grader (or you) pass in environment variables;
//! - [`model`] and [`seed`]: users, categories and tasks, generated the same way for a seed;
//! - [`db`]: the database (SQLite, or PostgreSQL), with every query counted;
//! - [`app`]: what an exercise's library gives the workbook ([`App`]) and gets ([`Context`]);
//! - [`server`]: start-up around an exercise's `app` ([`run`]), `/health`, and graceful
//!   shutdown;
//! - [`stats`]: the counters the grader reads from `GET /__workbook/stats`;
//! - `hold` (private): a brake the grader puts on one query to replay a race in a fixed order,
//!   which only the grader opens (`from_grader`, private too: what the grader hands the
//!   service on its standard input, its key and how slow the database is to be).
//!
//! Students change only their exercise crates. The grader builds every submission against its
//! own pristine copy of this crate, which is why the numbers it reports (queries run, work
//! done) can be trusted.

pub mod app;
pub mod config;
pub mod db;
mod from_grader;
mod hold;
pub mod model;
pub mod pages;
pub mod profile;
pub mod reports;
pub mod seed;
pub mod server;
pub mod sidebar;
pub mod stats;

pub use app::{App, Context};
pub use config::Config;
pub use db::Db;
pub use server::run;
