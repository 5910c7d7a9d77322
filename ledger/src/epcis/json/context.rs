//! The prefixes the JSON-LD writer declares in an `@context`, and the prefix each extension
//! name is written with, so that what is written reads back as the model holds it.
//!
//! Owns the one hazard of writing JSON-LD from a model that carries no context: a declared
//! prefix changes what the reader ([`super::Scope`]) makes of every string beginning with it.
//! A value `p:rest` of an IRI-typed field is expanded when `p` is declared, and a key `p:local`
//! is read in `p`'s namespace. XML holds such values literally (an `xsd:anyURI` has no CURIEs,
//! and the Event Hash ID takes a custom CURIE as written), and XML may bind one prefix to
//! several namespaces, so the model can hold a value `example:x` next to names in the
//! namespace `example` stands for, or names written with one prefix in two namespaces.
//! The writer therefore declares a prefix only where it changes no value it governs and binds
//! the namespace its names need; a name whose prefix cannot be declared so is written under a
//! fresh prefix (`example1`), which JSON-LD reads as the same namespace IRI, the name's
//! identity and what the Event Hash ID hashes. A document read from JSON-LD holds neither
//! hazard (its values were expanded, its names resolved under one binding), so it is written
//! with the declarations it was read with.
//!
//! Does not own reading (`super::Scope`) or the shape of the written JSON (`super`).

use std::collections::{BTreeMap, BTreeSet};

use super::super::cbv::VocabularyKind;
use super::super::model::{
    Event, ExtensionField, ExtensionValue, Namespace, QName, VocabularyValue,
};
use super::DEFAULT_PREFIXES;

/// The plan for one level of `@context` (a document's, or one event's inside it).
#[derive(Debug, Clone, Default)]
pub(super) struct Context {
    /// The namespace each prefix declared in scope stands for: the enclosing level's
    /// declarations, then this level's (the last declaration of a prefix counts, as in the
    /// reader).
    bindings: BTreeMap<String, String>,
    /// The declarations this level writes, in order.
    pub(super) declared: Vec<Namespace>,
    /// Names not written with the prefix they hold: (held prefix, namespace IRI) and the
    /// prefix written instead.
    renamed: BTreeMap<(Option<String>, String), String>,
}

/// What the names and values of one level say about prefixes, gathered once so that planning
/// stays near-linear in the number of names.
struct Uses<'model> {
    /// For each prefix the names hold, the namespaces they hold it for.
    namespaces_of_prefix: BTreeMap<&'model str, BTreeSet<&'model str>>,
    /// The schemes of the keys of names written as full IRIs (`https` of `https://…`).
    full_iri_schemes: BTreeSet<String>,
    /// The prefixes of values the reader would expand if they were declared (`p` of `p:rest`,
    /// `rest` not starting with `//`).
    expandable_prefixes: BTreeSet<&'model str>,
}

impl<'model> Uses<'model> {
    fn of(names: &[&'model QName], values: &[&'model str]) -> Self {
        let mut uses = Uses {
            namespaces_of_prefix: BTreeMap::new(),
            full_iri_schemes: BTreeSet::new(),
            expandable_prefixes: BTreeSet::new(),
        };
        for name in names {
            match &name.prefix {
                Some(prefix) => {
                    uses.namespaces_of_prefix
                        .entry(prefix.as_str())
                        .or_default()
                        .insert(name.namespace_iri.as_str());
                }
                None => {
                    if let Some((scheme, _)) = name.iri().split_once(':') {
                        uses.full_iri_schemes.insert(scheme.to_owned());
                    }
                }
            }
        }
        for value in values {
            if let Some((prefix, rest)) = value.split_once(':')
                && !rest.starts_with("//")
            {
                uses.expandable_prefixes.insert(prefix);
            }
        }
        uses
    }

    /// Whether declaring `prefix` as `iri` makes the reader expand a value into another
    /// string (`prefix:rest` becomes `iri` + `rest`, the same string only when `iri` is
    /// `prefix:` itself).
    fn changes_a_value(&self, prefix: &str, iri: &str) -> bool {
        self.expandable_prefixes.contains(prefix)
            && iri.strip_suffix(':').is_none_or(|before_colon| before_colon != prefix)
    }
}

