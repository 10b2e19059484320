//! `GET /stations/{id}`: a station's departure board by line and direction (`date`, `time`,
//! default now), its reading, lines, and the stations nearby.

use axum::extract::{Path, RawQuery, State};
use chrono::NaiveDate;
use http::StatusCode;
use serde::Serialize;

use super::{NETWORK_TZ, Ui, default_when, feeds, query_pairs, url_with_query};
use crate::AppState;
use crate::errors::ErrorView;
use crate::render::Page;
use crate::view::{AlertView, BoardGroupView, StationView};

/// Departures per line and direction.
const DEPARTURES_PER_GROUP: usize = 4;
/// More of them with `more=1`.
const MORE_DEPARTURES_PER_GROUP: usize = 12;
/// Nearby stations listed.
const NEARBY: usize = 8;

#[derive(Serialize)]
struct StationPage {
    title: String,
    station: StationView,
    agencies: Vec<String>,
    date: String,
    time: String,
    groups: Vec<BoardGroupView>,
    alerts: Vec<AlertView>,
    departures_error: Option<ErrorView>,
    nearby: Vec<StationView>,
    nearby_error: Option<ErrorView>,
    plan_from_url: String,
    plan_to_url: String,
    more_url: Option<String>,
    date_clamped: bool,
}

pub async fn station(
    ui: Ui,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = ui.lang;
    let api = ui.api(&state);
    let pairs = query_pairs(query.as_deref().unwrap_or_default());
    let param = |name: &str| super::last_value(&pairs, name);
    let more = param("more").is_some();
    let (mut date, mut time) = (param("date"), param("time"));
    let mut date_clamped = false;
    if date.is_none() || time.is_none() {
        let when = default_when(chrono::Utc::now().with_timezone(&NETWORK_TZ), &feeds(api).await);
        date_clamped = date.is_none() && when.clamped;
        date.get_or_insert_with(|| when.date.to_string());
        time.get_or_insert(when.time);
    }
    let (date, time) = (date.unwrap_or_default(), time.unwrap_or_default());
    let limit = if more { MORE_DEPARTURES_PER_GROUP } else { DEPARTURES_PER_GROUP };

    let (detail, departures) = tokio::join!(
        api.station(&id, lang.code()),
        api.departures(&id, Some(&date), Some(&time), limit, lang.code())
    );
    let detail = match detail {
        Ok(detail) => detail,
        Err(error) => return ui.error_page(&state, &ErrorView::from_api(&error, lang, &[], &date)),
    };
    let station = detail.station;
    let nearby = api.nearby(station.lat, station.lon, lang.code(), NEARBY + 1).await;

    let board_date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok();
    let (groups, alerts, departures_error) = match departures {
        Ok(board) => (
            board.groups.iter().map(|group| BoardGroupView::new(group, board_date, lang)).collect(),
            AlertView::list(&board.alerts),
            None,
        ),
        Err(error) => {
            let feeds = if error.code() == Some("date_out_of_range") {
                feeds(api).await
            } else {
                Vec::new()
            };
            let mut view = ErrorView::from_api(&error, lang, &feeds, &date);
            view.details.insert(0, lang.text("err_departures").to_owned());
            (Vec::new(), Vec::new(), Some(view))
        }
    };
    let (nearby, nearby_error) = match nearby {
        Ok(found) => (
            found
                .results
                .iter()
                .filter(|candidate| candidate.id != station.id)
                .take(NEARBY)
                .map(StationView::new)
                .collect(),
            None,
        ),
        Err(error) => {
            tracing::info!(%error, "nearby stations unavailable");
            (Vec::new(), Some(ErrorView::new(StatusCode::OK, "nearby", lang.text("err_nearby"))))
        }
    };
    let plan = |side: &str| {
        url_with_query(
            "/",
            &[
                (side.to_owned(), station.name.clone()),
                (format!("{side}_id"), station.id.clone()),
                ("date".to_owned(), date.clone()),
                ("time".to_owned(), time.clone()),
            ],
        )
    };
    let more_url = (!more && !groups.is_empty()).then(|| {
        url_with_query(
            &format!(
                "/stations/{}",
                norikae_runtime::path::encode_path_segment(&station.id).unwrap_or_default()
            ),
            &[
                ("date".to_owned(), date.clone()),
                ("time".to_owned(), time.clone()),
                ("more".to_owned(), "1".to_owned()),
            ],
        )
    });
    let page = StationPage {
        title: lang.fill("departures_at", &[("station", &station.name)]),
        plan_from_url: plan("from"),
        plan_to_url: plan("to"),
        agencies: station.agencies.clone(),
        station: StationView::new(&station),
        date,
        time,
        groups,
        alerts,
        departures_error,
        nearby,
        nearby_error,
        more_url,
        date_clamped,
    };
    ui.page(&state, StatusCode::OK, "station.html", &page)
}
