//! `norikae-load-stations`: writes the station list the load test and the drills draw from
//! (`loadtests/load/stations.tsv`), from a timetable snapshot or, by default, from the
//! bundled feeds:
//!
//! ```sh
//! cargo run -p norikae-load --bin norikae-load-stations -- --out loadtests/load/stations.tsv
//! ```

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use norikae_load::StationList;

#[derive(Parser)]
#[command(name = "norikae-load-stations", about = "Write the load tests' station list")]
struct Args {
    /// A snapshot written by `norikae import`; without it the bundled feeds are imported
    /// into a temporary one.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Folder of the bundled feeds [default: the repository's data/feeds].
    #[arg(long)]
    feeds_dir: Option<PathBuf>,
    /// Where to write the list (standard output when not given).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let snapshot = match args.snapshot {
        Some(snapshot) => snapshot,
        None => {
            let feeds_dir =
                args.feeds_dir.unwrap_or_else(norikae_timetable::bundled::repo_feeds_dir);
            let snapshot = scratch.path().join("timetable.snapshot");
            norikae_timetable::bundled::ensure_snapshot(&feeds_dir, &snapshot).with_context(
                || format!("cannot import the bundled feeds from {}", feeds_dir.display()),
            )?;
            snapshot
        }
    };
    let timetable = norikae_timetable::snapshot::load(&snapshot)
        .with_context(|| format!("cannot load the snapshot {}", snapshot.display()))?;
    let list = StationList::from_timetable(&timetable)?;
    let text = list.to_tsv();
    match args.out {
        Some(path) => {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} stations of {} feeds to {}",
                list.stations.len(),
                list.feeds.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
