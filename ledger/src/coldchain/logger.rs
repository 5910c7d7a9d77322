//! Logger files: CSV exports of temperature data loggers and JSON Lines, parsed into per-device
//! series of [`Sample`]s, accepted whole or refused with every bad line named.
//!
//! Owns: [`parse_logger_file`], [`Hint`], [`LoggerFile`], [`LineError`] and the layouts below.
//! Does not own: which shipment or lots a device travelled with, storing the readings, or
//! reading the file from disk.
//!
//! # Layouts
//!
//! A CSV file is an optional preamble of `key,value` (or `key: value`) lines, one header row,
//! then one reading per row. The separator (`,`, `;` or tab) is the header row's. Preamble
//! keys understood (case-insensitive; other preamble lines are ignored): `Serial Number`,
//! `Serial No.`, `Device S/N`, `Logger S/N`, `Device ID`, `Device` (the device),
//! `Time Zone`/`Timezone` (see [`Zone::parse`]), `UTC Offset`, `Unit`/`Temperature Unit`,
//! `Logging Interval` (`00:05:00`, `5 min`). The header row names a time
//! column (`Time`, `Timestamp`, `Date Time`, `Date/Time`, `DateTime`, or `Date` plus `Time`), a
//! temperature column (`Temperature`, `Temp`, `Value`, with its unit in the name, such as
//! `Temperature (°C)`, `Temp[°F]`, or in a `Unit`/`UOM` column), and optionally `Device`
//! (`Device ID`, `Serial`) and `UTC Offset`/`Offset` columns. Four layouts are tested:
//!
//! 1. **ISO CSV** (a gateway or spreadsheet export, several devices):
//!    `device,time,value,unit` / `LOG-1,2026-03-28T23:50:00+01:00,4.1,CEL`.
//! 2. **Day-first logger export** (European loggers): preamble `Serial Number,EL-7781` and
//!    `Time Zone,Europe/Berlin`, header `No.,Date Time,Temperature (°C)`, rows
//!    `1,29/03/2026 01:55:00,4.1`; `dd.mm.yyyy` dates and `;` with decimal commas too; a
//!    `UTC Offset` column, when present, fixes each row's offset.
//! 3. **US logger export**: preamble `Device S/N: 88231907` and `Time Zone: America/Chicago`,
//!    header `Date,Time,Temperature (°F)`, rows `03/08/2026,01:45 AM,38.6`.
//! 4. **JSON Lines**: one object per line,
//!    `{"device":"LOG-1","time":"2026-03-28T23:50:00Z","value":4.1,"unit":"CEL"}`; `device`
//!    and `unit` may come from the [`Hint`], `celsius` may replace `value` and `unit`.
//!
//! Dates are ISO 8601 (`2026-03-28T23:50:00+01:00`, `2026-03-28 23:50`), or slashed/dotted
//! with the year last: with an AM/PM clock they are month-first (US), otherwise day-first,
//! unless [`Hint::date_order`] says otherwise. A time's own offset wins over an offset column,
//! which wins over the declared zone (preamble, then hint). In a zone with daylight saving,
//! a local time in the skipped hour is refused; one in the repeated hour is the earliest
//! instant not before the device's previous row (loggers write in order), so a logger that
//! writes `02:30` twice across the October change gets two instants an hour apart.

use std::borrow::Cow;

use serde::Deserialize;

use super::zone::{Resolved, Zone, parse_offset};
use super::{Reading, Sample, Unit, round_micro};

/// A bad line, named by its 1-based line number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// The 1-based line number.
    pub line: u32,
    /// The rule the line breaks.
    pub problem: Problem,
}

