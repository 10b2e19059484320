//! `GET /stations/{id}/timetable?route=&direction=&date=`: a line's timetable (時刻表) at a
//! station for one service day, hour by hour, linked from the station page per line and
//! direction.

use axum::extract::{Path, RawQuery, State};
use http::StatusCode;
use serde::Serialize;

use super::{NETWORK_TZ, Ui, default_when, feeds, query_pairs, url_with_query};
use crate::AppState;
use crate::errors::ErrorView;
use crate::render::Page;
use crate::view::TimetableView;

#[derive(Serialize)]
struct TimetablePage {
    title: String,
    station_id: String,
    station_name: String,
    route: String,
    direction: Option<u8>,
    date: String,
    timetable: TimetableView,
    station_url: String,
}

pub async fn timetable(
    ui: Ui,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = ui.lang;
    let api = ui.api(&state);
    let pairs = query_pairs(query.as_deref().unwrap_or_default());
    let param = |name: &str| super::last_value(&pairs, name);
    let route = param("route").unwrap_or_default();
    // A direction that is not 0 or 1 goes to the API as it is, which names it in its answer.
    let direction_text = param("direction");
    let date = match param("date") {
        Some(date) => date,
        None => default_when(chrono::Utc::now().with_timezone(&NETWORK_TZ), &feeds(api).await)
            .date
            .to_string(),
    };
    let direction = match direction_text.as_deref().map(str::parse::<u8>) {
        None => None,
        Some(Ok(direction)) => Some(direction),
        Some(Err(_)) => {
            let message = lang.text("err_invalid");
            let error = ErrorView::new(StatusCode::BAD_REQUEST, "invalid_parameter", message);
            return ui.error_page(&state, &error);
        }
    };
    let answer = api.timetable(&id, &route, direction, Some(&date), lang.code()).await;
    let timetable = match answer {
        Ok(timetable) => timetable,
        Err(error) => {
            let feeds = if error.code() == Some("date_out_of_range") {
                feeds(api).await
            } else {
                Vec::new()
            };
            return ui.error_page(&state, &ErrorView::from_api(&error, lang, &feeds, &date));
        }
    };
    let view = TimetableView::new(&timetable, lang);
    let station_url = url_with_query(
        &format!(
            "/stations/{}",
            norikae_runtime::path::encode_path_segment(&timetable.station_id).unwrap_or_default()
        ),
        &[("date".to_owned(), date.clone())],
    );
    let page = TimetablePage {
        title: lang.fill(
            "timetable_title",
            &[("station", &timetable.station_name), ("line", &view.line.name)],
        ),
        station_id: timetable.station_id.clone(),
        station_name: timetable.station_name.clone(),
        route: timetable.route.id.clone(),
        direction: timetable.direction_id,
        date: timetable.date.clone(),
        timetable: view,
        station_url,
    };
    ui.page(&state, StatusCode::OK, "timetable.html", &page)
}
