//! `edgechat`: a terminal chat, commands for scripts, and the load generator.

mod bench;
mod chat;
mod claims;
mod clock;
mod interrupt;
mod lines;
mod net;
mod script;
mod session;
mod tokens;
mod tui;
mod view;

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::net::Server;

#[derive(Parser)]
#[command(
    name = "edgechat",
    version,
    about = "Chat in an edgechat room from a terminal, script it, or load it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Where {
    /// The server's address.
    #[arg(long, default_value = "http://localhost:8787", env = "EDGECHAT_URL")]
    url: String,
    /// The room (1-64 of a-z, 0-9, _ and -).
    #[arg(long, short, default_value = "general")]
    room: String,
    /// The secret token of a claimed name (otherwise the one saved when the name was
    /// claimed from this machine is used).
    #[arg(long, env = "EDGECHAT_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Chat in a room: full screen on a terminal, one line per event otherwise.
    Chat {
        #[command(flatten)]
        at: Where,
        /// Your name (no registration).
        #[arg(long, short, env = "EDGECHAT_NAME")]
        name: String,
        /// One line per event even on a terminal; commands and messages from stdin.
        #[arg(long)]
        plain: bool,
    },
    /// Send messages and print each acknowledgement as a JSON line.
    Send {
        #[command(flatten)]
        at: Where,
        #[arg(long, short, env = "EDGECHAT_NAME")]
        name: String,
        /// Answer this message.
        #[arg(long)]
        reply_to: Option<u64>,
        /// The message; without it, each line of stdin is one message.
        text: Vec<String>,
    },
    /// Print a room's messages as JSON lines, and with --follow the new ones as they come.
    Tail {
        #[command(flatten)]
        at: Where,
        /// Print every message after this seq (instead of the last N).
        #[arg(long)]
        since: Option<u64>,
        /// How many of the newest messages to print first.
        #[arg(long, short = 'n', default_value_t = 20)]
        last: u32,
        /// Keep printing new messages (this joins the room under --name).
        #[arg(long, short)]
        follow: bool,
        /// The name to follow under.
        #[arg(long, default_value = "tail", env = "EDGECHAT_NAME")]
        name: String,
    },
    /// Measure a server (edgechat or the bench ceiling) and print the figures.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // The load generator shares the machine with the server it measures: one thread.
        Command::Bench(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(bench::run(args))),
        other => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                let result = rt.block_on(client(other));
                // The reader of stdin may be blocked in a read that cannot be cancelled
                // (after `/quit` on a terminal): do not wait for it.
                rt.shutdown_background();
                result
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgechat: {e}");
            ExitCode::FAILURE
        }
    }
}

fn server(at: &Where) -> Result<Server, String> {
    Ok(Server::parse(&at.url)?.with_tokens(tokens::default_file(), at.token.clone()))
}

fn valid_name(raw: &str) -> Result<String, String> {
    edgechat_protocol::Name::parse(raw)
        .map(|n| n.display().to_owned())
        .map_err(|e| format!("bad name {raw:?}: {e}"))
}

fn room(at: &Where) -> Result<String, String> {
    edgechat_protocol::RoomId::parse(&at.room)
        .map(|r| r.as_str().to_owned())
        .map_err(|e| format!("bad room {:?}: {e}", at.room))
}

async fn client(command: Command) -> Result<(), String> {
    match command {
        Command::Chat { at, name, plain } => {
            chat::run(chat::Options {
                server: server(&at)?,
                room: room(&at)?,
                name: valid_name(&name)?,
                plain,
            })
            .await
        }
        Command::Send {
            at,
            name,
            reply_to,
            text,
        } => {
            let texts = if text.is_empty() {
                std::io::stdin()
                    .lock()
                    .lines()
                    .map_while(Result::ok)
                    .filter(|l| !l.trim().is_empty())
                    .collect()
            } else {
                vec![text.join(" ")]
            };
            if texts.is_empty() {
                return Err("nothing to send".into());
            }
            script::send(
                &server(&at)?,
                &room(&at)?,
                &valid_name(&name)?,
                texts,
                reply_to,
            )
            .await
        }
        Command::Tail {
            at,
            since,
            last,
            follow,
            name,
        } => {
            script::tail(
                &server(&at)?,
                &room(&at)?,
                script::TailOptions {
                    since,
                    last,
                    follow,
                    name: valid_name(&name)?,
                },
            )
            .await
        }
        Command::Bench(_) => Err("unreachable".into()),
    }
}
