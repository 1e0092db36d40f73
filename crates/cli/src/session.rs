//! What a client knows of one room, fed by server frames: the messages by seq, who is
//! here and typing, the sends still waiting for their `ack`, the lines typed before the
//! room was entered, and whether the client may leave yet. It does no I/O, so
//! reconnecting, resuming, resending and leaving are tested here without a server.

use std::collections::BTreeMap;

use edgechat_protocol::{
    ClientFrame, ClientId, Message, MessageText, Page, ServerFrame, Status, User, MAX_PAGE,
};

/// A send that has not been acknowledged yet: resent, same `client_id`, after a reconnect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub client_id: String,
    pub text: String,
    pub reply_to: Option<u64>,
}

impl Outgoing {
    pub fn frame(&self) -> Option<ClientFrame> {
        Some(ClientFrame::Send {
            text: MessageText::parse(&self.text).ok()?,
            client_id: ClientId::parse(&self.client_id).ok()?,
            reply_to: self.reply_to,
            attachment: None,
        })
    }
}

/// Something a user interface shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The room was entered (`resumed`: after a reconnect, `missed` messages came in).
    Entered {
        resumed: bool,
        missed: usize,
    },
    /// A message not seen before, newer than every one shown.
    Message(Message),
    /// A message shown before changed (edited, deleted, reacted to, replied to).
    Changed(Message),
    /// The room's creator kicked, banned or unbanned someone, or deleted a message.
    Moderation(edgechat_protocol::ModEvent),
    /// The replies to a message, asked for with `/thread`.
    Thread {
        seq: u64,
        messages: Vec<Message>,
    },
    /// Older messages, oldest first, to put above what is shown.
    Older(Vec<Message>),
    Acked {
        client_id: String,
        seq: u64,
    },
    Joined(User),
    Left(User),
    StatusChanged(User),
    Typing(Vec<String>),
    Refused {
        code: String,
        message: String,
        client_id: Option<String>,
    },
    /// A send was refused as too fast: it stays pending, to be resent after the delay.
    Throttled {
        client_id: String,
        retry_after_ms: u64,
    },
    /// This connect claimed the name: its token must be saved, then the claim confirmed,
    /// before the client leaves (then [`Session::claim_settled`]).
    Claimed {
        name: String,
        token: String,
    },
    /// The server signed a pass for this connect's claim: later connects with the name
    /// offer it until `expires_at` (ms), and are admitted without a database check.
    Pass {
        pass: String,
        expires_at: u64,
    },
}

/// Where the connection stands, as far as leaving is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    /// No socket, and no connect under way.
    Offline,
    /// A connect is under way, or the socket is open but its welcome has not come.
    Opening,
    /// The welcome came and nothing after it yet: a `name_claimed` frame may follow.
    Welcomed,
    /// Something came after the welcome: a claim this connect made has been seen.
    Settled,
}

/// Whether a client that was asked to leave may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// Nobody asked to leave.
    Stay,
    /// Something is still owed: lines to send or acknowledge, a claim to save and
    /// confirm, a connect that may bring a claim. With `ping`, the welcome came and
    /// nothing since: a ping's pong tells that no `name_claimed` frame is on its way.
    Wait {
        ping: bool,
    },
    Go,
}

/// Which way a `history` request in flight reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Paging {
    /// Catching up after a resume whose welcome said more follow.
    Forward,
    /// Older messages asked for by the user.
    Backward,
}

#[derive(Debug)]
pub struct Session {
    pub room: String,
    pub name: String,
    pub you: Option<User>,
    pub users: Vec<User>,
    pub messages: BTreeMap<u64, Message>,
    pub typing: Vec<String>,
    /// The newest seq seen: the `since` of the next connect.
    pub last_seq: Option<u64>,
    /// The room's last change seen: the `rev` of the next connect.
    pub rev: Option<u64>,
    /// Whether older messages than the first one shown exist.
    pub has_older: bool,
    pub pending: Vec<Outgoing>,
    /// Lines typed while the room's welcome had not come (connecting, reconnecting): they
    /// are handled in order once it comes, so that `/users` or `/history` see the room.
    pub backlog: Vec<String>,
    paging: Option<Paging>,
    id_prefix: String,
    next_id: u64,
    conn: Conn,
    leaving: bool,
    /// Claims whose token is not yet saved and confirmed.
    claims: usize,
}

