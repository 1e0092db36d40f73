//! A frame from a socket: the claim's rate bucket, decoding, dispatch to the concern
//! that handles it, and policing the answer (client_id on every error, strikes for
//! refusals, 1008 past the limit). Also the helpers every concern answers with.

use crate::*;

impl<L: Log> Room<L> {
    /// A binary frame of `len` bytes: the protocol has none.
    pub(crate) fn on_binary(&mut self, id: &ConnId, len: usize, now: u64) -> Vec<Output> {
        let frame = check_frame_size(len).and_then(|()| {
            Err(Refusal::new(
                ErrorCode::BadFrame,
                "binary frames are not supported",
            ))
        });
        let decoded = Decoded {
            client_id: None,
            frame,
        };
        self.on_frame(id, decoded, strike_weight(len), now)
    }

    /// A text frame from a connection.
    pub(crate) fn on_text(&mut self, id: &ConnId, text: &str, now: u64) -> Vec<Output> {
        let weight = strike_weight(text.len());
        self.on_frame(id, ClientFrame::decode(text), weight, now)
    }

    /// Every frame takes a token from its claim's bucket first, refused ones (too large,
    /// binary, not JSON, unknown type) included. Then its answer is policed: every error
    /// it got carries its client_id, and a refusal is a strike against the socket.
    /// A refused frame is `weight` strikes (see [`strike_weight`]).
    pub(crate) fn on_frame(
        &mut self,
        id: &ConnId,
        decoded: Decoded,
        weight: u32,
        now: u64,
    ) -> Vec<Output> {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(id) else {
            return Vec::new();
        };
        let mut bucket = conn.shared.bucket.get();
        let taken = bucket.take(&limits, now);
        conn.shared.bucket.set(bucket);
        let Decoded { client_id, frame } = decoded;
        let mut out = match taken {
            Err(wait_ms) => {
                // A flood is told the wait once per wait; a frame with a client_id is
                // always answered, since its sender waits for that very answer. A frame
                // refused without an answer is still a refused frame: a strike.
                if client_id.is_none() && now < conn.quiet_until {
                    let mut out = Vec::new();
                    self.strike(id, weight, now, &mut out);
                    return out;
                }
                conn.quiet_until = now + wait_ms;
                rate_limited(id, client_id.clone(), wait_ms)
            }
            Ok(()) => self.dispatch(id, frame, now),
        };
        self.police(id, &mut out, client_id.as_deref(), weight, now);
        out
    }

    /// After a frame's answer: its errors get the frame's client_id if they lack it, and
    /// if any was a refusal (not `internal`, the room's own failure), the socket takes a
    /// strike; past `refused_per_min` in a minute it is let go and closed with 1008,
    /// after this last error frame.
    pub(crate) fn police(
        &mut self,
        id: &ConnId,
        out: &mut Vec<Output>,
        client_id: Option<&str>,
        weight: u32,
        now: u64,
    ) {
        let mut refused = false;
        for output in out.iter_mut() {
            let Output::Send {
                to: Target::One(to),
                frame:
                    ServerFrame::Error {
                        code,
                        client_id: stamped,
                        ..
                    },
            } = output
            else {
                continue;
            };
            if to != id {
                continue;
            }
            // An `internal` error is the room's failure, not the client's: no strike.
            refused |= *code != ErrorCode::Internal;
            if stamped.is_none() {
                // Rare: only refusals of frames whose handlers do not carry their
                // client_id, such as a `history` with one.
                *stamped = client_id.map(str::to_owned);
            }
        }
        if refused {
            self.strike(id, weight, now, out);
        }
    }

    /// `weight` strikes against socket `id` for a refused frame; past `refused_per_min`
    /// in a minute the socket is let go and closed with 1008 (after what `out` holds).
    pub(crate) fn strike(&mut self, id: &ConnId, weight: u32, now: u64, out: &mut Vec<Output>) {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if conn.strikes.strike(&limits, weight, now) {
            return;
        }
        out.extend(self.leave(id, now));
        out.push(Output::Close {
            conns: vec![id.clone()],
            code: CLOSE_POLICY,
            reason: CLOSE_POLICY_REASON.to_owned(),
        });
    }

