//! GS1 identifiers: check digits, typed keys, the Barcode Syntax Dictionary, AI element strings,
//! GS1 Digital Link URIs, EPC URNs, and the constrained canonical Digital Link of the EPCIS hash.
//!
//! Code map:
//! * [`check_digit`] – mod-10 check digits and the `csumalpha` check character pair.
//! * [`linter`] – the dictionary's content checks (`csum`, `yymmd0`, …).
//! * [`dictionary`](mod@dictionary) – the syntax dictionary staged by `build.rs`, parsed once.
//! * [`ai_data`] – AI data, bracketed `(01)…` input, element strings `^01…`, `req`/`ex` rules.
//! * [`digital_link`] – DL URI parse/generate on any domain, path/query escaping.
//! * [`epc`] – EPC URNs (TDS) ↔ AI data / DL.
//! * [`keys`] – `Gtin`, `Gln`, `Sscc` and other primary keys.
//! * this file – [`canonical_digital_link`], [`Identifier`]/[`classify`] for the lot graph, [`lot_link`].
//!
//! **Invariant:** every identifier this module emits has passed the dictionary's format and
//! check-digit rules. This module deliberately does not own EPCIS events or hashing: the
//! `epcis` module calls [`canonical_digital_link`] when it builds the pre-hash string.

pub mod ai_data;
pub mod check_digit;
pub mod dictionary;
pub mod digital_link;
pub mod epc;
pub mod error;
pub mod keys;
pub mod linter;

use std::borrow::Cow;

pub use ai_data::{AiData, AiElement, parse_bracketed, parse_element_string};
pub use dictionary::{Dictionary, dictionary, parse_dictionary};
pub use digital_link::{CANONICAL_STEM, DigitalLink};
pub use epc::{digital_link_to_urn, urn_to_ai_data, urn_to_digital_link};
pub use error::Error;
pub use keys::{Gln, Gtin, KeyType, PrimaryKey, Sscc};

/// Non-default parsing behaviour; `Options::default()` is the strict standard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept path names such as `/gtin/`, `/ser/` instead of AIs (legacy DL 1.x convenience
    /// alphas; never generated).
    pub permit_convenience_alphas: bool,
    /// Accept GTIN-8/12/13 after `/01/` or in `?01=` and pad them to 14 digits (legacy links;
    /// the current DL standard requires 14 digits).
    pub permit_zero_suppressed_gtin: bool,
    /// Accept AIs the dictionary does not list (validated as CSET 82, up to 90 characters).
    pub permit_unknown_ais: bool,
    /// Additionally allow such unknown AIs as DL query attributes (the engine's
    /// `vUNKNOWN_AI_NOT_DL_ATTR` validation switched off). Has no effect without
    /// `permit_unknown_ais`.
    pub unknown_ai_as_dl_attribute: bool,
    /// Check only lengths and character sets, not the dictionary's linters (check digits,
    /// dates…). Canonicalisation for the EPCIS hash uses this: the hash of an event must not
    /// depend on whether an identifier in it happens to carry a wrong check digit.
    pub skip_linters: bool,
}

/// Options used for the canonical form: links seen in the wild (and accepted by the EPCIS hash
/// reference implementation) still use zero-suppressed GTINs and convenience alphas, and some
/// carry wrong check digits; canonicalising normalises them without judging them.
const CANONICALISING_OPTIONS: Options = Options {
    permit_convenience_alphas: true,
    permit_zero_suppressed_gtin: true,
    // The query string is dropped from the canonical form, so its AIs need not be known.
    permit_unknown_ais: true,
    unknown_ai_as_dl_attribute: true,
    skip_linters: true,
};

/// Options for judging an identifier before it is signed ([`check_identifier`]): the legacy
/// forms links in the wild use are accepted, as canonicalising accepts them, but every value
/// must pass the dictionary's linters (check digits included).
const CHECKING_OPTIONS: Options = Options { skip_linters: false, ..CANONICALISING_OPTIONS };

