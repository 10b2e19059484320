//! Which timetable a date runs, as Japanese timetables name it: 平日 (weekday), 土曜 (Saturday)
//! or 休日 (Sundays and national holidays), with the holiday's name.
//!
//! A line's timetable is named from the feed's calendar ([`ServiceKind::of_services`]): the
//! services running that day say which kind of day they are made for by the days they run
//! on, so a feed that runs its weekday service on a substitute holiday shows 平日 that day.
//! National holidays count as holidays for lines whose agency keeps Japan's time
//! (`Asia/Tokyo`); elsewhere only Sundays do.
//!
//! The national holidays follow the Act on National Holidays (国民の祝日に関する法律) as
//! amended up to 2026, for the years 2000 to 2099 (outside them only Sundays are holidays):
//! fixed days, the "Happy Monday" days, the equinoxes by the usual formula of the National
//! Astronomical Observatory (exact for these years), the one-off days of 2019 to 2021, a
//! substitute holiday (振替休日) after a holiday on a Sunday, and a citizens' holiday (国民の休日)
//! on a day between two holidays. No crate on crates.io keeps this well (the one named
//! `holiday_jp` fetches a list over the network at run time), so it is derived here.

use chrono::{Datelike, NaiveDate, Weekday};
use norikae_timetable::{ServiceIdx, Timetable};

/// The timetable a date runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    Weekday,
    Saturday,
    /// Sundays and national holidays.
    Holiday,
    /// 土休日: Saturdays, Sundays and national holidays alike (a calendar's kind, never a
    /// date's).
    SaturdayAndHoliday,
}

/// The kinds a date can be, as indices.
#[derive(Clone, Copy)]
enum DayKind {
    Weekday = 0,
    Saturday = 1,
    Holiday = 2,
}

impl DayKind {
    fn of(kind: ServiceKind) -> Self {
        match kind {
            ServiceKind::Weekday => Self::Weekday,
            ServiceKind::Saturday => Self::Saturday,
            ServiceKind::Holiday | ServiceKind::SaturdayAndHoliday => Self::Holiday,
        }
    }
}

impl ServiceKind {
    /// The kind of day `date` is on a network where national holidays are (`japanese`) or
    /// are not holidays, with the holiday's name.
    pub fn of_day(date: NaiveDate, japanese: bool) -> (Self, Option<&'static str>) {
        let holiday = if japanese { national_holiday(date) } else { None };
        let kind = match (holiday, date.weekday()) {
            (Some(_), _) | (None, Weekday::Sun) => Self::Holiday,
            (None, Weekday::Sat) => Self::Saturday,
            _ => Self::Weekday,
        };
        (kind, holiday)
    }

    /// The kind of timetable that `services` (one per departure listed, repeats allowed) make
    /// on `date`, from the calendar: how many of the weekdays, Saturdays and holidays
    /// between its first and last day each departure's service runs on, averaged over the
    /// departures. Kinds of day run on at least half the time are the timetable's: weekdays
    /// alone make 平日, Saturdays alone 土曜, holidays alone 休日, Saturdays and holidays
    /// 土休日; other mixes (a service running daily) and a date with no departure take the
    /// date's own kind. The holiday's name is the date's.
    pub fn of_services(
        tt: &Timetable,
        services: impl IntoIterator<Item = ServiceIdx>,
        date: NaiveDate,
        japanese: bool,
    ) -> (Self, Option<&'static str>) {
        let (own, holiday_name) = Self::of_day(date, japanese);
        let mut departures: Vec<(ServiceIdx, u32)> = Vec::new();
        for service in services {
            match departures.iter_mut().find(|(seen, _)| *seen == service) {
                Some((_, count)) => *count += 1,
                None => departures.push((service, 1)),
            }
        }
        let days: Vec<DayKind> = (0..tt.meta.num_days)
            .map(|day| DayKind::of(Self::of_day(tt.date_of_day(day), japanese).0))
            .collect();
        // Per kind of day (weekday, Saturday, holiday): the share of such days run on.
        let mut coverage = [0.0f64; 3];
        let mut total = 0u32;
        for (service, count) in departures {
            let runs = |day: &usize| tt.service_runs(service, *day as u32);
            let (Some(first), Some(last)) =
                ((0..days.len()).find(runs), (0..days.len()).rev().find(runs))
            else {
                continue;
            };
            let (mut run, mut all) = ([0u32; 3], [0u32; 3]);
            for day in first..=last {
                all[days[day] as usize] += 1;
                run[days[day] as usize] += u32::from(runs(&day));
            }
            for kind in 0..3 {
                if all[kind] > 0 {
                    coverage[kind] +=
                        f64::from(count) * f64::from(run[kind]) / f64::from(all[kind]);
                }
            }
            total += count;
        }
        if total == 0 {
            return (own, holiday_name);
        }
        let runs = coverage.map(|covered| covered / f64::from(total) >= 0.5);
        let kind = match runs {
            [true, false, false] => Self::Weekday,
            [false, true, false] => Self::Saturday,
            [false, false, true] => Self::Holiday,
            [false, true, true] => Self::SaturdayAndHoliday,
            _ => own,
        };
        (kind, holiday_name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekday => "weekday",
            Self::Saturday => "saturday",
            Self::Holiday => "holiday",
            Self::SaturdayAndHoliday => "saturday_and_holiday",
        }
    }
}