/// Why a line of a logger file is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// No header row naming a time and a temperature column was found.
    #[error("no header row naming a time column and a temperature column")]
    NoHeader,
    /// The row has fewer fields than the header needs.
    #[error("row has {found} fields, the header needs {needed}")]
    MissingFields {
        /// Fields in the row.
        found: usize,
        /// Fields the header's columns need.
        needed: usize,
    },
    /// The temperature unit is absent or not one of °C, °F, K.
    #[error("unknown temperature unit {0:?}")]
    UnknownUnit(String),
    /// The temperature is not a number.
    #[error("temperature {0:?} is not a number")]
    UnparseableValue(String),
    /// The temperature is below absolute zero.
    #[error("temperature {0} is below absolute zero")]
    BelowAbsoluteZero(f64),
    /// The date or time cannot be read.
    #[error("unparseable date/time {0:?}")]
    UnparseableTime(String),
    /// The time has no offset and the file declares no zone.
    #[error("time {0:?} has no offset and the file declares no time zone")]
    NoTimeZone(String),
    /// A declared zone or offset is not understood.
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    /// The local time falls in the hour skipped when clocks go forward.
    #[error("local time {0:?} does not exist in the declared zone (daylight-saving gap)")]
    NonexistentLocalTime(String),
    /// No device is named by the row, the preamble or the hint.
    #[error("no device named by the row, the file's preamble or the import")]
    NoDevice,
    /// The device is not one the import knows.
    #[error("unknown device {0:?}")]
    UnknownDevice(String),
    /// A JSON line is not a reading object.
    #[error("not a reading object: {0}")]
    BadJson(String),
    /// Two lines give the same device and instant different temperatures.
    #[error(
        "device {device:?} at {time_ms} ms: {celsius} °C here, {first_celsius} °C on line {first_line}"
    )]
    ConflictingDuplicate {
        /// The device.
        device: String,
        /// The instant, ms since the epoch.
        time_ms: i64,
        /// The line read first.
        first_line: u32,
        /// Its temperature.
        first_celsius: f64,
        /// This line's temperature.
        celsius: f64,
    },
}

/// Which way a slashed or dotted date is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `dd/mm/yyyy`.
    DayFirst,
    /// `mm/dd/yyyy`.
    MonthFirst,
}

/// What the import knows that the file may not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hint<'a> {
    /// The device, when the file names none.
    pub device: Option<&'a str>,
    /// The zone of times written without offset, when the file declares none.
    pub zone: Option<Zone>,
    /// How slashed dates are read (see the module doc for the default).
    pub date_order: Option<DateOrder>,
    /// The temperature unit, when the file names none.
    pub unit: Option<Unit>,
    /// The devices the import knows; `None` accepts any.
    pub known_devices: Option<&'a [String]>,
}

/// The readings of one device in a file, sorted by time, duplicates removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The device.
    pub device: String,
    /// The readings, in time order, one per instant.
    pub samples: Vec<Sample>,
}

/// A parsed logger file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggerFile {
    /// One series per device, in order of first appearance.
    pub series: Vec<Series>,
    /// The logging interval the preamble declares (`Logging Interval`), in ms.
    pub interval_ms: Option<i64>,
}

impl LoggerFile {
    /// Number of readings in the file (after idempotent duplicates are dropped).
    pub fn len(&self) -> usize {
        self.series.iter().map(|series| series.samples.len()).sum()
    }

    /// Every reading with its device, series by series.
    pub fn readings(&self) -> impl Iterator<Item = Reading> + '_ {
        self.series.iter().flat_map(|series| {
            series.samples.iter().map(|sample| Reading {
                device: series.device.clone(),
                time_ms: sample.time_ms,
                offset_minutes: sample.offset_minutes,
                celsius: sample.celsius,
            })
        })
    }

    /// `true` when the file holds no reading.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses a logger file (CSV or JSON Lines, see the module doc). Every bad line is reported
/// with its line number; the file is accepted whole or not at all. Readings of one device at
/// one instant are kept once when they agree and refused, naming both lines, when they do not.
pub fn parse_logger_file(bytes: &[u8], hint: Hint<'_>) -> Result<LoggerFile, Vec<LineError>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let line = 1 + bytes[..error.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            return Err(vec![LineError {
                line: line as u32,
                problem: Problem::UnparseableValue("invalid UTF-8".to_owned()),
            }]);
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::new(hint);
    if text.trim_start().starts_with('{') {
        parse_json_lines(text, &mut builder);
    } else {
        parse_csv(text, &mut builder);
    }
    builder.finish()
}

