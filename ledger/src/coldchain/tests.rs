//! Tests of the cold-chain core: units and EPCIS sensor reports, the logger layouts (gaps,
//! duplicates, daylight-saving changes, bad lines), profiles and inclusive limits, the WHO PQS
//! examples, mean kinetic temperature against a hand-computed value, late batches with
//! supersession, acknowledgement, and the incremental detector held equal to the reference
//! scan on shuffled, batched input over many seeds.

use super::detector::{Config, Detector, Gap};
use super::logger::{DateOrder, Hint, LineError, Problem, parse_logger_file};
use super::profile::{
    Acknowledgement, AcknowledgementError, Bound, Custody, Excursion, Limits, Profile, Reason,
    Rule, RuleKind, check_acknowledgement,
};
use super::zone::Zone;
use super::{Reading, Sample, Unit, mkt, readings_of_event, scan};
use crate::epcis::cbv::VocabularyKind;
use crate::epcis::{
    Decimal, Event, EventType, SensorElement, SensorMetadata, SensorReport, Timestamp,
    VocabularyValue,
};
use crate::identity::Keypair;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// 2026-03-28T00:00:00Z.
const DAY0: i64 = 1_774_656_000_000;

fn utc(text: &str) -> i64 {
    let instant = Timestamp::parse(text).expect("timestamp").instant();
    (instant.unix_timestamp_nanos() / 1_000_000) as i64
}

fn five_minutes() -> Config {
    Config { interval_ms: 5 * MINUTE, gap_tolerance: 1.5 }
}

/// Readings every `step` minutes from `start`, one per temperature.
fn series(start: i64, step_minutes: i64, temperatures: &[f64]) -> Vec<Sample> {
    temperatures
        .iter()
        .enumerate()
        .map(|(index, &celsius)| Sample {
            time_ms: start + index as i64 * step_minutes * MINUTE,
            offset_minutes: 0,
            celsius,
        })
        .collect()
}

fn detect(profile: &Profile, samples: &[Sample], config: Config) -> Vec<Excursion> {
    scan::excursions("LOG-1", samples, profile, config)
}

// ---------------------------------------------------------------------------------------------
// Units and EPCIS

#[test]
fn units_convert_to_celsius_and_refuse_below_absolute_zero() {
    assert_eq!(Unit::parse("°F"), Some(Unit::Fahrenheit));
    assert_eq!(Unit::parse("degC"), Some(Unit::Celsius));
    assert_eq!(Unit::parse("K"), Some(Unit::Kelvin));
    assert_eq!(Unit::parse("°R"), None);
    assert_eq!(Unit::Fahrenheit.to_celsius(46.4), Some(8.0));
    assert_eq!(Unit::Kelvin.to_celsius(281.15), Some(8.0));
    assert_eq!(Unit::Celsius.to_celsius(-273.15), Some(-273.15));
    assert_eq!(Unit::Celsius.to_celsius(-273.16), None);
    assert_eq!(Unit::Kelvin.to_celsius(-1.0), None);
}

fn temperature_report(
    device: Option<&str>,
    value: &str,
    uom: &str,
    time: Option<&str>,
) -> SensorReport {
    SensorReport {
        measurement_type: Some(VocabularyValue::new(
            VocabularyKind::MeasurementType,
            "gs1:Temperature",
        )),
        device_id: device.map(str::to_owned),
        value: Decimal::parse(value),
        uom: Some(uom.to_owned()),
        time: time.and_then(Timestamp::parse),
        ..SensorReport::default()
    }
}

#[test]
fn epcis_sensor_reports_become_readings_in_utc_with_their_offset() {
    let mut event =
        Event::new(EventType::Object, Timestamp::parse("2026-03-28T10:00:00+01:00").unwrap());
    let humidity = SensorReport {
        measurement_type: Some(VocabularyValue::new(
            VocabularyKind::MeasurementType,
            "gs1:RelativeHumidity",
        )),
        value: Decimal::parse("60"),
        uom: Some("A93".to_owned()),
        ..SensorReport::default()
    };
    event.sensor_element_list = vec![SensorElement {
        sensor_metadata: Some(SensorMetadata {
            device_id: Some("urn:epc:id:giai:4000001.111".to_owned()),
            time: Timestamp::parse("2026-03-28T09:30:00+01:00"),
            ..SensorMetadata::default()
        }),
        sensor_report: vec![
            temperature_report(None, "4.5", "CEL", None),
            temperature_report(Some("LOG-9"), "41", "FAR", Some("2026-03-28T09:45:00-05:00")),
            humidity,
            temperature_report(None, "278.15", "KEL", None),
        ],
        extensions: Vec::new(),
    }];
    let readings = readings_of_event(&event).unwrap();
    assert_eq!(
        readings,
        vec![
            Reading {
                device: "urn:epc:id:giai:4000001.111".to_owned(),
                time_ms: utc("2026-03-28T08:30:00Z"),
                offset_minutes: 60,
                celsius: 4.5,
            },
            Reading {
                device: "LOG-9".to_owned(),
                time_ms: utc("2026-03-28T14:45:00Z"),
                offset_minutes: -300,
                celsius: 5.0,
            },
            Reading {
                device: "urn:epc:id:giai:4000001.111".to_owned(),
                time_ms: utc("2026-03-28T08:30:00Z"),
                offset_minutes: 60,
                celsius: 5.0,
            },
        ]
    );
}

