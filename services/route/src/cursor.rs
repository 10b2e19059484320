//! Page cursors: opaque strings (URL-safe base64 of a small JSON struct) naming the departure
//! window of a page. Pages are consecutive half-open windows `[start, start + window)`, so
//! "later" continues exactly after this page and "earlier" ends exactly before it: every
//! journey is on exactly one page.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A page: departures from local `time_secs` after midnight of `date`, for `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    #[serde(rename = "d")]
    pub date: NaiveDate,
    #[serde(rename = "t")]
    pub time_secs: u32,
    #[serde(rename = "w")]
    pub window_secs: u32,
}

const DAY: u32 = 86_400;

impl Page {
    /// The same window with `time_secs` within `0..86400` (moving the date as needed).
    pub fn normalized(mut self) -> Self {
        while self.time_secs >= DAY {
            let Some(next) = self.date.succ_opt() else { break };
            self.date = next;
            self.time_secs -= DAY;
        }
        self
    }

    /// The page right after this one.
    pub fn later(self) -> Self {
        Self { time_secs: self.time_secs + self.window_secs, ..self }.normalized()
    }

    /// The page right before this one.
    pub fn earlier(self) -> Self {
        let mut page = self;
        let mut time = i64::from(page.time_secs) - i64::from(page.window_secs);
        while time < 0 {
            let Some(previous) = page.date.pred_opt() else { break };
            page.date = previous;
            time += i64::from(DAY);
        }
        page.time_secs = time.max(0) as u32;
        page
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(cursor: &str) -> Result<Self, Error> {
        let invalid =
            |reason: &str| Error::InvalidParameter { field: "cursor", reason: reason.to_owned() };
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .map_err(|_| invalid("not a cursor this service issued"))?;
        let page: Self = serde_json::from_slice(&bytes)
            .map_err(|_| invalid("not a cursor this service issued"))?;
        if page.window_secs == 0 {
            return Err(invalid("empty window"));
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_chain_without_gaps_across_midnight() {
        let date = NaiveDate::from_ymd_opt(2025, 6, 2).expect("valid date");
        let page = Page { date, time_secs: 23 * 3600, window_secs: 3600 };
        let later = page.later();
        assert_eq!((later.date, later.time_secs), (date.succ_opt().expect("date"), 0));
        assert_eq!(later.earlier(), page);
        assert_eq!(Page::decode(&page.encode()).expect("round trip"), page);
        assert!(Page::decode("garbage!").is_err());
    }
}
