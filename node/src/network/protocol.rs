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

fn invalid(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.to_owned())
}

/// A cursor over received bytes that never reads past the end.
struct Reader<'bytes> {
    /// Bytes not yet consumed.
    rest: &'bytes [u8],
}

impl<'bytes> Reader<'bytes> {
    fn take(&mut self, count: usize) -> io::Result<&'bytes [u8]> {
        if self.rest.len() < count {
            return Err(invalid("message truncated"));
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> io::Result<u32> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> io::Result<u64> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_be_bytes(array))
    }

    fn author(&mut self) -> io::Result<AuthorBytes> {
        let bytes = self.take(32)?;
        let mut author = [0u8; 32];
        author.copy_from_slice(bytes);
        Ok(author)
    }

    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let length = self.u32()? as usize;
        Ok(self.take(length)?.to_vec())
    }

    fn finish(self) -> io::Result<()> {
        if self.rest.is_empty() { Ok(()) } else { Err(invalid("trailing bytes after message")) }
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

    /// Parses a framed request; any malformation is an error.
    pub fn decode(bytes: &[u8]) -> io::Result<Self> {
        let mut reader = Reader { rest: bytes };
        let request = match reader.u8()? {
            TAG_HEADS => Request::Heads,
            TAG_ENTRIES => {
                let author = reader.author()?;
                let from = reader.u64()?;
                let limit = reader.u32()?;
                Request::Entries { author, from, limit: limit.min(MAX_RANGE_ENTRIES) }
            }
            _ => return Err(invalid("unknown request tag")),
        };
        reader.finish()?;
        Ok(request)
    }
}

impl Response {
    /// Frames the response.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::new();
        match self {
            Response::Heads(heads) => {
                buffer.push(TAG_HEADS);
                buffer.extend_from_slice(&(heads.len() as u32).to_be_bytes());
                for head in heads {
                    buffer.extend_from_slice(&head.author);
                    buffer.extend_from_slice(&head.size.to_be_bytes());
                    put_bytes(&mut buffer, head.checkpoint.as_bytes());
                }
            }
            Response::Entries(entries) => {
                buffer.push(TAG_ENTRIES);
                buffer.extend_from_slice(&(entries.len() as u32).to_be_bytes());
                for entry in entries {
                    put_bytes(&mut buffer, entry);
                }
            }
            Response::Refused(reason) => {
                buffer.push(TAG_REFUSED);
                put_bytes(&mut buffer, reason.as_bytes());
            }
        }
        buffer
    }

    /// Parses a framed response; any malformation is an error.
    pub fn decode(bytes: &[u8]) -> io::Result<Self> {
        let mut reader = Reader { rest: bytes };
        let response = match reader.u8()? {
            TAG_HEADS => {
                let count = reader.u32()? as usize;
                if count > MAX_HEADS {
                    return Err(invalid("too many heads"));
                }
                let mut heads = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    let author = reader.author()?;
                    let size = reader.u64()?;
                    let checkpoint = String::from_utf8(reader.bytes()?)
                        .map_err(|_| invalid("checkpoint is not UTF-8"))?;
                    heads.push(Head { author, size, checkpoint });
                }
                Response::Heads(heads)
            }
            TAG_ENTRIES => {
                let count = reader.u32()?;
                if count > MAX_RANGE_ENTRIES {
                    return Err(invalid("too many entries in one response"));
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
            _ => return Err(invalid("unknown response tag")),
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

    /// Parses a gossiped announcement; any malformation is an error.
    pub fn decode(bytes: &[u8]) -> io::Result<Self> {
        if bytes.len() > MAX_ANNOUNCEMENT_BYTES {
            return Err(invalid("announcement too large"));
        }
        let mut reader = Reader { rest: bytes };
        let announcement = match reader.u8()? {
            TAG_CHECKPOINT => {
                let text = String::from_utf8(reader.bytes()?)
                    .map_err(|_| invalid("checkpoint is not UTF-8"))?;
                Announcement::Checkpoint(text)
            }
            TAG_FORK => Announcement::Fork(reader.bytes()?),
            _ => return Err(invalid("unknown announcement tag")),
        };
        reader.finish()?;
        Ok(announcement)
    }
}

/// The request-response codec: a u32 length prefix, then the framed message, with limits.
#[derive(Debug, Clone, Default)]
pub struct Codec;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut length_bytes = [0u8; 4];
    io.read_exact(&mut length_bytes).await?;
    let length = u32::from_be_bytes(length_bytes) as usize;
    if length > limit {
        return Err(invalid("frame exceeds the size limit"));
    }
    let mut frame = vec![0u8; length];
    io.read_exact(&mut frame).await?;
    Ok(frame)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, frame: &[u8]) -> io::Result<()> {
    io.write_all(&(frame.len() as u32).to_be_bytes()).await?;
    io.write_all(frame).await?;
    io.close().await
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Request> {
        Request::decode(&read_frame(io, MAX_REQUEST_BYTES).await?)
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Response> {
        Response::decode(&read_frame(io, MAX_RESPONSE_BYTES).await?)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()> {
        write_frame(io, &request.encode()).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        response: Response,
    ) -> io::Result<()> {
        write_frame(io, &response.encode()).await
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
}
