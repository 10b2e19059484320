//! The snapshot file: one file holding a compiled [`Timetable`], which services map into
//! memory at start-up without copying the hot arrays.
//!
//! Layout (all integers little-endian):
//! - bytes 0..8: magic `NORIKAE\0`; 8..12: format version; 12..16: reserved (0);
//!   16..32: xxh3-128 of every byte from 40 on; 32..40: length of the header;
//! - the header: postcard-encoded cold data (meta, feeds, agencies, stops, stations, routes,
//!   patterns, fares), the lengths of the trip chunks and a table of the column sections;
//! - the trips, postcard-encoded in chunks of 40k that [`load`] decodes on parallel threads
//!   while another thread verifies the hash;
//! - the hot [`Column`]s as raw little-endian arrays, each aligned to 16 bytes, which
//!   [`load`] views in place through the mapping.
//!
//! Files are written to a temporary name in the same folder and renamed, so a reader sees
//! either the old file or the new, complete one.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3Default;

use crate::column::{Column, SharedBytes};
use crate::error::{Error, Result};
use crate::index::{IdIndex, IdTable};
use crate::model::*;

const MAGIC: &[u8; 8] = b"NORIKAE\0";
const PREAMBLE_LEN: usize = 40;
const ALIGN: usize = 16;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ColumnEntry {
    name: String,
    /// Byte offset from the start of the column area.
    offset: u64,
    /// Number of values.
    len: u64,
    value_size: u32,
}

#[derive(Serialize)]
struct HeaderRef<'a> {
    meta: &'a Meta,
    feeds: &'a [Feed],
    agencies: &'a [Agency],
    stops: &'a [Stop],
    stations: &'a [Station],
    routes: &'a [Route],
    patterns: &'a [Pattern],
    fares: &'a Fares,
    transfer_rules: &'a [TransferRule],
    service_words: u32,
    /// Byte lengths of the trip chunks that follow the header (decoded in parallel).
    trip_chunks: Vec<u64>,
    columns: Vec<ColumnEntry>,
}

#[derive(Deserialize)]
struct Header {
    meta: Meta,
    feeds: Vec<Feed>,
    agencies: Vec<Agency>,
    stops: Vec<Stop>,
    stations: Vec<Station>,
    routes: Vec<Route>,
    patterns: Vec<Pattern>,
    fares: Fares,
    transfer_rules: Vec<TransferRule>,
    service_words: u32,
    trip_chunks: Vec<u64>,
    columns: Vec<ColumnEntry>,
}

/// Trips are stored in chunks of this many, decoded on separate threads at load.
const TRIPS_PER_CHUNK: usize = 40_000;

fn padding(position: usize) -> usize {
    (ALIGN - position % ALIGN) % ALIGN
}

/// The hot columns in file order: (name, bytes, value size, len).
fn columns_of(timetable: &Timetable) -> Vec<(&'static str, &[u8], usize, usize)> {
    fn entry<'a, T: bytemuck::Pod>(
        name: &'static str,
        column: &'a Column<T>,
    ) -> (&'static str, &'a [u8], usize, usize) {
        (name, column.as_bytes(), size_of::<T>(), column.len())
    }
    vec![
        entry("pattern_stops", &timetable.pattern_stops),
        entry("pattern_stop_rules", &timetable.pattern_stop_rules),
        entry("stop_times", &timetable.stop_times),
        entry("trip_services", &timetable.trip_services),
        entry("service_days", &timetable.service_days),
        entry("stop_pattern_offsets", &timetable.stop_pattern_offsets),
        entry("patterns_at_stop", &timetable.patterns_at_stop),
        entry("footpath_offsets", &timetable.footpath_offsets),
        entry("footpaths", &timetable.footpaths),
        entry("min_transfer_secs", &timetable.min_transfer_secs),
        entry("shape_offsets", &timetable.shape_offsets),
        entry("shape_points", &timetable.shape_points),
        entry("trip_shape_cuts", &timetable.trip_shape_cuts),
        entry("shape_cuts", &timetable.shape_cuts),
        entry("stop_segments", &timetable.stop_segments),
    ]
}

