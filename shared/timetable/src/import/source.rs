//! Reading a feed's files: a zip archive or a folder, each file a CSV table read as real
//! feeds write it (UTF-8 BOM, CRLF, quoted fields, stray spaces, unknown columns).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use zip::ZipArchive;

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
    },
}

impl FeedSource {
    pub(crate) fn open(feed: &str, path: &Path) -> Result<Self> {
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
        Ok(Self::Zip { feed: feed.to_owned(), path: path.to_owned(), archive, entries })
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
            Self::Zip { feed, path, archive, entries } => {
                let Some(&position) = entries.get(file) else { return Ok(None) };
                let entry = archive.by_index(position).map_err(|source| Error::Zip {
                    feed: feed.clone(),
                    path: path.clone(),
                    source,
                })?;
                let size = entry.size();
                let mut table = Table::new(feed, file, Box::new(entry), size)?;
                read(&mut table).map(Some)
            }
        }
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
