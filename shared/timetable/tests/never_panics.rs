//! The GTFS reader never panics: arbitrary bytes as a zip, tables with bytes changed, rows
//! of odd fields, and a real feed with bytes changed all end in an import or an error. A
//! bounded number of cases, so it runs in seconds in a debug build (`PROPTEST_CASES` raises
//! it for a longer hunt).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use norikae_timetable::{FeedInput, ImportOptions, NoProgress, import};
use proptest::prelude::*;
use proptest::sample::Index;

/// Imports one feed; only a panic fails (the error, if any, is what bad input should get).
fn import_must_not_panic(path: &Path) {
    let _ = import(&[FeedInput::new("fuzz", path)], &ImportOptions::default(), &NoProgress);
}

/// `cases` unless `PROPTEST_CASES` asks for more; no regression files written.
fn config(cases: u32) -> ProptestConfig {
    let asked = std::env::var("PROPTEST_CASES").ok().and_then(|value| value.parse().ok());
    ProptestConfig {
        cases: asked.unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that make CSV, times, dates and numbers go wrong.
fn odd_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b','),
        Just(b'"'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b':'),
        Just(b'-'),
        Just(b'.'),
        Just(b'9'),
        Just(b'0'),
        Just(b' '),
        Just(0xEF),
        Just(0xFF),
        Just(0x00),
        any::<u8>(),
    ]
}

/// A few replaced, inserted or removed bytes.
#[derive(Clone, Debug)]
enum Change {
    Replace(Index, u8),
    Insert(Index, u8),
    Remove(Index),
}

fn changes(most: usize) -> impl Strategy<Value = Vec<Change>> {
    let change = prop_oneof![
        (any::<Index>(), odd_byte()).prop_map(|(at, byte)| Change::Replace(at, byte)),
        (any::<Index>(), odd_byte()).prop_map(|(at, byte)| Change::Insert(at, byte)),
        any::<Index>().prop_map(Change::Remove),
    ];
    proptest::collection::vec(change, 1..=most)
}

fn apply(bytes: &mut Vec<u8>, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Replace(at, byte) if !bytes.is_empty() => {
                let position = at.index(bytes.len());
                bytes[position] = *byte;
            }
            Change::Insert(at, byte) => {
                let position = at.index(bytes.len() + 1);
                bytes.insert(position, *byte);
            }
            Change::Remove(at) if !bytes.is_empty() => {
                let position = at.index(bytes.len());
                bytes.remove(position);
            }
            _ => {}
        }
    }
}

fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> PathBuf {
    let folder = dir.join("fuzz");
    std::fs::create_dir_all(&folder).expect("create feed folder");
    for (file, content) in files {
        std::fs::write(folder.join(file), content).expect("write feed file");
    }
    folder
}

fn base_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = base_feed()
        .into_iter()
        .map(|(name, content)| (name.to_owned(), content.into_bytes()))
        .collect();
    // Optional tables take part too.
    files.push((
        "frequencies.txt".to_owned(),
        b"trip_id,start_time,end_time,headway_secs\nT1,08:00:00,09:00:00,600\n".to_vec(),
    ));
    files.push((
        "transfers.txt".to_owned(),
        b"from_stop_id,to_stop_id,transfer_type,min_transfer_time\nX,Y,2,120\n".to_vec(),
    ));
    files.push((
        "calendar_dates.txt".to_owned(),
        b"service_id,date,exception_type\nWK,20260302,2\n".to_vec(),
    ));
    files
}

/// The files of the smallest bundled feed (Fukuoka's subway), read once.
fn real_files() -> &'static [(String, Vec<u8>)] {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip");
        let file = std::fs::File::open(&path).expect("the bundled Fukuoka feed");
        let mut archive = zip::ZipArchive::new(file).expect("a zip");
        (0..archive.len())
            .filter_map(|position| {
                let mut entry = archive.by_index(position).expect("zip entry");
                let name = entry
                    .name()
                    .expect("entry name")
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if entry.is_dir() || name.is_empty() {
                    return None;
                }
                let mut content = Vec::new();
                entry.read_to_end(&mut content).expect("read zip entry");
                Some((name, content))
            })
            .collect()
    })
}

/// A CSV row of fields GTFS readers trip over: empty, quoted, huge, negative, 25 hours.
fn odd_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"\"".to_owned()),
        Just("\"a,b\"".to_owned()),
        Just("99:59:59".to_owned()),
        Just("999:00:00".to_owned()),
        Just("-1".to_owned()),
        Just("4294967296".to_owned()),
        Just("0".to_owned()),
        Just("NaN".to_owned()),
        Just("1e309".to_owned()),
        Just("20260230".to_owned()),
        Just("X".to_owned()),
        Just("T1".to_owned()),
        "[0-9:]{0,9}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn arbitrary_bytes_as_a_zip(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fuzz.zip");
        std::fs::write(&path, &bytes).expect("write");
        import_must_not_panic(&path);
    }

    #[test]
    fn a_zipped_feed_with_bytes_changed(changes in changes(6)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_zip(dir.path(), "fuzz", &base_feed());
        let mut bytes = std::fs::read(&path).expect("read zip");
        apply(&mut bytes, &changes);
        std::fs::write(&path, &bytes).expect("write");
        import_must_not_panic(&path);
    }

    #[test]
    fn a_table_with_bytes_changed(file in any::<Index>(), changes in changes(8)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = base_files();
        let position = file.index(files.len());
        apply(&mut files[position].1, &changes);
        import_must_not_panic(&write_files(dir.path(), &files));
    }

    #[test]
    fn a_table_with_odd_rows(
        file in any::<Index>(),
        rows in proptest::collection::vec(proptest::collection::vec(odd_field(), 0..8), 1..4),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = base_files();
        let position = file.index(files.len());
        for row in rows {
            files[position].1.extend_from_slice(row.join(",").as_bytes());
            files[position].1.push(b'\n');
        }
        import_must_not_panic(&write_files(dir.path(), &files));
    }
}

proptest! {
    // A real feed imports in a fraction of a second even in a debug build; a few cases.
    #![proptest_config(config(12))]

    #[test]
    fn a_real_feed_with_bytes_changed(file in any::<Index>(), changes in changes(12)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = real_files().to_vec();
        let position = file.index(files.len());
        apply(&mut files[position].1, &changes);
        import_must_not_panic(&write_files(dir.path(), &files));
    }
}
