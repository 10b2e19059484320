//! [`SearchIndex`]: the in-memory tantivy index of stations plus the station table, the id
//! table and the spatial index. Built once per timetable snapshot and never modified; a new
//! snapshot builds a new one that replaces it (see `state`).
//!
//! One tantivy document per station, with these fields (all values normalised by
//! [`crate::normalize`], so the query side folds the same way):
//! - `exact`: every whole-name key, untokenised: names in every language, the kana reading
//!   in katakana, romaji generated from it (plain and [`loose_romaji`] spellings), with and
//!   without the station suffix (`駅`, `eki`, `sta`, `station`), without separators.
//! - `prefix`: the same keys cut into edge n-grams (every prefix), for as-you-type.
//! - `words`: edge n-grams of each Latin word of the English / Latin names, with the
//!   abbreviation table's other spellings, so `times sq` and `42 st` find `Times Sq-42 St`.
//! - `cjk`: character 1- and 2-grams of the Japanese names, for a query inside a name.
//!
//! A query runs tiers in order (exact, name prefix, word prefix, contains, fuzzy), each as
//! one tantivy query collected top-k by our own sort key (importance, then distance to
//! `near`); later tiers only fill the places the earlier ones left.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use norikae_timetable::{LocalizedText, Timetable};
use norikae_wire::search::{self as wire, MatchKind};
use tantivy::collector::TopDocs;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{NgramTokenizer, TextAnalyzer};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, SegmentReader, TantivyDocument, Term};

use crate::error::SearchError;
use crate::label;
use crate::nearby::{NearbyIndex, haversine_m};
use crate::normalize::{
    STATION_SUFFIX_KANA, STATION_SUFFIX_KANJI, STATION_SUFFIX_WORDS, canonical_word, compact,
    expand_long_marks, fold, fuzzy_distance, is_japanese, is_kana, is_latin, loose_romaji,
    reading_variants, romaji_of_reading, word_expansions, words,
};
use crate::record::StationRecord;

/// Longest key prefix indexed, in characters; longer queries only match exactly or fuzzily.
const MAX_PREFIX_CHARS: usize = 64;
/// Longest word prefix indexed, in characters.
const MAX_WORD_PREFIX_CHARS: usize = 32;
/// Memory budget of the one-off index writer.
const WRITER_MEMORY_BYTES: usize = 128 * 1024 * 1024;
/// The fuzzy tier runs only when the exact, prefix and contains tiers found fewer results
/// than this (building a Levenshtein automaton is the most expensive step of a query).
const FUZZY_ONLY_BELOW: usize = 3;
/// Largest number of results one query may ask for.
pub const MAX_LIMIT: usize = 50;

const EDGE_TOKENIZER: &str = "norikae_edge";
const WORD_EDGE_TOKENIZER: &str = "norikae_word_edge";
const CJK_TOKENIZER: &str = "norikae_cjk";
const RAW_TOKENIZER: &str = "raw";

/// A search query.
#[derive(Clone, Copy, Debug)]
pub struct SearchRequest<'a> {
    pub text: &'a str,
    /// Number of results wanted (capped at [`MAX_LIMIT`]).
    pub limit: usize,
    /// `(lat, lon)` to rank by distance among equally important stations.
    pub near: Option<(f64, f64)>,
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Position of the station in the index's station table.
    pub station: usize,
    pub match_kind: MatchKind,
    pub distance_m: Option<f64>,
}

/// What the ranking needs per station, kept apart so a query's scorer can hold it cheaply.
#[derive(Clone, Copy, Debug)]
struct Rank {
    departures_per_day: u32,
    lat: f64,
    lon: f64,
}

#[derive(Clone, Copy, Debug)]
struct Fields {
    station: Field,
    exact: Field,
    prefix: Field,
    words: Field,
    cjk: Field,
}

/// One indexed station: the record plus what is computed once for the answer.
#[derive(Clone, Debug)]
pub struct IndexedStation {
    pub record: StationRecord,
    /// Hepburn romaji of the reading.
    pub romaji: Option<String>,
    pub label: LocalizedText,
}

/// The station search index; see the module docs.
pub struct SearchIndex {
    stations: Vec<IndexedStation>,
    ranks: Arc<[Rank]>,
    ids: HashMap<String, usize>,
    reader: IndexReader,
    fields: Fields,
    /// Document → station position, per segment.
    doc_stations: Arc<HashMap<SegmentId, Arc<[u32]>>>,
    nearby: NearbyIndex,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SearchIndex")
            .field("stations", &self.stations.len())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Builds the index over every station of a timetable.
    pub fn from_timetable(timetable: &Timetable) -> Result<Self, SearchError> {
        Self::build(StationRecord::all_from_timetable(timetable))
    }

