//! The node's master-data view: every statement of every replicated feed in a
//! [`Directory`], and the EPCIS `SimpleMasterDataQuery` over it.
//!
//! Owns: feeding the directory (local appends, replicated entries, the replay at start-up),
//! the typed master-data query ([`MasterDataQuery`], read from the standard's parameters) and
//! its answer ([`Vocabularies`]: the statements in force, grouped by vocabulary, each with who
//! said it), and the lookups the rest of the node uses (`master_data`, `master_data_name`,
//! `master_data_history`, `with_directory`). Does not own statements' form or the ownership
//! rule (`lotline_ledger::masterdata`), capturing them (`capture`), or the EPCIS JSON an
//! answer is written in (`http`).

use std::collections::BTreeSet;

use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::gs1;
use lotline_ledger::masterdata::{self, Described, Directory, Statement, VocabularyType};
use lotline_ledger::records::Payload;

use super::{Error, Ledger, read_lock, write_lock};

/// Most vocabulary elements one master-data answer may hold (`maxElementCount` may ask for
/// fewer): bounds the answer's size; a wider question is refused naming its size.
pub const MAX_ELEMENTS: usize = 10_000;

/// A `SimpleMasterDataQuery` (EPCIS 2.0 §8.2.7.2), as `GET /vocabularies` reads it: every
/// parameter given must hold at once. List values are separated by `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterDataQuery {
    /// `vocabularyName`: only these vocabularies (all when absent).
    pub vocabularies: Option<BTreeSet<VocabularyType>>,
    /// `includeAttributes` (default true): whether attributes are given.
    pub include_attributes: bool,
    /// `includeChildren` (default true): whether children are given.
    pub include_children: bool,
    /// `attributeNames`: only these attributes are given (full IRIs).
    pub attribute_names: Option<BTreeSet<String>>,
    /// `EQ_name`: only these identifiers (canonical forms).
    pub names: Option<BTreeSet<String>>,
    /// `WD_name`: only these identifiers and their descendants through `children`.
    pub with_descendants: Option<BTreeSet<String>>,
    /// `HASATTR`: only elements with every one of these attributes (full IRIs).
    pub has_attributes: Vec<String>,
    /// `EQ_ATTR_<attribute>`: only elements whose attribute has one of these values.
    pub attribute_values: Vec<(String, BTreeSet<String>)>,
    /// `maxElementCount`: refuse an answer of more elements than this.
    pub max_elements: usize,
}

impl Default for MasterDataQuery {
    fn default() -> Self {
        Self {
            vocabularies: None,
            include_attributes: true,
            include_children: true,
            attribute_names: None,
            names: None,
            with_descendants: None,
            has_attributes: Vec::new(),
            attribute_values: Vec::new(),
            max_elements: MAX_ELEMENTS,
        }
    }
}

