//! Query parameters of the HTTP routes, every one of them, parsed strictly: a value
//! out of range is refused with `bad_request`, never clamped. The Worker and the room
//! read a query string only through these functions.

use crate::{ErrorCode, HttpError, Name, Page, RoomId, RoomSummary, DEFAULT_PAGE};

/// A sequence number parameter: a non-negative integer in decimal digits.
/// A number too large for u64 is still a number; it saturates (it lies beyond any
/// room's history, which is what it means).
pub fn parse_seq(param: &str, value: &str) -> Result<u64, HttpError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::new(
            ErrorCode::BadRequest,
            format!("{param} must be a non-negative integer"),
        ));
    }
    Ok(value.parse::<u64>().unwrap_or(u64::MAX))
}

/// The `limit` parameter: an integer from 1 to 100.
pub fn parse_limit(value: &str) -> Result<u32, HttpError> {
    let bad = || {
        HttpError::new(
            ErrorCode::BadRequest,
            "limit must be an integer from 1 to 100",
        )
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<u32>() {
        Ok(n) if (crate::MIN_PAGE..=crate::MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(bad()),
    }
}

/// `?before=SEQ&limit=N`, `?after=SEQ&limit=N` or neither. When a parameter is
/// repeated, the last one counts; unknown parameters are ignored.
pub fn parse_page_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<Page, HttpError> {
    let (mut before, mut after, mut limit) = (None, None, DEFAULT_PAGE);
    for (k, v) in pairs {
        let v = v.as_ref();
        match k.as_ref() {
            "before" => before = Some(parse_seq("before", v)?),
            "after" => after = Some(parse_seq("after", v)?),
            "limit" => limit = parse_limit(v)?,
            _ => {}
        }
    }
    Page::new(before, after, limit).map_err(|m| HttpError::new(ErrorCode::BadRequest, m))
}

/// What a WebSocket upgrade asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectQuery {
    pub name: Name,
    pub since: Option<u64>,
    /// With `since`: the last room `rev` the client saw, asking for the older messages
    /// that changed after it.
    pub rev: Option<u64>,
    /// `presence=2`: the client takes presence as one `presence` frame per tick (and,
    /// in a large room, counts and a member list on demand) instead of a frame per
    /// change.
    pub presence2: bool,
}

/// `?name=NAME&since=SEQ&rev=REV&presence=2`.
pub fn parse_connect_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<ConnectQuery, HttpError> {
    let (mut name, mut since, mut rev, mut presence2) = (None, None, None, false);
    for (k, v) in pairs {
        match k.as_ref() {
            "name" => name = Some(v),
            "presence" => presence2 = v.as_ref() == "2",
            "since" => since = Some(parse_seq("since", v.as_ref())?),
            "rev" => rev = Some(parse_seq("rev", v.as_ref())?),
            _ => {}
        }
    }
    let name = name
        .ok_or_else(|| HttpError::new(ErrorCode::InvalidName, "a name is required (?name=...)"))?;
    let name = Name::parse(name.as_ref()).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))?;
    Ok(ConnectQuery {
        name,
        since,
        rev,
        presence2,
    })
}

/// `?filename=F` of an upload (`POST /room/:id/files`): the file's name as given (the
/// room cleans it), if there is one. When it is repeated, the first one counts.
pub fn parse_filename_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Option<String> {
    pairs
        .into_iter()
        .find(|(k, _)| k.as_ref() == "filename")
        .map(|(_, v)| v.as_ref().to_owned())
}

/// The deprecated `?token=T` (a name's token; `Authorization: Bearer` replaces it), if
/// there is one. When it is repeated, the last one counts.
pub fn parse_token_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Option<String> {
    pairs
        .into_iter()
        .filter(|(k, _)| k.as_ref() == "token")
        .last()
        .map(|(_, v)| v.as_ref().to_owned())
}

/// Rooms per page of the room list unless `limit` says otherwise; as many as the list
/// had before it paged.
pub const ROOM_LIST_DEFAULT_LIMIT: u32 = 100;
/// The most rooms one page of the room list may hold.
pub const ROOM_LIST_MAX_LIMIT: u32 = 100;

/// A place in the room list's order: (has messages, last activity, id), all
/// descending. The last room of a page; the next page starts after it. Clients see it
/// only as the opaque `next_cursor` and give it back as `?cursor=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomListCursor {
    pub active: bool,
    pub last_activity: u64,
    pub id: String,
}

impl RoomListCursor {
    /// Before every room: the first page.
    pub fn start() -> Self {
        Self::start_of(true)
    }

