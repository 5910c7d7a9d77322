//! Fuzz target `sync_messages`: the node's sync protocol framing
//! (`lotline_node::network::protocol`): `Request`, `Response` and `Announcement` decoding, the
//! request-response codec reading length-prefixed frames off a stream, and the first ledger
//! step a node takes with what a message carries (entry decoding, checkpoint verification,
//! fork proof reading).
//!
//! Owns the properties of the framing: a message that decodes encodes back to the same bytes
//! (except the two normalisations decoding makes: a range limit above the maximum is capped,
//! and a refusal reason that is not UTF-8 is read lossily), encoding then decoding is the
//! identity, and the codec's reader agrees with the plain decoders on the same frame. Does not
//! own what the ledger checks next (`entry_wire`, `checkpoint_note`).
//!
//! Built only with the `node` feature: it links the whole node crate.

#![no_main]

use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use libp2p::request_response::Codec as _;
use lotline_ledger::checkpoint::SignedCheckpoint;
use lotline_ledger::feed::DecodedEntry;
use lotline_ledger::fork::ForkProof;
use lotline_node::network::protocol::{
    self, Announcement, Codec, MAX_RANGE_ENTRIES, Request, Response, SYNC_PROTOCOL,
};

fuzz_target!(|bytes: &[u8]| {
    check_request(bytes);
    check_response(bytes);
    check_announcement(bytes);
    check_codec(bytes);
});

fn check_request(bytes: &[u8]) {
    let Ok(request) = Request::decode(bytes) else {
        return;
    };
    let encoded = request.encode();
    assert_eq!(Request::decode(&encoded).expect("an encoded request decodes"), request);
    let capped = matches!(&request, Request::Entries { limit, .. } if *limit == MAX_RANGE_ENTRIES);
    if !capped {
        assert_eq!(encoded, bytes, "a decoded request encodes to its own bytes");
    }
}

fn check_response(bytes: &[u8]) {
    let Ok(response) = Response::decode(bytes) else {
        return;
    };
    let encoded = response.encode();
    assert_eq!(Response::decode(&encoded).expect("an encoded response decodes"), response);
    let lossy =
        matches!(&response, Response::Refused(_)) && std::str::from_utf8(&bytes[5..]).is_err();
    if !lossy {
        assert_eq!(encoded, bytes, "a decoded response encodes to its own bytes");
    }
    match &response {
        Response::Heads(heads) => {
            for head in heads.iter().filter(|head| !head.checkpoint.is_empty()) {
                let _ = SignedCheckpoint::verify_self_certifying_feed(&head.checkpoint);
            }
        }
        Response::Entries(entries) => {
            for wire in entries {
                let _ = DecodedEntry::decode(wire.clone());
            }
        }
        Response::Refused(_) => {}
    }
}

fn check_announcement(bytes: &[u8]) {
    let Ok(announcement) = Announcement::decode(bytes) else {
        return;
    };
    let encoded = announcement.encode();
    assert_eq!(encoded, bytes, "a decoded announcement encodes to its own bytes");
    match &announcement {
        Announcement::Checkpoint(note) => {
            let _ = SignedCheckpoint::verify_self_certifying_feed(note);
        }
        Announcement::Fork(proof_bytes) => {
            if let Ok(proof) = serde_json::from_slice::<ForkProof>(proof_bytes) {
                let _ = proof.verify(&proof.author());
            }
        }
    }
}

/// The stream reader: a frame the peer cut short or announced too large is a rejection, never
/// an error that hides the peer; a whole frame decodes exactly as the plain decoders say.
fn check_codec(bytes: &[u8]) {
    let request = futures::executor::block_on(
        Codec.read_request(&SYNC_PROTOCOL, &mut Cursor::new(bytes.to_vec())),
    );
    match request {
        Ok(Ok(request)) => {
            let frame = whole_frame(bytes).expect("a request came from a whole frame");
            assert_eq!(Request::decode(frame), Ok(request));
        }
        Ok(Err(rejection)) => {
            if let Some(frame) = whole_frame(bytes)
                && frame.len() <= protocol::MAX_REQUEST_BYTES
            {
                assert_eq!(Request::decode(frame), Err(rejection));
            }
        }
        // Only a stream that ends before its first byte is an error rather than a rejection.
        Err(_) => assert!(bytes.is_empty(), "a peer's bytes became an error, not a rejection"),
    }

    let response = futures::executor::block_on(
        Codec.read_response(&SYNC_PROTOCOL, &mut Cursor::new(bytes.to_vec())),
    );
    if let Ok(response) = response {
        let frame = whole_frame(bytes).expect("a response came from a whole frame");
        assert_eq!(Response::decode(frame), Ok(response));
    } else if let Some(frame) = whole_frame(bytes) {
        // A whole frame within the limit is refused only when its message is malformed.
        if frame.len() <= protocol::MAX_RESPONSE_BYTES {
            assert!(Response::decode(frame).is_err());
        }
    }
}

/// The frame behind a u32 big-endian length prefix, when the bytes hold all of it.
fn whole_frame(bytes: &[u8]) -> Option<&[u8]> {
    let prefix: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let length = u32::from_be_bytes(prefix) as usize;
    bytes.get(4..4 + length)
}
