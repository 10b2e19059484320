//! The station list the load scenarios draw from: every station of a timetable with its
//! names as people type them (kanji, kana reading, romaji, English) and the service dates of
//! its feed. Written by `norikae-load-stations`, read by the load test and the drills.
//!
//! Format (tab-separated, `#` starts a comment line):
//! ```text
//! feed     <name> <first YYYY-MM-DD> <last YYYY-MM-DD>
//! station  <id> <feed> <departures per day> <name> <reading> <romaji> <english>
//! ```
//! Empty fields are written as `-`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail, ensure};
use chrono::NaiveDate;
use norikae_timetable::Timetable;
use wana_kana::ConvertJapanese;

/// Service dates of one feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedDates {
    pub name: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// One station and the ways a user types its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationEntry {
    pub id: String,
    /// Index into [`StationList::feeds`].
    pub feed: usize,
    pub departures_per_day: u32,
    pub name: String,
    /// Hiragana reading.
    pub reading: Option<String>,
    /// Hepburn romaji of the reading, lower case.
    pub romaji: Option<String>,
    pub english: Option<String>,
}

impl StationEntry {
    /// The spellings a user may type: the name, and the reading, romaji and English name
    /// where known.
    pub fn spellings(&self) -> Vec<&str> {
        let mut spellings = vec![self.name.as_str()];
        spellings.extend(self.reading.as_deref());
        spellings.extend(self.romaji.as_deref());
        spellings.extend(self.english.as_deref());
        spellings
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StationList {
    pub feeds: Vec<FeedDates>,
    pub stations: Vec<StationEntry>,
}

/// The list saved beside this crate.
pub fn default_path() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/stations.tsv"))
}

const HEADER: &str = "\
# Stations for Norikae's load tests and drills (loadtests/load). Generated from the bundled
# feeds, do not edit; regenerate with
#   cargo run -p norikae-load --bin norikae-load-stations -- --out loadtests/load/stations.tsv
# feed <TAB> name <TAB> first date <TAB> last date
# station <TAB> id <TAB> feed <TAB> departures per day <TAB> name <TAB> reading <TAB> romaji <TAB> english
";

impl StationList {
    /// Every station of `timetable`; readings are turned into hiragana and romaji.
    pub fn from_timetable(timetable: &Timetable) -> anyhow::Result<Self> {
        let feeds: Vec<FeedDates> = timetable
            .feeds
            .iter()
            .map(|feed| FeedDates {
                name: feed.name.clone(),
                first: feed.first_date,
                last: feed.last_date,
            })
            .collect();
        let mut stations = Vec::with_capacity(timetable.stations.len());
        for station in &timetable.stations {
            let feed_name = station.id.split_once(':').map_or("", |(feed, _)| feed);
            let feed = feeds
                .iter()
                .position(|feed| feed.name == feed_name)
                .with_context(|| format!("station {} names no known feed", station.id))?;
            let reading = station
                .reading
                .as_deref()
                .map(str::trim)
                .filter(|reading| !reading.is_empty())
                .map(|reading| reading.to_hiragana());
            let romaji = reading
                .as_deref()
                .map(|reading| reading.to_romaji().to_lowercase().replace(['\'', ' ', '-'], ""))
                .filter(|romaji| !romaji.is_empty() && romaji.is_ascii());
            let english = station
                .name
                .translation("en")
                .map(str::trim)
                .filter(|english| !english.is_empty() && *english != station.name.default)
                .map(str::to_owned);
            stations.push(StationEntry {
                id: station.id.clone(),
                feed,
                departures_per_day: station.departures_per_day,
                name: clean(&station.name.default),
                reading: reading.map(|reading| clean(&reading)),
                romaji,
                english: english.map(|english| clean(&english)),
            });
        }
        Ok(Self { feeds, stations })
    }

    pub fn to_tsv(&self) -> String {
        let mut out = String::from(HEADER);
        for feed in &self.feeds {
            let _ = writeln!(out, "feed\t{}\t{}\t{}", feed.name, feed.first, feed.last);
        }
        for station in &self.stations {
            let field = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
            let _ = writeln!(
                out,
                "station\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                station.id,
                self.feeds[station.feed].name,
                station.departures_per_day,
                station.name,
                field(&station.reading),
                field(&station.romaji),
                field(&station.english),
            );
        }
        out
    }

