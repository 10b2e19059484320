//! Reading a feed's files: a zip archive or a folder, each file a CSV table read as real
//! feeds write it (UTF-8 BOM, CRLF, quoted fields, stray spaces, unknown columns).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use zip::ZipArchive;

use super::ImportLimits;
use crate::error::{Error, Result};

/// Where a feed's files come from.
pub(crate) enum FeedSource {
    Folder {
        feed: String,
        path: PathBuf,
    },
    Zip {
        feed: String,
        path: PathBuf,
        archive: ZipArchive<BufReader<File>>,
        entries: FxHashMap<String, usize>,
        limits: ImportLimits,
        /// Uncompressed bytes of the entries read so far, as they declare them.
        inflated: u64,
    },
}

impl FeedSource {
    pub(crate) fn open(feed: &str, path: &Path, limits: &ImportLimits) -> Result<Self> {
        let metadata = std::fs::metadata(path)
            .map_err(|_| Error::FeedNotFound { feed: feed.to_owned(), path: path.to_owned() })?;
        if metadata.is_dir() {
            return Ok(Self::Folder { feed: feed.to_owned(), path: path.to_owned() });
        }
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        let archive = ZipArchive::new(BufReader::new(file)).map_err(|source| Error::Zip {
            feed: feed.to_owned(),
            path: path.to_owned(),
            source,
        })?;
        // Some publishers zip a folder: find each file by its base name, shallowest first.
        let mut entries: FxHashMap<String, (usize, usize)> = FxHashMap::default();
        for position in 0..archive.len() {
            let Some(Ok(name)) = archive.name_for_index(position) else { continue };
            let name: &str = &name;
            if name.ends_with('/') || name.contains("__MACOSX") {
                continue;
            }
            let depth = name.matches('/').count();
            let base = name.rsplit('/').next().unwrap_or(name).to_owned();
            let keep = entries.get(&base).is_none_or(|(_, old_depth)| depth < *old_depth);
            if keep {
                entries.insert(base, (position, depth));
            }
        }
        let entries = entries.into_iter().map(|(name, (position, _))| (name, position)).collect();
        Ok(Self::Zip {
            feed: feed.to_owned(),
            path: path.to_owned(),
            archive,
            entries,
            limits: *limits,
            inflated: 0,
        })
    }

    pub(crate) fn has(&self, file: &str) -> bool {
        match self {
            Self::Folder { path, .. } => path.join(file).is_file(),
            Self::Zip { entries, .. } => entries.contains_key(file),
        }
    }

    /// Reads `file` as a CSV table with `read`; `None` when the feed has no such file.
    pub(crate) fn read<R>(
        &mut self,
        file: &'static str,
        read: impl FnOnce(&mut Table<'_>) -> Result<R>,
    ) -> Result<Option<R>> {
        match self {
            Self::Folder { feed, path } => {
                let file_path = path.join(file);
                if !file_path.is_file() {
                    return Ok(None);
                }
                let handle =
                    File::open(&file_path).map_err(|source| Error::io(&file_path, source))?;
                let size = handle.metadata().map(|metadata| metadata.len()).unwrap_or(0);
                let mut table = Table::new(feed, file, Box::new(handle), size)?;
                read(&mut table).map(Some)
            }
            Self::Zip { feed, path, archive, entries, limits, inflated } => {
                let Some(&position) = entries.get(file) else { return Ok(None) };
                let entry = archive.by_index(position).map_err(|source| Error::Zip {
                    feed: feed.clone(),
                    path: path.clone(),
                    source,
                })?;
                let size = entry.size();
                let refuse = |reason: String| Error::ZipLimit {
                    feed: feed.clone(),
                    path: path.clone(),
                    file,
                    reason,
                };
                // Checked before inflating anything, from what the entry declares ...
                let ratio = size / entry.compressed_size().max(1);
                if size > ImportLimits::RATIO_CHECKED_ABOVE_BYTES
                    && ratio > limits.max_compression_ratio
                {
                    return Err(refuse(format!(
                        "inflates {ratio} times ({size} bytes), over the limit of {} times \
                         (max_compression_ratio)",
                        limits.max_compression_ratio
                    )));
                }
                *inflated = inflated.saturating_add(size);
                if *inflated > limits.max_uncompressed_bytes {
                    return Err(refuse(format!(
                        "brings the feed's files to {} bytes uncompressed, over the limit of {} \
                         bytes (max_uncompressed_bytes)",
                        *inflated, limits.max_uncompressed_bytes
                    )));
                }
                // ... and held while reading: an entry that lies about its size stops there.
                let bounded = DeclaredSize { inner: entry, remaining: size, file };
                let mut table = Table::new(feed, file, Box::new(bounded), size)?;
                read(&mut table).map(Some)
            }
        }
    }
}

/// A zip entry's reader that fails once the entry inflates past the size it declares, so the
/// declared sizes the limits were checked against hold.
struct DeclaredSize<R> {
    inner: R,
    remaining: u64,
    file: &'static str,
}

impl<R: Read> Read for DeclaredSize<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.remaining = self.remaining.checked_sub(read as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} inflates past the size its zip entry declares", self.file),
            )
        })?;
        Ok(read)
    }
}

