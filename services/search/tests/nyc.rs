//! English station search on New York MTA data (subway and Manhattan buses). The data is not
//! in the repository: set `NORIKAE_NYC_GTFS` to the folder holding `subway.zip` and
//! `bus_m.zip` and run `cargo test -p norikae-search --test nyc -- --ignored`.

use std::path::PathBuf;

use norikae_search::{SearchIndex, SearchRequest};
use norikae_timetable::{FeedInput, ImportOptions, NoProgress, import};
use norikae_wire::search::MatchKind;

fn new_york_index() -> SearchIndex {
    let folder = PathBuf::from(
        std::env::var("NORIKAE_NYC_GTFS").unwrap_or_else(|_| "/work/nyc-gtfs".to_owned()),
    );
    let feeds = vec![
        FeedInput::new("subway", folder.join("subway.zip")),
        FeedInput::new("bus_m", folder.join("bus_m.zip")),
    ];
    let (timetable, _) =
        import(&feeds, &ImportOptions::default(), &NoProgress).expect("New York feeds import");
    SearchIndex::from_timetable(&timetable).expect("index builds")
}

fn names(index: &SearchIndex, text: &str, limit: usize) -> Vec<(String, MatchKind)> {
    index
        .search(SearchRequest { text, limit, near: None })
        .expect("search runs")
        .iter()
        .map(|hit| {
            (
                index.station(hit.station).expect("station").record.name.default.clone(),
                hit.match_kind,
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the New York MTA GTFS (NORIKAE_NYC_GTFS)"]
fn english_queries_on_new_york() {
    let index = new_york_index();
    let times = names(&index, "times sq", 5);
    assert_eq!(times[0].0, "Times Sq-42 St", "{times:?}");
    assert_eq!(names(&index, "times square", 1)[0].0, "Times Sq-42 St");
    assert_eq!(
        names(&index, "Times Sq-42 St", 1)[0],
        ("Times Sq-42 St".to_owned(), MatchKind::Exact)
    );

    let forty_second = names(&index, "42 st", 10);
    assert_eq!(forty_second.len(), 10);
    assert!(
        forty_second[..5].iter().all(|(name, _)| name.to_lowercase().contains("42 st")),
        "{forty_second:?}"
    );
    let jamaica = names(&index, "jamaica", 10);
    assert!(jamaica.iter().all(|(name, _)| name.to_lowercase().contains("jamaica")), "{jamaica:?}");
    assert!(jamaica.iter().any(|(name, _)| name == "Jamaica Center-Parsons/Archer"), "{jamaica:?}");
    let typo = names(&index, "jamiaca center", 3);
    assert!(typo.iter().any(|(name, _)| name.starts_with("Jamaica Center")), "{typo:?}");
    let penn = names(&index, "34 st penn station", 3);
    assert_eq!(penn[0].0, "34 St-Penn Station", "{penn:?}");
    for (name, match_kind) in names(&index, "w 42 st", 5) {
        assert!(
            match_kind <= MatchKind::Prefix && name.to_lowercase().contains("42 st"),
            "{name} {match_kind:?}"
        );
    }
}
