//! The UI's two languages: every string of the pages in Japanese and English, and how a
//! request's language is chosen (`lang` parameter, then the `lang` cookie, then
//! `Accept-Language`, then Japanese).

use std::collections::BTreeMap;

use serde::Serialize;

/// A UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// `ja`, `ja-JP`, `en`, `en-GB`, … (case-insensitive); anything else is `None`.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Some(Self::Ja)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag, used for `<html lang>` and the API's `lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::Ja => "日本語",
            Self::En => "English",
        }
    }

    /// The first of our languages in an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::parse) else { continue };
            let quality = parts
                .find_map(|part| part.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(best_quality, _)| quality > best_quality) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The UI string `key` in this language; empty if unknown (a test keeps every key the
    /// code and templates use in the table).
    pub fn text(self, key: &str) -> &'static str {
        STRINGS.iter().find(|(candidate, _, _)| *candidate == key).map_or("", |(_, ja, en)| {
            match self {
                Self::Ja => ja,
                Self::En => en,
            }
        })
    }

    /// The UI string `key` with `{name}` placeholders replaced.
    pub fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.text(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The count string `key` for `n` things: `{key}_one` when `n` is 1 (English says
    /// "1 stop", Japanese has one form for both), else `key`, with `{n}` filled in.
    pub fn count(self, key: &str, n: impl std::fmt::Display) -> String {
        let n = n.to_string();
        let singular = format!("{key}_one");
        let key = if n == "1" && !self.text(&singular).is_empty() { &singular } else { key };
        self.fill(key, &[("n", &n)])
    }

    /// Every string in this language, for the templates (`t.key`).
    pub fn table(self) -> BTreeMap<&'static str, &'static str> {
        STRINGS.iter().map(|(key, _, _)| (*key, self.text(key))).collect()
    }
}

/// `(key, Japanese, English)`.
pub const STRINGS: &[(&str, &str, &str)] = &[
    // Layout.
    ("site_name", "ノリカエ 乗換案内", "Norikae journey planner"),
    ("skip_to_content", "本文へ移動", "Skip to main content"),
    ("language", "言語", "Language"),
    ("footer_data", "時刻表データ", "Timetable data"),
    (
        "footer_attribution",
        "両備バス・岡電バス・中鉄バス（岡山）の GTFS-JP オープンデータ、福岡市交通局（福岡市地下鉄）のデータ（GTFS 作成: 桑山雅行）を利用しています。いずれも CC BY 4.0 で提供されています。",
        "Okayama bus GTFS-JP open data of Ryobi Bus, Okaden Bus and Chutetsu Bus, and Fukuoka City Transportation Bureau data (Fukuoka City Subway, GTFS by Masayuki Kuwayama), all under CC BY 4.0.",
    ),
    (
        "license_name",
        "クリエイティブ・コモンズ 表示 4.0 国際",
        "Creative Commons Attribution 4.0 International",
    ),
    (
        "footer_disclaimer",
        "時刻は予定です。最新の運行情報は各事業者にご確認ください。",
        "Times are scheduled; check with the operators for the latest service information.",
    ),
    // Trip form.
    ("plan_heading", "経路を検索", "Plan a journey"),
    ("from", "出発", "From"),
    ("to", "到着", "To"),
    ("from_placeholder", "駅名・バス停名（例: おかやま）", "Station or stop (e.g. Okayama)"),
    ("to_placeholder", "駅名・バス停名（例: 天神）", "Station or stop (e.g. Tenjin)"),
    ("swap", "出発と到着を入れ替え", "Swap from and to"),
    ("when", "日時", "When"),
    ("date", "日付", "Date"),
    ("time", "時刻", "Time"),
    ("depart_at", "出発時刻で検索", "Depart at"),
    ("arrive_by", "到着時刻で検索", "Arrive by"),
    ("first_train", "始発", "First train"),
    ("last_train", "終電", "Last train"),
    ("options", "条件", "Options"),
    ("opt_fewer_transfers", "乗換回数を少なく", "Fewer transfers"),
    ("opt_wheelchair", "車いす対応の便", "Wheelchair accessible"),
    ("opt_less_walking", "歩きを少なく", "Less walking"),
    ("search", "検索", "Search"),
    (
        "suggestions_help",
        "入力すると候補が表示されます。上下キーで選び、Enter で決定します。",
        "Suggestions appear as you type; use the up and down keys and Enter to choose one.",
    ),
    ("suggestions_count", "{n} 件の候補があります", "{n} suggestions available"),
    ("suggestions_count_one", "{n} 件の候補があります", "{n} suggestion available"),
    ("suggestions_none", "該当する駅・バス停がありません", "No matching stations"),
    ("timetable_dates", "時刻表の期間", "Timetable dates"),
    (
        "date_clamped",
        "今日は時刻表の期間外のため、期間内の日付を選んでいます。",
        "Today is outside the timetable, so a date within it has been chosen.",
    ),
    // Results.
    ("results_title", "検索結果", "Journeys"),
    ("journey", "経路", "Journey"),
    ("departure", "出発", "Departure"),
    ("arrival", "到着", "Arrival"),
    ("duration", "所要時間", "Duration"),
    ("transfers", "乗換", "Transfers"),
    ("fare", "運賃", "Fare"),
    ("fare_unknown", "運賃情報なし", "Fare not available"),
    ("earlier", "← 前の時間帯", "← Earlier"),
    ("later", "後の時間帯 →", "Later →"),
    ("walk", "徒歩", "Walk"),
    ("platform", "のりば", "Platform"),
    ("stops_count", "{n} 駅", "{n} stops"),
    ("stops_count_one", "{n} 駅", "{n} stop"),
    ("live_late", "{minutes}分遅れ（{time}発）", "{minutes} min late (leaves {time})"),
    ("live_late_arrival", "{minutes}分遅れ（{time}着）", "{minutes} min late (arrives {time})"),
    ("live_on_time", "定刻", "On time"),
    ("live_added", "臨時便", "Extra service"),
    ("live_cancelled", "運休", "Cancelled"),
    ("live_platform", "のりば変更: {platform}", "Platform changed: {platform}"),
    ("walk_detail", "徒歩{duration}（{distance}）", "Walk {duration} ({distance})"),
    ("headsign", "{headsign} 行", "towards {headsign}"),
    ("alerts", "運行情報", "Service alerts"),
    ("alert_on_leg", "この区間に運行情報があります", "Service alert on this ride"),
    ("change_search", "条件を変更", "Change search"),
    ("departures_at", "{station} の発車時刻", "Departures from {station}"),
    ("search_summary_depart", "{date} {time} 出発", "Departing {date} {time}"),
    ("search_summary_arrive", "{date} {time} までに到着", "Arriving by {date} {time}"),
    ("window", "{start}〜{end} に出発する経路", "Journeys leaving {start}–{end}"),
    (
        "fewer_transfers_relaxed",
        "乗換 1 回以内の経路がないため、すべての経路を表示しています。",
        "No journey with at most one transfer, so all journeys are shown.",
    ),
    ("next_day", "翌日", "next day"),
    ("search_summary_first", "{date} の始発", "First journey on {date}"),
    ("search_summary_last", "{date} の終電", "Last journey on {date}"),
    ("sort_by", "並べ替え", "Sort"),
    ("sort_departure", "出発順", "By departure"),
    ("sort_fastest", "早", "Fastest"),
    ("sort_fewest_transfers", "楽", "Fewest transfers"),
    ("sort_cheapest", "安", "Cheapest"),
    // Timetable page.
    ("timetable", "時刻表", "Timetable"),
    ("timetable_title", "{station} {line} 時刻表", "{station}: {line} timetable"),
    ("timetable_of", "{headsign} 方面", "towards {headsign}"),
    ("service_weekday", "平日", "Weekdays"),
    ("service_saturday", "土曜", "Saturdays"),
    ("service_holiday", "休日", "Sundays and holidays"),
    ("service_saturday_and_holiday", "土休日", "Saturdays, Sundays and holidays"),
    ("hour", "時", "Hour"),
    ("minutes", "分", "Minutes"),
    ("timetable_markers", "記号", "Markers"),
    ("timetable_count", "{n} 本", "{n} departures"),
    ("timetable_count_one", "{n} 本", "{n} departure"),
    ("timetable_past_midnight", "24 時以降は翌日の深夜です。", "Hours from 24 are after midnight."),
    ("no_timetable", "この日の発車はありません。", "No departures on this day."),
    ("back_to_station", "駅の発車時刻へ", "Back to the departures"),
    ("no_transfer", "乗換なし", "Direct"),
    ("transfer_count", "乗換 {n} 回", "{n} transfers"),
    ("transfer_one", "乗換 1 回", "1 transfer"),
    // Station page.
    ("departures", "発車時刻", "Departures"),
    ("nearby", "近くの駅・バス停", "Nearby stations"),
    ("lines", "路線", "Lines"),
    ("no_departures", "この時間帯以降の発車はありません。", "No departures from this time on."),
    ("plan_from_here", "ここから出発", "Plan a journey from here"),
    ("plan_to_here", "ここへ行く", "Plan a journey to here"),
    ("show", "表示", "Show"),
    ("more_departures", "さらに表示", "Show more"),
    ("distance", "距離", "Distance"),
    ("reading", "よみ", "Reading"),
    // Trip page.
    ("trip_link", "停車駅と時刻", "Stops and times"),
    ("trip_stops", "停車駅", "Stops"),
    ("trip_date", "運行日 {date}", "Runs on {date}"),
    ("arrive", "着", "arr."),
    ("depart", "発", "dep."),
    ("drop_off_only", "降車のみ", "drop-off only"),
    ("pickup_only", "乗車のみ", "pick-up only"),
    ("your_ride", "ご乗車区間", "your ride"),
    // Choice page.
    ("choose_title", "駅・バス停を選んでください", "Choose your stations"),
    (
        "choose_intro",
        "入力された名前に当てはまる駅・バス停が複数あります。",
        "More than one station matches what you typed.",
    ),
    ("choose_from", "出発地「{q}」の候補", "Where do you start? (“{q}”)"),
    ("choose_to", "到着地「{q}」の候補", "Where are you going? (“{q}”)"),
    // Errors.
    ("error_title", "エラー", "Something went wrong"),
    (
        "err_unknown_trip",
        "この便は見つからないか、指定の日には運行していません。",
        "This trip is unknown or does not run on that day.",
    ),
    (
        "err_unreachable",
        "経路検索サービスに接続できません。しばらくしてからもう一度お試しください。",
        "The journey planner cannot be reached right now. Please try again in a moment.",
    ),
    (
        "err_timeout",
        "経路検索サービスの応答に時間がかかっています。しばらくしてからもう一度お試しください。",
        "The journey planner is taking too long to answer. Please try again in a moment.",
    ),
    (
        "err_not_ready",
        "時刻表を読み込み中です。数秒後にもう一度お試しください。",
        "The timetable is still loading. Please try again in a few seconds.",
    ),
    (
        "err_rate_limited",
        "アクセスが集中しています。{n} 秒ほど待ってからもう一度お試しください。",
        "Too many requests right now. Please wait {n} seconds and try again.",
    ),
    (
        "err_no_journeys",
        "条件に合う経路が見つかりませんでした。時刻や条件を変えてお試しください。",
        "No journeys match your search. Try another time or fewer options.",
    ),
    ("err_date_out_of_range", "{date} は時刻表の期間外です。", "{date} is outside the timetable."),
    ("err_date_hint", "期間内の日付を選んでください:", "Please pick a date within these periods:"),
    (
        "err_unknown_station",
        "指定された駅・バス停が見つかりません。",
        "We could not find that station.",
    ),
    (
        "err_no_match",
        "「{q}」に当てはまる駅・バス停が見つかりませんでした。名前やよみを確かめてください。",
        "No station matches “{q}”. Please check the name or try its reading.",
    ),
    ("err_missing_from", "出発地を入力してください。", "Please enter where you start."),
    ("err_missing_to", "到着地を入力してください。", "Please enter where you are going."),
    ("err_same_station", "出発地と到着地が同じです。", "From and to are the same station."),
    (
        "err_invalid",
        "入力内容を確認してください（{field}）。",
        "Please check your input ({field}).",
    ),
    (
        "err_invalid_date",
        "日付は 2025-06-04 のように入力してください。",
        "Please enter the date like 2025-06-04.",
    ),
    (
        "err_invalid_time",
        "時刻は 08:30 のように入力してください。",
        "Please enter the time like 08:30.",
    ),
    (
        "err_no_stop_nearby",
        "指定された地点の近くに駅・バス停がありません。",
        "There is no station near that place.",
    ),
    (
        "err_forbidden",
        "経路検索サービスへのアクセスが許可されていません。",
        "The app is not allowed to use the journey planner right now.",
    ),
    (
        "err_generic",
        "予期しないエラーが発生しました。しばらくしてからもう一度お試しください。",
        "An unexpected error occurred. Please try again in a moment.",
    ),
    (
        "err_page_not_found",
        "お探しのページは見つかりませんでした。",
        "The page you are looking for does not exist.",
    ),
    ("err_departures", "発車時刻を取得できませんでした。", "The departures could not be loaded."),
    ("err_nearby", "近くの駅を取得できませんでした。", "Nearby stations could not be loaded."),
    ("request_id", "お問い合わせ番号", "Reference"),
    ("back_home", "トップページへ戻る", "Back to the start page"),
    ("try_again", "もう一度試す", "Try again"),
    // Modes.
    ("mode_bus", "バス", "Bus"),
    ("mode_subway", "地下鉄", "Subway"),
    ("mode_rail", "鉄道", "Rail"),
    ("mode_tram", "路面電車", "Tram"),
    ("mode_ferry", "フェリー", "Ferry"),
    ("mode_other", "交通機関", "Transit"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_and_accept_language() {
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("JA"), Some(Lang::Ja));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8,ja;q=0.7"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("ja,en-US;q=0.9"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, ja;q=0.1"), Some(Lang::Ja));
    }

    #[test]
    fn every_string_exists_in_both_languages_once() {
        let mut keys = std::collections::HashSet::new();
        for (key, ja, en) in STRINGS {
            assert!(keys.insert(*key), "duplicate key {key}");
            assert!(!ja.is_empty() && !en.is_empty(), "empty text for {key}");
        }
        assert_eq!(Lang::En.fill("stops_count", &[("n", "3")]), "3 stops");
        assert_eq!(Lang::Ja.fill("stops_count", &[("n", "3")]), "3 駅");
        assert_eq!(Lang::En.count("stops_count", 1), "1 stop");
        assert_eq!(Lang::En.count("stops_count", 2), "2 stops");
        assert_eq!(Lang::Ja.count("stops_count", 1), "1 駅");
        assert_eq!(Lang::En.count("timetable_count", 1), "1 departure");
    }
}