/// Collects readings per device and errors, in one pass.
struct Builder<'a> {
    hint: Hint<'a>,
    devices: Vec<String>,
    rows: Vec<Vec<(Sample, u32)>>,
    /// The previous row's instant per device (resolves the repeated daylight-saving hour).
    previous: Vec<i64>,
    errors: Vec<LineError>,
    interval_ms: Option<i64>,
}

impl<'a> Builder<'a> {
    fn new(hint: Hint<'a>) -> Self {
        Self {
            hint,
            devices: Vec::new(),
            rows: Vec::new(),
            previous: Vec::new(),
            errors: Vec::new(),
            interval_ms: None,
        }
    }

    fn error(&mut self, line: u32, problem: Problem) {
        self.errors.push(LineError { line, problem });
    }

    /// The index of `device`, checked against the known devices.
    fn device(&mut self, device: &str) -> Result<usize, Problem> {
        if let Some(index) = self.devices.iter().position(|known| known == device) {
            return Ok(index);
        }
        if let Some(known) = self.hint.known_devices
            && !known.iter().any(|known| known == device)
        {
            return Err(Problem::UnknownDevice(device.to_owned()));
        }
        self.devices.push(device.to_owned());
        self.rows.push(Vec::new());
        self.previous.push(i64::MIN);
        Ok(self.devices.len() - 1)
    }

    /// Resolves a local time to UTC for `device_index` (see the module doc).
    fn instant(
        &mut self,
        device_index: usize,
        local: LocalTime,
        zone: Option<Zone>,
        text: &str,
    ) -> Result<(i64, i16), Problem> {
        if let Some(offset) = local.offset {
            return Ok((local.local_ms - i64::from(offset) * 60_000, offset));
        }
        let Some(zone) = zone else { return Err(Problem::NoTimeZone(text.to_owned())) };
        let previous = self.previous[device_index];
        match zone.resolve(local.local_ms) {
            Resolved::One(utc, offset) => Ok((utc, offset)),
            Resolved::Ambiguous(earlier, later) => {
                Ok(if earlier.0 >= previous { earlier } else { later })
            }
            Resolved::Nonexistent => Err(Problem::NonexistentLocalTime(text.to_owned())),
        }
    }

    fn push(&mut self, device_index: usize, sample: Sample, line: u32) {
        self.previous[device_index] = sample.time_ms;
        self.rows[device_index].push((sample, line));
    }

    fn finish(mut self) -> Result<LoggerFile, Vec<LineError>> {
        let mut series = Vec::with_capacity(self.devices.len());
        for (device, mut rows) in self.devices.into_iter().zip(self.rows) {
            // Stable: rows of one instant stay in line order, so the first line is kept.
            rows.sort_by_key(|(sample, _)| sample.time_ms);
            let mut samples: Vec<Sample> = Vec::with_capacity(rows.len());
            let mut kept_line = 0;
            for (sample, line) in rows {
                match samples.last() {
                    Some(last) if last.time_ms == sample.time_ms => {
                        if last.celsius != sample.celsius {
                            self.errors.push(LineError {
                                line,
                                problem: Problem::ConflictingDuplicate {
                                    device: device.clone(),
                                    time_ms: sample.time_ms,
                                    first_line: kept_line,
                                    first_celsius: last.celsius,
                                    celsius: sample.celsius,
                                },
                            });
                        }
                    }
                    _ => {
                        kept_line = line;
                        samples.push(sample);
                    }
                }
            }
            series.push(Series { device, samples });
        }
        if self.errors.is_empty() {
            Ok(LoggerFile { series, interval_ms: self.interval_ms })
        } else {
            self.errors.sort_by_key(|error| error.line);
            Err(self.errors)
        }
    }
}

