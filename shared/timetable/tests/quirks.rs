//! GTFS as real feeds write it: each quirk the importer must accept, on small feeds.

mod common;

use common::*;
use norikae_timetable::{
    Accessibility, FeedInput, ImportOptions, LocationType, Mode, NoProgress, Timetable, Warnings,
    import,
};

fn import_files(files: &[(&'static str, String)]) -> (Timetable, Warnings) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "t", files);
    let (timetable, report) =
        import(&[FeedInput::new("t", folder)], &ImportOptions::default(), &NoProgress)
            .expect("import");
    (timetable, report.warnings)
}

fn times(timetable: &Timetable, trip_id: &str) -> Vec<(u32, u32)> {
    let trip = timetable.trip_by_id(trip_id).unwrap_or_else(|| panic!("trip {trip_id}"));
    timetable.stop_times_of_trip(trip).iter().map(|time| (time.arrival, time.departure)).collect()
}

#[test]
fn bom_crlf_quotes_spaces_and_unknown_columns_are_read() {
    let stops = "\u{feff}\"stop_id\" , \"stop_name\",\"stop_lat\",\"stop_lon\",\"x_custom\"\r\n\"X\",\"Alpha, North\" ,\"40.7000\",\"-74.0000\",\"?\"\r\n Y ,Beta,40.7045,-74.0000,\r\n";
    let files = with(base_feed(), "stops.txt", stops);
    let (timetable, warnings) = import_files(&files);
    assert_eq!(warnings.total(), 0, "{warnings:?}");
    let x = timetable.stop_by_id("t:X").expect("X");
    assert_eq!(timetable.stops[x.idx()].name.default, "Alpha, North");
    assert!(timetable.stop_by_id("t:Y").is_some(), "spaces around ids are trimmed");
    assert_eq!(
        times(&timetable, "t:T1"),
        vec![(7 * 3600, 7 * 3600), (7 * 3600 + 600, 7 * 3600 + 600)]
    );
}

#[test]
fn single_digit_hours_past_midnight_and_interpolated_times() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon\nX,Alpha,40.7000,-74.0\nM,Mid,40.7090,-74.0\nN,Next,40.7180,-74.0\nY,Beta,40.7360,-74.0\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n\
        T1,5:39:00,5:40:00,X,1,0,1\nT1,,,M,2,,\nT1,,,N,3,,\nT1,6:10:00,6:10:00,Y,4,1,0\n\
        T2,23:50:00,23:50:00,X,1,,\nT2,24:20:00,24:20:00,Y,2,,\n";
    let files = with(
        with(with(base_feed(), "stops.txt", stops), "stop_times.txt", stop_times),
        "trips.txt",
        "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\n",
    );
    let (timetable, _) = import_files(&files);
    let start = 5 * 3600 + 40 * 60;
    // M is 1 km, N 2 km, Y 4 km from X: times follow distance.
    let expected_mid = start + 1800 / 4;
    let expected_next = start + 1800 / 2;
    assert_eq!(
        times(&timetable, "t:T1"),
        vec![
            (5 * 3600 + 39 * 60, start),
            (expected_mid, expected_mid),
            (expected_next, expected_next),
            (6 * 3600 + 600, 6 * 3600 + 600)
        ]
    );
    assert_eq!(times(&timetable, "t:T2")[1], (24 * 3600 + 1200, 24 * 3600 + 1200));
    let t1 = timetable.trip_by_id("t:T1").expect("T1");
    let rules = timetable.pattern_stop_rules(timetable.trips[t1.idx()].pattern);
    assert!(rules[0].pickup() && !rules[0].drop_off(), "drop_off_type 1 at the first stop");
    assert!(!rules[3].pickup() && rules[3].drop_off(), "pickup_type 1 at the last stop");
}

#[test]
fn calendar_dates_alone_define_services() {
    let files = with(
        without(base_feed(), "calendar.txt"),
        "calendar_dates.txt",
        "service_id,date,exception_type\nWK,20260310,1\nWK,20260312,1\n",
    );
    let (timetable, _) = import_files(&files);
    assert_eq!(timetable.meta.first_date.to_string(), "2026-03-10");
    assert_eq!(timetable.meta.num_days, 3);
    let trip = timetable.trip_by_id("t:T1").expect("T1");
    assert!(timetable.trip_runs(trip, 0));
    assert!(!timetable.trip_runs(trip, 1));
    assert!(timetable.trip_runs(trip, 2));
}

#[test]
fn calendar_dates_add_and_remove_days() {
    let files = with(
        base_feed(),
        "calendar_dates.txt",
        "service_id,date,exception_type\nWK,20260302,2\nWK,20260307,1\n",
    );
    let (timetable, _) = import_files(&files);
    let trip = timetable.trip_by_id("t:T1").expect("T1");
    let day = |date: &str| timetable.day_index(date.parse().expect("date")).expect("in range");
    assert!(!timetable.trip_runs(trip, day("2026-03-02")), "removed Monday");
    assert!(timetable.trip_runs(trip, day("2026-03-03")), "ordinary Tuesday");
    assert!(timetable.trip_runs(trip, day("2026-03-07")), "added Saturday");
    assert!(!timetable.trip_runs(trip, day("2026-03-08")), "ordinary Sunday");
}

#[test]
fn frequencies_are_expanded_into_trips() {
    let files = with(
        base_feed(),
        "frequencies.txt",
        "trip_id,start_time,end_time,headway_secs,exact_times\nT1,08:00:00,09:00:00,1200,1\n",
    );
    let (timetable, _) = import_files(&files);
    let departures: Vec<u32> = ["t:T1@08:00:00", "t:T1@08:20:00", "t:T1@08:40:00"]
        .iter()
        .map(|id| times(&timetable, id)[0].1)
        .collect();
    assert_eq!(departures, vec![8 * 3600, 8 * 3600 + 1200, 8 * 3600 + 2400]);
    assert_eq!(
        times(&timetable, "t:T1@08:20:00")[1].0,
        8 * 3600 + 1200 + 600,
        "the template's running time is kept"
    );
    assert!(timetable.trip_by_id("t:T1@09:00:00").is_none(), "end_time is exclusive");
    assert_eq!(timetable.trips.len(), 3);
}

#[test]
fn location_types_parents_and_station_level_transfers() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code,wheelchair_boarding\n\
        S,Central,40.7000,-74.0000,1,,,1\n\
        P1,Central,40.7000,-74.0000,0,S,1,1\n\
        P2,Central,40.7001,-74.0000,0,S,2,2\n\
        E,Central Entrance,40.7002,-74.0000,2,S,,\n\
        N,,,,3,S,,\n\
        B,Boarding area,,,4,P1,,\n\
        U,Uptown,40.7300,-74.0000,1,,,\n\
        Q,Uptown,40.7300,-74.0000,0,U,,\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,P1,1\nT1,07:10:00,07:10:00,Q,2\nT2,07:05:00,07:05:00,P2,1\nT2,07:15:00,07:15:00,Q,2\n";
    let transfers =
        "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS,S,2,240\nS,U,2,600\n";
    let files = with(
        with(
            with(with(base_feed(), "stops.txt", stops), "stop_times.txt", stop_times),
            "trips.txt",
            "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\n",
        ),
        "transfers.txt",
        transfers,
    );
    let (timetable, _) = import_files(&files);
    let stop = |id: &str| timetable.stop_by_id(id).unwrap_or_else(|| panic!("{id}"));
    let central = timetable.station_by_id("t:S").expect("station S");
    assert_eq!(timetable.stations[central.idx()].stops, vec![stop("t:P1"), stop("t:P2")]);
    assert_eq!(
        timetable.stations[central.idx()].other_stops.len(),
        3,
        "entrance, node, boarding area"
    );
    assert_eq!(
        timetable.stops[stop("t:B").idx()].station,
        central,
        "a boarding area belongs to its platform's station"
    );
    assert_eq!(timetable.stops[stop("t:E").idx()].location_type, LocationType::Entrance);
    assert_eq!(timetable.stops[stop("t:P1").idx()].platform_code.as_deref(), Some("1"));
    assert_eq!(
        timetable.stops[stop("t:P2").idx()].wheelchair_boarding,
        Accessibility::NotAccessible
    );
    // S,S applies to every child: own minimum transfer time and between platforms.
    assert_eq!(timetable.min_transfer_secs[stop("t:P1").idx()], 240);
    let p1_to_p2 = timetable
        .footpaths(stop("t:P1"))
        .iter()
        .find(|footpath| footpath.to == stop("t:P2"))
        .map(|footpath| footpath.duration_secs);
    assert_eq!(p1_to_p2, Some(240));
    // S → U (3.3 km apart, beyond any walking link) comes from transfers.txt only, one way.
    let to_uptown = timetable
        .footpaths(stop("t:P2"))
        .iter()
        .find(|footpath| footpath.to == stop("t:Q"))
        .map(|footpath| footpath.duration_secs);
    assert_eq!(to_uptown, Some(600));
    assert!(!timetable.footpaths(stop("t:Q")).iter().any(|footpath| footpath.to == stop("t:P2")));
}

