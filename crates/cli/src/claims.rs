//! Fresh name claims. The connect that claims a free name gets its token once, in a
//! `name_claimed` frame; the claim stays pending on the server until the client proves
//! it kept the token (`POST /api/names/confirm`), and lapses otherwise. So the token is
//! saved first, and only a saved token is confirmed: a client that cannot keep the
//! token never locks the name.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::net::{self, Confirmed, NetError, Server};

/// Attempts at confirming before giving up (the server unreachable or failing).
const CONFIRM_ATTEMPTS: u32 = 4;

pub struct Claims {
    server: Server,
    confirming: JoinSet<(String, Result<Confirmed, NetError>)>,
}

impl Claims {
    pub fn new(server: Server) -> Claims {
        Claims {
            server,
            confirming: JoinSet::new(),
        }
    }

    /// Saves the token of a fresh claim of `name`, then starts confirming the claim.
    /// The error, to show loudly, says the token could not be saved: the claim is then
    /// not confirmed, and lapses.
    pub fn claimed(&mut self, name: &str, token: &str) -> Result<(), String> {
        self.server.keep_token(name, token).map_err(|e| {
            format!(
                "{e}; the claim is not confirmed, so \"{name}\" will be free again in a few \
                 minutes and the next connect with it may be refused until then"
            )
        })?;
        let (server, name, token) = (self.server.clone(), name.to_owned(), token.to_owned());
        self.confirming
            .spawn(async move { (name, confirm(server, token).await) });
        Ok(())
    }

    /// Keeps a pass the server signed for `name` (in memory only: it lasts minutes).
    pub fn passed(&self, name: &str, pass: &str, expires_at: u64) {
        self.server.keep_pass(name, pass, expires_at);
    }

    /// Whether a confirmation is under way.
    pub fn busy(&self) -> bool {
        !self.confirming.is_empty()
    }

    /// The next confirmation to end: an error to show if it failed. Never ends while
    /// none is under way.
    pub async fn next(&mut self) -> Result<(), String> {
        match self.confirming.join_next().await {
            None => std::future::pending().await,
            Some(Ok((_, Ok(_)))) => Ok(()),
            Some(Ok((name, Err(e)))) => Err(format!(
                "could not confirm the claim of \"{name}\" (its token is saved): {e}; \
                 unless a connect with it confirms it, the name will be free again in a \
                 few minutes"
            )),
            Some(Err(e)) => Err(format!("confirming a name claim: {e}")),
        }
    }

    /// Waits for every confirmation under way, until `deadline`; the errors to show.
    pub async fn settle(&mut self, deadline: Instant) -> Vec<String> {
        let mut problems = Vec::new();
        while self.busy() {
            match tokio::time::timeout_at(deadline, self.next()).await {
                Ok(Ok(())) => {}
                Ok(Err(problem)) => problems.push(problem),
                Err(_) => {
                    problems.push(
                        "a name claim was not confirmed in time (its token is saved); unless a \
                         connect with it confirms it, the name will be free again in a few \
                         minutes"
                            .to_owned(),
                    );
                    self.confirming.abort_all();
                    break;
                }
            }
        }
        problems
    }
}

/// Confirms a claim, again after a failure that may pass (no answer, a 5xx).
async fn confirm(server: Server, token: String) -> Result<Confirmed, NetError> {
    let mut failures = 0;
    loop {
        let (s, t) = (server.clone(), token.clone());
        let answer = tokio::task::spawn_blocking(move || s.confirm_claim(&t))
            .await
            .map_err(|e| NetError::Unreachable(e.to_string()))?;
        match answer {
            Err(e) if !e.is_fatal() && failures + 1 < CONFIRM_ATTEMPTS => {
                failures += 1;
                tokio::time::sleep(net::backoff(failures).min(Duration::from_secs(2))).await;
            }
            other => return other,
        }
    }
}
