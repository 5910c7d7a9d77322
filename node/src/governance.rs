//! A network's governance from the command line (`lotline-node governance …`): governance keys,
//! the genesis document, roster-change files and their approvals, and handing an approved
//! change to a regulator's node (`POST /records` with a `roster_change` record).
//!
//! Owns: the JSON form of a roster change (the change file `propose` writes and `sign`
//! approves, which is also the `roster_change` record `POST /records` reads, documented in
//! `docs/http-api.md`), the members file a genesis is built from, and the small HTTP/1.1 client
//! the commands use to ask a node for its roster and to submit a change.
//! Does not own: what a genesis or a change means, who may publish one, or when it applies
//! (`lotline_ledger::roster`, whose `Roster::check_change` the node's append rules call), nor
//! how a node stores and replicates the entry (`crate::state`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use lotline_ledger::entry::EntryHash;
use lotline_ledger::identity::{Keypair, PublicKey, Signature};
use lotline_ledger::roster::{Approval, Change, Genesis, Member, Role, RosterChange};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `kind` of a roster-change file and record.
pub const ROSTER_CHANGE_KIND: &str = "roster_change";

/// How long a command waits for a node's answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer a command reads from a node.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// `lotline-node governance …`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a governance key file (mode 0600) and print its public key.
    Key {
        /// Where to write the key; an existing file is never replaced.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an unsigned genesis document (sign it with `sign`, once per governance key).
    Genesis {
        /// The network's name (bound into every approval).
        #[arg(long)]
        network: String,
        /// A governance public key (hex); repeat for each.
        #[arg(long = "governance", required = true)]
        governance: Vec<String>,
        /// How many distinct governance keys must sign the genesis and approve each change.
        #[arg(long)]
        threshold: u32,
        /// The founding members: a TOML file of `[[member]]` tables or a JSON list, each
        /// with `key`, `name`, `gln`, `roles` and optional `prefixes`.
        #[arg(long)]
        members: PathBuf,
        /// Where to write the genesis JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a governance key's signature to a genesis document or its approval to a change file
    /// (the file is rewritten in place).
    Sign {
        /// The governance key file.
        #[arg(long)]
        key: PathBuf,
        /// The genesis or change file.
        file: PathBuf,
    },
    /// Write a change file for the roster version the network is at.
    Propose {
        #[command(flatten)]
        at: RosterPoint,
        /// Where to write the change file.
        #[arg(long)]
        out: PathBuf,
        #[command(subcommand)]
        change: ProposedChange,
    },
    /// Publish an approved change through a regulator's node (`POST /records`); prints the
    /// entry that carries it.
    Submit {
        #[command(flatten)]
        node: NodeAccess,
        /// The approved change file.
        file: PathBuf,
    },
}

/// Where a proposal's network name and roster version come from.
#[derive(Debug, clap::Args)]
pub struct RosterPoint {
    /// A node of the network: its `GET /roster` gives the network and the roster version.
    #[arg(long, conflicts_with_all = ["network", "roster_version"])]
    node: Option<String>,
    /// The network's name (without `--node`).
    #[arg(long, requires = "roster_version")]
    network: Option<String>,
    /// The roster version the change applies at (without `--node`).
    #[arg(long, requires = "network")]
    roster_version: Option<u64>,
}

/// How a command reaches a node's HTTP API.
#[derive(Debug, clap::Args)]
pub struct NodeAccess {
    /// The node's config (its `http_listen` and `api_token` are used).
    #[arg(long, conflicts_with_all = ["node", "token"], required_unless_present = "node")]
    config: Option<PathBuf>,
    /// The node's HTTP address (`http://host:port`).
    #[arg(long, requires = "token")]
    node: Option<String>,
    /// The node's API token.
    #[arg(long)]
    token: Option<String>,
}

/// The change a proposal makes.
#[derive(Debug, Subcommand)]
pub enum ProposedChange {
    /// Admit an organisation.
    Admit {
        /// Its organisation public key (hex).
        #[arg(long)]
        key: String,
        /// Its display name.
        #[arg(long)]
        name: String,
        /// Its GLN (13 digits).
        #[arg(long)]
        gln: String,
        /// A role it holds; repeat for each.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// A GS1 company prefix it may describe in master data; repeat for each.
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
    },
    /// Replace a member's roles.
    SetRoles {
        /// The member's public key (hex).
        #[arg(long)]
        key: String,
        /// A role it holds from now on; repeat for each.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Replace a member's GS1 company prefixes (none: only its own GLN).
    SetPrefixes {
        /// The member's public key (hex).
        #[arg(long)]
        key: String,
        /// A company prefix; repeat for each.
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
    },
    /// Remove a member: its entries stay verifiable, it writes no new ones.
    Remove {
        /// The member's public key (hex).
        #[arg(long)]
        key: String,
    },
    /// Resolve a fork of a feed by naming the entry that stands.
    ResolveFork {
        /// The forked feed's author (hex).
        #[arg(long)]
        author: String,
        /// The contested sequence number.
        #[arg(long)]
        sequence: u64,
        /// The entry hash (hex) of the entry to keep.
        #[arg(long)]
        keep: String,
    },
}

/// The JSON form of a roster change: the file governance passes around and signs, and the
/// `roster_change` record a regulator's node signs into its feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFile {
    /// Always [`ROSTER_CHANGE_KIND`].
    pub kind: String,
    /// The network the approvals are for.
    pub network: String,
    /// The number of roster changes applied before this one.
    pub roster_version: u64,
    /// The change.
    pub change: ChangeJson,
    /// Governance approvals gathered so far.
    #[serde(default)]
    pub approvals: Vec<ApprovalJson>,
}

/// One change, keys and hashes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ChangeJson {
    /// Admit an organisation.
    Admit(Member),
    /// Replace a member's roles.
    SetRoles {
        /// The member (hex).
        key: String,
        /// Its new roles.
        roles: BTreeSet<Role>,
    },
    /// Replace a member's company prefixes.
    SetPrefixes {
        /// The member (hex).
        key: String,
        /// Its new prefixes.
        prefixes: BTreeSet<String>,
    },
    /// Remove a member.
    Remove {
        /// The member (hex).
        key: String,
    },
    /// Resolve a fork.
    ResolveFork {
        /// The forked feed (hex).
        author: String,
        /// The contested position.
        sequence: u64,
        /// Entry hash (hex) of the entry that stands.
        keep: String,
    },
}