impl Context {
    /// Plans a level inside `outer` (`None` at the top) that would like to declare `wanted`
    /// (a document's own declarations, kept when they harm nothing), writes the extension
    /// `names`, and governs the IRI-typed `values` (those the reader expands).
    pub(super) fn plan(
        outer: Option<&Context>,
        wanted: &[Namespace],
        names: &[&QName],
        values: &[&str],
    ) -> Context {
        let uses = Uses::of(names, values);
        let mut context = Context {
            bindings: outer.map(|outer| outer.bindings.clone()).unwrap_or_default(),
            declared: Vec::new(),
            renamed: BTreeMap::new(),
        };
        for namespace in wanted {
            if !uses.changes_a_value(&namespace.prefix, &namespace.iri) {
                context.declare(namespace.clone());
            }
        }
        for name in names {
            if name.namespace_iri.is_empty() || context.reads_back(name) {
                continue;
            }
            let held = (name.prefix.clone(), name.namespace_iri.clone());
            if context.renamed.contains_key(&held) {
                continue;
            }
            if let Some(prefix) = &name.prefix
                && context.may_declare(prefix, &name.namespace_iri, &uses)
            {
                context
                    .declare(Namespace { prefix: prefix.clone(), iri: name.namespace_iri.clone() });
                continue;
            }
            let fresh = context.fresh_prefix(name.prefix.as_deref(), &uses);
            context.declare(Namespace { prefix: fresh.clone(), iri: name.namespace_iri.clone() });
            context.renamed.insert(held, fresh);
        }
        context
    }

    /// The JSON key of an extension name: `prefix:local` under the prefix planned for it,
    /// the full IRI when it holds no prefix, or the bare local name for unqualified nested
    /// content.
    pub(super) fn key(&self, name: &QName) -> String {
        if !self.renamed.is_empty()
            && let Some(prefix) =
                self.renamed.get(&(name.prefix.clone(), name.namespace_iri.clone()))
        {
            return format!("{prefix}:{}", name.local_name);
        }
        match &name.prefix {
            Some(prefix) => format!("{prefix}:{}", name.local_name),
            None => name.iri(),
        }
    }

    fn declare(&mut self, namespace: Namespace) {
        self.bindings.insert(namespace.prefix.clone(), namespace.iri.clone());
        self.declared.push(namespace);
    }

    /// The namespace the reader gives `prefix` here: its declaration in scope, else the GS1
    /// context's own prefixes.
    fn resolve(&self, prefix: &str) -> Option<&str> {
        self.bindings.get(prefix).map(String::as_str).or_else(|| {
            DEFAULT_PREFIXES
                .iter()
                .find(|(default_prefix, _)| *default_prefix == prefix)
                .map(|(_, iri)| *iri)
        })
    }

    /// Whether the key [`Self::key`] writes for `name` without renaming reads back as
    /// `name`'s namespace and local name (the reader's `Scope::qname`).
    fn reads_back(&self, name: &QName) -> bool {
        match &name.prefix {
            Some(prefix) => self.resolve(prefix) == Some(name.namespace_iri.as_str()),
            None => {
                let key = name.iri();
                let Some((scheme, rest)) = key.split_once(':') else {
                    return false;
                };
                if self.resolve(scheme).is_some() || !(rest.starts_with("//") || scheme == "urn") {
                    return false;
                }
                let split_at =
                    key.rfind(['/', '#', ':']).map_or(key.len(), |position| position + 1);
                key.split_at(split_at) == (name.namespace_iri.as_str(), name.local_name.as_str())
            }
        }
    }

    /// Whether this level may declare `prefix` for `iri`: it changes no value, no name
    /// written here holds `prefix` for another namespace, and no name written as a full IRI
    /// has `prefix` as its scheme.
    fn may_declare(&self, prefix: &str, iri: &str, uses: &Uses<'_>) -> bool {
        !uses.changes_a_value(prefix, iri)
            && uses
                .namespaces_of_prefix
                .get(prefix)
                .is_none_or(|namespaces| namespaces.iter().all(|namespace| *namespace == iri))
            && !uses.full_iri_schemes.contains(prefix)
    }

    /// A prefix for a name that cannot keep its own: its own prefix (or `ns`) and a number,
    /// bound nowhere in scope, held by no name, no full-IRI key's scheme, and the prefix of no
    /// value.
    fn fresh_prefix(&self, held: Option<&str>, uses: &Uses<'_>) -> String {
        let base = held
            .filter(|prefix| {
                prefix.chars().next().is_some_and(|first| first.is_ascii_alphabetic())
                    && prefix.chars().all(|other| other.is_ascii_alphanumeric() || other == '_')
            })
            .unwrap_or("ns");
        (1usize..)
            .map(|number| format!("{base}{number}"))
            .find(|candidate| {
                self.resolve(candidate).is_none()
                    && !uses.namespaces_of_prefix.contains_key(candidate.as_str())
                    && !uses.full_iri_schemes.contains(candidate)
                    && !uses.expandable_prefixes.contains(candidate.as_str())
            })
            .unwrap_or_else(|| base.to_owned())
    }
}

/// Every extension name in `fields`, nested ones included, in order (repeats included; a
/// plan handles a name once).
pub(super) fn names_in<'model>(fields: &'model [ExtensionField], names: &mut Vec<&'model QName>) {
    for field in fields {
        names.push(&field.name);
        names_in_value(&field.value, names);
    }
}

