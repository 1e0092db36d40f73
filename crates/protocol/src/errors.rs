//! The error codes of the contract, on the socket and over HTTP, with the HTTP status
//! each is answered with, and [`Refusal`]: why a client frame was refused, on its way
//! to becoming an `error` frame. Kept apart so that both directions and the HTTP
//! bodies name one list of codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ServerFrame;

/// Error codes, on the socket and over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadFrame,
    TooLarge,
    InvalidText,
    RateLimited,
    NotFound,
    Internal,
    InvalidRoom,
    InvalidName,
    BadRequest,
    Forbidden,
    Banned,
    UnsupportedType,
    /// The name is claimed by another browser or client (see `names`).
    NameTaken,
    /// The request needs a name's token and came without one.
    Unauthorized,
    /// A room with this id exists already.
    RoomExists,
    /// An hourly quota (rooms made, uploads) is used up; HTTP 429 with `Retry-After`.
    QuotaExceeded,
    /// A connect over the room's socket caps: this claim's, or the room's.
    TooManySockets,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidText => "invalid_text",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Banned => "banned",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RoomExists => "room_exists",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::TooManySockets => "too_many_sockets",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NotFound => 404,
            ErrorCode::NameTaken => 403,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited | ErrorCode::QuotaExceeded | ErrorCode::TooManySockets => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Forbidden | ErrorCode::Banned => 403,
            ErrorCode::UnsupportedType => 415,
            ErrorCode::Unauthorized => 401,
            ErrorCode::RoomExists => 409,
            _ => 400,
        }
    }
}

/// Why a client frame was refused, ready to become an `error` frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub client_id: Option<String>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            client_id: None,
        }
    }

    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            client_id: self.client_id.clone(),
            retry_after_ms: None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// serde's messages name the field and the expectation; they never echo large input.
pub(crate) fn describe_serde_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("unknown variant") {
        // Either an unknown frame type or an unknown status.
        format!("unsupported value: {msg}")
    } else {
        msg
    }
}