/// `|`-separated values, trimmed, empty ones dropped.
fn list(value: &str) -> Vec<String> {
    value.split('|').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// An identifier as the directory keys it.
fn identifier_key(identifier: &str) -> String {
    gs1::canonical_digital_link(identifier).unwrap_or_else(|| identifier.to_owned())
}

impl MasterDataQuery {
    /// Reads the query parameters; an unknown parameter or a malformed value is refused by
    /// name rather than ignored, so a query never matches more than asked.
    pub fn parse<'parameter>(
        parameters: impl IntoIterator<Item = (&'parameter str, &'parameter str)>,
    ) -> Result<Self, Error> {
        let mut query = Self::default();
        let invalid = |parameter: &str, value: &str, rule: &str| Error::MasterDataParameter {
            parameter: parameter.to_owned(),
            value: value.to_owned(),
            rule: rule.to_owned(),
        };
        let boolean = |parameter: &str, value: &str| match value.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(invalid(parameter, value, "is true or false")),
        };
        let attribute = |parameter: &str, written: &str| {
            masterdata::attribute_iri(written).map_err(|rule| invalid(parameter, written, &rule))
        };
        for (name, value) in parameters {
            match name {
                "vocabularyName" => {
                    let mut vocabularies = BTreeSet::new();
                    for uri in list(value) {
                        let vocabulary_type = VocabularyType::from_uri(&uri).ok_or_else(|| {
                            invalid(
                                name,
                                &uri,
                                "names no vocabulary this node records (urn:epcglobal:epcis:vtype:EPCClass, BusinessLocation, ReadPoint, Location, Party)",
                            )
                        })?;
                        vocabularies.insert(vocabulary_type);
                    }
                    query.vocabularies = Some(vocabularies);
                }
                "includeAttributes" => query.include_attributes = boolean(name, value)?,
                "includeChildren" => query.include_children = boolean(name, value)?,
                "attributeNames" => {
                    query.attribute_names = Some(
                        list(value)
                            .iter()
                            .map(|written| attribute(name, written))
                            .collect::<Result<_, _>>()?,
                    );
                }
                "EQ_name" => {
                    query.names = Some(list(value).iter().map(|id| identifier_key(id)).collect());
                }
                "WD_name" => {
                    query.with_descendants =
                        Some(list(value).iter().map(|id| identifier_key(id)).collect());
                }
                "HASATTR" => {
                    for written in list(value) {
                        query.has_attributes.push(attribute(name, &written)?);
                    }
                }
                "maxElementCount" => {
                    query.max_elements = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|count| (1..=MAX_ELEMENTS).contains(count))
                        .ok_or_else(|| {
                            invalid(name, value, &format!("is a number from 1 to {MAX_ELEMENTS}"))
                        })?;
                }
                other => match other.strip_prefix("EQ_ATTR_") {
                    Some(written) if !written.is_empty() => {
                        let attribute_id = attribute(name, written)?;
                        query
                            .attribute_values
                            .push((attribute_id, list(value).into_iter().collect()));
                    }
                    _ => {
                        return Err(Error::UnsupportedQueryParameter {
                            parameter: other.to_owned(),
                        });
                    }
                },
            }
        }
        Ok(query)
    }

    /// Whether a statement in force matches every filter but `WD_name` (see [`Self::run`]).
    fn matches(&self, statement: &Statement) -> bool {
        let vocabulary_matches = self
            .vocabularies
            .as_ref()
            .is_none_or(|vocabularies| vocabularies.contains(&statement.vocabulary_type));
        let name_matches = self.names.as_ref().is_none_or(|names| names.contains(&statement.id));
        let has_attributes = self
            .has_attributes
            .iter()
            .all(|wanted| statement.attributes.iter().any(|attribute| attribute.id == *wanted));
        let values_match = self.attribute_values.iter().all(|(wanted, values)| {
            statement
                .attributes
                .iter()
                .any(|attribute| attribute.id == *wanted && values.contains(&attribute.value))
        });
        vocabulary_matches && name_matches && has_attributes && values_match
    }

    /// The statements in force that match, grouped by vocabulary in wire-code order, each
    /// trimmed to what the query asks to include.
    fn run(&self, directory: &Directory) -> Result<Vocabularies, Error> {
        let descendants =
            self.with_descendants.as_ref().map(|roots| descendants_of(directory, roots));
        let matching: Vec<&Described> = directory
            .iter()
            .filter(|described| {
                descendants.as_ref().is_none_or(|tree| tree.contains(&described.statement.id))
                    && self.matches(&described.statement)
            })
            .collect();
        if matching.len() > self.max_elements {
            return Err(Error::TooManyElements { limit: self.max_elements, found: matching.len() });
        }
        let mut found: Vec<Described> = Vec::with_capacity(matching.len());
        for described in matching {
            let mut described = described.clone();
            if !self.include_attributes {
                described.statement.attributes.clear();
            } else if let Some(names) = &self.attribute_names {
                described.statement.attributes.retain(|attribute| names.contains(&attribute.id));
            }
            if !self.include_children {
                described.statement.children.clear();
            }
            found.push(described);
        }
        let mut vocabularies = Vec::new();
        for vocabulary_type in VocabularyType::ALL {
            let elements: Vec<Described> = found
                .iter()
                .filter(|described| described.statement.vocabulary_type == vocabulary_type)
                .cloned()
                .collect();
            if !elements.is_empty() {
                vocabularies.push(Vocabulary { vocabulary_type, elements });
            }
        }
        Ok(Vocabularies { vocabularies })
    }
}

/// `roots` and every identifier reachable from them through the `children` of statements in
/// force.
fn descendants_of(directory: &Directory, roots: &BTreeSet<String>) -> BTreeSet<String> {
    let mut reached: BTreeSet<String> = roots.clone();
    let mut pending: Vec<String> = roots.iter().cloned().collect();
    while let Some(id) = pending.pop() {
        for described in directory.in_force(&id) {
            for child in &described.statement.children {
                if reached.insert(child.clone()) {
                    pending.push(child.clone());
                }
            }
        }
    }
    reached
}

/// The answer to a master-data query: the statements in force that match, by vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabularies {
    /// One entry per vocabulary with matches, in wire-code order.
    pub vocabularies: Vec<Vocabulary>,
}

/// The matching statements of one vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    /// The vocabulary.
    pub vocabulary_type: VocabularyType,
    /// Its matching statements in force, by identifier, each with who said it.
    pub elements: Vec<Described>,
}

