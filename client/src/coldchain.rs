//! Logger files as EPCIS: the temperature readings of a data logger turned into EPCIS 2.0
//! ObjectEvents with a `sensorElementList` (a logger's serial number as a URI, see
//! [`device_uri`]), observing the lots or logistic units the logger
//! travelled with, so they are signed, replicated and verified like every other event; and the
//! cold-chain verdict over a file (excursions by profile rule, gaps, mean kinetic temperature).
//!
//! Owns the mapping from readings to events (how many readings per event, what each event
//! observes) and the verdict's shape. Does not own reading logger files, profiles, excursion
//! rules or MKT (`lotline_ledger::coldchain`), nor EPCIS validation (`lotline_ledger::epcis`,
//! which the capture path applies).

use lotline_ledger::coldchain::{
    Config, Detector, Excursion, LoggerFile, Profile, Sample, mean_kinetic_temperature,
};
use lotline_ledger::trace::format_time;
use serde::Serialize;
use serde_json::{Value, json};

/// Readings per event: a sensor report is about a hundred bytes of JSON-LD, and an entry holds
/// at most 64 KiB, so 200 leave room for the rest of the event.
pub const READINGS_PER_EVENT: usize = 200;

/// The logging interval assumed when a file declares none.
pub const DEFAULT_INTERVAL_MS: i64 = 5 * 60_000;

/// An interval this many times the logging interval is a gap.
pub const GAP_TOLERANCE: f64 = 2.0;

/// What the logger travelled with and where its readings were taken.
#[derive(Debug, Clone, Default)]
pub struct Shipment {
    /// Lots (canonical Digital Links) the readings describe.
    pub lots: Vec<String>,
    /// Logistic units (canonical Digital Links, `…/00/<sscc>`) the readings describe.
    pub units: Vec<String>,
    /// Where the readings were read (a location Digital Link), when known.
    pub read_point: Option<String>,
}

/// The URI a device is named by in EPCIS (`sensorMetadata.deviceID` must be a URI): a device
/// already named by a URI keeps it; a logger's serial number becomes
/// `urn:lotline:device:<serial>` (percent-encoded), so the same logger always has the same id.
pub fn device_uri(device: &str) -> String {
    let is_uri = device.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.len() > 1
            && scheme.starts_with(|character: char| character.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character))
    });
    if is_uri {
        return device.to_owned();
    }
    let escaped: String =
        percent_encoding::utf8_percent_encode(device, percent_encoding::NON_ALPHANUMERIC).collect();
    format!("urn:lotline:device:{escaped}")
}

/// An instant as RFC 3339 in the offset the logger wrote it with.
fn local_time(time_ms: i64, offset_minutes: i16) -> String {
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let offset = time::UtcOffset::from_whole_seconds(i32::from(offset_minutes) * 60)
        .unwrap_or(time::UtcOffset::UTC);
    utc.to_offset(offset)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format_time(time_ms))
}

fn offset_text(offset_minutes: i16) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let minutes = offset_minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The EPCIS 2.0 capture document carrying every reading of `file`: per device, one
/// `ObjectEvent` (`OBSERVE`, bizStep `sensor_reporting`) per [`READINGS_PER_EVENT`] readings,
/// each observing `shipment`'s lots and units, with one sensor element whose reports are the
/// readings (°C, each with its own time in the logger's offset). Importing the same file again
/// gives the same events, which a node records once.
pub fn document_of(file: &LoggerFile, shipment: &Shipment, created: &str) -> Value {
    let mut events = Vec::new();
    for series in &file.series {
        for chunk in series.samples.chunks(READINGS_PER_EVENT) {
            let Some(last) = chunk.last() else { continue };
            let reports: Vec<Value> = chunk
                .iter()
                .map(|sample| {
                    json!({
                        "type": "gs1:Temperature",
                        "value": sample.celsius,
                        "uom": "CEL",
                        "time": local_time(sample.time_ms, sample.offset_minutes),
                    })
                })
                .collect();
            let mut event = json!({
                "type": "ObjectEvent",
                "eventTime": local_time(last.time_ms, last.offset_minutes),
                "eventTimeZoneOffset": offset_text(last.offset_minutes),
                "epcList": shipment.units,
                "action": "OBSERVE",
                "bizStep": "sensor_reporting",
                "sensorElementList": [{
                    "sensorMetadata": {"deviceID": device_uri(&series.device)},
                    "sensorReport": reports,
                }],
            });
            if !shipment.lots.is_empty() {
                event["quantityList"] =
                    shipment.lots.iter().map(|lot| json!({"epcClass": lot})).collect();
            }
            if let Some(read_point) = &shipment.read_point {
                event["readPoint"] = json!({"id": read_point});
            }
            events.push(event);
        }
    }
    lotline_ledger::epcis::document_envelope(created, events)
}

