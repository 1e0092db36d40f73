//! `edgechat chat`: one room at a time, reconnecting by itself.
//!
//! The driver owns the socket and the [`Session`]; a view ([`crate::view::View`]) shows
//! what happens. On a terminal the view is the full-screen [`crate::tui`]; otherwise (a
//! pipe, a test) it is the line view of [`crate::lines`], and commands and messages are
//! read from stdin, one per line.

use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::time::Duration;

use edgechat_protocol::{ClientFrame, RoomId, ServerFrame, Status};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::claims::Claims;
use crate::interrupt::Interrupts;
use crate::lines::{JsonLines, Lines};
use crate::net::{self, NetError, Server, Socket};
use crate::session::{Event, Leave, Session};
use crate::tui::Tui;
use crate::view::{status_word, Action, KeyEffect, Link, View};

pub const HELP: &str = "\
/help              this list
/rooms             rooms with history, most recently active first
/join ROOM         leave this room and enter ROOM
/leave             leave the room (then /join another, or /quit)
/users             who is here, with their status
/history [N]       load N older messages (default 50)
/reply SEQ TEXT    answer message SEQ
/thread SEQ        show the replies to message SEQ
/edit SEQ TEXT     change the text of your message SEQ
/delete SEQ        delete your message SEQ
/react SEQ EMOJI   react to message SEQ (/unreact SEQ EMOJI takes it back)
/kick NAME         (room creator) remove NAME from the room
/ban NAME [MIN]    (room creator) remove NAME and refuse it for MIN minutes (60)
/unban NAME        (room creator) lift a ban
/online /away /dnd set your status
/quit              leave and exit, once what you typed is acknowledged";

const TYPING_RENEW: Duration = Duration::from_secs(3);
/// How long leaving waits for acknowledgements and the name's claim.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(10);

type Connecting = Pin<Box<dyn Future<Output = Result<Socket, NetError>> + Send>>;

pub struct Options {
    pub server: Server,
    pub room: String,
    pub name: String,
    /// The line view even on a terminal.
    pub plain: bool,
}

pub async fn run(opts: Options) -> Result<(), String> {
    let room = RoomId::parse(&opts.room).map_err(|e| format!("bad room {:?}: {e}", opts.room))?;
    edgechat_protocol::Name::parse(&opts.name)
        .map_err(|e| format!("bad name {:?}: {e}", opts.name))?;
    let interactive =
        !opts.plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let (tx, rx) = mpsc::channel(64);
    if interactive {
        let tui = Tui::start(tx).map_err(|e| format!("cannot use the terminal: {e}"))?;
        let mut driver = Driver::new(opts.server, room.as_str(), &opts.name, tui, rx);
        let result = driver.run().await;
        driver.view.stop();
        driver.say_warnings();
        result
    } else {
        tokio::spawn(read_lines(tx));
        let mut driver = Driver::new(opts.server, room.as_str(), &opts.name, Lines, rx);
        let result = driver.run().await;
        driver.say_warnings();
        result
    }
}

/// `tail --follow`: the room's new messages as JSON lines on stdout, from after `since`,
/// until interrupted; complaints on stderr. A server never reached is given up on after
/// a few attempts (a wrong address should not make a script hang).
pub async fn follow(server: Server, room: &str, name: &str, since: u64) -> Result<(), String> {
    let (_tx, rx) = mpsc::channel(1);
    let mut driver = Driver::new(server, room, name, JsonLines, rx);
    driver.input_open = false;
    driver.patience = Some(3);
    driver.session.last_seq = Some(since);
    // Its problems, claims' included, are on stderr already.
    driver.run().await
}

/// stdin, one action per line; end of input finishes.
async fn read_lines(tx: mpsc::Sender<Action>) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if tx.send(Action::Submit(line)).await.is_err() {
            return;
        }
    }
    let _ = tx.send(Action::Finish).await;
}

struct Driver<V: View> {
    server: Server,
    session: Session,
    view: V,
    actions: mpsc::Receiver<Action>,
    /// Whether the view can still send actions (stdin not at its end).
    input_open: bool,
    socket: Option<Socket>,
    connecting: Option<Connecting>,
    /// In a room (not after `/leave`).
    joined: bool,
    /// Whether the room's welcome came once (a refusal before is final).
    entered: bool,
    /// Failed connects after which a server never reached is given up on.
    patience: Option<u32>,
    retry_at: Option<Instant>,
    /// When to resend the pending messages refused as too fast.
    resend_at: Option<Instant>,
    failures: u32,
    typing_sent: Option<Instant>,
    claims: Claims,
    interrupts: Interrupts,
    /// When leaving gives up waiting.
    leave_by: Option<Instant>,
    /// Whether the current connection was pinged to learn that no claim follows.
    pinged: bool,
    /// Problems with the name's claim, said again on stderr at the end.
    warnings: Vec<String>,
}