/// Whether `character` may not appear in any identifier: control characters, whitespace, and
/// the bidirectional formatting characters (marks, embeddings, overrides, isolates) that make
/// text display differently from what it is.
pub fn is_forbidden_in_identifier(character: char) -> bool {
    character.is_control()
        || character.is_whitespace()
        || matches!(
            character,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Judges an identifier (any URI an EPCIS event carries) before it is signed: no control,
/// whitespace or bidirectional-formatting character anywhere; an EPC URN of a GS1 scheme
/// (`urn:epc:id:`, `urn:epc:class:`) must follow its Tag Data Standard grammar; a Digital Link
/// on GS1's resolver (`https://id.gs1.org/...`) must pass every dictionary rule, check digits
/// included. Other URIs (`urn:uuid:`, a company's own `https://` names, EPC
/// schemes with no GS1 key such as `gid`) are not GS1's to judge and pass.
///
/// ```
/// use lotline_ledger::gs1::check_identifier;
///
/// assert!(check_identifier("https://id.gs1.org/01/09506000134352/10/L1").is_ok());
/// assert!(check_identifier("https://id.gs1.org/01/09506000134353/10/L1").is_err());
/// assert!(check_identifier("urn:epc:id:sgln:4012345.00011.\u{202E}987").is_err());
/// assert!(check_identifier("https://example.com/desadv/D1").is_ok());
/// ```
pub fn check_identifier(identifier: &str) -> Result<(), Error> {
    if let Some(character) =
        identifier.chars().find(|character| is_forbidden_in_identifier(*character))
    {
        return Err(Error::IllegalIdentifierCharacter { character });
    }
    if identifier.starts_with("urn:epc:") {
        if let Some(character) = identifier.chars().find(|character| !character.is_ascii()) {
            return Err(Error::NonAsciiEpcUrn { character });
        }
        if identifier.starts_with("urn:epc:id:") || identifier.starts_with("urn:epc:class:") {
            return match urn_to_ai_data(identifier) {
                Ok(_) | Err(Error::UnsupportedEpcScheme { .. }) => Ok(()),
                Err(error) => Err(error),
            };
        }
        return Ok(());
    }
    if is_on_gs1_resolver(identifier) {
        digital_link::parse_with(identifier, &CHECKING_OPTIONS)?;
    }
    Ok(())
}

/// Whether `identifier` is a URI on GS1's own resolver (`http(s)://id.gs1.org/...`), which
/// names nothing but GS1 keys. Links on other hosts are judged by their characters only:
/// published valid EPCIS documents carry such links with check digits that do not hold, and
/// the host's owner, not GS1, decides what its paths mean.
fn is_on_gs1_resolver(identifier: &str) -> bool {
    let after_scheme = ["https://", "http://"].iter().find_map(|scheme| {
        identifier
            .get(..scheme.len())
            .filter(|written| written.eq_ignore_ascii_case(scheme))
            .map(|_| &identifier[scheme.len()..])
    });
    after_scheme.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        host.eq_ignore_ascii_case("id.gs1.org")
    })
}

/// Parses a Digital Link URI (strict) and returns it with its element string and AI map, the
/// data behind `lotline dl parse URI --json`.
pub fn parse_digital_link(uri: &str) -> Result<DigitalLink, Error> {
    digital_link::parse(uri)
}