/// A parsed wall-clock time.
#[derive(Debug, Clone, Copy)]
struct LocalTime {
    /// Milliseconds since the epoch, as if the wall clock were UTC.
    local_ms: i64,
    /// The offset written with the time, if any.
    offset: Option<i16>,
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Which column holds what.
#[derive(Debug, Default)]
struct Columns {
    device: Option<usize>,
    /// Date and time in one column, or the date when `clock` is set.
    time: Option<usize>,
    clock: Option<usize>,
    offset: Option<usize>,
    value: Option<usize>,
    unit: Option<usize>,
    /// The unit named in the temperature column's header.
    header_unit: Option<Unit>,
}

impl Columns {
    fn needed(&self) -> usize {
        [self.device, self.time, self.clock, self.offset, self.value, self.unit]
            .into_iter()
            .flatten()
            .max()
            .map_or(0, |last| last + 1)
    }
}

/// What a CSV file's preamble declares.
#[derive(Debug, Clone, Copy, Default)]
struct Preamble<'text> {
    device: Option<&'text str>,
    zone: Option<Zone>,
    unit: Option<Unit>,
}

fn parse_csv(text: &str, builder: &mut Builder<'_>) {
    let mut preamble = Preamble { zone: builder.hint.zone, ..Preamble::default() };
    let mut header: Option<(Columns, u8)> = None;
    let mut fields: Vec<&str> = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index as u32 + 1;
        let row = raw_line.trim();
        if row.is_empty() {
            continue;
        }
        let Some((columns, separator)) = &header else {
            let separator = detect_separator(row);
            split_fields(row, separator, &mut fields);
            if let Some(columns) = header_columns(&fields) {
                header = Some((columns, separator));
                continue;
            }
            let Some((key, value)) = preamble_pair(row) else { continue };
            match key.as_str() {
                "serial number" | "serial no." | "serial no" | "serial" | "device s/n"
                | "logger s/n" | "s/n" | "device id" | "device" | "logger id" => {
                    preamble.device = Some(value)
                }
                "time zone" | "timezone" | "utc offset" => match Zone::parse(value) {
                    Some(parsed) => preamble.zone = Some(parsed),
                    None => builder.error(line, Problem::UnknownZone(value.to_owned())),
                },
                "unit" | "units" | "temperature unit" => match Unit::parse(value) {
                    Some(unit) => preamble.unit = Some(unit),
                    None => builder.error(line, Problem::UnknownUnit(value.to_owned())),
                },
                "logging interval" | "log interval" | "interval" => {
                    builder.interval_ms = parse_interval(value)
                }
                _ => {}
            }
            continue;
        };
        split_fields(row, *separator, &mut fields);
        if fields.len() < columns.needed() {
            builder.error(
                line,
                Problem::MissingFields { found: fields.len(), needed: columns.needed() },
            );
            continue;
        }
        if let Err(problem) = csv_row(builder, columns, *separator, &fields, preamble, line) {
            builder.error(line, problem);
        }
    }
    if header.is_none() {
        let line = text.lines().count().max(1) as u32;
        builder.error(line, Problem::NoHeader);
    }
}

