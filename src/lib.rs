//! tfx-auth: the authentication layer of tfx-cli, in Rust.
//!
//! The modules below are the pure core (covered by `cargo test` without Node);
//! `bindings` is the thin napi layer that only converts values and starts tasks.

pub mod auth;
pub mod credential;
pub mod entra;
pub mod environment;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod secret;
pub mod service_url;
pub mod store;
pub mod text;
pub mod validate;

// Not in the unit-test build: napi registers the exports only in the addon,
// so there they would be dead code; the bindings have no unit tests (the
// node:test suites drive them through Node).
#[cfg(all(feature = "node", not(test)))]
mod bindings;

pub use error::{Error, Result};