/// One approval, key and signature in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalJson {
    /// The approving governance key.
    pub key: String,
    /// Its signature over the approval message.
    pub signature: String,
}

fn key_field(text: &str, field: &str) -> Result<PublicKey, String> {
    PublicKey::from_hex(text).map_err(|error| format!("{field}: {error}"))
}

impl ChangeJson {
    /// The ledger's change; errors name the field.
    pub fn to_change(&self) -> Result<Change, String> {
        Ok(match self {
            ChangeJson::Admit(member) => Change::Admit(member.clone()),
            ChangeJson::SetRoles { key, roles } => Change::SetRoles {
                key: key_field(key, "change.set_roles.key")?,
                roles: roles.clone(),
            },
            ChangeJson::SetPrefixes { key, prefixes } => Change::SetPrefixes {
                key: key_field(key, "change.set_prefixes.key")?,
                prefixes: prefixes.clone(),
            },
            ChangeJson::Remove { key } => {
                Change::Remove { key: key_field(key, "change.remove.key")? }
            }
            ChangeJson::ResolveFork { author, sequence, keep } => Change::ResolveFork {
                author: key_field(author, "change.resolve_fork.author")?,
                sequence: *sequence,
                keep: EntryHash::from_hex(keep).ok_or_else(|| {
                    "change.resolve_fork.keep: 64 hex digits are required".to_owned()
                })?,
            },
        })
    }
}

impl ChangeFile {
    /// Reads the JSON form; errors name the field.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let file: ChangeFile =
            serde_json::from_value(value.clone()).map_err(|error| error.to_string())?;
        if file.kind != ROSTER_CHANGE_KIND {
            return Err(format!("kind: {:?} is not {ROSTER_CHANGE_KIND}", file.kind));
        }
        Ok(file)
    }

    /// The ledger's roster change this file carries; errors name the field.
    pub fn to_roster_change(&self) -> Result<RosterChange, String> {
        let approvals = self
            .approvals
            .iter()
            .enumerate()
            .map(|(position, approval)| {
                let key = key_field(&approval.key, &format!("approvals[{position}].key"))?;
                let raw: [u8; 64] = hex::decode(&approval.signature)
                    .ok()
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or_else(|| {
                        format!("approvals[{position}].signature: 128 hex digits are required")
                    })?;
                Ok(Approval { key, signature: Signature::from_bytes(raw) })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(RosterChange {
            roster_version: self.roster_version,
            change: self.change.to_change()?,
            approvals,
        })
    }

    /// Adds (or replaces) `keypair`'s approval.
    pub fn approve(&mut self, keypair: &Keypair) -> anyhow::Result<()> {
        let change = self.change.to_change().map_err(anyhow::Error::msg)?;
        let message = RosterChange::approval_message(&self.network, self.roster_version, &change)?;
        let key = keypair.public_key().to_hex();
        self.approvals.retain(|approval| approval.key != key);
        self.approvals
            .push(ApprovalJson { key, signature: hex::encode(keypair.sign(&message).to_bytes()) });
        Ok(())
    }
}

/// The founding members of a genesis: `[[member]]` tables (TOML) or a JSON list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersToml {
    member: Vec<Member>,
}

