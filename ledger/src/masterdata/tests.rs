//! Unit tests of master data: reading both bindings into canonical statements, the errors that
//! name element and rule, the reading helpers, ownership, the payload form and the directory.

use std::collections::BTreeSet;

use super::*;
use crate::entry::{EntryHash, EntryRef, PayloadKind};
use crate::epcis::parse_document;
use crate::feed::{self, FeedState, VerifiedEntry};
use crate::identity::Keypair;
use crate::records::Payload;
use crate::roster::{Genesis, Member, Role};

/// A JSON-LD capture document whose header carries `vocabulary_list` (JSON text).
fn json_document(vocabulary_list: &str) -> String {
    format!(
        r#"{{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
               {{"example": "https://ns.example.com/mda/"}}],
  "type": "EPCISDocument",
  "schemaVersion": "2.0",
  "creationDate": "2026-01-01T00:00:00Z",
  "epcisHeader": {{"epcisMasterData": {{"vocabularyList": {vocabulary_list}}}}},
  "epcisBody": {{"eventList": []}}
}}"#
    )
}

const FARM_AND_LETTUCE: &str = r#"[
  {"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
   "vocabularyElementList": [
     {"id": "urn:epc:id:sgln:4012345.00011.0",
      "attributes": [
        {"id": "cbvmda:name", "attribute": "Green Valley Farms"},
        {"id": "urn:epcglobal:cbv:mda#streetAddressOne", "attribute": "1 Field Road"},
        {"id": "urn:epcglobal:cbv:mda#city", "attribute": "Salinas"},
        {"id": "urn:epcglobal:cbv:mda#state", "attribute": "CA"},
        {"id": "urn:epcglobal:cbv:mda#postalCode", "attribute": "93901"},
        {"id": "urn:epcglobal:cbv:mda#countryCode", "attribute": "US"},
        {"id": "urn:epcglobal:cbv:mda#latitude", "attribute": "+36.6777"},
        {"id": "urn:epcglobal:cbv:mda#longitude", "attribute": "-121.6555"}
      ],
      "children": ["urn:epc:id:sgln:4012345.00011.7"]}
   ]},
  {"type": "urn:epcglobal:epcis:vtype:EPCClass",
   "vocabularyElementList": [
     {"id": "urn:epc:idpat:sgtin:4012345.012345.*",
      "attributes": [
        {"id": "gs1:productName", "attribute": "Romaine lettuce, 1 kg bag"},
        {"id": "example:variety", "attribute": "Parris Island"}
      ]}
   ]}
]"#;

const FARM_AND_LETTUCE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-01-01T00:00:00Z">
  <EPCISHeader>
    <extension>
      <EPCISMasterData>
        <VocabularyList>
          <Vocabulary type="urn:epcglobal:epcis:vtype:BusinessLocation">
            <VocabularyElementList>
              <VocabularyElement id="urn:epc:id:sgln:4012345.00011.0">
                <attribute id="urn:epcglobal:cbv:mda#longitude">-121.6555</attribute>
                <attribute id="urn:epcglobal:cbv:mda#latitude">+36.6777</attribute>
                <attribute id="urn:epcglobal:cbv:mda#name">Green Valley Farms</attribute>
                <attribute id="urn:epcglobal:cbv:mda#streetAddressOne">1 Field Road</attribute>
                <attribute id="urn:epcglobal:cbv:mda#city">Salinas</attribute>
                <attribute id="urn:epcglobal:cbv:mda#state">CA</attribute>
                <attribute id="urn:epcglobal:cbv:mda#postalCode">93901</attribute>
                <attribute id="urn:epcglobal:cbv:mda#countryCode">US</attribute>
                <children><id>https://id.gs1.org/414/4012345000115/254/7</id></children>
              </VocabularyElement>
            </VocabularyElementList>
          </Vocabulary>
          <Vocabulary type="urn:epcglobal:epcis:vtype:EPCClass">
            <VocabularyElementList>
              <VocabularyElement id="https://example.com/01/04012345123456">
                <attribute id="https://ns.example.com/mda/variety">Parris Island</attribute>
                <attribute id="https://gs1.org/voc/productName">Romaine lettuce, 1 kg bag</attribute>
              </VocabularyElement>
            </VocabularyElementList>
          </Vocabulary>
        </VocabularyList>
      </EPCISMasterData>
    </extension>
  </EPCISHeader>
  <EPCISBody><EventList/></EPCISBody>
