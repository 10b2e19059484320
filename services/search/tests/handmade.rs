//! Search behaviour on a handful of stations written by hand (names, readings and English as
//! the bundled feeds and the New York feed spell them), independent of the importer.

use norikae_search::{SearchIndex, SearchRequest, StationRecord};
use norikae_timetable::LocalizedText;
use norikae_wire::search::MatchKind;

fn named(default: &str, translations: &[(&str, &str)]) -> LocalizedText {
    LocalizedText {
        default: default.to_owned(),
        translations: translations
            .iter()
            .map(|(lang, text)| ((*lang).to_owned(), (*text).to_owned()))
            .collect(),
    }
}

fn station(
    id: &str,
    name: LocalizedText,
    reading: Option<&str>,
    lat: f64,
    lon: f64,
    departures: u32,
) -> StationRecord {
    StationRecord {
        id: id.to_owned(),
        stop_ids: vec![format!("{id}_1"), format!("{id}_2")],
        name,
        reading: reading.map(str::to_owned),
        lat,
        lon,
        lines: vec![LocalizedText::new("テスト線")],
        agencies: vec![named("両備バス", &[("en", "Ryobi Bus")])],
        rail: false,
        departures_per_day: departures,
        locality: None,
    }
}

fn japanese_index() -> SearchIndex {
    let records = vec![
        station(
            "t:okayama",
            named("岡山駅", &[("en", "Okayama Sta."), ("ja-Hrkt", "オカヤマエキ")]),
            Some("オカヤマエキ"),
            34.6655,
            133.9186,
            3000,
        ),
        station(
            "t:ekimae",
            named("岡山駅前", &[("en", "Okayama-Ekimae")]),
            Some("オカヤマエキマエ"),
            34.6660,
            133.9200,
            900,
        ),
        station(
            "t:byoin",
            named("大学病院", &[("en", "Daigaku Byoin")]),
            Some("ダイガクビョウイン"),
            34.6500,
            133.9200,
            400,
        ),
        station(
            "t:nokyo",
            named("三蟠農協前", &[("en", "Samban Nokyo-mae")]),
            Some("サンバンノウキョウマエ"),
            34.6200,
            133.9700,
            20,
        ),
        station(
            "t:tenjin",
            named("天神", &[("en", "Tenjin")]),
            Some("てんじん"),
            33.5913,
            130.3988,
            600,
        ),
        station(
            "t:tenjinminami",
            named("天神南", &[("en", "Tenjin-minami")]),
            Some("てんじんみなみ"),
            33.5870,
            130.4010,
            300,
        ),
        station("t:hinota", named("日の田", &[("en", "Hinota")]), Some("ヒノタ"), 34.5, 133.9, 10),
    ];
    SearchIndex::build(records).expect("index builds")
}

fn new_york_index() -> SearchIndex {
    let records = vec![
        station("t:127", named("Times Sq-42 St", &[]), None, 40.7553, -73.9869, 2000),
        station("t:128", named("34 St-Penn Station", &[]), None, 40.7506, -73.9910, 1800),
        station("t:g05", named("Jamaica Center-Parsons/Archer", &[]), None, 40.7022, -73.8011, 700),
        station("t:bus1", named("W 42 St/7 Av", &[]), None, 40.7560, -73.9870, 150),
        station("t:bus2", named("Jamaica Av/168 St", &[]), None, 40.7070, -73.7930, 80),
    ];
    SearchIndex::build(records).expect("index builds")
}

fn ids(index: &SearchIndex, text: &str) -> Vec<(String, MatchKind)> {
    let hits = index.search(SearchRequest { text, limit: 10, near: None }).expect("search runs");
    hits.iter()
        .map(|hit| (index.station(hit.station).expect("station").record.id.clone(), hit.match_kind))
        .collect()
}

fn first(index: &SearchIndex, text: &str) -> (String, MatchKind) {
    ids(index, text).into_iter().next().unwrap_or_else(|| panic!("no result for {text:?}"))
}

#[test]
fn every_script_and_spelling_finds_okayama_station_first() {
    let index = japanese_index();
    for query in [
        "岡山駅",
        "岡山",
        "おかやま",
        "オカヤマ",
        "ｵｶﾔﾏ",
        "okayama",
        "okayamaeki",
        "okayama eki",
        "Okayama Sta.",
        "Okayama Station",
        "ＯＫＡＹＡＭＡ",
        "OKAYAMA",
    ] {
        assert_eq!(first(&index, query), ("t:okayama".to_owned(), MatchKind::Exact), "{query}");
    }
    assert_eq!(first(&index, "岡山駅前").0, "t:ekimae");
    assert_eq!(first(&index, "okayama ekimae").0, "t:ekimae");
}

