//! The pages. [`Ui`] extracts what every page needs (language, request id, the URL for the
//! language switch); each area has its module.

pub mod assets;
pub mod home;
pub mod search;
pub mod station;
pub mod suggest;
pub mod timetable;
pub mod trip;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use http::StatusCode;
use http::request::Parts;
use serde::Serialize;

use norikae_wire::v1::FeedDates;

use crate::AppState;
use crate::client::Api;
use crate::errors::ErrorView;
use crate::i18n::Lang;
use crate::render::{LanguageLink, Page, PageBasics};

/// The network's time zone: "today" and "now" for the form's defaults.
pub const NETWORK_TZ: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/search", get(search::search))
        .route("/stations/{id}", get(station::station))
        .route("/trips/{id}", get(trip::trip))
        .route("/stations/{id}/timetable", get(timetable::timetable))
        .route("/suggest", get(suggest::suggest))
        .route("/static/{file}", get(assets::asset))
        .fallback(not_found)
}

/// What every page handler knows about its request.
#[derive(Clone, Debug)]
pub struct Ui {
    pub lang: Lang,
    /// `lang=` was given: the choice is remembered in a cookie.
    pub lang_from_param: bool,
    pub request_id: Option<String>,
    /// The balancer received the request over HTTPS (`X-Forwarded-Proto: https`): the
    /// language cookie is then `Secure`.
    pub behind_https: bool,
    /// This page's path, made local ([`local_path`]) for the language switch.
    path: String,
    /// The query's pairs, `lang` removed.
    query: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ui {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = query_pairs(parts.uri.query().unwrap_or_default());
        let from_param = pairs
            .iter()
            .rev()
            .find(|(key, _)| key == "lang")
            .and_then(|(_, value)| Lang::parse(value));
        let from_cookie = || {
            parts
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(';'))
                .filter_map(|cookie| cookie.trim().strip_prefix("lang="))
                .find_map(Lang::parse)
        };
        let from_header = || {
            parts
                .headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Lang::from_accept_language)
        };
        let lang = from_param.or_else(from_cookie).or_else(from_header).unwrap_or_default();
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            lang,
            lang_from_param: from_param.is_some(),
            request_id,
            behind_https: behind_https(&parts.headers),
            path: local_path(parts.uri.path()),
            query: pairs.into_iter().filter(|(key, _)| key != "lang").collect(),
        })
    }
}

impl Ui {
    pub fn basics(&self) -> PageBasics {
        let languages = Lang::ALL
            .iter()
            .map(|&lang| {
                let mut query = self.query.clone();
                query.push(("lang".to_owned(), lang.code().to_owned()));
                LanguageLink {
                    code: lang.code(),
                    name: lang.native_name(),
                    url: url_with_query(&self.path, &query),
                    current: lang == self.lang,
                }
            })
            .collect();
        PageBasics {
            lang: self.lang,
            lang_code: self.lang.code(),
            t: self.lang.table(),
            languages,
            request_id: self.request_id.clone(),
            asset_version: assets::version(),
        }
    }

    /// Renders a page of `template` with `data`.
    pub fn page<T: Serialize>(
        &self,
        state: &AppState,
        status: StatusCode,
        template: &str,
        data: &T,
    ) -> Page {
        Page {
            status,
            html: state.templates.render(template, &self.basics(), data),
            remember_lang: self.lang_from_param.then_some(self.lang),
            secure_cookie: self.behind_https,
        }
    }

    /// The error page.
    pub fn error_page(&self, state: &AppState, error: &ErrorView) -> Page {
        #[derive(Serialize)]
        struct ErrorPage<'a> {
            error: &'a ErrorView,
            title: &'static str,
        }
        let data = ErrorPage { error, title: self.lang.text("error_title") };
        self.page(state, error.status, "error.html", &data)
    }

    pub fn api<'a>(&'a self, state: &'a AppState) -> Api<'a> {
        state.api.call(self.request_id.as_deref())
    }
}

/// True when the balancer in front received the request over HTTPS. The ALB (and nginx in
/// compose) sets `X-Forwarded-Proto`, replacing what a client sent.
pub fn behind_https(headers: &http::HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// `path` as a link that stays on this site. A request path starting with `//` (or `/\`,
/// which browsers read alike) would echo as a scheme-relative link to another host
/// (`//evil.example/`): the leading slashes are folded into one.
pub fn local_path(path: &str) -> String {
    let rest = path.trim_start_matches(['/', '\\']);
    format!("/{rest}")
}

/// The pairs of a query string; malformed encodings are read leniently.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

/// The last non-blank value of `name` among `pairs`, trimmed (a link that repeats a
/// parameter means its last value, as a form's later field overrides an earlier one).
pub fn last_value(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(key, value)| key == name && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_owned())
}

