//! The worked examples of the book's lessons, one module per chapter.
//!
//! Each lesson teaches its technique on code next to its exercise, in the same task manager:
//! the lesson caches the category pages while the exercise caches the task list, shows
//! cache-aside on one report while the exercise builds the others, and so on. The book includes
//! these files by anchor (`// ANCHOR: name`), so what a lesson shows is code that compiles and
//! whose tests run against a real Redis in `cargo test --workspace`.
//!
//! Like the exercises, the examples reach the database through the `workbook` crate and Redis
//! through the `redis` crate.

pub mod ch01_redis_setup;
pub mod ch02_view_cache;
pub mod ch03_low_level_cache;
pub mod ch04_invalidation;
pub mod ch05_fragment_cache;
pub mod ch06_query_optimisation;

#[cfg(test)]
mod testing;
