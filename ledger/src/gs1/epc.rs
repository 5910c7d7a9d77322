//! EPC URNs of the GS1 Tag Data Standard ↔ AI data / Digital Link.
//!
//! Owns the pure-identity URN grammars `urn:epc:id:<scheme>:…`, the class URN
//! `urn:epc:class:lgtin:…` and the pattern URNs `urn:epc:idpat:<scheme>:…` (only patterns whose
//! key part is complete, i.e. only the serial is `*`). The GS1 company prefix length comes from
//! the position of the first dot; the indicator/extension digit moves to the front and the check
//! digit is recomputed. It deliberately does not own the non-GS1 schemes (`gid`, `usdod`, `adi`,
//! `bic`, `imovn`): those have no Digital Link form.

use super::Options;
use super::ai_data::{self, AiData};
use super::check_digit::with_mod10_check_digit;
use super::digital_link;
use super::error::Error;

/// Shortest and longest GS1 company prefix.
const COMPANY_PREFIX_LENGTHS: std::ops::RangeInclusive<usize> = 6..=12;

/// Which URN family an input belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrnKind {
    /// `urn:epc:id:` – one instance.
    Id,
    /// `urn:epc:class:` – a class (only `lgtin`).
    Class,
    /// `urn:epc:idpat:` – a pattern; only the final field(s) may be `*`.
    Pattern,
}

