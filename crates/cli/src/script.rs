//! `edgechat send` and `edgechat tail`: the commands for scripts.
//!
//! Both print JSON lines on stdout and their complaints on stderr, and both survive a
//! dropped connection: `send` resends with the same `client_id`s (the server stores each
//! once), `tail --follow` resumes with `since` (it is the chat driver with a JSON view).
//! Neither exits before the token of a name it claimed is saved and the claim confirmed.

use std::time::Duration;

use edgechat_protocol::{Message, ServerFrame, MAX_PAGE};
use tokio::time::Instant;

use crate::claims::Claims;
use crate::lines::print_json;
use crate::net::{self, NetError, Server};
use crate::session::{Event, Session};

/// How long, at the end, confirming a claim may still take.
const CLAIM_WAIT: Duration = Duration::from_secs(10);

/// Sends every text, one message each, and prints `{"seq":..,"client_id":..}` per
/// acknowledgement, in order. Fails if any text is refused for good.
pub async fn send(
    server: &Server,
    room: &str,
    name: &str,
    texts: Vec<String>,
    reply_to: Option<u64>,
) -> Result<(), String> {
    let mut claims = Claims::new(server.clone());
    let result = send_all(server, room, name, texts, reply_to, &mut claims).await;
    for problem in claims.settle(Instant::now() + CLAIM_WAIT).await {
        eprintln!("edgechat: {problem}");
    }
    result
}

async fn send_all(
    server: &Server,
    room: &str,
    name: &str,
    texts: Vec<String>,
    reply_to: Option<u64>,
    claims: &mut Claims,
) -> Result<(), String> {
    let mut session = Session::new(room, name, &net::random_id());
    let mut order = Vec::new();
    for text in &texts {
        // Not in the room yet: the welcome's answer sends every pending message.
        session
            .compose(text, reply_to)
            .map_err(|e| format!("cannot send {text:?}: {e}"))?;
        if let Some(out) = session.pending.last() {
            order.push(out.client_id.clone());
        }
    }
    let mut acked: std::collections::HashMap<String, u64> = Default::default();
    let mut printed = 0;
    let mut failures = 0u32;
    let mut refused = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    'connect: while !session.pending.is_empty() {
        if Instant::now() > deadline {
            return Err(format!(
                "{} message(s) not acknowledged within 60 s",
                session.pending.len()
            ));
        }
        session.opening();
        let mut socket = match server.connect(room, name, session.resume_point()).await {
            Ok(s) => s,
            Err(e) => {
                failures += 1;
                give_up(&e, failures, session.last_seq.is_some())?;
                eprintln!("edgechat: {e}; retrying");
                tokio::time::sleep(net::backoff(failures)).await;
                continue;
            }
        };
        // A send refused as rate limited is resent after the delay the server names.
        let mut resend_at: Option<Instant> = None;
        loop {
            let next = tokio::select! {
                next = net::next_text(&mut socket) => next,
                _ = net::sleep_until(resend_at) => {
                    resend_at = None;
                    for frame in session.pending.iter().filter_map(|p| p.frame()) {
                        if net::send(&mut socket, &frame).await.is_err() {
                            continue 'connect;
                        }
                    }
                    continue;
                }
            };
            let text = match next {
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    eprintln!("edgechat: {e}; reconnecting");
                    continue 'connect;
                }
                None => continue 'connect,
            };
            let Ok(frame) = ServerFrame::decode(&text) else {
                continue;
            };
            let (events, replies) = session.apply(frame);
            for reply in replies {
                if net::send(&mut socket, &reply).await.is_err() {
                    continue 'connect;
                }
            }
            for event in events {
                match event {
                    Event::Acked { client_id, seq } => {
                        acked.insert(client_id, seq);
                    }
                    Event::Claimed { name, token } => {
                        if let Err(problem) = claims.claimed(&name, &token) {
                            eprintln!("edgechat: {problem}");
                        }
                    }
                    Event::Pass { pass, expires_at } => claims.passed(name, &pass, expires_at),
                    // Refused as too fast: stays pending, resent after the delay.
                    Event::Throttled { retry_after_ms, .. } => {
                        let wait = Duration::from_millis(retry_after_ms);
                        resend_at.get_or_insert(Instant::now() + wait);
                    }
                    Event::Refused {
                        code,
                        message,
                        client_id: Some(id),
                    } if code != "internal" => refused.push(format!("{id}: {code}: {message}")),
                    _ => {}
                }
            }
            // Print acknowledgements in the order the texts were given.
            while let Some(id) = order.get(printed) {
                match acked.get(id) {
                    Some(&seq) => print_json(&serde_json::json!({"seq": seq, "client_id": id})),
                    None if refused.iter().any(|r| r.starts_with(&format!("{id}:"))) => {}
                    None => break,
                }
                printed += 1;
            }
            if session.pending.is_empty() {
                let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
                break 'connect;
            }
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!("refused: {}", refused.join("; ")))
    }
}

pub struct TailOptions {
    pub since: Option<u64>,
    pub last: u32,
    pub follow: bool,
    pub name: String,
}

/// Prints a room's messages as JSON lines: the last `last` (or all after `since`), then,
/// with `follow`, every new one as it arrives, until interrupted.
pub async fn tail(server: &Server, room: &str, opts: TailOptions) -> Result<(), String> {
    let last_printed = print_history(server, room, opts.since, opts.last).await?;
    if !opts.follow {
        return Ok(());
    }
    crate::chat::follow(server.clone(), room, &opts.name, last_printed).await
}

/// Prints the history over HTTP (no presence in the room); the last seq printed.
async fn print_history(
    server: &Server,
    room: &str,
    since: Option<u64>,
    last: u32,
) -> Result<u64, String> {
    let get = |query: String| {
        let server = server.clone();
        let room = room.to_owned();
        async move {
            tokio::task::spawn_blocking(move || server.messages(&room, &query))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e: NetError| e.to_string())
        }
    };
    let mut newest = since.unwrap_or(0);
    if let Some(since) = since {
        let mut after = since;
        loop {
            let page = get(format!("after={after}&limit={MAX_PAGE}")).await?;
            for m in &page.messages {
                print_json(m);
                after = m.seq;
            }
            newest = after;
            if !page.has_more || page.messages.is_empty() {
                return Ok(newest);
            }
        }
    }
    // The newest `last`, read backwards page by page, printed oldest first.
    let mut kept: Vec<Message> = Vec::new();
    let mut before: Option<u64> = None;
    while (kept.len() as u32) < last {
        let want = (last - kept.len() as u32).min(MAX_PAGE);
        let query = match before {
            Some(b) => format!("before={b}&limit={want}"),
            None => format!("limit={want}"),
        };
        let page = get(query).await?;
        let Some(first) = page.messages.first() else {
            break;
        };
        before = Some(first.seq);
        let mut older = page.messages;
        older.append(&mut kept);
        kept = older;
        if !page.has_more {
            break;
        }
    }
    if last == 0 {
        // Nothing to print; follow from the room's newest message.
        let page = get("limit=1".into()).await?;
        return Ok(page.messages.last().map_or(0, |m| m.seq));
    }
    for m in &kept {
        print_json(m);
        newest = newest.max(m.seq);
    }
    Ok(newest)
}

/// A refusal is final; an unreachable server is retried, but only a few times if it was
/// never reached (a wrong address should not make a script hang).
pub fn give_up(e: &NetError, failures: u32, ever_connected: bool) -> Result<(), String> {
    if e.is_fatal() || (!ever_connected && failures >= 3) {
        return Err(e.to_string());
    }
    Ok(())
}
