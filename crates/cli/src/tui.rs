//! The full-screen terminal view of `edgechat chat`.
//!
//! ```text
//!  edgechat  #general  as alice (online)                        connected
//!  [14:02] #41 bob: hi all
//!  * carol joined
//!  [14:03] #42 alice: hello
//!  here: alice, bob (away), carol
//!  bob is typing…
//!  > draft_
//! ```
//! Everything is redrawn after each change; a chat screen is small enough for that.

use std::io::{self, Stdout, Write};

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{self, ClearType};
use crossterm::{cursor, execute, queue};
use edgechat_protocol::{Message, Status};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::session::{Event, Session};
use crate::view::{message_line, moderation_line, status_word, Action, KeyEffect, Link, View};

enum Entry {
    Message(Box<Message>),
    Notice(String),
    Problem(String),
}

pub struct Tui {
    out: Stdout,
    entries: Vec<Entry>,
    link: Link,
    /// Lines scrolled up from the bottom.
    scroll: usize,
    input: Vec<char>,
    cursor: usize,
    stopped: bool,
}

impl Tui {
    pub fn start(tx: mpsc::Sender<Action>) -> io::Result<Tui> {
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        execute!(out, terminal::EnterAlternateScreen, cursor::Show)?;
        let keys = tx.clone();
        tokio::spawn(async move {
            let mut events = EventStream::new();
            while let Some(Ok(event)) = events.next().await {
                let action = match event {
                    TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(key),
                    TermEvent::Resize(..) => None,
                    _ => continue,
                };
                // Keys go to the driver's loop through the view's own handler (below).
                let sent = match action {
                    Some(key) => keys.send(Action::Key(key)).await,
                    None => keys.send(Action::Redraw).await,
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(Tui {
            out,
            entries: Vec::new(),
            link: Link::Connecting,
            scroll: 0,
            input: Vec::new(),
            cursor: 0,
            stopped: false,
        })
    }

    pub fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = execute!(self.out, terminal::LeaveAlternateScreen, cursor::Show);
            let _ = terminal::disable_raw_mode();
        }
    }

    fn draw(&mut self, s: &Session) -> io::Result<()> {
        if self.stopped {
            return Ok(());
        }
        let (w, h) = terminal::size()?;
        let (w, h) = (usize::from(w.max(20)), usize::from(h.max(6)));
        let area = h - 4;
        let mut lines: Vec<(Color, String)> = Vec::new();
        for entry in &self.entries {
            let (color, text) = match entry {
                Entry::Message(m) => (name_color(&m.name), message_line(m)),
                Entry::Notice(t) => (Color::DarkGrey, format!("* {t}")),
                Entry::Problem(t) => (Color::Red, format!("! {t}")),
            };
            for line in text.lines() {
                for piece in wrap(line, w) {
                    lines.push((color, piece));
                }
            }
        }
        for p in &s.pending {
            for piece in wrap(&format!("[sending] {}: {}", s.name, p.text), w) {
                lines.push((Color::DarkGrey, piece));
            }
        }
        for line in &s.backlog {
            for piece in wrap(&format!("[waiting for the room] {line}"), w) {
                lines.push((Color::DarkGrey, piece));
            }
        }
        self.scroll = self.scroll.min(lines.len().saturating_sub(area));
        let end = lines.len() - self.scroll;
        let start = end.saturating_sub(area);

        let out = &mut self.out;
        queue!(out, terminal::Clear(ClearType::All), cursor::MoveTo(0, 0))?;
        let state = match &self.link {
            Link::Connecting => "connecting…".to_owned(),
            Link::Connected => "connected".to_owned(),
            Link::Retrying { at_secs, why } => format!("offline ({why}); retry in {at_secs} s"),
            Link::Left => "not in a room".to_owned(),
            Link::Leaving => "leaving… (Ctrl-C again: now)".to_owned(),
        };
        let title = format!(
            " edgechat  #{}  as {} ({})",
            s.room,
            s.name,
            status_word(s.status())
        );
        let gap = w.saturating_sub(title.chars().count() + state.chars().count() + 1);
        let header: String = format!("{title}{}{state} ", " ".repeat(gap))
            .chars()
            .take(w)
            .collect();
        queue!(
            out,
            SetAttribute(Attribute::Reverse),
            Print(header),
            SetAttribute(Attribute::Reset)
        )?;
        for (row, (color, text)) in lines[start..end].iter().enumerate() {
            queue!(
                out,
                cursor::MoveTo(0, (row + 1) as u16),
                SetForegroundColor(*color),
                Print(text),
                ResetColor
            )?;
        }
        let users: Vec<String> = s
            .users
            .iter()
            .map(|u| match u.status {
                Status::Online => u.name.clone(),
                other => format!("{} ({})", u.name, status_word(other)),
            })
            .collect();
        let here = truncate(&format!("here: {}", users.join(", ")), w);
        let typing = match s.typing.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is typing…"),
            many => format!("{} are typing…", many.join(", ")),
        };
        let more = if self.scroll > 0 {
            "  (scrolled: PgDn)"
        } else {
            ""
        };
        queue!(
            out,
            cursor::MoveTo(0, (h - 3) as u16),
            SetForegroundColor(Color::DarkCyan),
            Print(here),
            cursor::MoveTo(0, (h - 2) as u16),
            SetForegroundColor(Color::DarkGrey),
            Print(truncate(&format!("{typing}{more}"), w)),
            ResetColor
        )?;
        // The input line scrolls horizontally to keep the cursor visible.
        let room = w.saturating_sub(3);
        let first = self.cursor.saturating_sub(room);
        let shown: String = self.input.iter().skip(first).take(room).collect();
        queue!(
            out,
            cursor::MoveTo(0, (h - 1) as u16),
            Print(format!("> {shown}")),
            cursor::MoveTo((2 + self.cursor - first) as u16, (h - 1) as u16)
        )?;
        out.flush()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        self.stop();
    }
}

impl View for Tui {
    fn event(&mut self, s: &Session, event: &Event) {
        match event {
            Event::Entered { resumed, missed } => {
                let text = if *resumed {
                    format!("reconnected; {missed} message(s) while away")
                } else {
                    format!(
                        "you are in #{} ({} here); /help lists the commands",
                        s.room,
                        s.users.len()
                    )
                };
                self.entries.push(Entry::Notice(text));
            }
            Event::Message(m) => self.entries.push(Entry::Message(Box::new(m.clone()))),
            Event::Changed(m) => {
                for e in self.entries.iter_mut() {
                    if matches!(e, Entry::Message(old) if old.seq == m.seq) {
                        *e = Entry::Message(Box::new(m.clone()));
                    }
                }
            }
            Event::Moderation(e) => self.entries.push(Entry::Notice(moderation_line(e))),
            Event::Thread { seq, messages } => {
                self.entries.push(Entry::Notice(format!(
                    "thread of #{seq}: {} repl(ies)",
                    messages.len()
                )));
                self.entries.extend(
                    messages
                        .iter()
                        .cloned()
                        .map(|m| Entry::Message(Box::new(m))),
                );
            }
            Event::Older(ms) => {
                let at = self
                    .entries
                    .iter()
                    .position(|e| matches!(e, Entry::Message(_)))
                    .unwrap_or(self.entries.len());
                let older = ms.iter().cloned().map(|m| Entry::Message(Box::new(m)));
                self.entries.splice(at..at, older);
                if ms.is_empty() {
                    self.entries.push(Entry::Notice("no older messages".into()));
                }
            }
            Event::Joined(u) => self
                .entries
                .push(Entry::Notice(format!("{} joined", u.name))),
            Event::Left(u) => self.entries.push(Entry::Notice(format!("{} left", u.name))),
            Event::StatusChanged(u) => self.entries.push(Entry::Notice(format!(
                "{} is {}",
                u.name,
                status_word(u.status)
            ))),
            Event::Refused { code, message, .. } => self
                .entries
                .push(Entry::Problem(format!("{code}: {message}"))),
            Event::Throttled { retry_after_ms, .. } => self.entries.push(Entry::Problem(format!(
                "sending too fast: resending in {} s",
                retry_after_ms.div_ceil(1000)
            ))),
            Event::Acked { .. } | Event::Typing(_) | Event::Claimed { .. } | Event::Pass { .. } => {
            }
        }
        let _ = self.draw(s);
    }