/// The most fine-grained key of a GS1 identifier: the primary key plus the qualifiers that
/// still add identity (CPV `22` is dropped; with a serial `21`, the lot `10` is dropped).
fn canonical_key(identifier: &str) -> Option<(AiElement, Vec<AiElement>)> {
    let key_data = if identifier.starts_with("urn:epc:") {
        urn_to_ai_data(identifier).ok()?
    } else if identifier.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http")) {
        let link = digital_link::parse_with(identifier, &CANONICALISING_OPTIONS).ok()?;
        let mut key_data = AiData::new();
        for element in std::iter::once(&link.primary_key).chain(&link.qualifiers) {
            key_data.push(&element.ai, &element.value).ok()?;
        }
        key_data
    } else {
        return None;
    };
    let (primary_key, qualifiers) = key_data.elements().split_first()?;
    let has_serial = qualifiers.iter().any(|qualifier| qualifier.ai == "21");
    let kept_qualifiers = qualifiers
        .iter()
        .filter(|qualifier| qualifier.ai != "22" && !(has_serial && qualifier.ai == "10"))
        .cloned()
        .collect();
    Some((primary_key.clone(), kept_qualifiers))
}

fn format_canonical(primary_key: &AiElement, qualifiers: &[AiElement]) -> String {
    let mut link = String::from(CANONICAL_STEM);
    for element in std::iter::once(primary_key).chain(qualifiers) {
        link.push('/');
        link.push_str(&element.ai);
        link.push('/');
        link.push_str(&digital_link::escape_canonical_component(&element.value));
    }
    link
}

/// The constrained canonical GS1 Digital Link (`https://id.gs1.org/...`, key + qualifiers only)
/// of an EPC URN or a Digital Link on any host; `None` when `identifier` is not a GS1 key.
///
/// Rules (CBV 2.0 event hash, rule 9): host `id.gs1.org`, no query string, only the most
/// fine-grained identification level, GTIN as 14 digits, SGLN extension `0` dropped. Lengths
/// and character sets are checked, check digits are not (see [`Options::skip_linters`]).
///
/// ```
/// use lotline_ledger::gs1::canonical_digital_link;
///
/// assert_eq!(
///     canonical_digital_link("urn:epc:id:sgtin:0614141.107346.2017").as_deref(),
///     Some("https://id.gs1.org/01/10614141073464/21/2017")
/// );
/// assert_eq!(
///     canonical_digital_link("https://brand.example/01/10614141073464/10/L1/21/2017?17=271231")
///         .as_deref(),
///     Some("https://id.gs1.org/01/10614141073464/21/2017")
/// );
/// assert_eq!(canonical_digital_link("urn:uuid:4c2ad6a4-5b42-4b8f-8a0f-fb0e39bbf7f5"), None);
/// ```
pub fn canonical_digital_link(identifier: &str) -> Option<String> {
    if canonical_link_shape(identifier).is_some() {
        return Some(identifier.to_owned());
    }
    let (primary_key, qualifiers) = canonical_key(identifier)?;
    Some(format_canonical(&primary_key, &qualifiers))
}

/// What a GS1 identifier denotes, as the lot graph needs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// A batch/lot of a trade item (`01` + `10`, `urn:epc:class:lgtin`).
    Lot {
        /// GTIN, 14 digits.
        gtin: String,
        /// Lot number as in AI (10).
        lot: String,
    },
    /// One serialised trade item (`01` + `21`, `urn:epc:id:sgtin`).
    Item {
        /// GTIN, 14 digits.
        gtin: String,
        /// Serial number as in AI (21).
        serial: String,
    },
    /// A trade item class without lot or serial (`01`, `urn:epc:idpat:sgtin:….*`).
    Class {
        /// GTIN, 14 digits.
        gtin: String,
    },
    /// A logistic unit (pallet, case) identified by an SSCC (`00`, `urn:epc:id:sscc`).
    LogisticUnit {
        /// SSCC, 18 digits.
        sscc: String,
    },
    /// A physical location (`414` [+ `254`], `urn:epc:id:sgln`).
    Location {
        /// GLN, 13 digits.
        gln: String,
        /// GLN extension (AI 254); `None` for the GLN itself (SGLN extension `0`).
        extension: Option<String>,
    },
    /// A party (`417`, `urn:epc:id:pgln`).
    Party {
        /// Party GLN, 13 digits.
        gln: String,
    },
    /// Any other GS1 key, as its canonical Digital Link.
    Other(String),
}