/// Reads a members file (TOML unless it ends in `.json`) and checks every member.
pub fn read_members(path: &Path) -> anyhow::Result<Vec<Member>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let members: Vec<Member> = if path.extension().is_some_and(|extension| extension == "json") {
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?
    } else {
        toml::from_str::<MembersToml>(&text).with_context(|| format!("{}", path.display()))?.member
    };
    for (position, member) in members.iter().enumerate() {
        member.check().with_context(|| format!("{}: member {position}", path.display()))?;
    }
    Ok(members)
}

/// Creates a key file (0600, never replacing one) and returns its public key.
pub fn create_key(out: &Path) -> anyhow::Result<PublicKey> {
    let keypair = Keypair::generate()?;
    keypair.write_to_file(out).with_context(|| {
        format!("cannot create {} (an existing key file is never replaced)", out.display())
    })?;
    Ok(keypair.public_key())
}

fn parse_roles(roles: &[String]) -> anyhow::Result<BTreeSet<Role>> {
    roles
        .iter()
        .map(|role| {
            serde_json::from_value(Value::String(role.to_lowercase())).map_err(|_| {
                anyhow::anyhow!(
                    "unknown role {role:?}: producer, processor, logistics, retailer, lab, regulator or witness"
                )
            })
        })
        .collect()
}

fn parse_key(text: &str, what: &str) -> anyhow::Result<PublicKey> {
    PublicKey::from_hex(text).with_context(|| format!("{what} {text:?}"))
}