#[test]
fn bad_epcis_temperature_reports_are_named_by_position() {
    let mut event =
        Event::new(EventType::Object, Timestamp::parse("2026-03-28T10:00:00Z").unwrap());
    event.sensor_element_list = vec![SensorElement {
        sensor_metadata: None,
        sensor_report: vec![
            temperature_report(Some("A"), "4", "CEL", None),
            temperature_report(Some("A"), "4", "°C", None),
            temperature_report(Some("A"), "-300", "CEL", None),
            temperature_report(None, "4", "CEL", None),
        ],
        extensions: Vec::new(),
    }];
    let errors = readings_of_event(&event).unwrap_err();
    let positions: Vec<(usize, usize)> =
        errors.iter().map(|error| (error.element, error.report)).collect();
    assert_eq!(positions, vec![(0, 1), (0, 2), (0, 3)]);
    assert!(errors[0].to_string().contains("unknown temperature unit"), "{}", errors[0]);
}

// ---------------------------------------------------------------------------------------------
// Logger files

const ISO_CSV: &str = "\
device,time,value,unit
LOG-1,2026-03-28T23:50:00+01:00,4.1,CEL
LOG-2,2026-03-28T22:50:30Z,39.2,FAR
LOG-1,2026-03-28T23:55:00+01:00,4.3,CEL
LOG-1,2026-03-28T23:45:00+01:00,4.0,CEL
LOG-1,2026-03-28T22:55:00Z,4.3,CEL
";

#[test]
fn iso_csv_with_several_devices_sorts_and_drops_agreeing_duplicates() {
    let file = parse_logger_file(ISO_CSV.as_bytes(), Hint::default()).unwrap();
    assert_eq!(file.series.len(), 2);
    assert_eq!(file.series[0].device, "LOG-1");
    let times: Vec<i64> = file.series[0].samples.iter().map(|sample| sample.time_ms).collect();
    assert_eq!(
        times,
        vec![utc("2026-03-28T22:45:00Z"), utc("2026-03-28T22:50:00Z"), utc("2026-03-28T22:55:00Z")]
    );
    assert_eq!(file.series[0].samples[2].offset_minutes, 60, "the first line's offset is kept");
    assert_eq!(file.series[1].samples[0].celsius, 4.0);
    assert_eq!(file.len(), 4);
    let readings: Vec<Reading> = file.readings().collect();
    assert_eq!(readings[3].device, "LOG-2");
    assert_eq!(readings[3].time_ms, utc("2026-03-28T22:50:30Z"));
}

#[test]
fn conflicting_duplicates_name_both_lines() {
    let text = "device,time,value,unit\nLOG-1,2026-03-28T22:55:00Z,4.3,CEL\nLOG-1,2026-03-28T23:55:00+01:00,5.3,CEL\n";
    let errors = parse_logger_file(text.as_bytes(), Hint::default()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    assert!(matches!(
        &errors[0].problem,
        Problem::ConflictingDuplicate { first_line: 2, first_celsius, celsius, .. }
            if *first_celsius == 4.3 && *celsius == 5.3
    ));
}

#[test]
fn bad_lines_are_all_reported_and_nothing_is_accepted() {
    let text = "\
device,time,value,unit
LOG-1,2026-03-28T22:00:00Z,4.1,CEL
LOG-1,2026-03-28T22:05:00Z,4.1,RAN
LOG-1,2026-03-28T22:10:00Z,-280,CEL
LOG-1,28th March,4.1,CEL
LOG-7,2026-03-28T22:20:00Z,4.1,CEL
LOG-1,2026-03-28T22:25:00Z,warm,CEL
LOG-1,2026-03-28T22:30:00,4.1,CEL
LOG-1,2026-03-28T22:35:00Z
";
    let known = vec!["LOG-1".to_owned()];
    let hint = Hint { known_devices: Some(&known), ..Hint::default() };
    let errors = parse_logger_file(text.as_bytes(), hint).unwrap_err();
    let lines: Vec<u32> = errors.iter().map(|error| error.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9]);
    assert!(matches!(errors[0].problem, Problem::UnknownUnit(_)));
    assert!(matches!(errors[1].problem, Problem::BelowAbsoluteZero(value) if value == -280.0));
    assert!(matches!(errors[2].problem, Problem::UnparseableTime(_)));
    assert!(matches!(&errors[3].problem, Problem::UnknownDevice(device) if device == "LOG-7"));
    assert!(matches!(errors[4].problem, Problem::UnparseableValue(_)));
    assert!(matches!(errors[5].problem, Problem::NoTimeZone(_)));
    assert!(matches!(errors[6].problem, Problem::MissingFields { found: 2, needed: 4 }));
    assert_eq!(errors[1].to_string(), "line 4: temperature -280 is below absolute zero");
}

/// A European logger's export across the spring-forward change of 29 March 2026 in Berlin
/// (02:00 local becomes 03:00), with a preamble, a semicolon separator and decimal commas.
const DAY_FIRST_SPRING: &str = "\
Logger Report
Serial Number;EL-7781-22
Model;Cold-Log 5
Time Zone;Europe/Berlin
Logging Interval;00:05:00

