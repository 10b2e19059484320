//! `GET /search`: the results page.
//!
//! From and to come as station ids (`from_id`, set when a suggestion was picked) or as free
//! text (`from`, the form without JavaScript), which is resolved here through
//! `/v1/stations?q=`: one clear match is taken, several lead to a choice page, none to the
//! form with a message. Then `/v1/journeys` is asked, and its answer (or error) rendered with
//! earlier / later links carrying the API's cursors.

use axum::extract::{RawQuery, State};
use chrono::NaiveDate;
use http::StatusCode;
use serde::Serialize;

use super::home::{DayEnd, SORTS, TripForm, form_page};
use super::{NETWORK_TZ, Ui, default_when, feed_period, feeds, url_with_query};
use norikae_wire::search::{MatchKind, Station};
use norikae_wire::v1::FeedDates;

use crate::AppState;
use crate::client::{Api, ApiError, JourneyQuery};
use crate::errors::{ErrorView, feed_periods};
use crate::i18n::Lang;
use crate::render::Page;
use crate::view::{AlertView, JourneyView, StationView, clock};

/// Candidates shown on the choice page.
const CHOICES: usize = 8;
/// `max_transfers` for "fewer transfers".
const FEWER_TRANSFERS_MAX: u8 = 1;
/// `max_walk_m` for "less walking" (the API's default is 2 km).
const LESS_WALKING_MAX_M: u32 = 500;

/// What free text or an id resolved to.
#[derive(Clone, Debug)]
pub enum Resolution {
    Station(Station),
    /// Several stations match; the user chooses.
    Ambiguous(Vec<Station>),
    /// Nothing matches the text.
    NoMatch,
    /// Neither text nor id was given.
    Missing,
}

/// Picks the station a search for `text` means, if one clearly stands out: the only result,
/// or the only exact match (name, reading or romaji equal to the text).
pub fn pick(text: &str, results: Vec<Station>) -> Resolution {
    if results.is_empty() {
        return Resolution::NoMatch;
    }
    if results.len() == 1 {
        return Resolution::Station(results.into_iter().next().unwrap_or_default());
    }
    let exact: Vec<&Station> = results
        .iter()
        .filter(|station| station.match_kind == Some(MatchKind::Exact) || station.name == text)
        .collect();
    if let [only] = exact.as_slice() {
        return Resolution::Station((*only).clone());
    }
    Resolution::Ambiguous(results)
}

async fn resolve(api: Api<'_>, text: &str, id: &str, lang: Lang) -> Result<Resolution, ApiError> {
    if !id.is_empty() {
        match api.station(id, lang.code()).await {
            Ok(detail) => return Ok(Resolution::Station(detail.station)),
            // A stale id (from an old link): fall back to the text when there is one.
            Err(error) if error.code() == Some("unknown_station") && !text.is_empty() => {}
            Err(error) => return Err(error),
        }
    }
    if text.is_empty() {
        return Ok(Resolution::Missing);
    }
    match api.search_stations(text, lang.code(), CHOICES).await {
        Ok(found) => Ok(pick(text, found.results)),
        // Text without a letter or digit: nothing can match it.
        Err(error) if error.code() == Some("empty_query") => Ok(Resolution::NoMatch),
        Err(error) => Err(error),
    }
}

#[derive(Serialize)]
struct ChoosePage {
    title: &'static str,
    intro: &'static str,
    form: Vec<(String, String)>,
    from_text: String,
    to_text: String,
    from_heading: String,
    to_heading: String,
    from_choices: Vec<StationView>,
    to_choices: Vec<StationView>,
    from_fixed: Option<StationView>,
    to_fixed: Option<StationView>,
}

#[derive(Serialize)]
struct ResultsPage {
    title: String,
    from: StationView,
    to: StationView,
    summary: String,
    window: Option<String>,
    journeys: Vec<JourneyView>,
    alerts: Vec<AlertView>,
    earlier_url: Option<String>,
    later_url: Option<String>,
    change_url: String,
    /// This search as the day's first / last journey (始発 / 終電).
    first_url: String,
    last_url: String,
    /// The orders offered (by departure, 早, 楽, 安); none for a first or last journey.
    sorts: Vec<SortLink>,
    note: Option<&'static str>,
    error: Option<ErrorView>,
}

#[derive(Serialize)]
struct SortLink {
    sort: &'static str,
    label: &'static str,
    url: String,
    current: bool,
}

fn sort_label_key(sort: &str) -> &'static str {
    match sort {
        "fastest" => "sort_fastest",
        "fewest_transfers" => "sort_fewest_transfers",
        _ => "sort_cheapest",
    }
}

