//! Who is admitted and what each organisation may write: the genesis document, roster changes,
//! and the role rules.
//!
//! Owns: [`Role`], [`Member`] (with the GS1 company prefixes it is granted), the
//! governance-signed [`Genesis`] document (a JSON file whose signatures cover canonical bytes),
//! roster [`Change`]s, the [`RosterChange`] payload that carries one with its governance
//! [`Approval`]s and their threshold check, and [`Roster::role_allows`], the table of which role
//! may write which payload kind.
//! Does not own: how a roster change payload splits into fields (`records`, which carries it
//! as `Payload::RosterChange`), the order changes apply in (append order, by `store`), payload
//! kinds themselves (`entry`) or signature primitives (`identity`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::entry::{EntryHash, PayloadKind};
use crate::identity::{self, Keypair, PublicKey, Signature};

/// Errors building or changing a roster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The genesis file is not valid JSON of the expected shape.
    #[error("genesis document: {0}")]
    GenesisJson(String),
    /// A governance signature on the genesis document or an approval does not verify.
    #[error("bad governance signature by {key}")]
    BadGovernanceSignature {
        /// The key whose signature failed.
        key: PublicKey,
    },
    /// A signature or approval comes from a key that is not a governance key.
    #[error("{key} is not a governance key")]
    NotGovernance {
        /// The key.
        key: PublicKey,
    },
    /// Fewer distinct governance keys approved than the threshold requires.
    #[error("below governance threshold: {found} of {needed} approvals")]
    BelowThreshold {
        /// Approvals required.
        needed: usize,
        /// Valid distinct approvals found.
        found: usize,
    },
    /// The threshold is zero or exceeds the number of governance keys.
    #[error("threshold {threshold} is impossible with {keys} governance keys")]
    ImpossibleThreshold {
        /// The threshold.
        threshold: u32,
        /// The number of governance keys.
        keys: usize,
    },
    /// The change was approved for another point in the roster's history.
    #[error("stale roster change: roster is at version {current}, change is for {found}")]
    StaleVersion {
        /// The roster's version.
        current: u64,
        /// The version the change names.
        found: u64,
    },
    /// The author of a roster change entry is neither a governance key nor a regulator.
    #[error("{author} may not publish roster changes")]
    NotAllowedToPublish {
        /// The entry's author.
        author: PublicKey,
    },
    /// Admitting a key that is already a member.
    #[error("{key} is already a member")]
    AlreadyMember {
        /// The key.
        key: PublicKey,
    },
    /// Changing a key that is not a member.
    #[error("{key} is not a member")]
    NotMember {
        /// The key.
        key: PublicKey,
    },
    /// A member must hold at least one role.
    #[error("member {key} has no roles")]
    NoRoles {
        /// The key.
        key: PublicKey,
    },
    /// The GLN is not 13 digits with a valid GS1 check digit.
    #[error("invalid gln {0:?}")]
    InvalidGln(String),
    /// A granted GS1 company prefix is not 4 to 12 digits.
    #[error("invalid gs1 company prefix {0:?}: a company prefix is 4 to 12 digits")]
    InvalidPrefix(String),
    /// A role name is not one of the seven roles.
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    /// Canonical bytes could not be built or read.
    #[error(transparent)]
    Codec(#[from] codec::Error),
    /// A key in the document is not a valid Ed25519 key.
    #[error(transparent)]
    Identity(#[from] identity::Error),
}

/// What an organisation does in the network; decides which payload kinds it may write.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Farm or factory: commissions lots.
    Producer,
    /// Transforms inputs into new lots.
    Processor,
    /// Carrier or warehouse.
    Logistics,
    /// Sells to consumers.
    Retailer,
    /// Inspection lab or certifier: the only role that signs inspection results.
    Lab,
    /// The only role that issues recalls and supervision flags.
    Regulator,
    /// Cosigns checkpoints; writes no records.
    Witness,
}

impl Role {
    fn code(self) -> u8 {
        match self {
            Role::Producer => 0,
            Role::Processor => 1,
            Role::Logistics => 2,
            Role::Retailer => 3,
            Role::Lab => 4,
            Role::Regulator => 5,
            Role::Witness => 6,
        }
    }