/// One device's cold-chain verdict under a profile.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The device.
    pub device: String,
    /// The profile applied.
    pub profile: String,
    /// Readings judged.
    pub readings: usize,
    /// First and last reading (RFC 3339, UTC).
    pub from: Option<String>,
    /// Last reading.
    pub to: Option<String>,
    /// Rules breached, each excursion with its rule, limits and measurements.
    pub excursions: Vec<Excursion>,
    /// Gaps in the logging (start and end, RFC 3339 UTC): never bridged.
    pub gaps: Vec<(String, String)>,
    /// The last reading is outside the profile's limits (kept apart from a breached rule).
    pub out_of_range_now: bool,
    /// Mean kinetic temperature over the whole series, °C (USP ⟨1160⟩, gaps left out).
    pub mean_kinetic_celsius: Option<f64>,
    /// Mean kinetic temperature over consecutive windows of the length asked for, from the
    /// first reading (empty when none was asked for).
    pub windows: Vec<WindowMkt>,
}

/// The mean kinetic temperature of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowMkt {
    /// Start (RFC 3339, UTC), inclusive.
    pub from: String,
    /// End (RFC 3339, UTC), exclusive.
    pub to: String,
    /// °C; `None` when the window holds too few readings.
    pub mean_kinetic_celsius: Option<f64>,
}

/// Judges every device of `file` under `profile`, with the mean kinetic temperature over
/// consecutive windows of `window_ms` when given.
pub fn verdicts(
    file: &LoggerFile,
    profile: &Profile,
    window_ms: Option<i64>,
) -> Result<Vec<Verdict>, String> {
    let config = Config {
        interval_ms: file.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS),
        gap_tolerance: GAP_TOLERANCE,
    };
    let mut verdicts = Vec::new();
    for series in &file.series {
        let mut detector = Detector::new(series.device.clone(), profile.clone(), config)
            .map_err(|error| error.to_string())?;
        detector.insert(&series.samples).map_err(|conflicts| {
            conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        })?;
        let samples: &[Sample] = &series.samples;
        verdicts.push(Verdict {
            device: series.device.clone(),
            profile: profile.name.clone(),
            readings: samples.len(),
            from: samples.first().map(|sample| format_time(sample.time_ms)),
            to: samples.last().map(|sample| format_time(sample.time_ms)),
            excursions: detector.excursions(),
            gaps: detector
                .gaps()
                .iter()
                .map(|gap| (format_time(gap.start_ms), format_time(gap.end_ms)))
                .collect(),
            out_of_range_now: detector.status().out_of_range_now,
            mean_kinetic_celsius: mean_kinetic_temperature(
                samples,
                None,
                Some(config.max_gap_ms()),
            ),
            windows: window_ms
                .map(|window_ms| windows(samples, window_ms, config.max_gap_ms()))
                .unwrap_or_default(),
        });
    }
    Ok(verdicts)
}

/// The mean kinetic temperature over consecutive windows of `window_ms` from the first
/// reading to the last.
fn windows(samples: &[Sample], window_ms: i64, max_gap_ms: i64) -> Vec<WindowMkt> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Vec::new();
    };
    let window_ms = window_ms.max(60_000);
    let mut windows = Vec::new();
    let mut from = first.time_ms;
    while from <= last.time_ms {
        let to = from.saturating_add(window_ms);
        windows.push(WindowMkt {
            from: format_time(from),
            to: format_time(to),
            mean_kinetic_celsius: mean_kinetic_temperature(
                samples,
                Some((from, to)),
                Some(max_gap_ms),
            ),
        });
        from = to;
    }
    windows
}