impl Session {
    pub fn new(room: &str, name: &str, id_prefix: &str) -> Session {
        Session {
            room: room.to_owned(),
            name: name.to_owned(),
            you: None,
            users: Vec::new(),
            messages: BTreeMap::new(),
            typing: Vec::new(),
            last_seq: None,
            rev: None,
            has_older: false,
            pending: Vec::new(),
            backlog: Vec::new(),
            paging: None,
            id_prefix: id_prefix.to_owned(),
            next_id: 1,
            conn: Conn::Offline,
            leaving: false,
            claims: 0,
        }
    }

    /// A session in another room under the same name, which still owes the claims of
    /// this one.
    pub fn elsewhere(&self, room: &str, id_prefix: &str) -> Session {
        Session {
            claims: self.claims,
            ..Session::new(room, &self.name, id_prefix)
        }
    }

    /// A connect has started.
    pub fn opening(&mut self) {
        self.conn = Conn::Opening;
    }

    /// Whether the room's welcome came on the current connection: sends go out now.
    pub fn is_live(&self) -> bool {
        matches!(self.conn, Conn::Welcomed | Conn::Settled)
    }

    /// Something other than a frame came after the welcome (a pong).
    pub fn heard(&mut self) {
        if self.conn == Conn::Welcomed {
            self.conn = Conn::Settled;
        }
    }

    /// Keeps a line typed before the welcome for later; `false` if it can be handled now.
    pub fn hold(&mut self, line: &str) -> bool {
        if self.is_live() {
            return false;
        }
        self.backlog.push(line.to_owned());
        true
    }

    /// The lines held until the welcome, once it came (none before).
    pub fn take_backlog(&mut self) -> Vec<String> {
        if !self.is_live() {
            return Vec::new();
        }
        std::mem::take(&mut self.backlog)
    }

    /// `/quit`, or the end of input: leave once everything typed so far is sent and
    /// acknowledged and every claim is saved and confirmed.
    pub fn leave(&mut self) {
        self.leaving = true;
    }

    pub fn leaving(&self) -> bool {
        self.leaving
    }

    /// The token of a claim was saved and its confirmation answered (or it could not be
    /// saved, and the claim is left to lapse).
    pub fn claim_settled(&mut self) {
        self.claims = self.claims.saturating_sub(1);
    }

    pub fn leave_state(&self) -> Leave {
        if !self.leaving {
            return Leave::Stay;
        }
        let owed = !self.backlog.is_empty()
            || !self.pending.is_empty()
            || self.claims > 0
            || self.paging.is_some()
            || matches!(self.conn, Conn::Opening | Conn::Welcomed);
        if owed {
            Leave::Wait {
                ping: self.conn == Conn::Welcomed,
            }
        } else {
            Leave::Go
        }
    }

    /// Whether anything typed is still to be sent or acknowledged (worth reconnecting for).
    pub fn owes_lines(&self) -> bool {
        !self.backlog.is_empty() || !self.pending.is_empty()
    }

    /// What was typed and not acknowledged, in the order it was typed.
    pub fn unacknowledged(&self) -> Vec<String> {
        self.pending
            .iter()
            .map(|p| p.text.clone())
            .chain(self.backlog.iter().cloned())
            .collect()
    }

