//! Attachments in R2: where a room's files live, and how they are served.

use edgechat_protocol::{
    check_upload, too_large, ErrorCode, FileRef, HttpError, RoomId, MAX_FILE_BYTES,
};
use futures_util::StreamExt;
use worker::{Env, Headers, Request, Response, Result};

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

/// Bytes enough to check every signature (webp's is at 8..12).
const SIGNATURE_BYTES: usize = 12;

fn declared_len(req: &Request) -> Result<Option<usize>> {
    Ok(req
        .headers()
        .get("content-length")?
        .and_then(|v| v.trim().parse::<usize>().ok()))
}

/// The refusal of an upload whose `content-length` is over the cap, decided before any
/// byte is kept. Up to twice the cap the body is read and dropped chunk by chunk first
/// (the runtime would otherwise cut the client off mid-send, and it would never see the
/// answer); beyond that it is refused unread.
pub async fn refuse_declared(req: &mut Request) -> Result<Option<HttpError>> {
    let Some(len) = declared_len(req)?.filter(|&len| len > MAX_FILE_BYTES) else {
        return Ok(None);
    };
    if len <= 2 * MAX_FILE_BYTES {
        let mut stream = req.stream()?;
        while let Some(chunk) = stream.next().await {
            chunk?;
        }
    }
    Ok(Some(too_large(len)))
}

/// Reads an upload's body as it streams in, with the checks that need no more than
/// what has arrived: a `content-length` over the cap is refused unread; the type
/// against the first bytes as soon as they are in; and the size chunk by chunk, so a
/// body over 10 MiB (with or without `content-length`) is refused as soon as it passes
/// the cap, never buffered whole. Answers the bytes and the type to store.
pub async fn read_upload(
    req: &mut Request,
) -> Result<std::result::Result<(Vec<u8>, String), HttpError>> {
    let declared = declared_len(req)?;
    if let Some(refusal) = refuse_declared(req).await? {
        return Ok(Err(refusal));
    }
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    let mut checked: Option<String> = None;
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_FILE_BYTES {
            // Refused now, and nothing more is kept. What is still coming is read and
            // dropped up to twice the cap, so that the client, still sending, gets the
            // answer rather than a cut connection; beyond that it is left unread.
            let mut seen = body.len() + chunk.len();
            drop(body);
            while seen <= 2 * MAX_FILE_BYTES {
                match stream.next().await {
                    Some(Ok(more)) => seen += more.len(),
                    _ => break,
                }
            }
            return Ok(Err(HttpError::new(
                ErrorCode::TooLarge,
                format!("the file is over {MAX_FILE_BYTES} bytes (10 MiB), the limit"),
            )));
        }
        body.extend_from_slice(&chunk);
        if checked.is_none() && body.len() >= SIGNATURE_BYTES {
            match check_upload(&content_type, &body) {
                Ok(ty) => checked = Some(ty),
                Err(e) => return Ok(Err(e)),
            }
        }
    }
    // A body shorter than a signature (or empty) is checked whole now.
    let ty = match checked {
        Some(ty) => ty,
        None => match check_upload(&content_type, &body) {
            Ok(ty) => ty,
            Err(e) => return Ok(Err(e)),
        },
    };
    Ok(Ok((body, ty)))
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