#[cfg(test)]
mod tests {
    use lotline_ledger::coldchain::logger::Hint;
    use lotline_ledger::coldchain::{parse_logger_file, readings_of_event};
    use lotline_ledger::epcis;

    use super::*;

    /// A chilled truck: 4 h at 5-minute intervals, 45 minutes at 6–7 °C in the middle.
    fn truck_log() -> String {
        let mut text = String::from("device,time,value,unit\n");
        for step in 0..48 {
            let minutes = step * 5;
            let celsius = if (20..29).contains(&step) { 6.5 } else { 2.5 };
            text.push_str(&format!(
                "TRK-7,2026-06-11T{:02}:{:02}:00-07:00,{celsius},CEL\n",
                13 + minutes / 60,
                minutes % 60
            ));
        }
        text
    }

    #[test]
    fn a_logger_file_becomes_valid_epcis_that_reads_back_as_the_same_readings() {
        let file = parse_logger_file(truck_log().as_bytes(), Hint::default()).unwrap();
        let shipment = Shipment {
            units: vec!["https://id.gs1.org/00/095060000000000015".to_owned()],
            ..Shipment::default()
        };
        let document = document_of(&file, &shipment, "2026-06-11T18:00:00Z");
        let parsed = epcis::parse_document(&serde_json::to_vec(&document).unwrap()).unwrap();
        epcis::validate::check_document_to_sign(&parsed).unwrap();
        let read_back: Vec<_> =
            parsed.events.iter().flat_map(|event| readings_of_event(event).unwrap()).collect();
        let expected: Vec<_> = file
            .readings()
            .map(|mut reading| {
                reading.device = device_uri(&reading.device);
                reading
            })
            .collect();
        assert_eq!(read_back, expected);
        assert_eq!(expected[0].device, "urn:lotline:device:TRK%2D7");
        assert_eq!(device_uri("urn:epc:id:giai:4000001.1"), "urn:epc:id:giai:4000001.1");
    }

    #[test]
    fn the_verdict_names_the_excursion_its_rule_and_the_mean_kinetic_temperature() {
        let file = parse_logger_file(truck_log().as_bytes(), Hint::default()).unwrap();
        let verdicts = verdicts(&file, &Profile::chilled(), None).unwrap();
        assert_eq!(verdicts.len(), 1);
        let verdict = &verdicts[0];
        assert_eq!(verdict.readings, 48);
        assert_eq!(verdict.excursions.len(), 1, "{:?}", verdict.excursions);
        let excursion = &verdict.excursions[0];
        assert_eq!(excursion.duration_ms, 45 * 60_000);
        assert_eq!(excursion.max_celsius, 6.5);
        assert!(!verdict.out_of_range_now);
        let mkt = verdict.mean_kinetic_celsius.unwrap();
        assert!(mkt > 2.5 && mkt < 6.5, "{mkt}");
        assert!(verdict.windows.is_empty());
    }

    #[test]
    fn windows_give_the_mean_kinetic_temperature_of_each_stretch_of_the_journey() {
        let file = parse_logger_file(truck_log().as_bytes(), Hint::default()).unwrap();
        let verdicts = verdicts(&file, &Profile::chilled(), Some(60 * 60_000)).unwrap();
        let windows = &verdicts[0].windows;
        assert_eq!(windows.len(), 4, "four hours of readings: {windows:?}");
        assert_eq!(windows[0].from, "2026-06-11T20:00:00.000Z");
        assert_eq!(windows[0].to, windows[1].from);
        let first = windows[0].mean_kinetic_celsius.unwrap();
        let warm = windows[1].mean_kinetic_celsius.unwrap();
        assert!((first - 2.5).abs() < 1e-6, "an hour at 2.5 °C: {first}");
        assert!(warm > first, "the warm hour weighs more: {warm} > {first}");
    }
}