No.;Date Time;Temperature (°C)
1;29/03/2026 01:50:00;4,1
2;29/03/2026 01:55:00;4,2
3;29/03/2026 03:00:00;4,4
4;29/03/2026 03:05:00;4,5
";

#[test]
fn day_first_export_crosses_the_spring_forward_change() {
    let file = parse_logger_file(DAY_FIRST_SPRING.as_bytes(), Hint::default()).unwrap();
    assert_eq!(file.interval_ms, Some(5 * MINUTE));
    let series = &file.series[0];
    assert_eq!(series.device, "EL-7781-22");
    let got: Vec<(i64, i16, f64)> = series
        .samples
        .iter()
        .map(|sample| (sample.time_ms, sample.offset_minutes, sample.celsius))
        .collect();
    assert_eq!(
        got,
        vec![
            (utc("2026-03-29T00:50:00Z"), 60, 4.1),
            (utc("2026-03-29T00:55:00Z"), 60, 4.2),
            (utc("2026-03-29T01:00:00Z"), 120, 4.4),
            (utc("2026-03-29T01:05:00Z"), 120, 4.5),
        ]
    );
    assert!(scan::gaps(&series.samples, five_minutes()).is_empty(), "no gap across the change");
}

#[test]
fn a_local_time_in_the_skipped_hour_is_refused() {
    let text = DAY_FIRST_SPRING.replace("03:00:00;4,4", "02:30:00;4,4");
    let errors = parse_logger_file(text.as_bytes(), Hint::default()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 10);
    assert!(matches!(errors[0].problem, Problem::NonexistentLocalTime(_)));
}

#[test]
fn day_first_export_resolves_the_repeated_autumn_hour_in_logging_order() {
    // 25 October 2026, Berlin: 03:00 CEST becomes 02:00 CET; the logger writes 02:50 twice.
    let text = "\
Serial Number,EL-7781-22
Time Zone,Europe/Berlin
No.,Date Time,Temperature (°C)
1,25.10.2026 02:50:00,3.0
2,25.10.2026 02:55:00,3.1
3,25.10.2026 02:00:00,3.2
4,25.10.2026 02:50:00,3.3
5,25.10.2026 03:00:00,3.4
";
    let file = parse_logger_file(text.as_bytes(), Hint::default()).unwrap();
    let got: Vec<(i64, i16)> = file.series[0]
        .samples
        .iter()
        .map(|sample| (sample.time_ms, sample.offset_minutes))
        .collect();
    assert_eq!(
        got,
        vec![
            (utc("2026-10-25T00:50:00Z"), 120),
            (utc("2026-10-25T00:55:00Z"), 120),
            (utc("2026-10-25T01:00:00Z"), 60),
            (utc("2026-10-25T01:50:00Z"), 60),
            (utc("2026-10-25T02:00:00Z"), 60),
        ]
    );
}

#[test]
fn day_first_export_with_an_offset_column() {
    let text = "\
Device ID: T-100
No.,Date Time,UTC Offset,Temperature (°F)
1,05/04/2026 10:00:00,+02:00,35.6
2,05/04/2026 10:15:00,+02:00,46.4
";
    let file = parse_logger_file(text.as_bytes(), Hint::default()).unwrap();
    let samples = &file.series[0].samples;
    assert_eq!(file.series[0].device, "T-100");
    assert_eq!(samples[0].time_ms, utc("2026-04-05T08:00:00Z"), "day first: 5 April");
    assert_eq!(samples[0].celsius, 2.0);
    assert_eq!(samples[1].celsius, 8.0);
    // The same file read month-first is 4 May.
    let hint = Hint { date_order: Some(DateOrder::MonthFirst), ..Hint::default() };
    let file = parse_logger_file(text.as_bytes(), hint).unwrap();
    assert_eq!(file.series[0].samples[0].time_ms, utc("2026-05-04T08:00:00Z"));
}

/// A US logger's export across the spring-forward change of 8 March 2026 in Chicago, with a
/// separate date and 12-hour clock column.
const US_EXPORT: &str = "\
Device S/N: 88231907
Time Zone: America/Chicago
\"Date\",\"Time\",\"Temperature (°F)\"
\"03/08/2026\",\"01:50 AM\",\"38.6\"
\"03/08/2026\",\"01:55 AM\",\"38.8\"
\"03/08/2026\",\"03:00 AM\",\"39.2\"
\"03/08/2026\",\"12:05 PM\",\"41.0\"
";

#[test]
fn us_export_reads_month_first_dates_and_twelve_hour_clocks() {
    let file = parse_logger_file(US_EXPORT.as_bytes(), Hint::default()).unwrap();
    let series = &file.series[0];
    assert_eq!(series.device, "88231907");
    let got: Vec<(i64, i16, f64)> = series
        .samples
        .iter()
        .map(|sample| (sample.time_ms, sample.offset_minutes, sample.celsius))
        .collect();
    assert_eq!(
        got,
        vec![
            (utc("2026-03-08T07:50:00Z"), -360, 3.666667),
            (utc("2026-03-08T07:55:00Z"), -360, 3.777778),
            (utc("2026-03-08T08:00:00Z"), -300, 4.0),
            (utc("2026-03-08T17:05:00Z"), -300, 5.0),
        ]
    );
}