/// The name of the national holiday on `date`, if it is one.
pub fn national_holiday(date: NaiveDate) -> Option<&'static str> {
    if !(2000..=2099).contains(&date.year()) {
        return None;
    }
    if let Some(name) = named_holiday(date) {
        return Some(name);
    }
    // 振替休日: the first day after a holiday on a Sunday that is no holiday itself.
    let mut before = date.pred_opt()?;
    while named_holiday(before).is_some() {
        if before.weekday() == Weekday::Sun {
            return Some("振替休日");
        }
        before = before.pred_opt()?;
    }
    // 国民の休日: a day between two holidays (a Sunday stays a Sunday).
    if date.weekday() != Weekday::Sun
        && named_holiday(date.pred_opt()?).is_some()
        && named_holiday(date.succ_opt()?).is_some()
    {
        return Some("国民の休日");
    }
    None
}

/// The holidays the law names for a day (no substitutes).
fn named_holiday(date: NaiveDate) -> Option<&'static str> {
    let year = date.year();
    let (month, day) = (date.month(), date.day());
    let monday = |nth: u32| date.weekday() == Weekday::Mon && (day - 1) / 7 + 1 == nth;
    let name = match (month, day) {
        (1, 1) => "元日",
        (1, _) if monday(2) => "成人の日",
        (2, 11) => "建国記念の日",
        (2, 23) if year >= 2020 => "天皇誕生日",
        (3, _) if day == vernal_equinox(year) => "春分の日",
        (4, 29) if year >= 2007 => "昭和の日",
        (4, 29) => "みどりの日",
        (5, 1) if year == 2019 => "天皇の即位の日",
        (5, 3) => "憲法記念日",
        (5, 4) if year >= 2007 => "みどりの日",
        (5, 5) => "こどもの日",
        (7, 23) if year == 2020 => "海の日",
        (7, 24) if year == 2020 => "スポーツの日",
        (7, 22) if year == 2021 => "海の日",
        (7, 23) if year == 2021 => "スポーツの日",
        (7, _) if monday(3) && !matches!(year, 2020 | 2021) && year >= 2003 => "海の日",
        (7, 20) if year < 2003 => "海の日",
        (8, 10) if year == 2020 => "山の日",
        (8, 8) if year == 2021 => "山の日",
        (8, 11) if year >= 2016 && !matches!(year, 2020 | 2021) => "山の日",
        (9, 15) if year < 2003 => "敬老の日",
        (9, _) if monday(3) && year >= 2003 => "敬老の日",
        (9, _) if day == autumnal_equinox(year) => "秋分の日",
        (10, _) if monday(2) && !matches!(year, 2020 | 2021) => {
            if year >= 2020 {
                "スポーツの日"
            } else {
                "体育の日"
            }
        }
        (10, 22) if year == 2019 => "即位礼正殿の儀の行われる日",
        (11, 3) => "文化の日",
        (11, 23) => "勤労感謝の日",
        (12, 23) if (2000..=2018).contains(&year) => "天皇誕生日",
        _ => return None,
    };
    Some(name)
}

