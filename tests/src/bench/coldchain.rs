//! Scenarios `coldchain_import` and `coldchain_late_batch`: temperature logger data into the
//! ledger, and excursion detection when readings arrive late.
//!
//! `coldchain_import` writes one logger CSV export of a European logger (preamble with its
//! serial number, `Europe/Berlin` time zone and interval; header `No.,Date Time,Temperature
//! (°C)`; rows `1,29/03/2026 01:55:00,4.1` in local day-first time across daylight-saving
//! changes), then times the import path: [`coldchain::parse_logger_file`], the capture document
//! of [`lotline_client::coldchain::document_of`] (what `lotline coldchain import` sends), and
//! what a node's capture does with it (parse and validate the document, each event's JSON-LD
//! and Event Hash ID, sign it into a feed, append durably to a sled [`Store`] in batches). It
//! reports readings per second beside the machine's SHA-256 rate over the same bytes in the
//! same run (one core).
//!
//! `coldchain_late_batch` holds a journey of N readings in an incremental
//! [`coldchain::Detector`] with holes of [`LATE_BATCH`] readings around the middle (a logger
//! that was offline), then times each late batch that fills one: its middle readings are above the
//! vaccine profile's 8 °C for longer than the single-event rule allows, so an in-range
//! stretch splits around a new excursion and the gap closes. Each N is timed over several such
//! batches landing in turn in the same detector, each in its own hole; beside it, the one-pass
//! definition (`coldchain::scan`) over the whole journey shows what recomputing from scratch
//! costs.
//!
//! Owns the scenarios and their synthetic data. Does not own parsing, detection or storage.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use lotline_client::coldchain::{Shipment, document_of};
use lotline_ledger::coldchain::zone::Zone;
use lotline_ledger::coldchain::{self, Config, Detector, Profile, Sample};
use lotline_ledger::epcis;
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::Keypair;
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use lotline_ledger::roster::{Genesis, Member, Role};
use lotline_ledger::store::Store;

use super::{Options, Report};

/// Readings in the imported file.
const FULL_READINGS: usize = 1_000_000;
/// Readings with `--quick`.
const QUICK_READINGS: usize = 100_000;
/// Journeys of the late-batch scenario.
const FULL_JOURNEYS: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Journeys with `--quick`.
const QUICK_JOURNEYS: [usize; 2] = [10_000, 100_000];
/// Readings in the late batch.
const LATE_BATCH: usize = 100;
/// Late batches timed per journey (each filling its own hole).
const LATE_REPEATS: usize = 15;
/// Logging interval of the synthetic logger.
const INTERVAL_MS: i64 = 60_000;
/// First reading (2026-03-01T00:00:00Z).
const START_MS: i64 = 1_772_323_200_000;
/// Events appended per durable batch (a capture document of this many events).
const EVENTS_PER_BATCH: usize = 250;
/// Bytes hashed per SHA-256 call when measuring the machine's rate.
const SHA256_CHUNK: usize = 64 * 1024;

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

/// A plausible chilled-product trace: 4–6 °C with a slow wave and sensor noise.
fn celsius_at(index: usize) -> f64 {
    let wave = ((index % 720) as f64 / 720.0 * std::f64::consts::TAU).sin();
    let noise = ((index * 7_919) % 11) as f64 * 0.02;
    round(5.0 + wave + noise - 0.1, 1)
}

/// The logger export: `readings` one minute apart, in Berlin local time, day-first.
fn logger_csv(readings: usize) -> String {
    let zone = Zone::parse("Europe/Berlin").unwrap_or_else(|| Zone::fixed(60));
    let mut text = String::with_capacity(readings * 34 + 256);
    text.push_str("Serial Number,EL-7781\nTime Zone,Europe/Berlin\nLogging Interval,00:01:00\n");
    text.push_str("No.,Date Time,Temperature (°C)\n");
    for index in 0..readings {
        let utc_ms = START_MS + index as i64 * INTERVAL_MS;
        let local_ms = utc_ms + i64::from(zone.offset_at(utc_ms)) * 60_000;
        let (year, month, day) = civil_date(local_ms.div_euclid(DAY_MS));
        let of_day = local_ms.rem_euclid(DAY_MS) / 1_000;
        text.push_str(&format!(
            "{},{day:02}/{month:02}/{year} {:02}:{:02}:{:02},{:.1}\n",
            index + 1,
            of_day / 3_600,
            of_day / 60 % 60,
            of_day % 60,
            celsius_at(index)
        ));
    }
    text
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01.
fn civil_date(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The machine's SHA-256 rate over `bytes` on one core, bytes per second.
fn sha256_bytes_per_s(bytes: &[u8]) -> f64 {
    let started = Instant::now();
    let mut folded = 0u8;
    for chunk in bytes.chunks(SHA256_CHUNK) {
        folded ^= lotline_ledger::codec::digest(chunk)[0];
    }
    std::hint::black_box(folded);
    bytes.len() as f64 / started.elapsed().as_secs_f64()
}

/// A GLN with a correct check digit.
fn gln(location: u64) -> String {
    let data = format!("{:012}", 614_141_000_000 + location);
    let weighted: u32 = data
        .chars()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let value = digit.to_digit(10).unwrap_or(0);
            if position % 2 == 0 { value * 3 } else { value }
        })
        .sum();
    format!("{data}{}", (10 - weighted % 10) % 10)
}