fn csv_row(
    builder: &mut Builder<'_>,
    columns: &Columns,
    separator: u8,
    fields: &[&str],
    preamble: Preamble<'_>,
    line: u32,
) -> Result<(), Problem> {
    let device = match columns.device {
        Some(column) => Some(fields[column]),
        None => preamble.device.or(builder.hint.device),
    };
    let device = device.filter(|device| !device.is_empty()).ok_or(Problem::NoDevice)?;
    let device_index = builder.device(device)?;
    let unit = match columns.unit {
        Some(column) => Some(
            Unit::parse(fields[column])
                .ok_or_else(|| Problem::UnknownUnit(fields[column].to_owned()))?,
        ),
        None => columns.header_unit.or(preamble.unit).or(builder.hint.unit),
    };
    let unit = unit.ok_or_else(|| Problem::UnknownUnit(String::new()))?;
    let value_text = fields[columns.value.unwrap_or(0)];
    let value = parse_number(value_text, separator != b',')
        .ok_or_else(|| Problem::UnparseableValue(value_text.to_owned()))?;
    let celsius = match unit.to_celsius(value) {
        Some(celsius) => celsius,
        None => return Err(Problem::BelowAbsoluteZero(round_micro(value))),
    };
    let time_column = columns.time.unwrap_or(0);
    let date_text = fields[time_column];
    let order = builder.hint.date_order;
    let mut local = match columns.clock {
        Some(clock_column) => parse_date_and_clock(date_text, fields[clock_column], order),
        None => parse_date_time(date_text, order),
    }
    .ok_or_else(|| Problem::UnparseableTime(date_text.to_owned()))?;
    if local.offset.is_none()
        && let Some(column) = columns.offset
    {
        let offset_text = fields[column];
        let zone =
            Zone::parse(offset_text).ok_or_else(|| Problem::UnknownZone(offset_text.to_owned()))?;
        local.offset = Some(zone.standard_minutes).filter(|_| zone.dst == super::zone::Dst::None);
        if local.offset.is_none() {
            return Err(Problem::UnknownZone(offset_text.to_owned()));
        }
    }
    let (time_ms, offset_minutes) =
        builder.instant(device_index, local, preamble.zone, date_text)?;
    builder.push(device_index, Sample { time_ms, offset_minutes, celsius }, line);
    Ok(())
}

fn detect_separator(row: &str) -> u8 {
    let count = |separator: u8| row.bytes().filter(|&b| b == separator).count();
    [b'\t', b';', b',']
        .into_iter()
        .max_by_key(|&separator| (count(separator), separator == b','))
        .filter(|&separator| count(separator) > 0)
        .unwrap_or(b',')
}

/// Splits a row into trimmed fields with surrounding double quotes removed (logger exports
/// quote whole fields and never escape inside them).
fn split_fields<'row>(row: &'row str, separator: u8, fields: &mut Vec<&'row str>) {
    fields.clear();
    let bytes = row.as_bytes();
    let mut start = 0;
    let mut quoted = false;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'"' {
            quoted = !quoted;
        } else if byte == separator && !quoted {
            fields.push(unquote(&row[start..index]));
            start = index + 1;
        }
    }
    fields.push(unquote(&row[start..]));
}

fn unquote(field: &str) -> &str {
    let field = field.trim();
    field.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(field).trim()
}

/// A preamble line as (lowercase key, value).
fn preamble_pair(row: &str) -> Option<(String, &str)> {
    let split = [',', ';', '\t']
        .into_iter()
        .find_map(|separator| row.split_once(separator))
        .or_else(|| row.split_once(':'))?;
    let key = unquote(split.0).trim_end_matches(':').trim().to_ascii_lowercase();
    Some((key, unquote(split.1)))
}

/// The columns a header row names, `None` when it is not a header row.
fn header_columns(fields: &[&str]) -> Option<Columns> {
    let mut columns = Columns::default();
    let (mut date, mut clock, mut date_time) = (None, None, None);
    for (index, field) in fields.iter().enumerate() {
        let name = field.to_ascii_lowercase();
        let bare = name.split(['(', '[']).next().unwrap_or("").trim();
        match bare {
            "device" | "device id" | "deviceid" | "serial" | "serial number" | "logger" => {
                columns.device = Some(index)
            }
            "date" => date = Some(index),
            "time" => clock = Some(index),
            "timestamp" | "date time" | "date/time" | "datetime" | "date and time" => {
                date_time = Some(index)
            }
            "utc offset" | "offset" | "time zone" | "tz" => columns.offset = Some(index),
            "unit" | "uom" | "units" => columns.unit = Some(index),
            _ if bare.starts_with("temp") || bare == "value" || bare == "celsius" => {
                columns.value = Some(index);
                columns.header_unit = unit_in_header(&name);
            }
            _ => {}
        }
    }
    match (date_time, date, clock) {
        (Some(column), _, _) => columns.time = Some(column),
        (None, Some(date), Some(clock)) => {
            columns.time = Some(date);
            columns.clock = Some(clock);
        }
        (None, Some(column), None) | (None, None, Some(column)) => columns.time = Some(column),
        (None, None, None) => {}
    }
    (columns.time.is_some() && columns.value.is_some()).then_some(columns)
}