    pub(crate) fn dispatch(
        &mut self,
        id: &ConnId,
        frame: Result<ClientFrame, Refusal>,
        now: u64,
    ) -> Vec<Output> {
        match frame {
            Err(r) => refuse(id, &r),
            Ok(ClientFrame::Send {
                text,
                client_id,
                reply_to,
                attachment,
            }) => self.on_send(id, text, client_id, reply_to, attachment, now),
            Ok(ClientFrame::Typing { on }) => self.on_typing(id, on, now),
            Ok(ClientFrame::Status { status }) => self.on_status(id, status),
            Ok(ClientFrame::History { page }) => self.on_history(id, page),
            Ok(ClientFrame::Edit {
                seq,
                text,
                client_id,
            }) => self.on_edit(id, seq, text, client_id, now),
            Ok(ClientFrame::Delete { seq, client_id }) => self.on_delete(id, seq, client_id, now),
            Ok(ClientFrame::React {
                seq,
                emoji,
                on,
                client_id,
            }) => self.on_react(id, seq, emoji, on, client_id),
            Ok(ClientFrame::Pin { seq, on, client_id }) => self.on_pin(id, seq, on, client_id, now),
            Ok(ClientFrame::Thread { seq, after, limit }) => {
                self.on_thread(id, seq, after.unwrap_or(0), limit)
            }
            Ok(ClientFrame::Kick { name }) => self.on_remove(id, &name, None, now),
            Ok(ClientFrame::Ban {
                name,
                minutes,
                reason,
            }) => self.on_remove(id, &name, Some((minutes, reason)), now),
            Ok(ClientFrame::Unban { name }) => self.on_unban(id, &name, now),
            Ok(ClientFrame::Appoint { name }) => self.on_appoint(id, &name, true),
            Ok(ClientFrame::Dismiss { name }) => self.on_appoint(id, &name, false),
            Ok(ClientFrame::Read { seq }) => self.on_read(id, seq),
            Ok(ClientFrame::Users { after, limit }) => self.on_users(id, after, limit),
        }
    }
}

/// Queues `frame` for `to`: one output, however many receivers (the shell encodes it
/// once for all of them).
pub(crate) fn send(out: &mut Vec<Output>, to: Target, frame: ServerFrame) {
    out.push(Output::Send { to, frame });
}

/// A refusal, answered to connection `id` only.
pub(crate) fn refuse(id: &ConnId, refusal: &Refusal) -> Vec<Output> {
    let mut out = Vec::new();
    send(&mut out, Target::One(id.clone()), refusal.to_frame());
    out
}

/// How many strikes a refused frame of `len` bytes is: one per started multiple of the
/// frame limit past the first. A frame of any size a client of ours sends is one strike;
/// a frame of 1 MiB (64 times the limit) is a minute's worth at the default settings, so
/// the socket is closed after its one answer instead of being read 30 times. Receiving
/// such frames is what costs a room (and its network) the most, and no honest client
/// sends one.
fn strike_weight(len: usize) -> u32 {
    u32::try_from(len.saturating_sub(1) / edgechat_protocol::MAX_FRAME_BYTES)
        .unwrap_or(u32::MAX)
        .max(1)
}

fn rate_limited(id: &ConnId, client_id: Option<String>, wait_ms: u64) -> Vec<Output> {
    let mut out = Vec::new();
    let frame = ServerFrame::Error {
        code: ErrorCode::RateLimited,
        message: format!("too many frames; try again in {wait_ms} ms"),
        client_id,
        retry_after_ms: Some(wait_ms),
    };
    send(&mut out, Target::One(id.clone()), frame);
    out
}

/// An internal failure answered to connection `id`: the details to the log, a sanitized
/// `internal` error (with the frame's client_id, if it had one) to the connection.
pub(crate) fn fail(out: &mut Vec<Output>, id: &ConnId, e: &LogError, client_id: Option<String>) {
    let frame = internal(out, e, client_id);
    send(out, Target::One(id.clone()), frame);
}

/// An internal failure becomes a sanitized `internal` error; details stay server-side.
pub(crate) fn internal(
    out: &mut Vec<Output>,
    e: &LogError,
    client_id: Option<String>,
) -> ServerFrame {
    out.push(Output::Log(format!("room log failed: {}", e.0)));
    ServerFrame::Error {
        code: ErrorCode::Internal,
        message: "the room could not do that; try again".into(),
        client_id,
        retry_after_ms: None,
    }
}
