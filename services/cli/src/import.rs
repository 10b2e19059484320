//! `norikae import` and `norikae snapshot-info`: the terminal side of the timetable crate.
//! The import itself is [`norikae_timetable::import_to_file`]; here are its arguments, its
//! progress bars (indicatif, on standard error) and the summary it prints.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar as Bar, ProgressStyle};
use norikae_timetable::import::{Progress, ProgressBar};
use norikae_timetable::{
    FeedInput, ImportLimits, ImportOptions, Timetable, WalkingSettings, import_to_file, memory,
    snapshot,
};

/// File name of the snapshot inside `--out DIR`.
pub const SNAPSHOT_FILE: &str = "timetable.snapshot";

/// `norikae import [NAME=]PATH... --out DIR`
#[derive(Clone, Debug, clap::Args)]
pub struct ImportArgs {
    /// GTFS feeds as `[NAME=]PATH` (a zip or a folder); ids become `NAME:ID` (NAME defaults
    /// to the file stem). Shared stops keep the id of the first feed that has them.
    #[arg(required = true, value_name = "[NAME=]PATH")]
    pub feeds: Vec<String>,
    /// Folder to write `timetable.snapshot` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Stops within this straight-line distance get a walking link.
    #[arg(long, default_value_t = WalkingSettings::default().max_link_distance_m)]
    pub walk_distance_m: f64,
    /// Walking speed in metres per second.
    #[arg(long, default_value_t = WalkingSettings::default().speed_m_per_s)]
    pub walk_speed: f64,
    /// Walking links are closed transitively up to this many seconds.
    #[arg(long, default_value_t = WalkingSettings::default().max_walk_secs)]
    pub max_walk_secs: u32,
    /// Minimum time to change vehicles at a stop where transfers.txt says nothing.
    #[arg(long, default_value_t = WalkingSettings::default().default_min_transfer_secs)]
    pub min_transfer_secs: u32,
    /// Most bytes one zipped feed's files may inflate to (against zip bombs).
    #[arg(long, default_value_t = ImportLimits::default().max_uncompressed_bytes)]
    pub max_uncompressed_bytes: u64,
    /// Highest compression ratio of a zip entry over 1 MiB (against zip bombs).
    #[arg(long, default_value_t = ImportLimits::default().max_compression_ratio)]
    pub max_compression_ratio: u64,
    /// Most trips frequencies.txt may expand to in one feed; rows past it are skipped.
    #[arg(long, default_value_t = ImportLimits::default().max_frequency_trips)]
    pub max_frequency_trips: u64,
    /// Leave shapes.txt out: rides are drawn stop to stop (a smaller snapshot).
    #[arg(long)]
    pub no_shapes: bool,
    /// No progress bars (for logs and scripts).
    #[arg(long)]
    pub quiet: bool,
}

/// `norikae snapshot-info PATH`
#[derive(Clone, Debug, clap::Args)]
pub struct SnapshotInfoArgs {
    /// A snapshot file, or a folder holding `timetable.snapshot`.
    pub path: PathBuf,
}

/// Progress bars of an import, one per step (hidden with `--quiet`).
struct Bars {
    multi: MultiProgress,
    hidden: bool,
}

struct IndicatifBar(Bar);

impl ProgressBar for IndicatifBar {
    fn set_position(&self, position: u64) {
        self.0.set_position(position);
    }

    fn finish(&self) {
        self.0.finish();
    }
}

