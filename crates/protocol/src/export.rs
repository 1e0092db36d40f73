//! Room export (`GET /room/:id/export?format=jsonl|md`): the query, the file's name and
//! type, and how one message is written in each format. The Worker streams a room's
//! history page by page through these functions, so nothing here holds more than one
//! message.

use crate::{ErrorCode, HttpError, Message};

/// The two formats an export is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One message object per line, exactly the protocol's message shape.
    Jsonl,
    /// A Markdown document for people to read.
    Markdown,
}

impl ExportFormat {
    /// The answer's `content-type`.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/x-ndjson; charset=utf-8",
            ExportFormat::Markdown => "text/markdown; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Markdown => "md",
        }
    }
}

/// How many messages an export reads from D1 at a time, unless set
/// (`EXPORT_PAGE_ROWS`, 1 to [`MAX_EXPORT_PAGE_ROWS`]).
pub const EXPORT_PAGE_ROWS: u32 = 200;
/// The most an `EXPORT_PAGE_ROWS` setting may ask for.
pub const MAX_EXPORT_PAGE_ROWS: u32 = 1000;

/// `?format=jsonl|md` (default `jsonl`; the last one counts when repeated). A token in
/// the URL is refused outright, even beside a header: an export is always asked for with
/// `Authorization: Bearer`, so a link that carries a token is a leak to stop, not a
/// credential to take.
pub fn parse_export_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<ExportFormat, HttpError> {
    let mut format = ExportFormat::Jsonl;
    for (k, v) in pairs {
        match k.as_ref() {
            "token" | "pass" => return Err(HttpError::new(
                ErrorCode::BadRequest,
                "credentials never go in the URL: send the token as Authorization: Bearer <token>",
            )),
            "format" => {
                format = match v.as_ref() {
                    "jsonl" => ExportFormat::Jsonl,
                    "md" => ExportFormat::Markdown,
                    _ => {
                        return Err(HttpError::new(
                            ErrorCode::BadRequest,
                            "format must be jsonl or md",
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    Ok(format)
}

/// The file's name: `edgechat-<room>.<jsonl|md>`. A room id is `[a-z0-9_-]` only, so
/// the name needs no quoting beyond the quotes around it.
pub fn export_filename(room: &crate::RoomId, format: ExportFormat) -> String {
    format!("edgechat-{}.{}", room.as_str(), format.extension())
}

/// The answer's `content-disposition`.
pub fn export_disposition(room: &crate::RoomId, format: ExportFormat) -> String {
    format!("attachment; filename=\"{}\"", export_filename(room, format))
}

/// What comes before the first message: nothing for JSON lines, a title for Markdown.
pub fn export_head(room: &crate::RoomId, format: ExportFormat) -> String {
    match format {
        ExportFormat::Jsonl => String::new(),
        ExportFormat::Markdown => format!("# Room {}\n\n", room.as_str()),
    }
}

/// One message as it stands, in the format, with its line end.
pub fn export_message(m: &Message, format: ExportFormat) -> String {
    match format {
        ExportFormat::Jsonl => {
            // A message always serializes; should it not, the line says so rather than
            // vanish (the seq keeps the export's order checkable).
            let mut line = serde_json::to_string(m)
                .unwrap_or_else(|_| format!("{{\"seq\":{},\"error\":\"unwritable\"}}", m.seq));
            line.push('\n');
            line
        }
        ExportFormat::Markdown => markdown(m),
    }
}

/// A message in Markdown: a line naming its author, time and seq (and what it replies
/// to, when it was edited), then its text as a quote, so a line of the text can never
/// pass for the export's own structure.
fn markdown(m: &Message) -> String {
    let mut out = format!(
        "**{}** · {} · #{}",
        escape_markdown(&m.name),
        utc_time(m.ts),
        m.seq
    );
    if let Some(parent) = m.reply_to {
        out.push_str(&format!(" · reply to #{parent}"));
    }
    if let Some(edited) = m.edited_ts.filter(|_| !m.deleted) {
        out.push_str(&format!(" · edited {}", utc_time(edited)));
    }
    out.push('\n');
    if m.deleted {
        out.push_str("> *(deleted)*\n");
    } else {
        quote_text(&m.text, &mut out);
        if let Some(file) = &m.attachment {
            out.push_str(&format!(
                "> 📎 [{}]({}) ({} bytes)\n",
                escape_markdown(&file.filename),
                file.url(&m.room),
                file.size
            ));
        }
        if !m.reactions.is_empty() {
            let chips: Vec<String> = m
                .reactions
                .iter()
                .map(|r| format!("{} {}", r.emoji, r.total()))
                .collect();
            out.push_str(&format!("> \n> {}\n", chips.join(" · ")));
        }
    }
    if m.reply_count > 0 {
        let s = if m.reply_count == 1 { "y" } else { "ies" };
        out.push_str(&format!("> ({} repl{s})\n", m.reply_count));
    }
    out.push('\n');
    out
}

/// A message's text as a Markdown quote, as typed, except that a `<` outside code (a
/// code span or a fenced block) is written `\<`: it shows the same, but a Markdown viewer
/// that renders inline HTML can never take someone's message for markup (an `<img
/// onerror>` posted to the room stays text in the owner's export).
fn quote_text(text: &str, out: &mut String) {
    let mut fenced = false;
    for line in text.lines() {
        out.push_str("> ");
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push_str(line);
        } else if fenced {
            out.push_str(line);
        } else {
            let mut in_code = false;
            for c in line.chars() {
                match c {
                    '`' => in_code = !in_code,
                    '<' if !in_code => out.push('\\'),
                    _ => {}
                }
                out.push(c);
            }
        }
        out.push('\n');
    }
}

/// A name or file name with Markdown's punctuation escaped, so it shows as written.
fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_{}[]()<>#+-.!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (the proleptic Gregorian
/// calendar, by Howard Hinnant's days-to-civil arithmetic).
pub fn utc_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FileRef, Reaction, RoomId};

    fn message(seq: u64, text: &str) -> Message {
        Message {
            seq,
            room: "general".into(),
            name: "Ann".into(),
            text: text.into(),
            ts: 1_795_327_805_946,
            client_id: Some(format!("c{seq}")),
            reply_to: None,
            edited_ts: None,
            deleted: false,
            reactions: Vec::new(),
            reply_count: 0,
            attachment: None,
            pinned: None,
        }
    }

    #[test]
    fn the_query_takes_two_formats_and_no_credential() {
        let q = |pairs: &[(&str, &str)]| parse_export_query(pairs.iter().copied());
        assert_eq!(q(&[]), Ok(ExportFormat::Jsonl));
        assert_eq!(q(&[("format", "jsonl")]), Ok(ExportFormat::Jsonl));
        assert_eq!(q(&[("format", "md")]), Ok(ExportFormat::Markdown));
        assert_eq!(
            q(&[("format", "md"), ("format", "jsonl")]),
            Ok(ExportFormat::Jsonl)
        );
        for bad in [
            &[("format", "csv")][..],
            &[("format", "")],
            &[("format", "MD")],
            &[("token", "abc")],
            &[("format", "md"), ("token", "")],
            &[("pass", "v1.x.1.y")],
        ] {
            let e = q(bad).unwrap_err();
            assert_eq!(e.error.code, ErrorCode::BadRequest, "{bad:?}");
        }
        assert!(q(&[("token", "t")])
            .unwrap_err()
            .error
            .message
            .contains("Authorization"));
    }

    #[test]
    fn file_names_are_the_room_and_the_format() {
        let room = RoomId::parse("dm--0a1b").unwrap();
        assert_eq!(
            export_disposition(&room, ExportFormat::Markdown),
            "attachment; filename=\"edgechat-dm--0a1b.md\""
        );
        assert_eq!(
            export_filename(&room, ExportFormat::Jsonl),
            "edgechat-dm--0a1b.jsonl"
        );
    }

    #[test]
    fn a_jsonl_line_is_the_message_shape() {
        let mut m = message(3, "hi\nthere");
        m.edited_ts = Some(1_795_327_900_000);
        m.reply_to = Some(1);
        let line = export_message(&m, ExportFormat::Jsonl);
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "one line per message");
        let back: Message = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            export_head(&RoomId::parse("a").unwrap(), ExportFormat::Jsonl),
            ""
        );
    }

    #[test]
    fn markdown_quotes_the_text_and_shows_changes() {
        let mut m = message(7, "# not a heading\n**bold**");
        m.name = "Ann_*x".into();
        m.reply_to = Some(2);
        m.edited_ts = Some(1_795_327_900_000);
        m.reactions = vec![Reaction {
            emoji: "👍".into(),
            count: 3,
            names: vec!["Bo".into()],
            mine: false,
        }];
        m.attachment = Some(FileRef {
            id: "f1".into(),
            filename: "cat.png".into(),
            content_type: "image/png".into(),
            size: 12,
        });
        let md = export_message(&m, ExportFormat::Markdown);
        assert_eq!(
            md,
            "**Ann\\_\\*x** · 2026-11-22 06:10:05 UTC · #7 · reply to #2 · edited 2026-11-22 06:11:40 UTC\n\
             > # not a heading\n\
             > **bold**\n\
             > 📎 [cat\\.png](/room/general/files/f1) (12 bytes)\n\
             > \n\
             > 👍 3\n\n"
        );
        let mut gone = message(8, "");
        gone.deleted = true;
        gone.reply_count = 2;
        assert_eq!(
            export_message(&gone, ExportFormat::Markdown),
            "**Ann** · 2026-11-22 06:10:05 UTC · #8\n> *(deleted)*\n> (2 replies)\n\n"
        );
    }

    #[test]
    fn markup_in_a_text_stays_text_outside_code() {
        let m = message(
            1,
            "<img src=x onerror=alert(1)> and `a<b` <b>\n```\n<div>\n```\nafter <i>",
        );
        assert_eq!(
            export_message(&m, ExportFormat::Markdown),
            "**Ann** · 2026-11-22 06:10:05 UTC · #1\n\
             > \\<img src=x onerror=alert(1)> and `a<b` \\<b>\n\
             > ```\n\
             > <div>\n\
             > ```\n\
             > after \\<i>\n\n"
        );
    }

    #[test]
    fn utc_times_follow_the_calendar() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(1_709_251_199_000), "2024-02-29 23:59:59 UTC");
        assert_eq!(utc_time(4_102_444_800_000), "2100-01-01 00:00:00 UTC");
    }
}
