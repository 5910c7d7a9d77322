//! Golden vectors: the exact wire bytes and entry hashes of fixed entries. They freeze the
//! format specified in docs/wire-format.md; if one fails, the format changed (bump the version
//! byte instead of editing a vector).

use lotline_ledger::codec;
use lotline_ledger::entry::EntryHash;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::Keypair;
use std::collections::BTreeSet;

use lotline_ledger::masterdata::{Attribute, Statement, VocabularyType};
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload, RecallClass, RecallNotice};
use lotline_ledger::roster::{Genesis, Member, Role};

const RECORD_TIME_MS: i64 = 1_767_225_600_000;

fn epcis_vector() -> VerifiedEntry {
    let payload = Payload::Epcis(EpcisCapture {
        event_id: "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0".to_owned(),
        format: EventFormat::JsonLd,
        original: br#"{"type":"ObjectEvent","action":"OBSERVE"}"#.to_vec(),
    });
    VerifiedEntry::sign(
        &Keypair::from_seed([2; 32]),
        0,
        EntryHash::ZERO,
        RECORD_TIME_MS,
        &payload,
        &[0x5a; 32],
    )
    .unwrap()
}

fn recall_vector() -> VerifiedEntry {
    let payload = Payload::RecallNotice(RecallNotice {
        recall_id: "R-1".to_owned(),
        class: RecallClass::ClassTwo,
        lots: vec!["urn:epc:class:lgtin:4012345.012345.998877".to_owned()],
        hazard: "undeclared peanut".to_owned(),
        instructions: "return".to_owned(),
        scope: None,
    });
    VerifiedEntry::sign(
        &Keypair::from_seed([3; 32]),
        1,
        EntryHash::from_bytes([0x11; 32]),
        RECORD_TIME_MS,
        &payload,
        &[0xa5; 32],
    )
    .unwrap()
}

const EPCIS_WIRE: &str = concat!(
    "018139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3940000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000a8da769b0100000017cffe7ea3c1",
    "bccad5483589277d3e43a7d692a4289a3a6751a516ca61f222253550d190a3d30b1d3ae6e5efe8b085f88bfa",
    "dc1186aa66e3d857f8ffb92aa392cc63f7463bbcc88ebc61e14ba98e43296167392271d6e05071ad81fcc904",
    "990703000000000000000037362a34a6f804081a1ab5bfea41dcf0610000000000000059000000000000006e",
    "693a2f2f2f7368612d3235363b64663762623363333532666566303535353738353534663039663565326161",
    "3431373832313530636564376264306238616632346464336363623330626136393f7665723d434256322e30",
    "006e346d1a1da0714178e93044e36f441701000000000000000000a8e6bd018e0e93703332a89a12a9e1fc31",
    "0000000000000029000000000000007b2274797065223a224f626a6563744576656e74222c22616374696f6e",
    "223a224f425345525645227d",
);
const EPCIS_ENTRY_HASH: &str = "42ead07ad7968823a9dec79e37bea53c13f8392cb67f969f6d17799b0d2f1265";
const EPCIS_REDACTED_WIRE: &str = concat!(
    "018139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3940000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000a8da769b0100000017cffe7ea3c1",
    "bccad5483589277d3e43a7d692a4289a3a6751a516ca61f222253550d190a3d30b1d3ae6e5efe8b085f88bfa",
    "dc1186aa66e3d857f8ffb92aa392cc63f7463bbcc88ebc61e14ba98e43296167392271d6e05071ad81fcc904",
    "990703000000000000000037362a34a6f804081a1ab5bfea41dcf0610000000000000059000000000000006e",
    "693a2f2f2f7368612d3235363b64663762623363333532666566303535353738353534663039663565326161",
    "3431373832313530636564376264306238616632346464336363623330626136393f7665723d434256322e30",
    "006e346d1a1da0714178e93044e36f4417010000000000000000013f6088e29e94db7528424eac039b87929e",
    "aef6167df67255a199f8d27ba7981e",
);
const RECALL_WIRE: &str = concat!(
    "01ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d10100000000000000111111",
    "111111111111111111111111111111111111111111111111111111111100a8da769b01000001ec31515a9c7a",
    "48e0b79787f2e51a08832a7e3ebc34555487dfe6c9d33372e5ef678a07af0fa804e4e8323c4ac585d7fab06e",
    "91cb2ad3921f7bcd8b8de488c5a41f4b9f282308a91f963e076d231806dc467278bb2beeda1789f1bb35fcfc",
    "b30405000000000000000067528993ccf20da3c03866a267b9e9330b00000000000000030000000000000052",
    "2d3100e7f7ea637a98cee937e8031bbca650cf0100000000000000020037e09262fbbabad70b2e73ef7c98df",
    "df39000000000000000100000000000000290000000000000075726e3a6570633a636c6173733a6c6774696e",
    "3a343031323334352e3031323334352e39393838373700b3f018cd02a85e66da1bf49cc5f5abc41900000000",
    "0000001100000000000000756e6465636c61726564207065616e7574009b665dc1cab0eaf23b6d2938a79096",
    "610e00000000000000060000000000000072657475726e",
);
const RECALL_ENTRY_HASH: &str = "81f093f159324292a6286264169a4dd9b6ead72729abd4d8f5036e82ebca406c";