#[test]
fn nearby_stops_get_walking_links_closed_transitively() {
    // A chain of stops 300 m apart: direct links reach 300 m, the closure reaches further.
    let stops = "stop_id,stop_name,stop_lat,stop_lon\nX,Alpha,40.7000,-74.0\nY,Beta,40.7027,-74.0\nZ,Gamma,40.7054,-74.0\nW,Far,40.8000,-74.0\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,X,1\nT1,07:10:00,07:10:00,W,2\n";
    let files = with(with(base_feed(), "stops.txt", stops), "stop_times.txt", stop_times);
    let (timetable, _) = import_files(&files);
    let stop = |id: &str| timetable.stop_by_id(id).unwrap_or_else(|| panic!("{id}"));
    let from_x: Vec<(String, u32)> = timetable
        .footpaths(stop("t:X"))
        .iter()
        .map(|footpath| (timetable.stops[footpath.to.idx()].id.clone(), footpath.duration_secs))
        .collect();
    // 300 m × 1.2 detour / 1.2 m/s = 300 s per hop.
    assert_eq!(from_x, vec![("t:Y".to_owned(), 301), ("t:Z".to_owned(), 602)], "{from_x:?}");
}

#[test]
fn translations_in_the_current_form_and_extended_route_types() {
    let translations = "table_name,field_name,language,translation,record_id,record_sub_id,field_value\n\
        stops,stop_name,en,Alpha Square,X,,\n\
        stops,stop_name,ja-Hrkt,べーた,,,Beta\n\
        routes,route_long_name,fr,Premier,R,,\n";
    let routes = "route_id,agency_id,route_short_name,route_long_name,route_type,route_color,route_text_color\nR,A,1,First,715,00aeef,FFFFFF\n";
    let files = with(with(base_feed(), "translations.txt", translations), "routes.txt", routes);
    let files = with(
        files,
        "feed_info.txt",
        "feed_publisher_name,feed_publisher_url,feed_lang,feed_version\nTest,https://example.org,en,v7\n",
    );
    let (timetable, _) = import_files(&files);
    let x = &timetable.stops[timetable.stop_by_id("t:X").expect("X").idx()];
    assert_eq!(x.name.get("en"), "Alpha Square");
    let y = &timetable.stops[timetable.stop_by_id("t:Y").expect("Y").idx()];
    assert_eq!(y.reading.as_deref(), Some("べーた"));
    let route = &timetable.routes[0];
    assert_eq!(route.long_name.get("fr"), "Premier");
    assert_eq!(route.mode, Mode::Bus, "715 is an extended bus type");
    assert_eq!(route.color.as_deref(), Some("00AEEF"));
    assert_eq!(timetable.feeds[0].version.as_deref(), Some("v7"));
}

