//! The links the resolver offers for a GS1 key and their RFC 9264 linkset
//! (`application/linkset+json`) in the shape the GS1-Conformant Resolver standard 1.2 asks:
//! one context object anchored at the key's canonical Digital Link, link types as full GS1
//! vocabulary URIs, every link with a title, and exactly one `gs1:defaultLink`.
//!
//! Owns: which link types each kind of key has on this node and where they point (the consumer
//! page under `/view/...`, the trace, the EPCIS query, the inspection records), the merging of
//! every level of a request (item → lot → product) into one linkset, and the link types a
//! request may name (`gs1:pip`, `https://gs1.org/voc/pip`, …). Does not own which levels are
//! known (`resolver` asks the ledger) nor Digital Link syntax (`lotline_ledger::gs1`).

use lotline_ledger::gs1::{self, Identifier};
use serde_json::{Map, Value, json};

/// The GS1 Web Vocabulary namespace link types are written in.
pub const GS1_VOCABULARY: &str = "https://gs1.org/voc/";

/// The JSON-LD context GS1 publishes for linksets (linked with
/// `rel="http://www.w3.org/ns/json-ld#context"` and embedded for `application/ld+json`).
pub const LINKSET_CONTEXT: &str = "https://ref.gs1.org/standards/resolver/linkset-context";

/// Languages of the consumer page (it follows `Accept-Language`).
const PAGE_LANGUAGES: &[&str] = &["en", "zh"];

/// A link type this node offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// `gs1:pip`: the consumer page.
    Pip,
    /// `gs1:recallStatus`: the page's recall section.
    RecallStatus,
    /// `gs1:traceability`: the backward trace with its evidence.
    Traceability,
    /// `gs1:epcis`: the EPCIS query for the key's events.
    Epcis,
    /// `gs1:certificationInfo`: the inspection results on the ledger.
    CertificationInfo,
}

impl LinkType {
    /// Every link type, in the order a linkset lists them.
    pub const ALL: [LinkType; 5] = [
        LinkType::Pip,
        LinkType::RecallStatus,
        LinkType::Traceability,
        LinkType::Epcis,
        LinkType::CertificationInfo,
    ];

    /// The term in the GS1 Web Vocabulary.
    pub fn term(self) -> &'static str {
        match self {
            LinkType::Pip => "pip",
            LinkType::RecallStatus => "recallStatus",
            LinkType::Traceability => "traceability",
            LinkType::Epcis => "epcis",
            LinkType::CertificationInfo => "certificationInfo",
        }
    }

    /// The full URI a linkset keys the links by.
    pub fn uri(self) -> String {
        format!("{GS1_VOCABULARY}{}", self.term())
    }
}

/// What a `linkType` query parameter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// The linkset itself (`linkset`, or the older `all`).
    Linkset,
    /// The default link (`gs1:defaultLink`, `gs1:defaultLinkMulti`).
    Default,
    /// One link type this node offers.
    Type(LinkType),
    /// A link type this node never offers (answered with 404).
    Other,
}

impl Requested {
    /// Reads a `linkType` value: `linkset`, `all`, or a GS1 link type as a CURIE (`gs1:pip`) or
    /// a URI on any of the vocabulary's addresses (`https://gs1.org/voc/pip`,
    /// `https://ref.gs1.org/voc/pip`, `http://gs1.org/voc/pip`, `https://www.gs1.org/voc/pip`).
    pub fn parse(value: &str) -> Requested {
        if value == "linkset" || value == "all" {
            return Requested::Linkset;
        }
        let term = ["gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/"]
            .iter()
            .chain(&["https://ref.gs1.org/voc/", "https://www.gs1.org/voc/"])
            .find_map(|prefix| value.strip_prefix(prefix));
        let Some(term) = term else { return Requested::Other };
        if term == "defaultLink" || term == "defaultLinkMulti" {
            return Requested::Default;
        }
        LinkType::ALL
            .into_iter()
            .find(|link_type| link_type.term() == term)
            .map_or(Requested::Other, Requested::Type)
    }
}