/// Converts an EPC URN into the AI data of its key and qualifiers, e.g.
/// `urn:epc:id:sgtin:0614141.107346.2017` → `(01)10614141073464(21)2017`.
pub fn urn_to_ai_data(urn: &str) -> Result<AiData, Error> {
    let (kind, scheme, body) = split_urn(urn)?;
    let malformed = |reason: &'static str| Error::MalformedEpcUrn { urn: urn.to_owned(), reason };
    let fields: Vec<&str> = body.split('.').collect();
    let mut ai_data = AiData::new();
    let mut push = |ai: &str, value: String| -> Result<(), Error> {
        ai_data::validate_element(ai, &value, &Options::default())?;
        ai_data.push(ai, &value)
    };
    // Rejoin serial fields that contain dots (TDS allows '.' in serials).
    let tail_from = |index: usize| fields.get(index..).map(|rest| rest.join("."));
    let is_wildcard =
        |index: usize| kind == UrnKind::Pattern && tail_from(index).as_deref() == Some("*");

    match (kind, scheme) {
        (UrnKind::Id | UrnKind::Pattern, "sgtin")
        | (UrnKind::Class, "lgtin")
        | (UrnKind::Id | UrnKind::Pattern, "upui") => {
            let gtin = gtin_from_fields(&fields, &malformed)?;
            push("01", gtin)?;
            if !is_wildcard(2) {
                if kind == UrnKind::Pattern {
                    return Err(malformed("a pattern urn must end in '*'"));
                }
                let serial_text = tail_from(2).ok_or_else(|| malformed("missing serial"))?;
                let qualifier = match scheme {
                    "lgtin" => "10",
                    "upui" => "235",
                    _ => "21",
                };
                push(qualifier, decode_urn_component(&serial_text, &malformed)?)?;
            }
        }
        (UrnKind::Id, "sscc") => {
            let (company_prefix, serial_reference) = two_numeric_fields(&fields, 17, &malformed)?;
            let (extension_digit, rest) = serial_reference.split_at(1);
            push("00", complete(&format!("{extension_digit}{company_prefix}{rest}"), &malformed)?)?;
        }
        (UrnKind::Id | UrnKind::Pattern, "sgln") => {
            let gln = numeric_key_from_fields(&fields, 12, &malformed)?;
            push("414", gln)?;
            if !is_wildcard(2) {
                let extension = tail_from(2).ok_or_else(|| malformed("missing gln extension"))?;
                let extension = decode_urn_component(&extension, &malformed)?;
                // TDS: extension "0" means "no extension" (the GLN itself).
                if extension != "0" {
                    push("254", extension)?;
                }
            }
        }
        (UrnKind::Id, "pgln") => {
            if fields.len() != 2 {
                return Err(malformed("pgln has two fields"));
            }
            push("417", numeric_key_from_fields(&fields, 12, &malformed)?)?;
        }
        (UrnKind::Id | UrnKind::Pattern, "grai") => {
            let asset_type = numeric_key_from_fields(&fields, 12, &malformed)?;
            let serial =
                if is_wildcard(2) { String::new() } else { serial_field(&fields, 2, &malformed)? };
            push("8003", format!("0{asset_type}{serial}"))?;
        }
        (UrnKind::Id, "giai") => {
            let (company_prefix, asset_reference) = prefix_and_rest(&fields, &malformed)?;
            push(
                "8004",
                format!("{company_prefix}{}", decode_urn_component(&asset_reference, &malformed)?),
            )?;
        }
        (UrnKind::Id, "ginc") => {
            let (company_prefix, consignment) = prefix_and_rest(&fields, &malformed)?;
            push(
                "401",
                format!("{company_prefix}{}", decode_urn_component(&consignment, &malformed)?),
            )?;
        }
        (UrnKind::Id, "gsrn" | "gsrnp") => {
            let (company_prefix, service_reference) = two_numeric_fields(&fields, 17, &malformed)?;
            let ai = if scheme == "gsrn" { "8018" } else { "8017" };
            push(ai, complete(&format!("{company_prefix}{service_reference}"), &malformed)?)?;
        }
        (UrnKind::Id, "gsin") => {
            let (company_prefix, shipper_reference) = two_numeric_fields(&fields, 16, &malformed)?;
            push("402", complete(&format!("{company_prefix}{shipper_reference}"), &malformed)?)?;
        }
        (UrnKind::Id | UrnKind::Pattern, "gdti" | "sgcn") => {
            let document_type = numeric_key_from_fields(&fields, 12, &malformed)?;
            let serial =
                if is_wildcard(2) { String::new() } else { serial_field(&fields, 2, &malformed)? };
            let ai = if scheme == "gdti" { "253" } else { "255" };
            push(ai, format!("{document_type}{serial}"))?;
        }
        (UrnKind::Id | UrnKind::Pattern, "cpi") => {
            if fields.len() != 3 {
                return Err(malformed("cpi has three fields"));
            }
            check_company_prefix(fields[0], &malformed)?;
            let reference = decode_urn_component(fields[1], &malformed)?;
            push("8010", format!("{}{reference}", fields[0]))?;
            if !is_wildcard(2) {
                push("8011", decode_urn_component(fields[2], &malformed)?)?;
            }
        }
        (UrnKind::Id | UrnKind::Pattern, "itip") => {
            if fields.len() < 5 {
                return Err(malformed("itip has five fields"));
            }
            let gtin = gtin_from_fields(&fields, &malformed)?;
            let (piece, total) = (fields[2], fields[3]);
            let two_digits =
                |text: &str| text.len() == 2 && text.bytes().all(|byte| byte.is_ascii_digit());
            if !two_digits(piece) || !two_digits(total) {
                return Err(malformed("itip piece and total are two digits each"));
            }
            push("8006", format!("{gtin}{piece}{total}"))?;
            if !is_wildcard(4) {
                let serial = tail_from(4).ok_or_else(|| malformed("missing serial"))?;
                push("21", decode_urn_component(&serial, &malformed)?)?;
            }
        }
        _ => return Err(Error::UnsupportedEpcScheme { scheme: urn_scheme_name(urn) }),
    }
    Ok(ai_data)
}

/// Converts an EPC URN into a Digital Link on `stem` (default `https://id.gs1.org`).
pub fn urn_to_digital_link(urn: &str, stem: Option<&str>) -> Result<String, Error> {
    digital_link::generate(&urn_to_ai_data(urn)?, stem)
}