</epcis:EPCISDocument>"#;

fn statements(vocabulary_list: &str) -> Result<Vec<Statement>, Error> {
    let document = parse_document(json_document(vocabulary_list).as_bytes()).expect("parses");
    statements_of(&document)
}

#[test]
fn vocabulary_types_round_trip_through_uri_and_code() {
    for vocabulary_type in VocabularyType::ALL {
        assert_eq!(VocabularyType::from_uri(vocabulary_type.uri()), Some(vocabulary_type));
        assert_eq!(VocabularyType::from_code(vocabulary_type.code()), Some(vocabulary_type));
    }
    assert_eq!(
        VocabularyType::from_uri("urn:epcglobal:epcis:vtype:location"),
        Some(VocabularyType::Location)
    );
    assert_eq!(VocabularyType::from_uri("urn:epcglobal:epcis:vtype:BusinessStep"), None);
    assert_eq!(VocabularyType::from_uri("urn:example:vtype:EPCClass"), None);
    assert_eq!(VocabularyType::from_code(5), None);
}

#[test]
fn both_bindings_give_the_same_canonical_statements() {
    let from_json = statements(FARM_AND_LETTUCE).unwrap();
    let xml = parse_document(FARM_AND_LETTUCE_XML.as_bytes()).expect("xml parses");
    let from_xml = statements_of(&xml).unwrap();
    assert_eq!(from_json, from_xml);
    let farm = &from_json[0];
    assert_eq!(farm.vocabulary_type, VocabularyType::BusinessLocation);
    assert_eq!(farm.id, "https://id.gs1.org/414/4012345000115");
    assert_eq!(farm.children, vec!["https://id.gs1.org/414/4012345000115/254/7".to_owned()]);
    assert!(farm.attributes.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(farm.attribute(attribute::NAME), Some("Green Valley Farms"));
    assert_eq!(farm.name(), Some("Green Valley Farms"));
    assert_eq!(farm.place().as_deref(), Some("1 Field Road, Salinas CA 93901, US"));
    assert_eq!(farm.coordinates(), Some((36.6777, -121.6555)));
    let lettuce = &from_json[1];
    assert_eq!(lettuce.id, "https://id.gs1.org/01/04012345123456");
    assert_eq!(lettuce.name(), Some("Romaine lettuce, 1 kg bag"));
    assert_eq!(lettuce.attribute("https://ns.example.com/mda/variety"), Some("Parris Island"));
    assert_eq!(lettuce.place(), None);
    assert_eq!(lettuce.coordinates(), None);
    for statement in &from_json {
        statement.check_canonical().unwrap();
    }
}

#[test]
fn structured_values_are_compact_sorted_json_and_give_a_place() {
    let list = r#"[{"type": "urn:epcglobal:epcis:vtype:Location",
      "vocabularyElementList": [{"id": "https://id.gs1.org/414/4012345000016",
        "attributes": [
          {"id": "gs1:physicalLocationName", "attribute": "Retailer DC Sacramento"},
          {"id": "gs1:address", "attribute": {
             "gs1:streetAddress": "9 Depot Way", "gs1:postalCode": "95814",
             "gs1:addressLocality": "Sacramento", "gs1:addressRegion": "CA",
             "gs1:addressCountry": "US"}},
          {"id": "gs1:geo", "attribute": {"gs1:longitude": -121.49, "gs1:latitude": 38.58}}
        ]}]}]"#;
    let statement = statements(list).unwrap().remove(0);
    let address = statement.attribute(attribute::GS1_ADDRESS).unwrap();
    assert!(address.starts_with(r#"{"https://gs1.org/voc/addressCountry":"US","#), "{address}");
    assert_eq!(statement.name(), Some("Retailer DC Sacramento"));
    assert_eq!(statement.place().as_deref(), Some("9 Depot Way, Sacramento CA 95814, US"));
    assert_eq!(statement.coordinates(), Some((38.58, -121.49)));
}

#[test]
fn lots_and_epc_urns_take_the_trace_index_form() {
    let list = r#"[{"type": "urn:epcglobal:epcis:vtype:EPCClass",
      "vocabularyElementList": [
        {"id": "urn:epc:class:lgtin:4012345.012345.L1",
         "attributes": [{"id": "cbvmda:regulatedProductName", "attribute": "Romaine"}]}]}]"#;
    let statement = statements(list).unwrap().remove(0);
    assert_eq!(statement.id, crate::gs1::lot_link("04012345123456", "L1"));
    assert_eq!(statement.attributes[0].id, attribute::REGULATED_PRODUCT_NAME);
    assert_eq!(statement.name(), Some("Romaine"));
}

