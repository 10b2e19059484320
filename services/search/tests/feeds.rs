//! Station search on the real bundled feeds (Okayama's three bus operators and the Fukuoka
//! City Subway), imported by the real importer: kanji, hiragana, katakana, romaji with and
//! without long vowels and spaces, English, full-width and half-width input, one-letter
//! typos, every prefix typed one keystroke at a time, nearby, labels and ids.

use std::sync::OnceLock;

use norikae_search::{SearchIndex, SearchRequest};
use norikae_timetable::{Timetable, bundled};
use norikae_wire::search::MatchKind;

struct Bundled {
    timetable: Timetable,
    index: SearchIndex,
}

fn bundled_index() -> &'static Bundled {
    static BUNDLED: OnceLock<Bundled> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        let timetable =
            bundled::import_feeds(&bundled::repo_feeds_dir()).expect("bundled feeds import");
        let index = SearchIndex::from_timetable(&timetable).expect("index builds");
        Bundled { timetable, index }
    })
}

fn search(text: &str, limit: usize) -> Vec<(usize, MatchKind)> {
    let index = &bundled_index().index;
    index
        .search(SearchRequest { text, limit, near: None })
        .unwrap_or_else(|error| panic!("search {text:?}: {error}"))
        .iter()
        .map(|hit| (hit.station, hit.match_kind))
        .collect()
}

fn name_of(station: usize) -> &'static str {
    &bundled_index().index.station(station).expect("station").record.name.default
}

/// The first result's default name and match kind.
fn first(text: &str) -> (&'static str, MatchKind) {
    let found = search(text, 10);
    let (station, kind) = *found.first().unwrap_or_else(|| panic!("no result for {text:?}"));
    (name_of(station), kind)
}

#[test]
fn okayama_station_in_every_script_and_spelling() {
    for query in [
        "岡山駅",
        "岡山",
        "おかやまえき",
        "オカヤマエキ",
        "おかやま",
        "ｵｶﾔﾏｴｷ",
        "okayama",
        "okayamaeki",
        "okayama eki",
        "Okayama Sta.",
        "Okayama Station",
        "OKAYAMA",
        "ｏｋａｙａｍａ",
        "岡山駅",
    ] {
        assert_eq!(first(query), ("岡山駅", MatchKind::Exact), "{query}");
    }
    assert_eq!(first("岡山駅前").0, "岡山駅前");
    assert_eq!(first("okayama ekimae").0, "岡山駅前");
}

#[test]
fn fukuoka_subway_names_with_long_vowels() {
    for (queries, expected) in [
        (
            &[
                "福岡空港",
                "ふくおかくうこう",
                "フクオカクウコウ",
                "fukuokakuukou",
                "fukuoka kuko",
                "fukuokakūkō",
                "Fukuoka Airport",
            ][..],
            "福岡空港",
        ),
        (
            &[
                "薬院大通",
                "やくいんおおどおり",
                "yakuin odori",
                "yakuinoodoori",
                "yakuin-ōdōri",
                "Yakuin-odori",
            ][..],
            "薬院大通",
        ),
        (&["唐人町", "tojinmachi", "toujinmachi", "tōjinmachi", "とうじんまち"][..], "唐人町"),
        (&["大濠公園", "ohorikoen", "oohorikouen", "おおほりこうえん"][..], "大濠公園"),
        (
            &[
                "天神",
                "tenjin",
                "てんじん",
                "テンジン",
                "ﾃﾝｼﾞﾝ",
                "ＴＥＮＪＩＮ",
                "Tenjin Station",
                "天神駅",
                "tenjin eki",
            ][..],
            "天神",
        ),
        (
            &["天神南", "tenjinminami", "tenjin minami", "Tenjin-minami", "てんじんみなみ"][..],
            "天神南",
        ),
    ] {
        for query in queries {
            assert_eq!(first(query).0, expected, "{query}");
        }
    }
    assert_eq!(first("Fukuoka Airport").1, MatchKind::Prefix);
    assert_eq!(first("yakuinoodoori").1, MatchKind::Exact);
}

