//! The example answers of the OpenAPI document (`example = examples::…` in the handlers'
//! annotations): real answers on the bundled feeds, shortened. The contract test checks that
//! every operation has one and that each matches its schema.

use serde_json::{Value, json};

fn tenjin() -> Value {
    json!({"id": "fukuoka:8", "name": "天神", "reading": "てんじん", "romaji": "tenjin",
           "label": "空港線", "lat": 33.59131, "lon": 130.39904,
           "lines": ["空港線"], "agencies": ["福岡市交通局"], "match": "exact"})
}

pub fn station_search() -> Value {
    json!({"query": "tenjin", "results": [tenjin()]})
}

pub fn nearby() -> Value {
    let mut station = tenjin();
    station["distance_m"] = json!(120.5);
    station.as_object_mut().map(|object| object.remove("match"));
    json!({"results": [station]})
}

pub fn station() -> Value {
    let mut station = tenjin();
    station.as_object_mut().map(|object| object.remove("match"));
    station["stops"] = json!(["fukuoka:8_1", "fukuoka:8_2"]);
    station
}

fn kuko_line() -> Value {
    json!({"id": "fukuoka:1", "short_name": "空港線", "long_name": "", "color": "F37021",
           "mode": "subway", "agency_id": "fukuoka:1", "agency_name": "福岡市交通局"})
}

fn stop(id: &str, name: &str, station_id: &str, lat: f64, lon: f64) -> Value {
    json!({"id": id, "name": name, "station_id": station_id, "lat": lat, "lon": lon})
}

pub fn departures() -> Value {
    let tenjin = stop("fukuoka:8_1", "天神", "fukuoka:8", 33.59131, 130.39904);
    json!({
        "station_id": "fukuoka:8", "station_name": "天神",
        "groups": [{
            "route": kuko_line(), "direction_id": 0, "headsign": "福岡空港",
            "departures": [
                {"trip_id": "fukuoka:1_0800", "departure": "2019-06-05T08:02:00+09:00",
                 "headsign": "福岡空港", "stop": tenjin, "service_date": "2019-06-05"},
                {"trip_id": "fukuoka:1_0805", "departure": "2019-06-05T08:06:30+09:00",
                 "headsign": "福岡空港", "stop": tenjin, "service_date": "2019-06-05"}
            ],
            "alerts": []
        }],
        "alerts": []
    })
}

pub fn journeys() -> Value {
    let meinohama = stop("fukuoka:1_1", "姪浜", "fukuoka:1", 33.58345, 130.32393);
    let tenjin = stop("fukuoka:8_2", "天神", "fukuoka:8", 33.59131, 130.39904);
    json!({
        "journeys": [{
            "departure": "2019-06-05T08:00:00+09:00", "arrival": "2019-06-05T08:11:00+09:00",
            "duration_secs": 660, "vehicles": 1, "transfers": 0,
            "legs": [{
                "type": "transit", "trip_id": "fukuoka:1_0800", "route": kuko_line(),
                "headsign": "福岡空港", "service_date": "2019-06-05",
                "from": meinohama, "to": tenjin,
                "departure": "2019-06-05T08:00:00+09:00", "arrival": "2019-06-05T08:11:00+09:00",
                "duration_secs": 660,
                "geometry": "y{mkEm_epWi`@ctM",
                "stops": [
                    {"stop": meinohama, "departure": "2019-06-05T08:00:00+09:00"},
                    {"stop": tenjin, "arrival": "2019-06-05T08:11:00+09:00"}
                ],
                "alerts": []
            }],
            "fare": {"total": 300.0, "currency": "JPY",
                     "parts": [{"fare_id": "fukuoka:300", "price": 300.0, "rides": [0]}]}
        }],
        "window": {"start": "2019-06-05T08:00:00+09:00", "end": "2019-06-05T09:00:00+09:00"},
        "earlier": "AY7sCwCAcAAAEA4AAP1ZkL3jGXXn6L5bw0Vh0kq8ZqJYn3Nw-kQ1q0tT6yOy",
        "later": "AY7sCwCQfgAAEA4AAC1B1gOMXrWJ1H8a3s4pQwz2CkSkAfU0Yy1QbvJ7sBJr",
        "alerts": []
    })
}

/// `GET /v1/routes/{id}`.
pub fn route_detail() -> Value {
    let meinohama = stop("fukuoka:1_1", "姪浜", "fukuoka:1", 33.58345, 130.32393);
    let tenjin = stop("fukuoka:8_2", "天神", "fukuoka:8", 33.59131, 130.39904);
    json!({
        "route": kuko_line(),
        "directions": [{
            "direction_id": 0, "headsigns": ["福岡空港"], "trips": 160, "patterns": 2,
            "stops_from": "most_trips", "stops_trips": 150,
            "stops": [meinohama, tenjin]
        }]
    })
}

/// `GET /v1/trips/{id}`.
pub fn trip() -> Value {
    let meinohama = stop("fukuoka:1_1", "姪浜", "fukuoka:1", 33.58345, 130.32393);
    let tenjin = stop("fukuoka:8_2", "天神", "fukuoka:8", 33.59131, 130.39904);
    json!({
        "trip_id": "fukuoka:1_0800", "service_date": "2019-06-05", "route": kuko_line(),
        "headsign": "福岡空港", "direction_id": 0, "wheelchair": "accessible",
        "stops": [
            {"stop": meinohama, "station_name": "姪浜", "departure": "2019-06-05T08:00:00+09:00",
             "pickup": true, "drop_off": false},
            {"stop": tenjin, "station_name": "天神", "arrival": "2019-06-05T08:11:00+09:00",
             "pickup": false, "drop_off": true}
        ],
        "geometry": "y{mkEm_epWi`@ctM",
        "alerts": []
    })
}

pub fn alert() -> Value {
    json!({
        "id": "0b6f4a8e2c3d4e5f8a9b0c1d2e3f4a5b", "cause": "maintenance", "effect": "reduced_service",
        "header": "空港線 運転間隔の変更", "description": "工事のため、22時以降は10分間隔で運転します。",
        "url": null,
        "translations": {
            "ja": {"header": "空港線 運転間隔の変更",
                   "description": "工事のため、22時以降は10分間隔で運転します。"},
            "en": {"header": "Kuko Line: trains every 10 minutes",
                   "description": "After 22:00 trains run every 10 minutes (track work)."}
        },
        "active_periods": [{"start": "2019-06-05T22:00:00+09:00", "end": "2019-06-06T01:00:00+09:00"}],
        "informed": [{"route_id": "fukuoka:1"}],
        "created_at": "2019-06-01T09:00:00Z", "updated_at": "2019-06-01T09:00:00Z",
        "ended_at": null
    })
}

pub fn alerts() -> Value {
    json!({"alerts": [alert()]})
}

pub fn status() -> Value {
    let feeds = json!([{"name": "fukuoka", "start_date": "2019-03-16", "end_date": "2020-03-31"}]);
    json!({
        "timetable": {
            "hash": "5f0c2b7e9a1d4c3b", "feeds": feeds, "stations": 1520, "stops": 3650,
            "routes": 410, "trips": 41000, "loaded_at": "2026-12-07T00:00:00Z",
            "activated_at": "2026-12-07T00:00:01Z"
        },
        "versions": [{
            "hash": "5f0c2b7e9a1d4c3b", "feeds": feeds, "stations": 1520, "stops": 3650,
            "routes": 410, "trips": 41000, "service_start": "2019-03-16",
            "service_end": "2020-03-31", "created_at": "2026-12-06T23:59:00Z",
            "activated_at": "2026-12-07T00:00:01Z"
        }]
    })
}
