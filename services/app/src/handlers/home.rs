//! `GET /`: the trip form. Parameters prefill it (`from`, `from_id`, `to`, `to_id`, `date`,
//! `time`, `arrive`, options), which is how the station page's "plan from here" and the
//! results' "change search" come back to it.

use axum::extract::{RawQuery, State};
use http::StatusCode;
use serde::Serialize;

use super::{DefaultWhen, NETWORK_TZ, Ui, default_when, feed_period, feeds, query_pairs};
use norikae_wire::v1::FeedDates;

use crate::AppState;
pub use crate::client::DayEnd;
use crate::errors::{ErrorView, feed_periods};
use crate::i18n::Lang;
use crate::render::Page;

/// The orders the results offer (早 / 楽 / 安), as the API names them.
pub const SORTS: [&str; 3] = ["fastest", "fewest_transfers", "cheapest"];

/// The trip form's fields as submitted (every field optional and free text, validated by the
/// search handler with messages in the page's language).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TripForm {
    pub from: String,
    pub from_id: String,
    pub to: String,
    pub to_id: String,
    pub date: String,
    pub time: String,
    pub arrive_by: bool,
    pub fewer_transfers: bool,
    pub wheelchair: bool,
    pub less_walking: bool,
    pub cursor: String,
    /// `arrive=first` / `arrive=last`: the first or last journey of the day (始発 / 終電).
    pub day_end: Option<DayEnd>,
    /// `fastest`, `fewest_transfers` or `cheapest` (早 / 楽 / 安); empty: by departure.
    pub sort: String,
}

impl TripForm {
    /// Reads the form from a query string (the last of repeated fields wins).
    pub fn parse(query: &str) -> Self {
        let mut form = Self::default();
        let checked = |value: &str| matches!(value, "on" | "1" | "true" | "yes");
        for (key, value) in query_pairs(query) {
            let trimmed = value.trim().to_owned();
            match key.as_str() {
                "from" => form.from = trimmed,
                "from_id" => form.from_id = trimmed,
                "to" => form.to = trimmed,
                "to_id" => form.to_id = trimmed,
                "date" => form.date = trimmed,
                "time" => form.time = trimmed,
                "arrive" => {
                    form.arrive_by = trimmed == "arrive";
                    form.day_end = match trimmed.as_str() {
                        "first" => Some(DayEnd::First),
                        "last" => Some(DayEnd::Last),
                        _ => None,
                    };
                }
                "sort" if SORTS.contains(&trimmed.as_str()) => form.sort = trimmed,
                "fewer_transfers" => form.fewer_transfers = checked(&trimmed),
                "wheelchair" => form.wheelchair = checked(&trimmed),
                "less_walking" => form.less_walking = checked(&trimmed),
                "cursor" => form.cursor = trimmed,
                _ => {}
            }
        }
        form
    }

    /// The form as query pairs (for links that repeat the search), without the cursor.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut push = |key: &str, value: &str| {
            if !value.is_empty() {
                pairs.push((key.to_owned(), value.to_owned()));
            }
        };
        push("from", &self.from);
        push("from_id", &self.from_id);
        push("to", &self.to);
        push("to_id", &self.to_id);
        push("date", &self.date);
        push("time", &self.time);
        push(
            "arrive",
            match (self.day_end, self.arrive_by) {
                (Some(DayEnd::First), _) => "first",
                (Some(DayEnd::Last), _) => "last",
                (None, true) => "arrive",
                (None, false) => "",
            },
        );
        push("sort", &self.sort);
        push("fewer_transfers", if self.fewer_transfers { "on" } else { "" });
        push("wheelchair", if self.wheelchair { "on" } else { "" });
        push("less_walking", if self.less_walking { "on" } else { "" });
        pairs
    }
}