    /// Before every room of one part of the list (with messages, or without). An empty
    /// id and a time past any room's sort before every room of that part.
    pub fn start_of(active: bool) -> Self {
        RoomListCursor {
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

    pub fn decode(text: &str) -> Option<Self> {
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
        RoomId::parse(&id).ok()?;
        Some(RoomListCursor {
            active,
            last_activity,
            id,
        })
    }

    /// The place of a listed room.
    pub fn after(room: &RoomSummary, active: bool) -> Self {
        RoomListCursor {
            active,
            last_activity: room.last_activity,
            id: room.id.clone(),
        }
    }
}

/// `GET /api/rooms[?cursor=C][&limit=N]`: where the page starts and how many rooms it
/// holds (others are ignored; a token is the reader's). An empty cursor is the start.
pub fn parse_room_list_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<(RoomListCursor, u32), HttpError> {
    let (mut cursor, mut limit) = (RoomListCursor::start(), ROOM_LIST_DEFAULT_LIMIT);
    for (k, v) in pairs {
        let v = v.as_ref();
        match k.as_ref() {
            "cursor" if !v.is_empty() => {
                cursor = RoomListCursor::decode(v).ok_or_else(|| {
                    HttpError::new(
                        ErrorCode::BadRequest,
                        "cursor is not one this server gave (use next_cursor as it came)",
                    )
                })?
            }
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=ROOM_LIST_MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        HttpError::new(
                            ErrorCode::BadRequest,
                            format!("limit must be an integer from 1 to {ROOM_LIST_MAX_LIMIT}"),
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

    fn page(q: &[(&str, &str)]) -> Result<Page, ErrorCode> {
        parse_page_query(q.iter().copied()).map_err(|e| e.error.code)
    }

    #[test]
    fn pages_default_to_the_newest_fifty() {
        assert_eq!(page(&[]), Ok(Page::Newest { limit: 50 }));
        assert_eq!(
            page(&[("before", "10"), ("limit", "100")]),
            Ok(Page::Before {
                before: 10,
                limit: 100
            })
        );
        assert_eq!(
            page(&[("after", "0"), ("limit", "1")]),
            Ok(Page::After { after: 0, limit: 1 })
        );
        assert_eq!(
            page(&[("other", "x")]),
            Ok(Page::Newest { limit: 50 }),
            "unknown parameters are ignored"
        );
    }

    #[test]
    fn out_of_range_parameters_are_refused_not_clamped() {
        for q in [
            vec![("limit", "0")],
            vec![("limit", "101")],
            vec![("limit", "-1")],
            vec![("limit", "abc")],
            vec![("limit", "")],
            vec![("limit", "5.0")],
            vec![("before", "-1")],
            vec![("before", "x")],
            vec![("after", "1e3")],
            vec![("after", " 1")],
            vec![("before", "1"), ("after", "2")],
        ] {
            assert_eq!(page(&q), Err(ErrorCode::BadRequest), "{q:?}");
        }
    }

    #[test]
    fn connect_needs_a_valid_name_and_an_integer_since() {
        let q = parse_connect_query([("name", " Bob "), ("since", "7")]).unwrap();
        assert_eq!(q.name.display(), "Bob");
        assert_eq!(q.since, Some(7));
        let err = |pairs: &[(&str, &str)]| {
            parse_connect_query(pairs.iter().copied())
                .unwrap_err()
                .error
                .code
        };
        assert_eq!(err(&[]), ErrorCode::InvalidName);
        assert_eq!(err(&[("name", "  ")]), ErrorCode::InvalidName);
        assert_eq!(
            err(&[("name", "a"), ("since", "-3")]),
            ErrorCode::BadRequest
        );
        assert_eq!(err(&[("name", "a"), ("since", "z")]), ErrorCode::BadRequest);
        let huge = parse_connect_query([("name", "a"), ("since", "99999999999999999999999")]);
        assert_eq!(huge.unwrap().since, Some(u64::MAX));
    }

    #[test]
    fn an_upload_takes_the_first_filename() {
        assert_eq!(
            parse_filename_query([("x", "1"), ("filename", "a.png"), ("filename", "b.png")]),
            Some("a.png".into())
        );
        assert_eq!(
            parse_filename_query([("filename", "")]),
            Some(String::new())
        );
        assert_eq!(parse_filename_query([("name", "Ann")]), None);
    }

    #[test]
    fn the_deprecated_token_takes_the_last() {
        assert_eq!(
            parse_token_query([("token", "a"), ("name", "Ann"), ("token", "b")]),
            Some("b".into())
        );
        assert_eq!(parse_token_query([("name", "Ann")]), None);
    }

    #[test]
    fn room_list_cursors_round_trip_and_refuse_forgeries() {
        let c = RoomListCursor {
            active: false,
            last_activity: 1_795_327_806_445,
            id: "team-1".into(),
        };
        assert_eq!(RoomListCursor::decode(&c.encode()), Some(c.clone()));
        assert!(RoomListCursor::start().active);
        for bad in [
            "",
            "zz",
            "abc",
            "312e322e",
            "332e312e61",
            "312e782e61",
            "312e312e4121",
        ] {
            assert_eq!(RoomListCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_room_list_takes_a_cursor_and_a_bounded_limit() {
        let (c, l) = parse_room_list_query([("name", "Ann")]).unwrap();
        assert_eq!((c, l), (RoomListCursor::start(), ROOM_LIST_DEFAULT_LIMIT));
        let given = RoomListCursor {
            active: true,
            last_activity: 5,
            id: "general".into(),
        };
        let (c, l) =
            parse_room_list_query([("cursor", given.encode().as_str()), ("limit", "7")]).unwrap();
        assert_eq!((c, l), (given, 7));
        let (c, _) = parse_room_list_query([("cursor", "")]).unwrap();
        assert_eq!(c, RoomListCursor::start(), "an empty cursor is the start");
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("cursor", "00"),
        ] {
            let e = parse_room_list_query([bad]).unwrap_err();
            assert_eq!(e.error.code, ErrorCode::BadRequest, "{bad:?}");
        }
    }
}
