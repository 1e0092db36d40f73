//! SIGINT and SIGTERM as events, so that a client asked to stop first settles what it
//! owes (a claim's token to confirm, messages to be acknowledged) within a bound.

pub struct Interrupts {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Interrupts {
    /// Takes over SIGINT and SIGTERM (if that fails, they keep ending the process).
    pub fn new() -> Interrupts {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Interrupts { signals }
        }
        #[cfg(not(unix))]
        Interrupts {}
    }

    /// The next request to stop.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        match self.signals.as_mut() {
            Some((int, term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
