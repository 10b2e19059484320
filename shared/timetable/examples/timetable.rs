//! Stand-alone `import` / `snapshot-info` commands of norikae-timetable, for the load-test
//! scripts (the `norikae` binary offers the same through `services/cli`).
//!
//! `cargo run --release -p norikae-timetable --example timetable -- import [NAME=]PATH... --out DIR`
//! `cargo run --release -p norikae-timetable --example timetable -- snapshot-info DIR`

use clap::{Parser, Subcommand};
use norikae_timetable::cli::{ImportArgs, SnapshotInfoArgs, run_import, run_snapshot_info};

#[derive(Parser)]
#[command(about = "GTFS import and snapshot inspection")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Imports GTFS feeds into DIR/timetable.snapshot.
    Import(ImportArgs),
    /// Loads a snapshot and prints its meta, counts, load time and memory.
    SnapshotInfo(SnapshotInfoArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Import(args) => run_import(args),
        Command::SnapshotInfo(args) => run_snapshot_info(args),
    }
}
