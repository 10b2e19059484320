//! Engine results → the JSON types of [`norikae_wire::route`]: names in the requested language,
//! times in the feed's time zone (RFC 3339), ids in `FEED:ID` form.

use chrono::TimeZone;
use norikae_timetable::{LocalizedText, RouteIdx, StopIdx, Timetable};

use crate::engine::departures::DepartureGroup;
use norikae_wire::polyline;
use norikae_wire::route as wire;

use crate::engine::{Engine, Journey, Leg, WalkEnd};

/// How to render: the language of names.
#[derive(Clone, Debug, Default)]
pub struct Render {
    /// BCP 47 tag (`en`, `ja-Hrkt`); `None`: the feed's own text.
    pub lang: Option<String>,
}

impl Render {
    pub(crate) fn text(&self, text: &LocalizedText) -> String {
        match &self.lang {
            Some(lang) => text.get(lang).to_owned(),
            None => text.default.clone(),
        }
    }

    pub fn time(&self, timetable: &Timetable, unix: i64) -> String {
        timetable
            .tz
            .timestamp_opt(unix, 0)
            .single()
            .map(|time| time.to_rfc3339())
            .unwrap_or_default()
    }

    pub fn stop(&self, timetable: &Timetable, stop: StopIdx) -> wire::StopRef {
        let data = &timetable.stops[stop.idx()];
        wire::StopRef {
            id: data.id.clone(),
            name: self.text(&data.name),
            station_id: timetable.stations[data.station.idx()].id.clone(),
            platform: data.platform_code.clone(),
            lat: data.lat,
            lon: data.lon,
        }
    }

    pub fn route(&self, timetable: &Timetable, route: RouteIdx) -> wire::RouteInfo {
        let data = &timetable.routes[route.idx()];
        let agency = &timetable.agencies[data.agency.idx()];
        wire::RouteInfo {
            id: data.id.clone(),
            short_name: self.text(&data.short_name),
            long_name: self.text(&data.long_name),
            color: data.color.clone(),
            text_color: data.text_color.clone(),
            mode: data.mode.as_str().to_owned(),
            agency_id: agency.id.clone(),
            agency_name: self.text(&agency.name),
        }
    }

    fn place(&self, timetable: &Timetable, end: WalkEnd) -> wire::Place {
        match end {
            WalkEnd::Stop(stop) => wire::Place::Stop(self.stop(timetable, stop)),
            WalkEnd::Place { lat, lon } => wire::Place::Coordinates { lat, lon },
        }
    }

    fn position(timetable: &Timetable, end: WalkEnd) -> (f64, f64) {
        match end {
            WalkEnd::Stop(stop) => {
                let data = &timetable.stops[stop.idx()];
                (data.lat, data.lon)
            }
            WalkEnd::Place { lat, lon } => (lat, lon),
        }
    }

    pub(crate) fn headsign(&self, engine: &Engine, trip: norikae_timetable::TripIdx) -> String {
        let data = &engine.timetable().trips[trip.idx()];
        if data.headsign.is_empty() { engine.headsign(trip) } else { self.text(&data.headsign) }
    }