#[test]
fn one_letter_typos_find_the_station() {
    for (query, expected) in [
        ("tenjib", "天神"),
        ("hakatq", "博多"),
        ("fukuokakukp", "福岡空港"),
        ("nakasukawabsta", "中洲川端"),
        ("meinohma", "姪浜"),
    ] {
        let found: Vec<&str> =
            search(query, 10).into_iter().map(|(station, _)| name_of(station)).collect();
        assert!(found.contains(&expected), "{query} → {found:?}");
    }
    let (name, kind) = first("okayamq");
    assert!(name.starts_with("岡山"), "okayamq → {name}");
    assert_eq!(kind, MatchKind::Fuzzy);
}

/// Whether `target` is in `found`, or was crowded out by at least `limit` results that rank
/// before it by the documented order (better match, or same match and at least as important).
fn present_or_crowded_out(
    found: &[(usize, MatchKind)],
    target: usize,
    target_kind: MatchKind,
    limit: usize,
) -> bool {
    if found.iter().any(|(station, _)| *station == target) {
        return true;
    }
    let index = &bundled_index().index;
    let importance = |station: usize| {
        index.station(station).map_or(0, |indexed| indexed.record.departures_per_day)
    };
    found.len() == limit
        && found.iter().all(|&(station, kind)| {
            kind < target_kind || (kind == target_kind && importance(station) >= importance(target))
        })
}