#[test]
fn json_lines_take_device_and_unit_from_the_line_or_the_hint() {
    let text = "\
{\"device\":\"LOG-1\",\"time\":\"2026-03-28T23:50:00Z\",\"value\":4.1,\"unit\":\"CEL\"}
{\"time\":\"2026-03-28 23:55\",\"zone\":\"Europe/London\",\"celsius\":4.2}
{\"time\":\"2026-03-29T00:00:00Z\",\"value\":40,\"unit\":\"\\u00b0F\"}
";
    let hint = Hint { device: Some("LOG-1"), ..Hint::default() };
    let file = parse_logger_file(text.as_bytes(), hint).unwrap();
    let samples = &file.series[0].samples;
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[1].time_ms, utc("2026-03-28T23:55:00Z"));
    assert_eq!(samples[2].celsius, 4.444444);
    let bad = "{\"device\":\"LOG-1\",\"time\":\"2026-03-28T23:50:00Z\",\"value\":4.1}\n\n{\"nonsense\":1}\n";
    let errors = parse_logger_file(bad.as_bytes(), Hint::default()).unwrap_err();
    let lines: Vec<u32> = errors.iter().map(|error: &LineError| error.line).collect();
    assert_eq!(lines, vec![1, 3]);
}

#[test]
fn zones_parse_offsets_and_names() {
    assert_eq!(Zone::parse("UTC+1"), Some(Zone::fixed(60)));
    assert_eq!(Zone::parse("GMT-05:30"), Some(Zone::fixed(-330)));
    assert_eq!(Zone::parse("+0200"), Some(Zone::fixed(120)));
    assert_eq!(Zone::parse("Mars/Olympus"), None);
    let berlin = Zone::parse("europe/berlin").unwrap();
    assert_eq!(berlin.offset_at(utc("2026-07-01T00:00:00Z")), 120);
    assert_eq!(berlin.offset_at(utc("2026-03-29T00:59:59Z")), 60);
    assert_eq!(berlin.offset_at(utc("2026-03-29T01:00:00Z")), 120);
    assert_eq!(berlin.offset_at(utc("2026-10-25T01:00:00Z")), 60);
    let chicago = Zone::parse("America/Chicago").unwrap();
    assert_eq!(chicago.offset_at(utc("2026-11-01T06:59:59Z")), -300);
    assert_eq!(chicago.offset_at(utc("2026-11-01T07:00:00Z")), -360);
}

// ---------------------------------------------------------------------------------------------
// Profiles, rules and the WHO PQS examples

#[test]
fn profiles_are_serde_data_and_checked() {
    let vaccine = Profile::vaccine();
    let json = serde_json::to_string(&vaccine).unwrap();
    assert_eq!(
        json,
        "{\"name\":\"vaccine 2-8\",\"limits\":{\"minCelsius\":2.0,\"maxCelsius\":8.0},\"rules\":[\
         {\"kind\":\"singleEvent\",\"bound\":{\"above\":8.0},\"longerThanMs\":1800000},\
         {\"kind\":\"cumulative\",\"bound\":{\"above\":8.0},\"longerThanMs\":36000000},\
         {\"kind\":\"singleEvent\",\"bound\":{\"below\":-0.5},\"longerThanMs\":3600000}]}"
    );
    assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), vaccine);
    for profile in [Profile::chilled(), Profile::vaccine(), Profile::frozen()] {
        profile.check().unwrap();
    }
    let mut broken = Profile::chilled();
    broken.limits = Limits { min_celsius: Some(5.0), max_celsius: Some(4.0) };
    assert!(broken.check().is_err());
    broken = Profile::chilled();
    broken.rules[0].bound = Bound::Above(-300.0);
    assert!(broken.check().is_err());
}

#[test]
fn limits_and_rules_are_inclusive() {
    let limits = Profile::vaccine().limits;
    assert!(limits.contains(8.0) && limits.contains(2.0));
    assert!(!limits.contains(8.000001) && !limits.contains(1.999999));
    let profile = Profile::vaccine();
    // Exactly 8 °C for four hours: within range, no excursion.
    let flat = series(DAY0, 5, &[8.0; 49]);
    assert!(detect(&profile, &flat, five_minutes()).is_empty());
    // Above 8 °C for exactly 30 min (readings at 0..25 min, back at 30): not more than 30 min.
    let mut temperatures = vec![5.0; 4];
    temperatures.extend([9.0; 6]);
    temperatures.extend([5.0; 4]);
    assert!(detect(&profile, &series(DAY0, 5, &temperatures), five_minutes()).is_empty());
    // One reading more beyond: 35 min.
    temperatures[10] = 9.0;
    let found = detect(&profile, &series(DAY0, 5, &temperatures), five_minutes());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].duration_ms, 35 * MINUTE);
    assert_eq!(found[0].start_ms, DAY0 + 20 * MINUTE);
    assert_eq!(found[0].end_ms, Some(DAY0 + 55 * MINUTE));
}