impl<V: View> Driver<V> {
    fn new(
        server: Server,
        room: &str,
        name: &str,
        view: V,
        actions: mpsc::Receiver<Action>,
    ) -> Self {
        Driver {
            claims: Claims::new(server.clone()),
            server,
            session: Session::new(room, name, &net::random_id()),
            view,
            actions,
            input_open: true,
            socket: None,
            connecting: None,
            joined: true,
            entered: false,
            patience: None,
            retry_at: None,
            resend_at: None,
            failures: 0,
            typing_sent: None,
            interrupts: Interrupts::new(),
            leave_by: None,
            pinged: false,
            warnings: Vec::new(),
        }
    }

    async fn run(&mut self) -> Result<(), String> {
        self.start_connect();
        loop {
            if let Some(done) = self.leave_now().await {
                return done;
            }
            tokio::select! {
                done = poll_connect(&mut self.connecting) => {
                    self.connecting = None;
                    match done {
                        Ok(socket) => {
                            self.socket = Some(socket);
                        }
                        Err(e) if !self.entered && e.is_fatal() => {
                            // The server refused this name or room: retrying cannot help.
                            return self.quit(Err(e.to_string())).await;
                        }
                        Err(e) if !self.entered
                            && self.patience.is_some_and(|n| self.failures + 1 >= n) => {
                            return self.quit(Err(e.to_string())).await;
                        }
                        Err(e) => {
                            self.session.disconnected();
                            self.retry_later(e.to_string());
                        }
                    }
                }
                frame = next_frame(&mut self.socket) => match frame {
                    Some(Ok(text)) => self.on_frame(&text).await,
                    Some(Err(e)) => self.lost(e.to_string()),
                    None => self.lost("the server closed the connection".into()),
                },
                _ = net::sleep_until(self.retry_at) => {
                    self.retry_at = None;
                    self.start_connect();
                }
                _ = net::sleep_until(self.resend_at) => {
                    self.resend_at = None;
                    if self.session.is_live() {
                        let frames: Vec<ClientFrame> =
                            self.session.pending.iter().filter_map(|p| p.frame()).collect();
                        for frame in frames {
                            self.send(&frame).await;
                        }
                    }
                }
                confirmed = self.claims.next(), if self.claims.busy() => {
                    self.session.claim_settled();
                    if let Err(problem) = confirmed {
                        self.warn(problem);
                    }
                }
                _ = self.interrupts.next() => {
                    if self.session.leaving() {
                        return self.quit(self.unfinished()).await;
                    }
                    self.begin_leaving();
                }
                action = self.actions.recv(), if self.input_open => match action {
                    // The view is gone (stdin ended): as good as `/quit`.
                    None => {
                        self.input_open = false;
                        self.begin_leaving();
                    }
                    Some(Action::Finish) => self.begin_leaving(),
                    Some(Action::Redraw) => self.view.refresh(&self.session),
                    Some(Action::Key(key)) => match self.view.key(key) {
                        KeyEffect::None => {}
                        KeyEffect::Edited => {
                            self.view.refresh(&self.session);
                            let drafting = self.view.drafting();
                            self.typing(drafting).await;
                        }
                        KeyEffect::Scroll(by) => {
                            self.view.scroll(by);
                            self.view.refresh(&self.session);
                        }
                        KeyEffect::Submit(line) => {
                            self.view.refresh(&self.session);
                            self.input(&line).await;
                        }
                        // Once to leave when all is acknowledged, twice to leave now.
                        KeyEffect::Quit if self.session.leaving() => {
                            return self.quit(self.unfinished()).await;
                        }
                        KeyEffect::Quit => self.begin_leaving(),
                    },
                    Some(Action::Submit(line)) => self.input(&line).await,
                },
                _ = tokio::time::sleep(Duration::from_millis(250)), if self.session.leaving() => {}
            }
        }
    }

    /// `/quit`, the end of input, Ctrl-C or a signal: leave once what was typed is sent
    /// and acknowledged and the name's claim settled, within [`LEAVE_TIMEOUT`].
    fn begin_leaving(&mut self) {
        if self.session.leaving() {
            return;
        }
        self.session.leave();
        self.leave_by = Some(Instant::now() + LEAVE_TIMEOUT);
        if self.session.leave_state() != Leave::Go {
            self.view.link(&self.session, &Link::Leaving);
        }
    }

