//! The wire messages of the sync protocol and of gossip announcements, and their framing.
//!
//! Owns: the request/response and announcement types exchanged between nodes and a small,
//! explicit binary framing for them (tag byte, big-endian lengths) with hard size limits, so a
//! hostile peer's bytes become an error value, never a panic or an unbounded allocation.
//! Does not own: signed bytes. Entries and checkpoints travel as the exact bytes/text their
//! author signed and are verified by the ledger, never re-encoded here.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// Protocol name of the anti-entropy request-response protocol.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/lotline/sync/1");
/// Protocol name of the private Kademlia DHT (never the public IPFS one).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/lotline/kad/1");
/// Largest request a peer may send us.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Largest response we accept: one chunk of entries.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Most entries one range request may ask for (one Merkle tile's worth).
pub const MAX_RANGE_ENTRIES: u32 = 256;
/// Largest gossip announcement (checkpoints and fork proofs are small).
pub const MAX_ANNOUNCEMENT_BYTES: usize = 16 * 1024;
/// Most feed heads in one answer.
const MAX_HEADS: usize = 100_000;

/// The public key of a feed's author, as raw bytes on the wire.
pub type AuthorBytes = [u8; 32];

/// One feed's size as a peer knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The feed's author.
    pub author: AuthorBytes,
    /// Number of entries the peer holds.
    pub size: u64,
    /// The peer's latest signed checkpoint of that feed (C2SP note text, cosignatures
    /// included), empty when it has none; lets a node learn cosignatures while syncing.
    pub checkpoint: String,
}

/// What one node asks another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// "Which feeds do you hold, and how long are they?"
    Heads,
    /// "Send me entries `from..from+limit` of this feed."
    Entries {
        /// Whose feed.
        author: AuthorBytes,
        /// First sequence number wanted.
        from: u64,
        /// How many at most (capped at [`MAX_RANGE_ENTRIES`]).
        limit: u32,
    },
}

/// What a node answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Answer to [`Request::Heads`].
    Heads(Vec<Head>),
    /// Answer to [`Request::Entries`]: exact signed wire bytes, in sequence order.
    Entries(Vec<Vec<u8>>),
    /// The request was understood but cannot be served (reason for logs).
    Refused(String),
}

/// A small message gossiped on the consortium topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// A feed's new signed checkpoint (C2SP note text), possibly with cosignatures.
    Checkpoint(String),
    /// A serialised fork proof: two conflicting signed statements of one author.
    Fork(Vec<u8>),
}

const TAG_HEADS: u8 = 1;
const TAG_ENTRIES: u8 = 2;
const TAG_REFUSED: u8 = 3;
const TAG_CHECKPOINT: u8 = 4;
const TAG_FORK: u8 = 5;

/// Why a peer's bytes were refused. Each is a protocol violation an honest peer never commits
/// (decoding is deterministic, and a request travels in one write), so the swarm task counts it
/// and penalises the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The first byte names no message of this protocol.
    #[error("unknown message tag {tag}")]
    UnknownTag {
        /// The tag received.
        tag: u8,
    },
    /// The bytes end before the message (or the frame its length prefix announced) does.
    #[error("message truncated")]
    Truncated,
    /// Bytes follow a complete message.
    #[error("trailing bytes after message")]
    TrailingBytes,
    /// A frame or announcement larger than the protocol allows; it is refused before it is
    /// read, so a lying length prefix never allocates.
    #[error("message of {length} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// The length announced or received.
        length: usize,
        /// The limit for this kind of message.
        limit: usize,
    },
    /// A count of items above the protocol's bound.
    #[error("{count} items exceed the limit of {limit}")]
    TooManyItems {
        /// The count announced.
        count: usize,
        /// The bound.
        limit: usize,
    },
    /// A text field is not UTF-8.
    #[error("{field} is not UTF-8")]
    NotUtf8 {
        /// Which field.
        field: &'static str,
    },
}

impl Rejection {
    /// The broad class of the violation, for metrics: `malformed`, `truncated` or `oversized`.
    pub fn class(&self) -> &'static str {
        match self {
            Rejection::Truncated => "truncated",
            Rejection::Oversized { .. } | Rejection::TooManyItems { .. } => "oversized",
            Rejection::UnknownTag { .. } | Rejection::TrailingBytes | Rejection::NotUtf8 { .. } => {
                "malformed"
            }
        }
    }

    /// The rejection carried in an [`io::Error`] by the codec, if that is what `error` is.
    pub fn of_io_error(error: &io::Error) -> Option<&Rejection> {
        error.get_ref()?.downcast_ref::<Rejection>()
    }
}