/// Converts a Digital Link into an EPC URN. The DL does not say how long the GS1 company
/// prefix is, so the caller supplies `company_prefix_length` (6 to 12).
///
/// Mapped: `01/21` → sgtin, `01/10` → class lgtin, `01/235` → upui, `01` → idpat sgtin,
/// `00` → sscc, `414[/254]` → sgln, `417` → pgln, `8003` → grai, `8004` → giai, `8017`/`8018`
/// → gsrnp/gsrn, `253` → gdti, `255` → sgcn, `401` → ginc, `402` → gsin, `8006[/21]` → itip,
/// `8010[/8011]` → cpi. Query attributes are ignored.
pub fn digital_link_to_urn(uri: &str, company_prefix_length: usize) -> Result<String, Error> {
    let link = digital_link::parse(uri)?;
    let mut key_data = AiData::new();
    key_data.push(&link.primary_key.ai, &link.primary_key.value)?;
    for qualifier in &link.qualifiers {
        key_data.push(&qualifier.ai, &qualifier.value)?;
    }
    ai_data_to_urn(&key_data, company_prefix_length)
}

/// Converts the key (and qualifiers) of AI data into an EPC URN; see [`digital_link_to_urn`].
pub fn ai_data_to_urn(ai_data: &AiData, company_prefix_length: usize) -> Result<String, Error> {
    let length = company_prefix_length;
    if !COMPANY_PREFIX_LENGTHS.contains(&length) {
        return Err(Error::CompanyPrefixLength { length });
    }
    let escaped = |ai: &str| ai_data.get(ai).map(escape_urn_component);
    let key = ai_data.elements().first().ok_or(Error::MissingPrimaryKey)?;
    // Validation fixes the key's length and digits, so the slicing below stays in bounds.
    ai_data::validate_element(&key.ai, &key.value, &Options::default())?;
    let value = key.value.as_str();
    let no_form = || Error::NoEpcForm { key: key.ai.clone() };
    let urn = match key.ai.as_str() {
        "01" => {
            let (company_prefix, item_reference) = split_gtin(value, length)?;
            let class = format!("{company_prefix}.{item_reference}");
            match (escaped("21"), escaped("10"), escaped("235")) {
                (Some(serial), _, _) => format!("urn:epc:id:sgtin:{class}.{serial}"),
                (None, Some(lot), _) => format!("urn:epc:class:lgtin:{class}.{lot}"),
                (None, None, Some(tpx)) => format!("urn:epc:id:upui:{class}.{tpx}"),
                (None, None, None) => format!("urn:epc:idpat:sgtin:{class}.*"),
            }
        }
        "00" => {
            let (company_prefix, rest) = split_prefix(&value[1..17], length, 16)?;
            format!("urn:epc:id:sscc:{company_prefix}.{}{rest}", &value[..1])
        }
        "414" | "417" => {
            let (company_prefix, location_reference) = split_prefix(&value[..12], length, 12)?;
            if key.ai == "417" {
                format!("urn:epc:id:pgln:{company_prefix}.{location_reference}")
            } else {
                let extension = escaped("254").unwrap_or_else(|| String::from("0"));
                format!("urn:epc:id:sgln:{company_prefix}.{location_reference}.{extension}")
            }
        }
        "8003" => {
            let (company_prefix, asset_type) =
                split_prefix(value.get(1..13).ok_or_else(no_form)?, length, 12)?;
            match value.get(14..).filter(|serial| !serial.is_empty()) {
                Some(serial) => {
                    format!(
                        "urn:epc:id:grai:{company_prefix}.{asset_type}.{}",
                        escape_urn_component(serial)
                    )
                }
                None => format!("urn:epc:idpat:grai:{company_prefix}.{asset_type}.*"),
            }
        }
        "253" | "255" => {
            let scheme = if key.ai == "253" { "gdti" } else { "sgcn" };
            let (company_prefix, document_type) =
                split_prefix(value.get(..12).ok_or_else(no_form)?, length, 12)?;
            match value.get(13..).filter(|serial| !serial.is_empty()) {
                Some(serial) => format!(
                    "urn:epc:id:{scheme}:{company_prefix}.{document_type}.{}",
                    escape_urn_component(serial)
                ),
                None => format!("urn:epc:idpat:{scheme}:{company_prefix}.{document_type}.*"),
            }
        }
        "8004" | "401" => {
            let scheme = if key.ai == "8004" { "giai" } else { "ginc" };
            let company_prefix = value.get(..length).ok_or_else(no_form)?;
            let reference =
                value.get(length..).filter(|rest| !rest.is_empty()).ok_or_else(no_form)?;
            format!("urn:epc:id:{scheme}:{company_prefix}.{}", escape_urn_component(reference))
        }
        "8017" | "8018" | "402" => {
            let scheme = match key.ai.as_str() {
                "8017" => "gsrnp",
                "8018" => "gsrn",
                _ => "gsin",
            };
            let without_check = &value[..value.len() - 1];
            let (company_prefix, reference) =
                split_prefix(without_check, length, without_check.len())?;
            format!("urn:epc:id:{scheme}:{company_prefix}.{reference}")
        }
        "8006" => {
            let (company_prefix, item_reference) = split_gtin(&value[..14], length)?;
            let (piece, total) = (&value[14..16], &value[16..18]);
            let class = format!("{company_prefix}.{item_reference}.{piece}.{total}");
            match escaped("21") {
                Some(serial) => format!("urn:epc:id:itip:{class}.{serial}"),
                None => format!("urn:epc:idpat:itip:{class}.*"),
            }
        }
        "8010" => {
            let company_prefix = value.get(..length).ok_or_else(no_form)?;
            let reference = escape_urn_component(value.get(length..).ok_or_else(no_form)?);
            match escaped("8011") {
                Some(serial) => format!("urn:epc:id:cpi:{company_prefix}.{reference}.{serial}"),
                None => format!("urn:epc:idpat:cpi:{company_prefix}.{reference}.*"),
            }
        }
        _ => return Err(no_form()),
    };
    Ok(urn)
}

