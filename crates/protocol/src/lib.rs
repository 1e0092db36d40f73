//! edgechat's wire contract as Rust types.
//!
//! Everything a client and the server exchange is defined here once: the frames in
//! both directions, the shapes inside them, the error codes, and the validation of
//! room ids, names, texts and query parameters. The crate does no I/O, so the Worker,
//! the tests and any native client share one definition and cannot disagree.
//!
//! The contract itself is documented in `docs/PROTOCOL.md` at the repository root.

mod auth;
mod client;
mod dms;
mod errors;
mod export;
mod files;
mod http;
mod model;
mod names;
mod pass;
mod query;
mod rooms;
mod scan;
mod search;
mod server;
mod validate;

#[cfg(test)]
mod tests;

pub use auth::*;
pub use client::*;
pub use dms::*;
pub use errors::*;
pub use export::*;
pub use files::*;
pub use http::*;
pub use model::*;
pub use names::*;
pub use pass::*;
pub use query::*;
pub use rooms::*;
pub use scan::*;
pub use search::*;
pub use server::*;
pub use validate::*;

/// The largest client frame the server reads, in UTF-8 bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// The longest message text, in code points, after trimming.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest `client_id`, in code points.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// The longest room id, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// The longest name, in code points, after trimming and collapsing inner whitespace.
pub const MAX_NAME_CHARS: usize = 32;
/// Page size bounds for history requests.
pub const MIN_PAGE: u32 = 1;
pub const MAX_PAGE: u32 = 100;
pub const DEFAULT_PAGE: u32 = 50;
/// Messages a `welcome` carries without `since`.
pub const WELCOME_MESSAGES: u32 = 50;
/// Messages a `welcome` carries at most with `since`.
pub const RESUME_MESSAGES: u32 = 500;
/// How long a `typing` `on` lasts without being renewed, in milliseconds.
pub const TYPING_TTL_MS: u64 = 5_000;
/// The text frame answered by the runtime without waking the room.
pub const PING: &str = "ping";
pub const PONG: &str = "pong";