impl From<Rejection> for io::Error {
    /// A truncated message reads like a stream cut short (`UnexpectedEof`: a response can be
    /// cut by a closing connection); every other rejection is `InvalidData`.
    fn from(rejection: Rejection) -> Self {
        let kind = match rejection {
            Rejection::Truncated => io::ErrorKind::UnexpectedEof,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, rejection)
    }
}

/// A request as read off an inbound stream: decoded, or why the peer's bytes were refused.
/// libp2p drops a codec's read errors without saying which peer sent them, so a refusal travels
/// up as a value and the swarm task can count it and penalise the peer.
pub type ReceivedRequest = Result<Request, Rejection>;

/// A cursor over received bytes that never reads past the end.
struct Reader<'bytes> {
    /// Bytes not yet consumed.
    rest: &'bytes [u8],
}

impl<'bytes> Reader<'bytes> {
    fn take(&mut self, count: usize) -> Result<&'bytes [u8], Rejection> {
        if self.rest.len() < count {
            return Err(Rejection::Truncated);
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn u8(&mut self) -> Result<u8, Rejection> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Rejection> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, Rejection> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_be_bytes(array))
    }

    fn author(&mut self) -> Result<AuthorBytes, Rejection> {
        let bytes = self.take(32)?;
        let mut author = [0u8; 32];
        author.copy_from_slice(bytes);
        Ok(author)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, Rejection> {
        let length = self.u32()? as usize;
        Ok(self.take(length)?.to_vec())
    }

    fn text(&mut self, field: &'static str) -> Result<String, Rejection> {
        String::from_utf8(self.bytes()?).map_err(|_| Rejection::NotUtf8 { field })
    }

    fn finish(self) -> Result<(), Rejection> {
        if self.rest.is_empty() { Ok(()) } else { Err(Rejection::TrailingBytes) }
    }
}

fn put_bytes(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

impl Request {
    /// Frames the request.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::new();
        match self {
            Request::Heads => buffer.push(TAG_HEADS),
            Request::Entries { author, from, limit } => {
                buffer.push(TAG_ENTRIES);
                buffer.extend_from_slice(author);
                buffer.extend_from_slice(&from.to_be_bytes());
                buffer.extend_from_slice(&limit.to_be_bytes());
            }
        }
        buffer
    }

    /// Parses a framed request; any malformation is a [`Rejection`].
    pub fn decode(bytes: &[u8]) -> Result<Self, Rejection> {
        let mut reader = Reader { rest: bytes };
        let request = match reader.u8()? {
            TAG_HEADS => Request::Heads,
            TAG_ENTRIES => {
                let author = reader.author()?;
                let from = reader.u64()?;
                let limit = reader.u32()?;
                Request::Entries { author, from, limit: limit.min(MAX_RANGE_ENTRIES) }
            }
            tag => return Err(Rejection::UnknownTag { tag }),
        };
        reader.finish()?;
        Ok(request)
    }
}

impl Response {
    /// Frames the response.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut buffer);
        buffer
    }

    /// The framed response behind its u32 length prefix, written in one buffer sized up front:
    /// a range answer is a few hundred kilobytes, and growing it or copying it again behind
    /// its prefix cost the serving node more than its disk reads.
    fn encode_with_length_prefix(&self) -> Vec<u8> {
        let length = self.encoded_len();
        let mut buffer = Vec::with_capacity(4 + length);
        buffer.extend_from_slice(&(length as u32).to_be_bytes());
        self.encode_into(&mut buffer);
        buffer
    }

    /// The exact length of [`Self::encode`]'s output.
    fn encoded_len(&self) -> usize {
        match self {
            Response::Heads(heads) => {
                5 + heads.iter().map(|head| 32 + 8 + 4 + head.checkpoint.len()).sum::<usize>()
            }
            Response::Entries(entries) => {
                5 + entries.iter().map(|entry| 4 + entry.len()).sum::<usize>()
            }
            Response::Refused(reason) => 1 + 4 + reason.len(),
        }
    }

    fn encode_into(&self, buffer: &mut Vec<u8>) {
        match self {
            Response::Heads(heads) => {
                buffer.push(TAG_HEADS);
                buffer.extend_from_slice(&(heads.len() as u32).to_be_bytes());
                for head in heads {
                    buffer.extend_from_slice(&head.author);
                    buffer.extend_from_slice(&head.size.to_be_bytes());
                    put_bytes(buffer, head.checkpoint.as_bytes());
                }
            }
            Response::Entries(entries) => {
                buffer.push(TAG_ENTRIES);
                buffer.extend_from_slice(&(entries.len() as u32).to_be_bytes());
                for entry in entries {
                    put_bytes(buffer, entry);
                }
            }
            Response::Refused(reason) => {
                buffer.push(TAG_REFUSED);
                put_bytes(buffer, reason.as_bytes());
            }
        }
    }

    /// Parses a framed response; any malformation is a [`Rejection`].
    pub fn decode(bytes: &[u8]) -> Result<Self, Rejection> {
        let mut reader = Reader { rest: bytes };
        let response = match reader.u8()? {
            TAG_HEADS => {
                let count = reader.u32()? as usize;
                if count > MAX_HEADS {
                    return Err(Rejection::TooManyItems { count, limit: MAX_HEADS });
                }
                let mut heads = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    let author = reader.author()?;
                    let size = reader.u64()?;
                    let checkpoint = reader.text("checkpoint")?;
                    heads.push(Head { author, size, checkpoint });
                }
                Response::Heads(heads)
            }
            TAG_ENTRIES => {
                let count = reader.u32()?;
                if count > MAX_RANGE_ENTRIES {
                    return Err(Rejection::TooManyItems {
                        count: count as usize,
                        limit: MAX_RANGE_ENTRIES as usize,
                    });
                }
                let mut entries = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    entries.push(reader.bytes()?);
                }
                Response::Entries(entries)
            }
            TAG_REFUSED => {
                let reason = reader.bytes()?;
                Response::Refused(String::from_utf8_lossy(&reason).into_owned())
            }
            tag => return Err(Rejection::UnknownTag { tag }),
        };
        reader.finish()?;
        Ok(response)
    }
}