#[test]
fn every_prefix_typed_one_keystroke_at_a_time() {
    let bundled = bundled_index();
    let limit = 10;
    let mut checked = 0usize;
    // Every third station keeps the test quick; the benchmark types every prefix of all.
    for (position, indexed) in bundled.index.stations().iter().enumerate().step_by(3) {
        let record = &indexed.record;
        let mut spellings: Vec<String> = vec![record.name.default.clone()];
        if let Some(english) = record.name.translation("en") {
            spellings.push(english.to_owned());
        }
        if let Some(reading) = &record.reading {
            spellings.push(wana_kana::ConvertJapanese::to_hiragana(reading.as_str()));
        }
        if let Some(romaji) = &indexed.romaji {
            spellings.push(romaji.clone());
        }
        for spelling in spellings {
            let characters: Vec<char> = spelling.chars().collect();
            for end in 1..=characters.len() {
                let prefix: String = characters[..end].iter().collect();
                if !prefix.chars().any(char::is_alphanumeric) {
                    continue;
                }
                let found = search(&prefix, limit);
                assert!(
                    present_or_crowded_out(&found, position, MatchKind::Prefix, limit),
                    "{:?} typed as {prefix:?}: {:?}",
                    record.name.default,
                    found
                        .iter()
                        .map(|(station, kind)| (name_of(*station), *kind))
                        .collect::<Vec<_>>()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "only {checked} prefixes checked");
}

#[test]
fn full_names_with_one_letter_replaced_are_found_or_crowded_out() {
    let bundled = bundled_index();
    let limit = 20;
    let mut checked = 0usize;
    for (position, indexed) in bundled.index.stations().iter().enumerate().step_by(3) {
        let Some(romaji) = &indexed.romaji else { continue };
        if romaji.len() < 6 {
            continue;
        }
        let mut letters: Vec<u8> = romaji.bytes().collect();
        let middle = letters.len() / 2;
        letters[middle] = if letters[middle] == b'x' { b'q' } else { b'x' };
        let typo = String::from_utf8(letters).expect("ascii");
        let found = search(&typo, limit);
        assert!(
            present_or_crowded_out(&found, position, MatchKind::Fuzzy, limit),
            "{typo:?} for {romaji:?}"
        );
        checked += 1;
    }
    assert!(checked > 300, "only {checked} typos checked");
}

#[test]
fn importance_ranks_prefix_matches() {
    let found = search("岡山", 10);
    let index = &bundled_index().index;
    let departures: Vec<u32> = found
        .iter()
        .skip(1)
        .map(|(station, _)| index.station(*station).expect("station").record.departures_per_day)
        .collect();
    assert!(departures.windows(2).all(|pair| pair[0] >= pair[1]), "{departures:?}");
    assert_eq!(name_of(found[0].0), "岡山駅");
}

#[test]
fn same_named_stations_have_distinct_labels() {
    let index = &bundled_index().index;
    let mut by_name: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for indexed in index.stations() {
        by_name
            .entry(indexed.record.name.default.as_str())
            .or_default()
            .push(indexed.label.default.as_str());
    }
    let mut groups = 0;
    for (name, labels) in by_name.iter().filter(|(_, labels)| labels.len() > 1) {
        let distinct: std::collections::HashSet<&&str> = labels.iter().collect();
        assert_eq!(distinct.len(), labels.len(), "{name}: {labels:?}");
        groups += 1;
    }
    println!("{groups} groups of same-named stations, all with distinct labels");
    let tenjin = index.station(search("天神", 1)[0].0).expect("station");
    assert!(tenjin.label.default.contains("空港線"), "{:?}", tenjin.label);
}

#[test]
fn nearby_finds_stations_around_okayama_station_nearest_first() {
    let index = &bundled_index().index;
    let okayama = index.station(search("岡山駅", 1)[0].0).expect("station");
    let found = index.nearby(okayama.record.lat, okayama.record.lon, 400.0, 20);
    assert!(found.len() >= 3, "{found:?}");
    assert_eq!(name_of(found[0].0), "岡山駅");
    assert!(found.windows(2).all(|pair| pair[0].1 <= pair[1].1));
    assert!(found.iter().all(|(_, distance)| *distance <= 400.0));
    // Cross-check against a scan of every station.
    let mut scanned: Vec<usize> = index
        .stations()
        .iter()
        .enumerate()
        .filter(|(_, station)| {
            norikae_search::nearby::haversine_m(
                okayama.record.lat,
                okayama.record.lon,
                station.record.lat,
                station.record.lon,
            ) <= 400.0
        })
        .map(|(position, _)| position)
        .collect();
    scanned.sort_unstable();
    let mut from_tree: Vec<usize> = index
        .nearby(okayama.record.lat, okayama.record.lon, 400.0, 50)
        .into_iter()
        .map(|(station, _)| station)
        .collect();
    from_tree.sort_unstable();
    assert_eq!(from_tree, scanned);
}

#[test]
fn station_and_stop_ids_resolve_to_the_station() {
    let bundled = bundled_index();
    let index = &bundled.index;
    for (position, station) in bundled.timetable.stations.iter().enumerate().step_by(17) {
        assert_eq!(index.resolve(&station.id).expect("station id"), position);
        for stop in &station.stops {
            let stop = &bundled.timetable.stops[stop.idx()];
            assert_eq!(index.resolve(&stop.id).expect("stop id"), position, "{}", stop.id);
            for alias in &stop.aliases {
                assert_eq!(index.resolve(alias).expect("alias"), position, "{alias}");
            }
        }
    }
}

#[test]
fn english_names_in_english() {
    let index = &bundled_index().index;
    let station = search("天神南", 1)[0].0;
    let wire = index.to_wire(station, "en", Some(MatchKind::Exact), None).expect("wire");
    assert_eq!(wire.name, "Tenjin-minami");
    assert_eq!(wire.reading.as_deref(), Some("てんじんみなみ"));
    assert_eq!(wire.romaji.as_deref(), Some("tenjinminami"));
    assert!(wire.lines.iter().any(|line| line == "Nanakuma Line"), "{:?}", wire.lines);
    let japanese = index.to_wire(station, "ja", None, None).expect("wire");
    assert_eq!(japanese.name, "天神南");
}
