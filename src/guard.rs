//! The door every request passes: which origins may change state or open a socket,
//! which body types the JSON routes take, and the security headers every answer wears.
//!
//! The decisions are pure functions (host-tested below); `refusal` and `secure` are the
//! two calls `fetch` makes, one before routing and one on whatever the route answered.
//! Static assets get the same headers from `public/_headers` (a test here keeps the two
//! lists equal).

use edgechat_protocol::{ErrorCode, HttpError};
use worker::{Env, Headers, Request, Response, Result, Url};

use crate::http;

/// The CSP of the UI and of every Worker answer: nothing inline, nothing from elsewhere,
/// never framed. Images may be `data:`/`blob:` (a picture previewed before it is sent).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The CSP of a user's uploaded file: it may run nothing and load nothing, even an SVG
/// or HTML file opened directly on our origin.
pub const FILE_CSP: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";

/// Headers on every answer besides the CSP (the same list is in `public/_headers`).
pub const COMMON: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "accelerometer=(), bluetooth=(), camera=(), display-capture=(), geolocation=(), \
gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), \
screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()",
    ),
    ("x-frame-options", "DENY"),
];

/// HSTS, on a deployed (https, not loopback) origin only.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// What a state-changing route takes as its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// A JSON document: `Content-Type: application/json` (parameters allowed), or no
    /// body and no type at all.
    Json,
    /// No body (`DELETE`, a confirm), or a file's own type (an upload): not checked.
    Other,
}

/// Whether a request is one the origin check covers: a socket upgrade, or a method
/// that changes state, under `/api` or `/room`.
pub fn is_guarded(method: &str, path: &str, upgrade: bool) -> bool {
    let under = ["/api", "/room"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let changes = !matches!(method, "GET" | "HEAD" | "OPTIONS");
    under && (upgrade || changes)
}

/// The body a state-changing route takes.
pub fn body_kind(method: &str, path: &str) -> BodyKind {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["api", "names", "claim" | "release"])
        | ("POST", ["api", "rooms"])
        | ("POST", ["api", "dms"])
        | ("PATCH", ["api", "rooms", _]) => BodyKind::Json,
        _ => BodyKind::Other,
    }
}

/// Whether a Content-Type is JSON: `application/json`, any parameters, any case.
pub fn is_json_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// `scheme://host[:port]` of an origin, lowercased, default port dropped; `None` for
/// `null`, a non-http(s) scheme, or anything that is not a bare origin.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let raw = raw.trim();
    // Only `scheme://host[:port]` (a trailing `/` tolerated): no path, query or user.
    let (_, rest) = raw.split_once("://")?;
    if rest.trim_end_matches('/').contains(['/', '?', '#', '@']) {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// The `ALLOWED_ORIGINS` setting: comma-separated origins, blanks trimmed; entries
/// that are not bare origins are left out.
pub fn parse_allowed(setting: &str) -> Vec<String> {
    setting.split(',').filter_map(normalize_origin).collect()
}

/// Whether a host is this machine (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether an `Origin` header may drive this request: absent (a CLI, a script), the
/// Worker's own origin (on a loopback host, either loopback spelling of the same scheme
/// and port), or one listed in `ALLOWED_ORIGINS`. `null` and malformed ones may not.
pub fn origin_allowed(origin: Option<&str>, own: &Url, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    if origin == own.origin().ascii_serialization() || allowed.contains(&origin) {
        return true;
    }
    // `http://localhost:8787` and `http://127.0.0.1:8787` are the same dev server.
    let own_host = own.host_str().unwrap_or_default();
    match Url::parse(&origin) {
        Ok(theirs) => {
            is_loopback_host(own_host)
                && is_loopback_host(theirs.host_str().unwrap_or_default())
                && theirs.scheme() == own.scheme()
                && theirs.port_or_known_default() == own.port_or_known_default()
        }
        Err(_) => false,
    }
}

/// Whether answers for this URL carry HSTS: https on a host that is not loopback.
pub fn wants_hsts(url: &Url) -> bool {
    url.scheme() == "https" && !url.host_str().is_some_and(is_loopback_host)
}

/// Whether a request carries a body: a non-zero length, or a chunked one.
fn has_body(req: &Request) -> bool {
    let header = |k: &str| req.headers().get(k).ok().flatten();
    match header("content-length") {
        Some(n) => n.trim() != "0",
        None => header("transfer-encoding").is_some(),
    }
}

/// The refusal of a request that a browser on another site could have sent, or a JSON
/// route's body of another type; `None` lets it through to the router. Nothing has
/// reached a Durable Object or D1 yet.
pub fn refusal(req: &Request, env: &Env, url: &Url) -> Result<Option<Response>> {
    let method = req.method();
    let method = method.as_ref();
    let path = url.path();
    if !is_guarded(method, path, http::is_upgrade(req)) {
        return Ok(None);
    }
    let origin = req.headers().get("origin")?;
    let allowed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| parse_allowed(&v.to_string()))
        .unwrap_or_default();
    if !origin_allowed(origin.as_deref(), url, &allowed) {
        let shown: String = origin
            .unwrap_or_default()
            .chars()
            .take(200)
            .filter(|c| !c.is_control())
            .collect();
        let message = if shown.trim() == "null" {
            "requests from an opaque origin (Origin: null) are not accepted here".to_owned()
        } else {
            format!(
                "requests from the origin \"{shown}\" are not accepted here: only this site's \
                 own pages, origins listed in ALLOWED_ORIGINS, and clients that send no Origin"
            )
        };
        return http::error(&HttpError::new(ErrorCode::Forbidden, message)).map(Some);
    }
    if body_kind(method, path) == BodyKind::Json {
        let content_type = req.headers().get("content-type")?;
        let fine = match content_type.as_deref() {
            Some(t) => is_json_type(t),
            None => !has_body(req),
        };
        if !fine {
            let got: String = content_type
                .unwrap_or_else(|| "none".into())
                .chars()
                .take(100)
                .filter(|c| !c.is_control())
                .collect();
            return http::error(&HttpError::new(
                ErrorCode::UnsupportedType,
                format!(
                    "this route takes a JSON body: send Content-Type: application/json (got {got})"
                ),
            ))
            .map(Some);
        }
    }
    Ok(None)
}

