//! The workbook's grader: builds a student's exercises, runs each against a private Redis,
//! probes it over HTTP and reports what works, what does not and where to look.
//!
//! # Layout
//!
//! The folders follow the data flow of a grading run, from the bottom up:
//!
//! - [`course`]: the course catalogue, every exercise once; [`fs`]: atomic writes and locks;
//!   [`words`]: counting in words for messages.
//! - [`run`]: stage and build a submission, then start its Redis, database and service, each
//!   contained (sandbox, network, run users). [`run::testbed`] is the one owner of a running
//!   exercise: its service, its Redis with the grader's admin connection, its database, the
//!   instances started beside it and the reference binary.
//! - [`criteria`]: the checks. [`criteria::probe`] is all a check talks to; one module per
//!   exercise holds its criteria, and [`criteria::verdict`] what a check decides. Checks talk
//!   to the probe, the probe to the testbed.
//! - [`report`]: a run's results, as JSON and as the scorecard.
//! - [`grade`]: one grading run, above both `run` and `criteria`: build, start a testbed, run
//!   the checks through a probe on it, finish the testbed, report.
//! - [`student`]: the student's loop (progress, checklist, `--watch`, `reset`);
//!   [`batch`]: an instructor's class (`batch`, `merge`); [`book`]: the book's generated
//!   tables.
//! - [`cli`]: the command line, mapped onto the above.
//!
//! Lower layers never import higher ones, and no two modules import each other
//! (`tests/layers.rs` checks both).

pub mod batch;
pub mod book;
pub mod cli;
pub mod course;
pub mod criteria;
pub mod fs;
#[cfg(test)]
mod fuzz_tests;
pub mod grade;
pub mod report;
pub mod run;
pub mod student;
pub mod words;
