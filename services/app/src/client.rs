//! The app's client of the public `/v1` API: one `reqwest` client (connection pool) shared by
//! all requests, the app's key when configured, the page request's id forwarded as
//! `X-Request-Id`, and errors sorted into what the pages explain differently ([`ApiError`]).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use norikae_wire::ProblemBody;
use norikae_wire::lang::LangParams;
use norikae_wire::route::{
    DeparturesParams, JourneysParams, TimetableParams, TimetableResponse, TripParams,
};
use norikae_wire::search::{
    NearbyParams, NearbyResponse, SearchParams, SearchResponse, StationDetail,
};
use norikae_wire::v1::{AlertedTrip, ApiStatus, DepartureBoard, JourneyPage};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::UpstreamSettings;

/// How long the timetable's service dates (`/v1/status`) are reused before asking again.
const STATUS_CACHE_TTL: Duration = Duration::from_secs(60);

/// What went wrong calling the API, sorted by what the user is told.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No connection: the API (or what it depends on) is down.
    #[error("the api is unreachable: {0}")]
    Unreachable(String),
    /// The API did not answer within the upstream timeout.
    #[error("the api did not answer in time")]
    Timeout,
    /// The API answered with a problem+json error.
    #[error("the api answered {status} {}: {}", problem.code, problem.detail)]
    Problem { status: u16, problem: ProblemBody, retry_after_secs: Option<u64> },
    /// The API answered something the app cannot read.
    #[error("unexpected answer from the api: {0}")]
    Invalid(String),
}

impl ApiError {
    /// The problem's stable `code`, if the API sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Problem { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The parameters of `GET /v1/journeys` the app uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JourneyQuery {
    pub from: String,
    pub to: String,
    pub date: Option<String>,
    pub time: Option<String>,
    pub arrive_by: bool,
    pub max_transfers: Option<u8>,
    pub max_walk_m: Option<u32>,
    pub wheelchair: bool,
    pub cursor: Option<String>,
    pub lang: String,
    /// 始発 / 終電: the first or last journey of the day (`time`, the cursor and `arrive_by`
    /// do not apply).
    pub day_end: Option<DayEnd>,
    /// `fastest`, `fewest_transfers` or `cheapest`; none: by departure.
    pub sort: Option<String>,
}

/// The first or the last journey of a service day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayEnd {
    First,
    Last,
}

impl JourneyQuery {
    /// The query as the api takes it: a first or last journey asks for the date only, a
    /// cursor replaces date, time and direction.
    fn to_params(&self) -> JourneysParams {
        let mut params = JourneysParams {
            from: Some(self.from.clone()),
            to: Some(self.to.clone()),
            max_transfers: self.max_transfers,
            max_walk_m: self.max_walk_m,
            wheelchair: self.wheelchair.then_some(true),
            sort: self.sort.clone(),
            lang: Some(self.lang.clone()),
            ..JourneysParams::default()
        };
        match (self.day_end, &self.cursor) {
            (Some(day_end), _) => {
                params.date.clone_from(&self.date);
                match day_end {
                    DayEnd::First => params.first = Some(true),
                    DayEnd::Last => params.last = Some(true),
                }
            }
            (None, Some(cursor)) => params.cursor = Some(cursor.clone()),
            (None, None) => {
                params.date.clone_from(&self.date);
                params.time.clone_from(&self.time);
                params.arrive_by = self.arrive_by.then_some(true);
            }
        }
        params
    }
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Arc<str>,
    api_key: Option<Arc<str>>,
    status_cache: Arc<Mutex<Option<(Instant, ApiStatus)>>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ApiClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(settings: &UpstreamSettings) -> anyhow::Result<Self> {
        // An `https://` api is checked against the system's roots (rustls), plus the CAs of
        // `upstream.api_ca_file` when set.
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout())
            .connect_timeout(settings.timeout().min(Duration::from_secs(2)))
            .pool_idle_timeout(settings.pool_idle_timeout())
            .user_agent(concat!("norikae-app/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.api_ca_file {
            for certificate in extra_roots(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().context("cannot build the api client")?;
        let base = format!("{}/v1", settings.api_url.trim().trim_end_matches('/'));
        Ok(Self {
            http,
            base: base.into(),
            api_key: settings.api_key.as_deref().filter(|key| !key.is_empty()).map(Arc::from),
            status_cache: Arc::default(),
        })
    }

    /// A handle whose calls carry the page request's id.
    pub fn call<'a>(&'a self, request_id: Option<&'a str>) -> Api<'a> {
        Api { client: self, request_id }
    }
}

/// The CA certificates in the PEM file `path` (`upstream.api_ca_file`).
fn extra_roots(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .with_context(|| format!("upstream.api_ca_file ({shown}) cannot be read"))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("upstream.api_ca_file ({shown}) is not a PEM bundle"))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "upstream.api_ca_file ({shown}) holds no PEM certificate"
    );
    Ok(certificates)
}

