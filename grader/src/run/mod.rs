//! Running untrusted code: building a submission, and starting its service and the Redis and
//! database it talks to, each contained.
//!
//! The order of a run: [`compile`] stages and builds the exercise ([`reference`] builds the
//! reference solution the same way), [`network`] gives the run a loopback-only network,
//! [`users`] a user of its own, [`redis_server`] a private Redis with an ACL, [`database`] a
//! database per service, [`contract`] the environment, and [`service`] starts the binary in
//! the [`sandbox`].

pub mod compile;
pub mod contract;
pub mod database;
pub mod network;
pub mod redis_server;
pub mod reference;
pub mod sandbox;
pub mod service;
pub mod users;
