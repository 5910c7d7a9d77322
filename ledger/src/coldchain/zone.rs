//! Time zones of logger exports: a fixed UTC offset or a named zone with its daylight-saving
//! rule, and local wall-clock time → UTC.
//!
//! Owns: [`Zone`] (parsed from `+01:00`, `UTC+1`, `GMT-05:00`, `UTC`, or one of the IANA names
//! in [`NAMED`]), [`Zone::offset_at`] and [`Zone::resolve`] (local → UTC, with the
//! daylight-saving gap and overlap made explicit).
//! Does not own: a time-zone database. The named zones carry the rules in force today (EU:
//! summer time from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC;
//! US: from the second Sunday of March 02:00 local to the first Sunday of November 02:00
//! local) and apply them to every year, which is right for logger data from 2007 on; a zone
//! not listed is refused, never guessed.

use time::{Date, Month};

/// Which daylight-saving rule a named zone follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dst {
    /// No daylight saving.
    None,
    /// The European Union rule (Directive 2000/84/EC).
    Eu,
    /// The United States rule (Energy Policy Act of 2005).
    Us,
}

/// A logger's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// Standard (winter) offset from UTC, in minutes.
    pub standard_minutes: i16,
    /// The daylight-saving rule (one hour ahead while in force).
    pub dst: Dst,
}

/// The named zones understood, with their standard offset and rule.
pub const NAMED: &[(&str, i16, Dst)] = &[
    ("UTC", 0, Dst::None),
    ("Etc/UTC", 0, Dst::None),
    ("Europe/London", 0, Dst::Eu),
    ("Europe/Dublin", 0, Dst::Eu),
    ("Europe/Lisbon", 0, Dst::Eu),
    ("Europe/Amsterdam", 60, Dst::Eu),
    ("Europe/Berlin", 60, Dst::Eu),
    ("Europe/Brussels", 60, Dst::Eu),
    ("Europe/Copenhagen", 60, Dst::Eu),
    ("Europe/Madrid", 60, Dst::Eu),
    ("Europe/Paris", 60, Dst::Eu),
    ("Europe/Rome", 60, Dst::Eu),
    ("Europe/Stockholm", 60, Dst::Eu),
    ("Europe/Vienna", 60, Dst::Eu),
    ("Europe/Warsaw", 60, Dst::Eu),
    ("Europe/Athens", 120, Dst::Eu),
    ("Europe/Helsinki", 120, Dst::Eu),
    ("America/New_York", -300, Dst::Us),
    ("America/Chicago", -360, Dst::Us),
    ("America/Denver", -420, Dst::Us),
    ("America/Phoenix", -420, Dst::None),
    ("America/Los_Angeles", -480, Dst::Us),
    ("Asia/Kolkata", 330, Dst::None),
    ("Asia/Shanghai", 480, Dst::None),
    ("Asia/Tokyo", 540, Dst::None),
];

/// Local wall-clock time resolved to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// Exactly one instant: (UTC milliseconds, offset in minutes).
    One(i64, i16),
    /// The repeated hour when clocks go back: the earlier (summer) and later (winter)
    /// instant.
    Ambiguous((i64, i16), (i64, i16)),
    /// The skipped hour when clocks go forward: no such local time.
    Nonexistent,
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

impl Zone {
    /// A fixed offset.
    pub fn fixed(minutes: i16) -> Self {
        Self { standard_minutes: minutes, dst: Dst::None }
    }