    fn from_code(code: u8) -> Result<Self, Error> {
        [
            Role::Producer,
            Role::Processor,
            Role::Logistics,
            Role::Retailer,
            Role::Lab,
            Role::Regulator,
            Role::Witness,
        ]
        .get(usize::from(code))
        .copied()
        .ok_or_else(|| Error::UnknownRole(code.to_string()))
    }

    /// Whether this role may write a payload of `kind` (the issue's rules: only a regulator
    /// issues recalls and supervision flags, only a lab signs inspection results, witnesses
    /// only cosign).
    pub fn may_write(self, kind: PayloadKind) -> bool {
        use PayloadKind as Kind;
        let holds_product =
            matches!(self, Role::Producer | Role::Processor | Role::Logistics | Role::Retailer);
        match kind {
            Kind::EpcisEvent => self != Role::Witness,
            Kind::RecallNotice | Kind::SupervisionFlag | Kind::RosterChange => {
                self == Role::Regulator
            }
            Kind::InspectionResult => self == Role::Lab,
            Kind::RecallAcknowledgement | Kind::Excursion | Kind::ExcursionAcknowledgement => {
                holds_product
            }
            Kind::ErrorDeclaration | Kind::MasterData => self != Role::Witness,
        }
    }
}

/// One admitted organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its signing key; the identity every feed entry names.
    #[serde(with = "crate::identity::hex_public_key")]
    pub key: PublicKey,
    /// Display name.
    pub name: String,
    /// GS1 Global Location Number of the organisation (13 digits), to match EPCIS parties.
    pub gln: String,
    /// Roles held; a set so that order never changes the canonical bytes.
    pub roles: BTreeSet<Role>,
    /// GS1 company prefixes (4 to 12 digits) whose keys the organisation may describe in
    /// master data, besides its own GLN; a set so that order never changes the canonical bytes.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub prefixes: BTreeSet<String>,
}

/// A member's canonical bytes without its prefixes: the layout genesis documents and admit
/// changes signed before prefixes existed, kept so their signatures still verify.
type MemberTuple = ([u8; 32], String, String, Vec<u8>);

impl Member {
    fn to_tuple(&self) -> MemberTuple {
        (
            *self.key.as_bytes(),
            self.name.clone(),
            self.gln.clone(),
            self.roles.iter().map(|role| role.code()).collect(),
        )
    }

    fn from_tuple(tuple: MemberTuple, prefixes: Vec<String>) -> Result<Self, Error> {
        let roles = tuple.3.into_iter().map(Role::from_code).collect::<Result<BTreeSet<_>, _>>()?;
        if !prefixes.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(Error::Codec(codec::Error::Malformed {
                what: "member",
                reason: "company prefixes are not sorted and unique".to_owned(),
            }));
        }
        let member = Member {
            key: PublicKey::from_bytes(tuple.0)?,
            name: tuple.1,
            gln: tuple.2,
            roles,
            prefixes: prefixes.into_iter().collect(),
        };
        member.check()?;
        Ok(member)
    }

    /// The granted prefixes in canonical (sorted) order.
    fn prefix_list(&self) -> Vec<String> {
        self.prefixes.iter().cloned().collect()
    }

    /// Checks the GLN, every granted prefix, and that at least one role is held.
    pub fn check(&self) -> Result<(), Error> {
        if self.roles.is_empty() {
            return Err(Error::NoRoles { key: self.key });
        }
        if !is_valid_gln(&self.gln) {
            return Err(Error::InvalidGln(self.gln.clone()));
        }
        check_prefixes(&self.prefixes)
    }
}

/// Every prefix is a GS1 company prefix (4 to 12 digits).
fn check_prefixes(prefixes: &BTreeSet<String>) -> Result<(), Error> {
    match prefixes.iter().find(|prefix| !crate::masterdata::is_company_prefix(prefix)) {
        Some(prefix) => Err(Error::InvalidPrefix(prefix.clone())),
        None => Ok(()),
    }
}