    /// Queues a message; the frame to send now (none before the welcome, which resends
    /// every pending message), or why the text cannot be sent.
    pub fn compose(
        &mut self,
        text: &str,
        reply_to: Option<u64>,
    ) -> Result<Option<ClientFrame>, &'static str> {
        let parsed = MessageText::parse(text)?;
        let client_id = format!("{}-{}", self.id_prefix, self.next_id);
        self.next_id += 1;
        let out = Outgoing {
            client_id,
            text: parsed.into_string(),
            reply_to,
        };
        let frame = out.frame().ok_or("the message cannot be sent")?;
        self.pending.push(out);
        Ok(self.is_live().then_some(frame))
    }

    /// The frame that asks for `limit` messages older than those shown, if any exist
    /// (and the room's welcome came: the answer is awaited before leaving).
    pub fn older(&mut self, limit: u32) -> Option<ClientFrame> {
        if !self.is_live() {
            return None;
        }
        let limit = limit.clamp(1, MAX_PAGE);
        let page = match self.messages.keys().next() {
            Some(&first) if self.has_older => Page::Before {
                before: first,
                limit,
            },
            Some(_) => return None,
            None => Page::Newest { limit },
        };
        self.paging = Some(Paging::Backward);
        Some(ClientFrame::History { page })
    }

    /// `(since, rev)` for the next connect: resume where this session stands.
    pub fn resume_point(&self) -> (Option<u64>, Option<u64>) {
        (self.last_seq, self.last_seq.and(self.rev))
    }

    /// A changed message replaces the one shown, if it is shown.
    fn changed(&mut self, m: Message, events: &mut Vec<Event>) {
        if let Some(old) = self.messages.get_mut(&m.seq) {
            *old = m.clone();
            events.push(Event::Changed(m));
        }
    }

    /// Forgets the connection-bound state before a reconnect; keeps messages and
    /// pending sends.
    pub fn disconnected(&mut self) {
        self.typing.clear();
        self.paging = None;
        self.conn = Conn::Offline;
    }

    /// Reads one frame: what to show, and what to send back (a catch-up page request,
    /// the pending sends after a resume).
    pub fn apply(&mut self, frame: ServerFrame) -> (Vec<Event>, Vec<ClientFrame>) {
        let mut events = Vec::new();
        let mut replies = Vec::new();
        // Whatever follows the welcome comes after the `name_claimed` frame, if any.
        self.heard();
        match frame {
            ServerFrame::Welcome {
                you,
                users,
                messages,
                has_more,
                rev,
                updates,
                ..
            } => {
                let resumed = self.last_seq.is_some();
                self.conn = Conn::Welcomed;
                self.rev = Some(rev);
                for m in updates {
                    self.changed(m, &mut events);
                }
                self.you = Some(you);
                self.users = users;
                self.sort_users();
                self.typing.clear();
                let mut missed = 0;
                for m in messages {
                    if let Some(m) = self.remember(m) {
                        missed += 1;
                        events.push(Event::Message(m));
                    }
                }
                if resumed {
                    if has_more {
                        replies.push(self.catch_up());
                    }
                } else {
                    self.has_older = has_more;
                }
                if self.last_seq.is_none() {
                    self.last_seq = Some(0);
                }
                events.insert(0, Event::Entered { resumed, missed });
                // Sends that were never acknowledged: the same client_id makes a resend
                // harmless (the server answers with the original seq).
                replies.extend(self.pending.iter().filter_map(Outgoing::frame));
            }
            ServerFrame::Message { message } => {
                if let Some(m) = self.remember(message) {
                    events.push(Event::Message(m));
                }
            }
            ServerFrame::Update { message, rev, .. } => {
                self.rev = Some(rev);
                self.changed(message, &mut events);
            }
            ServerFrame::Thread { seq, messages, .. } => {
                events.push(Event::Thread { seq, messages });
            }
            ServerFrame::Moderation { event } => events.push(Event::Moderation(event)),
            // Another connection of ours read further; this client keeps no read marker.
            ServerFrame::Read { .. } => {}
            ServerFrame::Ack { client_id, seq } => {
                self.pending.retain(|p| p.client_id != client_id);
                events.push(Event::Acked { client_id, seq });
            }
            ServerFrame::UserJoined { user } => {
                self.users.retain(|u| !same_name(&u.name, &user.name));
                self.users.push(user.clone());
                self.sort_users();
                events.push(Event::Joined(user));
            }
            ServerFrame::UserLeft { user, .. } => {
                self.users.retain(|u| !same_name(&u.name, &user.name));
                events.push(Event::Left(user));
            }
            ServerFrame::UserStatus { user } => {
                for u in self.users.iter_mut() {
                    if same_name(&u.name, &user.name) {
                        u.status = user.status;
                    }
                }
                events.push(Event::StatusChanged(user));
            }
            ServerFrame::Typing { names } => {
                self.typing.clone_from(&names);
                events.push(Event::Typing(names));
            }
            ServerFrame::History { messages, has_more } => match self.paging.take() {
                Some(Paging::Forward) => {
                    for m in messages {
                        if let Some(m) = self.remember(m) {
                            events.push(Event::Message(m));
                        }
                    }
                    if has_more {
                        replies.push(self.catch_up());
                    }
                }
                _ => {
                    self.has_older = has_more;
                    let older: Vec<Message> = messages
                        .into_iter()
                        .filter_map(|m| self.remember_older(m))
                        .collect();
                    events.push(Event::Older(older));
                }
            },
            ServerFrame::Error {
                code: edgechat_protocol::ErrorCode::RateLimited,
                client_id: Some(client_id),
                retry_after_ms,
                ..
            } if self.pending.iter().any(|p| p.client_id == client_id) => {
                events.push(Event::Throttled {
                    client_id,
                    retry_after_ms: retry_after_ms.unwrap_or(1000).max(50),
                });
            }
            ServerFrame::Error {
                code,
                message,
                client_id,
                ..
            } => {
                if let Some(id) = &client_id {
                    // `internal` asks for a resend; everything else is final.
                    if code != edgechat_protocol::ErrorCode::Internal {
                        self.pending.retain(|p| &p.client_id != id);
                    }
                }
                events.push(Event::Refused {
                    code: code.as_str().to_owned(),
                    message,
                    client_id,
                });
            }
            ServerFrame::NameClaimed { name, token, .. } => {
                self.claims += 1;
                events.push(Event::Claimed { name, token });
            }
            ServerFrame::Pass { pass, expires_at } => {
                events.push(Event::Pass { pass, expires_at });
            }
            // Who runs the room: shown by the full-screen view's header in a later change.
            // Who runs the room, and its pins: shown by the full-screen view's header in
            // a later change (a pinned message's `update` is applied like any other).
            ServerFrame::Roles { .. } | ServerFrame::Pins { .. } => {}
            // Presence 2 frames come only to a client that opted in, which this one does
            // not (yet): nothing to show.
            ServerFrame::Presence { .. } | ServerFrame::Users { .. } => {}
        }
        (events, replies)
    }

    fn catch_up(&mut self) -> ClientFrame {
        self.paging = Some(Paging::Forward);
        ClientFrame::History {
            page: Page::After {
                after: self.last_seq.unwrap_or(0),
                limit: MAX_PAGE,
            },
        }
    }

    /// Keeps a message newer than every one seen; `None` if it is not new.
    fn remember(&mut self, m: Message) -> Option<Message> {
        if self.last_seq.is_some_and(|last| m.seq <= last) || self.messages.contains_key(&m.seq) {
            return None;
        }
        self.last_seq = Some(m.seq);
        self.messages.insert(m.seq, m.clone());
        Some(m)
    }

    fn remember_older(&mut self, m: Message) -> Option<Message> {
        if self.messages.contains_key(&m.seq) {
            return None;
        }
        if self.last_seq.is_none_or(|last| m.seq > last) {
            self.last_seq = Some(m.seq);
        }
        self.messages.insert(m.seq, m.clone());
        Some(m)
    }

    fn sort_users(&mut self) {
        self.users.sort_by_key(|u| u.name.to_lowercase());
    }

    pub fn status(&self) -> Status {
        self.you.as_ref().map(|u| u.status).unwrap_or_default()
    }

    pub fn set_status(&mut self, status: Status) {
        if let Some(you) = self.you.as_mut() {
            you.status = status;
        }
        for u in self.users.iter_mut() {
            if same_name(&u.name, &self.name) {
                u.status = status;
            }
        }
    }
}