/// One page request's view of the client.
#[derive(Clone, Copy, Debug)]
pub struct Api<'a> {
    client: &'a ApiClient,
    request_id: Option<&'a str>,
}

impl Api<'_> {
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &(impl Serialize + ?Sized),
    ) -> Result<T, ApiError> {
        let mut url = format!("{}{path}", self.client.base);
        let query = serde_urlencoded::to_string(query)
            .map_err(|error| ApiError::Invalid(error.to_string()))?;
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut request =
            self.client.http.get(&url).header(http::header::ACCEPT, "application/json");
        if let Some(key) = &self.client.api_key {
            request = request.header("x-api-key", &**key);
        }
        if let Some(id) = self.request_id {
            request = request.header("x-request-id", id);
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|error| {
            tracing::warn!(path, error = %error_chain(&error), "api call failed");
            if error.is_timeout() {
                ApiError::Timeout
            } else {
                ApiError::Unreachable(error_chain(&error))
            }
        })?;
        let status = response.status();
        tracing::debug!(
            path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "api call"
        );
        if status.is_success() {
            let body = response.bytes().await.map_err(|error| {
                if error.is_timeout() {
                    ApiError::Timeout
                } else {
                    ApiError::Unreachable(error_chain(&error))
                }
            })?;
            return serde_json::from_slice(&body).map_err(|error| {
                tracing::warn!(path, %error, "unreadable api answer");
                ApiError::Invalid(format!("{path}: {error}"))
            });
        }
        let retry_after_secs = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        let body = response.bytes().await.unwrap_or_default();
        let mut problem: ProblemBody = serde_json::from_slice(&body).unwrap_or_default();
        problem.status = status.as_u16();
        if problem.code.is_empty() {
            // Not problem+json (a balancer's 502 page, say): name the kind by its status.
            problem.code = match status.as_u16() {
                502..=504 => "upstream_unavailable",
                404 => "not_found",
                _ => "unexpected_status",
            }
            .to_owned();
        }
        tracing::info!(path, status = status.as_u16(), code = %problem.code, detail = %problem.detail, "api error answer");
        Err(ApiError::Problem { status: status.as_u16(), problem, retry_after_secs })
    }

    /// `GET /v1/stations?q=`.
    pub async fn search_stations(
        &self,
        text: &str,
        lang: &str,
        limit: usize,
    ) -> Result<SearchResponse, ApiError> {
        let query = SearchParams {
            q: Some(text.to_owned()),
            lang: Some(lang.to_owned()),
            limit: Some(page_size(limit)),
            near: None,
        };
        self.get("/stations", &query).await
    }

    /// `GET /v1/stations/nearby`.
    pub async fn nearby(
        &self,
        lat: f64,
        lon: f64,
        lang: &str,
        limit: usize,
    ) -> Result<NearbyResponse, ApiError> {
        let query = NearbyParams {
            lat,
            lon,
            radius_m: Some(1000.0),
            limit: Some(page_size(limit)),
            lang: Some(lang.to_owned()),
        };
        self.get("/stations/nearby", &query).await
    }

    /// `GET /v1/stations/{id}`.
    pub async fn station(&self, id: &str, lang: &str) -> Result<StationDetail, ApiError> {
        let query = LangParams { lang: Some(lang.to_owned()) };
        self.get(&format!("/stations/{}", station_segment(id)?), &query).await
    }

    /// `GET /v1/stations/{id}/departures`.
    pub async fn departures(
        &self,
        id: &str,
        date: Option<&str>,
        time: Option<&str>,
        limit: usize,
        lang: &str,
    ) -> Result<DepartureBoard, ApiError> {
        let query = DeparturesParams {
            date: date.map(str::to_owned),
            time: time.map(str::to_owned),
            limit: Some(page_size(limit)),
            lang: Some(lang.to_owned()),
        };
        self.get(&format!("/stations/{}/departures", station_segment(id)?), &query).await
    }

    /// `GET /v1/trips/{id}?date=`.
    pub async fn trip(&self, id: &str, date: &str, lang: &str) -> Result<AlertedTrip, ApiError> {
        let segment = id_segment(id, "unknown_trip", "trip")?;
        let query = TripParams { date: Some(date.to_owned()), lang: Some(lang.to_owned()) };
        self.get(&format!("/trips/{segment}"), &query).await
    }

    /// `GET /v1/stations/{id}/timetable`.
    pub async fn timetable(
        &self,
        id: &str,
        route: &str,
        direction: Option<u8>,
        date: Option<&str>,
        lang: &str,
    ) -> Result<TimetableResponse, ApiError> {
        let query = TimetableParams {
            route: Some(route.to_owned()),
            direction,
            date: date.map(str::to_owned),
            lang: Some(lang.to_owned()),
        };
        self.get(&format!("/stations/{}/timetable", station_segment(id)?), &query).await
    }

    /// `GET /v1/journeys`.
    pub async fn journeys(&self, query: &JourneyQuery) -> Result<JourneyPage, ApiError> {
        self.get("/journeys", &query.to_params()).await
    }

    /// `GET /v1/status`, reused for a minute: the pages only need the service dates.
    pub async fn status(&self) -> Result<ApiStatus, ApiError> {
        if let Ok(cache) = self.client.status_cache.lock()
            && let Some((fetched, status)) = cache.as_ref()
            && fetched.elapsed() < STATUS_CACHE_TTL
        {
            return Ok(status.clone());
        }
        let status: ApiStatus = self.get("/status", &[] as &[(&str, String)]).await?;
        if let Ok(mut cache) = self.client.status_cache.lock() {
            *cache = Some((Instant::now(), status.clone()));
        }
        Ok(status)
    }
}