/// The unit a temperature column's header names: `Temperature (°C)`, `Temp[°F]`,
/// `Temperature °C`, `Temp (C)`, `Temperature_degF`.
fn unit_in_header(name: &str) -> Option<Unit> {
    let unit = name.rsplit(['(', '[', ' ', '_']).next()?.trim_end_matches([')', ']']).trim();
    Unit::parse(unit)
}

/// `00:05:00`, `5 min`, `300 s`, `1 h` → milliseconds.
fn parse_interval(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(clock) = parse_clock_digits(text) {
        return Some(clock).filter(|&ms| ms > 0);
    }
    let (number, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: i64 = number.parse().ok()?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        _ => return None,
    };
    Some(number * scale).filter(|&ms| ms > 0)
}

/// A decimal number; with `comma_decimal`, a comma is the decimal point.
fn parse_number(text: &str, comma_decimal: bool) -> Option<f64> {
    let text = text.trim();
    if comma_decimal && text.contains(',') {
        let mut buffer = [0u8; 32];
        let bytes = text.as_bytes();
        if bytes.len() > buffer.len() {
            return None;
        }
        for (slot, &byte) in buffer.iter_mut().zip(bytes) {
            *slot = if byte == b',' { b'.' } else { byte };
        }
        let text = std::str::from_utf8(&buffer[..bytes.len()]).ok()?;
        return text.parse::<f64>().ok().filter(|value| value.is_finite());
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

// ---------------------------------------------------------------------------------------------
// Dates and times

/// A date and time in one field: `2026-03-28T23:50:00.000+01:00`, `2026-03-28 23:50`,
/// `28/03/2026 23:50:00`, `03/28/2026 11:50 PM`, `28.03.2026 23:50:00`.
fn parse_date_time(text: &str, order: Option<DateOrder>) -> Option<LocalTime> {
    let text = text.trim();
    let split = text.find(['T', ' '])?;
    parse_date_and_clock(&text[..split], &text[split + 1..], order)
}

/// A date field and a clock field (which may carry AM/PM and an offset).
fn parse_date_and_clock(date: &str, clock: &str, order: Option<DateOrder>) -> Option<LocalTime> {
    let mut clock = clock.trim();
    let mut meridiem = None;
    for (suffix, pm) in [("AM", false), ("PM", true), ("am", false), ("pm", true)] {
        if let Some(rest) = clock.strip_suffix(suffix) {
            meridiem = Some(pm);
            clock = rest.trim_end();
        }
    }
    let mut offset = None;
    if meridiem.is_none() {
        if let Some(rest) = clock.strip_suffix('Z') {
            offset = Some(0);
            clock = rest;
        } else if let Some(sign) = clock.rfind(['+', '-']) {
            offset = Some(parse_offset(&clock[sign..])?);
            clock = &clock[..sign];
        }
    }
    let order = order.unwrap_or(if meridiem.is_some() {
        DateOrder::MonthFirst
    } else {
        DateOrder::DayFirst
    });
    let days = parse_date(date.trim(), order)?;
    let mut ms_of_day = parse_clock_digits(clock.trim())?;
    if let Some(pm) = meridiem {
        let hour = ms_of_day / 3_600_000;
        if !(1..=12).contains(&hour) {
            return None;
        }
        ms_of_day = ms_of_day % 3_600_000 + ((hour % 12) + if pm { 12 } else { 0 }) * 3_600_000;
    }
    Some(LocalTime { local_ms: days * 86_400_000 + ms_of_day, offset })
}

/// Days since the epoch of `yyyy-mm-dd`, or of a slashed/dotted date in `order`.
fn parse_date(date: &str, order: DateOrder) -> Option<i64> {
    let (year, month, day) = if date.as_bytes().get(4) == Some(&b'-') {
        let mut parts = date.split('-');
        let year = digits(parts.next()?, 4, 4)?;
        let month = digits(parts.next()?, 1, 2)?;
        let day = digits(parts.next()?, 1, 2)?;
        parts.next().is_none().then_some((year, month, day))?
    } else {
        let separator = if date.contains('/') { '/' } else { '.' };
        let mut parts = date.split(separator);
        let first = digits(parts.next()?, 1, 2)?;
        let second = digits(parts.next()?, 1, 2)?;
        let year = digits(parts.next()?, 4, 4)?;
        if parts.next().is_some() {
            return None;
        }
        match order {
            DateOrder::DayFirst => (year, second, first),
            DateOrder::MonthFirst => (year, first, second),
        }
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year as i32, month, u8::try_from(day).ok()?).ok()?;
    Some(super::zone::day_ms(date) / 86_400_000)
}

/// `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff` → milliseconds into the day.
fn parse_clock_digits(clock: &str) -> Option<i64> {
    let (clock, fraction) = match clock.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (clock, None),
    };
    let mut parts = clock.split(':');
    let hour = digits(parts.next()?, 1, 2)?;
    let minute = digits(parts.next()?, 2, 2)?;
    let second = match parts.next() {
        Some(second) => digits(second, 2, 2)?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = match fraction {
        Some(fraction) => {
            let fraction = &fraction[..fraction.len().min(3)];
            let value = digits(fraction, 1, 3)?;
            value * 10_i64.pow(3 - fraction.len() as u32)
        }
        None => 0,
    };
    Some(((hour * 60 + minute) * 60 + second) * 1_000 + millis)
}

fn digits(text: &str, min: usize, max: usize) -> Option<i64> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// JSON Lines

/// One JSON Lines reading.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JsonReading<'line> {
    #[serde(borrow, default)]
    device: Option<Cow<'line, str>>,
    #[serde(borrow)]
    time: Cow<'line, str>,
    #[serde(borrow, default)]
    zone: Option<Cow<'line, str>>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(borrow, default)]
    unit: Option<Cow<'line, str>>,
    #[serde(default)]
    celsius: Option<f64>,
}

fn parse_json_lines(text: &str, builder: &mut Builder<'_>) {
    for (index, row) in text.lines().enumerate() {
        let line = index as u32 + 1;
        let row = row.trim();
        if row.is_empty() {
            continue;
        }
        if let Err(problem) = json_row(builder, row, line) {
            builder.error(line, problem);
        }
    }
}

fn json_row(builder: &mut Builder<'_>, row: &str, line: u32) -> Result<(), Problem> {
    let reading: JsonReading<'_> =
        serde_json::from_str(row).map_err(|error| Problem::BadJson(error.to_string()))?;
    let device = reading.device.as_deref().or(builder.hint.device).ok_or(Problem::NoDevice)?;
    let device_index = builder.device(device)?;
    let (value, unit) = match (reading.celsius, reading.value) {
        (Some(celsius), None) => (celsius, Unit::Celsius),
        (None, Some(value)) => {
            let unit = match reading.unit.as_deref() {
                Some(unit) => {
                    Unit::parse(unit).ok_or_else(|| Problem::UnknownUnit(unit.to_owned()))?
                }
                None => builder.hint.unit.ok_or_else(|| Problem::UnknownUnit(String::new()))?,
            };
            (value, unit)
        }
        _ => return Err(Problem::BadJson("exactly one of value and celsius".to_owned())),
    };
    let celsius = unit.to_celsius(value).ok_or(Problem::BelowAbsoluteZero(round_micro(value)))?;
    let time = reading.time.as_ref();
    let local = parse_date_time(time, builder.hint.date_order)
        .ok_or_else(|| Problem::UnparseableTime(time.to_owned()))?;
    let zone = match reading.zone.as_deref() {
        Some(zone) => Some(Zone::parse(zone).ok_or_else(|| Problem::UnknownZone(zone.to_owned()))?),
        None => builder.hint.zone,
    };
    let (time_ms, offset_minutes) = builder.instant(device_index, local, zone, time)?;
    builder.push(device_index, Sample { time_ms, offset_minutes, celsius }, line);
    Ok(())
}