    fn notice(&mut self, s: &Session, text: &str) {
        self.entries.push(Entry::Notice(text.to_owned()));
        let _ = self.draw(s);
    }

    fn problem(&mut self, s: &Session, text: &str) {
        self.entries.push(Entry::Problem(text.to_owned()));
        let _ = self.draw(s);
    }

    fn link(&mut self, s: &Session, link: &Link) {
        self.link = link.clone();
        let _ = self.draw(s);
    }

    fn refresh(&mut self, s: &Session) {
        let _ = self.draw(s);
    }

    fn key(&mut self, key: KeyEvent) -> KeyEffect {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c' | 'd') if ctrl => KeyEffect::Quit,
            KeyCode::Char('u') if ctrl => {
                self.input.drain(..self.cursor);
                self.cursor = 0;
                KeyEffect::Edited
            }
            KeyCode::Char(c) => {
                self.input.insert(self.cursor, c);
                self.cursor += 1;
                KeyEffect::Edited
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.input.remove(self.cursor);
                KeyEffect::Edited
            }
            KeyCode::Delete if self.cursor < self.input.len() => {
                self.input.remove(self.cursor);
                KeyEffect::Edited
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                KeyEffect::Edited
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.input.len());
                KeyEffect::Edited
            }
            KeyCode::Home => {
                self.cursor = 0;
                KeyEffect::Edited
            }
            KeyCode::End => {
                self.cursor = self.input.len();
                KeyEffect::Edited
            }
            KeyCode::Esc => {
                self.input.clear();
                self.cursor = 0;
                KeyEffect::Edited
            }
            KeyCode::Enter => {
                let line: String = self.input.drain(..).collect();
                self.cursor = 0;
                KeyEffect::Submit(line)
            }
            KeyCode::PageUp => KeyEffect::Scroll(10),
            KeyCode::PageDown => KeyEffect::Scroll(-10),
            KeyCode::Up => KeyEffect::Scroll(1),
            KeyCode::Down => KeyEffect::Scroll(-1),
            _ => KeyEffect::None,
        }
    }

    /// A message being typed (not a command).
    fn drafting(&self) -> bool {
        !self.input.is_empty() && self.input.first() != Some(&'/')
    }

    fn scroll(&mut self, by: isize) {
        self.scroll = self.scroll.saturating_add_signed(by);
    }
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

/// Splits a line into pieces of at most `width` characters, at spaces where possible.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    while rest.len() > width {
        // A space right after the limit is as good a place to cut as one before it.
        let cut = rest[..=width]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i > 0)
            .unwrap_or(width);
        pieces.push(rest[..cut].iter().collect());
        let skip = usize::from(rest.get(cut) == Some(&' '));
        rest.drain(..cut + skip);
    }
    pieces.push(rest.into_iter().collect());
    pieces
}

/// A stable color per name, so a conversation is easy to follow.
fn name_color(name: &str) -> Color {
    const COLORS: [Color; 6] = [
        Color::Cyan,
        Color::Green,
        Color::Yellow,
        Color::Magenta,
        Color::Blue,
        Color::White,
    ];
    let key = edgechat_protocol::name_key(name);
    let hash = key
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    COLORS[(hash % COLORS.len() as u32) as usize]
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("hello big world", 9), ["hello big", "world"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("ééé ééé", 3), ["ééé", "ééé"]);
    }
}
