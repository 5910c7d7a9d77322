//! Cold chain, sans IO: temperature readings, product temperature profiles with their alarm
//! rules, mean kinetic temperature, excursion detection that is correct whatever the arrival
//! order, and the acknowledgement rule.
//!
//! Owns: [`Reading`] and [`Sample`] (one temperature reading, stored in UTC with the offset it
//! was written with), [`Unit`] conversion to degrees Celsius, readings out of EPCIS
//! `sensorElementList` ([`readings_of_event`]), logger files ([`logger`]), time zones of logger
//! exports ([`zone`]), profiles and the acknowledgement check ([`profile`]), mean kinetic
//! temperature ([`mkt`]), the one-pass reference detector ([`scan`]) and the incremental
//! per-(device, shipment) detector ([`detector`]), and what stored entries say about cold
//! chain: readings per device, what each travelled with, excursion records and their
//! supersession ([`book`]).
//! Does not own: storage, signing an excursion as a feed entry (`records::Excursion` is the
//! payload; a correction is a new entry that supersedes the old one), or any file or network
//! IO.
//!
//! Temperatures are kept as degrees Celsius rounded to the micro-degree after unit conversion,
//! so that a reading written as 46.4 °F compares equal to an 8 °C limit instead of landing a
//! rounding error above it.

pub mod book;
pub mod custody;
pub mod detector;
pub mod logger;
pub mod mkt;
pub mod profile;
pub mod scan;
pub mod zone;

#[cfg(test)]
mod tests;

use crate::epcis::cbv::VocabularyKind;
use crate::epcis::{Event, SensorReport};

pub use book::{Book, ExcursionRecord, Series, SeriesKey, Standing};
pub use detector::{Config, Conflict, Detector, Gap, Revision, Status, Update};
pub use logger::{LineError, LoggerFile, parse_logger_file};
pub use mkt::mean_kinetic_temperature;
pub use profile::{
    Acknowledgement, AcknowledgementError, Bound, Custody, Excursion, ExcursionId, Limits, Profile,
    ProfileError, Reason, Rule, RuleKind, check_acknowledgement,
};

/// Absolute zero in degrees Celsius.
pub const ABSOLUTE_ZERO_CELSIUS: f64 = -273.15;

/// One temperature reading of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The device (logger serial number or EPCIS `deviceID`).
    pub device: String,
    /// The instant, milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    /// The UTC offset the time was written with, in minutes (kept so a reading can be shown
    /// the way its logger wrote it).
    pub offset_minutes: i16,
    /// The temperature in degrees Celsius.
    pub celsius: f64,
}

/// A reading without its device: what a series of one device holds (no allocation per
/// reading).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The instant, milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    /// The UTC offset the time was written with, in minutes.
    pub offset_minutes: i16,
    /// The temperature in degrees Celsius.
    pub celsius: f64,
}

impl Reading {
    /// The reading without its device.
    pub fn sample(&self) -> Sample {
        Sample { time_ms: self.time_ms, offset_minutes: self.offset_minutes, celsius: self.celsius }
    }
}

/// A temperature unit (UN/CEFACT Recommendation 20 codes, as EPCIS `uom` writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `CEL`: degrees Celsius.
    Celsius,
    /// `FAR`: degrees Fahrenheit.
    Fahrenheit,
    /// `KEL`: kelvin.
    Kelvin,
}

impl Unit {
    /// The unit a UN/CEFACT code names (`CEL`, `FAR`, `KEL`, exactly as EPCIS `uom` writes
    /// them). `None` otherwise.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "CEL" => Some(Self::Celsius),
            "FAR" => Some(Self::Fahrenheit),
            "KEL" => Some(Self::Kelvin),
            _ => None,
        }
    }

    /// The unit a code or column label names: `CEL`, `FAR`, `KEL` and the spellings logger
    /// exports use (`°C`, `C`, `degC`, `°F`, `F`, `K`), case-insensitive. `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        match text {
            "℃" => return Some(Self::Celsius),
            "℉" => return Some(Self::Fahrenheit),
            _ => {}
        }
        let text = text.strip_prefix('°').unwrap_or(text);
        let text = text.strip_prefix("deg").unwrap_or(text);
        if text.eq_ignore_ascii_case("CEL") || text.eq_ignore_ascii_case("C") {
            Some(Self::Celsius)
        } else if text.eq_ignore_ascii_case("FAR") || text.eq_ignore_ascii_case("F") {
            Some(Self::Fahrenheit)
        } else if text.eq_ignore_ascii_case("KEL") || text.eq_ignore_ascii_case("K") {
            Some(Self::Kelvin)
        } else {
            None
        }
    }

    /// `value` in this unit, as degrees Celsius rounded to the micro-degree; `None` below
    /// absolute zero or when not finite.
    pub fn to_celsius(self, value: f64) -> Option<f64> {
        let celsius = match self {
            Self::Celsius => value,
            Self::Fahrenheit => (value - 32.0) * 5.0 / 9.0,
            Self::Kelvin => value + ABSOLUTE_ZERO_CELSIUS,
        };
        let celsius = round_micro(celsius);
        (celsius.is_finite() && celsius >= ABSOLUTE_ZERO_CELSIUS).then_some(celsius)
    }
}

