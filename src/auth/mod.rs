//! Policy: which login a URL has and what may change it. Owns the logins
//! (the chosen secret store plus the non-secret settings), tfx-cli's
//! plaintext leftovers and their migration, login and logout, the completion
//! of an Entra sign-in, silent renewal, the read-ahead for commands, and the
//! one answer to "which credential, from where?" ([`resolve`]).
//!
//! Below it: the stores (`store`), the protocols (`http`, `validate`,
//! `entra`) and the bottom types. Above it: only the napi bindings.

pub mod ci;
pub mod legacy;
pub mod logins;
pub mod migration;
pub mod prewarm;
pub mod renewal;
pub mod resolve;
pub mod settings;
pub mod sign_in;
pub mod validate_and_store;