    /// Parses a zone: a named zone from [`NAMED`], `Z`, or an offset written `+01:00`, `+0100`,
    /// `+1`, optionally after `UTC` or `GMT` (`UTC+1`, `GMT-05:00`). `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some((_, minutes, dst)) =
            NAMED.iter().find(|(name, _, _)| name.eq_ignore_ascii_case(text))
        {
            return Some(Self { standard_minutes: *minutes, dst: *dst });
        }
        if text == "Z" || text.eq_ignore_ascii_case("GMT") {
            return Some(Self::fixed(0));
        }
        let rest = ["UTC", "GMT", "utc", "gmt"]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))
            .unwrap_or(text)
            .trim();
        parse_offset(rest).map(Self::fixed)
    }

    /// The offset in force at `utc_ms`, in minutes.
    pub fn offset_at(&self, utc_ms: i64) -> i16 {
        let summer = match self.dst {
            Dst::None => false,
            Dst::Eu | Dst::Us => {
                let (start, end) = self.summer_window(year_of(utc_ms));
                (start..end).contains(&utc_ms)
            }
        };
        self.standard_minutes + if summer { 60 } else { 0 }
    }

    /// UTC start and end of summer time in `year`.
    fn summer_window(&self, year: i32) -> (i64, i64) {
        let standard_ms = i64::from(self.standard_minutes) * MINUTE_MS;
        match self.dst {
            Dst::Eu => (
                day_ms(last_sunday(year, Month::March)) + HOUR_MS,
                day_ms(last_sunday(year, Month::October)) + HOUR_MS,
            ),
            Dst::Us => (
                day_ms(nth_sunday(year, Month::March, 2)) + 2 * HOUR_MS - standard_ms,
                day_ms(nth_sunday(year, Month::November, 1)) + 2 * HOUR_MS - standard_ms - HOUR_MS,
            ),
            Dst::None => (0, 0),
        }
    }

    /// The UTC instant(s) of local wall-clock `local_ms` (milliseconds since the epoch as if
    /// the wall clock were UTC).
    pub fn resolve(&self, local_ms: i64) -> Resolved {
        let standard = self.standard_minutes;
        if self.dst == Dst::None {
            return Resolved::One(local_ms - i64::from(standard) * MINUTE_MS, standard);
        }
        let candidate = |minutes: i16| {
            let utc = local_ms - i64::from(minutes) * MINUTE_MS;
            (self.offset_at(utc) == minutes).then_some((utc, minutes))
        };
        match (candidate(standard + 60), candidate(standard)) {
            (Some(summer), Some(winter)) => Resolved::Ambiguous(summer, winter),
            (Some((utc, minutes)), None) | (None, Some((utc, minutes))) => {
                Resolved::One(utc, minutes)
            }
            (None, None) => Resolved::Nonexistent,
        }
    }
}

/// Parses `+01:00`, `+0100`, `+01`, `+1`, `-05:30` into minutes; `None` otherwise or beyond
/// ±18 hours.
pub fn parse_offset(text: &str) -> Option<i16> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((hours, minutes)) => (hours, minutes),
        None if digits.len() == 4 => (&digits[..2], &digits[2..]),
        None => (digits, "0"),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || !all_digits(minutes) || hours.len() > 2 || minutes.len() > 2 {
        return None;
    }
    let hours: i16 = hours.parse().ok()?;
    let minutes: i16 = minutes.parse().ok()?;
    (hours <= 18 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}

fn year_of(utc_ms: i64) -> i32 {
    let days = utc_ms.div_euclid(DAY_MS);
    Date::from_julian_day(UNIX_EPOCH_JULIAN_DAY + days as i32)
        .map(|date| date.year())
        .unwrap_or(1970)
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// Milliseconds since the epoch at midnight UTC of `date`.
pub(crate) fn day_ms(date: Date) -> i64 {
    i64::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY) * DAY_MS
}

fn last_sunday(year: i32, month: Month) -> Date {
    let last = time::util::days_in_month(month, year);
    let date = Date::from_calendar_date(year, month, last).unwrap_or(Date::MIN);
    let back = date.weekday().number_days_from_sunday();
    date - time::Duration::days(i64::from(back))
}

fn nth_sunday(year: i32, month: Month, nth: u8) -> Date {
    let first = Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN);
    let ahead = (7 - first.weekday().number_days_from_sunday()) % 7;
    first + time::Duration::days(i64::from(ahead) + 7 * i64::from(nth - 1))
}