    /// Builds the index over the given stations (their order is their position).
    pub fn build(records: Vec<StationRecord>) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        register_tokenizers(&index)?;
        let mut writer =
            index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY_BYTES)?;
        for (position, record) in records.iter().enumerate() {
            let keys = StationKeys::of(record);
            let mut document = TantivyDocument::default();
            document.add_u64(fields.station, position as u64);
            for key in &keys.whole {
                document.add_text(fields.exact, key);
                document.add_text(fields.prefix, key);
            }
            for word in &keys.words {
                document.add_text(fields.words, word);
            }
            for name in &keys.japanese {
                document.add_text(fields.cjk, name);
            }
            writer.add_document(document)?;
        }
        writer.commit()?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let doc_stations = doc_station_maps(&reader, fields.station)?;

        let labels = label::labels(&records);
        let mut ids = HashMap::with_capacity(records.len() * 3);
        for (position, record) in records.iter().enumerate() {
            for stop_id in &record.stop_ids {
                ids.entry(stop_id.clone()).or_insert(position);
            }
        }
        // A station id wins over a stop id that happens to be spelled the same.
        for (position, record) in records.iter().enumerate() {
            ids.insert(record.id.clone(), position);
        }
        let ranks: Arc<[Rank]> = records
            .iter()
            .map(|record| Rank {
                departures_per_day: record.departures_per_day,
                lat: record.lat,
                lon: record.lon,
            })
            .collect();
        let nearby =
            NearbyIndex::build(records.iter().map(|record| (record.lat, record.lon)).collect());
        let stations = records
            .into_iter()
            .zip(labels)
            .map(|(record, label)| {
                let romaji =
                    record.reading.as_deref().and_then(|reading| romaji_of_reading(&fold(reading)));
                IndexedStation { record, romaji, label }
            })
            .collect();
        Ok(Self {
            stations,
            ranks,
            ids,
            reader,
            fields,
            doc_stations: Arc::new(doc_stations),
            nearby,
        })
    }

    pub fn len(&self) -> usize {
        self.stations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    pub fn station(&self, position: usize) -> Option<&IndexedStation> {
        self.stations.get(position)
    }

    pub fn stations(&self) -> &[IndexedStation] {
        &self.stations
    }

    /// The station with this station id, or the station of the stop with this stop id.
    pub fn resolve(&self, id: &str) -> Result<usize, SearchError> {
        self.ids.get(id).copied().ok_or_else(|| SearchError::UnknownStation(id.to_owned()))
    }

    /// Stations within `radius_m` of a point, nearest first.
    pub fn nearby(&self, lat: f64, lon: f64, radius_m: f64, limit: usize) -> Vec<(usize, f64)> {
        self.nearby.within(lat, lon, radius_m, limit.min(MAX_LIMIT))
    }

    /// Searches stations by name; see the module docs for the tiers.
    pub fn search(&self, request: SearchRequest<'_>) -> Result<Vec<Hit>, SearchError> {
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let parsed = ParsedQuery::parse(request.text)?;
        let searcher = self.reader.searcher();
        let mut hits: Vec<Hit> = Vec::with_capacity(limit);
        for (match_kind, query) in self.tier_queries(&parsed) {
            if hits.len() >= limit {
                break;
            }
            // As the user types, typo tolerance only helps when the name matches have run dry.
            if match_kind == MatchKind::Fuzzy && hits.len() >= FUZZY_ONLY_BELOW {
                break;
            }
            let wanted = limit + hits.len();
            let collector = TopDocs::with_limit(wanted).tweak_score(self.sort_key(request.near));
            let found: Vec<(u64, DocAddress)> = searcher.search(query.as_ref(), &collector)?;
            for (_, address) in found {
                let Some(station) = self.station_of(&searcher, address) else { continue };
                if hits.len() >= limit || hits.iter().any(|hit| hit.station == station) {
                    continue;
                }
                let distance_m = request.near.map(|(lat, lon)| {
                    let rank = self.ranks[station];
                    haversine_m(lat, lon, rank.lat, rank.lon)
                });
                hits.push(Hit { station, match_kind, distance_m });
            }
        }
        Ok(hits)
    }

    fn station_of(&self, searcher: &tantivy::Searcher, address: DocAddress) -> Option<usize> {
        let segment_id = searcher.segment_readers().get(address.segment_ord as usize)?.segment_id();
        let stations = self.doc_stations.get(&segment_id)?;
        let station = *stations.get(address.doc_id as usize)? as usize;
        (station < self.stations.len()).then_some(station)
    }

    /// Sort key of a document: importance, then (with `near`) closeness. With `near`,
    /// importance is compared in half-octave buckets of departures per day, so stations of
    /// about the same importance are ordered by distance.
    fn sort_key(
        &self,
        near: Option<(f64, f64)>,
    ) -> impl Fn(&SegmentReader) -> Box<dyn Fn(tantivy::DocId, tantivy::Score) -> u64>
    + Send
    + Sync
    + 'static {
        let ranks = Arc::clone(&self.ranks);
        let doc_stations = Arc::clone(&self.doc_stations);
        move |segment_reader: &SegmentReader| {
            let ranks = Arc::clone(&ranks);
            let stations: Arc<[u32]> = doc_stations
                .get(&segment_reader.segment_id())
                .cloned()
                .unwrap_or_else(|| Arc::from([]));
            Box::new(move |doc: tantivy::DocId, _score: tantivy::Score| -> u64 {
                let Some(&station) = stations.get(doc as usize) else { return 0 };
                let Some(rank) = ranks.get(station as usize) else { return 0 };
                match near {
                    None => {
                        (u64::from(rank.departures_per_day) << 32) | u64::from(u32::MAX - station)
                    }
                    Some((lat, lon)) => {
                        let bucket = (f64::from(rank.departures_per_day) + 1.0).log2() * 2.0;
                        let distance =
                            haversine_m(lat, lon, rank.lat, rank.lon).min(f64::from(u32::MAX - 1));
                        ((bucket as u64) << 32) | u64::from(u32::MAX - distance as u32)
                    }
                }
            })
        }
    }

    fn tier_queries(&self, parsed: &ParsedQuery) -> Vec<(MatchKind, Box<dyn Query>)> {
        let fields = self.fields;
        let term_query = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
        };
        let any_of = |queries: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                queries.into_iter().map(|query| (Occur::Should, query)).collect(),
            ))
        };
        let all_of = |queries: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                queries.into_iter().map(|query| (Occur::Must, query)).collect(),
            ))
        };
        let mut tiers: Vec<(MatchKind, Box<dyn Query>)> = Vec::with_capacity(5);
        tiers.push((
            MatchKind::Exact,
            any_of(parsed.keys.iter().map(|key| term_query(fields.exact, key)).collect()),
        ));
        let prefix_keys: Vec<Box<dyn Query>> = parsed
            .keys
            .iter()
            .filter(|key| key.chars().count() <= MAX_PREFIX_CHARS)
            .map(|key| term_query(fields.prefix, key))
            .collect();
        if !prefix_keys.is_empty() {
            tiers.push((MatchKind::Prefix, any_of(prefix_keys)));
        }
        if parsed.latin
            && parsed.words.iter().all(|word| word.chars().count() <= MAX_WORD_PREFIX_CHARS)
        {
            let per_word = parsed
                .words
                .iter()
                .map(|word| {
                    let canonical = canonical_word(word);
                    if canonical == word {
                        term_query(fields.words, word)
                    } else {
                        any_of(vec![
                            term_query(fields.words, word),
                            term_query(fields.words, canonical),
                        ])
                    }
                })
                .collect();
            tiers.push((MatchKind::Prefix, all_of(per_word)));
        }
        if parsed.japanese {
            let characters: Vec<char> = parsed.plain.chars().collect();
            let grams: Vec<Box<dyn Query>> = if characters.len() == 1 {
                vec![term_query(fields.cjk, &parsed.plain)]
            } else {
                characters
                    .windows(2)
                    .map(|pair| term_query(fields.cjk, &pair.iter().collect::<String>()))
                    .collect()
            };
            tiers.push((MatchKind::Contains, all_of(grams)));
        }
        if parsed.latin {
            // Both spellings: a typo inside a long vowel (`houtxuji`) is one edit from the plain
            // romaji but two from the loose one.
            let distance = fuzzy_distance(parsed.plain.chars().count());
            if distance > 0 {
                let mut spellings = vec![parsed.plain.clone(), loose_romaji(&parsed.plain)];
                spellings.dedup();
                let fuzzy = spellings
                    .iter()
                    .map(|spelling| -> Box<dyn Query> {
                        let term = Term::from_field_text(fields.exact, spelling);
                        Box::new(FuzzyTermQuery::new_prefix(term, distance, true))
                    })
                    .collect();
                tiers.push((MatchKind::Fuzzy, any_of(fuzzy)));
            }
        }
        tiers
    }

    /// The wire form of a station in `lang`.
    pub fn to_wire(
        &self,
        position: usize,
        lang: &str,
        match_kind: Option<MatchKind>,
        distance_m: Option<f64>,
    ) -> Option<wire::Station> {
        let station = self.stations.get(position)?;
        let record = &station.record;
        Some(wire::Station {
            id: record.id.clone(),
            name: record.name.get(lang).to_owned(),
            reading: record.reading.clone(),
            romaji: station.romaji.clone(),
            label: station.label.get(lang).to_owned(),
            lat: record.lat,
            lon: record.lon,
            lines: record.lines.iter().map(|line| line.get(lang).to_owned()).collect(),
            agencies: record.agencies.iter().map(|agency| agency.get(lang).to_owned()).collect(),
            distance_m: distance_m.map(|distance| distance.round()),
            match_kind,
        })
    }
}