    pub fn journey(&self, engine: &Engine, journey: &Journey) -> wire::Journey {
        let tt = &**engine.timetable();
        let legs = journey
            .legs
            .iter()
            .map(|leg| match *leg {
                Leg::Transit {
                    trip,
                    pattern,
                    board_position,
                    alight_position,
                    service_day,
                    departure,
                    arrival,
                    ref added,
                } => {
                    // The stops passed at the timetable's times (the leg's own times are
                    // the ones searched: on a realtime day, the expected ones); an added
                    // trip's at the times the feed gave it.
                    let times = match added {
                        Some(added) => &added.times[..],
                        None => tt.stop_times_of_trip(trip),
                    };
                    let day_start = tt.service_day_start(tt.date_of_day(service_day)).timestamp();
                    let stops = tt.pattern_stops(pattern);
                    let passed = (board_position..=alight_position)
                        .map(|position| wire::PassedStop {
                            stop: self.stop(tt, stops[position]),
                            arrival: (position != board_position).then(|| {
                                self.time(tt, day_start + i64::from(times[position].arrival))
                            }),
                            departure: (position != alight_position).then(|| {
                                self.time(tt, day_start + i64::from(times[position].departure))
                            }),
                        })
                        .collect();
                    wire::Leg::Transit(wire::TransitLeg {
                        trip_id: added.as_ref().map_or_else(
                            || tt.trips[trip.idx()].id.clone(),
                            |added| added.id.clone(),
                        ),
                        route: self.route(tt, tt.trips[trip.idx()].route),
                        headsign: self.headsign(engine, trip),
                        service_date: tt.date_of_day(service_day).to_string(),
                        from: self.stop(tt, stops[board_position]),
                        to: self.stop(tt, stops[alight_position]),
                        departure: self.time(tt, departure),
                        arrival: self.time(tt, arrival),
                        duration_secs: arrival - departure,
                        stops: passed,
                        geometry: polyline::encode(&tt.trip_path(
                            trip,
                            board_position,
                            alight_position,
                        )),
                        realtime: None,
                    })
                }
                Leg::Walk { from, to, departure, arrival, duration_secs, distance_m } => {
                    let ends = [Self::position(tt, from), Self::position(tt, to)];
                    wire::Leg::Walk(wire::WalkLeg {
                        from: self.place(tt, from),
                        to: self.place(tt, to),
                        departure: self.time(tt, departure),
                        arrival: self.time(tt, arrival),
                        duration_secs,
                        distance_m,
                        geometry: polyline::encode(&ends),
                    })
                }
            })
            .collect();
        let fare = engine.fares.price(tt, journey).map(|quote| wire::Fare {
            total: quote.total,
            currency: quote.currency,
            parts: quote
                .parts
                .into_iter()
                .map(|(fare, rides)| {
                    let attribute = &tt.fares.attributes[fare.idx()];
                    wire::FarePart {
                        fare_id: attribute.id.clone(),
                        price: attribute.price,
                        rides: rides.collect(),
                    }
                })
                .collect(),
        });
        let vehicles = journey.legs.iter().filter(|leg| leg.is_transit()).count() as u32;
        debug_assert_eq!(
            journey.transfers,
            vehicles.saturating_sub(1),
            "a journey changes vehicles once less than it rides them, and never on foot only"
        );
        wire::Journey {
            departure: self.time(tt, journey.departure),
            arrival: self.time(tt, journey.arrival),
            duration_secs: journey.duration_secs(),
            vehicles,
            transfers: journey.transfers,
            legs,
            fare,
        }
    }