    /// Parses the format in the module docs; an error names the line.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut list = Self::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            // `split` yields at least one field.
            let parsed = match fields[0] {
                "feed" => list.parse_feed(&fields),
                "station" => list.parse_station(&fields),
                other => Err(anyhow::anyhow!("unknown record type {other:?}")),
            };
            parsed.with_context(|| format!("station list line {line_number}"))?;
        }
        ensure!(!list.stations.is_empty(), "the station list has no stations");
        Ok(list)
    }

    fn parse_feed(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        let [_, name, first, last] = fields else {
            bail!("a feed line has 4 fields, this one {}", fields.len());
        };
        let date = |text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .with_context(|| format!("bad date {text:?} (expected YYYY-MM-DD)"))
        };
        let (first, last) = (date(first)?, date(last)?);
        ensure!(first <= last, "feed {name}: first date {first} is after last date {last}");
        self.feeds.push(FeedDates { name: (*name).to_owned(), first, last });
        Ok(())
    }

    fn parse_station(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        let [_, id, feed, departures, name, reading, romaji, english] = fields else {
            bail!("a station line has 8 fields, this one {}", fields.len());
        };
        let feed =
            self.feeds.iter().position(|known| known.name == *feed).with_context(|| {
                format!("station {id}: feed {feed:?} has no feed line above it")
            })?;
        let departures_per_day = departures
            .parse()
            .with_context(|| format!("station {id}: bad departures per day {departures:?}"))?;
        ensure!(!name.is_empty() && *name != "-", "station {id} has no name");
        let optional = |value: &str| (value != "-" && !value.is_empty()).then(|| value.to_owned());
        self.stations.push(StationEntry {
            id: (*id).to_owned(),
            feed,
            departures_per_day,
            name: (*name).to_owned(),
            reading: optional(reading),
            romaji: optional(romaji),
            english: optional(english),
        });
        Ok(())
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the station list {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }
}

/// Tabs and line breaks would break the format.
fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\n\
        feed\tfukuoka\t2019-03-16\t2020-03-31\n\
        station\tfukuoka:8\tfukuoka\t540\t天神\tてんじん\ttenjin\tTenjin\n\
        station\tfukuoka:1\tfukuoka\t300\t姪浜\t-\t-\t-\n";

    #[test]
    fn parses_and_writes_the_same_list() {
        let list = StationList::parse(SAMPLE).unwrap();
        assert_eq!(list.feeds.len(), 1);
        assert_eq!(list.stations[0].spellings(), ["天神", "てんじん", "tenjin", "Tenjin"]);
        assert_eq!(list.stations[1].spellings(), ["姪浜"]);
        assert_eq!(StationList::parse(&list.to_tsv()).unwrap(), list);
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let bad_date = SAMPLE.replace("2019-03-16", "2019-13-16");
        let message = format!("{:#}", StationList::parse(&bad_date).unwrap_err());
        assert!(message.contains("line 2") && message.contains("2019-13-16"), "{message}");
        let unknown_feed = SAMPLE.replace("\tfukuoka\t540", "\tokaden\t540");
        let message = format!("{:#}", StationList::parse(&unknown_feed).unwrap_err());
        assert!(message.contains("line 3") && message.contains("okaden"), "{message}");
        let short = "feed\tx\t2020-01-01\n";
        let message = format!("{:#}", StationList::parse(short).unwrap_err());
        assert!(message.contains("4 fields"), "{message}");
    }

    #[test]
    fn the_saved_list_parses_and_covers_both_regions() {
        let list = StationList::read(default_path()).unwrap();
        let names: Vec<&str> = list.feeds.iter().map(|feed| feed.name.as_str()).collect();
        assert_eq!(names, ["ryobi", "okaden", "chutetsu", "fukuoka"]);
        let okayama = list.stations.iter().find(|station| station.id == "okaden:18_10").unwrap();
        assert_eq!(okayama.name, "岡山駅");
        assert!(list.stations.iter().any(|station| station.romaji.as_deref() == Some("tenjin")));
    }
}
