//! A feed's files as CSV tables, from a zip archive or a folder, read the way the GTFS
//! reference describes them (a header row naming the fields; fields may be quoted; a UTF-8
//! byte-order mark may start the file; optional fields may be missing or empty).

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// One file of a feed: its header and rows.
pub(super) struct Table {
    /// The file, for messages (`rules/transfers.txt`).
    pub name: String,
    headers: Vec<String>,
    pub rows: Vec<csv::StringRecord>,
}

impl Table {
    /// Position of a field in the header, if the file has it.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.headers.iter().position(|header| header == field)
    }

    /// The value of `column` in `row`, "" when the file or the row lacks it.
    pub fn get(row: &csv::StringRecord, column: Option<usize>) -> &str {
        column.and_then(|column| row.get(column)).unwrap_or("")
    }

    /// Line of a row in its file (the header is line 1).
    pub fn line(row: &csv::StringRecord) -> u64 {
        row.position().map_or(0, csv::Position::line)
    }
}

/// Reads `file` of the feed at `path` (a `.zip` or a folder); `None` when the feed has no
/// such file. Some publishers zip a folder: a file is found by its base name, shallowest
/// first.
pub(super) fn read_table(feed: &str, path: &Path, file: &str) -> Option<Table> {
    let text = if path.is_dir() {
        std::fs::read_to_string(path.join(file)).ok()?
    } else {
        let archive_file = File::open(path).unwrap_or_else(|error| {
            panic!("reference: cannot open {}: {error}", path.display());
        });
        let mut archive = zip::ZipArchive::new(archive_file).unwrap_or_else(|error| {
            panic!("reference: {} is not a zip archive: {error}", path.display());
        });
        let names: Vec<String> =
            archive.file_names().filter_map(Result::ok).map(|name| name.into_owned()).collect();
        let entry_name = names
            .into_iter()
            .filter(|name| !name.contains("__MACOSX") && name.rsplit('/').next() == Some(file))
            .min_by_key(|name| name.matches('/').count())?;
        let mut entry = archive.by_name(&entry_name).expect("the entry just listed");
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap_or_else(|error| {
            panic!("reference: {feed}/{file} is not UTF-8 text: {error}");
        });
        text
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .unwrap_or_else(|error| panic!("reference: {feed}/{file}: bad header: {error}"))
        .iter()
        .map(|header| header.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let rows = reader
        .records()
        .map(|row| row.unwrap_or_else(|error| panic!("reference: {feed}/{file}: {error}")))
        .filter(|row| !(row.len() == 1 && row.get(0) == Some("")))
        .collect();
    Some(Table { name: format!("{feed}/{file}"), headers, rows })
}

/// Seconds of a GTFS time `H:MM:SS` or `HH:MM:SS` (hours may pass 24); `None` when empty
/// or malformed.
pub(super) fn parse_time(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || hours.is_empty() || minutes.len() != 2 || seconds.len() != 2 {
        return None;
    }
    let number = |part: &str| -> Option<u32> {
        part.chars().all(|character| character.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (hours, minutes, seconds) = (number(hours)?, number(minutes)?, number(seconds)?);
    (minutes < 60 && seconds < 60).then_some(hours * 3600 + minutes * 60 + seconds)
}

/// A GTFS date `YYYYMMDD`.
pub(super) fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}