impl Identifier {
    /// The constrained canonical Digital Link, identical to [`canonical_digital_link`] of any
    /// URN or DL that classifies to this value.
    pub fn to_canonical_link(&self) -> String {
        // Keys are digits (written as they are); lots, serials and extensions are escaped.
        let escape = digital_link::escape_canonical_component;
        match self {
            Identifier::Lot { gtin, lot } => lot_link(gtin, lot),
            Identifier::Item { gtin, serial } => {
                format!("{CANONICAL_STEM}/01/{gtin}/21/{}", escape(serial))
            }
            Identifier::Class { gtin } => format!("{CANONICAL_STEM}/01/{gtin}"),
            Identifier::LogisticUnit { sscc } => format!("{CANONICAL_STEM}/00/{sscc}"),
            Identifier::Location { gln, extension: None } => format!("{CANONICAL_STEM}/414/{gln}"),
            Identifier::Location { gln, extension: Some(extension) } => {
                format!("{CANONICAL_STEM}/414/{gln}/254/{}", escape(extension))
            }
            Identifier::Party { gln } => format!("{CANONICAL_STEM}/417/{gln}"),
            Identifier::Other(canonical_link) => canonical_link.clone(),
        }
    }
}

impl std::fmt::Display for Identifier {
    /// Writes the canonical Digital Link.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.to_canonical_link())
    }
}

/// Classifies an EPC URN or Digital Link; `None` when it is not a valid GS1 identifier.
pub fn classify(identifier: &str) -> Option<Identifier> {
    classify_canonical_link(identifier).or_else(|| classify_in_general(identifier))
}

/// [`classify`], with the identifier's canonical Digital Link ([`Identifier::to_canonical_link`]),
/// borrowed from `identifier` when it is already in a canonical shape: readers of replicated
/// events meet canonical links nearly always, and need not write each one out again.
pub fn classify_with_canonical_link(identifier: &str) -> Option<(Identifier, Cow<'_, str>)> {
    if let Some(classified) = classify_canonical_link(identifier) {
        // The fast path accepts only links that are their own canonical form (see there).
        return Some((classified, Cow::Borrowed(identifier)));
    }
    let classified = classify_in_general(identifier)?;
    let canonical_link = classified.to_canonical_link();
    Some((classified, Cow::Owned(canonical_link)))
}

/// [`classify`] through the general parsers (EPC URN, Digital Link on any host).
fn classify_in_general(identifier: &str) -> Option<Identifier> {
    let (primary_key, qualifiers) = canonical_key(identifier)?;
    let qualifier_ais: Vec<&str> =
        qualifiers.iter().map(|qualifier| qualifier.ai.as_str()).collect();
    let first_value =
        || qualifiers.first().map(|qualifier| qualifier.value.clone()).unwrap_or_default();
    let key_value = primary_key.value.clone();
    let classified = match (primary_key.ai.as_str(), qualifier_ais.as_slice()) {
        ("01", []) => Identifier::Class { gtin: key_value },
        ("01", ["10"]) => Identifier::Lot { gtin: key_value, lot: first_value() },
        ("01", ["21"]) => Identifier::Item { gtin: key_value, serial: first_value() },
        ("00", []) => Identifier::LogisticUnit { sscc: key_value },
        ("414", []) => Identifier::Location { gln: key_value, extension: None },
        ("414", ["254"]) => Identifier::Location { gln: key_value, extension: Some(first_value()) },
        ("417", []) => Identifier::Party { gln: key_value },
        _ => Identifier::Other(format_canonical(&primary_key, &qualifiers)),
    };
    Some(classified)
}

/// Most characters a lot (`10`) or serial (`21`) may have.
const MAX_LOT_OR_SERIAL_CHARS: usize = 20;

