//! `edgechat bench`: load scenarios that print figures.
//!
//! The same scenarios run against edgechat and against the bench "ceiling" (a Durable
//! Object that only rebroadcasts, in `bench/ceiling/`), so the two can be compared in
//! one run. Every latency is measured on this process's one monotonic clock: a message
//! carries the instant it was sent, and its receiver subtracts that from the instant it
//! arrived. Nothing here fails on a slow figure; it reports.
//!
//! This module is the command (its arguments, which scenario, the printed report); the
//! scenarios live in `scenarios` and `abuse`, and what they share in `kit`.

mod abuse;
mod capacity;
mod kit;
mod scenarios;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::net::{self, Server};

use kit::{Bench, Kind, Report};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
    /// The server's address.
    #[arg(long, global = true, default_value = "http://localhost:8787")]
    url: String,
    /// What the server is: edgechat, or the ceiling (which only rebroadcasts).
    #[arg(long, global = true, value_enum, default_value_t = Kind::Edgechat)]
    target: Kind,
    /// The runtime's process ids (comma separated), for memory and CPU figures.
    #[arg(long, global = true, value_delimiter = ',')]
    pid: Vec<u32>,
    /// Print one JSON object on stdout (the table goes to stderr).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Scenario {
    /// One room, R receivers, one sender at a fixed rate: delivery latency and completeness.
    Fanout {
        #[arg(long, default_value_t = 50)]
        receivers: u32,
        /// Messages per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// C senders each keeping W messages in flight: accepted sends/s and deliveries/s.
    Throughput {
        #[arg(long, default_value_t = 10)]
        senders: u32,
        #[arg(long, default_value_t = 10)]
        window: u32,
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// J sequential joins to a room with H stored messages: connect-to-welcome latency.
    Join {
        #[arg(long, default_value_t = 100)]
        history: u32,
        #[arg(long, default_value_t = 100)]
        joins: u32,
    },
    /// K rooms x M clients: time to connect all, one message per room, runtime memory.
    Rooms {
        #[arg(long, default_value_t = 200)]
        rooms: u32,
        #[arg(long, default_value_t = 5)]
        clients: u32,
        /// Connections opened at once.
        #[arg(long, default_value_t = 50)]
        parallel: usize,
    },
    /// One room of F then S clients: the time to connect each batch, the frames the
    /// first batch gets meanwhile, one message's delivery to all, runtime memory.
    Capacity {
        #[arg(long, default_value_t = 1000)]
        first: u32,
        #[arg(long, default_value_t = 1000)]
        second: u32,
        /// Connections opened at once.
        #[arg(long, default_value_t = 50)]
        parallel: usize,
        /// Opt into presence 2 (edgechat only): one presence frame per tick.
        #[arg(long)]
        presence2: bool,
    },
    /// N connections idle past hibernation, then one message: wake-up latency.
    Idle {
        #[arg(long, default_value_t = 10)]
        connections: u32,
        /// Seconds of silence before each message.
        #[arg(long, default_value_t = 15)]
        idle: u64,
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Seconds the server is left alone before the room is made: the rooms of
        /// earlier scenarios are evicted meanwhile, and that clean-up is theirs, not
        /// the idle room's (0: none).
        #[arg(long, default_value_t = 15)]
        settle: u64,
    },
    /// M members chatting at a steady rate, alone and then under attack (typing, status
    /// and reaction spam, frames over the limit): their delivery latency, and losses.
    Abuse(abuse::Plan),
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    let tag = net::random_id();
    // The tokens of names the bench claims (a scenario that reconnects as one claim
    // needs them) go to a file of this run's own, removed at the end.
    let tokens = std::env::temp_dir().join(format!("edgechat-bench-tokens-{tag}.json"));
    let bench = Bench {
        server: Server::parse(&args.url)?.with_tokens(Some(tokens.clone()), None),
        kind: args.target,
        pids: args.pid.clone(),
        tag,
    };
    let outcome = scenario(&bench, args.scenario).await;
    let _ = std::fs::remove_file(&tokens);
    let (name, report) = outcome?;
    print_report(&args.url, args.json, &bench, name, report);
    Ok(())
}

async fn scenario(bench: &Bench, scenario: Scenario) -> Result<(&'static str, Report), String> {
    Ok(match scenario {
        Scenario::Fanout {
            receivers,
            rate,
            duration,
        } => (
            "fanout",
            scenarios::fanout(bench, receivers, rate, duration).await?,
        ),
        Scenario::Throughput {
            senders,
            window,
            duration,
        } => (
            "throughput",
            scenarios::throughput(bench, senders, window, duration).await?,
        ),
        Scenario::Join { history, joins } => {
            ("join", scenarios::join(bench, history, joins).await?)
        }
        Scenario::Rooms {
            rooms,
            clients,
            parallel,
        } => (
            "rooms",
            scenarios::rooms(bench, rooms, clients, parallel).await?,
        ),
        Scenario::Idle {
            connections,
            idle,
            rounds,
            settle,
        } => (
            "idle",
            scenarios::idle(bench, connections, idle, rounds, settle).await?,
        ),
        Scenario::Capacity {
            first,
            second,
            parallel,
            presence2,
        } => (
            "capacity",
            capacity::capacity(bench, first, second, parallel, presence2).await?,
        ),
        Scenario::Abuse(plan) => ("abuse", abuse::abuse(bench, plan).await?),
    })
}

fn print_report(url: &str, as_json: bool, bench: &Bench, name: &str, report: Report) {
    let mut table = format!(
        "edgechat bench {name} against {} ({})\n",
        url,
        bench.kind.as_str()
    );
    let width = report.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &report.rows {
        table.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    if as_json {
        eprint!("{table}");
        let out = json!({
            "scenario": name,
            "target": bench.kind.as_str(),
            "url": url,
            "params": report.params,
            "results": report.results,
        });
        println!("{out}");
    } else {
        print!("{table}");
    }
}