pub async fn search(ui: Ui, State(state): State<AppState>, RawQuery(query): RawQuery) -> Page {
    let mut form = TripForm::parse(query.as_deref().unwrap_or_default());
    let lang = ui.lang;
    let api = ui.api(&state);

    let (from, to) = tokio::join!(
        resolve(api, &form.from, &form.from_id, lang),
        resolve(api, &form.to, &form.to_id, lang)
    );
    let (from, to) = match (from, to) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) | (_, Err(error)) => {
            let error = ErrorView::from_api(&error, lang, &[], &form.date);
            return form_page(&ui, &state, &form, Some(error), None).await;
        }
    };
    let (from, to) = match (from, to) {
        (Resolution::Station(from), Resolution::Station(to)) => (from, to),
        (Resolution::Missing, _) => {
            return field_error(&ui, &state, &form, "from", lang.text("err_missing_from")).await;
        }
        (_, Resolution::Missing) => {
            return field_error(&ui, &state, &form, "to", lang.text("err_missing_to")).await;
        }
        (Resolution::NoMatch, _) => {
            let message = lang.fill("err_no_match", &[("q", &form.from)]);
            return field_error(&ui, &state, &form, "from", &message).await;
        }
        (_, Resolution::NoMatch) => {
            let message = lang.fill("err_no_match", &[("q", &form.to)]);
            return field_error(&ui, &state, &form, "to", &message).await;
        }
        (from, to) => return choose_page(&ui, &state, &form, from, to),
    };
    if from.id == to.id {
        return field_error(&ui, &state, &form, "to", lang.text("err_same_station")).await;
    }
    // Links from here on carry the resolved stations, so the next page skips resolving.
    form.from_id.clone_from(&from.id);
    form.to_id.clone_from(&to.id);
    form.from.clone_from(&from.name);
    form.to.clone_from(&to.name);

    let when = if form.date.is_empty() || form.time.is_empty() {
        let feeds = feeds(api).await;
        Some(default_when(chrono::Utc::now().with_timezone(&NETWORK_TZ), &feeds))
    } else {
        None
    };
    if let Some(when) = &when {
        if form.date.is_empty() {
            form.date = when.date.to_string();
        }
        if form.time.is_empty() {
            form.time.clone_from(&when.time);
        }
    }
    let mut query = JourneyQuery {
        from: from.id.clone(),
        to: to.id.clone(),
        date: Some(form.date.clone()),
        time: Some(form.time.clone()),
        arrive_by: form.arrive_by,
        max_transfers: form.fewer_transfers.then_some(FEWER_TRANSFERS_MAX),
        max_walk_m: form.less_walking.then_some(LESS_WALKING_MAX_M),
        wheelchair: form.wheelchair,
        cursor: (!form.cursor.is_empty()).then(|| form.cursor.clone()),
        lang: lang.code().to_owned(),
        day_end: form.day_end,
        sort: (!form.sort.is_empty()).then(|| form.sort.clone()),
    };
    let mut answer = api.journeys(&query).await;
    let mut note = None;
    if form.fewer_transfers && matches!(&answer, Ok(page) if page.journeys.is_empty()) {
        query.max_transfers = None;
        answer = api.journeys(&query).await;
        if matches!(&answer, Ok(page) if !page.journeys.is_empty()) {
            note = Some(lang.text("fewer_transfers_relaxed"));
        }
    }

    let summary_key = match (form.day_end, form.arrive_by) {
        (Some(DayEnd::First), _) => "search_summary_first",
        (Some(DayEnd::Last), _) => "search_summary_last",
        (None, true) => "search_summary_arrive",
        (None, false) => "search_summary_depart",
    };
    // The same search as the day's first or last journey, and in each order.
    let with = |change: &dyn Fn(&mut TripForm)| {
        let mut other = form.clone();
        change(&mut other);
        url_with_query("/search", &other.to_pairs())
    };
    let first_url = with(&|other: &mut TripForm| other.day_end = Some(DayEnd::First));
    let last_url = with(&|other: &mut TripForm| other.day_end = Some(DayEnd::Last));
    let sorts = if form.day_end.is_some() {
        Vec::new()
    } else {
        std::iter::once(("", "sort_departure"))
            .chain(SORTS.iter().map(|sort| (*sort, sort_label_key(sort))))
            .map(|(sort, key)| SortLink {
                label: lang.text(key),
                url: with(&|other: &mut TripForm| sort.clone_into(&mut other.sort)),
                current: form.sort == sort,
                sort,
            })
            .collect()
    };
    let mut page = ResultsPage {
        title: format!("{} → {}", from.name, to.name),
        from: StationView::new(&from),
        to: StationView::new(&to),
        summary: lang.fill(summary_key, &[("date", &form.date), ("time", &form.time)]),
        window: None,
        journeys: Vec::new(),
        alerts: Vec::new(),
        earlier_url: None,
        later_url: None,
        change_url: url_with_query("/", &form.to_pairs()),
        first_url,
        last_url,
        sorts,
        note,
        error: None,
    };
    let status = match answer {
        Ok(answer) => {
            page.window = answer.window.as_ref().map(|window| {
                lang.fill(
                    "window",
                    &[("start", &clock(&window.start)), ("end", &clock(&window.end))],
                )
            });
            page.journeys = answer
                .journeys
                .iter()
                .enumerate()
                .map(|(position, journey)| JourneyView::new(position + 1, journey, lang))
                .collect();
            page.alerts = AlertView::list(&answer.alerts);
            let page_url = |cursor: &String| {
                let mut pairs = form.to_pairs();
                pairs.push(("cursor".to_owned(), cursor.clone()));
                url_with_query("/search", &pairs)
            };
            page.earlier_url = answer.earlier.as_ref().map(page_url);
            page.later_url = answer.later.as_ref().map(page_url);
            if page.journeys.is_empty() {
                let feeds = feeds(api).await;
                page.error = Some(no_journeys(lang, &feeds, &form.date));
            }
            StatusCode::OK
        }
        Err(error) => {
            let feeds = if error.code() == Some("date_out_of_range") {
                feeds(api).await
            } else {
                Vec::new()
            };
            let error = ErrorView::from_api(&error, lang, &feeds, &form.date);
            let status = error.status;
            page.error = Some(error);
            status
        }
    };
    ui.page(&state, status, "results.html", &page)
}