/// 13 digits whose last is the GS1 mod-10 check digit of the first 12.
fn is_valid_gln(gln: &str) -> bool {
    let digits: Vec<u32> = gln.chars().filter_map(|character| character.to_digit(10)).collect();
    if gln.len() != 13 || digits.len() != 13 {
        return false;
    }
    // GS1 mod-10: weights 3 and 1 alternate from the rightmost data digit.
    let weighted_sum: u32 = digits[..12]
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| if position % 2 == 0 { digit * 3 } else { *digit })
        .sum();
    (10 - weighted_sum % 10) % 10 == digits[12]
}

/// A governance signature over the genesis document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisSignature {
    /// The signing governance key.
    #[serde(with = "crate::identity::hex_public_key")]
    pub key: PublicKey,
    /// Hex signature over [`Genesis::signing_bytes`].
    pub signature: String,
}

/// The network's founding document: who governs, how many must agree, and who is admitted at
/// the start. Kept as JSON for people; signed over canonical bytes for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The network's name; part of every approval so approvals do not cross networks.
    pub network: String,
    /// Governance keys.
    #[serde(with = "hex_keys")]
    pub governance_keys: Vec<PublicKey>,
    /// How many distinct governance keys must sign the genesis and approve each change.
    pub threshold: u32,
    /// The initial members.
    pub members: Vec<Member>,
    /// Governance signatures over [`Genesis::signing_bytes`].
    #[serde(default)]
    pub signatures: Vec<GenesisSignature>,
}

impl Genesis {
    /// The canonical bytes governance keys sign (everything but the signatures). When any
    /// member is granted company prefixes, the grants follow as one more value (members with
    /// prefixes, in member order), so a genesis without grants keeps the bytes, and the
    /// signatures, it always had.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, Error> {
        let keys: Vec<[u8; 32]> = self.governance_keys.iter().map(|key| *key.as_bytes()).collect();
        let members: Vec<MemberTuple> = self.members.iter().map(Member::to_tuple).collect();
        let mut bytes = codec::TAG_GENESIS.to_vec();
        bytes.extend_from_slice(&codec::encode(
            &(self.network.clone(), keys, self.threshold, members),
            "genesis",
        )?);
        let grants: Vec<([u8; 32], Vec<String>)> = self
            .members
            .iter()
            .filter(|member| !member.prefixes.is_empty())
            .map(|member| (*member.key.as_bytes(), member.prefix_list()))
            .collect();
        if !grants.is_empty() {
            bytes.extend_from_slice(&codec::encode(&grants, "genesis prefix grants")?);
        }
        Ok(bytes)
    }

    /// A stable identifier of this network's genesis (SHA-256 of the signing bytes).
    pub fn id(&self) -> Result<[u8; 32], Error> {
        Ok(codec::digest(&self.signing_bytes()?))
    }

    /// Adds `keypair`'s signature.
    pub fn sign(&mut self, keypair: &Keypair) -> Result<(), Error> {
        let signature = keypair.sign(&self.signing_bytes()?);
        self.signatures.retain(|existing| existing.key != keypair.public_key());
        self.signatures.push(GenesisSignature {
            key: keypair.public_key(),
            signature: hex::encode(signature.to_bytes()),
        });
        Ok(())
    }

    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|error| Error::GenesisJson(error.to_string()))
    }

    /// The JSON form (pretty, for files people read).
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and lists cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks the threshold, every member, and that enough distinct governance keys signed.
    pub fn verify(&self) -> Result<(), Error> {
        let keys: BTreeSet<PublicKey> = self.governance_keys.iter().copied().collect();
        if self.threshold == 0 || self.threshold as usize > keys.len() {
            return Err(Error::ImpossibleThreshold { threshold: self.threshold, keys: keys.len() });
        }
        for member in &self.members {
            member.check()?;
        }
        let message = self.signing_bytes()?;
        let mut signers = BTreeSet::new();
        for entry in &self.signatures {
            if !keys.contains(&entry.key) {
                return Err(Error::NotGovernance { key: entry.key });
            }
            let raw: [u8; identity::SIGNATURE_LEN] = hex::decode(&entry.signature)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(Error::BadGovernanceSignature { key: entry.key })?;
            entry
                .key
                .verify(&message, &Signature::from_bytes(raw))
                .map_err(|_| Error::BadGovernanceSignature { key: entry.key })?;
            signers.insert(entry.key);
        }
        if signers.len() < self.threshold as usize {
            return Err(Error::BelowThreshold {
                needed: self.threshold as usize,
                found: signers.len(),
            });
        }
        Ok(())
    }
}