/// Escapes a URN component: the characters TDS requires as `%XX` (`"`, `%`, `&`, `/`, `<`,
/// `>`, `?`, `#`) and anything outside printable ASCII.
pub fn escape_urn_component(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        let must_escape = !(0x21..0x7f).contains(&byte) || b"\"%&/<>?#".contains(&byte);
        if must_escape {
            escaped.push_str(&format!("%{byte:02X}"));
        } else {
            escaped.push(char::from(byte));
        }
    }
    escaped
}

fn split_urn(urn: &str) -> Result<(UrnKind, &str, &str), Error> {
    let (kind, rest) = if let Some(rest) = urn.strip_prefix("urn:epc:id:") {
        (UrnKind::Id, rest)
    } else if let Some(rest) = urn.strip_prefix("urn:epc:class:") {
        (UrnKind::Class, rest)
    } else if let Some(rest) = urn.strip_prefix("urn:epc:idpat:") {
        (UrnKind::Pattern, rest)
    } else {
        return Err(Error::UnsupportedEpcScheme { scheme: urn_scheme_name(urn) });
    };
    let (scheme, body) = rest
        .split_once(':')
        .ok_or(Error::MalformedEpcUrn { urn: urn.to_owned(), reason: "missing scheme body" })?;
    Ok((kind, scheme, body))
}

fn urn_scheme_name(urn: &str) -> String {
    urn.splitn(5, ':').take(4).collect::<Vec<_>>().join(":")
}