/// "No journeys", with the periods of the feeds that do not run on `date` (a common cause
/// with feeds of different years).
fn no_journeys(lang: Lang, feeds: &[FeedDates], date: &str) -> ErrorView {
    let mut error = ErrorView::new(StatusCode::OK, "no_journeys", lang.text("err_no_journeys"));
    if let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        let outside: Vec<FeedDates> = feeds
            .iter()
            .filter(|feed| {
                feed_period(feed).is_some_and(|(start, end)| !(start..=end).contains(&date))
            })
            .cloned()
            .collect();
        if !outside.is_empty() {
            error.details.push(lang.text("timetable_dates").to_owned());
            error.details.extend(feed_periods(&outside, lang));
        }
    }
    error
}

async fn field_error(
    ui: &Ui,
    state: &AppState,
    form: &TripForm,
    field: &'static str,
    message: &str,
) -> Page {
    let error = ErrorView::new(StatusCode::BAD_REQUEST, "invalid_form", message);
    form_page(ui, state, form, Some(error), Some(field)).await
}

fn choose_page(
    ui: &Ui,
    state: &AppState,
    form: &TripForm,
    from: Resolution,
    to: Resolution,
) -> Page {
    let lang = ui.lang;
    let split = |resolution: Resolution| match resolution {
        Resolution::Station(station) => (Some(StationView::new(&station)), Vec::new()),
        Resolution::Ambiguous(stations) => (None, stations.iter().map(StationView::new).collect()),
        Resolution::NoMatch | Resolution::Missing => (None, Vec::new()),
    };
    let (from_fixed, from_choices) = split(from);
    let (to_fixed, to_choices) = split(to);
    // The other fields travel along as hidden inputs.
    let carried = form
        .to_pairs()
        .into_iter()
        .filter(|(key, _)| !matches!(key.as_str(), "from" | "from_id" | "to" | "to_id"))
        .collect();
    let page = ChoosePage {
        title: lang.text("choose_title"),
        intro: lang.text("choose_intro"),
        form: carried,
        from_text: form.from.clone(),
        to_text: form.to.clone(),
        from_heading: lang.fill("choose_from", &[("q", &form.from)]),
        to_heading: lang.fill("choose_to", &[("q", &form.to)]),
        from_choices,
        to_choices,
        from_fixed,
        to_fixed,
    };
    ui.page(state, StatusCode::OK, "choose.html", &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(id: &str, name: &str, kind: MatchKind) -> Station {
        Station {
            id: id.to_owned(),
            name: name.to_owned(),
            match_kind: Some(kind),
            ..Station::default()
        }
    }

    #[test]
    fn picks_one_clear_match_or_asks() {
        assert!(matches!(pick("x", Vec::new()), Resolution::NoMatch));
        let only = pick("天神", vec![station("fukuoka:8", "天神", MatchKind::Prefix)]);
        assert!(matches!(only, Resolution::Station(found) if found.id == "fukuoka:8"));
        let exact = pick(
            "天神",
            vec![
                station("fukuoka:8", "天神", MatchKind::Exact),
                station("fukuoka:9", "天神南", MatchKind::Prefix),
            ],
        );
        assert!(matches!(exact, Resolution::Station(found) if found.id == "fukuoka:8"));
        let two_exact = pick(
            "中央",
            vec![
                station("a:1", "中央", MatchKind::Exact),
                station("b:1", "中央", MatchKind::Exact),
            ],
        );
        assert!(matches!(two_exact, Resolution::Ambiguous(found) if found.len() == 2));
        let prefixes = pick(
            "天",
            vec![
                station("fukuoka:8", "天神", MatchKind::Prefix),
                station("fukuoka:9", "天神南", MatchKind::Prefix),
            ],
        );
        assert!(matches!(prefixes, Resolution::Ambiguous(_)));
    }
}
