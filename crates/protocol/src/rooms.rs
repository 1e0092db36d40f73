//! Rooms made on purpose: a title, a description, and public or private visibility. A
//! private room has a random id, is never listed, and is reached by its link.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, HttpError, RoomId};

pub const MAX_TITLE_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Every private room id starts with this; the rest is random.
pub const PRIVATE_PREFIX: &str = "p-";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// `POST /api/rooms`, checked. `id` is required for a public room and refused for a
/// private one (whose id is drawn at random).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRoom {
    pub id: Option<RoomId>,
    pub title: String,
    pub description: String,
    pub visibility: Visibility,
    /// Who made it, as spelled, if the body named a valid name.
    pub maker: Option<String>,
}

#[derive(Deserialize)]
struct RawCreate {
    #[serde(default)]
    id: Option<String>,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    name: Option<String>,
}

/// One line of text: trimmed, no control characters except (in a description) newlines.
fn clean(raw: &str, max: usize, what: &str, newlines: bool) -> Result<String, HttpError> {
    let text = raw.trim();
    if text
        .chars()
        .any(|c| c.is_control() && !(newlines && c == '\n'))
    {
        return Err(HttpError::new(
            ErrorCode::BadRequest,
            format!("the {what} must not contain control characters"),
        ));
    }
    if text.chars().count() > max {
        return Err(HttpError::new(
            ErrorCode::BadRequest,
            format!("the {what} is at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl CreateRoom {
    pub fn parse(body: &str) -> Result<CreateRoom, HttpError> {
        let raw: RawCreate = serde_json::from_str(body).map_err(|e| {
            HttpError::new(
                ErrorCode::BadRequest,
                format!("the body must be JSON {{\"title\", \"description\", \"visibility\", \"id\"}}: {e}"),
            )
        })?;
        let title = clean(&raw.title, MAX_TITLE_CHARS, "title", false)?;
        if title.is_empty() {
            return Err(HttpError::new(
                ErrorCode::BadRequest,
                "a room needs a title",
            ));
        }
        let description = clean(&raw.description, MAX_DESCRIPTION_CHARS, "description", true)?;
        let id = match (raw.visibility, raw.id.as_deref().map(str::trim)) {
            (Visibility::Private, Some(id)) if !id.is_empty() => {
                return Err(HttpError::new(
                    ErrorCode::BadRequest,
                    "a private room's id is chosen at random: leave id out",
                ))
            }
            (Visibility::Private, _) => None,
            (Visibility::Public, None | Some("")) => {
                return Err(HttpError::new(
                    ErrorCode::BadRequest,
                    "a public room needs an id (its address, a-z 0-9 _ -)",
                ))
            }
            (Visibility::Public, Some(id)) => {
                let id =
                    RoomId::parse(id).map_err(|m| HttpError::new(ErrorCode::InvalidRoom, m))?;
                if crate::is_dm_room(id.as_str()) || id.as_str().starts_with(PRIVATE_PREFIX) {
                    return Err(HttpError::new(
                        ErrorCode::InvalidRoom,
                        "ids starting with dm-- or p- are reserved",
                    ));
                }
                Some(id)
            }
        };
        Ok(CreateRoom {
            id,
            title,
            description,
            visibility: raw.visibility,
            maker: raw
                .name
                .and_then(|n| crate::Name::parse(&n).ok())
                .map(|n| n.display().to_owned()),
        })
    }
}

/// `PATCH /api/rooms/:id`, checked: a new title and/or description, by the room's owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retitle {
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetitle {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl Retitle {
    pub fn parse(body: &str) -> Result<Retitle, HttpError> {
        let raw: RawRetitle = serde_json::from_str(body).map_err(|e| {
            HttpError::new(
                ErrorCode::BadRequest,
                format!("the body must be JSON {{\"title\"?, \"description\"?}}: {e}"),
            )
        })?;
        let title = raw
            .title
            .map(|t| clean(&t, MAX_TITLE_CHARS, "title", false))
            .transpose()?;
        if title.as_deref() == Some("") {
            return Err(HttpError::new(
                ErrorCode::BadRequest,
                "a room needs a title",
            ));
        }
        let description = raw
            .description
            .map(|d| clean(&d, MAX_DESCRIPTION_CHARS, "description", true))
            .transpose()?;
        if title.is_none() && description.is_none() {
            return Err(HttpError::new(
                ErrorCode::BadRequest,
                "say what changes: title, description or both",
            ));
        }
        Ok(Retitle { title, description })
    }
}

/// What `GET /api/rooms/:id` and the room list say about a room beyond its counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub visibility: Visibility,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creations_are_checked() {
        let p = CreateRoom::parse(r#"{"id":"Team","title":" Team chat ","description":"a\nb"}"#)
            .unwrap();
        assert_eq!(p.id.unwrap().as_str(), "team");
        assert_eq!(p.title, "Team chat");
        assert_eq!(p.description, "a\nb");
        assert_eq!(p.visibility, Visibility::Public);
        let q = CreateRoom::parse(r#"{"title":"Secret","visibility":"private"}"#).unwrap();
        assert_eq!((q.id, q.visibility), (None, Visibility::Private));
        for (bad, code) in [
            (r#"{"title":"x"}"#, ErrorCode::BadRequest),
            (r#"{"id":"a","title":""}"#, ErrorCode::BadRequest),
            (r#"{"id":"a b","title":"x"}"#, ErrorCode::InvalidRoom),
            (r#"{"id":"dm--x","title":"x"}"#, ErrorCode::InvalidRoom),
            (r#"{"id":"p-x","title":"x"}"#, ErrorCode::InvalidRoom),
            (
                r#"{"id":"a","title":"x","visibility":"private"}"#,
                ErrorCode::BadRequest,
            ),
            (
                r#"{"id":"a","title":"x","visibility":"hidden"}"#,
                ErrorCode::BadRequest,
            ),
            (r#"{"id":"a","title":"x\u0007"}"#, ErrorCode::BadRequest),
            ("nope", ErrorCode::BadRequest),
        ] {
            assert_eq!(
                CreateRoom::parse(bad).unwrap_err().error.code,
                code,
                "{bad}"
            );
        }
        let long = format!(r#"{{"id":"a","title":"{}"}}"#, "t".repeat(81));
        assert!(CreateRoom::parse(&long).is_err());
    }

    #[test]
    fn retitles_are_checked() {
        let r = Retitle::parse(r#"{"title":" New "}"#).unwrap();
        assert_eq!((r.title.as_deref(), r.description), (Some("New"), None));
        for bad in ["{}", r#"{"title":""}"#, r#"{"owner":"x"}"#, "nope"] {
            assert_eq!(
                Retitle::parse(bad).unwrap_err().error.code,
                ErrorCode::BadRequest,
                "{bad}"
            );
        }
    }
}