#[test]
fn bad_input_is_refused_naming_element_and_rule() {
    let cases = [
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessStep",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0"}]}]"#,
            vec!["urn:epc:id:sgln:4012345.00011.0", "BusinessStep", "is not one of"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0",
                   "attributes": [{"id": "nowhere:name", "attribute": "x"}]}]}]"#,
            vec!["urn:epc:id:sgln:4012345.00011.0", "nowhere:name", "not declared"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0",
                   "attributes": [{"id": "name", "attribute": "x"}]}]}]"#,
            vec!["urn:epc:id:sgln:4012345.00011.0", "\"name\"", "neither a full IRI nor a CURIE"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0",
                   "attributes": [{"id": "cbvmda:name", "attribute": "bell\u0007"}]}]}]"#,
            vec!["urn:epc:id:sgln:4012345.00011.0", "control character"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                 "vocabularyElementList": [{"id": "urn:uuid:2f2b3c62-3b8f-4b7e-9d39-0f5e8f7e1a11"}]}]"#,
            vec!["urn:uuid:2f2b3c62", "not a GS1 key"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                 "vocabularyElementList": [{"id": "https://id.gs1.org/414/4012345000116"}]}]"#,
            vec!["https://id.gs1.org/414/4012345000116", "check digit"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:EPCClass",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0"}]}]"#,
            vec!["urn:epc:id:sgln:4012345.00011.0", "EPCClass element must name"],
        ),
        (
            r#"[{"type": "urn:epcglobal:epcis:vtype:ReadPoint",
                 "vocabularyElementList": [{"id": "urn:epc:id:sgln:4012345.00011.0"},
                                           {"id": "https://id.gs1.org/414/4012345000115"}]}]"#,
            vec!["https://id.gs1.org/414/4012345000115", "more than once"],
        ),
    ];
    for (list, expected) in cases {
        let error = statements(list).unwrap_err().to_string();
        for part in expected {
            assert!(error.contains(part), "{error:?} should contain {part:?}");
        }
    }
}

fn governance() -> Keypair {
    Keypair::from_seed([90; 32])
}

fn grower() -> Keypair {
    Keypair::from_seed([91; 32])
}

fn neighbour() -> Keypair {
    Keypair::from_seed([92; 32])
}

fn roster() -> Roster {
    let member = |keypair: &Keypair, name: &str, gln: &str, prefixes: &[&str]| Member {
        key: keypair.public_key(),
        name: name.to_owned(),
        gln: gln.to_owned(),
        roles: BTreeSet::from([Role::Producer]),
        prefixes: prefixes.iter().map(|prefix| (*prefix).to_owned()).collect(),
    };
    let mut genesis = Genesis {
        network: "masterdata-test".to_owned(),
        governance_keys: vec![governance().public_key()],
        threshold: 1,
        members: vec![
            member(&grower(), "Green Valley Farms", "4012345000009", &["4012345"]),
            member(&neighbour(), "Neighbour", "0614141000005", &[]),
        ],
        signatures: Vec::new(),
    };
    genesis.sign(&governance()).unwrap();
    Roster::from_genesis(&genesis).unwrap()
}