/// Reads a link that is already in canonical form, in the shapes events name most often:
/// `https://id.gs1.org/01/<14 digits>`, optionally followed by `/10/<lot>` or `/21/<serial>`;
/// `/00/<18 digits>`; `/414/<13 digits>`; `/417/<13 digits>`. `None` for any other shape,
/// which the general parser then reads. A replicating node meets a new serial in nearly every
/// event, and the general Digital Link parser does far more work than these shapes need.
///
/// Lots and serials are accepted here only when made of letters, digits, `-`, `.` and `_`:
/// characters every AI's character set (CSET 82) admits and the canonical form writes
/// literally, so the link is its own canonical form and the general parser agrees (a unit
/// test compares both on generated links). Check digits are not checked, as in
/// [`canonical_digital_link`].
fn classify_canonical_link(identifier: &str) -> Option<Identifier> {
    let LinkShape { primary_ai, key, qualifier } = canonical_link_shape(identifier)?;
    let key = key.to_owned();
    Some(match (primary_ai, qualifier) {
        ("01", None) => Identifier::Class { gtin: key },
        ("01", Some(("10", lot))) => Identifier::Lot { gtin: key, lot: lot.to_owned() },
        ("01", Some((_, serial))) => Identifier::Item { gtin: key, serial: serial.to_owned() },
        ("00", _) => Identifier::LogisticUnit { sscc: key },
        ("414", _) => Identifier::Location { gln: key, extension: None },
        _ => Identifier::Party { gln: key },
    })
}

/// The parts of a link in one of [`classify_canonical_link`]'s shapes, borrowed: nothing is
/// allocated to learn that a link is already canonical.
struct LinkShape<'link> {
    /// `01`, `00`, `414` or `417`.
    primary_ai: &'link str,
    /// The primary key's digits.
    key: &'link str,
    /// A GTIN's lot or serial: (`10` or `21`, value).
    qualifier: Option<(&'link str, &'link str)>,
}

/// The [`LinkShape`] of `identifier`, if it has one.
fn canonical_link_shape(identifier: &str) -> Option<LinkShape<'_>> {
    let path = identifier.strip_prefix(CANONICAL_STEM)?.strip_prefix('/')?;
    let (ai, rest) = path.split_once('/')?;
    let digits = |value: &str, count: usize| {
        value.len() == count && value.bytes().all(|byte| byte.is_ascii_digit())
    };
    match ai {
        "01" => {
            let (gtin, qualifier) = match rest.split_once('/') {
                Some((gtin, qualifier)) => (gtin, Some(qualifier)),
                None => (rest, None),
            };
            if !digits(gtin, 14) {
                return None;
            }
            let Some(qualifier) = qualifier else {
                return Some(LinkShape { primary_ai: ai, key: gtin, qualifier: None });
            };
            let (qualifier_ai, value) = qualifier.split_once('/')?;
            let literal = (1..=MAX_LOT_OR_SERIAL_CHARS).contains(&value.len())
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
            let qualifier = Some((qualifier_ai, value));
            (matches!(qualifier_ai, "10" | "21") && literal).then_some(LinkShape {
                primary_ai: ai,
                key: gtin,
                qualifier,
            })
        }
        "00" | "414" | "417" => {
            let length = if ai == "00" { 18 } else { 13 };
            digits(rest, length).then_some(LinkShape { primary_ai: ai, key: rest, qualifier: None })
        }
        _ => None,
    }
}

