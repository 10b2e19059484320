//! Random requests of a rush hour, drawn from the station list: what a commuter types and
//! asks for.
//!
//! - Station typing: one request per keystroke, every prefix of a station's name, kana
//!   reading, romaji or English name (`/stations?q=…`).
//! - Journeys: two stations whose feeds run on a common date, a date in that range and a
//!   time, mostly in the morning and evening peaks (`/journeys?from=&to=&date=&time=`).
//! - Departure boards of a station (`/stations/{id}/departures?date=&time=`).

use anyhow::ensure;
use chrono::{Duration, NaiveDate};
use rand::Rng;
use reqwest::Url;

use crate::stations::StationList;

/// Where each kind of request goes: through the api (both bases `…/v1`) or straight to the
/// search and route services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    search: String,
    route: String,
}

impl Endpoints {
    /// Everything through the public api, e.g. `http://127.0.0.1:8081/v1`.
    pub fn api(base: &str) -> anyhow::Result<Self> {
        Self::direct(base, base)
    }

    /// Station search at `search`, journeys and departures at `route`.
    pub fn direct(search: &str, route: &str) -> anyhow::Result<Self> {
        for base in [search, route] {
            let url = Url::parse(base)
                .map_err(|error| anyhow::anyhow!("bad base URL {base:?}: {error}"))?;
            ensure!(
                matches!(url.scheme(), "http" | "https") && url.query().is_none(),
                "bad base URL {base:?}: expected http(s)://host:port[/path]"
            );
        }
        let trim = |base: &str| base.trim_end_matches('/').to_owned();
        Ok(Self { search: trim(search), route: trim(route) })
    }

    pub fn stations(&self, query: &str, limit: u32) -> String {
        with_params(
            &format!("{}/stations", self.search),
            &[("q", query), ("limit", &limit.to_string())],
        )
    }

    pub fn journeys(&self, journey: &JourneyQuery) -> String {
        with_params(
            &format!("{}/journeys", self.route),
            &[
                ("from", &journey.from),
                ("to", &journey.to),
                ("date", &journey.date.to_string()),
                ("time", &journey.time),
            ],
        )
    }

    /// [`Endpoints::journeys`] with a departure window in seconds (`0`: one departure time,
    /// the plain depart-at search).
    pub fn journeys_in_window(&self, journey: &JourneyQuery, window_secs: u32) -> String {
        with_params(
            &format!("{}/journeys", self.route),
            &[
                ("from", &journey.from),
                ("to", &journey.to),
                ("date", &journey.date.to_string()),
                ("time", &journey.time),
                ("window", &window_secs.to_string()),
            ],
        )
    }

