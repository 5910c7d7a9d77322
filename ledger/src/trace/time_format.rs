//! Event times as answers write them: RFC 3339 UTC with milliseconds
//! (`2026-03-01T08:30:00.000Z`).
//!
//! Owns [`format_time`]. A recall formats a few hundred distinct dates, so years 1 to 9999 are
//! written digit by digit from a proleptic Gregorian day count instead of through the `time`
//! crate's general formatter; other instants, and the test that holds both to the same text,
//! go through `time`. Does not own parsing times (see [`super::window::TimeWindow::parse`]) or
//! caching formatted times per query (the walk's).

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds
/// (`2026-03-01T08:30:00.000Z`).
///
/// Years 1 to 9999 are written digit by digit, cheaper than the `time` crate's general
/// formatter for the few hundred dates of a recall; other instants go through `time`.
pub fn format_time(time_ms: i64) -> String {
    const MS_PER_DAY: i64 = 86_400_000;
    let (year, month, day) = civil_date(time_ms.div_euclid(MS_PER_DAY));
    if !(1..=9999).contains(&year) {
        return format_time_in_any_year(time_ms);
    }
    let of_day = time_ms.rem_euclid(MS_PER_DAY);
    // Two digits at a time, by constant divisors (the compiler turns them into multiplies).
    let mut text = String::with_capacity(24);
    let mut two_digits = |value: i64, separator: Option<char>| {
        text.push(char::from(b'0' + (value / 10) as u8));
        text.push(char::from(b'0' + (value % 10) as u8));
        if let Some(separator) = separator {
            text.push(separator);
        }
    };
    two_digits(year / 100, None);
    two_digits(year % 100, Some('-'));
    two_digits(month, Some('-'));
    two_digits(day, Some('T'));
    two_digits(of_day / 3_600_000, Some(':'));
    two_digits(of_day / 60_000 % 60, Some(':'));
    two_digits(of_day / 1_000 % 60, Some('.'));
    let millisecond = of_day % 1_000;
    two_digits(millisecond / 10, None);
    text.push(char::from(b'0' + (millisecond % 10) as u8));
    text.push('Z');
    text
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01: the
/// calendar counted in 400-year eras of 146,097 days, each year starting on 1 March so that
/// the leap day falls last.
fn civil_date(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// [`format_time`] through the `time` crate, for instants outside years 1 to 9999 (and as the
/// reference the hand-written form is tested against).
fn format_time_in_any_year(time_ms: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
        .ok()
        .and_then(|instant| instant.format(&format).ok())
        .unwrap_or_else(|| time_ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dates written digit by digit read exactly as the `time` crate writes them: every day
    /// boundary of the leap-year rules (1600, 1900, 2000, 2100), the ends of the supported
    /// range, instants before 1970, and a spread of instants across the nine millennia.
    #[test]
    fn times_format_like_the_time_crate() {
        let date_ms = |year: i32, month: time::Month, day: u8| {
            let date = time::Date::from_calendar_date(year, month, day).expect("a real date");
            date.midnight().assume_utc().unix_timestamp() * 1_000
        };
        let mut instants = vec![0, -1, 1, 999, -86_400_000, 1_767_571_200_123];
        for year in [1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2100, 9999] {
            for (month, day) in [(time::Month::January, 1), (time::Month::February, 28)] {
                let midnight = date_ms(year, month, day);
                instants.extend([midnight - 1, midnight, midnight + 86_400_000 + 3_723_456]);
            }
        }
        let last = date_ms(9999, time::Month::December, 31) + 86_399_999;
        instants.extend([last, last + 1, date_ms(1, time::Month::January, 1) - 1]);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            instants.push(
                date_ms(1, time::Month::January, 1)
                    + (state % (last as u64 + 62_135_596_800_000)) as i64,
            );
        }
        for instant in instants {
            assert_eq!(format_time(instant), format_time_in_any_year(instant), "at {instant} ms");
        }
    }
}
