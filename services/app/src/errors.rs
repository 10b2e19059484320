//! API errors → messages a traveller can act on, in the page's language. Never a stack
//! trace or an internal detail: the cause is logged, the page says what happened and what to
//! do (try again later, pick a date within the timetable, check the station name, …).

use http::StatusCode;
use serde::Serialize;

use norikae_wire::v1::FeedDates;

use crate::client::ApiError;
use crate::i18n::Lang;

/// What a page shows for an error.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ErrorView {
    /// HTTP status of the page.
    #[serde(skip)]
    pub status: StatusCode,
    pub message: String,
    /// Further lines (the timetable's periods, …).
    pub details: Vec<String>,
    /// Whether trying again later may help (shows a "try again" link).
    pub retry: bool,
    /// The API's problem `code`, for tests and support (also in a `data-` attribute).
    pub code: String,
}

impl ErrorView {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: Vec::new(),
            retry: false,
            code: code.to_owned(),
        }
    }

    fn retry(mut self) -> Self {
        self.retry = true;
        self
    }

    /// Explains an API error. `feeds` (from `/v1/status`) lists the timetable's periods for
    /// date errors; `date` is the date the user asked for.
    pub fn from_api(error: &ApiError, lang: Lang, feeds: &[FeedDates], date: &str) -> Self {
        match error {
            ApiError::Unreachable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unreachable",
                lang.text("err_unreachable"),
            )
            .retry(),
            ApiError::Timeout => {
                Self::new(StatusCode::GATEWAY_TIMEOUT, "timeout", lang.text("err_timeout")).retry()
            }
            ApiError::Invalid(_) => {
                Self::new(StatusCode::BAD_GATEWAY, "invalid_answer", lang.text("err_generic"))
                    .retry()
            }
            ApiError::Problem { status, problem, retry_after_secs } => {
                let code = problem.code.as_str();
                let field = problem.field.as_deref().unwrap_or_default();
                match (code, *status) {
                    ("date_out_of_range", _) => {
                        let mut view = Self::new(
                            StatusCode::BAD_REQUEST,
                            code,
                            lang.fill("err_date_out_of_range", &[("date", date)]),
                        );
                        if !feeds.is_empty() {
                            view.details.push(lang.text("err_date_hint").to_owned());
                            view.details.extend(feed_periods(feeds, lang));
                        }
                        view
                    }
                    ("unknown_station", _) => {
                        Self::new(StatusCode::NOT_FOUND, code, lang.text("err_unknown_station"))
                    }
                    ("unknown_trip" | "trip_not_running", _) => {
                        Self::new(StatusCode::NOT_FOUND, code, lang.text("err_unknown_trip"))
                    }
                    ("no_stop_nearby", _) => {
                        Self::new(StatusCode::BAD_REQUEST, code, lang.text("err_no_stop_nearby"))
                    }
                    ("invalid_parameter" | "missing_parameter", _) if field == "date" => {
                        Self::new(StatusCode::BAD_REQUEST, code, lang.text("err_invalid_date"))
                    }
                    ("invalid_parameter" | "missing_parameter", _) if field == "time" => {
                        Self::new(StatusCode::BAD_REQUEST, code, lang.text("err_invalid_time"))
                    }
                    ("not_ready", _) => {
                        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, lang.text("err_not_ready"))
                            .retry()
                    }
                    ("query_timeout", _) | (_, 504) => {
                        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, lang.text("err_timeout"))
                            .retry()
                    }
                    (_, 429) => {
                        let wait = retry_after_secs.unwrap_or(30).to_string();
                        Self::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            code,
                            lang.fill("err_rate_limited", &[("n", &wait)]),
                        )
                        .retry()
                    }
                    (_, 401 | 403) => {
                        Self::new(StatusCode::BAD_GATEWAY, code, lang.text("err_forbidden"))
                    }
                    (_, 502 | 503) => Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        code,
                        lang.text("err_unreachable"),
                    )
                    .retry(),
                    (_, 400..=499) => Self::new(
                        StatusCode::BAD_REQUEST,
                        code,
                        lang.fill(
                            "err_invalid",
                            &[("field", if field.is_empty() { code } else { field })],
                        ),
                    ),
                    _ => Self::new(StatusCode::BAD_GATEWAY, code, lang.text("err_generic")).retry(),
                }
            }
        }
    }
}