/// Every statement made about one identifier.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MasterDataHistory {
    /// The identifier asked about, in the form statements carry (canonical Digital Link for
    /// GS1 keys).
    pub id: String,
    /// The current statement (the latest record time among those in force), if any.
    pub current: Option<Described>,
    /// Every statement, oldest record time first, superseded ones included.
    pub history: Vec<Described>,
}

impl Ledger {
    /// Adds the master-data statements among `entries` to the directory (entries of other
    /// kinds and withheld statements are skipped; a second insert of an entry is ignored).
    pub(super) fn record_statements(&self, entries: &[VerifiedEntry]) {
        let statements: Vec<(&VerifiedEntry, &Statement)> = entries
            .iter()
            .filter_map(|entry| match entry.payload() {
                Some(Payload::MasterData(statement)) => Some((entry, statement)),
                _ => None,
            })
            .collect();
        if statements.is_empty() {
            return;
        }
        let mut directory = write_lock(&self.directory);
        for (entry, statement) in statements {
            directory.insert(entry.reference(), entry.record_time_ms(), statement.clone());
        }
    }

    /// The current statement about `id` (any form of a GS1 key): of each organisation's latest
    /// statement, the one with the latest record time, with who said it.
    pub fn master_data(&self, id: &str) -> Option<Described> {
        read_lock(&self.directory).current(id).cloned()
    }

    /// The statement that names `id` for a person: the newest in force with a name, falling
    /// back from a lot or item to its product and from a sub-location to its GLN.
    pub fn master_data_name(&self, id: &str) -> Option<Described> {
        read_lock(&self.directory).name_of(id).cloned()
    }

    /// Every statement ever made about `id`, and the current one.
    pub fn master_data_history(&self, id: &str) -> MasterDataHistory {
        let directory = read_lock(&self.directory);
        MasterDataHistory {
            id: identifier_key(id),
            current: directory.current(id).cloned(),
            history: directory.history(id).into_iter().cloned().collect(),
        }
    }

    /// Runs `work` over the directory under its read lock, for callers that look up many
    /// identifiers at once (names for a whole answer) without copying each statement.
    pub fn with_directory<Output>(&self, work: impl FnOnce(&Directory) -> Output) -> Output {
        work(&read_lock(&self.directory))
    }

    /// Answers a `SimpleMasterDataQuery` over the statements in force.
    pub fn query_master_data(&self, query: &MasterDataQuery) -> Result<Vocabularies, Error> {
        query.run(&read_lock(&self.directory))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard's parameters read into one typed query; attribute names in CURIE form are
    /// expanded as statements carry them; anything else is refused by name.
    #[test]
    fn master_data_parameters_are_read_or_refused_by_name() {
        let query = MasterDataQuery::parse([
            (
                "vocabularyName",
                "urn:epcglobal:epcis:vtype:EPCClass|urn:epcglobal:epcis:vtype:ReadPoint",
            ),
            ("includeChildren", "false"),
            ("EQ_name", "urn:epc:id:sgln:4012345.00011.0"),
            ("HASATTR", "cbvmda:name"),
            ("EQ_ATTR_cbvmda:city", "Salinas|Fresno"),
            ("maxElementCount", "5"),
        ])
        .unwrap();
        assert_eq!(
            query.vocabularies,
            Some(BTreeSet::from([VocabularyType::EpcClass, VocabularyType::ReadPoint]))
        );
        assert!(query.include_attributes && !query.include_children);
        assert_eq!(
            query.names,
            Some(BTreeSet::from(["https://id.gs1.org/414/4012345000115".to_owned()]))
        );
        assert_eq!(query.has_attributes, vec![masterdata::attribute::NAME.to_owned()]);
        assert_eq!(
            query.attribute_values,
            vec![(
                masterdata::attribute::CITY.to_owned(),
                BTreeSet::from(["Fresno".to_owned(), "Salinas".to_owned()])
            )]
        );
        assert_eq!(query.max_elements, 5);
        for (name, value, named) in [
            ("vocabularyName", "urn:epcglobal:epcis:vtype:BusinessStep", "BusinessStep"),
            ("includeAttributes", "yes", "includeAttributes"),
            ("maxElementCount", "0", "maxElementCount"),
            ("HASATTR", "nowhere:name", "nowhere:name"),
            ("EQ_colour", "red", "EQ_colour"),
            ("EQ_ATTR_", "x", "EQ_ATTR_"),
        ] {
            let error = MasterDataQuery::parse([(name, value)]).unwrap_err().to_string();
            assert!(error.contains(named), "{name}={value}: {error}");
        }
    }
}
