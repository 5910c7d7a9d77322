//! What a query is asked: which way a trace walks ([`Direction`]), what a recall starts from
//! ([`Hazard`]) and the time window a facility or ingredient hazard covers ([`TimeWindow`],
//! parsed from RFC 3339 with [`WindowError`] naming what is wrong).
//!
//! Owns these input types and their parsing. Does not own what a subject means (see
//! [`super::subject`]) nor how a query answers (see [`super::query`]).

use serde::{Deserialize, Serialize};

use super::subject::Subject;
use super::time_format::format_time;

/// Which way a trace walks the transformation edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Upstream: from outputs to the inputs they were made from, up to harvest.
    Back,
    /// Downstream: from inputs to everything made from them.
    Forward,
}

impl Direction {
    /// The direction's name in answers, URLs and the command line: `back` or `forward` (the
    /// same word serde writes).
    pub fn name(self) -> &'static str {
        match self {
            Direction::Back => "back",
            Direction::Forward => "forward",
        }
    }
}

/// A half-open window `[from, until)` of event times, in milliseconds since the Unix epoch;
/// either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// First instant inside the window.
    pub from_ms: Option<i64>,
    /// First instant after the window.
    pub until_ms: Option<i64>,
}

impl TimeWindow {
    /// A window over all time.
    pub fn all() -> Self {
        Self::default()
    }

    /// A window from RFC 3339 timestamps (either may be absent).
    pub fn parse(from: Option<&str>, until: Option<&str>) -> Result<Self, WindowError> {
        let parse_one = |text: &str| -> Result<i64, WindowError> {
            let instant = time::OffsetDateTime::parse(
                text.trim(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| WindowError::BadTimestamp(text.to_owned()))?;
            i64::try_from(instant.unix_timestamp_nanos() / 1_000_000)
                .map_err(|_| WindowError::BadTimestamp(text.to_owned()))
        };
        let window = Self {
            from_ms: from.map(parse_one).transpose()?,
            until_ms: until.map(parse_one).transpose()?,
        };
        if let (Some(from_ms), Some(until_ms)) = (window.from_ms, window.until_ms)
            && until_ms < from_ms
        {
            return Err(WindowError::Reversed);
        }
        Ok(window)
    }

    /// Whether `time_ms` falls inside.
    pub fn contains(&self, time_ms: i64) -> bool {
        self.from_ms.is_none_or(|from_ms| time_ms >= from_ms)
            && self.until_ms.is_none_or(|until_ms| time_ms < until_ms)
    }

    /// The window as a recall answer's hazard names it: `[from, until)`, `open` for a
    /// missing end.
    pub(crate) fn describe(&self) -> String {
        let end = |bound: Option<i64>| bound.map_or_else(|| "open".to_owned(), format_time);
        format!("[{}, {})", end(self.from_ms), end(self.until_ms))
    }
}

/// A time window that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Not an RFC 3339 timestamp with offset.
    #[error("time window bound {0:?} is not an RFC 3339 timestamp with an offset")]
    BadTimestamp(String),
    /// The window ends before it starts.
    #[error("time window ends before it starts")]
    Reversed,
}

/// What a recall starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hazard {
    /// Named lots (or items, or pallets: whatever they held).
    Lots(Vec<Subject>),
    /// Everything handled at a facility (GLN, any extension) within a window.
    Facility {
        /// 13-digit GLN.
        gln: String,
        /// When.
        window: TimeWindow,
    },
    /// Every lot of an ingredient GTIN named by an event within a window.
    Ingredient {
        /// 14-digit GTIN.
        gtin: String,
        /// When.
        window: TimeWindow,
    },
}