/// A network whose one member, a carrier, captures the logger's events.
fn genesis(carrier: &Keypair) -> anyhow::Result<Genesis> {
    let governance = Keypair::from_seed([201; 32]);
    let mut genesis = Genesis {
        network: "lotline-bench-coldchain".to_owned(),
        governance_keys: vec![governance.public_key()],
        threshold: 1,
        members: vec![Member {
            key: carrier.public_key(),
            name: "Carrier".to_owned(),
            gln: gln(42),
            roles: [Role::Logistics].into_iter().collect(),
            prefixes: Default::default(),
        }],
        signatures: Vec::new(),
    };
    genesis.sign(&governance).context("signing the bench genesis")?;
    Ok(genesis)
}

/// Runs `coldchain_import` and returns its report line.
pub fn run_import(options: &Options) -> anyhow::Result<Report> {
    let readings = if options.quick { QUICK_READINGS } else { FULL_READINGS };
    let csv = logger_csv(readings);
    let sha256 = sha256_bytes_per_s(csv.as_bytes());

    let carrier = Keypair::from_seed([77; 32]);
    let genesis = genesis(&carrier)?;
    let directory = tempfile::tempdir().context("creating the bench store directory")?;
    let store = Store::open(directory.path(), &genesis)?;
    let mut writer = FeedWriter::new(Keypair::from_seed(carrier.seed()), None);
    let shipment = Shipment {
        lots: vec!["https://id.gs1.org/01/04012345123456/10/L-2026-03".to_owned()],
        units: vec!["https://id.gs1.org/00/340123450000000017".to_owned()],
        read_point: None,
    };

    let started = Instant::now();
    let file = coldchain::parse_logger_file(csv.as_bytes(), coldchain::logger::Hint::default())
        .map_err(|errors| anyhow::anyhow!("the bench's logger file: {:?}", errors.first()))?;
    let parsed = started.elapsed();
    let parsed_readings = file.len();
    let document = document_of(&file, &shipment, "2026-03-01T00:00:00Z");
    let body = serde_json::to_vec(&document)?;
    drop(document);
    let documented = started.elapsed();
    let captured = epcis::parse_document(&body)?;
    epcis::validate::check_document_to_sign(&captured)?;
    let validated = started.elapsed();
    let (mut read_events, mut signing, mut appending) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut appended = 0usize;
    for chunk in captured.events.chunks(EVENTS_PER_BATCH) {
        let stage = Instant::now();
        let payloads: Vec<Payload> = chunk
            .iter()
            .map(|event| {
                Payload::Epcis(EpcisCapture {
                    event_id: epcis::event_hash_id(event),
                    format: EventFormat::JsonLd,
                    original: epcis::event_to_json_ld(event).to_string().into_bytes(),
                })
            })
            .collect();
        read_events += stage.elapsed();
        let stage = Instant::now();
        let entries = payloads
            .iter()
            .map(|payload| writer.next_entry(START_MS, payload).context("signing an event"))
            .collect::<anyhow::Result<Vec<VerifiedEntry>>>()?;
        signing += stage.elapsed();
        let stage = Instant::now();
        store.append_verified(&entries)?;
        appending += stage.elapsed();
        appended += entries.len();
    }
    let elapsed = started.elapsed();

    let per_s = parsed_readings as f64 / elapsed.as_secs_f64();
    let bytes_per_reading = csv.len() as f64 / readings as f64;
    let sha256_readings_per_s = sha256 / bytes_per_reading;
    let mut extra = serde_json::Map::new();
    extra.insert("file_bytes".into(), csv.len().into());
    extra.insert("events_appended".into(), appended.into());
    extra.insert("parse_s".into(), round(parsed.as_secs_f64(), 3).into());
    extra.insert("document_s".into(), round((documented - parsed).as_secs_f64(), 3).into());
    extra.insert("capture_s".into(), round((elapsed - documented).as_secs_f64(), 3).into());
    extra.insert("validate_s".into(), round((validated - documented).as_secs_f64(), 3).into());
    extra.insert("event_hash_s".into(), round(read_events.as_secs_f64(), 3).into());
    extra.insert("sign_s".into(), round(signing.as_secs_f64(), 3).into());
    extra.insert("append_s".into(), round(appending.as_secs_f64(), 3).into());
    extra.insert("elapsed_s".into(), round(elapsed.as_secs_f64(), 3).into());
    extra.insert("sha256_mb_per_s".into(), round(sha256 / 1e6, 1).into());
    extra.insert("sha256_readings_per_s".into(), round(sha256_readings_per_s, 0).into());
    extra.insert("sha256_ratio".into(), round(per_s / sha256_readings_per_s, 4).into());
    Ok(Report {
        scenario: "coldchain_import".to_owned(),
        events: parsed_readings as u64,
        per_s: Some(round(per_s, 0)),
        extra,
        ..Report::default()
    })
}

