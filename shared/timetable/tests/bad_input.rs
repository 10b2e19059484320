//! Bad input: fatal errors stop the import with a message naming feed, file, line and field;
//! everything else is a counted warning with examples.

mod common;

use common::*;
use norikae_timetable::{Error, FeedInput, ImportLimits, ImportOptions, NoProgress, import};

fn import_error(files: &[(&'static str, String)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "bad", files);
    match import(&[FeedInput::new("bad", folder)], &ImportOptions::default(), &NoProgress) {
        Ok(_) => panic!("the import should fail"),
        Err(error) => error.to_string(),
    }
}

fn import_warnings(files: &[(&'static str, String)]) -> norikae_timetable::Warnings {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "bad", files);
    import(&[FeedInput::new("bad", folder)], &ImportOptions::default(), &NoProgress)
        .expect("import with warnings")
        .1
        .warnings
}

#[test]
fn a_truncated_zip_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_zip(dir.path(), "cut", &base_feed());
    let bytes = std::fs::read(&path).expect("read zip");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let error = import(&[FeedInput::new("cut", &path)], &ImportOptions::default(), &NoProgress)
        .expect_err("truncated zip");
    assert!(matches!(error, Error::Zip { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("feed cut: ")
            && message.contains("cut.zip: not a readable zip archive"),
        "{message}"
    );
}

#[test]
fn a_missing_stop_times_file_is_fatal() {
    let message = import_error(&without(base_feed(), "stop_times.txt"));
    assert_eq!(message, "feed bad: required file stop_times.txt is missing");
}

#[test]
fn a_feed_without_any_calendar_is_fatal() {
    let message = import_error(&without(base_feed(), "calendar.txt"));
    assert_eq!(message, "feed bad: neither calendar.txt nor calendar_dates.txt is present");
}

#[test]
fn a_missing_required_column_is_fatal() {
    let stops = "stop_code,stop_name,stop_lat,stop_lon\nX,Alpha,40.7,-74.0\n";
    let message = import_error(&with(base_feed(), "stops.txt", stops));
    assert_eq!(message, "feed bad: stops.txt: required column stop_id is missing");
    let stop_times = "trip_id,arrival_time,stop_id,stop_sequence\nT1,07:00:00,X,1\n";
    let message = import_error(&with(base_feed(), "stop_times.txt", stop_times));
    assert_eq!(message, "feed bad: stop_times.txt: required column departure_time is missing");
}

#[test]
fn a_stop_time_naming_an_unknown_trip_is_a_warning() {
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nNOPE,07:05:00,07:05:00,X,1\nT1,07:10:00,07:10:00,Y,2\n";
    let warnings = import_warnings(&with(base_feed(), "stop_times.txt", stop_times));
    assert_eq!(warnings.count("unknown_trip"), 1);
    assert_eq!(
        warnings.examples("unknown_trip"),
        ["bad/stop_times.txt:3: trip_id: unknown trip \"NOPE\"; stop time skipped"]
    );
}

#[test]
fn a_malformed_time_is_a_warning_and_the_time_is_interpolated() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon\nX,Alpha,40.70,-74.0\nM,Mid,40.71,-74.0\nY,Beta,40.72,-74.0\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nT1,7:6O:00,07:61:00,M,2\nT1,07:20:00,07:20:00,Y,3\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(
        dir.path(),
        "bad",
        &with(with(base_feed(), "stops.txt", stops), "stop_times.txt", stop_times),
    );
    let (timetable, report) =
        import(&[FeedInput::new("bad", folder)], &ImportOptions::default(), &NoProgress)
            .expect("import");
    assert_eq!(report.warnings.count("malformed_time"), 2);
    assert_eq!(
        report.warnings.examples("malformed_time")[0],
        "bad/stop_times.txt:3: arrival_time: malformed time \"7:6O:00\"; interpolated"
    );
    let trip = timetable.trip_by_id("bad:T1").expect("trip kept");
    assert_eq!(timetable.stop_times_of_trip(trip)[1].arrival, 7 * 3600 + 600);
}

#[test]
fn a_trip_whose_last_time_is_unreadable_is_dropped_with_a_warning() {
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,X,1\nT1,x,y,Y,2\nT2,07:00:00,07:00:00,X,1\nT2,07:10:00,07:10:00,Y,2\n";
    let files = with(
        with(base_feed(), "stop_times.txt", stop_times),
        "trips.txt",
        "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\n",
    );
    let warnings = import_warnings(&files);
    assert_eq!(
        warnings.examples("trip_without_times"),
        ["bad/stop_times.txt: trip \"T1\": first or last stop has no time; trip skipped"]
    );
}

#[test]
fn nothing_left_to_route_is_fatal() {
    let stop_times =
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,X,1\n";
    let message = import_error(&with(base_feed(), "stop_times.txt", stop_times));
    assert_eq!(message, "nothing left to route: no trip has two or more usable stop times");
}

#[test]
fn unknown_references_and_bad_values_are_counted_warnings() {
    let trips = "route_id,service_id,trip_id,direction_id\nR,WK,T1,0\nR9,WK,T2,\nR,NOSERVICE,T3,\nR,WK,T4,7\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nT1,07:05:00,07:05:00,GHOST,2\nT1,07:10:00,07:10:00,Y,3\n\
        T4,08:00:00,08:00:00,X,1\nT4,08:10:00,08:10:00,Y,2\n";
    let warnings =
        import_warnings(&with(with(base_feed(), "trips.txt", trips), "stop_times.txt", stop_times));
    assert_eq!(
        warnings.examples("unknown_route"),
        ["bad/trips.txt:3: route_id: unknown route \"R9\"; trip skipped"]
    );
    assert_eq!(
        warnings.examples("unknown_service"),
        [
            "bad/trips.txt:4: service_id: service \"NOSERVICE\" is in neither calendar file; trip skipped"
        ]
    );
    assert_eq!(
        warnings.examples("bad_value"),
        ["bad/trips.txt:5: direction_id: \"7\" is neither 0 nor 1; ignored"]
    );
    assert_eq!(
        warnings.examples("unknown_stop"),
        ["bad/stop_times.txt: unknown stop \"GHOST\"; its stop times skipped"]
    );
}

#[test]
fn feeds_in_different_time_zones_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let new_york = write_folder(dir.path(), "ny", &base_feed());
    let chicago_agency = "agency_id,agency_name,agency_url,agency_timezone\nC,Chicago Transit,https://example.org,America/Chicago\n";
    let chicago = write_folder(dir.path(), "chi", &with(base_feed(), "agency.txt", chicago_agency));
    let error = import(
        &[FeedInput::new("ny", new_york), FeedInput::new("chi", chicago)],
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect_err("two time zones");
    assert_eq!(
        error.to_string(),
        "agencies have different time zones: ny:A is in America/New_York but chi:C is in America/Chicago; \
         one snapshot holds one time zone, import them separately"
    );
}

#[test]
fn feed_arguments_are_checked() {
    assert_eq!(
        FeedInput::parse("ryobi=data/x.zip").expect("named"),
        FeedInput::new("ryobi", "data/x.zip")
    );
    assert_eq!(FeedInput::parse("data/feeds/okaden_bus.zip").expect("stem").name, "okaden_bus");
    assert!(FeedInput::parse("bad name=x.zip").is_err());
    let dir = tempfile::tempdir().expect("tempdir");
    let feed = write_folder(dir.path(), "same", &base_feed());
    let error = import(
        &[FeedInput::new("same", &feed), FeedInput::new("same", &feed)],
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect_err("duplicate names");
    assert_eq!(error.to_string(), "feed name \"same\" is used twice; give each feed its own NAME=");
}

#[test]
fn parent_station_cycles_and_unknown_parents_do_not_break_the_import() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n\
        X,Alpha,40.7000,-74.0,0,Y\nY,Beta,40.7045,-74.0,0,X\nZ,Gamma,40.7100,-74.0,0,NOWHERE\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "bad", &with(base_feed(), "stops.txt", stops));
    let (timetable, report) =
        import(&[FeedInput::new("bad", folder)], &ImportOptions::default(), &NoProgress)
            .expect("import");
    assert_eq!(
        report.warnings.examples("unknown_parent_station"),
        ["bad/stops.txt: stop \"Z\": parent_station \"NOWHERE\" is not another stop; ignored"]
    );
    for stop in &timetable.stops {
        assert!(stop.station.idx() < timetable.stations.len(), "{} has a station", stop.id);
    }
}

fn with_limits(limits: ImportLimits) -> ImportOptions {
    ImportOptions { limits, ..ImportOptions::default() }
}

#[test]
fn a_zip_entry_that_inflates_too_many_times_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 3 MB of one repeated row deflates about a thousand times: what a zip bomb looks like.
    let stop_times = format!(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n{}",
        "T1,07:00:00,07:00:00,X,1\n".repeat(120_000)
    );
    let path = write_zip(dir.path(), "bomb", &with(base_feed(), "stop_times.txt", &stop_times));
    let error = import(&[FeedInput::new("bomb", &path)], &ImportOptions::default(), &NoProgress)
        .expect_err("a zip bomb");
    assert!(matches!(error, Error::ZipLimit { file: "stop_times.txt", .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("feed bomb: ")
            && message.contains("bomb.zip: stop_times.txt inflates ")
            && message.contains("over the limit of 200 times (max_compression_ratio)"),
        "{message}"
    );
}

#[test]
fn a_zip_whose_files_inflate_past_the_size_limit_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_zip(dir.path(), "big", &base_feed());
    let limits = ImportLimits { max_uncompressed_bytes: 200, ..ImportLimits::default() };
    let error = import(&[FeedInput::new("big", &path)], &with_limits(limits), &NoProgress)
        .expect_err("over the size limit");
    let message = error.to_string();
    // agency.txt (101 bytes) and stops.txt (85) fit; routes.txt (77) does not.
    assert!(
        message.starts_with("feed big: ")
            && message.ends_with(
                "big.zip: routes.txt brings the feed's files to 263 bytes uncompressed, over the \
                 limit of 200 bytes (max_uncompressed_bytes); refused as a possible zip bomb"
            ),
        "{message}"
    );
    // The same feed within the default limits imports.
    import(&[FeedInput::new("big", &path)], &ImportOptions::default(), &NoProgress)
        .expect("within the default limits");
}

#[test]
fn frequencies_past_the_trip_limit_are_skipped_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frequencies = "trip_id,start_time,end_time,headway_secs\n\
        T1,08:00:00,09:00:00,600\n\
        T1,00:00:00,48:00:00,1\n\
        T1,10:00:00,10:30:00,600\n";
    let folder =
        write_folder(dir.path(), "often", &with(base_feed(), "frequencies.txt", frequencies));
    let limits = ImportLimits { max_frequency_trips: 10, ..ImportLimits::default() };
    let (timetable, report) =
        import(&[FeedInput::new("often", folder)], &with_limits(limits), &NoProgress)
            .expect("import with a skipped frequency");
    assert_eq!(report.warnings.count("too_many_frequency_trips"), 1);
    assert_eq!(
        report.warnings.examples("too_many_frequency_trips"),
        ["often/frequencies.txt:3: headway_secs: expands to 172800 trips, 6 already, over the \
          limit of 10 trips per feed (max_frequency_trips); frequency skipped"]
    );
    // 08:00–09:00 every 10 minutes and 10:00–10:30 every 10 minutes: 6 + 3 trips.
    assert_eq!(timetable.trips.len(), 9);
}