    /// Once leaving: the result to exit with if it is time.
    async fn leave_now(&mut self) -> Option<Result<(), String>> {
        let ping = match self.session.leave_state() {
            Leave::Stay => return None,
            Leave::Go => return Some(self.quit(Ok(())).await),
            Leave::Wait { ping } => ping,
        };
        if self.leave_by.is_some_and(|at| Instant::now() >= at) {
            return Some(self.quit(self.unfinished()).await);
        }
        if ping && !self.pinged {
            self.pinged = true;
            if let Some(socket) = self.socket.as_mut() {
                if let Err(e) = net::ping(socket).await {
                    self.lost(e.to_string());
                }
            }
        }
        if self.socket.is_none()
            && self.connecting.is_none()
            && self.retry_at.is_none()
            && self.session.owes_lines()
        {
            self.start_connect();
        }
        None
    }

    /// How leaving ends when not everything came through: only lines typed and not
    /// acknowledged make it a failure (a claim that could not be settled is a warning).
    fn unfinished(&self) -> Result<(), String> {
        let lines = self.session.unacknowledged();
        if lines.is_empty() {
            return Ok(());
        }
        let quoted: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
        Err(format!(
            "{} line(s) not acknowledged by the server within {} s: {}",
            lines.len(),
            LEAVE_TIMEOUT.as_secs(),
            quoted.join(", ")
        ))
    }

    /// Closes the connection and returns `result`, but first waits (within the leaving
    /// bound) for the confirmations of claims under way.
    async fn quit(&mut self, result: Result<(), String>) -> Result<(), String> {
        self.close().await;
        let deadline = self
            .leave_by
            .unwrap_or_else(|| Instant::now() + LEAVE_TIMEOUT);
        for problem in self.claims.settle(deadline).await {
            self.warn(problem);
        }
        result
    }

    /// A problem with the name's claim: shown now, and said again on stderr at the end.
    fn warn(&mut self, problem: String) {
        self.view.problem(&self.session, &problem);
        self.warnings.push(problem);
    }

    fn say_warnings(&self) {
        for w in &self.warnings {
            eprintln!("edgechat: {w}");
        }
    }

    fn start_connect(&mut self) {
        if !self.joined || self.socket.is_some() || self.connecting.is_some() {
            return;
        }
        if self.session.leaving() && !self.session.owes_lines() {
            return;
        }
        self.view.link(&self.session, &Link::Connecting);
        self.session.opening();
        self.pinged = false;
        let server = self.server.clone();
        let (room, name, resume) = (
            self.session.room.clone(),
            self.session.name.clone(),
            self.session.resume_point(),
        );
        self.connecting = Some(Box::pin(async move {
            server.connect(&room, &name, resume).await
        }));
    }

    fn lost(&mut self, why: String) {
        self.socket = None;
        self.typing_sent = None;
        self.session.disconnected();
        self.retry_later(why);
    }

    fn retry_later(&mut self, why: String) {
        self.failures += 1;
        let wait = net::backoff(self.failures);
        self.retry_at = Some(Instant::now() + wait);
        self.view.link(
            &self.session,
            &Link::Retrying {
                at_secs: wait.as_secs().max(1),
                why,
            },
        );
    }

    async fn on_frame(&mut self, text: &str) {
        let frame = match ServerFrame::decode(text) {
            Ok(f) => f,
            Err(_) if text == edgechat_protocol::PONG => {
                self.session.heard();
                return;
            }
            Err(e) => {
                self.session.heard();
                self.view.problem(
                    &self.session,
                    &format!("unreadable frame from the server: {e}"),
                );
                return;
            }
        };
        let welcome = matches!(frame, ServerFrame::Welcome { .. });
        let (events, replies) = self.session.apply(frame);
        if welcome {
            self.failures = 0;
            self.entered = true;
            let link = if self.session.leaving() {
                Link::Leaving
            } else {
                Link::Connected
            };
            self.view.link(&self.session, &link);
        }
        for event in &events {
            match event {
                Event::Claimed { name, token } => self.claimed(name, token),
                Event::Pass { pass, expires_at } => {
                    self.claims.passed(&self.session.name, pass, *expires_at)
                }
                Event::Throttled { retry_after_ms, .. } => {
                    let at = Instant::now() + Duration::from_millis(*retry_after_ms);
                    self.resend_at.get_or_insert(at);
                }
                _ => {}
            }
            self.view.event(&self.session, event);
        }
        for reply in replies {
            self.send(&reply).await;
        }
        // What was typed before the welcome, in order, now that the room is here.
        for line in self.session.take_backlog() {
            self.handle(&line).await;
        }
    }