#[test]
fn signing_reproduces_the_golden_bytes() {
    let epcis = epcis_vector();
    assert_eq!(hex::encode(epcis.wire_bytes()), EPCIS_WIRE);
    assert_eq!(epcis.entry_hash().to_hex(), EPCIS_ENTRY_HASH);
    assert_eq!(hex::encode(epcis.redact(&[2]).unwrap().wire_bytes()), EPCIS_REDACTED_WIRE);
    let recall = recall_vector();
    assert_eq!(hex::encode(recall.wire_bytes()), RECALL_WIRE);
    assert_eq!(recall.entry_hash().to_hex(), RECALL_ENTRY_HASH);
}

#[test]
fn golden_bytes_decode_and_verify() {
    for (wire, entry_hash) in [
        (EPCIS_WIRE, EPCIS_ENTRY_HASH),
        (EPCIS_REDACTED_WIRE, EPCIS_ENTRY_HASH),
        (RECALL_WIRE, RECALL_ENTRY_HASH),
    ] {
        let bytes = hex::decode(wire).unwrap();
        let entry = VerifiedEntry::decode_and_verify(&bytes).unwrap();
        assert_eq!(entry.entry_hash().to_hex(), entry_hash);
        assert_eq!(entry.wire_bytes(), bytes.as_slice());
    }
}

#[test]
fn golden_header_fields_sit_at_their_documented_offsets() {
    let bytes = hex::decode(RECALL_WIRE).unwrap();
    assert_eq!(bytes[0], codec::ENTRY_VERSION);
    assert_eq!(&bytes[1..33], Keypair::from_seed([3; 32]).public_key().as_bytes());
    assert_eq!(&bytes[33..41], &1u64.to_le_bytes());
    assert_eq!(&bytes[41..73], &[0x11; 32]);
    assert_eq!(&bytes[73..81], &RECORD_TIME_MS.to_le_bytes());
    assert_eq!(bytes[81], 1, "recall notice kind code");
    assert_eq!(
        &bytes[codec::ENVELOPE_LEN..codec::ENVELOPE_LEN + 8],
        &5u64.to_le_bytes(),
        "five fields"
    );
    // The entry hash is SHA-256 over the domain tag and the 178-byte envelope.
    assert_eq!(hex::encode(codec::entry_hash(&bytes[..codec::ENVELOPE_LEN])), RECALL_ENTRY_HASH);
    let mut tagged = b"lotline/entry-hash\0".to_vec();
    tagged.extend_from_slice(&bytes[..178]);
    assert_eq!(hex::encode(codec::digest(&tagged)), RECALL_ENTRY_HASH);
}

fn master_data_vector() -> VerifiedEntry {
    let payload = Payload::MasterData(Statement {
        vocabulary_type: VocabularyType::BusinessLocation,
        id: "https://id.gs1.org/414/4012345000115".to_owned(),
        attributes: vec![
            Attribute { id: "urn:epcglobal:cbv:mda#city".to_owned(), value: "Salinas".to_owned() },
            Attribute {
                id: "urn:epcglobal:cbv:mda#name".to_owned(),
                value: "Green Valley Farms".to_owned(),
            },
        ],
        children: vec!["https://id.gs1.org/414/4012345000115/254/7".to_owned()],
    });
    VerifiedEntry::sign(
        &Keypair::from_seed([4; 32]),
        0,
        EntryHash::ZERO,
        RECORD_TIME_MS,
        &payload,
        &[0xc3; 32],
    )
    .unwrap()
}