/// Writes `timetable` to `path` (temporary file + rename) and returns the content hash (hex).
pub fn write(timetable: &Timetable, path: &Path) -> Result<String> {
    if cfg!(target_endian = "big") {
        return Err(Error::CorruptSnapshot {
            path: path.to_owned(),
            reason: "snapshots are little-endian only".to_owned(),
        });
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&folder).map_err(|source| Error::io(&folder, source))?;
    let columns = columns_of(timetable);
    let mut entries = Vec::with_capacity(columns.len());
    let mut offset = 0usize;
    for (name, bytes, value_size, len) in &columns {
        entries.push(ColumnEntry {
            name: (*name).to_owned(),
            offset: offset as u64,
            len: *len as u64,
            value_size: *value_size as u32,
        });
        offset += bytes.len() + padding(bytes.len());
    }
    let mut meta = timetable.meta.clone();
    meta.content_hash = String::new();
    let encode_error = |error: postcard::Error| Error::CorruptSnapshot {
        path: path.to_owned(),
        reason: format!("cannot encode: {error}"),
    };
    let mut trip_bytes = Vec::new();
    let mut trip_chunks = Vec::new();
    for chunk in timetable.trips.chunks(TRIPS_PER_CHUNK) {
        let encoded = postcard::to_stdvec(chunk).map_err(encode_error)?;
        trip_chunks.push(encoded.len() as u64);
        trip_bytes.extend_from_slice(&encoded);
    }
    let header = HeaderRef {
        meta: &meta,
        feeds: &timetable.feeds,
        agencies: &timetable.agencies,
        stops: &timetable.stops,
        stations: &timetable.stations,
        routes: &timetable.routes,
        patterns: &timetable.patterns,
        fares: &timetable.fares,
        transfer_rules: &timetable.transfer_rules,
        service_words: timetable.service_words,
        trip_chunks,
        columns: entries,
    };
    let mut header_bytes = postcard::to_stdvec(&header).map_err(encode_error)?;
    let header_len = header_bytes.len();
    header_bytes.extend_from_slice(&trip_bytes);
    drop(trip_bytes);

    let mut builder = tempfile::Builder::new();
    builder.prefix(".timetable.snapshot.").suffix(".tmp");
    // Readable by all: the import often runs as another user than the services (a one-shot
    // container writing a volume that non-root services mount read-only).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let temporary = builder.tempfile_in(&folder).map_err(|source| Error::io(&folder, source))?;
    let temporary_path = temporary.path().to_owned();
    let hash = write_body(temporary.as_file(), &header_bytes, header_len, &columns)
        .map_err(|source| Error::io(&temporary_path, source))?;
    temporary.persist(path).map_err(|error| Error::io(path, error.error))?;
    Ok(format!("{hash:032x}"))
}

/// Writes preamble, header and columns to `file` and returns the content hash (also written
/// into the preamble).
fn write_body(
    file: &File,
    header_bytes: &[u8],
    header_len: usize,
    columns: &[(&'static str, &[u8], usize, usize)],
) -> std::io::Result<u128> {
    let mut writer = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Xxh3Default::new(),
    };
    let mut preamble = [0u8; PREAMBLE_LEN];
    preamble[..8].copy_from_slice(MAGIC);
    preamble[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    preamble[32..40].copy_from_slice(&(header_len as u64).to_le_bytes());
    // The preamble is not hashed (it holds the hash).
    writer.inner.write_all(&preamble)?;
    writer.put(header_bytes)?;
    let zeros = [0u8; ALIGN];
    writer.put(&zeros[..padding(PREAMBLE_LEN + header_bytes.len())])?;
    for (_, bytes, _, _) in columns {
        writer.put(bytes)?;
        writer.put(&zeros[..padding(bytes.len())])?;
    }
    writer.inner.flush()?;
    let hash = writer.hasher.digest128();
    drop(writer);
    let mut file = file;
    file.seek(SeekFrom::Start(16))?;
    file.write_all(&hash.to_le_bytes())?;
    file.sync_all()?;
    Ok(hash)
}

/// Writes bytes and hashes them on the way.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Xxh3Default,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }
}

/// Reads the content hash of the snapshot at `path` from its first bytes (no full load), after
/// checking the magic and format version.
pub fn read_hash(path: &Path) -> Result<String> {
    let mut preamble = [0u8; PREAMBLE_LEN];
    let mut file = File::open(path).map_err(|source| Error::io(path, source))?;
    file.read_exact(&mut preamble).map_err(|_| corrupt(path, "shorter than its preamble"))?;
    check_preamble(path, &preamble)?;
    Ok(format!("{:032x}", u128::from_le_bytes(slice_array(&preamble[16..32]))))
}

fn slice_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    array.copy_from_slice(&bytes[..N]);
    array
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptSnapshot { path: path.to_owned(), reason: reason.into() }
}