    /// This connect claimed the name: save its token first, then confirm the claim.
    fn claimed(&mut self, name: &str, token: &str) {
        match self.claims.claimed(name, token) {
            Ok(()) => self.view.notice(
                &self.session,
                &format!("the name {name} is yours on this server now (its token is saved)"),
            ),
            Err(problem) => {
                self.session.claim_settled();
                self.warn(problem);
            }
        }
    }

    async fn send(&mut self, frame: &ClientFrame) {
        if let Some(socket) = self.socket.as_mut() {
            if let Err(e) = net::send(socket, frame).await {
                self.lost(e.to_string());
            }
        }
    }

    async fn typing(&mut self, on: bool) {
        let due = match (on, self.typing_sent) {
            (true, Some(at)) => at.elapsed() >= TYPING_RENEW,
            (true, None) => true,
            (false, Some(_)) => true,
            (false, None) => false,
        };
        if due && self.socket.is_some() {
            self.typing_sent = on.then(Instant::now);
            self.send(&ClientFrame::Typing { on }).await;
        }
    }

    /// A line from the person. After `/quit` (or the end of input) nothing more is read;
    /// before the room's welcome, lines wait for it.
    async fn input(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() || self.session.leaving() {
            return;
        }
        if matches!(line, "/quit" | "/exit") || line.starts_with("/quit ") {
            self.begin_leaving();
            return;
        }
        self.handle(line).await;
    }

    async fn handle(&mut self, line: &str) {
        if self.joined && self.session.hold(line) {
            self.view.refresh(&self.session);
            return;
        }
        self.submit(line).await;
    }