#[test]
fn an_organisation_describes_only_its_gln_and_prefixes() {
    let roster = roster();
    let grower = grower().public_key();
    let neighbour = neighbour().public_key();
    for owned in [
        "https://id.gs1.org/414/4012345000115",
        "urn:epc:id:sgln:4012345.00011.0",
        "https://id.gs1.org/01/04012345123456",
        "https://id.gs1.org/01/14012345123453/10/L1",
        "urn:epc:class:lgtin:4012345.012345.L1",
        "https://id.gs1.org/00/140123450000000006",
        "https://id.gs1.org/417/4012345000009",
    ] {
        check_owner(&roster, &grower, owned).unwrap_or_else(|error| panic!("{owned}: {error}"));
    }
    // Its own GLN, even with no prefix granted.
    check_owner(&roster, &neighbour, "https://id.gs1.org/414/0614141000005/254/3").unwrap();
    let error =
        check_owner(&roster, &neighbour, "https://id.gs1.org/414/4012345000115").unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::NotOwner { .. }), "{message}");
    assert!(message.contains("https://id.gs1.org/414/4012345000115"), "{message}");
    assert!(message.contains("own GLN (0614141000005)"), "{message}");
    assert!(message.contains("(none)"), "{message}");
    // The indicator digit is not part of the company prefix.
    let error = check_owner(&roster, &grower, "https://id.gs1.org/01/40123450000005").unwrap_err();
    assert!(error.to_string().contains("(4012345)"), "{error}");
    let stranger = Keypair::from_seed([93; 32]).public_key();
    let error = check_owner(&roster, &stranger, "https://id.gs1.org/414/4012345000115");
    assert!(error.unwrap_err().to_string().contains("not a member"));
}

fn statement_about(id: &str, name: &str) -> Statement {
    Statement {
        vocabulary_type: VocabularyType::BusinessLocation,
        id: id.to_owned(),
        attributes: vec![Attribute { id: attribute::NAME.to_owned(), value: name.to_owned() }],
        children: Vec::new(),
    }
}

#[test]
fn statements_round_trip_as_payloads_and_only_canonical_ones_are_written() {
    let statement = statements(FARM_AND_LETTUCE).unwrap().remove(0);
    let payload = Payload::MasterData(statement.clone());
    assert_eq!(payload.kind(), PayloadKind::MasterData);
    let fields = payload.to_fields().unwrap();
    assert_eq!(fields.len(), 4);
    let borrowed: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    assert_eq!(Payload::from_fields(PayloadKind::MasterData, &borrowed).unwrap(), payload);
    let mut unsorted = statement.clone();
    unsorted.attributes.reverse();
    let error = Payload::MasterData(unsorted).to_fields().unwrap_err();
    assert!(error.to_string().contains("not sorted"), "{error}");
    let mut urn = statement;
    urn.id = "urn:epc:id:sgln:4012345.00011.0".to_owned();
    let error = Payload::MasterData(urn).to_fields().unwrap_err();
    assert!(error.to_string().contains("canonical Digital Link"), "{error}");
}

fn signed(keypair: &Keypair, statement: Statement) -> VerifiedEntry {
    VerifiedEntry::sign(
        keypair,
        0,
        EntryHash::ZERO,
        1_767_225_600_000,
        &Payload::MasterData(statement),
        &[7; 32],
    )
    .unwrap()
}

/// The rule holds for every appended entry, so a peer's entry that breaks it is refused like
/// a role violation, and a redacted copy is judged by the other rules.
#[test]
fn the_append_rules_refuse_a_statement_about_someone_elses_key() {
    let roster = roster();
    let farm = statement_about("https://id.gs1.org/414/4012345000115", "Green Valley Farms");
    feed::check_append(&FeedState::default(), &signed(&grower(), farm.clone()), &roster).unwrap();
    let renamed = signed(&neighbour(), statement_about(&farm.id, "Not Green Valley"));
    let error = feed::check_append(&FeedState::default(), &renamed, &roster).unwrap_err();
    assert!(matches!(error, feed::Error::MasterData(Error::NotOwner { .. })), "{error}");
    assert!(error.to_string().contains("4012345000115"), "{error}");
}