/// One CSV file of a feed, with its columns looked up by header name.
pub(crate) struct Table<'a> {
    reader: csv::Reader<Box<dyn Read + 'a>>,
    pub(crate) feed: &'a str,
    pub(crate) file: &'static str,
    headers: Vec<String>,
    /// Uncompressed size in bytes (for progress).
    pub(crate) size: u64,
}

impl<'a> Table<'a> {
    fn new(
        feed: &'a str,
        file: &'static str,
        input: Box<dyn Read + 'a>,
        size: u64,
    ) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|source| Error::Csv { feed: feed.to_owned(), file, line: 1, source })?
            .iter()
            .map(|name| {
                name.trim_start_matches('\u{feff}')
                    .trim()
                    .trim_matches('"')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        Ok(Self { reader, feed, file, headers, size })
    }

    /// The position of an optional column.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|header| header == name)
    }

    /// The position of a required column; its absence is fatal.
    pub(crate) fn required(&self, name: &'static str) -> Result<usize> {
        self.column(name).ok_or_else(|| Error::MissingColumn {
            feed: self.feed.to_owned(),
            file: self.file,
            column: name,
        })
    }

    /// Reads the next row into `record`; `false` at the end of the file.
    pub(crate) fn next(&mut self, record: &mut csv::StringRecord) -> Result<bool> {
        loop {
            let more = self.reader.read_record(record).map_err(|source| {
                let line = source.position().map_or(0, csv::Position::line);
                Error::Csv { feed: self.feed.to_owned(), file: self.file, line, source }
            })?;
            // Skip blank lines (a lone empty field), which some exports end with.
            if more && record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
                continue;
            }
            return Ok(more);
        }
    }

    /// Line of the last row read (1 is the header).
    pub(crate) fn line(record: &csv::StringRecord) -> u64 {
        record.position().map_or(0, csv::Position::line)
    }

    /// Bytes read so far (for progress).
    pub(crate) fn bytes_read(record: &csv::StringRecord) -> u64 {
        record.position().map_or(0, csv::Position::byte)
    }

    /// A field error at the last row, for fatal errors and warning examples.
    pub(crate) fn at(
        &self,
        record: &csv::StringRecord,
        field: &str,
        message: impl std::fmt::Display,
    ) -> String {
        format!("{}/{}:{}: {field}: {message}", self.feed, self.file, Self::line(record))
    }
}

/// The field at `column`, or "" when the column or the field is absent.
#[inline]
pub(crate) fn get(record: &csv::StringRecord, column: Option<usize>) -> &str {
    column.and_then(|column| record.get(column)).unwrap_or("")
}

/// The field at `column`, `None` when empty.
#[inline]
pub(crate) fn get_opt(record: &csv::StringRecord, column: Option<usize>) -> Option<&str> {
    let value = get(record, column);
    (!value.is_empty()).then_some(value)
}