/// A change to the roster, approved by governance and carried in a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Admit a new organisation.
    Admit(Member),
    /// Replace an organisation's roles.
    SetRoles {
        /// The member.
        key: PublicKey,
        /// Its new roles.
        roles: BTreeSet<Role>,
    },
    /// Remove an organisation; its existing entries stay, no new ones are accepted.
    Remove {
        /// The member.
        key: PublicKey,
    },
    /// Resolve a fork in `author`'s feed at `sequence` by naming the entry to keep; the feed
    /// is unfrozen and the other branch is dropped.
    ResolveFork {
        /// The forked feed.
        author: PublicKey,
        /// The contested position.
        sequence: u64,
        /// Hash of the entry that stands.
        keep: EntryHash,
    },
    /// Replace the GS1 company prefixes an organisation may describe in master data.
    SetPrefixes {
        /// The member.
        key: PublicKey,
        /// Its new prefixes (empty: only its own GLN).
        prefixes: BTreeSet<String>,
    },
}

impl Change {
    /// Canonical bytes: a tag byte, then the variant's fields. A member admitted with company
    /// prefixes has its own tag (4), so admissions without prefixes keep their bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, codec::Error> {
        match self {
            Change::Admit(member) if member.prefixes.is_empty() => {
                codec::encode(&(0u8, member.to_tuple()), "roster change")
            }
            Change::Admit(member) => {
                codec::encode(&(4u8, member.to_tuple(), member.prefix_list()), "roster change")
            }
            Change::SetPrefixes { key, prefixes } => {
                let prefixes: Vec<String> = prefixes.iter().cloned().collect();
                codec::encode(&(5u8, *key.as_bytes(), prefixes), "roster change")
            }
            Change::SetRoles { key, roles } => {
                let codes: Vec<u8> = roles.iter().map(|role| role.code()).collect();
                codec::encode(&(1u8, *key.as_bytes(), codes), "roster change")
            }
            Change::Remove { key } => codec::encode(&(2u8, *key.as_bytes()), "roster change"),
            Change::ResolveFork { author, sequence, keep } => codec::encode(
                &(3u8, *author.as_bytes(), *sequence, *keep.as_bytes()),
                "roster change",
            ),
        }
    }

    /// Parses [`Change::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.first() {
            Some(0) => {
                let (_, tuple): (u8, MemberTuple) = codec::decode(bytes, "roster change")?;
                Ok(Change::Admit(Member::from_tuple(tuple, Vec::new())?))
            }
            Some(4) => {
                let (_, tuple, prefixes): (u8, MemberTuple, Vec<String>) =
                    codec::decode(bytes, "roster change")?;
                if prefixes.is_empty() {
                    return Err(Error::Codec(codec::Error::Malformed {
                        what: "roster change",
                        reason: "an admission with prefixes lists none (tag 0 admits without)"
                            .to_owned(),
                    }));
                }
                Ok(Change::Admit(Member::from_tuple(tuple, prefixes)?))
            }
            Some(5) => {
                let (_, key, prefixes): (u8, [u8; 32], Vec<String>) =
                    codec::decode(bytes, "roster change")?;
                if !prefixes.windows(2).all(|pair| pair[0] < pair[1]) {
                    return Err(Error::Codec(codec::Error::Malformed {
                        what: "roster change",
                        reason: "company prefixes are not sorted and unique".to_owned(),
                    }));
                }
                let prefixes: BTreeSet<String> = prefixes.into_iter().collect();
                check_prefixes(&prefixes)?;
                Ok(Change::SetPrefixes { key: PublicKey::from_bytes(key)?, prefixes })
            }
            Some(1) => {
                let (_, key, codes): (u8, [u8; 32], Vec<u8>) =
                    codec::decode(bytes, "roster change")?;
                let roles = codes.into_iter().map(Role::from_code).collect::<Result<_, _>>()?;
                Ok(Change::SetRoles { key: PublicKey::from_bytes(key)?, roles })
            }
            Some(2) => {
                let (_, key): (u8, [u8; 32]) = codec::decode(bytes, "roster change")?;
                Ok(Change::Remove { key: PublicKey::from_bytes(key)? })
            }
            Some(3) => {
                let (_, author, sequence, keep): (u8, [u8; 32], u64, [u8; 32]) =
                    codec::decode(bytes, "roster change")?;
                Ok(Change::ResolveFork {
                    author: PublicKey::from_bytes(author)?,
                    sequence,
                    keep: EntryHash::from_bytes(keep),
                })
            }
            other => Err(Error::Codec(codec::Error::Malformed {
                what: "roster change",
                reason: format!("unknown change tag {other:?}"),
            })),
        }
    }
}

