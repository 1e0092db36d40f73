//! The `ChatRoom` Durable Object: the I/O shell around [`edgechat_room::Room`].
//!
//! It is one loop: decode an event into an [`Input`], hand it to the room core
//! (`handle`), drain what the core decided (`poll`) and carry it out: send frames (each
//! encoded once for all its receivers), save attachments, close sockets, delete files
//! from R2, write the one [`Batch`] the room owes D1 and answer with its outcome, and
//! set the alarm for the core's next deadline. An HTTP answer (a connect, a users read)
//! never waits for D1: a batch that comes out then is handed back (`Input::Deferred`,
//! everything in it stays owed) and the alarm is set for now, so that the next event
//! writes one batch of all that is owed by then.
//!
//! What must outlive a hibernation lives in each socket's attachment (identity, status)
//! and in the object's SQLite log (messages, seq, client ids, what D1 still lacks);
//! everything else is rebuilt on the first event after a wake.
//!
//! The requests that reach the object over HTTP (the socket upgrade, making a room, a
//! role, the users, an upload) are in [`requests`]; the runtime's sockets in [`sockets`].

mod requests;
mod sockets;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use edgechat_protocol::{is_dm_room, ServerFrame};
use edgechat_room::{
    Attachment, Batch, Bounds, ConnId, Input, Limits, Output, PresenceSettings, Room, RoomKind,
    Target,
};
use worker::js_sys::Map;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    console_error, console_log, durable_object, Date, DurableObject, Env, Request, Response,
    Result, State, WebSocket, WebSocketIncomingMessage, WebSocketRequestResponsePair,
};

use crate::files;
use crate::storage::room_log::SqlLog;
use crate::storage::room_writes;
use sockets::{refuse_internal, send_text, socket_key};

#[durable_object]
pub struct ChatRoom {
    state: State,
    env: Env,
    /// The room core, built on the first event after (re)construction.
    room: RefCell<Option<Room<SqlLog>>>,
    /// This object's sockets by connection id.
    sockets: RefCell<HashMap<ConnId, WebSocket>>,
    /// Connection ids by socket object, so that a frame's sender is found without
    /// deserializing its attachment (the attachment stays the truth after a wake).
    ids: Map,
    /// The alarm time last set, to avoid setting it again for nothing.
    alarm_at: Cell<Option<u64>>,
}

/// Whether the event being carried out may wait for D1.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Waits {
    /// A socket event or the alarm: writes are awaited, their outcome handed back.
    ForWrites,
    /// An HTTP request: its answer must not wait for D1.
    Never,
}

fn now() -> u64 {
    Date::now().as_millis()
}