impl Announcement {
    /// Frames the announcement for gossip.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::new();
        match self {
            Announcement::Checkpoint(note) => {
                buffer.push(TAG_CHECKPOINT);
                put_bytes(&mut buffer, note.as_bytes());
            }
            Announcement::Fork(proof) => {
                buffer.push(TAG_FORK);
                put_bytes(&mut buffer, proof);
            }
        }
        buffer
    }

    /// Parses a gossiped announcement; any malformation is a [`Rejection`].
    pub fn decode(bytes: &[u8]) -> Result<Self, Rejection> {
        if bytes.len() > MAX_ANNOUNCEMENT_BYTES {
            return Err(Rejection::Oversized {
                length: bytes.len(),
                limit: MAX_ANNOUNCEMENT_BYTES,
            });
        }
        let mut reader = Reader { rest: bytes };
        let announcement = match reader.u8()? {
            TAG_CHECKPOINT => Announcement::Checkpoint(reader.text("checkpoint")?),
            TAG_FORK => Announcement::Fork(reader.bytes()?),
            tag => return Err(Rejection::UnknownTag { tag }),
        };
        reader.finish()?;
        Ok(announcement)
    }
}

/// The request-response codec: a u32 length prefix, then the framed message, with limits.
#[derive(Debug, Clone, Default)]
pub struct Codec;

/// Reads one length-prefixed frame of at most `limit` bytes. A transport failure, or a stream
/// that ends before its first byte (a stream reset by a closing connection looks like that), is
/// an `io::Error`; a frame the peer cut short or announced too large is a [`Rejection`], and the
/// announced length is checked before anything is allocated for it.
async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
) -> io::Result<Result<Vec<u8>, Rejection>> {
    let mut length_bytes = [0u8; 4];
    let mut filled = 0;
    while filled < length_bytes.len() {
        let read = io.read(&mut length_bytes[filled..]).await?;
        if read == 0 {
            if filled == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            return Ok(Err(Rejection::Truncated));
        }
        filled += read;
    }
    let length = u32::from_be_bytes(length_bytes) as usize;
    if length > limit {
        return Ok(Err(Rejection::Oversized { length, limit }));
    }
    let mut frame = vec![0u8; length];
    match io.read_exact(&mut frame).await {
        Ok(()) => Ok(Ok(frame)),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(Err(Rejection::Truncated)),
        Err(error) => Err(error),
    }
}