    async fn submit(&mut self, line: &str) {
        let Some(command) = line.strip_prefix('/') else {
            self.say(line, None).await;
            return;
        };
        let (word, rest) = command
            .split_once(char::is_whitespace)
            .map(|(w, r)| (w, r.trim()))
            .unwrap_or((command, ""));
        match word {
            "help" => self.view.notice(&self.session, HELP),
            "rooms" => self.list_rooms().await,
            "join" => self.join(rest).await,
            "leave" => {
                if self.joined {
                    self.close().await;
                    self.joined = false;
                    self.retry_at = None;
                    self.view.link(&self.session, &Link::Left);
                    self.view.notice(
                        &self.session,
                        &format!(
                            "you left #{}; /join ROOM to enter another",
                            self.session.room
                        ),
                    );
                }
            }
            "users" | "who" => {
                let list = if self.session.users.is_empty() {
                    "nobody is here".to_owned()
                } else {
                    self.session
                        .users
                        .iter()
                        .map(|u| format!("{} ({})", u.name, status_word(u.status)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                self.view.notice(&self.session, &format!("here: {list}"));
            }
            "history" => {
                let n = match rest {
                    "" => Ok(edgechat_protocol::DEFAULT_PAGE),
                    n => n.parse::<u32>().map_err(|_| ()),
                };
                match n {
                    Ok(_) if !self.joined => self
                        .view
                        .problem(&self.session, "you are in no room: /join ROOM first"),
                    Ok(n) if (1..=100).contains(&n) => match self.session.older(n) {
                        Some(frame) => self.send(&frame).await,
                        None => self.view.notice(&self.session, "no older messages"),
                    },
                    _ => self
                        .view
                        .problem(&self.session, "usage: /history [N], N from 1 to 100"),
                }
            }
            "reply" => match seq_and_text(rest) {
                Some((seq, text)) => self.say(text, Some(seq)).await,
                None => self.view.problem(&self.session, "usage: /reply SEQ TEXT"),
            },
            "edit" | "delete" | "react" | "unreact" | "thread" | "kick" | "ban" | "unban" => {
                match change_frame(word, rest) {
                    Ok(frame) => self.send(&frame).await,
                    Err(usage) => self.view.problem(&self.session, usage),
                }
            }
            "online" | "away" | "dnd" => {
                let status = match word {
                    "away" => Status::Away,
                    "dnd" => Status::Dnd,
                    _ => Status::Online,
                };
                self.session.set_status(status);
                self.send(&ClientFrame::Status { status }).await;
                self.view
                    .notice(&self.session, &format!("you are {}", status_word(status)));
            }
            other => self.view.problem(
                &self.session,
                &format!("unknown command /{other}; /help lists them"),
            ),
        }
    }

    async fn say(&mut self, text: &str, reply_to: Option<u64>) {
        if !self.joined {
            self.view
                .problem(&self.session, "you are in no room: /join ROOM first");
            return;
        }
        match self.session.compose(text, reply_to) {
            Ok(frame) => {
                self.typing_sent = None;
                self.view.refresh(&self.session);
                // Without a welcome yet, the welcome's answer sends it.
                if let Some(frame) = frame {
                    self.send(&frame).await;
                }
            }
            Err(e) => self.view.problem(&self.session, e),
        }
    }

    async fn join(&mut self, raw: &str) {
        let room = match RoomId::parse(raw) {
            Ok(r) => r,
            Err(e) => {
                self.view
                    .problem(&self.session, &format!("usage: /join ROOM ({e})"));
                return;
            }
        };
        self.close().await;
        self.session = self.session.elsewhere(room.as_str(), &net::random_id());
        self.joined = true;
        self.entered = false;
        self.failures = 0;
        self.retry_at = None;
        self.start_connect();
    }

    async fn list_rooms(&mut self) {
        let server = self.server.clone();
        let rooms = tokio::task::spawn_blocking(move || server.rooms()).await;
        match rooms {
            Ok(Ok(list)) if list.rooms.is_empty() => {
                self.view.notice(&self.session, "no room has history yet")
            }
            Ok(Ok(list)) => {
                let lines: Vec<String> = list
                    .rooms
                    .iter()
                    .map(|r| {
                        format!(
                            "#{}  {} message(s), last {}",
                            r.id,
                            r.message_count,
                            crate::clock::date_time(r.last_activity)
                        )
                    })
                    .collect();
                self.view.notice(&self.session, &lines.join("\n"));
            }
            Ok(Err(e)) => self
                .view
                .problem(&self.session, &format!("listing rooms: {e}")),
            Err(e) => self
                .view
                .problem(&self.session, &format!("listing rooms: {e}")),
        }
    }

    async fn close(&mut self) {
        self.connecting = None;
        self.session.disconnected();
        if let Some(mut socket) = self.socket.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
        }
    }
}

async fn poll_connect(connecting: &mut Option<Connecting>) -> Result<Socket, NetError> {
    match connecting.as_mut() {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

async fn next_frame(socket: &mut Option<Socket>) -> Option<Result<String, NetError>> {
    match socket.as_mut() {
        Some(s) => net::next_text(s).await,
        None => std::future::pending().await,
    }
}

/// `SEQ TEXT` (a `#` before SEQ allowed).
fn seq_and_text(rest: &str) -> Option<(u64, &str)> {
    let (seq, text) = rest.split_once(char::is_whitespace)?;
    Some((seq.trim_start_matches('#').parse().ok()?, text.trim()))
}

/// The frame of `/edit`, `/delete`, `/react`, `/unreact` or `/thread`, or its usage.
fn change_frame(word: &str, rest: &str) -> Result<ClientFrame, &'static str> {
    use edgechat_protocol::{Emoji, MessageText};
    let seq_only = || rest.trim_start_matches('#').parse::<u64>().ok();
    let name = |raw: &str| {
        edgechat_protocol::Name::parse(raw)
            .map_err(|_| "usage: /kick NAME, /ban NAME [MINUTES], /unban NAME")
    };
    match word {
        "kick" => Ok(ClientFrame::Kick { name: name(rest)? }),
        "unban" => Ok(ClientFrame::Unban { name: name(rest)? }),
        "ban" => {
            let (who, minutes) = match rest.rsplit_once(char::is_whitespace) {
                Some((who, m)) if m.parse::<u32>().is_ok() => (who, m.parse().ok()),
                _ => (rest, None),
            };
            Ok(ClientFrame::Ban {
                name: name(who)?,
                minutes: minutes.unwrap_or(edgechat_protocol::DEFAULT_BAN_MINUTES),
                reason: None,
            })
        }
        "edit" => {
            let (seq, text) = seq_and_text(rest).ok_or("usage: /edit SEQ TEXT")?;
            Ok(ClientFrame::Edit {
                seq,
                text: MessageText::parse(text)?,
                client_id: None,
            })
        }
        "delete" => Ok(ClientFrame::Delete {
            seq: seq_only().ok_or("usage: /delete SEQ")?,
            client_id: None,
        }),
        "thread" => Ok(ClientFrame::Thread {
            seq: seq_only().ok_or("usage: /thread SEQ")?,
            after: None,
            limit: edgechat_protocol::MAX_PAGE,
        }),
        _ => {
            let (seq, emoji) = seq_and_text(rest).ok_or("usage: /react SEQ EMOJI")?;
            Ok(ClientFrame::React {
                seq,
                emoji: Emoji::parse(emoji)?,
                on: word == "react",
                client_id: None,
            })
        }
    }
}
