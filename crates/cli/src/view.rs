//! What a view of `edgechat chat` is, apart from any one view: the [`Action`]s a person
//! asks for, the [`Link`] shown in the header, the [`View`] trait the driver
//! ([`crate::chat`]) talks to and [`KeyEffect`], what a key does; and the words both
//! views print for a status, a message and a moderation action. The driver and the
//! views ([`crate::tui`], [`crate::lines`]) depend on this module, never on each other.

use edgechat_protocol::Status;

use crate::session::{Event, Session};

/// What the person asked for, from either view.
#[derive(Debug)]
pub enum Action {
    Submit(String),
    /// End of input: leave once every pending message is acknowledged.
    Finish,
    Redraw,
    /// A key pressed in the full-screen view.
    Key(crossterm::event::KeyEvent),
}

/// The connection's state, for the header of the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Connected,
    Retrying {
        at_secs: u64,
        why: String,
    },
    Left,
    /// Leaving once everything typed is acknowledged and the name's claim settled.
    Leaving,
}

/// What a view must do. Every call is followed by nothing else: the view draws itself.
pub trait View {
    fn event(&mut self, session: &Session, event: &Event);
    fn notice(&mut self, session: &Session, text: &str);
    fn problem(&mut self, session: &Session, text: &str);
    fn link(&mut self, session: &Session, link: &Link);
    fn refresh(&mut self, session: &Session);
    /// Applies a key to the view's input line.
    fn key(&mut self, _key: crossterm::event::KeyEvent) -> KeyEffect {
        KeyEffect::None
    }
    /// Whether the input line holds a message being written.
    fn drafting(&self) -> bool {
        false
    }
    fn scroll(&mut self, _by: isize) {}
}

/// What a key does to the input line, decided apart from the terminal so it is testable.
pub enum KeyEffect {
    None,
    Edited,
    Submit(String),
    Scroll(isize),
    Quit,
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Online => "online",
        Status::Away => "away",
        Status::Dnd => "do not disturb",
    }
}

/// A moderation action in words.
pub fn moderation_line(e: &edgechat_protocol::ModEvent) -> String {
    use edgechat_protocol::ModAction;
    let reason = e
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    match e.action {
        ModAction::Kick => format!("{} removed {} from the room{reason}", e.by, e.name),
        ModAction::Ban => format!(
            "{} banned {} until {}{reason}",
            e.by,
            e.name,
            e.until.map(crate::clock::time).unwrap_or_default()
        ),
        ModAction::Unban => format!("{} lifted the ban on {}", e.by, e.name),
        ModAction::Delete => format!(
            "{} deleted a message of {} (#{})",
            e.by,
            e.name,
            e.seq.unwrap_or_default()
        ),
    }
}

pub fn message_line(m: &edgechat_protocol::Message) -> String {
    let reply = m
        .reply_to
        .map(|seq| format!(" (re #{seq})"))
        .unwrap_or_default();
    let mut line = if m.deleted {
        format!(
            "[{}] #{} {}: (deleted)",
            crate::clock::time(m.ts),
            m.seq,
            m.name
        )
    } else {
        format!(
            "[{}] #{} {}{reply}: {}",
            crate::clock::time(m.ts),
            m.seq,
            m.name,
            m.text
        )
    };
    if m.edited_ts.is_some() && !m.deleted {
        line.push_str(" (edited)");
    }
    for r in &m.reactions {
        line.push_str(&format!(" [{} {}]", r.emoji, r.total()));
    }
    if m.reply_count > 0 {
        line.push_str(&format!(
            " [{} repl{}]",
            m.reply_count,
            if m.reply_count == 1 { "y" } else { "ies" }
        ));
    }
    line
}