/// The holes of a journey of `journey` readings: [`LATE_REPEATS`] stretches of [`LATE_BATCH`]
/// readings around its middle, spaced apart, each left for a late batch to fill.
fn holes(journey: usize) -> Vec<std::ops::Range<usize>> {
    let spacing = (journey / 40).max(2 * LATE_BATCH);
    (0..LATE_REPEATS)
        .map(|hole| journey / 2 + hole * spacing)
        .map(|start| start..start + LATE_BATCH)
        .collect()
}

/// The journey's reading at `index`: in range, except the middle of each hole (what its late
/// batch brings), above 8 °C for 40 minutes.
fn journey_sample(index: usize, holes: &[std::ops::Range<usize>]) -> Sample {
    let inside = holes.iter().find(|hole| hole.contains(&index)).map(|hole| index - hole.start);
    let celsius = match inside {
        Some(offset) if (30..70).contains(&offset) => 10.5,
        _ => celsius_at(index),
    };
    Sample { time_ms: START_MS + index as i64 * INTERVAL_MS, offset_minutes: 60, celsius }
}

/// Runs `coldchain_late_batch` and returns its report line. The late batches of one journey
/// land one after the other in the same detector (as they would in a node), each filling its
/// own hole, so every batch meets a journey of about N readings.
pub fn run_late_batch(options: &Options) -> anyhow::Result<Report> {
    let journeys: &[usize] = if options.quick { &QUICK_JOURNEYS } else { &FULL_JOURNEYS };
    let config = Config { interval_ms: INTERVAL_MS, gap_tolerance: 2.0 };
    let mut extra = serde_json::Map::new();
    let mut largest_p50_ms = 0.0;
    for &journey in journeys {
        let holes = holes(journey);
        let mut detector = Detector::new("EL-7781", Profile::vaccine(), config)
            .map_err(|error| anyhow::anyhow!("the vaccine profile: {error}"))?;
        let held: Vec<Sample> = (0..journey)
            .filter(|index| !holes.iter().any(|hole| hole.contains(index)))
            .map(|index| journey_sample(index, &holes))
            .collect();
        for chunk in held.chunks(10_000) {
            detector.insert(chunk).map_err(|conflicts| anyhow::anyhow!("{conflicts:?}"))?;
        }
        let gaps_before = detector.gaps().len();
        let mut times: Vec<Duration> = Vec::with_capacity(LATE_REPEATS);
        let mut revisions = 0;
        for hole in &holes {
            let late: Vec<Sample> =
                hole.clone().map(|index| journey_sample(index, &holes)).collect();
            let started = Instant::now();
            let update =
                detector.insert(&late).map_err(|conflicts| anyhow::anyhow!("{conflicts:?}"))?;
            times.push(started.elapsed());
            revisions += update.revisions.len();
        }
        anyhow::ensure!(
            detector.len() == journey && detector.gaps().len() + holes.len() == gaps_before,
            "every late batch fills its hole and closes its gap"
        );
        times.sort();
        let whole: Vec<Sample> = (0..journey).map(|index| journey_sample(index, &holes)).collect();
        let started = Instant::now();
        let excursions =
            coldchain::scan::excursions("EL-7781", &whole, &Profile::vaccine(), config);
        let rescan = started.elapsed();
        std::hint::black_box(excursions.len());
        let p50_ms = super::percentile_ms(&times, 0.5);
        largest_p50_ms = p50_ms;
        extra.insert(
            format!("journey_{journey}"),
            serde_json::json!({
                "batch_us_p50": round(p50_ms * 1_000.0, 1),
                "batch_us_min": round(times[0].as_secs_f64() * 1e6, 1),
                "batch_us_max": round(times[times.len() - 1].as_secs_f64() * 1e6, 1),
                "revisions_per_batch": round(revisions as f64 / holes.len() as f64, 2),
                "rescan_us": round(rescan.as_secs_f64() * 1e6, 0),
            }),
        );
    }
    extra.insert("batch_readings".into(), LATE_BATCH.into());
    extra.insert("batches".into(), LATE_REPEATS.into());
    Ok(Report {
        scenario: "coldchain_late_batch".to_owned(),
        events: LATE_BATCH as u64,
        p50_ms: Some(round(largest_p50_ms, 4)),
        extra,
        ..Report::default()
    })
}