/// The form as the template shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FormView {
    pub from: String,
    pub from_id: String,
    pub to: String,
    pub to_id: String,
    pub date: String,
    pub time: String,
    pub arrive_by: bool,
    /// `first` or `last` when the form asks for the first or last journey of the day.
    pub day_end: Option<&'static str>,
    pub fewer_transfers: bool,
    pub wheelchair: bool,
    pub less_walking: bool,
    /// The date input's bounds: the timetable's first and last dates.
    pub min_date: Option<String>,
    pub max_date: Option<String>,
    /// The date was moved into the timetable (today is outside it).
    pub date_clamped: bool,
    /// The timetable's periods, one line per feed.
    pub periods: Vec<String>,
    /// The field a message is about (`from`, `to`), for `aria-invalid`.
    pub invalid_field: Option<&'static str>,
}

impl FormView {
    /// The form for `form`, with empty date and time replaced by `when`.
    pub fn new(form: &TripForm, when: &DefaultWhen, feeds: &[FeedDates], lang: Lang) -> Self {
        let periods: Vec<_> = feeds.iter().filter_map(feed_period).collect();
        Self {
            from: form.from.clone(),
            from_id: form.from_id.clone(),
            to: form.to.clone(),
            to_id: form.to_id.clone(),
            date: if form.date.is_empty() { when.date.to_string() } else { form.date.clone() },
            time: if form.time.is_empty() { when.time.clone() } else { form.time.clone() },
            arrive_by: form.arrive_by,
            day_end: form.day_end.map(|day_end| match day_end {
                DayEnd::First => "first",
                DayEnd::Last => "last",
            }),
            fewer_transfers: form.fewer_transfers,
            wheelchair: form.wheelchair,
            less_walking: form.less_walking,
            min_date: periods.iter().map(|(start, _)| *start).min().map(|date| date.to_string()),
            max_date: periods.iter().map(|(_, end)| *end).max().map(|date| date.to_string()),
            date_clamped: form.date.is_empty() && when.clamped,
            periods: feed_periods(feeds, lang),
            invalid_field: None,
        }
    }
}

#[derive(Serialize)]
pub struct HomePage {
    pub title: &'static str,
    pub form: FormView,
    pub error: Option<ErrorView>,
}

pub async fn home(ui: Ui, State(state): State<AppState>, RawQuery(query): RawQuery) -> Page {
    let form = TripForm::parse(query.as_deref().unwrap_or_default());
    form_page(&ui, &state, &form, None, None).await
}

/// The home page with `form` filled in and, when a search could not run, its error.
pub async fn form_page(
    ui: &Ui,
    state: &AppState,
    form: &TripForm,
    error: Option<ErrorView>,
    invalid_field: Option<&'static str>,
) -> Page {
    let feeds = feeds(ui.api(state)).await;
    let when = default_when(chrono::Utc::now().with_timezone(&NETWORK_TZ), &feeds);
    let mut form_view = FormView::new(form, &when, &feeds, ui.lang);
    form_view.invalid_field = invalid_field;
    let status = error.as_ref().map_or(StatusCode::OK, |error| error.status);
    let page = HomePage { title: ui.lang.text("plan_heading"), form: form_view, error };
    ui.page(state, status, "home.html", &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_leniently() {
        let form = TripForm::parse(
            "from=%E5%B2%A1%E5%B1%B1&from_id=&to=+tenjin+&arrive=arrive&wheelchair=on&date=2025-06-04&to=x",
        );
        assert_eq!(form.from, "岡山");
        assert_eq!(form.to, "x");
        assert!(form.arrive_by && form.wheelchair && !form.fewer_transfers);
        let pairs = form.to_pairs();
        assert!(pairs.contains(&("arrive".to_owned(), "arrive".to_owned())));
        assert!(!pairs.iter().any(|(key, _)| key == "from_id"));
        let last = TripForm::parse("from_id=fukuoka:8&to_id=fukuoka:1&arrive=last&sort=cheapest");
        assert_eq!(
            (last.day_end, last.arrive_by, last.sort.as_str()),
            (Some(DayEnd::Last), false, "cheapest")
        );
        assert!(last.to_pairs().contains(&("arrive".to_owned(), "last".to_owned())));
        assert_eq!(TripForm::parse("sort=slowest").sort, "", "only the orders the API knows");
        // Garbage is an empty form, not an error.
        assert_eq!(TripForm::parse("%zz=%%"), TripForm::default());
    }
}
