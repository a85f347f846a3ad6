//! The student's loop: their progress, the submission checklist, grading on every save and
//! putting an exercise back to its starter.

pub mod checklist;
pub mod progress;
pub mod reset;
pub mod watch;
