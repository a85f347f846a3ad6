//! What the grader writes into the book: the criteria tables and the submission checklist
//! (an mdBook preprocessor), also printed by `grader criteria`.

pub mod preprocessor;
pub mod tables;