#[test]
fn who_pqs_single_event_above_8_for_more_than_30_minutes() {
    let profile = Profile::vaccine();
    let mut temperatures = vec![5.0; 6];
    temperatures.extend([8.5, 9.5, 11.0, 12.5, 10.0, 9.0, 8.5]);
    temperatures.extend([6.0; 6]);
    let found = detect(&profile, &series(DAY0, 5, &temperatures), five_minutes());
    assert_eq!(found.len(), 1);
    let excursion = &found[0];
    assert_eq!(excursion.rule, Rule::single_event(Bound::Above(8.0), 30));
    assert_eq!(excursion.limits, profile.limits);
    assert_eq!(excursion.duration_ms, 35 * MINUTE);
    assert_eq!((excursion.min_celsius, excursion.max_celsius), (8.5, 12.5));
    assert_eq!(excursion.mean_celsius, 9.857143);
    assert_eq!(excursion.readings, 7);
    assert_eq!(excursion.gaps, 0);
}

#[test]
fn who_pqs_cumulative_above_8_for_more_than_10_hours_in_all() {
    // 26 warm spells of 25 minutes each (never a single event), an hour apart in between:
    // 650 minutes above 8 °C in all.
    let profile = Profile::vaccine();
    let mut temperatures = Vec::new();
    for _ in 0..26 {
        temperatures.extend([9.0; 5]);
        temperatures.extend([5.0; 12]);
    }
    let found = detect(&profile, &series(DAY0, 5, &temperatures), five_minutes());
    assert_eq!(found.len(), 1, "{found:#?}");
    let excursion = &found[0];
    assert_eq!(excursion.rule.kind, RuleKind::Cumulative);
    assert_eq!(excursion.duration_ms, 650 * MINUTE);
    assert_eq!(excursion.start_ms, DAY0);
    let last_spell_end = DAY0 + (25 * 17 + 5) * 5 * MINUTE;
    assert_eq!(excursion.end_ms, Some(last_spell_end));
    // 24 spells are 600 min: not more than 10 h.
    let shorter = &temperatures[..24 * 17];
    assert!(detect(&profile, &series(DAY0, 5, shorter), five_minutes()).is_empty());
}

#[test]
fn frozen_profile_tolerates_three_degrees_and_keeps_out_of_range_apart() {
    let profile = Profile::frozen();
    let temperatures = [-20.0, -19.0, -16.0, -15.0, -18.5];
    let samples = series(DAY0, 5, &temperatures);
    let found = detect(&profile, &samples, five_minutes());
    assert!(found.is_empty(), "up to -15 °C is within the transport tolerance");
    let warm = series(DAY0, 5, &[-20.0, -14.5, -19.0, -17.0]);
    let found = detect(&profile, &warm, five_minutes());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].duration_ms, 5 * MINUTE);
    let status = scan::status(&warm, &profile, &found);
    assert!(status.out_of_range_now, "-17 °C is above -18 °C");
    assert_eq!(status.breached, vec![0]);
    let status = scan::status(&samples, &profile, &[]);
    assert!(!status.out_of_range_now && status.breached.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Mean kinetic temperature

#[test]
fn mean_kinetic_temperature_matches_a_hand_computed_value() {
    // One hour at 25 °C and one at 30 °C:
    // MKT = 10000 / -ln((e^(-10000/298.15) + e^(-10000/303.15)) / 2) - 273.15 = 27.8210 °C.
    let samples = series(DAY0, 60, &[25.0, 30.0, 30.0]);
    let mkt = mkt::mean_kinetic_temperature(&samples, None, None).unwrap();
    assert!((mkt - 27.821_002).abs() < 1e-5, "{mkt}");
    // Uneven sampling is time-weighted: 25 °C read once holding 2 h equals two hourly readings.
    let uneven = vec![
        Sample { time_ms: DAY0, offset_minutes: 0, celsius: 20.0 },
        Sample { time_ms: DAY0 + 2 * HOUR, offset_minutes: 0, celsius: 25.0 },
        Sample { time_ms: DAY0 + 3 * HOUR, offset_minutes: 0, celsius: 30.0 },
        Sample { time_ms: DAY0 + 4 * HOUR, offset_minutes: 0, celsius: 40.0 },
        Sample { time_ms: DAY0 + 4 * HOUR + 30 * MINUTE, offset_minutes: 0, celsius: 0.0 },
    ];
    let even = series(DAY0, 30, &[20.0, 20.0, 20.0, 20.0, 25.0, 25.0, 30.0, 30.0, 40.0, 0.0]);
    let uneven_mkt = mkt::mean_kinetic_temperature(&uneven, None, None).unwrap();
    let even_mkt = mkt::mean_kinetic_temperature(&even, None, None).unwrap();
    assert!((uneven_mkt - even_mkt).abs() < 1e-9);
    assert!((uneven_mkt - 28.107_894).abs() < 1e-5, "{uneven_mkt}");
    // A window: the two hours from 02:00 are 25 °C and 30 °C, one hour each.
    let window =
        mkt::mean_kinetic_temperature(&uneven, Some((DAY0 + 2 * HOUR, DAY0 + 4 * HOUR)), None)
            .unwrap();
    assert!((window - 27.821_002).abs() < 1e-5, "{window}");
    // A gap is left out rather than bridged.
    let gapped = mkt::mean_kinetic_temperature(&uneven, None, Some(HOUR)).unwrap();
    assert!((gapped - 28.107_894).abs() > 0.1);
    assert_eq!(mkt::mean_kinetic_temperature(&samples[..1], None, None), None);
}

// ---------------------------------------------------------------------------------------------
// Gaps, late batches, supersession, skew

#[test]
fn a_gap_is_reported_and_an_excursion_across_it_says_so() {
    let profile = Profile::vaccine();
    let mut samples = series(DAY0, 5, &[5.0, 9.0, 9.0, 9.0]);
    // The logger is silent for 50 minutes, then still warm for 25 minutes, then back.
    samples.extend(series(DAY0 + 65 * MINUTE, 5, &[9.5, 9.5, 9.5, 9.5, 9.5, 5.0]));
    let config = five_minutes();
    assert_eq!(
        scan::gaps(&samples, config),
        vec![Gap { start_ms: DAY0 + 15 * MINUTE, end_ms: DAY0 + 65 * MINUTE }]
    );
    let found = detect(&profile, &samples, config);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].gaps, 1);
    assert_eq!(found[0].gap_ms, 50 * MINUTE);
    assert_eq!(found[0].duration_ms, 10 * MINUTE + 25 * MINUTE, "the gap is not counted");
    assert_eq!(found[0].start_ms, DAY0 + 5 * MINUTE);
    assert_eq!(found[0].end_ms, Some(DAY0 + 90 * MINUTE));
    // Without the gap's readings on one side it would be 10 min: the gap never adds time.
    assert!(detect(&profile, &samples[..5], config).is_empty());
}

