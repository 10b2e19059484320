//! The snapshot file: round trip with mapped columns, refusal of other format versions and
//! damaged files, atomic replacement, and hot reload in a running service.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use norikae_timetable::{
    Error, FORMAT_VERSION, FeedInput, Footpath, ImportOptions, LiveTimetable, NoProgress,
    PatternIdx, ServiceIdx, ShapeCut, ShapeIdx, StopIdx, Timetable, bundled, import,
    import_to_file, snapshot,
};

#[test]
fn a_written_snapshot_loads_back_with_mapped_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out/timetable.snapshot");
    let feeds = bundled::feeds(&bundled::repo_feeds_dir());
    let (built, _) =
        import_to_file(&feeds, &ImportOptions::default(), &path, &NoProgress).expect("import");
    let loaded = snapshot::load(&path).expect("load");
    assert_eq!(loaded.meta.content_hash, built.meta.content_hash);
    assert_eq!(loaded.meta.content_hash.len(), 32);
    assert!(
        loaded.stop_times.is_mapped()
            && loaded.footpaths.is_mapped()
            && loaded.service_days.is_mapped()
    );
    assert_eq!(&*loaded.stop_times, &*built.stop_times);
    assert_eq!(&*loaded.patterns_at_stop, &*built.patterns_at_stop);
    assert_eq!(&*loaded.footpaths, &*built.footpaths);
    assert_eq!(loaded.stops.len(), built.stops.len());
    assert_eq!(loaded.trips.len(), built.trips.len());
    assert_eq!(loaded.meta.timezone, "Asia/Tokyo");
    // The id index is rebuilt at load, aliases included.
    assert_eq!(loaded.stop_by_id("chutetsu:18_1"), built.stop_by_id("ryobi:18_1"));
    let trip = loaded.trip_by_id("fukuoka:空港線平日空港線平日福岡空港288").expect("trip");
    assert_eq!(loaded.stop_times_of_trip(trip), built.stop_times_of_trip(trip));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .expect("list")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["timetable.snapshot"]);
}

fn small_snapshot(dir: &std::path::Path) -> std::path::PathBuf {
    let folder = write_folder(dir, "t", &base_feed());
    let path = dir.join("timetable.snapshot");
    import_to_file(&[FeedInput::new("t", folder)], &ImportOptions::default(), &path, &NoProgress)
        .expect("import");
    path
}

#[test]
fn a_snapshot_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_snapshot(dir.path());
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    std::fs::write(&path, bytes).expect("write");
    let error = snapshot::load(&path).expect_err("other version");
    assert!(matches!(error, Error::FormatVersion { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "snapshot {}: format version {}, but this build reads format version {FORMAT_VERSION}; re-run `norikae import` with this build",
            path.display(),
            FORMAT_VERSION + 1
        )
    );
}

#[test]
fn a_damaged_snapshot_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_snapshot(dir.path());
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");
    let message = snapshot::load(&path).expect_err("damaged").to_string();
    assert!(message.contains("content hash mismatch"), "{message}");
    std::fs::write(&path, b"PK\x03\x04 not a snapshot at all, long enough to have a preamble")
        .expect("write");
    let message = snapshot::load(&path).expect_err("not a snapshot").to_string();
    assert!(message.ends_with("not a norikae timetable snapshot (bad magic bytes)"), "{message}");
}

/// A timetable with one index pushed out of range by `corrupt`, written as a snapshot (with a
/// valid hash: what a faulty writer would produce), must be refused at load naming the place.
fn assert_refused(corruption: &str, corrupt: impl FnOnce(&mut Timetable), expected: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "t", &base_feed());
    let (mut timetable, _) =
        import(&[FeedInput::new("t", folder)], &ImportOptions::default(), &NoProgress)
            .expect("import");
    corrupt(&mut timetable);
    let path = dir.path().join("timetable.snapshot");
    snapshot::write(&timetable, &path).expect("write");
    let error = snapshot::load(&path).expect_err(corruption);
    assert!(matches!(error, Error::CorruptSnapshot { .. }), "{corruption}: {error}");
    let message = error.to_string();
    assert!(message.contains(expected), "{corruption}: {message}");
}