fn is_digits(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

fn check_company_prefix(
    company_prefix: &str,
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<(), Error> {
    if COMPANY_PREFIX_LENGTHS.contains(&company_prefix.len()) && is_digits(company_prefix) {
        Ok(())
    } else {
        Err(malformed("company prefix must be 6 to 12 digits"))
    }
}

/// `CP.IR…` → the GTIN-14: indicator digit (first of IR) + CP + rest of IR + check digit.
fn gtin_from_fields(
    fields: &[&str],
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<String, Error> {
    let (Some(company_prefix), Some(item_reference)) = (fields.first(), fields.get(1)) else {
        return Err(malformed("missing company prefix or item reference"));
    };
    check_company_prefix(company_prefix, malformed)?;
    if !is_digits(item_reference) || company_prefix.len() + item_reference.len() != 13 {
        return Err(malformed("company prefix and item reference must total 13 digits"));
    }
    let (indicator, rest) = item_reference.split_at(1);
    complete(&format!("{indicator}{company_prefix}{rest}"), malformed)
}

/// `CP.REF` (numeric, total `total_digits`) → CP + REF + check digit.
fn numeric_key_from_fields(
    fields: &[&str],
    total_digits: usize,
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<String, Error> {
    let (Some(company_prefix), Some(reference)) = (fields.first(), fields.get(1)) else {
        return Err(malformed("missing company prefix or reference"));
    };
    check_company_prefix(company_prefix, malformed)?;
    if !is_digits(reference) || company_prefix.len() + reference.len() != total_digits {
        return Err(malformed("company prefix and reference have the wrong total length"));
    }
    complete(&format!("{company_prefix}{reference}"), malformed)
}

fn two_numeric_fields<'field>(
    fields: &[&'field str],
    total_digits: usize,
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<(&'field str, &'field str), Error> {
    let [company_prefix, reference] = fields else {
        return Err(malformed("expected company prefix and reference"));
    };
    check_company_prefix(company_prefix, malformed)?;
    if !is_digits(reference)
        || company_prefix.len() + reference.len() != total_digits
        || reference.is_empty()
    {
        return Err(malformed("company prefix and reference have the wrong total length"));
    }
    Ok((company_prefix, reference))
}

fn prefix_and_rest(
    fields: &[&str],
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<(String, String), Error> {
    let company_prefix = fields.first().ok_or_else(|| malformed("missing company prefix"))?;
    check_company_prefix(company_prefix, malformed)?;
    let rest = fields.get(1..).map(|rest| rest.join(".")).unwrap_or_default();
    if rest.is_empty() {
        return Err(malformed("missing reference"));
    }
    Ok(((*company_prefix).to_owned(), rest))
}

fn serial_field(
    fields: &[&str],
    index: usize,
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<String, Error> {
    let serial = fields.get(index..).map(|rest| rest.join(".")).unwrap_or_default();
    if serial.is_empty() {
        return Err(malformed("missing serial"));
    }
    decode_urn_component(&serial, malformed)
}

fn complete(digits: &str, malformed: &impl Fn(&'static str) -> Error) -> Result<String, Error> {
    with_mod10_check_digit(digits).ok_or_else(|| malformed("key digits must be numeric"))
}

/// Decodes `%XX` escapes of a URN component (malformed escapes are an error in URNs).
fn decode_urn_component(
    text: &str,
    malformed: &impl Fn(&'static str) -> Error,
) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex =
                text.get(index + 1..index + 3).ok_or_else(|| malformed("incomplete % escape"))?;
            let byte = u8::from_str_radix(hex, 16).map_err(|_| malformed("invalid % escape"))?;
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| malformed("escape does not decode to text"))
}

/// Splits a GTIN-14 into URN company prefix and item reference (indicator digit first).
fn split_gtin(gtin: &str, company_prefix_length: usize) -> Result<(String, String), Error> {
    if gtin.len() != 14 || company_prefix_length > 12 {
        return Err(Error::CompanyPrefixLength { length: company_prefix_length });
    }
    let indicator = &gtin[..1];
    let company_prefix = &gtin[1..1 + company_prefix_length];
    let item_rest = &gtin[1 + company_prefix_length..13];
    Ok((company_prefix.to_owned(), format!("{indicator}{item_rest}")))
}

/// Splits `digits` (of `expected_length`) after the company prefix.
fn split_prefix(
    digits: &str,
    company_prefix_length: usize,
    expected_length: usize,
) -> Result<(&str, &str), Error> {
    if digits.len() != expected_length || company_prefix_length > expected_length {
        return Err(Error::CompanyPrefixLength { length: company_prefix_length });
    }
    Ok(digits.split_at(company_prefix_length))
}
