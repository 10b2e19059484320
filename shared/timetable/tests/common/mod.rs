//! Small GTFS feeds written from strings, for the quirk and bad-input tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// A minimal valid feed: two stops 500 m apart, one route, one weekday trip.
pub fn base_feed() -> Vec<(&'static str, String)> {
    vec![
        ("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\nA,Test Transit,https://example.org,America/New_York\n".to_owned()),
        ("stops.txt", "stop_id,stop_name,stop_lat,stop_lon\nX,Alpha,40.7000,-74.0000\nY,Beta,40.7045,-74.0000\n".to_owned()),
        ("routes.txt", "route_id,agency_id,route_short_name,route_long_name,route_type\nR,A,1,First,3\n".to_owned()),
        ("trips.txt", "route_id,service_id,trip_id\nR,WK,T1\n".to_owned()),
        ("stop_times.txt", "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,X,1\nT1,07:10:00,07:10:00,Y,2\n".to_owned()),
        ("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nWK,1,1,1,1,1,0,0,20260301,20260430\n".to_owned()),
    ]
}

/// Replaces (or adds) a file of a feed.
pub fn with(
    mut files: Vec<(&'static str, String)>,
    name: &'static str,
    content: &str,
) -> Vec<(&'static str, String)> {
    files.retain(|(file, _)| *file != name);
    files.push((name, content.to_owned()));
    files
}

pub fn without(mut files: Vec<(&'static str, String)>, name: &str) -> Vec<(&'static str, String)> {
    files.retain(|(file, _)| *file != name);
    files
}

/// Writes the files into `dir/name/` and returns that folder.
pub fn write_folder(dir: &Path, name: &str, files: &[(&'static str, String)]) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("create feed folder");
    for (file, content) in files {
        std::fs::write(folder.join(file), content).expect("write feed file");
    }
    folder
}

/// Writes the files as `dir/name.zip` and returns its path.
pub fn write_zip(dir: &Path, name: &str, files: &[(&'static str, String)]) -> PathBuf {
    let path = dir.join(format!("{name}.zip"));
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).expect("create zip"));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (file, content) in files {
        writer.start_file(*file, options).expect("zip entry");
        writer.write_all(content.as_bytes()).expect("zip write");
    }
    writer.finish().expect("finish zip");
    path
}
