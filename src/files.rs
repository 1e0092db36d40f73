//! Attachments in R2: where a room's files live, and how they are served.

use edgechat_protocol::{ErrorCode, FileRef, RoomId};
use worker::{Env, Headers, Response, Result};

use crate::http;

/// The object key of a room's file.
pub fn key(room: &str, id: &str) -> String {
    format!("{room}/{id}")
}

/// How a browser should treat the file: images inline, everything else as a download
/// under its (cleaned) name.
pub fn disposition(file: &FileRef) -> String {
    let encoded: String = file
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let kind = if file.is_image() {
        "inline"
    } else {
        "attachment"
    };
    format!("{kind}; filename*=UTF-8''{encoded}")
}

/// `GET /room/:id/files/:file`: the bytes, with their stored type, never sniffed, never
/// able to run script.
pub async fn serve(env: &Env, room: &RoomId, id: &str) -> Result<Response> {
    let valid = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let object = if valid {
        env.bucket("FILES")?
            .get(key(room.as_str(), id))
            .execute()
            .await?
    } else {
        None
    };
    let Some(object) = object else {
        return http::error_with(
            ErrorCode::NotFound,
            "no such file (it may have been deleted)",
            404,
        );
    };
    let meta = object.http_metadata();
    let Some(body) = object.body() else {
        return http::error_with(ErrorCode::NotFound, "no such file", 404);
    };
    let bytes = body.bytes().await?;
    let headers = Headers::new();
    headers.set(
        "content-type",
        meta.content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    )?;
    if let Some(d) = meta.content_disposition.as_deref() {
        headers.set("content-disposition", d)?;
    }
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("content-security-policy", crate::guard::FILE_CSP)?;
    headers.set("cache-control", "private, max-age=3600")?;
    Ok(Response::from_bytes(bytes)?.with_headers(headers))
}
