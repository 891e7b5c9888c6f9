//! tfx-auth: the authentication layer of tfx-cli, in Rust.
//!
//! The modules below are the pure core (covered by `cargo test` without Node);
//! `bindings` is the thin napi layer that only converts values and starts tasks.

pub mod credential;
pub mod entra;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod legacy;
pub mod login;
pub mod logins;
pub mod prewarm;
pub mod secret;
pub mod service_url;
pub mod settings;
pub mod store;
pub mod text;
pub mod validate;

#[cfg(feature = "node")]
mod bindings;

pub use error::{Error, Result};