#[test]
fn chinese_names_keep_their_script_subtags_through_the_snapshot() {
    // Taiwanese (zh-TW), simplified (zh-Hans) and a kana reading, as feeds for visitors
    // give them; the names must stay reachable by script after a snapshot's round trip.
    let translations = "table_name,field_name,language,translation,record_id,record_sub_id,field_value\n\
        stops,stop_name,zh-TW,阿爾法廣場,X,,\n\
        stops,stop_name,zh-Hans,阿尔法广场,X,,\n\
        stops,stop_name,ja-Hrkt,あるふぁ,X,,\n\
        stops,stop_name,en,Alpha Square,X,,\n";
    let (imported, _) = import_files(&with(base_feed(), "translations.txt", translations));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&imported, &path).expect("write the snapshot");
    let loaded = norikae_timetable::snapshot::load(&path).expect("load the snapshot");
    for timetable in [&imported, &loaded] {
        let x = &timetable.stops[timetable.stop_by_id("t:X").expect("X").idx()];
        assert_eq!(x.name.get("zh-Hant"), "阿爾法廣場", "traditional script: zh-TW");
        assert_eq!(x.name.get("zh-TW"), "阿爾法廣場");
        assert_eq!(x.name.get("zh-Hant-HK"), "阿爾法廣場", "same language and script");
        assert_eq!(x.name.get("zh-Hans"), "阿尔法广场");
        assert_eq!(x.name.get("zh-CN"), "阿尔法广场", "mainland China writes Hans");
        assert_eq!(x.name.get("ja-Hrkt"), "あるふぁ");
        assert_eq!(x.name.get("en-GB"), "Alpha Square");
        assert_eq!(x.name.get("ko"), "Alpha", "no Korean: the feed's own name");
    }
}