#[test]
fn a_late_batch_supersedes_and_withdraws_reported_excursions() {
    let profile = Profile::vaccine();
    let config = Config { interval_ms: 5 * MINUTE, gap_tolerance: 20.0 };
    let mut detector = Detector::new("LOG-1", profile.clone(), config).unwrap();
    // The gateway relays one reading per 10 minutes; the logger's own readings in between
    // arrive later when it is read out.
    let all = series(DAY0, 5, &[5.0, 9.0, 9.5, 9.5, 10.0, 9.5, 9.0, 9.0, 9.0, 5.0, 5.0, 5.0]);
    let relayed: Vec<Sample> = all.iter().step_by(2).copied().collect();
    let first = detector.insert(&relayed).unwrap();
    assert_eq!(first.revisions.len(), 1);
    assert!(first.revisions[0].supersedes.is_empty());
    let reported = first.revisions[0].excursion.clone();
    assert_eq!(reported.duration_ms, 40 * MINUTE);
    assert!(first.status.breached == vec![0] && !first.status.out_of_range_now);
    // The late batch changes the stretch: new mean, max and end.
    let late: Vec<Sample> = all.iter().skip(1).step_by(2).copied().collect();
    let second = detector.insert(&late).unwrap();
    assert_eq!(second.inserted, late.len());
    assert_eq!(second.revisions.len(), 1);
    assert_eq!(second.revisions[0].supersedes, vec![reported.id]);
    assert_eq!(detector.excursions(), detect(&profile, &all, config));
    // Re-sending the same readings changes nothing.
    let again = detector.insert(&late).unwrap();
    assert_eq!((again.inserted, again.revisions.len(), again.withdrawn.len()), (0, 0, 0));
    // A contradicting reading is refused whole.
    let mut contradicting = late.clone();
    contradicting[2].celsius = 4.0;
    let conflicts = detector.insert(&contradicting).unwrap_err();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].held_celsius, 9.5);
    // A late in-range reading in the middle splits the stretch below 30 min: withdrawn.
    let current = detector.excursions()[0].clone();
    let split = Sample { time_ms: DAY0 + 22 * MINUTE, offset_minutes: 0, celsius: 6.0 };
    let third = detector.insert(&[split]).unwrap();
    assert!(third.revisions.is_empty(), "{:#?}", third.revisions);
    assert_eq!(third.withdrawn, vec![current.id]);
    assert!(detector.excursions().is_empty());
}