/// `両備バス: 2025-03-16 〜 2025-10-25`, one line per feed.
pub fn feed_periods(feeds: &[FeedDates], lang: Lang) -> Vec<String> {
    feeds
        .iter()
        .map(|feed| {
            format!(
                "{}: {} 〜 {}",
                feed_display_name(&feed.name, lang),
                iso_date(&feed.start_date),
                iso_date(&feed.end_date)
            )
        })
        .collect()
}

/// The bundled feeds by their operators' names; other feeds by their own.
pub fn feed_display_name(name: &str, lang: Lang) -> String {
    let known = match (name, lang) {
        ("ryobi", Lang::Ja) => "両備バス",
        ("ryobi", Lang::En) => "Ryobi Bus",
        ("okaden", Lang::Ja) => "岡電バス",
        ("okaden", Lang::En) => "Okaden Bus",
        ("chutetsu", Lang::Ja) => "中鉄バス",
        ("chutetsu", Lang::En) => "Chutetsu Bus",
        ("fukuoka", Lang::Ja) => "福岡市地下鉄",
        ("fukuoka", Lang::En) => "Fukuoka City Subway",
        _ => return name.to_owned(),
    };
    known.to_owned()
}

/// `2025-03-16` from `2025-03-16` or GTFS's `20250316`.
pub fn iso_date(text: &str) -> String {
    let text = text.trim();
    if text.len() == 8 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..])
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use norikae_wire::ProblemBody;

    use super::*;

    fn problem(status: u16, code: &str, field: Option<&str>) -> ApiError {
        ApiError::Problem {
            status,
            problem: ProblemBody {
                status,
                title: String::new(),
                detail: "internal detail that must not show".to_owned(),
                code: code.to_owned(),
                field: field.map(str::to_owned),
                ..ProblemBody::default()
            },
            retry_after_secs: Some(7),
        }
    }

    #[test]
    fn explains_each_kind_in_both_languages() {
        let feeds = [FeedDates {
            name: "fukuoka".to_owned(),
            start_date: "20190316".to_owned(),
            end_date: "2020-03-31".to_owned(),
        }];
        let view = ErrorView::from_api(
            &problem(400, "date_out_of_range", Some("date")),
            Lang::En,
            &feeds,
            "2030-01-01",
        );
        assert_eq!(view.status, StatusCode::BAD_REQUEST);
        assert!(view.message.contains("2030-01-01 is outside the timetable"), "{view:?}");
        assert!(
            view.details.iter().any(|line| line == "Fukuoka City Subway: 2019-03-16 〜 2020-03-31"),
            "{view:?}"
        );

        let view = ErrorView::from_api(
            &ApiError::Unreachable("connection refused".to_owned()),
            Lang::Ja,
            &[],
            "",
        );
        assert_eq!(view.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(view.message.contains("接続できません"));
        assert!(view.retry);

        let view = ErrorView::from_api(&problem(429, "rate_limited", None), Lang::En, &[], "");
        assert!(view.message.contains("wait 7 seconds"), "{view:?}");

        let view = ErrorView::from_api(&problem(500, "internal", None), Lang::En, &[], "");
        assert!(!view.message.contains("internal detail"));
        assert_eq!(view.status, StatusCode::BAD_GATEWAY);

        let view = ErrorView::from_api(
            &problem(400, "invalid_parameter", Some("time")),
            Lang::Ja,
            &[],
            "",
        );
        assert!(view.message.contains("08:30"));
    }
}
