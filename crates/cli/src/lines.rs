//! The views of `edgechat chat` that are not a terminal screen: the line view (one line
//! per thing that happens, on stdout; for pipes and tests) and the JSON-lines view of
//! `tail --follow`, with [`print_json`], the one way the CLI writes a JSON line.

use std::io::Write;

use crate::session::{Event, Session};
use crate::view::{message_line, moderation_line, status_word, Link, View};

pub fn print_json<T: serde::Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(value) {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// The line view: one line per thing that happens, on stdout.
pub struct Lines;

impl Lines {
    fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

impl View for Lines {
    fn event(&mut self, session: &Session, event: &Event) {
        match event {
            Event::Entered { resumed: false, .. } => self.print(&format!(
                "* you are in #{} as {} ({} here)",
                session.room,
                session
                    .you
                    .as_ref()
                    .map_or(session.name.as_str(), |u| u.name.as_str()),
                session.users.len()
            )),
            Event::Entered {
                resumed: true,
                missed,
            } => self.print(&format!("* reconnected; {missed} message(s) while away")),
            Event::Message(m) => self.print(&message_line(m)),
            Event::Changed(m) => self.print(&format!("* now {}", message_line(m))),
            Event::Moderation(e) => self.print(&format!("* {}", moderation_line(e))),
            Event::Thread { seq, messages } => {
                self.print(&format!("* thread of #{seq}: {} repl(ies)", messages.len()));
                for m in messages {
                    self.print(&format!("  {}", message_line(m)));
                }
            }
            Event::Older(ms) => {
                for m in ms {
                    self.print(&message_line(m));
                }
            }
            Event::Acked { .. } | Event::Typing(_) | Event::Claimed { .. } | Event::Pass { .. } => {
            }
            Event::Throttled { retry_after_ms, .. } => self.print(&format!(
                "! sending too fast: resending in {} s",
                retry_after_ms.div_ceil(1000)
            )),
            Event::Joined(u) => self.print(&format!("* {} joined", u.name)),
            Event::Left(u) => self.print(&format!("* {} left", u.name)),
            Event::StatusChanged(u) => {
                self.print(&format!("* {} is {}", u.name, status_word(u.status)))
            }
            Event::Refused { code, message, .. } => self.print(&format!("! {code}: {message}")),
        }
    }

    fn notice(&mut self, _: &Session, text: &str) {
        for line in text.lines() {
            self.print(&format!("* {line}"));
        }
    }

    fn problem(&mut self, _: &Session, text: &str) {
        self.print(&format!("! {text}"));
    }

    fn link(&mut self, _: &Session, link: &Link) {
        if let Link::Retrying { at_secs, why } = link {
            self.print(&format!("! {why}; reconnecting in {at_secs} s"));
        }
    }

    fn refresh(&mut self, _: &Session) {}
}

/// The view of `tail --follow`: each new message as a JSON line on stdout, problems on
/// stderr.
pub struct JsonLines;

impl View for JsonLines {
    fn event(&mut self, _: &Session, event: &Event) {
        match event {
            Event::Message(m) => print_json(m),
            Event::Refused { code, message, .. } => eprintln!("edgechat: {code}: {message}"),
            _ => {}
        }
    }

    fn notice(&mut self, _: &Session, _: &str) {}

    fn problem(&mut self, _: &Session, text: &str) {
        eprintln!("edgechat: {text}");
    }

    fn link(&mut self, _: &Session, link: &Link) {
        if let Link::Retrying { at_secs, why } = link {
            eprintln!("edgechat: {why}; reconnecting in {at_secs} s");
        }
    }

    fn refresh(&mut self, _: &Session) {}
}