/// An id as one path segment of an API URL, percent-encoded (ids are `FEED:ID`, but feeds may
/// put anything in an id). `.` and `..` are no station's id and would climb the API's path
/// (URL parsers remove dot segments however they are escaped): answered as an unknown station
/// without calling the API.
pub fn station_segment(id: &str) -> Result<String, ApiError> {
    id_segment(id, "unknown_station", "station or stop")
}

/// `id` as one path segment, or the 404 `code` (`no {what} has the id …`) for `.` and `..`.
fn id_segment(id: &str, code: &str, what: &str) -> Result<String, ApiError> {
    norikae_runtime::path::encode_path_segment(id).ok_or_else(|| ApiError::Problem {
        status: 404,
        problem: ProblemBody {
            status: 404,
            title: "Not Found".to_owned(),
            detail: format!("no {what} has the id `{id}`"),
            code: code.to_owned(),
            field: None,
            ..ProblemBody::default()
        },
        retry_after_secs: None,
    })
}

/// The error and its causes on one line (reqwest's top-level message hides the cause).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A page size as the api's parameters take it.
fn page_size(limit: usize) -> u32 {
    u32::try_from(limit).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the parameters the api is sent, in order.
    fn keys(query: &JourneyQuery) -> Vec<String> {
        let text = serde_urlencoded::to_string(query.to_params()).expect("a query string");
        text.split('&').map(|pair| pair.split('=').next().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn encodes_ids_as_one_path_segment() {
        assert_eq!(station_segment("okaden:18_10").unwrap(), "okaden:18_10");
        assert_eq!(station_segment("x:a/b c").unwrap(), "x:a%2Fb%20c");
        assert_eq!(station_segment("x:駅").unwrap(), "x:%E9%A7%85");
        assert_eq!(station_segment("..").unwrap_err().code(), Some("unknown_station"));
    }

    #[test]
    fn a_cursor_replaces_date_time_and_direction() {
        let query = JourneyQuery {
            from: "fukuoka:8".to_owned(),
            to: "fukuoka:1".to_owned(),
            date: Some("2019-06-05".to_owned()),
            time: Some("08:00".to_owned()),
            arrive_by: true,
            cursor: Some("abc".to_owned()),
            wheelchair: true,
            lang: "en".to_owned(),
            ..JourneyQuery::default()
        };
        assert_eq!(keys(&query), ["from", "to", "wheelchair", "cursor", "lang"]);
    }

    #[test]
    fn the_last_train_asks_for_the_date_only_with_the_sort() {
        let query = JourneyQuery {
            from: "fukuoka:8".to_owned(),
            to: "fukuoka:1".to_owned(),
            date: Some("2019-06-05".to_owned()),
            time: Some("08:00".to_owned()),
            arrive_by: true,
            cursor: Some("abc".to_owned()),
            day_end: Some(DayEnd::Last),
            sort: Some("fastest".to_owned()),
            lang: "ja".to_owned(),
            ..JourneyQuery::default()
        };
        assert_eq!(keys(&query), ["from", "to", "date", "lang", "last", "sort"]);
    }
}