impl Progress for Bars {
    fn start(&self, label: &str, total: u64) -> Box<dyn ProgressBar + '_> {
        if self.hidden {
            return Box::new(IndicatifBar(Bar::hidden()));
        }
        let bar = self.multi.add(Bar::new(total));
        let template = "{prefix:>28} [{bar:30}] {percent:>3}% {elapsed_precise}";
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        Box::new(IndicatifBar(bar))
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let feeds = args
        .feeds
        .iter()
        .map(|argument| FeedInput::parse(argument))
        .collect::<Result<Vec<_>, _>>()?;
    let walking = WalkingSettings {
        max_link_distance_m: args.walk_distance_m,
        speed_m_per_s: args.walk_speed,
        max_walk_secs: args.max_walk_secs,
        default_min_transfer_secs: args.min_transfer_secs,
    };
    let limits = ImportLimits {
        max_uncompressed_bytes: args.max_uncompressed_bytes,
        max_compression_ratio: args.max_compression_ratio,
        max_frequency_trips: args.max_frequency_trips,
    };
    anyhow::ensure!(walking.speed_m_per_s > 0.0, "--walk-speed must be positive");
    anyhow::ensure!(walking.max_link_distance_m >= 0.0, "--walk-distance-m must not be negative");
    let out = args.out.join(SNAPSHOT_FILE);
    let bars = Bars { multi: MultiProgress::new(), hidden: args.quiet };
    let (timetable, report) = import_to_file(
        &feeds,
        &ImportOptions { walking, limits, skip_shapes: args.no_shapes },
        &out,
        &bars,
    )
    .with_context(|| {
        format!("import into {} failed; the existing snapshot (if any) is unchanged", out.display())
    })?;
    let size = std::fs::metadata(&out).map(|metadata| metadata.len()).unwrap_or(0);
    let (_, peak) = memory::usage();
    print_summary(&timetable);
    let rules = &report.transfer_rules;
    println!(
        "transfer rules: {} naming trips ({} in-seat), {} routes, {} stops, {} stations; {} without effect (type 5)",
        rules.trip, rules.in_seat, rules.route, rules.stop, rules.station, rules.without_effect
    );
    println!("warnings: {}", report.warnings.total());
    for (kind, entry) in report.warnings.iter() {
        println!("  {kind}: {}", entry.count);
        for example in &entry.examples {
            println!("      e.g. {example}");
        }
    }
    println!(
        "import: {:.2} s (parse {:.2} s, build {:.2} s, walking {:.2} s), peak RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        report.parse_secs,
        report.build_secs,
        report.walking_secs,
        mib(peak)
    );
    println!(
        "snapshot: {} ({:.1} MiB, hash {})",
        out.display(),
        mib(size),
        timetable.meta.content_hash
    );
    Ok(())
}

fn print_summary(timetable: &Timetable) {
    let meta = &timetable.meta;
    let last = timetable.date_of_day(meta.num_days.saturating_sub(1));
    println!(
        "network: time zone {}, service days {} .. {} ({} days)",
        meta.timezone, meta.first_date, last, meta.num_days
    );
    for feed in &timetable.feeds {
        println!(
            "  feed {:<12} {} agencies, {} stops, {} routes, {} trips, {} stop times, {} .. {}  ({})",
            feed.name,
            feed.counts.agencies,
            feed.counts.stops,
            feed.counts.routes,
            feed.counts.trips,
            feed.counts.stop_times,
            feed.first_date,
            feed.last_date,
            feed.source
        );
    }
    println!(
        "total: {} agencies, {} stops, {} stations, {} routes, {} patterns, {} trips, {} stop times, {} footpaths, {} fares",
        timetable.agencies.len(),
        timetable.stops.len(),
        timetable.stations.len(),
        timetable.routes.len(),
        timetable.patterns.len(),
        timetable.trips.len(),
        timetable.stop_times.len(),
        timetable.footpaths.len(),
        timetable.fares.attributes.len()
    );
    let shaped = timetable
        .trip_shape_cuts
        .iter()
        .filter(|cut| **cut != norikae_timetable::NO_SHAPE_CUT)
        .count();
    println!(
        "shapes: {} ({:.1} MiB of points, {:.1} MiB of stop positions); {shaped} of {} trips follow one, the others are drawn stop to stop",
        timetable.num_shapes(),
        mib(timetable.shape_points.len() as u64),
        mib(timetable.stop_segments.len() as u64 * 4),
        timetable.trips.len()
    );
}

pub fn run_snapshot_info(args: SnapshotInfoArgs) -> anyhow::Result<()> {
    let path = if args.path.is_dir() { args.path.join(SNAPSHOT_FILE) } else { args.path.clone() };
    let (rss_before, _) = memory::usage();
    let started = Instant::now();
    let timetable =
        snapshot::load(&path).with_context(|| format!("cannot load {}", path.display()))?;
    let load_secs = started.elapsed().as_secs_f64();
    let (rss_after, peak) = memory::usage();
    let size = std::fs::metadata(&path).map(|metadata| metadata.len()).unwrap_or(0);
    println!("snapshot: {} ({:.1} MiB)", path.display(), mib(size));
    println!(
        "format version {}, hash {}, created {}",
        timetable.meta.format_version, timetable.meta.content_hash, timetable.meta.created_at
    );
    print_summary(&timetable);
    for (kind, count) in &timetable.meta.warnings {
        println!("  import warning {kind}: {count}");
    }
    println!(
        "load: {:.3} s; RSS before {:.0} MiB, after load {:.0} MiB, peak {:.0} MiB",
        load_secs,
        mib(rss_before),
        mib(rss_after),
        mib(peak)
    );
    Ok(())
}