#[test]
fn skewed_device_clocks_are_judged_apart() {
    // Two loggers on one pallet; LOG-B's clock runs 7 minutes ahead. Each series is judged on
    // its own clock, so the skew never interleaves the two into false gaps or stretches.
    let text = "\
device,time,value,unit
LOG-A,2026-03-28T10:00:00Z,5.0,CEL
LOG-B,2026-03-28T10:07:00Z,5.1,CEL
LOG-A,2026-03-28T10:05:00Z,9.0,CEL
LOG-B,2026-03-28T10:12:00Z,5.2,CEL
LOG-A,2026-03-28T10:10:00Z,9.0,CEL
LOG-B,2026-03-28T10:17:00Z,5.3,CEL
";
    let file = parse_logger_file(text.as_bytes(), Hint::default()).unwrap();
    assert_eq!(file.series.len(), 2);
    for series in &file.series {
        assert!(scan::gaps(&series.samples, five_minutes()).is_empty());
    }
    let profile = Profile::vaccine();
    let status_a = {
        let mut detector = Detector::new("LOG-A", profile.clone(), five_minutes()).unwrap();
        detector.insert(&file.series[0].samples).unwrap().status
    };
    assert!(status_a.out_of_range_now && status_a.breached.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Acknowledgement

#[test]
fn acknowledgement_needs_an_ended_excursion_and_the_custodian() {
    let carrier = Keypair::from_seed([1; 32]).public_key();
    let receiver = Keypair::from_seed([2; 32]).public_key();
    let profile = Profile::vaccine();
    let mut temperatures = vec![5.0; 3];
    temperatures.extend([10.0; 12]);
    let ongoing = detect(&profile, &series(DAY0, 5, &temperatures), five_minutes());
    assert!(ongoing[0].is_ongoing());
    let custody = [
        Custody { holder: carrier, from_ms: DAY0 - HOUR, until_ms: Some(DAY0 + 30 * MINUTE) },
        Custody { holder: receiver, from_ms: DAY0 + 30 * MINUTE, until_ms: None },
    ];
    let acknowledgement =
        |excursion: &Excursion, by, reason| Acknowledgement { excursion: excursion.id, by, reason };
    assert_eq!(
        check_acknowledgement(
            &ongoing[0],
            &acknowledgement(&ongoing[0], carrier, Reason::SensorLostOrMalfunctioning),
            &custody
        ),
        Err(AcknowledgementError::Ongoing(ongoing[0].id))
    );
    temperatures.extend([5.0; 3]);
    let ended = detect(&profile, &series(DAY0, 5, &temperatures), five_minutes());
    let excursion = &ended[0];
    for holder in [carrier, receiver] {
        check_acknowledgement(
            excursion,
            &acknowledgement(excursion, holder, Reason::SensorLostOrMalfunctioning),
            &custody,
        )
        .unwrap();
    }
    let stranger = Keypair::from_seed([3; 32]).public_key();
    assert!(matches!(
        check_acknowledgement(
            excursion,
            &acknowledgement(excursion, stranger, Reason::Discarded),
            &custody
        ),
        Err(AcknowledgementError::NotCustodian { .. })
    ));
    assert!(matches!(
        check_acknowledgement(
            excursion,
            &acknowledgement(excursion, carrier, Reason::Other("  ".to_owned())),
            &custody
        ),
        Err(AcknowledgementError::EmptyReason(_))
    ));
    let record = excursion.to_record(vec!["urn:epc:class:lgtin:4012345.012345.LOT1".to_owned()]);
    assert_eq!(record.limit, "single-event: above 8 CEL for more than 30 min; limits 2..8 CEL");
    assert_eq!(record.observed, "10 CEL");
    assert_eq!(record.ended_ms, excursion.end_ms);
}

// ---------------------------------------------------------------------------------------------
// Incremental = from scratch

/// splitmix64: a small seeded generator, so every failure names a reproducible seed.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// A realistic journey: a five-minute logger with jitter, warm spells around 8 °C, a freeze,
/// silent stretches (gaps), and readings repeated by the relay.
fn journey(prng: &mut Prng, length: usize) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(length);
    let mut time = DAY0;
    let mut celsius: f64 = 5.0;
    for _ in 0..length {
        time += 5 * MINUTE + (prng.below(61) as i64 - 30) * 1_000;
        if prng.below(40) == 0 {
            time += (prng.below(120) as i64 + 10) * MINUTE;
        }
        celsius += (prng.below(41) as f64 - 20.0) / 10.0;
        if prng.below(30) == 0 {
            celsius = [8.0, 9.5, 12.0, -1.0, 2.0, 5.0][prng.below(6) as usize];
        }
        celsius = celsius.clamp(-3.0, 14.0);
        samples.push(Sample {
            time_ms: time,
            offset_minutes: 60,
            celsius: super::round_micro(celsius),
        });
    }
    samples
}

#[test]
fn incremental_detection_equals_a_from_scratch_scan_on_shuffled_batches() {
    let mut profile = Profile::vaccine();
    profile.rules.push(Rule::cumulative(Bound::Below(2.0), 45));
    profile.rules.push(Rule::single_event(Bound::Above(8.0), 0));
    let config = five_minutes();
    // What the seeds exercised, so the property cannot pass vacuously.
    let (mut across_gaps, mut superseding, mut withdrawals, mut ongoing) = (0, 0, 0, 0);
    for seed in 0..300u64 {
        let mut prng = Prng(seed);
        let length = 20 + prng.below(250) as usize;
        let truth = journey(&mut prng, length);
        // Arrival: shuffled, with some readings sent twice, in batches of random size.
        let mut arrivals = truth.clone();
        for _ in 0..prng.below(20) {
            arrivals.push(truth[prng.below(truth.len() as u64) as usize]);
        }
        for index in (1..arrivals.len()).rev() {
            arrivals.swap(index, prng.below(index as u64 + 1) as usize);
        }
        if seed % 3 == 0 {
            // Offline logger: the middle of the journey lands last, in one batch.
            let middle = arrivals.len() / 3..2 * arrivals.len() / 3;
            arrivals.sort_by_key(|sample| sample.time_ms);
            let late: Vec<Sample> = arrivals.drain(middle).collect();
            arrivals.extend(late);
        }
        let mut detector = Detector::new("LOG-1", profile.clone(), config).unwrap();
        let mut published: std::collections::BTreeMap<super::ExcursionId, Excursion> =
            Default::default();
        let mut held: Vec<Sample> = Vec::new();
        let mut position = 0;
        while position < arrivals.len() {
            let size = 1 + prng.below(40) as usize;
            let batch = &arrivals[position..(position + size).min(arrivals.len())];
            position += batch.len();
            let update = detector.insert(batch).unwrap();
            superseding +=
                update.revisions.iter().filter(|revision| !revision.supersedes.is_empty()).count();
            withdrawals += update.withdrawn.len();
            for sample in batch {
                if !held.iter().any(|known| known.time_ms == sample.time_ms) {
                    held.push(*sample);
                }
            }
            held.sort_by_key(|sample| sample.time_ms);
            let expected = scan::excursions("LOG-1", &held, &profile, config);
            assert_eq!(detector.excursions(), expected, "seed {seed}, after {position} readings");
            assert_eq!(detector.gaps(), scan::gaps(&held, config), "seed {seed}");
            assert_eq!(update.status, scan::status(&held, &profile, &expected), "seed {seed}");
            // Replaying the updates on the published set yields the same excursions.
            for id in &update.withdrawn {
                assert!(published.remove(id).is_some(), "seed {seed}: withdrew unknown {id}");
            }
            // One reported excursion may be superseded by several (a late reading split it).
            let mut superseded = std::collections::BTreeSet::new();
            for revision in &update.revisions {
                for id in &revision.supersedes {
                    assert!(
                        published.remove(id).is_some() || superseded.contains(id),
                        "seed {seed}: superseded unknown {id}"
                    );
                    superseded.insert(*id);
                }
            }
            for revision in update.revisions {
                published.insert(revision.excursion.id, revision.excursion);
            }
            let mut replayed: Vec<Excursion> = published.values().cloned().collect();
            let mut current = expected.clone();
            replayed.sort_by_key(|excursion| excursion.id);
            current.sort_by_key(|excursion| excursion.id);
            assert_eq!(replayed, current, "seed {seed}: published set drifted");
        }
        assert_eq!(detector.samples(), held, "seed {seed}");
        assert_eq!(detector.len(), truth.len());
        let excursions = detector.excursions();
        across_gaps += excursions.iter().filter(|excursion| excursion.gaps > 0).count();
        ongoing += excursions.iter().filter(|excursion| excursion.is_ongoing()).count();
    }
    assert!(
        across_gaps > 50 && superseding > 300 && withdrawals > 2 && ongoing > 5,
        "{across_gaps} {superseding} {withdrawals} {ongoing}"
    );
}

/// Tree nodes visited when a late batch of 20 readings (one of them back in range, splitting
/// a stretch that spans most of the journey) lands in the middle of a journey of `length`.
fn late_batch_cost(length: usize) -> u64 {
    let temperatures: Vec<f64> = (0..length)
        .map(|index| if index < length / 10 || index > 9 * length / 10 { 5.0 } else { 9.0 })
        .collect();
    let journey = series(DAY0, 5, &temperatures);
    let middle = length / 2;
    let (mut late, mut early) = (Vec::new(), Vec::new());
    for (index, sample) in journey.iter().enumerate() {
        let mut sample = *sample;
        if index == middle {
            sample.celsius = 6.0;
        }
        if (middle - 10..middle + 10).contains(&index) {
            late.push(sample);
        } else {
            early.push(sample);
        }
    }
    let mut detector = Detector::new("LOG-1", Profile::vaccine(), five_minutes()).unwrap();
    detector.insert(&early).unwrap();
    let before = detector.visits();
    let update = detector.insert(&late).unwrap();
    assert_eq!(update.revisions.len(), 3, "two stretches and the cumulative total");
    detector.visits() - before
}

#[test]
fn a_late_batch_costs_in_proportion_to_the_batch_not_the_journey() {
    let short = late_batch_cost(2_000);
    let long = late_batch_cost(64_000);
    // 32 times the journey: the cost may grow with the tree's depth (log n), not with n.
    assert!(long < 3 * short, "short journey {short} visits, long journey {long}");
}

#[test]
fn preamble_declares_unit_and_a_bad_zone_is_named_by_its_line() {
    let text = "Device,K-1\nUnit,°F\nDate Time,Temp\n2026-04-05 10:00:00+02:00,46.4\n";
    let file = parse_logger_file(text.as_bytes(), Hint::default()).unwrap();
    assert_eq!(file.series[0].samples[0].celsius, 8.0);
    let text = "Device,K-1\nTime Zone,Europe/Atlantis\nDate Time,Temp (°C)\n";
    let errors = parse_logger_file(text.as_bytes(), Hint::default()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert!(matches!(&errors[0].problem, Problem::UnknownZone(zone) if zone == "Europe/Atlantis"));
    let errors = parse_logger_file(b"just some text\n", Hint::default()).unwrap_err();
    assert!(matches!(errors[0].problem, Problem::NoHeader));
}