    pub fn departures(&self, board: &DeparturesQuery) -> String {
        let station: String = Url::parse("http://x/")
            .ok()
            .and_then(|mut url| {
                url.path_segments_mut().ok()?.push(&board.station);
                Some(url.path()[1..].to_owned())
            })
            .unwrap_or_else(|| board.station.clone());
        with_params(
            &format!("{}/stations/{station}/departures", self.route),
            &[("date", &board.date.to_string()), ("time", &board.time)],
        )
    }
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    match Url::parse_with_params(base, params) {
        Ok(url) => url.into(),
        // The bases were checked when the endpoints were made.
        Err(_) => base.to_owned(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JourneyQuery {
    pub from: String,
    pub to: String,
    pub date: NaiveDate,
    /// `HH:MM`.
    pub time: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeparturesQuery {
    pub station: String,
    pub date: NaiveDate,
    pub time: String,
}

/// Draws requests from a station list.
#[derive(Clone, Debug)]
pub struct Plan {
    list: StationList,
    /// Stations with departures (journeys and boards use only these).
    served: Vec<usize>,
    /// For each feed, the served stations of feeds whose dates overlap it.
    partners: Vec<Vec<usize>>,
}

impl Plan {
    pub fn new(list: StationList) -> anyhow::Result<Self> {
        let served: Vec<usize> = (0..list.stations.len())
            .filter(|&index| list.stations[index].departures_per_day > 0)
            .collect();
        ensure!(served.len() >= 2, "the station list has fewer than two stations with departures");
        let partners = list
            .feeds
            .iter()
            .map(|feed| {
                served
                    .iter()
                    .copied()
                    .filter(|&index| {
                        let other = &list.feeds[list.stations[index].feed];
                        other.first <= feed.last && feed.first <= other.last
                    })
                    .collect()
            })
            .collect();
        Ok(Self { list, served, partners })
    }

    pub fn list(&self) -> &StationList {
        &self.list
    }

    /// What a user types for one station, one string per keystroke: every prefix of one of
    /// its spellings.
    pub fn keystrokes(&self, rng: &mut impl Rng) -> Vec<String> {
        let station = &self.list.stations[rng.random_range(0..self.list.stations.len())];
        let spellings = station.spellings();
        let spelling = spellings[rng.random_range(0..spellings.len())];
        let mut typed = String::new();
        let mut prefixes = Vec::new();
        for character in spelling.chars() {
            typed.push(character);
            if !typed.trim().is_empty() {
                prefixes.push(typed.clone());
            }
        }
        prefixes
    }

    /// A journey between two served stations whose feeds share dates.
    pub fn journey(&self, rng: &mut impl Rng) -> JourneyQuery {
        let from = &self.list.stations[self.served[rng.random_range(0..self.served.len())]];
        let partners = &self.partners[from.feed];
        let to = loop {
            // `partners` holds at least `from` itself; draw again for a different station.
            let candidate = &self.list.stations[partners[rng.random_range(0..partners.len())]];
            if candidate.id != from.id || partners.len() < 2 {
                break candidate;
            }
        };
        let (first, last) = {
            let (a, b) = (&self.list.feeds[from.feed], &self.list.feeds[to.feed]);
            (a.first.max(b.first), a.last.min(b.last))
        };
        JourneyQuery {
            from: from.id.clone(),
            to: to.id.clone(),
            date: random_date(rng, first, last),
            time: rush_hour_time(rng),
        }
    }

    /// The departure board of a served station.
    pub fn departures(&self, rng: &mut impl Rng) -> DeparturesQuery {
        let station = &self.list.stations[self.served[rng.random_range(0..self.served.len())]];
        let feed = &self.list.feeds[station.feed];
        DeparturesQuery {
            station: station.id.clone(),
            date: random_date(rng, feed.first, feed.last),
            time: rush_hour_time(rng),
        }
    }
}

fn random_date(rng: &mut impl Rng, first: NaiveDate, last: NaiveDate) -> NaiveDate {
    let days = (last - first).num_days().max(0);
    first + Duration::days(rng.random_range(0..=days))
}

/// 60 % in the peaks (07:00–09:30, 17:00–19:30), the rest between 06:00 and 22:00.
fn rush_hour_time(rng: &mut impl Rng) -> String {
    let minutes = if rng.random_bool(0.6) {
        let peak_start = if rng.random_bool(0.5) { 7 * 60 } else { 17 * 60 };
        peak_start + rng.random_range(0..150)
    } else {
        rng.random_range(6 * 60..22 * 60)
    };
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const LIST: &str = "feed\tokaden\t2025-03-16\t2025-10-25\n\
        feed\tfukuoka\t2019-03-16\t2020-03-31\n\
        station\tokaden:18_10\tokaden\t900\t岡山駅\tおかやまえき\tokayamaeki\t-\n\
        station\tokaden:1\tokaden\t10\t表町\t-\t-\t-\n\
        station\tokaden:2\tokaden\t0\t廃止\t-\t-\t-\n\
        station\tfukuoka:8\tfukuoka\t540\t天神\tてんじん\ttenjin\tTenjin\n\
        station\tfukuoka:1\tfukuoka\t300\t姪浜\t-\t-\t-\n";

    fn plan() -> Plan {
        Plan::new(StationList::parse(LIST).unwrap()).unwrap()
    }

    #[test]
    fn journeys_pair_stations_of_overlapping_feeds_on_a_common_date() {
        let plan = plan();
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let journey = plan.journey(&mut rng);
            let feed = |id: &str| id.split(':').next().unwrap().to_owned();
            assert_eq!(feed(&journey.from), feed(&journey.to), "{journey:?}");
            assert_ne!(journey.from, journey.to);
            assert_ne!(journey.from, "okaden:2", "a station without departures");
            let range = if feed(&journey.from) == "okaden" {
                (NaiveDate::from_ymd_opt(2025, 3, 16), NaiveDate::from_ymd_opt(2025, 10, 25))
            } else {
                (NaiveDate::from_ymd_opt(2019, 3, 16), NaiveDate::from_ymd_opt(2020, 3, 31))
            };
            assert!(Some(journey.date) >= range.0 && Some(journey.date) <= range.1);
            let (hours, minutes) = journey.time.split_once(':').unwrap();
            let minute_of_day: u32 =
                hours.parse::<u32>().unwrap() * 60 + minutes.parse::<u32>().unwrap();
            assert!((6 * 60..22 * 60).contains(&minute_of_day), "{}", journey.time);
        }
    }

    #[test]
    fn keystrokes_are_the_prefixes_of_one_spelling() {
        let plan = plan();
        let mut rng = StdRng::seed_from_u64(1);
        let mut seen_romaji = false;
        for _ in 0..200 {
            let keys = plan.keystrokes(&mut rng);
            let full = keys.last().unwrap();
            for (count, prefix) in keys.iter().enumerate() {
                assert_eq!(prefix.chars().count(), count + 1);
                assert!(full.starts_with(prefix.as_str()));
            }
            seen_romaji |= full == "okayamaeki";
        }
        assert!(seen_romaji);
    }

    #[test]
    fn urls_are_encoded_against_either_base() {
        let api = Endpoints::api("http://127.0.0.1:8081/v1/").unwrap();
        assert_eq!(
            api.stations("岡山 駅", 10),
            "http://127.0.0.1:8081/v1/stations?q=%E5%B2%A1%E5%B1%B1+%E9%A7%85&limit=10"
        );
        let direct = Endpoints::direct("http://127.0.0.1:8082", "http://127.0.0.1:8083").unwrap();
        let board = DeparturesQuery {
            station: "okaden:18_10".to_owned(),
            date: NaiveDate::from_ymd_opt(2025, 6, 4).unwrap(),
            time: "08:00".to_owned(),
        };
        assert_eq!(
            direct.departures(&board),
            "http://127.0.0.1:8083/stations/okaden:18_10/departures?date=2025-06-04&time=08%3A00"
        );
        let journey = JourneyQuery {
            from: "subway:A03".to_owned(),
            to: "bus_si:200362".to_owned(),
            date: NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
            time: "08:48:45".to_owned(),
        };
        assert_eq!(
            direct.journeys_in_window(&journey, 0),
            "http://127.0.0.1:8083/journeys?from=subway%3AA03&to=bus_si%3A200362&date=2026-10-14&time=08%3A48%3A45&window=0"
        );
        assert!(Endpoints::api("127.0.0.1:8081").is_err());
        assert!(Endpoints::api("http://127.0.0.1:8081/v1?x=1").is_err());
    }
}
