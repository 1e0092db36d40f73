//! `GET /api/rooms[?cursor=C][&limit=N]`: the room list, ranked by real activity and paged
//! with an opaque cursor.
//!
//! Rooms with messages come first, newest last message first; rooms that were made but
//! have no message yet follow, newest first. So a burst of new empty rooms can never push
//! a room people talk in off the first page, and a room just made is still listed. Each
//! page is a keyset range of the index `rooms_by_rank` (migration 0011): the cursor is the
//! last room's place in that order, so a page costs the same however deep it is.

use edgechat_protocol::{ErrorCode, HttpError, RoomSummary};

/// Rooms per page unless `limit` says otherwise; as many as the list had before it paged.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most rooms one page may hold.
pub const MAX_LIMIT: u32 = 100;

/// A place in the list's order: (has messages, last activity, id), all descending. The
/// last room of a page; the next page starts after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub active: bool,
    pub last_activity: u64,
    pub id: String,
}

impl Cursor {
    /// Before every room: the first page.
    pub fn start() -> Cursor {
        Cursor::start_of(true)
    }

    /// Before every room of one part of the list (with messages, or without). An empty
    /// id and a time past any room's sort before every room of that part.
    pub fn start_of(active: bool) -> Cursor {
        Cursor {
            active,
            last_activity: u64::MAX,
            id: String::new(),
        }
    }

    /// The opaque text given to clients: hex of "a.t.id". Clients must not read it.
    pub fn encode(&self) -> String {
        let plain = format!(
            "{}.{}.{}",
            u8::from(self.active),
            self.last_activity,
            self.id
        );
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        if !text.len().is_multiple_of(2) || text.len() > 400 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let mut parts = plain.splitn(3, '.');
        let active = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let last_activity = parts.next()?.parse().ok()?;
        let id = parts.next()?.to_owned();
        edgechat_protocol::RoomId::parse(&id).ok()?;
        Some(Cursor {
            active,
            last_activity,
            id,
        })
    }

    /// The place of a listed room.
    pub fn after(room: &RoomSummary, active: bool) -> Cursor {
        Cursor {
            active,
            last_activity: room.last_activity,
            id: room.id.clone(),
        }
    }
}

/// `cursor` and `limit` from the query (others are ignored; `name` is the reader's).
pub fn parse_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<(Cursor, u32), HttpError> {
    let (mut cursor, mut limit) = (Cursor::start(), DEFAULT_LIMIT);
    for (k, v) in pairs {
        match k.as_ref() {
            "cursor" if !v.as_ref().is_empty() => {
                cursor = Cursor::decode(v.as_ref()).ok_or_else(|| {
                    HttpError::new(
                        ErrorCode::BadRequest,
                        "cursor is not one this server gave (use next_cursor as it came)",
                    )
                })?
            }
            "limit" => {
                limit = v
                    .as_ref()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        HttpError::new(
                            ErrorCode::BadRequest,
                            format!("limit must be an integer from 1 to {MAX_LIMIT}"),
                        )
                    })?
            }
            _ => {}
        }
    }
    Ok((cursor, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let c = Cursor {
            active: false,
            last_activity: 1_795_327_806_445,
            id: "team-1".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert!(Cursor::start().active);
        for bad in [
            "",
            "zz",
            "abc",
            "312e322e",
            "332e312e61",
            "312e782e61",
            "312e312e4121",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_query_takes_a_cursor_and_a_bounded_limit() {
        let (c, l) = parse_query([("name", "Ann")]).unwrap();
        assert_eq!((c, l), (Cursor::start(), DEFAULT_LIMIT));
        let given = Cursor {
            active: true,
            last_activity: 5,
            id: "general".into(),
        };
        let (c, l) = parse_query([("cursor", given.encode().as_str()), ("limit", "7")]).unwrap();
        assert_eq!((c, l), (given, 7));
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "00"),
        ] {
            let e = parse_query([bad]).unwrap_err();
            assert_eq!(e.error.code, ErrorCode::BadRequest, "{bad:?}");
        }
    }
}