fn entry(author: &Keypair, sequence: u64) -> EntryRef {
    EntryRef {
        author: author.public_key(),
        sequence,
        entry_hash: EntryHash::from_bytes([sequence as u8 + author.public_key().as_bytes()[0]; 32]),
    }
}

#[test]
fn the_directory_keeps_history_and_supersedes_by_feed_order() {
    let farm = "https://id.gs1.org/414/4012345000115";
    let mut directory = Directory::new();
    directory.insert(entry(&grower(), 0), 1_000, statement_about(farm, "Green Valley"));
    directory.insert(entry(&grower(), 3), 2_000, statement_about(farm, "Green Valley Farms"));
    // A replay of an entry adds nothing.
    directory.insert(entry(&grower(), 3), 2_000, statement_about(farm, "Green Valley Farms"));
    assert_eq!(directory.len(), 2);
    let current = directory.current("urn:epc:id:sgln:4012345.00011.0").unwrap();
    assert_eq!(current.statement.name(), Some("Green Valley Farms"));
    assert_eq!(current.author(), grower().public_key());
    let history = directory.history(farm);
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].statement.name(), Some("Green Valley"));
    let latest =
        directory.latest_by(&grower().public_key(), VocabularyType::BusinessLocation, farm);
    assert_eq!(latest.unwrap().entry.sequence, 3);
    assert!(directory.latest_by(&grower().public_key(), VocabularyType::ReadPoint, farm).is_none());
    // Another organisation allowed to describe it: the latest record time is current.
    directory.insert(entry(&neighbour(), 0), 3_000, statement_about(farm, "Valley Co-op"));
    assert_eq!(directory.current(farm).unwrap().author(), neighbour().public_key());
    assert_eq!(directory.in_force(farm).len(), 2);
    assert_eq!(directory.iter().count(), 2);
    // Names fall back from a sub-location to its GLN and from a lot to its product.
    let dock = "https://id.gs1.org/414/4012345000115/254/7";
    assert_eq!(directory.name_of(dock).unwrap().statement.name(), Some("Valley Co-op"));
    let mut lettuce = statement_about("https://id.gs1.org/01/04012345123456", "Romaine");
    lettuce.vocabulary_type = VocabularyType::EpcClass;
    directory.insert(entry(&grower(), 4), 4_000, lettuce);
    let lot = "urn:epc:class:lgtin:4012345.012345.L1";
    assert_eq!(directory.name_of(lot).unwrap().statement.name(), Some("Romaine"));
    assert!(directory.current(lot).is_none());
    assert!(directory.name_of("https://id.gs1.org/414/0614141000005").is_none());
}

#[test]
fn a_name_is_the_first_named_statement_in_force_however_many_statements_there_are() {
    let farm = "https://id.gs1.org/414/4012345000115";
    let authors = [grower(), neighbour(), Keypair::from_seed([93; 32])];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let mut hash_counter = 0u32;
    for round in 0..400 {
        let mut directory = Directory::new();
        // Up to 24 statements: both sides of the pairwise limit, with repeated sequences,
        // equal record times and statements without a name that supersede named ones.
        for _ in 0..=next(24) {
            let author = &authors[next(3) as usize];
            let mut statement = statement_about(farm, "Farm");
            if next(2) == 0 {
                statement.vocabulary_type = VocabularyType::ReadPoint;
            }
            if next(5) < 2 {
                statement.attributes.clear();
            }
            hash_counter += 1;
            let mut hash = [0u8; 32];
            hash[..4].copy_from_slice(&hash_counter.to_le_bytes());
            let entry = EntryRef {
                author: author.public_key(),
                sequence: next(6),
                entry_hash: EntryHash::from_bytes(hash),
            };
            directory.insert(entry, 1_000 * next(3) as i64, statement);
        }
        let expected = directory
            .in_force(farm)
            .into_iter()
            .find(|described| described.statement.name().is_some())
            .map(|described| described.entry);
        let found = directory.name_of(farm).map(|described| described.entry);
        assert_eq!(found, expected, "round {round}");
    }
}