/// One governance key's approval of a roster change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approval {
    /// The approving governance key.
    pub key: PublicKey,
    /// Its signature over [`RosterChange::approval_message`].
    pub signature: Signature,
}

/// A roster change, carried in the feed of a governance key or a regulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    /// The number of roster changes applied before this one; binds approvals to one point in
    /// the roster's history so they cannot be replayed.
    pub roster_version: u64,
    /// The change itself.
    pub change: Change,
    /// Governance approvals; the author's own entry signature counts if it is a governance key.
    pub approvals: Vec<Approval>,
}

impl RosterChange {
    /// The bytes a governance key signs to approve `change` at `roster_version` in `network`.
    pub fn approval_message(
        network: &str,
        roster_version: u64,
        change: &Change,
    ) -> Result<Vec<u8>, codec::Error> {
        let mut message = codec::TAG_ROSTER_APPROVAL.to_vec();
        message
            .extend_from_slice(&codec::encode(&(network.to_owned(), roster_version), "approval")?);
        message.extend_from_slice(&change.to_bytes()?);
        Ok(message)
    }
}

/// The current set of admitted organisations, derived from the genesis and the changes applied.
#[derive(Debug, Clone)]
pub struct Roster {
    /// The network name (from the genesis).
    network: String,
    /// Governance keys, which may publish roster changes without being members.
    governance_keys: BTreeSet<PublicKey>,
    /// Approvals each change needs.
    threshold: usize,
    /// Members by key; a `BTreeMap` so iteration order is stable.
    members: BTreeMap<PublicKey, Member>,
    /// Number of changes applied; each change must name it.
    version: u64,
}