/// Day of March of 春分の日 (the formula holds from 1980 to 2099).
fn vernal_equinox(year: i32) -> u32 {
    equinox_day(20.8431, year)
}

/// Day of September of 秋分の日.
fn autumnal_equinox(year: i32) -> u32 {
    equinox_day(23.2488, year)
}

fn equinox_day(base: f64, year: i32) -> u32 {
    let years = f64::from(year - 1980);
    let leap_days = f64::from((year - 1980) / 4);
    (base + 0.242_194 * years - leap_days).floor() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn the_cabinet_office_lists_for_2019_and_2025_match() {
        // The Cabinet Office's published lists (内閣府「国民の祝日について」).
        let holidays_2019 = [
            "2019-01-01",
            "2019-01-14",
            "2019-02-11",
            "2019-03-21",
            "2019-04-29",
            "2019-04-30",
            "2019-05-01",
            "2019-05-02",
            "2019-05-03",
            "2019-05-04",
            "2019-05-05",
            "2019-05-06",
            "2019-07-15",
            "2019-08-11",
            "2019-08-12",
            "2019-09-16",
            "2019-09-23",
            "2019-10-14",
            "2019-10-22",
            "2019-11-03",
            "2019-11-04",
            "2019-11-23",
        ];
        let holidays_2025 = [
            "2025-01-01",
            "2025-01-13",
            "2025-02-11",
            "2025-02-23",
            "2025-02-24",
            "2025-03-20",
            "2025-04-29",
            "2025-05-03",
            "2025-05-04",
            "2025-05-05",
            "2025-05-06",
            "2025-07-21",
            "2025-08-11",
            "2025-09-15",
            "2025-09-23",
            "2025-10-13",
            "2025-11-03",
            "2025-11-23",
            "2025-11-24",
        ];
        for (year, listed) in [(2019, &holidays_2019[..]), (2025, &holidays_2025[..])] {
            let derived: Vec<String> = (1..=366)
                .filter_map(|ordinal| NaiveDate::from_yo_opt(year, ordinal))
                .filter(|day| national_holiday(*day).is_some())
                .map(|day| day.to_string())
                .collect();
            assert_eq!(derived, listed, "{year}");
        }
    }

    #[test]
    fn silver_week_2026_has_a_citizens_holiday_and_names_are_given() {
        assert_eq!(national_holiday(date("2026-09-21")), Some("敬老の日"));
        assert_eq!(national_holiday(date("2026-09-22")), Some("国民の休日"));
        assert_eq!(national_holiday(date("2026-09-23")), Some("秋分の日"));
        assert_eq!(national_holiday(date("2026-05-06")), Some("振替休日"), "5/3 is a Sunday");
    }

    #[test]
    fn weekdays_saturdays_sundays_and_holidays_are_told_apart() {
        assert_eq!(ServiceKind::of_day(date("2019-06-05"), true), (ServiceKind::Weekday, None));
        assert_eq!(ServiceKind::of_day(date("2019-06-08"), true), (ServiceKind::Saturday, None));
        assert_eq!(ServiceKind::of_day(date("2019-06-09"), true), (ServiceKind::Holiday, None));
        assert_eq!(
            ServiceKind::of_day(date("2025-07-21"), true),
            (ServiceKind::Holiday, Some("海の日"))
        );
        // A holiday on a Saturday is a holiday.
        assert_eq!(ServiceKind::of_day(date("2025-05-03"), true).0, ServiceKind::Holiday);
        // Outside Japan a Japanese holiday is a plain day.
        assert_eq!(ServiceKind::of_day(date("2025-07-21"), false), (ServiceKind::Weekday, None));
        assert_eq!(ServiceKind::of_day(date("2025-07-20"), false), (ServiceKind::Holiday, None));
    }
}