#[test]
fn a_zipped_feed_in_a_subfolder_with_extra_files_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = base_feed();
    files.push(("agency_jp.txt", "agency_id,agency_official_name\nA,Test\n".to_owned()));
    let path = write_zip(dir.path(), "zipped", &files);
    let (timetable, _) = import(
        &[FeedInput::parse(path.to_str().expect("utf-8 path")).expect("feed argument")],
        &ImportOptions::default(),
        &NoProgress,
    )
    .expect("import a zip");
    assert_eq!(timetable.feeds[0].name, "zipped", "the file stem names the feed");
    assert!(timetable.trip_by_id("zipped:T1").is_some());
}

#[test]
fn service_day_starts_at_noon_minus_twelve_hours_across_dst() {
    let (timetable, _) = import_files(&base_feed());
    // 2026-03-08: New York springs forward at 02:00, so the service day starts at 23:00 the
    // evening before (noon EDT minus 12 h).
    let start = timetable.service_day_start("2026-03-08".parse().expect("date"));
    assert_eq!(start.to_rfc3339(), "2026-03-07T23:00:00-05:00");
    let ordinary = timetable.service_day_start("2026-03-09".parse().expect("date"));
    assert_eq!(ordinary.to_rfc3339(), "2026-03-09T00:00:00-04:00");
    let fall_back =
        norikae_timetable::service_day_start(timetable.tz, "2026-11-01".parse().expect("date"));
    assert_eq!(fall_back.to_rfc3339(), "2026-11-01T01:00:00-04:00");
}

/// transfers.txt by specificity (New York's LIRR writes a stop rule of 300 s at Jamaica and
/// timed trip-to-trip rules at the same stop): trip and route rules apply to their trips only
/// and win over stop rules; a stop's rule wins over its station's whatever the order; type 3
/// at a stop forbids changing there; unknown trips and routes are warned about with the line.
#[test]
fn transfer_rules_apply_by_specificity() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n\
        S,Central,40.7000,-74.0000,1,\n\
        P1,Central,40.7000,-74.0000,0,S\n\
        P2,Central,40.7001,-74.0000,0,S\n\
        X,Alpha,40.7300,-74.0000,0,\n\
        Z,Zeta,40.7600,-74.0000,0,\n";
    let routes = "route_id,agency_id,route_short_name,route_long_name,route_type\n\
        R,A,1,First,3\nQ,A,2,Second,3\n";
    let trips = "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\nQ,WK,T3\nQ,WK,T4\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nT1,07:10:00,07:10:00,P1,2\n\
        T2,07:20:00,07:20:00,P1,1\nT2,07:30:00,07:30:00,Z,2\n\
        T3,07:11:00,07:11:00,P1,1\nT3,07:20:00,07:20:00,Z,2\n\
        T4,07:12:00,07:12:00,P2,1\nT4,07:22:00,07:22:00,Z,2\n";
    // Row by row: a stop rule (line 2) before its station's (line 3), which must not override
    // it; route to route; trip to trip timed; trip to trip forbidden; in-seat; type 5;
    // an unknown trip; an unknown route; X forbids changing.
    let transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time,from_route_id,to_route_id,from_trip_id,to_trip_id\n\
        P1,P1,2,300,,,,\n\
        S,S,2,600,,,,\n\
        P1,P1,2,240,R,Q,,\n\
        P1,P1,1,,,,T1,T3\n\
        P1,P2,3,,,,T1,T4\n\
        ,,4,,,,T1,T2\n\
        P1,P1,5,,,,T1,T2\n\
        P1,P1,1,,,,T1,T9\n\
        P1,P1,2,60,R,NOPE,,\n\
        X,X,3,,,,,\n";
    let files = [
        ("stops.txt", stops),
        ("routes.txt", routes),
        ("trips.txt", trips),
        ("stop_times.txt", stop_times),
        ("transfers.txt", transfers),
    ]
    .into_iter()
    .fold(base_feed(), |files, (name, content)| with(files, name, content));
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_folder(dir.path(), "t", &files);
    let (timetable, report) =
        import(&[FeedInput::new("t", folder)], &ImportOptions::default(), &NoProgress)
            .expect("import");
    let stop = |id: &str| timetable.stop_by_id(id).unwrap_or_else(|| panic!("{id}"));
    let trip = |id: &str| timetable.trip_by_id(id).unwrap_or_else(|| panic!("{id}"));
    let (p1, p2) = (stop("t:P1"), stop("t:P2"));
    // Stop rules: P1's own 300 s, P2 its station's 600 s; X forbids any change.
    assert_eq!(timetable.min_transfer_secs[p1.idx()], 300, "the stop's rule beats its station's");
    assert_eq!(timetable.min_transfer_secs[p2.idx()], 600);
    assert_eq!(
        timetable.min_transfer_secs[stop("t:X").idx()],
        norikae_timetable::FORBIDDEN_TRANSFER_SECS
    );
    assert_eq!(timetable.change_secs(trip("t:T1"), stop("t:X"), trip("t:T2"), stop("t:X")), None);
    // T1 → T3 at P1: the timed trip rule (0 s) beats the route rule (240 s) and the stop's 300 s.
    assert_eq!(timetable.change_secs(trip("t:T1"), p1, trip("t:T3"), p1), Some(0));
    // The route rule applies to a Q trip other than T3.
    assert_eq!(timetable.trip_transfer_rule(trip("t:T1"), p1, trip("t:T4"), p1), Some(Some(240)));
    // T1 → T4 from P1 to P2: forbidden by the trip rule, though the platforms are linked.
    assert_eq!(timetable.change_secs(trip("t:T1"), p1, trip("t:T4"), p2), None);
    assert!(timetable.footpaths(p1).iter().any(|link| link.to == p2), "P1 and P2 are linked");
    // In-seat T1 → T2: 0 s from T1's last stop to T2's first.
    assert_eq!(timetable.trip_transfer_rule(trip("t:T1"), p1, trip("t:T2"), p1), Some(Some(0)));
    // Otherwise an R trip to an R trip has no trip or route rule: the stop's 300 s.
    assert_eq!(timetable.change_secs(trip("t:T2"), p1, trip("t:T1"), p1), Some(300));
    let counts = &report.transfer_rules;
    assert_eq!(
        (
            counts.trip,
            counts.route,
            counts.stop,
            counts.station,
            counts.in_seat,
            counts.without_effect
        ),
        (3, 1, 2, 1, 1, 1),
        "{counts:?}"
    );
    let unknown_trip = report.warnings.examples("unknown_transfer_trip");
    assert!(
        unknown_trip
            .iter()
            .any(|example| example.contains("transfers.txt:9") && example.contains("T9")),
        "{unknown_trip:?}"
    );
    let unknown_route = report.warnings.examples("unknown_transfer_route");
    assert!(
        unknown_route
            .iter()
            .any(|example| example.contains("transfers.txt:10") && example.contains("NOPE")),
        "{unknown_route:?}"
    );
}