impl ProposedChange {
    fn to_json(&self) -> anyhow::Result<ChangeJson> {
        Ok(match self {
            ProposedChange::Admit { key, name, gln, roles, prefixes } => {
                let member = Member {
                    key: parse_key(key, "--key")?,
                    name: name.clone(),
                    gln: gln.clone(),
                    roles: parse_roles(roles)?,
                    prefixes: prefixes.iter().cloned().collect(),
                };
                member.check()?;
                ChangeJson::Admit(member)
            }
            ProposedChange::SetRoles { key, roles } => ChangeJson::SetRoles {
                key: parse_key(key, "--key")?.to_hex(),
                roles: parse_roles(roles)?,
            },
            ProposedChange::SetPrefixes { key, prefixes } => ChangeJson::SetPrefixes {
                key: parse_key(key, "--key")?.to_hex(),
                prefixes: prefixes.iter().cloned().collect(),
            },
            ProposedChange::Remove { key } => {
                ChangeJson::Remove { key: parse_key(key, "--key")?.to_hex() }
            }
            ProposedChange::ResolveFork { author, sequence, keep } => {
                EntryHash::from_hex(keep)
                    .with_context(|| format!("--keep {keep:?}: 64 hex digits are required"))?;
                ChangeJson::ResolveFork {
                    author: parse_key(author, "--author")?.to_hex(),
                    sequence: *sequence,
                    keep: keep.to_lowercase(),
                }
            }
        })
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half
/// a document.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

fn pretty(value: &impl Serialize) -> String {
    // Plain strings, numbers and lists always serialise.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Runs a governance command; what it prints on stdout is meant for scripts (a key, a path,
/// an entry), what it says on stderr for people.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Key { out } => {
            println!("{}", create_key(&out)?.to_hex());
            Ok(())
        }
        Command::Genesis { network, governance, threshold, members, out } => {
            let governance_keys = governance
                .iter()
                .map(|key| parse_key(key, "--governance"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let distinct: BTreeSet<_> = governance_keys.iter().collect();
            anyhow::ensure!(
                threshold >= 1 && threshold as usize <= distinct.len(),
                "threshold {threshold} is impossible with {} governance keys",
                distinct.len()
            );
            let genesis = Genesis {
                network,
                governance_keys,
                threshold,
                members: read_members(&members)?,
                signatures: Vec::new(),
            };
            write_atomically(&out, &(genesis.to_json() + "\n"))?;
            eprintln!(
                "{}: unsigned; {threshold} governance key(s) sign it with `lotline-node governance sign`",
                out.display()
            );
            Ok(())
        }
        Command::Sign { key, file } => sign_file(&key, &file),
        Command::Propose { at, out, change } => {
            let (network, roster_version) = match (&at.node, at.network, at.roster_version) {
                (Some(node), _, _) => {
                    let roster = http_json(node, "GET", "/roster", None, None)?;
                    let network = roster["network"].as_str().context("GET /roster: no network")?;
                    let version = roster["version"].as_u64().context("GET /roster: no version")?;
                    (network.to_owned(), version)
                }
                (None, Some(network), Some(version)) => (network, version),
                _ => anyhow::bail!(
                    "say where the network is: --node URL, or --network and --roster-version"
                ),
            };
            let file = ChangeFile {
                kind: ROSTER_CHANGE_KIND.to_owned(),
                network,
                roster_version,
                change: change.to_json()?,
                approvals: Vec::new(),
            };
            write_atomically(&out, &pretty(&file))?;
            eprintln!(
                "{}: change at roster version {roster_version} of {}; governance approves it with `lotline-node governance sign`",
                out.display(),
                file.network
            );
            Ok(())
        }
        Command::Submit { node, file } => {
            let (address, token) = match (node.config, node.node, node.token) {
                (Some(config), _, _) => {
                    let config = crate::config::Config::load(&config)?;
                    (config.http_listen, config.api_token)
                }
                (None, Some(address), Some(token)) => (address, token),
                _ => {
                    anyhow::bail!("say which node: --config FILE, or --node URL and --token TOKEN")
                }
            };
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let value: Value =
                serde_json::from_str(&text).with_context(|| format!("{}", file.display()))?;
            let change = ChangeFile::from_json(&value)
                .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
            let roster = http_json(&address, "GET", "/roster", None, None)?;
            anyhow::ensure!(
                roster["network"].as_str() == Some(change.network.as_str()),
                "{} is for network {:?}, the node is in {}",
                file.display(),
                change.network,
                roster["network"]
            );
            let entry = http_json(&address, "POST", "/records", Some(&token), Some(&text))?;
            println!("{entry}");
            Ok(())
        }
    }
}

/// `governance sign`: a change file carries `"kind": "roster_change"`; anything else is read
/// as a genesis document.
fn sign_file(key: &Path, file: &Path) -> anyhow::Result<()> {
    let keypair = Keypair::read_from_file(key)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{}", file.display()))?;
    if value.get("kind").and_then(Value::as_str) == Some(ROSTER_CHANGE_KIND) {
        let mut change = ChangeFile::from_json(&value)
            .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
        change.approve(&keypair)?;
        write_atomically(file, &pretty(&change))?;
        eprintln!(
            "{}: {} approval(s), the latest by {}",
            file.display(),
            change.approvals.len(),
            keypair.public_key()
        );
        return Ok(());
    }
    let mut genesis = Genesis::from_json(&text)?;
    anyhow::ensure!(
        genesis.governance_keys.contains(&keypair.public_key()),
        "{} is not a governance key of {}",
        keypair.public_key(),
        file.display()
    );
    genesis.sign(&keypair)?;
    write_atomically(file, &(genesis.to_json() + "\n"))?;
    let complete = genesis.verify().is_ok();
    eprintln!(
        "{}: {} of {} signature(s){}",
        file.display(),
        genesis.signatures.len(),
        genesis.threshold,
        if complete { ", complete" } else { "" }
    );
    Ok(())
}

/// One plain-HTTP request to a node (`http://host:port` or `host:port`), answered with JSON;
/// anything but a 2xx is an error carrying the node's problem detail. Plain HTTP on purpose:
/// these commands talk to a node on the operator's own machine or network.
fn http_json(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<Value> {
    use std::net::ToSocketAddrs;
    anyhow::ensure!(
        !address.starts_with("https://"),
        "{address}: these commands speak plain HTTP; run them next to the node"
    );
    let host = address.trim_start_matches("http://").trim_end_matches('/');
    let socket = host
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("{host} resolves to no address"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&socket, HTTP_TIMEOUT)
        .with_context(|| format!("cannot connect to {host}"))?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let body = body.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if method != "GET" {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.take(MAX_ANSWER_BYTES).read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .with_context(|| format!("{method} {path}: no HTTP answer from {host}"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut content = answer[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        content =
            dechunk(&content).with_context(|| format!("{method} {path}: bad chunked body"))?;
    }
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .with_context(|| format!("{method} {path}: no status from {host}"))?;
    let value: Value = serde_json::from_slice(&content).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let detail = value["detail"]
            .as_str()
            .map_or_else(|| String::from_utf8_lossy(&content).into_owned(), str::to_owned);
        anyhow::bail!("{method} {path} on {host}: {status}: {detail}");
    }
    Ok(value)
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut chunked: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = chunked.windows(2).position(|window| window == b"\r\n")?;
        let size_text = std::str::from_utf8(&chunked[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        chunked = &chunked[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(chunked.get(..size)?);
        chunked = chunked.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change file approved by two governance keys reads back as a roster change the roster
    /// accepts, and its JSON form round-trips.
    #[test]
    fn approved_change_files_apply() {
        let governance = [Keypair::from_seed([1; 32]), Keypair::from_seed([2; 32])];
        let regulator = Keypair::from_seed([3; 32]);
        let member = |key: &Keypair, role: Role| Member {
            key: key.public_key(),
            name: "x".to_owned(),
            gln: "0614141000005".to_owned(),
            roles: BTreeSet::from([role]),
            prefixes: BTreeSet::new(),
        };
        let mut genesis = Genesis {
            network: "test-net".to_owned(),
            governance_keys: governance.iter().map(Keypair::public_key).collect(),
            threshold: 2,
            members: vec![member(&regulator, Role::Regulator)],
            signatures: Vec::new(),
        };
        for key in &governance {
            genesis.sign(key).unwrap();
        }
        let mut roster = lotline_ledger::roster::Roster::from_genesis(&genesis).unwrap();
        let newcomer = Keypair::from_seed([4; 32]);
        let mut file = ChangeFile {
            kind: ROSTER_CHANGE_KIND.to_owned(),
            network: "test-net".to_owned(),
            roster_version: 0,
            change: ChangeJson::Admit(member(&newcomer, Role::Logistics)),
            approvals: Vec::new(),
        };
        file.approve(&governance[0]).unwrap();
        let once = file.to_roster_change().unwrap();
        let refused = roster.check_change(&regulator.public_key(), &once).unwrap_err();
        assert!(refused.to_string().contains("below governance threshold"), "{refused}");
        file.approve(&governance[1]).unwrap();
        file.approve(&governance[1]).unwrap();
        assert_eq!(file.approvals.len(), 2, "a key approves once");
        let json = serde_json::to_value(&file).unwrap();
        let read = ChangeFile::from_json(&json).unwrap();
        assert_eq!(read, file);
        roster.apply(&regulator.public_key(), &read.to_roster_change().unwrap()).unwrap();
        assert!(roster.member(&newcomer.public_key()).is_some());
    }

    /// A members file reads as TOML `[[member]]` tables or as a JSON list, and a member
    /// breaking a rule is refused naming its position.
    #[test]
    fn members_files_read_as_toml_or_json() {
        let scratch = tempfile::tempdir().unwrap();
        let key = Keypair::from_seed([6; 32]).public_key().to_hex();
        let toml = scratch.path().join("members.toml");
        std::fs::write(
            &toml,
            format!(
                "[[member]]\nkey = \"{key}\"\nname = \"Farm\"\ngln = \"4012345000009\"\nroles = [\"producer\"]\nprefixes = [\"4012345\"]\n"
            ),
        )
        .unwrap();
        let json = scratch.path().join("members.json");
        std::fs::write(
            &json,
            format!(
                r#"[{{"key": "{key}", "name": "Farm", "gln": "4012345000009", "roles": ["producer"], "prefixes": ["4012345"]}}]"#
            ),
        )
        .unwrap();
        assert_eq!(read_members(&toml).unwrap(), read_members(&json).unwrap());
        let bad = scratch.path().join("bad.json");
        std::fs::write(
            &bad,
            format!(r#"[{{"key": "{key}", "name": "Farm", "gln": "4012345000008", "roles": ["producer"]}}]"#),
        )
        .unwrap();
        let error = format!("{:#}", read_members(&bad).unwrap_err());
        assert!(error.contains("member 0") && error.contains("invalid gln"), "{error}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert!(dechunk(b"9\r\nabc").is_none());
    }
}
