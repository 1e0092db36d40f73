//! Query parameters of the HTTP routes, parsed strictly: a value out of range is
//! refused with `bad_request`, never clamped.

use crate::{ErrorCode, HttpError, Name, Page, DEFAULT_PAGE};

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
}

/// `?name=NAME&since=SEQ&rev=REV`.
pub fn parse_connect_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<ConnectQuery, HttpError> {
    let (mut name, mut since, mut rev) = (None, None, None);
    for (k, v) in pairs {
        match k.as_ref() {
            "name" => name = Some(v),
            "since" => since = Some(parse_seq("since", v.as_ref())?),
            "rev" => rev = Some(parse_seq("rev", v.as_ref())?),
            _ => {}
        }
    }
    let name = name
        .ok_or_else(|| HttpError::new(ErrorCode::InvalidName, "a name is required (?name=...)"))?;
    let name = Name::parse(name.as_ref()).map_err(|m| HttpError::new(ErrorCode::InvalidName, m))?;
    Ok(ConnectQuery { name, since, rev })
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
}
