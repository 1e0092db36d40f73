//! The JSON bodies of the HTTP API: the error answer every route shares, a page of
//! messages, the users of a room and the room list with its previews.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, Message, User};

/// The JSON body of every HTTP error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpError {
    pub error: HttpErrorBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl HttpError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HttpError {
            error: HttpErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

/// `GET /room/:id/messages` and the `history` frame's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// `GET /room/:id/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersList {
    pub users: Vec<User>,
    /// Who was here and is not now, most recent first (see [`crate::LastSeen`]); left
    /// out when nobody is, so the answer of a room nobody has left is as it always was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_seen: Vec<crate::LastSeen>,
}

/// One entry of `GET /api/rooms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: String,
    pub message_count: u64,
    pub last_activity: u64,
    /// With `?name=`: the messages after that name's last read seq in this room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u64>,
    /// A title and description, for rooms made with `POST /api/rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names connected now.
    #[serde(default)]
    pub online: u64,
    /// The newest message: who wrote it and how it begins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Preview>,
}

/// The start of a room's newest message, for the room list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub name: String,
    pub text: String,
}

/// The longest preview text, in code points.
pub const PREVIEW_CHARS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsList {
    pub rooms: Vec<RoomSummary>,
}
