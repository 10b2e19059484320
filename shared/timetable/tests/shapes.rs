//! shapes.txt: trips follow their shape between their stops, trips without one are drawn
//! stop to stop, and the snapshot keeps both.

mod common;

use common::*;
use norikae_timetable::geo::distance_m;
use norikae_timetable::{
    FeedInput, ImportOptions, NoProgress, Timetable, TripIdx, Warnings, import,
};

fn import_files(
    files: &[(&'static str, String)],
    options: &ImportOptions,
) -> (Timetable, Warnings) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "t", files);
    let (timetable, report) =
        import(&[FeedInput::new("t", folder)], options, &NoProgress).expect("import");
    (timetable, report.warnings)
}

/// Three stops along a street that bends: X (south), Y (east of the bend), Z further east.
/// T1 follows shape S through the bend; T2 names no shape.
fn bent_feed() -> Vec<(&'static str, String)> {
    let stops = "stop_id,stop_name,stop_lat,stop_lon\n\
        X,Alpha,40.7000,-74.0000\nY,Beta,40.7050,-73.9950\nZ,Gamma,40.7050,-73.9900\n";
    let shapes = "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n\
        S,40.69990,-74.00000,1\nS,40.70250,-74.00000,2\nS,40.70500,-74.00000,3\n\
        S,40.70500,-73.99750,4\nS,40.70500,-73.99500,5\nS,40.70500,-73.99200,6\nS,40.70500,-73.98990,7\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nT1,07:05:00,07:05:00,Y,2\nT1,07:08:00,07:08:00,Z,3\n\
        T2,08:00:00,08:00:00,X,1\nT2,08:05:00,08:05:00,Y,2\nT2,08:08:00,08:08:00,Z,3\n";
    let files = with(base_feed(), "stops.txt", stops);
    let files = with(files, "shapes.txt", shapes);
    let files = with(files, "stop_times.txt", stop_times);
    with(files, "trips.txt", "route_id,service_id,trip_id,shape_id\nR,WK,T1,S\nR,WK,T2,\n")
}

fn trip_path(timetable: &Timetable, trip: &str, from: usize, to: usize) -> Vec<(f64, f64)> {
    let trip = timetable.trip_by_id(trip).unwrap_or_else(|| panic!("trip {trip}"));
    timetable.trip_path(trip, from, to)
}

#[test]
fn a_ride_follows_the_shape_between_its_stops_and_a_trip_without_one_goes_straight() {
    let (timetable, warnings) = import_files(&bent_feed(), &ImportOptions::default());
    assert_eq!(warnings.total(), 0, "{warnings:?}");
    assert_eq!(timetable.num_shapes(), 1);

    // X → Y along the street: up to the bend, then east.
    let path = trip_path(&timetable, "t:T1", 0, 1);
    assert_eq!(
        path,
        vec![
            (40.7, -74.0),
            (40.7025, -74.0),
            (40.705, -74.0),
            (40.705, -73.9975),
            (40.705, -73.995)
        ]
    );
    // Y → Z: the shape's points between them only.
    assert_eq!(
        trip_path(&timetable, "t:T1", 1, 2),
        vec![(40.705, -73.995), (40.705, -73.992), (40.705, -73.99)]
    );
    // The whole trip begins and ends at its first and last stops.
    let whole = trip_path(&timetable, "t:T1", 0, 2);
    assert_eq!((whole[0], whole[whole.len() - 1]), ((40.7, -74.0), (40.705, -73.99)));
    assert_eq!(whole.len(), 7);

    // T2 has no shape: straight from stop to stop.
    assert_eq!(
        trip_path(&timetable, "t:T2", 0, 2),
        vec![(40.7, -74.0), (40.705, -73.995), (40.705, -73.99)]
    );
    assert_eq!(trip_path(&timetable, "t:T2", 1, 1), vec![(40.705, -73.995)]);
}

#[test]
fn shapes_survive_the_snapshot_and_can_be_left_out() {
    let (timetable, _) = import_files(&bent_feed(), &ImportOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&timetable, &path).expect("written");
    let loaded = norikae_timetable::snapshot::load(&path).expect("loaded");
    assert!(loaded.shape_points.is_mapped());
    for trip in ["t:T1", "t:T2"] {
        assert_eq!(trip_path(&loaded, trip, 0, 2), trip_path(&timetable, trip, 0, 2), "{trip}");
    }

    let options = ImportOptions { skip_shapes: true, ..ImportOptions::default() };
    let (without, _) = import_files(&bent_feed(), &options);
    assert_eq!(without.num_shapes(), 0);
    assert_eq!(trip_path(&without, "t:T1", 0, 2).len(), 3, "stop to stop");
}