    pub fn departure_groups(
        &self,
        engine: &Engine,
        groups: &[DepartureGroup],
    ) -> Vec<wire::DepartureGroup> {
        let tt = &**engine.timetable();
        groups
            .iter()
            .map(|group| wire::DepartureGroup {
                route: self.route(tt, group.route),
                direction_id: group.direction_id,
                headsign: group
                    .departures
                    .first()
                    .map(|first| self.headsign(engine, first.trip))
                    .unwrap_or_default(),
                departures: group
                    .departures
                    .iter()
                    .map(|departure| wire::Departure {
                        trip_id: tt.trips[departure.trip.idx()].id.clone(),
                        service_date: tt.date_of_day(departure.service_day).to_string(),
                        departure: self.time(tt, departure.departure),
                        headsign: self.headsign(engine, departure.trip),
                        stop: self.stop(tt, departure.stop),
                        platform: tt.stops[departure.stop.idx()].platform_code.clone(),
                        realtime: crate::render_live::departure(self, engine, departure),
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_journeys::{self, TENJIN, TENJIN_MINAMI};

    #[test]
    fn a_journey_on_foot_renders_as_one_walk_without_vehicles_or_fare() {
        let engine = test_journeys::engine();
        let tt = &**engine.timetable();
        let journey = test_journeys::tenjin_on_foot(tt);
        let render = Render { lang: Some("en".to_owned()) };
        let rendered = render.journey(&engine, &journey);

        assert_eq!(rendered.departure, "2019-10-16T14:23:58+09:00");
        assert_eq!(rendered.arrival, "2019-10-16T14:31:58+09:00");
        assert_eq!(rendered.duration_secs, 480);
        assert_eq!((rendered.vehicles, rendered.transfers), (0, 0));
        assert_eq!(rendered.fare, None, "nothing to pay on foot, though Fukuoka has fares");
        let [wire::Leg::Walk(walk)] = rendered.legs.as_slice() else {
            panic!("one walk: {:?}", rendered.legs)
        };
        assert_eq!((walk.duration_secs, walk.distance_m), (480, 506));
        assert_eq!(
            (walk.departure.as_str(), walk.arrival.as_str()),
            ("2019-10-16T14:23:58+09:00", "2019-10-16T14:31:58+09:00")
        );
        let (wire::Place::Stop(from), wire::Place::Stop(to)) = (&walk.from, &walk.to) else {
            panic!("between two stops: {walk:?}")
        };
        assert_eq!((from.station_id.as_str(), to.station_id.as_str()), (TENJIN_MINAMI, TENJIN));
        assert_eq!((from.name.as_str(), to.name.as_str()), ("Tenjin-minami", "Tenjin"));

        // On the wire: no `fare` member at all (not 0, not null), counts of zero.
        let json = serde_json::to_value(&rendered).expect("a journey serialises");
        assert_eq!(json.get("fare"), None, "{json}");
        assert_eq!((&json["vehicles"], &json["transfers"]), (&0.into(), &0.into()), "{json}");
        assert_eq!(json["legs"][0]["type"], "walk");
        let back: wire::Journey = serde_json::from_value(json).expect("clients read it back");
        assert_eq!(back, rendered);
    }

    #[test]
    fn a_walk_from_coordinates_renders_its_place() {
        let engine = test_journeys::engine();
        let tt = &**engine.timetable();
        let near_tenjin_minami = WalkEnd::Place { lat: 33.5885, lon: 130.4015 };
        let to = WalkEnd::Stop(test_journeys::stop_of(tt, TENJIN));
        let journey = test_journeys::on_foot(tt, near_tenjin_minami, to, 420, 504);
        let rendered = Render::default().journey(&engine, &journey);
        assert_eq!((rendered.vehicles, rendered.transfers, &rendered.fare), (0, 0, &None));
        let [wire::Leg::Walk(walk)] = rendered.legs.as_slice() else {
            panic!("one walk: {:?}", rendered.legs)
        };
        assert_eq!(walk.from, wire::Place::Coordinates { lat: 33.5885, lon: 130.4015 });
        assert!(matches!(&walk.to, wire::Place::Stop(stop) if stop.name == "天神"), "{walk:?}");
        assert_eq!((walk.duration_secs, walk.distance_m), (420, 504));
    }

    #[test]
    fn one_ride_counts_one_vehicle_and_no_transfer() {
        let engine = test_journeys::engine();
        let tt = &**engine.timetable();
        let rendered = Render::default().journey(&engine, &test_journeys::ride_from_tenjin(tt));
        assert_eq!((rendered.vehicles, rendered.transfers), (1, 0));
        assert!(matches!(rendered.legs.as_slice(), [wire::Leg::Transit(_)]), "{rendered:?}");
        let fare = rendered.fare.expect("Fukuoka's fares price a ride");
        assert_eq!(fare.currency, "JPY");
        assert!(fare.total > 0.0, "{fare:?}");
    }

    /// Metres between two points (equirectangular: fine for a few metres).
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let dy = (a.0 - b.0) * 111_132.0;
        let dx = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
        (dx * dx + dy * dy).sqrt()
    }

    #[test]
    fn a_ride_is_drawn_along_its_shape_from_boarding_to_alighting_and_a_walk_straight() {
        let engine = test_journeys::engine();
        let tt = &**engine.timetable();
        let rendered = Render::default().journey(&engine, &test_journeys::ride_from_tenjin(tt));
        let [wire::Leg::Transit(ride)] = rendered.legs.as_slice() else {
            panic!("one ride: {rendered:?}")
        };
        let path = polyline::decode(&ride.geometry).expect("an encoded polyline");
        let (first, last) = (path[0], path[path.len() - 1]);
        assert!(metres(first, (ride.from.lat, ride.from.lon)) < 2.0, "{first:?} {:?}", ride.from);
        assert!(metres(last, (ride.to.lat, ride.to.lon)) < 2.0, "{last:?} {:?}", ride.to);
        // Fukuoka's trips.txt names no shapes: its rides go straight from stop to stop.
        assert_eq!(path.len(), 2, "{path:?}");

        // An Okayama bus follows its shape: a ride over three stops of a shaped trip.
        let (trip, day) = (0..tt.trips.len())
            .map(norikae_timetable::TripIdx::from)
            .filter(|&trip| tt.trip_shape(trip).is_some() && tt.stop_times_of_trip(trip).len() > 4)
            .find_map(|trip| {
                (0..tt.meta.num_days).find(|&day| tt.trip_runs(trip, day)).map(|day| (trip, day))
            })
            .expect("a shaped Okayama trip runs some day");
        let times = tt.stop_times_of_trip(trip);
        let day_start = tt.service_day_start(tt.date_of_day(day)).timestamp();
        let (departure, arrival) =
            (day_start + i64::from(times[1].departure), day_start + i64::from(times[4].arrival));
        let journey = crate::engine::Journey {
            legs: vec![Leg::Transit {
                trip,
                pattern: tt.trips[trip.idx()].pattern,
                board_position: 1,
                alight_position: 4,
                service_day: day,
                departure,
                arrival,
                added: None,
            }],
            departure,
            arrival,
            transfers: 0,
        };
        let rendered = Render::default().journey(&engine, &journey);
        let [wire::Leg::Transit(ride)] = rendered.legs.as_slice() else {
            panic!("one ride: {rendered:?}")
        };
        let path = polyline::decode(&ride.geometry).expect("an encoded polyline");
        let (first, last) = (path[0], path[path.len() - 1]);
        assert!(metres(first, (ride.from.lat, ride.from.lon)) < 2.0, "{first:?} {:?}", ride.from);
        assert!(metres(last, (ride.to.lat, ride.to.lon)) < 2.0, "{last:?} {:?}", ride.to);
        assert!(path.len() > 4, "the shape's points between four stops: {path:?}");
        assert_eq!(
            path,
            tt.trip_path(trip, 1, 4)
                .iter()
                .map(|&(lat, lon)| { ((lat * 1e5).round() / 1e5, (lon * 1e5).round() / 1e5) })
                .collect::<Vec<_>>()
        );

        let walk = Render::default().journey(&engine, &test_journeys::tenjin_on_foot(tt));
        let [wire::Leg::Walk(walk)] = walk.legs.as_slice() else { panic!("one walk: {walk:?}") };
        let path = polyline::decode(&walk.geometry).expect("an encoded polyline");
        let (wire::Place::Stop(from), wire::Place::Stop(to)) = (&walk.from, &walk.to) else {
            panic!("between two stops: {walk:?}")
        };
        assert_eq!(path.len(), 2, "a straight line");
        assert!(
            metres(path[0], (from.lat, from.lon)) < 2.0 && metres(path[1], (to.lat, to.lon)) < 2.0
        );
    }
}
