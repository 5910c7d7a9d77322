//! The names a person reads beside an answer's identifiers, and where each name came from.
//!
//! Owns [`Names`]: organisations by key (from the roster: its name and GLN), and products,
//! lots, places and parties by canonical Digital Link (from master data: the statement that
//! names each, with the entry that signed it, so a client checks every name against the same
//! proofs as the events), and which identifiers of an answer get a name ([`Names::of_answer`]).
//! Does not own how master data is chosen when several statements exist
//! (`masterdata::Directory::name_of`), the roster (`roster`), nor rendering (the client's).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::entry::EntryRef;
use crate::masterdata::{Described, Directory, Statement};
use crate::roster::Roster;

/// An organisation's name as the roster gives it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationName {
    /// Display name.
    pub name: String,
    /// Its GLN (13 digits).
    pub gln: String,
}

/// The name master data gives one identifier, with the statement's identity.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameSource {
    /// The name.
    pub name: String,
    /// A one-line address, for places that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Latitude and longitude in decimal degrees, for places that have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<[f64; 2]>,
    /// The identifier the statement describes (a lot's product when the lot has no name of
    /// its own, a site for one of its sub-locations).
    pub described: String,
    /// The master-data entry that says so.
    pub entry: EntryRef,
}

impl NameSource {
    /// The name `statement` gives, when it gives one.
    pub fn from_statement(statement: &Statement, entry: EntryRef) -> Option<Self> {
        Some(Self {
            name: statement.name()?.to_owned(),
            address: statement.place(),
            coordinates: statement.coordinates().map(|(latitude, longitude)| [latitude, longitude]),
            described: statement.id.clone(),
            entry,
        })
    }

    fn from_described(described: &Described) -> Option<Self> {
        Self::from_statement(&described.statement, described.entry)
    }
}

/// The names an answer's identifiers have. Empty maps are left out of the JSON.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Names {
    /// Organisations by key (lower-case hex), and by party Digital Link when a party is a
    /// member's GLN.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub organisations: BTreeMap<String, OrganisationName>,
    /// Products, lots, places and parties by canonical Digital Link.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub described: BTreeMap<String, NameSource>,
}

impl Names {
    /// Whether nothing is named.
    pub fn is_empty(&self) -> bool {
        self.organisations.is_empty() && self.described.is_empty()
    }

    /// Names the organisation `keys` (hex) the roster knows and the `ids` (canonical Digital
    /// Links) master data names; a party link that is a member's GLN gets the member's name.
    pub fn collect<'text>(
        keys: impl IntoIterator<Item = &'text str>,
        ids: impl IntoIterator<Item = &'text str>,
        directory: &Directory,
        roster: &Roster,
    ) -> Self {
        let mut names = Names::default();
        for key in keys {
            if names.organisations.contains_key(key) {
                continue;
            }
            let member = lookup_key(key).and_then(|key| roster.member(&key));
            if let Some(member) = member {
                names.organisations.insert(
                    key.to_owned(),
                    OrganisationName { name: member.name.clone(), gln: member.gln.clone() },
                );
            }
        }
        // Parties master data does not name: a party link that is a member's GLN gets the
        // member's name. One pass over the members, only when such a party is asked about.
        let mut unnamed_parties: BTreeMap<&str, &str> = BTreeMap::new();
        // An answer names the same places and lots on many steps: each is looked up once,
        // named or not.
        let mut asked: HashSet<&str> = HashSet::new();
        for id in ids {
            if !asked.insert(id) {
                continue;
            }
            if let Some(source) = directory.name_of(id).and_then(NameSource::from_described) {
                names.described.insert(id.to_owned(), source);
            } else if let Some(crate::gs1::Identifier::Party { .. }) = crate::gs1::classify(id)
                && let Some(gln) = id.rsplit('/').next()
            {
                unnamed_parties.insert(gln, id);
            }
        }
        if !unnamed_parties.is_empty() {
            for member in roster.members() {
                if let Some(id) = unnamed_parties.get(member.gln.as_str()) {
                    names.organisations.insert(
                        (*id).to_owned(),
                        OrganisationName { name: member.name.clone(), gln: member.gln.clone() },
                    );
                }
            }
        }
        names
    }

    /// The master-data entries the names rely on, without repeats.
    pub fn entries(&self) -> Vec<EntryRef> {
        let mut entries: Vec<EntryRef> =
            self.described.values().map(|source| source.entry).collect();
        entries.sort();
        entries.dedup();
        entries
    }

    /// An organisation's name (by key or party link), when known.
    pub fn organisation(&self, key: &str) -> Option<&str> {
        self.organisations.get(key).map(|organisation| organisation.name.as_str())
    }

    /// An identifier's name, when known (organisations' party links included).
    pub fn name(&self, id: &str) -> Option<&str> {
        self.described.get(id).map(|source| source.name.as_str()).or_else(|| self.organisation(id))
    }

    /// What a person reads for `id`: its name with the identifier after it, else the
    /// identifier alone.
    pub fn label(&self, id: &str) -> String {
        match self.name(id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_owned(),
        }
    }
}

/// A key in hex as a key to look a member up by, without the point checks (a decompression
/// per key): every member's key was checked when it was admitted, so only a checked key finds
/// a member.
fn lookup_key(hex_key: &str) -> Option<crate::identity::PublicKey> {
    let mut bytes = [0u8; crate::identity::PUBLIC_KEY_LEN];
    hex::decode_to_slice(hex_key.trim(), &mut bytes).ok()?;
    Some(crate::identity::PublicKey::from_header_bytes(bytes))
}