#[test]
fn a_snapshot_with_an_index_out_of_range_is_refused_at_load() {
    const FAR: u32 = 1_000_000;
    assert_refused(
        "pattern stops past pattern_stops",
        |t| t.patterns[0].stops.end = FAR,
        "pattern 0: stops",
    );
    assert_refused(
        "pattern stops reversed",
        |t| t.patterns[0].stops = std::ops::Range { start: 3, end: 1 },
        "pattern 0: stops 3..1",
    );
    assert_refused("pattern trips", |t| t.patterns[0].trips.end = FAR, "pattern 0: trips");
    assert_refused(
        "stop in a pattern",
        |t| {
            let mut stops = t.pattern_stops.to_vec();
            stops[0] = StopIdx(FAR);
            t.pattern_stops = stops.into();
        },
        "pattern_stops[0] is 1000000, out of range",
    );
    assert_refused(
        "stop → pattern index",
        |t| {
            let mut entries = t.patterns_at_stop.to_vec();
            entries[0].pattern = PatternIdx(FAR);
            t.patterns_at_stop = entries.into();
        },
        "patterns_at_stop[0].pattern",
    );
    assert_refused(
        "position in the stop → pattern index",
        |t| {
            let mut entries = t.patterns_at_stop.to_vec();
            entries[0].position = FAR;
            t.patterns_at_stop = entries.into();
        },
        "patterns_at_stop[0].position",
    );
    assert_refused(
        "decreasing offsets",
        |t| {
            let mut offsets = t.stop_pattern_offsets.to_vec();
            offsets[1] = offsets[2] + 1;
            t.stop_pattern_offsets = offsets.into();
        },
        "stop_pattern_offsets decreases at stop",
    );
    assert_refused(
        "footpath target",
        |t| {
            // A walk from the last stop to a stop that does not exist.
            let mut footpaths = t.footpaths.to_vec();
            footpaths.push(Footpath { to: StopIdx(FAR), duration_secs: 60, distance_m: 80 });
            let mut offsets = t.footpath_offsets.to_vec();
            *offsets.last_mut().unwrap() += 1;
            t.footpaths = footpaths.into();
            t.footpath_offsets = offsets.into();
        },
        ".to is 1000000, out of range",
    );
    assert_refused("trip pattern", |t| t.trips[0].pattern = PatternIdx(FAR), "trip 0: pattern");
    assert_refused("trip service", |t| t.trips[0].service = ServiceIdx(FAR), "trip 0: service");
    assert_refused(
        "trip service column",
        |t| {
            let mut services = t.trip_services.to_vec();
            services[0] = ServiceIdx(FAR);
            t.trip_services = services.into();
        },
        "trip_services[0]",
    );
    assert_refused(
        "station member",
        |t| t.stations[0].stops.push(StopIdx(FAR)),
        "station 0: member stop is 1000000",
    );
    assert_refused(
        "trip shape cut",
        |t| t.trip_shape_cuts = vec![FAR; t.trips.len()].into(),
        "trip 0: shape cut is 1000000",
    );
    assert_refused(
        "stop segments past their column",
        |t| {
            t.shape_offsets = vec![0, 4].into();
            t.shape_points = vec![0u8, 0, 2, 2].into();
            t.shape_cuts = vec![ShapeCut { shape: ShapeIdx(0), segments_start: FAR }].into();
            t.trip_shape_cuts = vec![0; t.trips.len()].into();
        },
        "trip 0: the segments of its 2 stops from 1000000 run past stop_segments",
    );
    assert_refused(
        "shape of a cut",
        |t| t.shape_cuts = vec![ShapeCut { shape: ShapeIdx(FAR), segments_start: 0 }].into(),
        "shape_cuts[0].shape is 1000000",
    );
    assert_refused(
        "shape offsets past the points",
        |t| t.shape_offsets = vec![0, FAR].into(),
        "shape_offsets does not match",
    );
}