fn check_preamble(path: &Path, preamble: &[u8]) -> Result<()> {
    if preamble.len() < PREAMBLE_LEN || &preamble[..8] != MAGIC {
        return Err(corrupt(path, "not a norikae timetable snapshot (bad magic bytes)"));
    }
    let found = u32::from_le_bytes(slice_array(&preamble[8..12]));
    if found != FORMAT_VERSION {
        return Err(Error::FormatVersion {
            path: path.to_owned(),
            found,
            expected: FORMAT_VERSION,
        });
    }
    Ok(())
}

#[allow(unsafe_code)]
mod mapping {
    //! The one place that maps a file into memory.

    use std::fs::File;

    /// Maps `file` read-only.
    pub(super) fn map(file: &File) -> std::io::Result<memmap2::Mmap> {
        // SAFETY: the snapshot file is private to norikae: it is written under a temporary
        // name and renamed into place, never modified in place, so the mapped bytes do not
        // change while mapped (a new snapshot is a new file; the old inode stays intact).
        // `populate` pre-faults the pages in one go (the whole file is read anyway, by the hash).
        unsafe { memmap2::MmapOptions::new().populate().map(file) }
    }
}

/// Loads the snapshot at `path`: maps it, verifies magic, format version and content hash,
/// decodes the header and views the hot columns in place.
pub fn load(path: &Path) -> Result<Timetable> {
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mapped = mapping::map(&file).map_err(|source| Error::io(path, source))?;
    let bytes: &[u8] = &mapped;
    if bytes.len() < PREAMBLE_LEN {
        return Err(corrupt(path, "shorter than its preamble"));
    }
    check_preamble(path, &bytes[..PREAMBLE_LEN])?;
    let stored_hash = u128::from_le_bytes(slice_array(&bytes[16..32]));
    let header_len = u64::from_le_bytes(slice_array(&bytes[32..40])) as usize;
    let header_end = PREAMBLE_LEN
        .checked_add(header_len)
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| corrupt(path, "header runs past the end"))?;
    // Hash, header and trip chunks are independent: work on them in parallel (a New York
    // snapshot is ~100 MB with 300k trips).
    let (actual_hash, decoded) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| xxhash_rust::xxh3::xxh3_128(&bytes[PREAMBLE_LEN..]));
        let decoded = decode_header_and_trips(path, bytes, header_end, scope);
        let actual_hash = hashing.join().map_err(|_| corrupt(path, "hashing failed"));
        (actual_hash, decoded)
    });
    let actual_hash = actual_hash?;
    if stored_hash != actual_hash {
        return Err(corrupt(
            path,
            format!(
                "content hash mismatch (stored {stored_hash:032x}, computed {actual_hash:032x}): the file is damaged"
            ),
        ));
    }
    let (header, trips, trip_table, trips_end) = decoded?;
    let data_start = trips_end + padding(trips_end);
    let shared: SharedBytes = Arc::new(mapped);
    let column_entries = header.columns;
    fn column<T: bytemuck::Pod>(
        path: &Path,
        shared: &SharedBytes,
        entries: &[ColumnEntry],
        data_start: usize,
        name: &str,
    ) -> Result<Column<T>> {
        let entry = entries
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| corrupt(path, format!("column {name} is missing")))?;
        if entry.value_size as usize != size_of::<T>() {
            return Err(corrupt(
                path,
                format!(
                    "column {name} has values of {} bytes, expected {}",
                    entry.value_size,
                    size_of::<T>()
                ),
            ));
        }
        Column::mapped(shared.clone(), data_start + entry.offset as usize, entry.len as usize)
            .ok_or_else(|| {
                corrupt(path, format!("column {name} lies outside the file or is misaligned"))
            })
    }
    let mut meta = header.meta;
    meta.content_hash = format!("{stored_hash:032x}");
    let tz: chrono_tz::Tz = meta
        .timezone
        .parse()
        .map_err(|_| corrupt(path, format!("unknown time zone {:?}", meta.timezone)))?;
    let mut timetable = Timetable {
        pattern_stops: column(path, &shared, &column_entries, data_start, "pattern_stops")?,
        pattern_stop_rules: column(
            path,
            &shared,
            &column_entries,
            data_start,
            "pattern_stop_rules",
        )?,
        stop_times: column(path, &shared, &column_entries, data_start, "stop_times")?,
        trip_services: column(path, &shared, &column_entries, data_start, "trip_services")?,
        service_days: column(path, &shared, &column_entries, data_start, "service_days")?,
        stop_pattern_offsets: column(
            path,
            &shared,
            &column_entries,
            data_start,
            "stop_pattern_offsets",
        )?,
        patterns_at_stop: column(path, &shared, &column_entries, data_start, "patterns_at_stop")?,
        footpath_offsets: column(path, &shared, &column_entries, data_start, "footpath_offsets")?,
        footpaths: column(path, &shared, &column_entries, data_start, "footpaths")?,
        min_transfer_secs: column(path, &shared, &column_entries, data_start, "min_transfer_secs")?,
        shape_offsets: column(path, &shared, &column_entries, data_start, "shape_offsets")?,
        shape_points: column(path, &shared, &column_entries, data_start, "shape_points")?,
        trip_shape_cuts: column(path, &shared, &column_entries, data_start, "trip_shape_cuts")?,
        shape_cuts: column(path, &shared, &column_entries, data_start, "shape_cuts")?,
        stop_segments: column(path, &shared, &column_entries, data_start, "stop_segments")?,
        meta,
        feeds: header.feeds,
        agencies: header.agencies,
        stops: header.stops,
        stations: header.stations,
        routes: header.routes,
        patterns: header.patterns,
        trips,
        fares: header.fares,
        transfer_rules: header.transfer_rules,
        service_words: header.service_words,
        tz,
        index: IdIndex::default(),
    };
    check_shape(path, &timetable)?;
    timetable.index = IdIndex::build_with_trips(&timetable, trip_table);
    Ok(timetable)
}

