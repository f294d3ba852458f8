//! End-to-end tests of the built `tbi` binary: the offline demos, and each command
//! against real servers on loopback (sockudo, the Iris server, the consultation API).

#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stdout)]

mod support;

mod demo;
mod iris;
mod listen;
mod logs;
mod proxy;
mod record;
mod tls;
mod usage;
mod watch;