/// Every extension name inside an extension value.
pub(super) fn names_in_value<'model>(
    value: &'model ExtensionValue,
    names: &mut Vec<&'model QName>,
) {
    match value {
        ExtensionValue::Object(fields) => names_in(fields, names),
        ExtensionValue::List(items) => items.iter().for_each(|item| names_in_value(item, names)),
        ExtensionValue::Text(_) | ExtensionValue::Number(_) | ExtensionValue::Boolean(_) => {}
    }
}

/// Every extension name an event writes (event-level extensions, ILMD, error declaration,
/// locations and sensor data).
pub(super) fn event_names(event: &Event) -> Vec<&QName> {
    let mut names = Vec::new();
    names_in(&event.extensions, &mut names);
    if let Some(ilmd) = &event.ilmd {
        names_in(ilmd, &mut names);
    }
    if let Some(declaration) = &event.error_declaration {
        names_in(&declaration.extensions, &mut names);
    }
    for location in [&event.read_point, &event.biz_location].into_iter().flatten() {
        names_in(&location.extensions, &mut names);
    }
    for element in &event.sensor_element_list {
        names_in(&element.extensions, &mut names);
        if let Some(metadata) = &element.sensor_metadata {
            names_in(&metadata.extensions, &mut names);
        }
        for report in &element.sensor_report {
            names_in(&report.extensions, &mut names);
        }
    }
    names
}

/// Every value of `event` the reader passes through its CURIE expansion: the fields it reads
/// as IRIs (`iri`, `iri_list`) and the vocabulary values that are no standard word
/// (`vocabulary`).
pub(super) fn expanded_values(event: &Event) -> Vec<&str> {
    let mut values: Vec<&str> = Vec::new();
    let strings = [&event.event_id, &event.parent_id, &event.transformation_id];
    values.extend(strings.into_iter().flatten().map(String::as_str));
    values.extend(event.certification_info.iter().map(String::as_str));
    for list in [&event.epc_list, &event.child_epcs, &event.input_epc_list, &event.output_epc_list]
        .into_iter()
        .flatten()
    {
        values.extend(list.iter().map(String::as_str));
    }
    for list in [
        &event.quantity_list,
        &event.child_quantity_list,
        &event.input_quantity_list,
        &event.output_quantity_list,
    ] {
        values.extend(list.iter().map(|element| element.epc_class.as_str()));
    }
    let mut vocabularies: Vec<&VocabularyValue> = Vec::new();
    vocabularies.extend(event.biz_step.iter());
    vocabularies.extend(event.disposition.iter());
    if let Some(persistent) = &event.persistent_disposition {
        vocabularies.extend(persistent.set.iter().chain(&persistent.unset));
    }
    if let Some(declaration) = &event.error_declaration {
        vocabularies.extend(declaration.reason.iter());
        values.extend(declaration.corrective_event_ids.iter().map(String::as_str));
    }
    for location in [&event.read_point, &event.biz_location].into_iter().flatten() {
        values.push(&location.id);
    }
    for transaction in &event.biz_transaction_list {
        values.push(&transaction.value);
        vocabularies.extend(transaction.transaction_type.iter());
    }
    for entry in event.source_list.iter().chain(&event.destination_list) {
        values.push(&entry.id);
        vocabularies.push(&entry.source_destination_type);
    }
    for element in &event.sensor_element_list {
        if let Some(metadata) = &element.sensor_metadata {
            let strings = [
                &metadata.device_id,
                &metadata.device_metadata,
                &metadata.raw_data,
                &metadata.data_processing_method,
                &metadata.biz_rules,
            ];
            values.extend(strings.into_iter().flatten().map(String::as_str));
        }
        for report in &element.sensor_report {
            let strings = [
                &report.device_id,
                &report.device_metadata,
                &report.raw_data,
                &report.data_processing_method,
                &report.biz_rules,
                &report.microorganism,
                &report.chemical_substance,
                &report.uri_value,
                &report.coordinate_reference_system,
            ];
            values.extend(strings.into_iter().flatten().map(String::as_str));
            vocabularies.extend(
                [&report.measurement_type, &report.exception, &report.component]
                    .into_iter()
                    .flatten(),
            );
        }
    }
    values.extend(
        vocabularies
            .into_iter()
            .filter(|value| !is_standard_word(value.kind, &value.written))
            .map(|value| value.written.as_str()),
    );
    values
}

/// Whether the reader keeps `written` as it is for a field of `kind` (a standard word, in any
/// of its spellings), rather than expanding it.
fn is_standard_word(kind: VocabularyKind, written: &str) -> bool {
    kind.standard_word(written).is_some()
}