/// Decodes the header, then the trip chunks on scoped threads (which also hash the trip ids
/// for the index). Returns the header, the trips, their id table and the end of the chunks.
fn decode_header_and_trips<'scope>(
    path: &'scope Path,
    bytes: &'scope [u8],
    header_end: usize,
    scope: &'scope std::thread::Scope<'scope, '_>,
) -> Result<(Header, Vec<Trip>, IdTable, usize)> {
    let header: Header = postcard::from_bytes(&bytes[PREAMBLE_LEN..header_end])
        .map_err(|error| corrupt(path, format!("cannot decode header: {error}")))?;
    let mut start = header_end;
    let mut workers = Vec::with_capacity(header.trip_chunks.len());
    for length in &header.trip_chunks {
        let end = start
            .checked_add(*length as usize)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| corrupt(path, "trips run past the end"))?;
        let chunk = &bytes[start..end];
        let first_trip = (workers.len() * TRIPS_PER_CHUNK) as u32;
        workers.push(scope.spawn(move || {
            let trips = postcard::from_bytes::<Vec<Trip>>(chunk)?;
            let ids = trips
                .iter()
                .enumerate()
                .map(|(offset, trip)| (first_trip + offset as u32, trip.id.as_str()));
            let hashes = IdTable::entries_of(ids);
            Ok::<_, postcard::Error>((trips, hashes))
        }));
        start = end;
    }
    let mut trips = Vec::new();
    let mut trip_hashes = Vec::new();
    for worker in workers {
        let (chunk, hashes) = worker
            .join()
            .map_err(|_| corrupt(path, "decoding trips failed"))?
            .map_err(|error| corrupt(path, format!("cannot decode trips: {error}")))?;
        if trips.is_empty() {
            trips = chunk;
            trip_hashes = hashes;
        } else {
            trips.extend(chunk);
            trip_hashes.extend(hashes);
        }
    }
    Ok((header, trips, IdTable::from_entries(trip_hashes), start))
}