/// A walk may begin or end with a change of platform past the closure's 900 s: X reaches
/// platform P1 in two links (778 s); P2, the other platform of the station, is 300 s on by the
/// station's rule, 1,078 s in all, which the closure alone would leave out.
#[test]
fn a_walk_may_begin_or_end_with_a_change_of_platform() {
    let stops = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n\
        X,Alpha,40.7000,-74.0000,0,\n\
        Y,Beta,40.7035,-74.0000,0,\n\
        S,Central,40.7090,-74.0000,1,\n\
        P1,Central,40.7070,-74.0000,0,S\n\
        P2,Central,40.7110,-74.0000,0,S\n";
    let stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n\
        T1,07:00:00,07:00:00,X,1\nT1,07:10:00,07:10:00,P2,2\n";
    let transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS,S,2,300\n";
    let files = with(
        with(with(base_feed(), "stops.txt", stops), "stop_times.txt", stop_times),
        "transfers.txt",
        transfers,
    );
    let (timetable, _) = import_files(&files);
    let stop = |id: &str| timetable.stop_by_id(id).unwrap_or_else(|| panic!("{id}"));
    let secs = |from: &str, to: &str| {
        timetable
            .footpaths(stop(from))
            .iter()
            .find(|footpath| footpath.to == stop(to))
            .map(|footpath| footpath.duration_secs)
    };
    let to_p1 = secs("t:X", "t:P1").expect("X walks to P1 through Y");
    assert!(to_p1 <= 900, "{to_p1} s");
    assert_eq!(secs("t:P1", "t:P2"), Some(300), "the station's rule");
    assert_eq!(secs("t:X", "t:P2"), Some(to_p1 + 300), "ending with the change of platform");
    assert_eq!(secs("t:P2", "t:X"), Some(300 + to_p1), "beginning with it");
}
