//! `GET /api/rooms[?cursor=C][&limit=N]`: the room list, ranked by real activity and paged
//! with an opaque cursor.
//!
//! Rooms with messages come first, newest last message first; rooms that were made but
//! have no message yet follow, newest first. So a burst of new empty rooms can never push
//! a room people talk in off the first page, and a room just made is still listed. Each
//! page is a keyset range of the index `rooms_by_rank` (migration 0011): the cursor
//! ([`edgechat_protocol::RoomListCursor`], parsed with the query by
//! [`edgechat_protocol::parse_room_list_query`]) is the last room's place in that order,
//! so a page costs the same however deep it is. The rows are
//! [`crate::storage::catalog::rooms::list`]'s.

use edgechat_protocol::parse_room_list_query;
use worker::{Env, Request, Response, Result, Url};

use crate::{http, reader_of, storage};

/// One page of the room list; with a token, each room's unread count for its claim.
pub async fn list(req: &Request, url: &Url, env: &Env) -> Result<Response> {
    let (cursor, limit) = match parse_room_list_query(url.query_pairs()) {
        Ok(page) => page,
        Err(e) => return http::error(&e),
    };
    let reader = reader_of(req, url, env).await?;
    let (rooms, next) =
        storage::catalog::rooms::list(&env.d1("DB")?, reader.as_deref(), &cursor, limit).await?;
    http::json(
        &serde_json::json!({ "rooms": rooms, "next_cursor": next }),
        200,
    )
}