/// `path?k=v&…` with the pairs form-encoded (no `?` without pairs).
pub fn url_with_query(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    match serde_urlencoded::to_string(pairs) {
        Ok(query) => format!("{path}?{query}"),
        Err(_) => path.to_owned(),
    }
}

async fn not_found(ui: Ui, axum::extract::State(state): axum::extract::State<AppState>) -> Page {
    let error =
        ErrorView::new(StatusCode::NOT_FOUND, "not_found", ui.lang.text("err_page_not_found"));
    ui.error_page(&state, &error)
}

/// The date and time a form starts with: now in the network's time zone, or, when today is
/// outside every feed's period, the same weekday on the latest date the timetable covers
/// (then `clamped` is true).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultWhen {
    pub date: NaiveDate,
    pub time: String,
    pub clamped: bool,
}

pub fn default_when(now: chrono::DateTime<chrono_tz::Tz>, feeds: &[FeedDates]) -> DefaultWhen {
    let today = now.date_naive();
    let time = now.format("%H:%M").to_string();
    let periods: Vec<(NaiveDate, NaiveDate)> = feeds.iter().filter_map(feed_period).collect();
    if periods.is_empty() || periods.iter().any(|(start, end)| (*start..=*end).contains(&today)) {
        return DefaultWhen { date: today, time, clamped: false };
    }
    let first = periods.iter().map(|(start, _)| *start).min().unwrap_or(today);
    let last = periods.iter().map(|(_, end)| *end).max().unwrap_or(today);
    let mut date = if today > last { last } else { first.max(today) };
    if today > last {
        // The same weekday as today, so the service pattern matches what the user expects.
        while date.weekday() != today.weekday() && date > first {
            date = date.pred_opt().unwrap_or(date);
        }
    }
    DefaultWhen { date, time, clamped: true }
}

/// A feed's service dates (`YYYY-MM-DD` or `YYYYMMDD`).
pub fn feed_period(feed: &FeedDates) -> Option<(NaiveDate, NaiveDate)> {
    let parse =
        |text: &str| NaiveDate::parse_from_str(&crate::errors::iso_date(text), "%Y-%m-%d").ok();
    Some((parse(&feed.start_date)?, parse(&feed.end_date)?))
}

/// The timetable's feeds, or none when the status cannot be read (the pages then simply do
/// not mention the periods).
pub async fn feeds(api: Api<'_>) -> Vec<FeedDates> {
    match api.status().await {
        Ok(status) => status.timetable.feeds,
        Err(error) => {
            tracing::debug!(%error, "no timetable status");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn feed(start: &str, end: &str) -> FeedDates {
        FeedDates { name: "x".to_owned(), start_date: start.to_owned(), end_date: end.to_owned() }
    }

    #[test]
    fn defaults_to_now_or_the_same_weekday_within_the_timetable() {
        let feeds = [feed("2019-03-16", "2020-03-31"), feed("20250316", "20251025")];
        // Thursday 2026-11-26, after every feed: the last Thursday covered, 2025-10-23.
        let now = NETWORK_TZ.with_ymd_and_hms(2026, 11, 26, 8, 5, 0).unwrap();
        let when = default_when(now, &feeds);
        assert_eq!(
            when,
            DefaultWhen {
                date: NaiveDate::from_ymd_opt(2025, 10, 23).unwrap(),
                time: "08:05".to_owned(),
                clamped: true
            }
        );
        // Inside a feed: today.
        let now = NETWORK_TZ.with_ymd_and_hms(2025, 6, 4, 17, 30, 0).unwrap();
        assert!(!default_when(now, &feeds).clamped);
        // No status: today.
        assert_eq!(default_when(now, &[]).date, NaiveDate::from_ymd_opt(2025, 6, 4).unwrap());
    }

    #[test]
    fn builds_language_links_keeping_the_query() {
        let url = url_with_query(
            "/search",
            &[("from".to_owned(), "岡山駅".to_owned()), ("lang".to_owned(), "en".to_owned())],
        );
        assert_eq!(url, "/search?from=%E5%B2%A1%E5%B1%B1%E9%A7%85&lang=en");
        assert_eq!(url_with_query("/", &[]), "/");
    }
}