/// One target link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Absolute target URL.
    pub href: String,
    /// A title for people (the standard asks one of every link).
    pub title: &'static str,
    /// The target's media type.
    pub media_type: &'static str,
    /// The target's languages (empty for data).
    pub hreflang: &'static [&'static str],
}

impl Link {
    /// The link as a linkset target object.
    fn to_json(&self) -> Value {
        let mut target = Map::new();
        target.insert("href".into(), Value::String(self.href.clone()));
        target.insert("title".into(), Value::String(self.title.into()));
        target.insert("type".into(), Value::String(self.media_type.into()));
        if !self.hreflang.is_empty() {
            target.insert("hreflang".into(), json!(self.hreflang));
        }
        Value::Object(target)
    }
}

/// One level of a request that the node knows: its canonical Digital Link and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The canonical Digital Link (`https://id.gs1.org/01/…/10/…`).
    pub canonical: String,
    /// What the link denotes.
    pub identifier: Identifier,
}

impl Level {
    /// The canonical link's path (`/01/…/10/…`), as served on this node's root.
    pub fn path(&self) -> &str {
        self.canonical.strip_prefix(gs1::CANONICAL_STEM).unwrap_or(&self.canonical)
    }

    /// The links this node offers for this level, on `base` (scheme and authority).
    pub fn links(&self, base: &str) -> Vec<(LinkType, Link)> {
        let path = self.path();
        let page = format!("{base}/view{path}");
        let id = query_component(&self.canonical);
        let pip = |title| Link {
            href: page.clone(),
            title,
            media_type: "text/html",
            hreflang: PAGE_LANGUAGES,
        };
        let data = |href: String, title| Link {
            href,
            title,
            media_type: "application/json",
            hreflang: &[],
        };
        let recall = Link {
            href: format!("{page}#recall"),
            title: "Recall status",
            media_type: "text/html",
            hreflang: PAGE_LANGUAGES,
        };
        let trace = data(format!("{base}/trace/back?id={id}"), "Traceability information");
        let inspections = data(
            format!("{base}/records?kind=inspection_result"),
            "Inspection results on the ledger",
        );
        match &self.identifier {
            Identifier::Lot { .. } => vec![
                (LinkType::Pip, pip("Lot information")),
                (LinkType::RecallStatus, recall),
                (LinkType::Traceability, trace),
                (
                    LinkType::Epcis,
                    data(format!("{base}/events?MATCH_anyEPCClass={id}"), "EPCIS events"),
                ),
                (LinkType::CertificationInfo, inspections),
            ],
            Identifier::Item { .. } | Identifier::LogisticUnit { .. } => vec![
                (LinkType::Pip, pip("Item information")),
                (LinkType::RecallStatus, recall),
                (LinkType::Traceability, trace),
                (LinkType::Epcis, data(format!("{base}/events?MATCH_epc={id}"), "EPCIS events")),
            ],
            Identifier::Class { .. } => vec![
                (LinkType::Pip, pip("Product information")),
                (
                    LinkType::Epcis,
                    data(format!("{base}/events?MATCH_anyEPCClass={id}"), "EPCIS events"),
                ),
            ],
            Identifier::Location { .. } => vec![
                (LinkType::Pip, pip("Location information")),
                (
                    LinkType::Epcis,
                    data(format!("{base}/events?EQ_bizLocation={id}"), "EPCIS events"),
                ),
            ],
            Identifier::Party { .. } | Identifier::Other(_) => {
                vec![(LinkType::Pip, pip("Information"))]
            }
        }
    }
}

/// The links of a request: every known level's, most specific first, and the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// The request's canonical Digital Link with every qualifier it named.
    pub anchor: String,
    /// A name for the item, from master data.
    pub description: Option<String>,
    /// Every level's links, most specific level first.
    pub links: Vec<(LinkType, Link)>,
}

impl Links {
    /// Merges the links of `levels` (most specific first; at least one).
    pub fn of(anchor: String, description: Option<String>, levels: &[Level], base: &str) -> Self {
        let links = levels.iter().flat_map(|level| level.links(base)).collect();
        Links { anchor, description, links }
    }

