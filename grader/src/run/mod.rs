//! Running untrusted code: building a submission, and starting its service and the Redis and
//! database it talks to, each contained.
//!
//! The order of a run: [`compile`] stages and builds the exercise ([`reference`] builds the
//! reference solution the same way), [`network`] gives the run a loopback-only network,
//! [`users`] a user of its own, [`redis_server`] a private Redis with an ACL, [`database`] a
//! database per service, [`contract`] the environment, and [`service`] starts the binary in
//! the [`sandbox`]. A [`testbed`] owns one running exercise: its service, its Redis with the
//! grader's admin connection ([`inspect`]), its database and the instances checks start beside
//! it. Builds, services and Redis all run in [`bwrap`] (bubblewrap) where the
//! machine allows it.

pub mod bwrap;
// `unsafe` only where the OS is called: this module joins and empties cgroups through libc.
#[allow(unsafe_code)]
pub mod cgroup;
pub mod compile;
mod compiler_message;
pub mod containment;
pub mod contract;
pub mod database;
pub mod debug_handler;
pub mod diagnostics;
// `unsafe` only where the OS is called: this module mounts a run's disk through libc.
#[allow(unsafe_code)]
pub mod disk;
pub mod error_notes;
pub mod inspect;
// `unsafe` only where the OS is called: this module enters network namespaces and raises loopback through libc.
#[allow(unsafe_code)]
pub mod network;
pub mod redis_server;
pub mod reference;
// `unsafe` only where the OS is called: this module sets rlimits, process groups and signals through libc.
#[allow(unsafe_code)]
pub mod sandbox;
pub mod service;
pub mod testbed;
// `unsafe` only where the OS is called: this module switches to a run's user id through libc.
#[allow(unsafe_code)]
pub mod users;
// `unsafe` only where the OS is called: this module kills a guarded process through libc.
#[allow(unsafe_code)]
pub mod watchdog;

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this process grades without any containment (`--without-containment`).
static CONTAINMENT_OFF: AtomicBool = AtomicBool::new(false);

/// Turns every part of the containment off for this process (bubblewrap, run users, the
/// network namespace, cgroups, the run's disk), before anything is graded: for measuring what
/// they cost on one's own code (the bench does). A class is never graded so: the command
/// line refuses the option beside `batch` and `gradescope`.
pub fn turn_containment_off() {
    CONTAINMENT_OFF.store(true, Ordering::SeqCst);
}

/// Whether [`turn_containment_off`] was called.
pub fn containment_turned_off() -> bool {
    CONTAINMENT_OFF.load(Ordering::SeqCst)
}