/// Writes the length prefix and the frame in one write, so a small message reaches the peer in
/// one piece: a request then arrives whole or not at all, and only a hostile peer truncates one.
async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, frame: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(4 + frame.len());
    framed.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    framed.extend_from_slice(frame);
    io.write_all(&framed).await?;
    io.close().await
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = ReceivedRequest;
    type Response = Response;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<ReceivedRequest> {
        Ok(read_frame(io, MAX_REQUEST_BYTES).await?.and_then(|frame| Request::decode(&frame)))
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Response> {
        let frame = read_frame(io, MAX_RESPONSE_BYTES).await??;
        Ok(Response::decode(&frame)?)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        request: ReceivedRequest,
    ) -> io::Result<()> {
        match request {
            Ok(request) => write_frame(io, &request.encode()).await,
            Err(rejection) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a rejection is not a request to send: {rejection}"),
            )),
        }
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        response: Response,
    ) -> io::Result<()> {
        io.write_all(&response.encode_with_length_prefix()).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let requests = [Request::Heads, Request::Entries { author: [9; 32], from: 7, limit: 200 }];
        for request in requests {
            assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        }
        let responses = [
            Response::Heads(vec![Head {
                author: [1; 32],
                size: 3,
                checkpoint: "o\n3\nr\n".into(),
            }]),
            Response::Entries(vec![vec![1, 2, 3], vec![]]),
            Response::Refused("no".into()),
        ];
        for response in responses {
            assert_eq!(Response::decode(&response.encode()).unwrap(), response);
            assert_eq!(response.encode().len(), response.encoded_len());
            let framed = response.encode_with_length_prefix();
            assert_eq!(framed[4..], response.encode()[..]);
            assert_eq!(framed[..4], (response.encode().len() as u32).to_be_bytes());
        }
        let announcement = Announcement::Checkpoint("origin\n1\nroot\n".into());
        assert_eq!(Announcement::decode(&announcement.encode()).unwrap(), announcement);
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        // Every truncation and a few corruptions of valid messages must decode to an error.
        let valid = Response::Entries(vec![vec![5; 40], vec![6; 3]]).encode();
        for cut in 0..valid.len() {
            assert!(Response::decode(&valid[..cut]).is_err(), "truncated at {cut}");
        }
        let mut lying_length = valid.clone();
        lying_length[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Response::decode(&lying_length).is_err());
        assert!(Request::decode(&[99]).is_err());
        assert!(Announcement::decode(&[TAG_CHECKPOINT, 0, 0, 0, 2, 0xff, 0xfe]).is_err());
        let mut too_many = vec![TAG_ENTRIES];
        too_many.extend_from_slice(&(MAX_RANGE_ENTRIES + 1).to_be_bytes());
        assert!(Response::decode(&too_many).is_err());
    }

    /// Runs the codec's request reader over `bytes` as if a peer had sent them on a stream.
    fn read_request_from(bytes: &[u8]) -> io::Result<ReceivedRequest> {
        use libp2p::request_response::Codec as _;
        let mut stream = futures::io::Cursor::new(bytes.to_vec());
        futures::executor::block_on(Codec.read_request(&SYNC_PROTOCOL, &mut stream))
    }

    #[test]
    fn the_codec_turns_a_peers_broken_framing_into_rejections() {
        let valid = Request::Entries { author: [3; 32], from: 1, limit: 2 };
        let mut framed = (valid.encode().len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&valid.encode());
        assert_eq!(read_request_from(&framed).unwrap(), Ok(valid));

        let garbage_tag = [0, 0, 0, 1, 99];
        assert_eq!(
            read_request_from(&garbage_tag).unwrap(),
            Err(Rejection::UnknownTag { tag: 99 })
        );
        let cut_short = [0, 0, 0, 100, TAG_HEADS, 0, 0];
        assert_eq!(read_request_from(&cut_short).unwrap(), Err(Rejection::Truncated));
        assert_eq!(read_request_from(&[0, 0]).unwrap(), Err(Rejection::Truncated));
        // A lying prefix is refused before the frame is read or allocated.
        let lying = ((MAX_REQUEST_BYTES + 1) as u32).to_be_bytes();
        assert_eq!(
            read_request_from(&lying).unwrap(),
            Err(Rejection::Oversized { length: MAX_REQUEST_BYTES + 1, limit: MAX_REQUEST_BYTES })
        );
        // A stream that ends before its first byte is a transport event, not a violation.
        let empty = read_request_from(&[]).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::UnexpectedEof);
        assert!(Rejection::of_io_error(&empty).is_none());
    }

    #[test]
    fn a_rejection_survives_the_trip_through_io_error() {
        let error = io::Error::from(Rejection::UnknownTag { tag: 7 });
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(Rejection::of_io_error(&error), Some(&Rejection::UnknownTag { tag: 7 }));
        assert_eq!(io::Error::from(Rejection::Truncated).kind(), io::ErrorKind::UnexpectedEof);
        let classes: Vec<&str> = [
            Rejection::UnknownTag { tag: 0 },
            Rejection::Truncated,
            Rejection::Oversized { length: 2, limit: 1 },
        ]
        .iter()
        .map(Rejection::class)
        .collect();
        assert_eq!(classes, ["malformed", "truncated", "oversized"]);
    }
}