impl DurableObject for ChatRoom {
    fn new(state: State, env: Env) -> Self {
        // Pings are answered by the runtime itself, without waking the room.
        if let Ok(pair) =
            WebSocketRequestResponsePair::new(edgechat_protocol::PING, edgechat_protocol::PONG)
        {
            state.set_websocket_auto_response(&pair);
        }
        ChatRoom {
            state,
            env,
            room: RefCell::new(None),
            sockets: RefCell::new(HashMap::new()),
            ids: Map::new(),
            alarm_at: Cell::new(None),
        }
    }
    async fn fetch(&self, req: Request) -> Result<Response> {
        self.request(req).await
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let Err(e) = self.load(None) {
            console_error!("loading the room: {e}");
            refuse_internal(&ws);
            return Ok(());
        }
        let Some(id) = self.conn_id(&ws) else {
            console_error!("a socket without an attachment sent a frame");
            refuse_internal(&ws);
            return Ok(());
        };
        let input = match message {
            WebSocketIncomingMessage::String(text) => Input::Text { conn: id, text },
            WebSocketIncomingMessage::Binary(bytes) => Input::Binary {
                conn: id,
                len: bytes.len(),
            },
        };
        self.run(input).await;
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        self.disconnect(&ws).await;
        // Complete the closing handshake; harmless if the runtime already did.
        let _ = ws.close(Some(1000), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> Result<()> {
        console_error!("websocket error: {error}");
        self.disconnect(&ws).await;
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        if let Err(e) = self.load(None) {
            console_error!("loading the room for its alarm: {e}");
            return Response::ok("");
        }
        self.run(Input::Alarm).await;
        Response::ok("")
    }
}

/// The room's bounds, from the Worker's settings (`[vars]`).
pub(crate) fn bounds(env: &Env) -> Bounds {
    let var = |k: &str| env.var(k).ok().map(|v| v.to_string());
    Bounds::from_settings(
        var("REACTION_NAMES_MAX").as_deref(),
        var("FRAME_BUDGET_BYTES").as_deref(),
        var("UNATTACHED_UPLOAD_TTL_SECS").as_deref(),
    )
}

impl ChatRoom {
    /// Builds the room core if this instance has none yet: reads the log's positions and
    /// re-registers every socket from its attachment.
    fn load(&self, room_id: Option<&str>) -> Result<()> {
        if self.room.borrow().is_some() {
            return Ok(());
        }
        let to_err = |e: edgechat_room::LogError| worker::Error::RustError(e.0);
        let mut log = SqlLog::open(self.state.storage().sql()).map_err(to_err)?;
        // A request names its room and the log keeps it: an alarm after a restart may
        // have neither a request nor, in every runtime, the object's name.
        match room_id {
            Some(id) => log.set_room_id(id).map_err(to_err)?,
            None => {
                let id = match self.state.id().name() {
                    Some(name) => name,
                    None => log.room_id().unwrap_or_default().to_owned(),
                };
                log.use_room_id(&id);
            }
        }
        let id = log.room().to_owned();
        let kind = if is_dm_room(&id) {
            RoomKind::Dm
        } else {
            RoomKind::Room
        };
        let limits = Limits::from_vars(|name| self.env.var(name).ok().map(|v| v.to_string()));
        let mut room = Room::open(id, kind, log, limits).map_err(to_err)?;
        room.set_bounds(bounds(&self.env));
        let var = |k: &str| self.env.var(k).ok().map(|v| v.to_string());
        room.set_presence(PresenceSettings::from_settings(
            var("PRESENCE_TICK_MS").as_deref(),
            var("PRESENCE_LIST_MAX").as_deref(),
        ));
        let t = now();
        let mut sockets = self.sockets.borrow_mut();
        for ws in self.state.get_websockets() {
            // A socket the room closed (kicked, or 1008) may linger while its closing
            // handshake runs: it is no member, and counts against no cap.
            if socket_key(&ws)
                .unchecked_ref::<worker::web_sys::WebSocket>()
                .ready_state()
                >= worker::web_sys::WebSocket::CLOSING
            {
                continue;
            }
            if let Ok(Some(attachment)) = ws.deserialize_attachment::<Attachment>() {
                self.ids
                    .set(socket_key(&ws), &JsValue::from_str(&attachment.id));
                sockets.insert(attachment.id.clone(), ws);
                room.handle(t, Input::Restore(attachment));
            }
        }
        if !sockets.is_empty() {
            // Only a woken room finds sockets it did not accept itself.
            console_log!(
                "room {}: woke with {} connection(s), last seq {}",
                room.id(),
                sockets.len(),
                room.last_seq()
            );
        }
        *self.room.borrow_mut() = Some(room);
        Ok(())
    }

    fn with_room<T>(&self, f: impl FnOnce(&mut Room<SqlLog>) -> T) -> Option<T> {
        self.room.borrow_mut().as_mut().map(f)
    }

    async fn disconnect(&self, ws: &WebSocket) {
        if let Err(e) = self.load(None) {
            console_error!("loading the room: {e}");
            return;
        }
        let Some(id) = self.conn_id(ws) else { return };
        self.ids.delete(socket_key(ws));
        self.sockets.borrow_mut().remove(&id);
        self.run(Input::Close { conn: id }).await;
    }

    /// Hands the room one event and carries out everything it decides.
    async fn run(&self, input: Input) {
        self.handle(input);
        self.drain(Waits::ForWrites).await;
    }

    fn handle(&self, input: Input) {
        self.with_room(|r| r.handle(now(), input));
    }

    /// Carries out the room's decisions until it has none left, then keeps the alarm set
    /// for its next deadline. Files of deleted messages go after the event's frames.
    async fn drain(&self, waits: Waits) {
        let mut doomed = Vec::new();
        while let Some(output) = self.with_room(|r| r.poll()).flatten() {
            match output {
                Output::Send { to, frame } => self.send(&to, &frame),
                Output::Save(attachment) => {
                    if let Some(ws) = self.sockets.borrow().get(&attachment.id) {
                        if let Err(e) = ws.serialize_attachment(&attachment) {
                            console_error!("saving an attachment: {e}");
                        }
                    }
                }
                Output::Close {
                    conns,
                    code,
                    reason,
                } => {
                    // The room has let these connections go: forget them now, so that
                    // nothing more is sent to them; their close event finds no one.
                    let mut sockets = self.sockets.borrow_mut();
                    for id in conns {
                        if let Some(ws) = sockets.remove(&id) {
                            self.ids.delete(socket_key(&ws));
                            let _ = ws.close(Some(code), Some(reason.as_str()));
                        }
                    }
                }
                Output::Log(message) => console_error!("{message}"),
                Output::DeleteFiles(ids) => doomed.extend(ids),
                Output::SweepUploads(ids) => {
                    let (deleted, kept) = self.delete_from_r2(ids).await;
                    self.handle(Input::Swept { deleted, kept });
                }
                Output::Persist(batch) if waits == Waits::Never => {
                    // A batch comes out only once nothing else is queued: nothing is
                    // left to carry out but the write, which goes by the alarm.
                    self.defer(batch.id).await;
                    break;
                }
                Output::Persist(batch) => {
                    self.delete_from_r2(std::mem::take(&mut doomed)).await;
                    self.persist(batch).await;
                }
            }
        }
        self.delete_from_r2(doomed).await;
        self.schedule_alarm().await;
    }

    /// Sends a frame to its receivers: one JavaScript string for all of them. A socket
    /// that is closing refuses it, and its close event follows.
    fn send(&self, to: &Target, frame: &ServerFrame) {
        let text = JsValue::from_str(&frame.encode());
        let sockets = self.sockets.borrow();
        match to {
            Target::One(id) => {
                if let Some(ws) = sockets.get(id) {
                    send_text(ws, &text);
                }
            }
            Target::Many(ids) => {
                for ws in ids.iter().filter_map(|id| sockets.get(id)) {
                    send_text(ws, &text);
                }
            }
            _ => {
                for (id, ws) in sockets.iter() {
                    if to.includes(id) {
                        send_text(ws, &text);
                    }
                }
            }
        }
    }

    /// Writes a batch to D1 in one atomic write and tells the room how it went.
    async fn persist(&self, batch: Batch) {
        let written = match self.env.d1("DB") {
            Ok(db) => room_writes::persist(&db, &batch).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &written {
            console_error!(
                "room {}: writing {} message(s), {} audit entries and {} read positions to D1: {e}",
                batch.room,
                batch.messages.len(),
                batch.audit.len(),
                batch.reads.len()
            );
        }
        self.handle(Input::Persisted {
            id: batch.id,
            ok: written.is_ok(),
        });
    }

    /// Hands back a batch that came out while answering a request (all of it stays owed)
    /// and sets the alarm for now, so that an event comes to write what is owed then: one
    /// batch however many requests came meanwhile, with the online count as it is then.
    async fn defer(&self, id: u64) {
        self.handle(Input::Deferred { id });
        match self.state.storage().set_alarm(0).await {
            Ok(()) => self.alarm_at.set(Some(now())),
            Err(e) => console_error!("setting the alarm: {e}"),
        }
    }

    /// Deletes these files of the room from R2: the ids deleted, and those that were not
    /// (each failure logged).
    async fn delete_from_r2(&self, ids: Vec<String>) -> (Vec<String>, Vec<String>) {
        if ids.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let room = self.with_room(|r| r.id().to_owned()).unwrap_or_default();
        let bucket = match self.env.bucket("FILES") {
            Ok(bucket) => bucket,
            Err(e) => {
                console_error!("no R2 binding: {e}");
                return (Vec::new(), ids);
            }
        };
        let (mut deleted, mut kept) = (Vec::new(), Vec::new());
        for id in ids {
            match bucket.delete(files::key(&room, &id)).await {
                Ok(()) => deleted.push(id),
                Err(e) => {
                    console_error!("deleting file {id} of room {room}: {e}");
                    kept.push(id);
                }
            }
        }
        (deleted, kept)
    }

    async fn schedule_alarm(&self) {
        let Some(due) = self.with_room(|r| r.deadline()).flatten() else {
            return;
        };
        if self.alarm_at.get().is_some_and(|at| at <= due) {
            return;
        }
        let offset = due.saturating_sub(now()) as i64;
        match self.state.storage().set_alarm(offset).await {
            Ok(()) => self.alarm_at.set(Some(due)),
            Err(e) => console_error!("setting the alarm: {e}"),
        }
    }
}
