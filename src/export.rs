//! `GET /room/:id/export?format=jsonl|md`: a room's whole history for its owner (either
//! party of a direct message), streamed. The answer's body is a stream that reads D1 one
//! page of `EXPORT_PAGE_ROWS` messages at a time, by seq, only when the runtime asks for
//! more (it pulls as the client reads), so a room of any size costs the Worker one page
//! of memory, never the whole history. What a message looks like in each format is
//! `edgechat_protocol::export_message`.

use edgechat_protocol::{
    export_disposition, export_head, export_message, is_dm_room, parse_export_query, ErrorCode,
    ExportFormat, HttpError, RoomId, EXPORT_PAGE_ROWS, MAX_EXPORT_PAGE_ROWS,
};
use worker::{D1Database, Env, Headers, Request, Response, Result};

use crate::quota::{self, Limiter};
use crate::{dms, http, names, storage};

/// Answers an export: refusals as JSON errors (all before a byte of history is read),
/// else a 200 whose body streams the history.
pub async fn export(req: &Request, env: &Env, room: &RoomId) -> Result<Response> {
    // Each export asked for counts against the address, refused or not, before any D1
    // or room work: a whole history is many reads.
    if let Some(answer) = quota::per_minute(env, Limiter::Export, &quota::address(req)).await {
        return Ok(answer);
    }
    let url = req.url()?;
    // The query first: a token in the URL is refused before it is looked at.
    let format = match parse_export_query(url.query_pairs()) {
        Ok(format) => format,
        Err(e) => return http::error(&e),
    };
    let who = match names::require(env, req, &url).await? {
        Ok(who) => who,
        Err(e) => {
            // A stranger learns nothing of a direct message, not even that it exists.
            if is_dm_room(room.as_str()) {
                return dms::stranger();
            }
            return http::error(&e);
        }
    };
    if is_dm_room(room.as_str()) {
        // Nobody owns a direct message: each of its two claims may take the whole of it.
        if !dms::is_party(env, room.as_str(), &who.claim).await? {
            return dms::stranger();
        }
    } else if crate::room_role(req, env, room, &who).await?.as_deref() != Some("owner") {
        return http::error(&HttpError::new(
            ErrorCode::Forbidden,
            "only the room's owner can export its history",
        ));
    }
    let rows = quota::setting(env, "EXPORT_PAGE_ROWS", u64::from(EXPORT_PAGE_ROWS))
        .clamp(1, u64::from(MAX_EXPORT_PAGE_ROWS)) as u32;
    let pages = Pages {
        db: env.d1("DB")?,
        room: room.as_str().to_owned(),
        format,
        rows,
        after: 0,
        head: Some(export_head(room, format)),
        done: false,
        read: 0,
        messages: 0,
    };
    let body = futures_util::stream::try_unfold(pages, next_page);
    let headers = Headers::new();
    headers.set("content-type", format.content_type())?;
    headers.set("content-disposition", &export_disposition(room, format))?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// Where an export is: the seq it has written up to, and what it has read so far.
struct Pages {
    db: D1Database,
    room: String,
    format: ExportFormat,
    rows: u32,
    after: u64,
    head: Option<String>,
    done: bool,
    read: u32,
    messages: u64,
}

/// The next chunk of the body: one page of messages after the last seq written, in the
/// format; the stream ends after a page shorter than a full one. A D1 failure ends the
/// body with an error (the download breaks off, it never ends looking complete).
async fn next_page(mut p: Pages) -> Result<Option<(Vec<u8>, Pages)>> {
    if p.done {
        return Ok(None);
    }
    let mut chunk = p.head.take().unwrap_or_default();
    let page = match storage::history::export_page(&p.db, &p.room, p.after, p.rows).await {
        Ok(page) => page,
        Err(e) => {
            worker::console_error!("export of {}: reading after seq {}: {e}", p.room, p.after);
            return Err(e);
        }
    };
    p.read += 1;
    if page.len() < p.rows as usize {
        p.done = true;
    }
    for m in &page {
        p.after = m.seq;
        chunk.push_str(&export_message(m, p.format));
    }
    p.messages += page.len() as u64;
    if p.done {
        // The D1 page counter the tests read: how many pages one export took.
        worker::console_log!(
            "export of {} done: {} messages in {} pages",
            p.room,
            p.messages,
            p.read
        );
    }
    Ok(Some((chunk.into_bytes(), p)))
}