    /// The default link: the most specific level's page.
    pub fn default_link(&self) -> Option<&Link> {
        self.first(LinkType::Pip)
    }

    /// The first link of `link_type` (the most specific level's).
    pub fn first(&self, link_type: LinkType) -> Option<&Link> {
        self.links.iter().find(|(found, _)| *found == link_type).map(|(_, link)| link)
    }

    /// The RFC 9264 JSON linkset; with `context`, the GS1 JSON-LD context is embedded (for
    /// `application/ld+json`).
    pub fn to_json(&self, context: bool) -> Value {
        let mut object = Map::new();
        if context {
            object.insert("@context".into(), Value::String(LINKSET_CONTEXT.into()));
        }
        object.insert("anchor".into(), Value::String(self.anchor.clone()));
        if let Some(description) = &self.description {
            object.insert("itemDescription".into(), Value::String(description.clone()));
        }
        if let Some(default) = self.default_link() {
            object.insert(format!("{GS1_VOCABULARY}defaultLink"), json!([default.to_json()]));
        }
        for link_type in LinkType::ALL {
            let targets: Vec<Value> = self
                .links
                .iter()
                .filter(|(found, _)| *found == link_type)
                .map(|(_, link)| link.to_json())
                .collect();
            if !targets.is_empty() {
                object.insert(link_type.uri(), Value::Array(targets));
            }
        }
        json!({ "linkset": [Value::Object(object)] })
    }
}

/// `text` percent-encoded for a query string value (everything but unreserved characters).
pub fn query_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot() -> Level {
        let canonical = "https://id.gs1.org/01/09506000134352/10/L1".to_owned();
        Level { identifier: gs1::classify(&canonical).unwrap(), canonical }
    }

    fn product() -> Level {
        let canonical = "https://id.gs1.org/01/09506000134352".to_owned();
        Level { identifier: gs1::classify(&canonical).unwrap(), canonical }
    }

    #[test]
    fn link_types_are_read_in_every_spelling_the_standard_allows() {
        assert_eq!(Requested::parse("linkset"), Requested::Linkset);
        assert_eq!(Requested::parse("all"), Requested::Linkset);
        assert_eq!(Requested::parse("gs1:pip"), Requested::Type(LinkType::Pip));
        assert_eq!(
            Requested::parse("https://ref.gs1.org/voc/recallStatus"),
            Requested::Type(LinkType::RecallStatus)
        );
        assert_eq!(Requested::parse("https://gs1.org/voc/defaultLink"), Requested::Default);
        assert_eq!(Requested::parse("gs1:nutritionalInfo"), Requested::Other);
        assert_eq!(Requested::parse("pip"), Requested::Other);
    }

    #[test]
    fn a_lot_linkset_merges_the_product_level_with_one_default_link() {
        let links = Links::of(
            "https://id.gs1.org/01/09506000134352/10/L1".into(),
            Some("Romaine".into()),
            &[lot(), product()],
            "http://node.example",
        );
        let json = links.to_json(false);
        let object = &json["linkset"][0];
        assert_eq!(object["anchor"], "https://id.gs1.org/01/09506000134352/10/L1");
        assert_eq!(object["itemDescription"], "Romaine");
        let default = object["https://gs1.org/voc/defaultLink"].as_array().unwrap();
        assert_eq!(default.len(), 1);
        assert_eq!(default[0]["href"], "http://node.example/view/01/09506000134352/10/L1");
        let pages = object["https://gs1.org/voc/pip"].as_array().unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1]["href"], "http://node.example/view/01/09506000134352");
        assert_eq!(
            object["https://gs1.org/voc/traceability"][0]["href"],
            "http://node.example/trace/back?id=https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F10%2FL1"
        );
        assert!(object.get("@context").is_none());
        assert_eq!(links.to_json(true)["linkset"][0]["@context"], LINKSET_CONTEXT);
    }
}