/// The answer with the security headers set: the route's own headers are copied (a
/// fetched answer's are immutable), a user file keeps its stricter CSP.
pub fn secure(response: Response, url: &Url) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        headers.append(&name, &value)?;
    }
    if !headers.has("content-security-policy")? {
        headers.set("content-security-policy", CSP)?;
    }
    for (name, value) in COMMON {
        headers.set(name, value)?;
    }
    if wants_hsts(url) {
        headers.set("strict-transport-security", HSTS)?;
    }
    Ok(response.with_headers(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn origins_normalize_to_scheme_host_port() {
        assert_eq!(
            normalize_origin("HTTPS://Chat.Example:443").as_deref(),
            Some("https://chat.example")
        );
        assert_eq!(
            normalize_origin(" http://127.0.0.1:8787 ").as_deref(),
            Some("http://127.0.0.1:8787")
        );
        for bad in [
            "null",
            "",
            "file:///etc",
            "ftp://x.example",
            "https://a.example/path",
            "https://u:p@a.example",
            "https://a.example?x=1",
            "chrome-extension://abc",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_setting_is_a_trimmed_comma_list() {
        assert_eq!(
            parse_allowed(" https://a.example , http://b.example:8080,,null, bogus "),
            vec!["https://a.example", "http://b.example:8080"]
        );
        assert!(parse_allowed("").is_empty());
    }

    #[test]
    fn which_origins_pass() {
        let own = url("https://chat.example/room/x");
        let allowed = parse_allowed("https://partner.example");
        assert!(origin_allowed(None, &own, &allowed));
        assert!(origin_allowed(Some("https://chat.example"), &own, &allowed));
        assert!(origin_allowed(
            Some("https://partner.example"),
            &own,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            &own,
            &allowed
        ));
        assert!(!origin_allowed(Some("null"), &own, &allowed));
        assert!(!origin_allowed(Some("http://chat.example"), &own, &allowed));
        assert!(!origin_allowed(
            Some("https://chat.example:8443"),
            &own,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("https://sub.chat.example"),
            &own,
            &allowed
        ));
        // A deployed host does not take loopback origins as its own.
        assert!(!origin_allowed(Some("http://localhost"), &own, &[]));
    }

    #[test]
    fn loopback_spellings_are_one_dev_server() {
        let own = url("http://127.0.0.1:8787/api/rooms");
        assert!(origin_allowed(Some("http://localhost:8787"), &own, &[]));
        assert!(origin_allowed(Some("http://127.0.0.1:8787"), &own, &[]));
        assert!(!origin_allowed(Some("http://localhost:9999"), &own, &[]));
        assert!(!origin_allowed(Some("https://localhost:8787"), &own, &[]));
        assert!(!origin_allowed(Some("http://evil.example:8787"), &own, &[]));
    }

    #[test]
    fn hsts_only_on_deployed_https() {
        assert!(wants_hsts(&url("https://edgechat.acct.workers.dev/")));
        assert!(wants_hsts(&url("https://chat.example/api/rooms")));
        assert!(!wants_hsts(&url("http://chat.example/")));
        assert!(!wants_hsts(&url("http://localhost:8787/")));
        assert!(!wants_hsts(&url("https://localhost:8787/")));
        assert!(!wants_hsts(&url("https://127.0.0.1/")));
        assert!(!wants_hsts(&url("https://[::1]:8787/")));
        assert!(!wants_hsts(&url("https://app.localhost/")));
    }

    #[test]
    fn guarded_requests_and_json_routes() {
        assert!(is_guarded("GET", "/room/general", true));
        assert!(!is_guarded("GET", "/room/general", false));
        assert!(is_guarded("POST", "/api/names/claim", false));
        assert!(is_guarded("DELETE", "/api/dms/dm-x", false));
        assert!(is_guarded("PUT", "/api", false));
        assert!(!is_guarded("POST", "/apix", false));
        assert!(!is_guarded("GET", "/api/rooms", false));
        assert_eq!(body_kind("POST", "/api/rooms"), BodyKind::Json);
        assert_eq!(body_kind("PATCH", "/api/rooms/team"), BodyKind::Json);
        assert_eq!(body_kind("POST", "/api/names/release"), BodyKind::Json);
        assert_eq!(body_kind("POST", "/api/names/confirm"), BodyKind::Other);
        assert_eq!(body_kind("POST", "/room/x/files"), BodyKind::Other);
        assert_eq!(body_kind("DELETE", "/api/dms/dm-x"), BodyKind::Other);
        assert!(is_json_type("application/json"));
        assert!(is_json_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_type("text/plain"));
        assert!(!is_json_type("application/x-www-form-urlencoded"));
        assert!(!is_json_type("application/jsonx"));
    }

    /// `public/_headers` gives static assets the same list the Worker gives its answers.
    #[test]
    fn static_headers_match_the_workers() {
        let file = include_str!("../public/_headers");
        let mut found: Vec<(String, String)> = file
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('/'))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        found.sort();
        let mut want: Vec<(String, String)> = COMMON
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("content-security-policy".to_string(), CSP.to_string())])
            .collect();
        want.sort();
        assert_eq!(found, want);
        assert_eq!(file.lines().filter(|l| l.starts_with('/')).count(), 1);
    }
}
