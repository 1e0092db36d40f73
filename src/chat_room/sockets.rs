//! The runtime's sockets: which connection a socket is, sending one JavaScript string
//! to many, answering a frame the room could not look at, and new ids.

use edgechat_protocol::{ErrorCode, Refusal};
use edgechat_room::{Attachment, ConnId};
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsCast, JsValue};
use worker::{Result, WebSocket};

use crate::http;

use super::ChatRoom;

/// Answers a frame the room could not even look at: never silence.
pub(super) fn refuse_internal(ws: &WebSocket) {
    let frame = Refusal::new(
        ErrorCode::Internal,
        "the room could not read that; try again",
    );
    let _ = ws.send_with_str(frame.to_frame().encode());
}

impl ChatRoom {
    /// The connection id of a socket: from the map while awake, else its attachment.
    pub(super) fn conn_id(&self, ws: &WebSocket) -> Option<ConnId> {
        if let Some(id) = self.ids.get(socket_key(ws)).as_string() {
            return Some(ConnId::from(id));
        }
        match ws.deserialize_attachment::<Attachment>() {
            Ok(Some(a)) => {
                self.ids.set(socket_key(ws), &JsValue::from_str(&a.id));
                Some(a.id)
            }
            _ => None,
        }
    }
}

pub(super) fn socket_key(ws: &WebSocket) -> &JsValue {
    let raw: &worker::web_sys::WebSocket = ws.as_ref();
    raw.as_ref()
}

#[wasm_bindgen]
extern "C" {
    /// The runtime's WebSocket, seen only for `send` with a string made once.
    type TextSocket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &TextSocket, data: &JsValue) -> std::result::Result<(), JsValue>;
}

pub(super) fn send_text(ws: &WebSocket, text: &JsValue) {
    let _ = socket_key(ws)
        .unchecked_ref::<TextSocket>()
        .send_value(text);
}

/// A connection's (or a file's) id: 96 random bits.
pub(super) fn new_conn_id() -> Result<String> {
    http::random_hex(12)
}