/// Rounds to the micro-degree (see the module doc).
pub(crate) fn round_micro(celsius: f64) -> f64 {
    (celsius * 1e6).round() / 1e6
}

/// A temperature in micro-degrees Celsius: sums of these are exact, so a mean does not depend
/// on the order readings were added in.
pub(crate) fn micro(celsius: f64) -> i64 {
    (celsius * 1e6).round() as i64
}

/// A `sensorReport` that cannot become a reading, named by its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("sensorElementList[{element}].sensorReport[{report}]: {problem}")]
pub struct ReportError {
    /// Index of the `sensorElement`.
    pub element: usize,
    /// Index of the `sensorReport` within it.
    pub report: usize,
    /// The rule broken.
    pub problem: ReportProblem,
}

/// Why a temperature `sensorReport` cannot become a reading.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportProblem {
    /// `uom` is absent or not a temperature unit.
    #[error("unknown temperature unit {0:?} (expected CEL, FAR or KEL)")]
    UnknownUnit(String),
    /// The value is below absolute zero or not a number.
    #[error("impossible temperature {0} (below absolute zero or not a number)")]
    ImpossibleValue(String),
    /// Neither the report nor its element's `sensorMetadata` names a `deviceID`.
    #[error("no deviceID on the report or its sensorMetadata")]
    NoDevice,
}

/// The temperature readings an EPCIS event carries: every `sensorReport` whose `type` is
/// `gs1:Temperature` (in any spelling) and that has a `value`. The device is the report's
/// `deviceID`, else its element's `sensorMetadata.deviceID`; the time is the report's `time`,
/// else `sensorMetadata.time`, else the event time, each with the offset it was written with.
/// Reports of other types, and interval summaries without a single `value`, are not readings
/// and are skipped. Every bad temperature report is named; the event yields readings only when
/// none is bad.
pub fn readings_of_event(event: &Event) -> Result<Vec<Reading>, Vec<ReportError>> {
    let mut readings = Vec::new();
    let mut errors = Vec::new();
    for (element_index, element) in event.sensor_element_list.iter().enumerate() {
        let metadata = element.sensor_metadata.as_ref();
        for (report_index, report) in element.sensor_report.iter().enumerate() {
            if !is_temperature(report) {
                continue;
            }
            let Some(value) = &report.value else { continue };
            let fail =
                |problem| ReportError { element: element_index, report: report_index, problem };
            let device = report
                .device_id
                .as_ref()
                .or_else(|| metadata.and_then(|metadata| metadata.device_id.as_ref()));
            let Some(device) = device else {
                errors.push(fail(ReportProblem::NoDevice));
                continue;
            };
            let uom = report.uom.as_deref().unwrap_or("");
            let Some(unit) = Unit::from_code(uom) else {
                errors.push(fail(ReportProblem::UnknownUnit(uom.to_owned())));
                continue;
            };
            let Some(celsius) = unit.to_celsius(value.to_f64()) else {
                errors.push(fail(ReportProblem::ImpossibleValue(value.as_str().to_owned())));
                continue;
            };
            let timestamp = report
                .time
                .as_ref()
                .or_else(|| metadata.and_then(|metadata| metadata.time.as_ref()))
                .unwrap_or(&event.event_time);
            let instant = timestamp.instant();
            readings.push(Reading {
                device: device.clone(),
                time_ms: (instant.unix_timestamp_nanos() / 1_000_000) as i64,
                offset_minutes: instant.offset().whole_minutes(),
                celsius,
            });
        }
    }
    if errors.is_empty() { Ok(readings) } else { Err(errors) }
}

fn is_temperature(report: &SensorReport) -> bool {
    report.measurement_type.as_ref().is_some_and(|measurement_type| {
        measurement_type.kind == VocabularyKind::MeasurementType
            && measurement_type.standard_word() == Some("Temperature")
    })
}
