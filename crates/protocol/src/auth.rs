//! Where a client's token travels: never in a URL. HTTP requests carry it as
//! `Authorization: Bearer <token>`; a browser's WebSocket, which cannot set headers,
//! offers it as a subprotocol beside `edgechat`, and the server answers `edgechat`
//! alone. `token=` in the query is still read for older clients (deprecated).

use crate::MAX_TOKEN_CHARS;

/// The subprotocol the server answers a socket with.
pub const WS_PROTOCOL: &str = "edgechat";
/// A subprotocol starting with this carries the token after it.
pub const WS_BEARER_PREFIX: &str = "edgechat.bearer.";

/// Where a request's token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    Authorization,
    Subprotocol,
    /// `token=` in the URL or the body: accepted, deprecated.
    Legacy,
}

/// A token as a request presented it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    pub token: String,
    pub source: TokenSource,
}

fn plausible(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_CHARS
        && token.bytes().all(|b| b.is_ascii_graphic())
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(authorization: Option<&str>) -> Option<String> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && plausible(token)).then(|| token.to_owned())
}

/// The token offered among a `Sec-WebSocket-Protocol` header's values.
pub fn subprotocol_token(protocols: Option<&str>) -> Option<String> {
    protocols?
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(WS_BEARER_PREFIX))
        .filter(|t| plausible(t))
        .map(str::to_owned)
}

/// Whether a socket's client offered the `edgechat` subprotocol (then the answer must
/// name it, or a browser drops the socket).
pub fn offers_ws_protocol(protocols: Option<&str>) -> bool {
    protocols.is_some_and(|p| p.split(',').any(|v| v.trim() == WS_PROTOCOL))
}

/// The token a request presents, by preference: the header, the subprotocol, then the
/// deprecated query or body value.
pub fn presented(
    authorization: Option<&str>,
    protocols: Option<&str>,
    legacy: Option<&str>,
) -> Option<Presented> {
    if let Some(token) = bearer(authorization) {
        return Some(Presented {
            token,
            source: TokenSource::Authorization,
        });
    }
    if let Some(token) = subprotocol_token(protocols) {
        return Some(Presented {
            token,
            source: TokenSource::Subprotocol,
        });
    }
    legacy.filter(|t| plausible(t)).map(|t| Presented {
        token: t.to_owned(),
        source: TokenSource::Legacy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc".into()));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc".into()));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(Some("Bearer a b")), None);
        assert_eq!(bearer(None), None);
        assert_eq!(bearer(Some(&format!("Bearer {}", "a".repeat(300)))), None);
    }

    #[test]
    fn subprotocols() {
        let offer = "edgechat, edgechat.bearer.0a1b";
        assert_eq!(subprotocol_token(Some(offer)), Some("0a1b".into()));
        assert!(offers_ws_protocol(Some(offer)));
        assert!(!offers_ws_protocol(Some("edgechat.bearer.x")));
        assert!(!offers_ws_protocol(None));
        assert_eq!(subprotocol_token(Some("edgechat")), None);
        assert_eq!(subprotocol_token(Some("edgechat.bearer.")), None);
    }

    #[test]
    fn the_header_wins_over_the_query() {
        let p = presented(Some("Bearer h"), Some("edgechat.bearer.s"), Some("q")).unwrap();
        assert_eq!(
            (p.token.as_str(), p.source),
            ("h", TokenSource::Authorization)
        );
        let p = presented(None, Some("edgechat, edgechat.bearer.s"), Some("q")).unwrap();
        assert_eq!(
            (p.token.as_str(), p.source),
            ("s", TokenSource::Subprotocol)
        );
        let p = presented(None, None, Some("q")).unwrap();
        assert_eq!(p.source, TokenSource::Legacy);
        assert_eq!(presented(None, None, Some("")), None);
    }
}