/// Cross-checks the sizes the accessors rely on, so a snapshot that decodes but does not fit
/// together is an error here rather than a panic in a query.
fn check_shape(path: &Path, timetable: &Timetable) -> Result<()> {
    let stops = timetable.stops.len();
    let checks = [
        (timetable.stop_pattern_offsets.len() == stops + 1, "stop_pattern_offsets"),
        (timetable.footpath_offsets.len() == stops + 1, "footpath_offsets"),
        (timetable.min_transfer_secs.len() == stops, "min_transfer_secs"),
        (timetable.trip_services.len() == timetable.trips.len(), "trip_services"),
        (timetable.trip_shape_cuts.len() == timetable.trips.len(), "trip_shape_cuts"),
        (
            !timetable.shape_offsets.is_empty()
                && timetable
                    .shape_offsets
                    .last()
                    .is_some_and(|last| *last as usize == timetable.shape_points.len()),
            "shape_offsets",
        ),
        (timetable.pattern_stop_rules.len() == timetable.pattern_stops.len(), "pattern_stop_rules"),
        (
            timetable.service_days.len().is_multiple_of(timetable.service_words.max(1) as usize)
                && timetable.service_words as usize * 64 >= timetable.meta.num_days as usize,
            "service_days",
        ),
        (
            timetable
                .stop_pattern_offsets
                .last()
                .is_none_or(|last| *last as usize == timetable.patterns_at_stop.len()),
            "patterns_at_stop",
        ),
        (
            timetable
                .footpath_offsets
                .last()
                .is_none_or(|last| *last as usize == timetable.footpaths.len()),
            "footpaths",
        ),
        (
            timetable.transfer_rules.iter().all(|rule| {
                let party_fits = |party: TransferParty| match party {
                    TransferParty::Route(route) => route.idx() < timetable.routes.len(),
                    TransferParty::Trip(trip) => trip.idx() < timetable.trips.len(),
                    TransferParty::Any => true,
                };
                rule.from_stop.idx() < stops
                    && rule.to_stop.idx() < stops
                    && party_fits(rule.from)
                    && party_fits(rule.to)
            }) && timetable.transfer_rules.is_sorted_by_key(|rule| rule.from_stop),
            "transfer_rules",
        ),
    ];
    if let Some((_, name)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(corrupt(path, format!("{name} does not match the rest of the snapshot")));
    }
    check_indices(timetable).map_err(|reason| corrupt(path, reason))
}