impl Roster {
    /// The roster a verified genesis starts.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, Error> {
        genesis.verify()?;
        let mut members = BTreeMap::new();
        for member in &genesis.members {
            if members.insert(member.key, member.clone()).is_some() {
                return Err(Error::AlreadyMember { key: member.key });
            }
        }
        Ok(Self {
            network: genesis.network.clone(),
            governance_keys: genesis.governance_keys.iter().copied().collect(),
            threshold: genesis.threshold as usize,
            members,
            version: 0,
        })
    }

    /// The network name.
    pub fn network(&self) -> &str {
        &self.network
    }

    /// Number of changes applied since genesis.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The member with this key, if admitted.
    pub fn member(&self, key: &PublicKey) -> Option<&Member> {
        self.members.get(key)
    }

    /// Every member, ordered by key.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// Whether `key` is a governance key.
    pub fn is_governance(&self, key: &PublicKey) -> bool {
        self.governance_keys.contains(key)
    }

    /// Whether `key` may author entries at all (a member or a governance key).
    pub fn is_admitted(&self, key: &PublicKey) -> bool {
        self.members.contains_key(key) || self.is_governance(key)
    }

    /// Whether `author` may write a payload of `kind`: some role of the member allows it, or
    /// `author` is a governance key publishing a roster change.
    pub fn role_allows(&self, author: &PublicKey, kind: PayloadKind) -> bool {
        if kind == PayloadKind::RosterChange && self.is_governance(author) {
            return true;
        }
        self.members
            .get(author)
            .is_some_and(|member| member.roles.iter().any(|role| role.may_write(kind)))
    }

    /// Checks that `change`, published by `author`, may be applied now.
    pub fn check_change(&self, author: &PublicKey, change: &RosterChange) -> Result<(), Error> {
        if !self.role_allows(author, PayloadKind::RosterChange) {
            return Err(Error::NotAllowedToPublish { author: *author });
        }
        if change.roster_version != self.version {
            return Err(Error::StaleVersion {
                current: self.version,
                found: change.roster_version,
            });
        }
        let message =
            RosterChange::approval_message(&self.network, change.roster_version, &change.change)?;
        let mut approvers = BTreeSet::new();
        if self.is_governance(author) {
            // The author's entry signature covers the change through the payload commitment.
            approvers.insert(*author);
        }
        for approval in &change.approvals {
            if !self.is_governance(&approval.key) {
                return Err(Error::NotGovernance { key: approval.key });
            }
            approval
                .key
                .verify(&message, &approval.signature)
                .map_err(|_| Error::BadGovernanceSignature { key: approval.key })?;
            approvers.insert(approval.key);
        }
        if approvers.len() < self.threshold {
            return Err(Error::BelowThreshold { needed: self.threshold, found: approvers.len() });
        }
        match &change.change {
            Change::Admit(member) => {
                member.check()?;
                if self.members.contains_key(&member.key) {
                    return Err(Error::AlreadyMember { key: member.key });
                }
            }
            Change::SetRoles { key, roles } => {
                if !self.members.contains_key(key) {
                    return Err(Error::NotMember { key: *key });
                }
                if roles.is_empty() {
                    return Err(Error::NoRoles { key: *key });
                }
            }
            Change::Remove { key } => {
                if !self.members.contains_key(key) {
                    return Err(Error::NotMember { key: *key });
                }
            }
            Change::SetPrefixes { key, prefixes } => {
                if !self.members.contains_key(key) {
                    return Err(Error::NotMember { key: *key });
                }
                check_prefixes(prefixes)?;
            }
            Change::ResolveFork { .. } => {}
        }
        Ok(())
    }

    /// Checks and applies `change`, advancing the roster version.
    pub fn apply(&mut self, author: &PublicKey, change: &RosterChange) -> Result<(), Error> {
        self.check_change(author, change)?;
        match &change.change {
            Change::Admit(member) => {
                self.members.insert(member.key, member.clone());
            }
            Change::SetRoles { key, roles } => {
                if let Some(member) = self.members.get_mut(key) {
                    member.roles = roles.clone();
                }
            }
            Change::Remove { key } => {
                self.members.remove(key);
            }
            Change::SetPrefixes { key, prefixes } => {
                if let Some(member) = self.members.get_mut(key) {
                    member.prefixes = prefixes.clone();
                }
            }
            Change::ResolveFork { .. } => {}
        }
        self.version += 1;
        Ok(())
    }
}

/// Serde helper: a list of public keys as lower-case hex.
mod hex_keys {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::identity::PublicKey;

    pub fn serialize<S: Serializer>(keys: &[PublicKey], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(keys.iter().map(PublicKey::to_hex))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<PublicKey>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| PublicKey::from_hex(text).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gln_check_digit() {
        assert!(is_valid_gln("0614141000005"));
        assert!(!is_valid_gln("0614141000006"));
        assert!(!is_valid_gln("061414100000"));
    }

    #[test]
    fn role_table_matches_the_issue() {
        assert!(Role::Regulator.may_write(PayloadKind::RecallNotice));
        assert!(!Role::Producer.may_write(PayloadKind::RecallNotice));
        assert!(Role::Lab.may_write(PayloadKind::InspectionResult));
        assert!(!Role::Regulator.may_write(PayloadKind::InspectionResult));
        assert!(!Role::Witness.may_write(PayloadKind::EpcisEvent));
        assert!(Role::Regulator.may_write(PayloadKind::SupervisionFlag));
        assert!(!Role::Logistics.may_write(PayloadKind::SupervisionFlag));
        assert!(Role::Producer.may_write(PayloadKind::MasterData));
        assert!(Role::Lab.may_write(PayloadKind::MasterData));
        assert!(!Role::Witness.may_write(PayloadKind::MasterData));
    }
}