/// The normalised forms of a query.
#[derive(Debug)]
struct ParsedQuery {
    /// Folded, without separators.
    plain: String,
    /// Folded words.
    words: Vec<String>,
    /// Whole keys to look up (plain, abbreviation-canonical, loose romaji), distinct.
    keys: Vec<String>,
    latin: bool,
    japanese: bool,
}

impl ParsedQuery {
    fn parse(text: &str) -> Result<Self, SearchError> {
        let folded = fold(text);
        let query_words: Vec<String> = words(&folded).into_iter().map(str::to_owned).collect();
        if query_words.is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let plain = query_words.concat();
        let latin = is_latin(&plain);
        let japanese = plain.chars().any(is_japanese);
        let mut keys = vec![plain.clone()];
        if is_kana(&plain) {
            // `ー` and a written-out vowel agree in kana and in romaji.
            if let Some(romaji) = romaji_of_reading(&plain) {
                for key in [expand_long_marks(&plain), loose_romaji(&romaji), romaji] {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        if latin {
            let canonical: String = query_words.iter().map(|word| canonical_word(word)).collect();
            for key in [canonical.clone(), loose_romaji(&plain), loose_romaji(&canonical)] {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        Ok(Self { plain, words: query_words, keys, latin, japanese })
    }
}

/// Everything indexed for one station.
#[derive(Debug, Default)]
struct StationKeys {
    whole: BTreeSet<String>,
    words: BTreeSet<String>,
    japanese: BTreeSet<String>,
}

impl StationKeys {
    fn of(record: &StationRecord) -> Self {
        let mut keys = Self::default();
        let folded_default = compact(&fold(&record.name.default));
        let latin_has_suffix = record
            .name
            .translations
            .iter()
            .map(|(_, text)| text)
            .chain([&record.name.default])
            .any(|text| {
                let folded = fold(text);
                let text_words = words(&folded);
                text_words.len() > 1
                    && text_words
                        .last()
                        .is_some_and(|last| STATION_SUFFIX_WORDS.contains(&canonical_word(last)))
            });
        let is_station =
            record.rail || folded_default.ends_with(STATION_SUFFIX_KANJI) || latin_has_suffix;

        let names = std::iter::once(record.name.default.as_str())
            .chain(record.name.translations.iter().map(|(_, text)| text.as_str()));
        for name in names {
            let folded = fold(name);
            let name_words = words(&folded);
            let plain = name_words.concat();
            if plain.is_empty() {
                continue;
            }
            if is_latin(&plain) {
                keys.add_latin_name(&name_words, is_station);
            } else {
                keys.add_japanese_name(&plain, is_station);
            }
        }
        if let Some(reading) = &record.reading {
            let folded_reading = compact(&fold(reading));
            for variant in reading_variants(&folded_default, &folded_reading) {
                keys.add_reading(&variant, is_station);
                let expanded = expand_long_marks(&variant);
                if expanded != variant {
                    keys.add_reading(&expanded, is_station);
                }
            }
        }
        keys
    }

    fn add_latin_key(&mut self, key: String) {
        if key.is_empty() {
            return;
        }
        let loose = loose_romaji(&key);
        self.whole.insert(loose);
        self.whole.insert(key);
    }

    fn add_latin_with_suffixes(&mut self, base: &str, is_station: bool) {
        self.add_latin_key(base.to_owned());
        if is_station {
            for suffix in ["eki", "sta", "station"] {
                self.add_latin_key(format!("{base}{suffix}"));
            }
        }
    }

    fn add_latin_name(&mut self, name_words: &[&str], is_station: bool) {
        let canonical: Vec<&str> = name_words.iter().map(|word| canonical_word(word)).collect();
        let has_suffix = canonical.len() > 1
            && canonical.last().is_some_and(|last| STATION_SUFFIX_WORDS.contains(last));
        let base_words =
            if has_suffix { &canonical[..canonical.len() - 1] } else { &canonical[..] };
        self.add_latin_with_suffixes(&base_words.concat(), is_station);
        self.add_latin_key(name_words.concat());
        for word in &canonical {
            self.words.insert((*word).to_owned());
            for expansion in word_expansions(word) {
                self.words.insert((*expansion).to_owned());
            }
        }
        if is_station {
            for suffix in ["eki", "sta", "station"] {
                self.words.insert(suffix.to_owned());
            }
        }
    }

    fn add_japanese_name(&mut self, plain: &str, is_station: bool) {
        self.whole.insert(plain.to_owned());
        self.japanese.insert(plain.to_owned());
        let base = plain
            .strip_suffix(STATION_SUFFIX_KANJI)
            .filter(|base| !base.is_empty())
            .unwrap_or(plain);
        if is_station {
            self.whole.insert(base.to_owned());
            self.whole.insert(format!("{base}{STATION_SUFFIX_KANJI}"));
        }
    }

    fn add_reading(&mut self, reading: &str, is_station: bool) {
        if reading.is_empty() {
            return;
        }
        self.whole.insert(reading.to_owned());
        let base = if is_station {
            reading
                .strip_suffix(STATION_SUFFIX_KANA)
                .filter(|base| !base.is_empty())
                .unwrap_or(reading)
        } else {
            reading
        };
        if is_station {
            self.whole.insert(base.to_owned());
            self.whole.insert(format!("{base}{STATION_SUFFIX_KANA}"));
        }
        if let Some(romaji) = romaji_of_reading(base) {
            self.add_latin_with_suffixes(&romaji, is_station);
        }
        if let Some(romaji) = romaji_of_reading(reading) {
            self.add_latin_key(romaji);
        }
    }
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text_field = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
    };
    let station = builder.add_u64_field("station", NumericOptions::default().set_fast());
    let exact = builder.add_text_field("exact", text_field(RAW_TOKENIZER));
    let prefix = builder.add_text_field("prefix", text_field(EDGE_TOKENIZER));
    let words = builder.add_text_field("words", text_field(WORD_EDGE_TOKENIZER));
    let cjk = builder.add_text_field("cjk", text_field(CJK_TOKENIZER));
    (builder.build(), Fields { station, exact, prefix, words, cjk })
}

fn register_tokenizers(index: &Index) -> Result<(), SearchError> {
    let settings = |error: tantivy::TantivyError| SearchError::Settings(error.to_string());
    let edge = NgramTokenizer::prefix_only(1, MAX_PREFIX_CHARS).map_err(settings)?;
    let word_edge = NgramTokenizer::prefix_only(1, MAX_WORD_PREFIX_CHARS).map_err(settings)?;
    let cjk = NgramTokenizer::all_ngrams(1, 2).map_err(settings)?;
    let tokenizers = index.tokenizers();
    tokenizers.register(EDGE_TOKENIZER, TextAnalyzer::from(edge));
    tokenizers.register(WORD_EDGE_TOKENIZER, TextAnalyzer::from(word_edge));
    tokenizers.register(CJK_TOKENIZER, TextAnalyzer::from(cjk));
    Ok(())
}

fn doc_station_maps(
    reader: &IndexReader,
    station: Field,
) -> Result<HashMap<SegmentId, Arc<[u32]>>, SearchError> {
    let searcher = reader.searcher();
    let field_name = searcher.schema().get_field_name(station).to_owned();
    let mut maps = HashMap::new();
    for segment_reader in searcher.segment_readers() {
        let column = segment_reader.fast_fields().u64(&field_name)?;
        let stations: Arc<[u32]> = (0..segment_reader.max_doc())
            .map(|doc| {
                column.first(doc).and_then(|value| u32::try_from(value).ok()).unwrap_or(u32::MAX)
            })
            .collect();
        maps.insert(segment_reader.segment_id(), stations);
    }
    Ok(maps)
}