/// Every offset and index a query or an answer follows points inside its array, so a bad
/// value is refused at load with its place named, instead of panicking (or reading another
/// stop's data) in the middle of a request. The hash only catches damage to a written file;
/// this catches a writer that got it wrong. Linear in the snapshot's size.
fn check_indices(timetable: &Timetable) -> std::result::Result<(), String> {
    let stops = timetable.stops.len();
    let routes = timetable.routes.len();
    let patterns = timetable.patterns.len();
    let trips = timetable.trips.len();
    let services = timetable.service_days.len() / timetable.service_words.max(1) as usize;
    let out_of_range = |what: String, value: usize, len: usize| {
        format!("{what} is {value}, out of range (there are {len})")
    };

    check_offsets("stop_pattern_offsets", &timetable.stop_pattern_offsets)?;
    check_offsets("footpath_offsets", &timetable.footpath_offsets)?;
    check_offsets("shape_offsets", &timetable.shape_offsets)?;
    let shapes = timetable.num_shapes();
    if let Some((position, cut)) =
        timetable.shape_cuts.iter().enumerate().find(|(_, cut)| cut.shape.idx() >= shapes)
    {
        return Err(out_of_range(format!("shape_cuts[{position}].shape"), cut.shape.idx(), shapes));
    }
    for (index, pattern) in timetable.patterns.iter().enumerate() {
        let Pattern { route, stops: stop_range, trips: trip_range, stop_times_start } = pattern;
        if stop_range.start > stop_range.end
            || stop_range.end as usize > timetable.pattern_stops.len()
        {
            return Err(format!(
                "pattern {index}: stops {stop_range:?} outside pattern_stops (length {})",
                timetable.pattern_stops.len()
            ));
        }
        if trip_range.start > trip_range.end || trip_range.end as usize > trips {
            return Err(format!("pattern {index}: trips {trip_range:?} outside trips ({trips})"));
        }
        if route.idx() >= routes {
            return Err(out_of_range(format!("pattern {index}: route"), route.idx(), routes));
        }
        let stop_times_end = pattern
            .num_trips()
            .checked_mul(pattern.num_stops())
            .and_then(|count| count.checked_add(*stop_times_start as usize));
        if stop_times_end.is_none_or(|end| end > timetable.stop_times.len()) {
            return Err(format!(
                "pattern {index}: stop times from {stop_times_start} for {} trips of {} stops \
                 run past stop_times (length {})",
                pattern.num_trips(),
                pattern.num_stops(),
                timetable.stop_times.len()
            ));
        }
    }
    if let Some((position, stop)) =
        timetable.pattern_stops.iter().enumerate().find(|(_, stop)| stop.idx() >= stops)
    {
        return Err(out_of_range(format!("pattern_stops[{position}]"), stop.idx(), stops));
    }
    for (position, entry) in timetable.patterns_at_stop.iter().enumerate() {
        let Some(pattern) = timetable.patterns.get(entry.pattern.idx()) else {
            let what = format!("patterns_at_stop[{position}].pattern");
            return Err(out_of_range(what, entry.pattern.idx(), patterns));
        };
        if entry.position as usize >= pattern.num_stops() {
            let what = format!("patterns_at_stop[{position}].position");
            return Err(out_of_range(what, entry.position as usize, pattern.num_stops()));
        }
    }
    if let Some((position, footpath)) =
        timetable.footpaths.iter().enumerate().find(|(_, footpath)| footpath.to.idx() >= stops)
    {
        return Err(out_of_range(format!("footpaths[{position}].to"), footpath.to.idx(), stops));
    }
    for (index, trip) in timetable.trips.iter().enumerate() {
        if trip.pattern.idx() >= patterns {
            return Err(out_of_range(
                format!("trip {index}: pattern"),
                trip.pattern.idx(),
                patterns,
            ));
        }
        if trip.route.idx() >= routes {
            return Err(out_of_range(format!("trip {index}: route"), trip.route.idx(), routes));
        }
        if trip.service.idx() >= services {
            return Err(out_of_range(
                format!("trip {index}: service"),
                trip.service.idx(),
                services,
            ));
        }
        let cut_index = timetable.trip_shape_cuts[index];
        if cut_index != NO_SHAPE_CUT {
            let Some(cut) = timetable.shape_cuts.get(cut_index as usize) else {
                let what = format!("trip {index}: shape cut");
                return Err(out_of_range(what, cut_index as usize, timetable.shape_cuts.len()));
            };
            let num_stops = timetable.patterns[trip.pattern.idx()].num_stops();
            if cut.segments_start as usize + num_stops > timetable.stop_segments.len() {
                return Err(format!(
                    "trip {index}: the segments of its {num_stops} stops from {} run past \
                     stop_segments (length {})",
                    cut.segments_start,
                    timetable.stop_segments.len()
                ));
            }
        }
    }
    if let Some((index, service)) =
        timetable.trip_services.iter().enumerate().find(|(_, service)| service.idx() >= services)
    {
        return Err(out_of_range(format!("trip_services[{index}]"), service.idx(), services));
    }
    for (index, station) in timetable.stations.iter().enumerate() {
        let members = station.stops.iter().chain(&station.other_stops);
        if let Some(stop) = members.into_iter().find(|stop| stop.idx() >= stops) {
            return Err(out_of_range(format!("station {index}: member stop"), stop.idx(), stops));
        }
        if let Some(route) = station.routes.iter().find(|route| route.idx() >= routes) {
            return Err(out_of_range(format!("station {index}: route"), route.idx(), routes));
        }
    }
    for (index, stop) in timetable.stops.iter().enumerate() {
        if let Some(parent) = stop.parent.filter(|parent| parent.idx() >= stops) {
            return Err(out_of_range(format!("stop {index}: parent"), parent.idx(), stops));
        }
    }
    let agencies = timetable.agencies.len();
    if let Some((index, route)) =
        timetable.routes.iter().enumerate().find(|(_, route)| route.agency.idx() >= agencies)
    {
        return Err(out_of_range(format!("route {index}: agency"), route.agency.idx(), agencies));
    }
    Ok(())
}

/// An offsets column slices another array per stop: it starts at 0 and never decreases (its
/// length and last value are checked with the array it slices).
fn check_offsets(name: &str, offsets: &[u32]) -> std::result::Result<(), String> {
    if offsets.first().is_some_and(|first| *first != 0) {
        return Err(format!("{name} does not start at 0"));
    }
    match offsets.windows(2).position(|pair| pair[0] > pair[1]) {
        Some(stop) => Err(format!(
            "{name} decreases at stop {stop} ({} then {})",
            offsets[stop],
            offsets[stop + 1]
        )),
        None => Ok(()),
    }
}