/// The canonical link of a lot: `https://id.gs1.org/01/<gtin14>/10/<escaped lot>`.
///
/// `gtin14` is used as given; callers hold a validated [`Gtin`] or a classified
/// [`Identifier::Lot`]. The escaping is the same as [`canonical_digital_link`]'s, so the
/// result equals the canonical form of the matching `urn:epc:class:lgtin` URN.
pub fn lot_link(gtin14: &str, lot: &str) -> String {
    format!("{CANONICAL_STEM}/01/{gtin14}/10/{}", digital_link::escape_canonical_component(lot))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A value for `10` / `21`: mostly the fast path's characters, sometimes others (which
    /// must then go to the general parser), sometimes too long or empty.
    fn qualifier_value() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9._-]{1,20}", "[A-Za-z0-9._~'%/!*+,-]{0,22}", "[A-Za-z0-9]{21,24}",]
    }

    /// Links in and around the fast path's shapes.
    fn candidate_link() -> impl Strategy<Value = String> {
        let stem = prop_oneof![
            4 => Just(CANONICAL_STEM.to_owned()),
            1 => Just("https://example.com".to_owned()),
            1 => Just("http://id.gs1.org".to_owned()),
        ];
        let gtin = prop_oneof![4 => "[0-9]{14}", 1 => "[0-9]{8,13}", 1 => "[0-9A]{14}"];
        let key = prop_oneof![
            (gtin.clone(), prop::option::of(("(10|21|22|17)", qualifier_value()))).prop_map(
                |(gtin, qualifier)| match qualifier {
                    Some((ai, value)) => format!("/01/{gtin}/{ai}/{value}"),
                    None => format!("/01/{gtin}"),
                }
            ),
            "[0-9]{17,19}".prop_map(|sscc| format!("/00/{sscc}")),
            "[0-9]{12,14}".prop_map(|gln| format!("/414/{gln}")),
            "[0-9]{13}/254/[A-Za-z0-9]{1,5}".prop_map(|gln| format!("/414/{gln}")),
            "[0-9]{12,14}".prop_map(|gln| format!("/417/{gln}")),
        ];
        let tail = prop_oneof![8 => Just(String::new()), 1 => Just("/".to_owned()), 1 => Just("?17=271231".to_owned())];
        (stem, key, tail).prop_map(|(stem, key, tail)| format!("{stem}{key}{tail}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn the_fast_path_agrees_with_the_general_parser(link in candidate_link()) {
            if let Some(fast) = classify_canonical_link(&link) {
                prop_assert_eq!(Some(fast.clone()), classify_in_general(&link), "{}", link);
                let (primary_key, qualifiers) =
                    canonical_key(&link).expect("the general parser accepts it");
                prop_assert_eq!(format_canonical(&primary_key, &qualifiers), link.clone());
                prop_assert_eq!(fast.to_canonical_link(), link.clone());
            }
            let with_link = classify_with_canonical_link(&link);
            let expected = classify(&link).map(|identifier| {
                let canonical_link = identifier.to_canonical_link();
                (identifier, canonical_link)
            });
            prop_assert_eq!(
                with_link.map(|(identifier, link)| (identifier, link.into_owned())),
                expected
            );
        }
    }

    #[test]
    fn the_fast_path_reads_the_common_shapes() {
        let item = "https://id.gs1.org/01/09506000134352/21/SN-1.a_2";
        assert_eq!(
            classify_canonical_link(item),
            Some(Identifier::Item { gtin: "09506000134352".into(), serial: "SN-1.a_2".into() })
        );
        assert_eq!(canonical_digital_link(item).as_deref(), Some(item));
        let lot = "https://id.gs1.org/01/09506000134352/10/LOT-7";
        assert!(matches!(classify_canonical_link(lot), Some(Identifier::Lot { .. })));
        for general in [
            "https://id.gs1.org/01/09506000134352/21/a%2Fb",
            "https://id.gs1.org/01/9506000134352/21/7",
            "https://id.gs1.org/414/9506000000009/254/0",
            "https://id.gs1.org/01/09506000134352/21/7?17=271231",
            "urn:epc:id:sgtin:0614141.107346.2017",
        ] {
            assert_eq!(classify_canonical_link(general), None, "{general}");
            assert!(classify(general).is_some(), "{general}");
        }
    }
}