#[test]
fn a_shape_that_does_not_fit_its_stops_is_left_out_with_a_warning() {
    // The shape runs a kilometre west of the stops.
    let shapes = "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n\
        S,40.7000,-74.0120,1\nS,40.7050,-74.0120,2\n";
    let files = with(bent_feed(), "shapes.txt", shapes);
    let (timetable, warnings) = import_files(&files, &ImportOptions::default());
    assert_eq!(warnings.count("shape_does_not_fit"), 1, "{warnings:?}");
    assert_eq!(timetable.num_shapes(), 0);
    assert_eq!(trip_path(&timetable, "t:T1", 0, 2).len(), 3, "stop to stop");

    // A trip naming a shape shapes.txt lacks is drawn stop to stop too.
    let trips = "route_id,service_id,trip_id,shape_id\nR,WK,T1,NOPE\nR,WK,T2,S\n";
    let (timetable, warnings) =
        import_files(&with(bent_feed(), "trips.txt", trips), &ImportOptions::default());
    assert_eq!(warnings.count("unknown_shape"), 1, "{warnings:?}");
    assert_eq!(trip_path(&timetable, "t:T1", 0, 2).len(), 3);
    assert_eq!(trip_path(&timetable, "t:T2", 0, 2).len(), 7, "T2 takes shape S");
}

#[test]
fn every_bundled_ride_begins_and_ends_at_its_stops() {
    let feeds = norikae_timetable::bundled::repo_feeds_dir();
    // Chutetsu's trips name their shapes (Fukuoka's trips.txt names none: stop to stop).
    let inputs = [
        FeedInput::new("chutetsu", feeds.join("okayama/chutetsu_bus_gtfs.zip")),
        FeedInput::new("fukuoka", feeds.join("fukuoka_subway/FukuokaCitySubway-20190316.zip")),
    ];
    let (timetable, report) =
        import(&inputs, &ImportOptions::default(), &NoProgress).expect("import");
    let chutetsu: Vec<TripIdx> = (0..timetable.trips.len())
        .map(TripIdx::from)
        .filter(|trip| timetable.trips[trip.idx()].id.starts_with("chutetsu:"))
        .collect();
    let shaped = chutetsu.iter().filter(|&&trip| timetable.trip_shape(trip).is_some()).count();
    // Every trip whose shape shapes.txt has follows it (chutetsu names 20 it lacks).
    let warnings = &report.warnings;
    assert_eq!(warnings.count("shape_does_not_fit"), 0, "{warnings:?}");
    assert_eq!(shaped as u64 + warnings.count("unknown_shape"), chutetsu.len() as u64);
    assert!(shaped >= 90, "{shaped} of {} trips follow a shape", chutetsu.len());
    for trip in (0..timetable.trips.len()).step_by(7).map(TripIdx::from) {
        let stops = timetable.pattern_stops(timetable.trips[trip.idx()].pattern);
        for (from, to) in [(0, stops.len() - 1), (1, stops.len() / 2), (0, 1)] {
            let path = timetable.trip_path(trip, from, to);
            let (first, last) = (path[0], path[path.len() - 1]);
            let stop = |position: usize| &timetable.stops[stops[position].idx()];
            assert!(distance_m(first.0, first.1, stop(from).lat, stop(from).lon) < 1.0);
            assert!(distance_m(last.0, last.1, stop(to).lat, stop(to).lon) < 1.0);
            // Along the shape the path is no shorter than the stops' straight line and not
            // much longer than the stops' own path (no detour to the shape's other end).
            let length = |points: &[(f64, f64)]| -> f64 {
                points
                    .windows(2)
                    .map(|pair| distance_m(pair[0].0, pair[0].1, pair[1].0, pair[1].1))
                    .sum()
            };
            let by_stops: Vec<(f64, f64)> =
                (from..=to).map(|position| (stop(position).lat, stop(position).lon)).collect();
            let (along, straight) = (length(&path), length(&by_stops));
            assert!(
                along + 1.0 >= distance_m(first.0, first.1, last.0, last.1)
                    && along <= straight * 3.0 + 500.0,
                "trip {} from {from} to {to}: {along} m along the shape, {straight} m stop to stop",
                timetable.trips[trip.idx()].id
            );
        }
    }
}