#[test]
fn long_vowels_written_or_dropped() {
    let index = japanese_index();
    for query in
        ["daigakubyouin", "daigaku byoin", "daigakubyooin", "daigakubyōin", "だいがくびょういん"]
    {
        assert_eq!(first(&index, query), ("t:byoin".to_owned(), MatchKind::Exact), "{query}");
    }
    for query in ["sanbannoukyoumae", "samban nokyo mae", "sanban nokyo"] {
        assert_eq!(first(&index, query).0, "t:nokyo", "{query}");
    }
}

#[test]
fn particles_are_optional() {
    let index = japanese_index();
    assert_eq!(first(&index, "hinota"), ("t:hinota".to_owned(), MatchKind::Exact));
    assert_eq!(first(&index, "hita"), ("t:hinota".to_owned(), MatchKind::Exact));
}

#[test]
fn one_letter_typos_are_forgiven() {
    let index = japanese_index();
    for query in ["okayma", "okzyama", "daigakubyoim", "tenjin minsmi"] {
        let (id, kind) = first(&index, query);
        assert_eq!(kind, MatchKind::Fuzzy, "{query}");
        assert!(id == "t:okayama" || id == "t:byoin" || id == "t:tenjinminami", "{query} → {id}");
    }
}

#[test]
fn prefixes_find_the_station_as_it_is_typed() {
    let index = japanese_index();
    for name in ["天神南", "てんじんみなみ", "tenjin minami", "Tenjin-minami"] {
        let typed: Vec<char> = name.chars().collect();
        for end in 1..=typed.len() {
            let prefix: String = typed[..end].iter().collect();
            if prefix.trim().is_empty() {
                continue;
            }
            let found = ids(&index, &prefix);
            assert!(found.iter().any(|(id, _)| id == "t:tenjinminami"), "{prefix:?} → {found:?}");
        }
    }
    // A kanji infix is found too, after the prefix matches.
    let found = ids(&index, "南");
    assert_eq!(found.first(), Some(&("t:tenjinminami".to_owned(), MatchKind::Contains)));
}

#[test]
fn importance_orders_prefix_matches() {
    let index = japanese_index();
    let found = ids(&index, "oka");
    assert_eq!(found[0].0, "t:okayama");
    assert_eq!(found[1].0, "t:ekimae");
}

#[test]
fn near_orders_stations_of_similar_importance_by_distance() {
    let records = vec![
        station("t:a", named("中央町", &[]), Some("チュウオウチョウ"), 34.60, 133.90, 100),
        station("t:b", named("中央町", &[]), Some("チュウオウチョウ"), 34.70, 133.90, 100),
    ];
    let index = SearchIndex::build(records).expect("index builds");
    for (near, expected) in [((34.59, 133.90), "t:a"), ((34.71, 133.90), "t:b")] {
        let hits = index
            .search(SearchRequest { text: "chuochou", limit: 5, near: Some(near) })
            .expect("search");
        assert_eq!(index.station(hits[0].station).expect("station").record.id, expected);
        assert!(hits[0].distance_m.is_some_and(|distance| distance < 2_000.0));
    }
    let labels: Vec<String> =
        index.stations().iter().map(|station| station.label.default.clone()).collect();
    assert_ne!(labels[0], labels[1]);
}

#[test]
fn new_york_english_queries() {
    let index = new_york_index();
    assert_eq!(first(&index, "times sq").0, "t:127");
    assert_eq!(first(&index, "times square").0, "t:127");
    assert_eq!(first(&index, "Times Sq-42 St"), ("t:127".to_owned(), MatchKind::Exact));
    let forty_second: Vec<String> = ids(&index, "42 st").into_iter().map(|(id, _)| id).collect();
    assert_eq!(forty_second[..2], ["t:127".to_owned(), "t:bus1".to_owned()]);
    let jamaica: Vec<String> = ids(&index, "jamaica").into_iter().map(|(id, _)| id).collect();
    assert_eq!(jamaica, vec!["t:g05".to_owned(), "t:bus2".to_owned()]);
    assert_eq!(first(&index, "penn station").0, "t:128");
    assert_eq!(first(&index, "jamiaca").1, MatchKind::Fuzzy);
}

#[test]
fn ids_and_stop_ids_resolve() {
    let index = japanese_index();
    let by_station = index.resolve("t:tenjin").expect("station id");
    let by_stop = index.resolve("t:tenjin_2").expect("stop id");
    assert_eq!(by_station, by_stop);
    assert!(index.resolve("t:nowhere").is_err());
}

#[test]
fn empty_queries_are_refused() {
    let index = japanese_index();
    for text in ["", "   ", "・", "--"] {
        assert!(index.search(SearchRequest { text, limit: 5, near: None }).is_err(), "{text:?}");
    }
}
