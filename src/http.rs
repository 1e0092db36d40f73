//! JSON answers and errors.

use edgechat_protocol::{ErrorCode, HttpError};
use serde::Serialize;
use worker::{Headers, Response, Result};

/// A JSON answer with the given status.
pub fn json<T: Serialize>(value: &T, status: u16) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    let body = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// An error answer: `{"error":{"code","message"}}` with the code's status.
pub fn error(err: &HttpError) -> Result<Response> {
    json(err, err.error.code.http_status())
}

pub fn error_with(code: ErrorCode, message: &str, status: u16) -> Result<Response> {
    json(&HttpError::new(code, message), status)
}

/// What a client sees when something failed inside: no details, which go to the log.
pub fn internal(context: &str, e: &worker::Error) -> Result<Response> {
    worker::console_error!("{context}: {e}");
    error(&HttpError::new(
        ErrorCode::Internal,
        "something went wrong on our side; try again",
    ))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as hex: connection and file ids, private room ids, claim tokens.
pub fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(hex(&bytes))
}

/// Whether a request asks for a WebSocket.
pub fn is_upgrade(req: &worker::Request) -> bool {
    req.headers()
        .get("upgrade")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}