#[test]
fn a_failed_import_leaves_the_previous_snapshot_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_snapshot(dir.path());
    let before = std::fs::read(&path).expect("read");
    let broken = write_folder(dir.path(), "broken", &without(base_feed(), "trips.txt"));
    let result = import_to_file(
        &[FeedInput::new("broken", broken)],
        &ImportOptions::default(),
        &path,
        &NoProgress,
    );
    assert!(result.is_err());
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

// Paused time: the watcher's ticks come from tokio's clock, which jumps to the next timer
// while every task waits; a reload runs on the blocking pool, which holds the clock meanwhile.
#[tokio::test(start_paused = true)]
async fn a_newer_snapshot_replaces_the_loaded_one_while_old_readers_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_snapshot(dir.path());
    let live = Arc::new(LiveTimetable::load(&path).expect("load"));
    let held_by_a_request = live.current();
    assert!(!live.reload_if_changed().expect("unchanged"), "same hash: nothing to do");

    // A second import with one more trip.
    let folder = write_folder(
        dir.path(),
        "t",
        &with(
            with(base_feed(), "trips.txt", "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\n"),
            "stop_times.txt",
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,X,1\nT1,07:10:00,07:10:00,Y,2\nT2,08:00:00,08:00:00,X,1\nT2,08:10:00,08:10:00,Y,2\n",
        ),
    );
    import_to_file(&[FeedInput::new("t", folder)], &ImportOptions::default(), &path, &NoProgress)
        .expect("second import");

    // The services' default interval: on the paused clock the wait costs nothing, and when
    // the watcher looks is exact.
    let interval = Duration::from_secs(10);
    let started = tokio::time::Instant::now();
    let watcher = live.spawn_watcher(interval);
    let mut swapped_after = None;
    for _ in 0..250 {
        if live.current().trips.len() == 2 {
            swapped_after = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    watcher.abort();
    let swapped_after = swapped_after.expect("the watcher swapped in the new snapshot");
    assert!(
        (interval..=interval + Duration::from_secs(1)).contains(&swapped_after),
        "swapped after {swapped_after:?}: the file is checked once per {interval:?}, first after one"
    );
    assert_eq!(held_by_a_request.trips.len(), 1, "a request keeps the timetable it started with");
    assert_ne!(held_by_a_request.meta.content_hash, live.current().meta.content_hash);
    assert!(live.current().trip_by_id("t:T2").is_some());
}

#[test]
fn ensure_snapshot_imports_once_and_then_reuses_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("timetable.snapshot");
    let feeds_dir = bundled::repo_feeds_dir();
    assert_eq!(
        bundled::ensure_snapshot(&feeds_dir, &path).expect("first"),
        bundled::EnsureOutcome::Imported
    );
    assert_eq!(
        bundled::ensure_snapshot(&feeds_dir, &path).expect("second"),
        bundled::EnsureOutcome::UpToDate
    );
    let timetable = snapshot::load(&path).expect("load");
    assert_eq!(timetable.feeds.len(), 4);
    // A damaged file is imported again.
    std::fs::write(&path, b"garbage").expect("damage");
    assert_eq!(
        bundled::ensure_snapshot(&feeds_dir, &path).expect("third"),
        bundled::EnsureOutcome::Imported
    );
    let (fresh, _) = import(&bundled::feeds(&feeds_dir), &ImportOptions::default(), &NoProgress)
        .expect("import");
    assert_eq!(snapshot::load(&path).expect("load").trips.len(), fresh.trips.len());
}

#[test]
fn a_bad_new_file_keeps_the_current_timetable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_snapshot(dir.path());
    let live = LiveTimetable::load(&path).expect("load");
    let hash = live.current().meta.content_hash.clone();
    let mut bytes = std::fs::read(&path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    // Another hash in the preamble: a different file whose body does not match it.
    bytes[16] ^= 0x01;
    std::fs::write(dir.path().join("damaged"), &bytes).expect("write");
    std::fs::rename(dir.path().join("damaged"), &path).expect("replace");
    let error = live.reload_if_changed().expect_err("damaged file");
    assert!(error.to_string().contains("content hash mismatch"), "{error}");
    assert_eq!(live.current().meta.content_hash, hash, "still serving the good timetable");
}