fn same_name(a: &str, b: &str) -> bool {
    edgechat_protocol::name_key(a) == edgechat_protocol::name_key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64) -> Message {
        Message {
            seq,
            room: "r".into(),
            name: "ann".into(),
            text: format!("m{seq}"),
            ts: 1,
            client_id: None,
            ..Message::default()
        }
    }

    fn welcome(seqs: std::ops::RangeInclusive<u64>, has_more: bool) -> ServerFrame {
        ServerFrame::Welcome {
            room: "r".into(),
            you: User {
                name: "me".into(),
                status: Status::Online,
            },
            users: vec![],
            user_count: None,
            users_partial: false,
            messages: seqs.map(msg).collect(),
            last_seq: 0,
            has_more,
            rev: 0,
            updates: vec![],
            updates_truncated: false,
            creator: None,
            owner: None,
            moderators: Vec::new(),
            role: None,
            read_seq: 0,
            peer_read_seq: None,
            pins: Vec::new(),
            last_seen: Vec::new(),
        }
    }

    fn seqs(events: &[Event]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_resume_shows_only_what_was_missed_and_catches_up_page_by_page() {
        let mut s = Session::new("r", "me", "x");
        let (events, replies) = s.apply(welcome(1..=3, true));
        assert_eq!(seqs(&events), [1, 2, 3]);
        assert!(s.has_older && replies.is_empty());
        s.apply(ServerFrame::Message { message: msg(4) });
        s.disconnected();
        // The server resends 4 (overlap) and says more follow.
        let (events, replies) = s.apply(welcome(4..=6, true));
        assert_eq!(seqs(&events), [5, 6]);
        assert_eq!(
            events[0],
            Event::Entered {
                resumed: true,
                missed: 2
            }
        );
        assert_eq!(
            replies,
            [ClientFrame::History {
                page: Page::After {
                    after: 6,
                    limit: 100
                }
            }]
        );
        let (events, replies) = s.apply(ServerFrame::History {
            messages: vec![msg(6), msg(7)],
            has_more: false,
        });
        assert_eq!(seqs(&events), [7]);
        assert!(replies.is_empty());
        assert_eq!(s.last_seq, Some(7));
        // A live message seen twice is shown once.
        assert!(s
            .apply(ServerFrame::Message { message: msg(7) })
            .0
            .is_empty());
    }

    #[test]
    fn unacknowledged_sends_are_resent_with_their_client_id_after_a_resume() {
        let mut s = Session::new("r", "me", "x");
        s.apply(welcome(1..=1, false));
        let first = s.compose(" hello ", None).unwrap().unwrap();
        let second = s.compose("again", Some(1)).unwrap().unwrap();
        assert!(s.compose("   ", None).is_err());
        s.apply(ServerFrame::Ack {
            client_id: "x-1".into(),
            seq: 2,
        });
        let (_, replies) = s.apply(welcome(2..=2, false));
        assert_eq!(replies, std::slice::from_ref(&second));
        assert_ne!(first, second);
        // A final refusal drops the send; `internal` keeps it for the next resume.
        s.apply(ServerFrame::Error {
            code: edgechat_protocol::ErrorCode::Internal,
            message: "try again".into(),
            client_id: Some("x-2".into()),
            retry_after_ms: None,
        });
        assert_eq!(s.pending.len(), 1);
        s.apply(ServerFrame::Error {
            code: edgechat_protocol::ErrorCode::NotFound,
            message: "no such message".into(),
            client_id: Some("x-2".into()),
            retry_after_ms: None,
        });
        assert!(s.pending.is_empty());
    }

    #[test]
    fn older_pages_go_above_and_stop_when_none_are_left() {
        let mut s = Session::new("r", "me", "x");
        s.apply(welcome(51..=100, true));
        let ask = s.older(30).unwrap();
        assert_eq!(
            ask,
            ClientFrame::History {
                page: Page::Before {
                    before: 51,
                    limit: 30
                }
            }
        );
        let (events, _) = s.apply(ServerFrame::History {
            messages: (21..=50).map(msg).collect(),
            has_more: false,
        });
        match &events[0] {
            Event::Older(m) => assert_eq!(m.len(), 30),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.last_seq, Some(100));
        assert!(s.older(30).is_none());
    }

    #[test]
    fn presence_follows_joins_leaves_and_status_changes() {
        let mut s = Session::new("r", "me", "x");
        s.apply(welcome(1..=1, false));
        let bob = |status| User {
            name: "Bob".into(),
            status,
        };
        s.apply(ServerFrame::UserJoined {
            user: bob(Status::Online),
        });
        s.apply(ServerFrame::UserStatus {
            user: User {
                name: "bob".into(),
                status: Status::Dnd,
            },
        });
        assert_eq!(s.users, [bob(Status::Dnd)]);
        s.apply(ServerFrame::UserLeft {
            user: bob(Status::Dnd),
            at: Some(5),
        });
        assert!(s.users.is_empty());
    }

    #[test]
    fn changes_replace_shown_messages_and_set_the_resume_rev() {
        let mut s = Session::new("r", "me", "t");
        s.apply(welcome(1..=3, false));
        assert_eq!(s.resume_point(), (Some(3), Some(0)));
        let mut edited = msg(2);
        edited.text = "new".into();
        edited.edited_ts = Some(5);
        let (events, _) = s.apply(ServerFrame::Update {
            message: edited.clone(),
            rev: 7,
            reaction: None,
        });
        assert_eq!(events, [Event::Changed(edited.clone())]);
        assert_eq!(s.messages[&2], edited);
        assert_eq!(s.resume_point(), (Some(3), Some(7)));
        // A change to a message never shown is only remembered as a rev.
        let (events, _) = s.apply(ServerFrame::Update {
            message: msg(99),
            rev: 8,
            reaction: None,
        });
        assert!(events.is_empty());
        assert!(!s.messages.contains_key(&99));
        // A resume's updates change what is shown.
        let mut deleted = msg(1);
        deleted.deleted = true;
        deleted.text.clear();
        let frame = match welcome(4..=4, false) {
            ServerFrame::Welcome {
                room,
                you,
                users,
                messages,
                last_seq,
                has_more,
                ..
            } => ServerFrame::Welcome {
                room,
                you,
                users,
                user_count: None,
                users_partial: false,
                messages,
                last_seq,
                has_more,
                rev: 9,
                updates: vec![deleted.clone()],
                updates_truncated: false,
                creator: None,
                owner: None,
                moderators: Vec::new(),
                role: None,
                read_seq: 0,
                peer_read_seq: None,
                pins: Vec::new(),
                last_seen: Vec::new(),
            },
            other => other,
        };
        let (events, _) = s.apply(frame);
        assert!(events.contains(&Event::Changed(deleted.clone())));
        assert_eq!(s.messages[&1], deleted);
        assert_eq!(s.resume_point(), (Some(4), Some(9)));
    }

    fn claimed() -> ServerFrame {
        ServerFrame::NameClaimed {
            name: "me".into(),
            token: "t0k".into(),
            claim: "c1".into(),
        }
    }

    /// The bug of `printf 'hello\n' | edgechat chat --plain`: the end of input came before
    /// the connect finished, and the client left with "hello" unsent and the name's
    /// token unread. Lines typed before the welcome wait for it, in order, and leaving
    /// waits for every acknowledgement and for the claim's token to be settled.
    #[test]
    fn leaving_waits_for_lines_typed_before_the_welcome_their_acks_and_the_claim() {
        let mut s = Session::new("r", "me", "x");
        s.opening();
        assert_eq!(s.leave_state(), Leave::Stay);
        for line in ["/users", "/history 2", "hello"] {
            assert!(s.hold(line));
        }
        assert!(
            s.take_backlog().is_empty(),
            "nothing is handed out before the welcome"
        );
        s.leave();
        assert_eq!(s.leave_state(), Leave::Wait { ping: false });
        assert_eq!(s.unacknowledged(), ["/users", "/history 2", "hello"]);

        s.apply(welcome(1..=1, false));
        assert!(s.is_live() && !s.hold("later"));
        assert_eq!(s.take_backlog(), ["/users", "/history 2", "hello"]);
        assert!(s.older(2).is_none(), "one message shown and none older");
        let frame = s.compose("hello", None).unwrap();
        assert!(
            frame.is_some(),
            "after the welcome a message goes out at once"
        );
        assert_eq!(s.leave_state(), Leave::Wait { ping: true });

        // The frame right after the welcome: the connect claimed the name.
        let (events, _) = s.apply(claimed());
        assert_eq!(
            events,
            [Event::Claimed {
                name: "me".into(),
                token: "t0k".into()
            }]
        );
        assert_eq!(s.leave_state(), Leave::Wait { ping: false });
        s.apply(ServerFrame::Ack {
            client_id: "x-1".into(),
            seq: 2,
        });
        assert!(s.unacknowledged().is_empty());
        assert_eq!(
            s.leave_state(),
            Leave::Wait { ping: false },
            "the token is not saved and confirmed yet"
        );
        s.claim_settled();
        assert_eq!(s.leave_state(), Leave::Go);
    }

    #[test]
    fn leaving_right_after_a_welcome_waits_for_what_follows_it() {
        let mut s = Session::new("r", "me", "x");
        s.opening();
        s.apply(welcome(1..=1, false));
        s.leave();
        // A `name_claimed` frame may be on its way: a ping's pong tells it is not.
        assert_eq!(s.leave_state(), Leave::Wait { ping: true });
        s.heard();
        assert_eq!(s.leave_state(), Leave::Go);
    }

    #[test]
    fn leaving_before_any_connect_came_through() {
        let mut s = Session::new("r", "me", "x");
        s.opening();
        s.leave();
        // A connect under way may claim the name: wait for it.
        assert_eq!(s.leave_state(), Leave::Wait { ping: false });
        s.disconnected();
        assert_eq!(s.leave_state(), Leave::Go, "nothing typed, nothing owed");
        assert!(s.hold("unsent"));
        assert!(s.owes_lines());
        assert_eq!(s.leave_state(), Leave::Wait { ping: false });
        assert_eq!(s.unacknowledged(), ["unsent"]);
    }

    #[test]
    fn a_send_refused_as_too_fast_stays_pending() {
        let mut s = Session::new("r", "me", "x");
        s.apply(welcome(1..=1, false));
        s.compose("quick", None).unwrap();
        let (events, _) = s.apply(ServerFrame::Error {
            code: edgechat_protocol::ErrorCode::RateLimited,
            message: "slow down".into(),
            client_id: Some("x-1".into()),
            retry_after_ms: Some(300),
        });
        assert_eq!(
            events,
            [Event::Throttled {
                client_id: "x-1".into(),
                retry_after_ms: 300
            }]
        );
        assert_eq!(s.unacknowledged(), ["quick"]);
    }

    #[test]
    fn another_room_keeps_the_claims_still_owed() {
        let mut s = Session::new("r", "me", "x");
        s.apply(welcome(1..=1, false));
        s.apply(claimed());
        let mut t = s.elsewhere("other", "y");
        assert_eq!((t.room.as_str(), t.name.as_str()), ("other", "me"));
        t.leave();
        assert_eq!(t.leave_state(), Leave::Wait { ping: false });
        t.claim_settled();
        assert_eq!(t.leave_state(), Leave::Go);
    }
}