fn granting_genesis(prefixes: &[&str]) -> Genesis {
    Genesis {
        network: "lotline-golden".to_owned(),
        governance_keys: vec![Keypair::from_seed([0x10; 32]).public_key()],
        threshold: 1,
        members: vec![Member {
            key: Keypair::from_seed([0x11; 32]).public_key(),
            name: "Farm".to_owned(),
            gln: "4012345000009".to_owned(),
            roles: BTreeSet::from([Role::Producer]),
            prefixes: prefixes.iter().map(|prefix| (*prefix).to_owned()).collect(),
        }],
        signatures: Vec::new(),
    }
}

const MASTER_DATA_WIRE: &str = concat!(
    "01ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c0000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000a8da769b01000008ad8fdf6592ce",
    "798b4ce2fc4d6478df6c8c36627d31b4e84710f409b27e5c10f97d1674cadaa52554205152ed8798db63fe6b",
    "4e583144d27ff7b473c06c26c2e88aba6b8f43309907e7d8406a974151536f9ab0418782c1edabd666b0cb87",
    "8003040000000000000000e4a1d76ed45f3271f08efad8a561d878010000000000000001005c00a10121d051",
    "5fb19693475ba73d9f2c00000000000000240000000000000068747470733a2f2f69642e6773312e6f72672f",
    "3431342f343031323334353030303131350081ff2c81ac9e09c38a80b111e6d688cf75000000000000000200",
    "0000000000001a0000000000000075726e3a657063676c6f62616c3a6362763a6d6461236369747907000000",
    "0000000053616c696e61731a0000000000000075726e3a657063676c6f62616c3a6362763a6d6461236e616d",
    "651200000000000000477265656e2056616c6c6579204661726d7300784c1036ee31627212f79185522d8c02",
    "3a0000000000000001000000000000002a0000000000000068747470733a2f2f69642e6773312e6f72672f34",
    "31342f343031323334353030303131352f3235342f37",
);
const MASTER_DATA_ENTRY_HASH: &str =
    "5dddceb87ec7203854d78b47836d36c939cb66464321fb2d9ecc5efa37ecf97e";
/// Genesis signing bytes of a member granted the company prefix `4012345`.
const GRANTING_GENESIS_BYTES: &str = concat!(
    "6c6f746c696e652f67656e65736973000e000000000000006c6f746c696e652d676f6c64656e010000000000",
    "00005c9c6df261c9cb840475776aaefcd944b405328fab28f9b3a95ef40490d3de8401000000010000000000",
    "0000d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c977873704000000000000004661",
    "726d0d00000000000000343031323334353030303030390100000000000000000100000000000000d04ab232",
    "742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c977873701000000000000000700000000000000",
    "34303132333435",
);
/// The same genesis without the grant: the layout signed before prefixes existed.
const PLAIN_GENESIS_BYTES: &str = concat!(
    "6c6f746c696e652f67656e65736973000e000000000000006c6f746c696e652d676f6c64656e010000000000",
    "00005c9c6df261c9cb840475776aaefcd944b405328fab28f9b3a95ef40490d3de8401000000010000000000",
    "0000d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c977873704000000000000004661",
    "726d0d0000000000000034303132333435303030303039010000000000000000",
);

#[test]
fn master_data_reproduces_and_verifies_its_golden_bytes() {
    let entry = master_data_vector();
    assert_eq!(hex::encode(entry.wire_bytes()), MASTER_DATA_WIRE);
    assert_eq!(entry.entry_hash().to_hex(), MASTER_DATA_ENTRY_HASH);
    let bytes = hex::decode(MASTER_DATA_WIRE).unwrap();
    assert_eq!(bytes[81], 8, "master data kind code");
    assert_eq!(&bytes[codec::ENVELOPE_LEN..codec::ENVELOPE_LEN + 8], &4u64.to_le_bytes());
    let decoded = VerifiedEntry::decode_and_verify(&bytes).unwrap();
    assert_eq!(decoded.entry_hash().to_hex(), MASTER_DATA_ENTRY_HASH);
    assert_eq!(decoded.payload(), entry.payload());
}

/// Grants follow the member list only when there are some, so a genesis without them keeps
/// the bytes (and the signatures) it had.
#[test]
fn genesis_grants_extend_the_signed_bytes_only_when_present() {
    let granting = granting_genesis(&["4012345"]).signing_bytes().unwrap();
    assert_eq!(hex::encode(&granting), GRANTING_GENESIS_BYTES);
    let plain = granting_genesis(&[]).signing_bytes().unwrap();
    assert_eq!(hex::encode(&plain), PLAIN_GENESIS_BYTES);
    assert!(granting.starts_with(&plain));
}
