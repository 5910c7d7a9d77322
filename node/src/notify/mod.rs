//! Notifications: what the node tells clients as it happens, over Server-Sent Events
//! (`GET /events/stream`, see [`stream`]) and optional webhooks ([`webhook`]).
//!
//! A notification is published when a recall notice, an excursion or an excursion
//! acknowledgement is appended to any feed this node holds (its own or a replicated one:
//! [`watch_appended`] follows the ledger's appended-entries channel), when a custody handoff
//! stays unconfirmed past the node's deadline ([`watch_overdue`]), and when another part of the
//! node calls [`Notifier::publish`]. Each carries a number, increasing by one per notification,
//! that is its event-stream `id`: a client that reconnects with `Last-Event-ID` is sent what it
//! missed from a bounded backlog, or an `event: reset` when what it missed is no longer held.
//!
//! Numbers start, at each start of the node, from its start time in milliseconds times 1,000,
//! so they keep increasing across restarts (a number from before a restart is older than the
//! backlog, and answered with a reset) and stay below 2^53 (exact as a JavaScript number).
//!
//! Owns: the notification JSON (`id`, `kind`, `published`, then the record's fields as
//! `GET /records` serves them: `author`, `sequence`, `entry_hash`, `record_time`, `lots`, ...),
//! the backlog, the cap on open streams, the webhook queues and their counters (exported at
//! `/metrics`). Does not own what a record says (`crate::http::records` writes its JSON) nor
//! when a handoff is overdue (`crate::state`'s custody rules decide).

pub mod stream;
pub mod webhook;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lotline_ledger::coldchain::custody::Handoff;
use lotline_ledger::entry::PayloadKind;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::records::Payload;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, broadcast, watch};

use crate::config::Notifications;
use crate::state::{Appended, Ledger, Record};

/// What a notification is about; its name is the event-stream `event:` field and the JSON's
/// `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A recall notice was appended.
    RecallNotice,
    /// An excursion record (a detected excursion, or a correction of one) was appended.
    Excursion,
    /// An excursion was acknowledged.
    ExcursionAcknowledgement,
    /// A custody handoff stayed unconfirmed past its deadline.
    HandoffOverdue,
}

impl Kind {
    /// The name clients see (`recall_notice`, `excursion`, `excursion_ack`,
    /// `handoff_overdue`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::RecallNotice => "recall_notice",
            Kind::Excursion => "excursion",
            Kind::ExcursionAcknowledgement => "excursion_ack",
            Kind::HandoffOverdue => "handoff_overdue",
        }
    }

    /// The notification an appended entry of `kind` gives, if any.
    pub fn of_payload(kind: PayloadKind) -> Option<Kind> {
        match kind {
            PayloadKind::RecallNotice => Some(Kind::RecallNotice),
            PayloadKind::Excursion => Some(Kind::Excursion),
            PayloadKind::ExcursionAcknowledgement => Some(Kind::ExcursionAcknowledgement),
            _ => None,
        }
    }
}

/// One published notification, shared by the backlog, the streams and the webhook queues.
#[derive(Debug)]
pub struct Notification {
    /// Its number (the event-stream `id`).
    pub id: u64,
    /// What it is about.
    pub kind: Kind,
    /// The JSON text sent (an event's `data`, a webhook's body).
    pub body: String,
    /// The node's signature of the webhook message of `body` (hex), when webhooks are set.
    pub signature: Option<String>,
}

/// What a client resuming after `Last-Event-ID` gets.
#[derive(Debug)]
pub enum Resume {
    /// The notifications after that id, oldest first (empty when it missed none).
    Replay(Vec<Arc<Notification>>),
    /// It missed notifications no longer held (or names an id this run never issued): it
    /// starts again from `latest`.
    Reset {
        /// The oldest notification still held (`latest + 1` when none is).
        oldest: u64,
        /// The latest notification issued (one less than the first number of this run when
        /// none was).
        latest: u64,
    },
}

/// Counters of the notifications, read at each scrape of `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Notifications published since start.
    pub published: u64,
    /// Event streams open now.
    pub streams_open: u64,
    /// Event streams refused because [`Notifications::max_streams`] were open.
    pub streams_refused: u64,
    /// Times the appended-entries listener fell behind and read back from the store.
    pub catch_ups: u64,
    /// Per configured webhook, in the config's order.
    pub webhooks: Vec<webhook::Stats>,
}

/// The backlog and the numbering, under one lock so numbers and order agree.
#[derive(Debug)]
struct Backlog {
    /// The most notifications kept.
    capacity: usize,
    /// The kept notifications, oldest first, numbers consecutive.
    held: VecDeque<Arc<Notification>>,
    /// The number the next notification gets.
    next_id: u64,
}

/// What every clone of a [`Notifier`] shares.
#[derive(Debug)]
struct Shared {
    /// Numbering and backlog.
    backlog: Mutex<Backlog>,
    /// The latest number issued; streams wait on it.
    latest: watch::Sender<u64>,
    /// One permit per open event stream.
    streams: Arc<Semaphore>,
    /// The cap behind `streams`.
    max_streams: usize,
    /// Interval of keep-alive comments on a stream.
    keep_alive: Duration,
    /// The webhooks, in the config's order.
    webhooks: Vec<webhook::Webhook>,
    /// Signs webhook bodies (this organisation's key).
    keypair: Keypair,
    /// Turns true when the node stops: streams end, deliveries stop.
    stopping: watch::Receiver<bool>,
    /// Notifications published.
    published: AtomicU64,
    /// Streams refused at the cap.
    streams_refused: AtomicU64,
    /// Catch-ups of the appended-entries listener.
    catch_ups: AtomicU64,
}

/// The node's notification hub; cheap to clone. [`Notifier::publish`] is the one way in.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// The state every clone shares.
    shared: Arc<Shared>,
}

/// A configuration the notifier cannot run with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A webhook URL is not an absolute `http` or `https` URL.
    #[error("notifications.webhooks[{index}]: {url:?} is not an http or https URL")]
    WebhookUrl {
        /// Its position in the list.
        index: usize,
        /// What was written.
        url: String,
    },
    /// The HTTP client for webhooks could not be built (no TLS roots, say).
    #[error("notifications.webhooks: {0}")]
    Client(String),
}

impl Notifier {
    /// A notifier with `settings`, signing webhook bodies with `keypair`, stopping when
    /// `stopping` turns true; spawns one delivery task per webhook (so it runs inside a tokio
    /// runtime).
    pub fn start(
        settings: &Notifications,
        keypair: Keypair,
        stopping: watch::Receiver<bool>,
    ) -> Result<Self, Error> {
        let first_id = first_id();
        let webhooks = webhook::start_all(settings, &keypair.public_key(), &stopping)?;
        let shared = Arc::new(Shared {
            backlog: Mutex::new(Backlog {
                capacity: settings.backlog.max(1),
                held: VecDeque::new(),
                next_id: first_id,
            }),
            latest: watch::channel(first_id - 1).0,
            streams: Arc::new(Semaphore::new(settings.max_streams)),
            max_streams: settings.max_streams,
            keep_alive: Duration::from_millis(settings.keep_alive_ms.max(1)),
            webhooks,
            keypair,
            stopping,
            published: AtomicU64::new(0),
            streams_refused: AtomicU64::new(0),
            catch_ups: AtomicU64::new(0),
        });
        Ok(Notifier { shared })
    }

    /// Publishes a notification: numbers it, keeps it in the backlog, wakes the event streams
    /// and queues it for every webhook. `fields` (a JSON object; anything else is kept under
    /// `value`) follows `id`, `kind` and `published` in the notification JSON; a field named
    /// like one of those three is overridden. Returns its number. Does not block on IO, so
    /// blocking and async code alike may call it.
    pub fn publish(&self, kind: Kind, fields: Value) -> u64 {
        let fields = match fields {
            Value::Object(fields) => fields,
            other => [("value".to_owned(), other)].into_iter().collect(),
        };
        let mut backlog = lock(&self.shared.backlog);
        let id = backlog.next_id;
        backlog.next_id += 1;
        let mut document = serde_json::Map::with_capacity(fields.len() + 3);
        document.insert("id".to_owned(), json!(id));
        document.insert("kind".to_owned(), json!(kind.name()));
        document
            .insert("published".to_owned(), json!(lotline_ledger::trace::format_time(now_ms())));
        for (name, value) in fields {
            if !matches!(name.as_str(), "id" | "kind" | "published") {
                document.insert(name, value);
            }
        }
        let body = Value::Object(document).to_string();
        let signature = (!self.shared.webhooks.is_empty())
            .then(|| hex::encode(self.shared.keypair.sign(&webhook::message(&body)).to_bytes()));
        let notification = Arc::new(Notification { id, kind, body, signature });
        if backlog.held.len() == backlog.capacity {
            backlog.held.pop_front();
        }
        backlog.held.push_back(Arc::clone(&notification));
        // Queued under the backlog's lock, so every webhook receives notifications in number
        // order whoever publishes them.
        for webhook in &self.shared.webhooks {
            webhook.push(Arc::clone(&notification));
        }
        drop(backlog);
        self.shared.published.fetch_add(1, Ordering::Relaxed);
        self.shared.latest.send_replace(id);
        id
    }

    /// What a client that last saw `last_id` missed (see [`Resume`]).
    pub fn since(&self, last_id: u64) -> Resume {
        let backlog = lock(&self.shared.backlog);
        let latest = backlog.next_id - 1;
        let oldest = backlog.held.front().map_or(backlog.next_id, |oldest| oldest.id);
        if last_id > latest || last_id.saturating_add(1) < oldest {
            return Resume::Reset { oldest, latest };
        }
        let skip = usize::try_from(last_id + 1 - oldest).unwrap_or(usize::MAX);
        Resume::Replay(backlog.held.iter().skip(skip).cloned().collect())
    }

    /// The latest number issued (one less than this run's first when none was).
    pub fn latest(&self) -> u64 {
        *self.shared.latest.borrow()
    }

    /// The counters for `/metrics`.
    pub fn stats(&self) -> Stats {
        let shared = &self.shared;
        Stats {
            published: shared.published.load(Ordering::Relaxed),
            streams_open: (shared.max_streams - shared.streams.available_permits()) as u64,
            streams_refused: shared.streams_refused.load(Ordering::Relaxed),
            catch_ups: shared.catch_ups.load(Ordering::Relaxed),
            webhooks: shared.webhooks.iter().map(webhook::Webhook::stats).collect(),
        }
    }

    /// Publishes the notification of each record in `records` that gives one.
    fn publish_records(&self, ledger: &Ledger, records: &[VerifiedEntry]) {
        for entry in records {
            if let Some(kind) = Kind::of_payload(entry.payload_kind()) {
                self.publish(kind, record_fields(ledger, entry));
            }
        }
    }
}

/// The fields of the notification of a record entry: its JSON as `GET /records` serves it
/// (without a proof), with its place in its feed; an acknowledgement also names the lots of
/// the excursion it acknowledges (when this node holds it). Reads the store for that.
fn record_fields(ledger: &Ledger, entry: &VerifiedEntry) -> Value {
    let record = Record { entry: entry.clone(), proof: None };
    let mut fields = crate::http::records::record_json(&record).unwrap_or_else(|| json!({}));
    fields["author"] = json!(entry.author().to_hex());
    fields["sequence"] = json!(entry.sequence());
    fields["entry_hash"] = json!(entry.entry_hash().to_hex());
    fields["record_time"] = json!(lotline_ledger::trace::format_time(entry.record_time_ms()));
    if let Some(Payload::ExcursionAcknowledgement(acknowledgement)) = entry.payload() {
        let excursion = &acknowledgement.excursion;
        if fields.get("excursion").is_none() {
            fields["excursion"] = json!({
                "author": excursion.author.to_hex(),
                "sequence": excursion.sequence,
                "entry_hash": excursion.entry_hash.to_hex(),
            });
        }
        if fields.get("lots").is_none()
            && let Ok(Some(acknowledged)) =
                ledger.store().entry(&excursion.author, excursion.sequence)
            && acknowledged.entry_hash() == excursion.entry_hash
            && let Some(Payload::Excursion(excursion)) = acknowledged.payload()
        {
            fields["lots"] = json!(excursion.lots);
        }
    }
    fields
}

/// Follows every append the ledger makes (own or replicated) and publishes the records that
/// give a notification, in each feed's order, until the node stops. Subscribes before reading
/// where each feed ends, so nothing appended between the two is missed; a listener that fell
/// behind the channel reads the records it missed back from the store. Subscribes when
/// called; the returned future does the rest (spawn it).
pub fn watch_appended(
    ledger: Arc<Ledger>,
    notifier: Notifier,
) -> impl Future<Output = ()> + Send + 'static {
    let appended = ledger.subscribe_appended();
    let cursors: BTreeMap<PublicKey, u64> = ledger.feed_ends().into_iter().collect();
    follow_appended(ledger, notifier, appended, cursors)
}

/// The loop of [`watch_appended`].
async fn follow_appended(
    ledger: Arc<Ledger>,
    notifier: Notifier,
    mut appended: broadcast::Receiver<Appended>,
    mut cursors: BTreeMap<PublicKey, u64>,
) {
    let mut stopping = notifier.shared.stopping.clone();
    loop {
        let received = tokio::select! {
            _ = stopping.wait_for(|stopping| *stopping) => return,
            received = appended.recv() => received,
        };
        match received {
            Ok(batch) => {
                let cursor = cursors.get(&batch.author).copied().unwrap_or(0);
                let notable = batch
                    .records
                    .iter()
                    .any(|entry| Kind::of_payload(entry.payload_kind()).is_some());
                if !notable && batch.sequences.start <= cursor {
                    // Nothing to publish and nothing missed: only the cursor moves.
                    cursors.insert(batch.author, cursor.max(batch.sequences.end));
                    continue;
                }
                let publisher = notifier.clone();
                let worker = Arc::clone(&ledger);
                let taken = tokio::task::spawn_blocking(move || {
                    take_batch(&worker, &publisher, cursor, &batch)
                })
                .await;
                if let Ok((author, end)) = taken {
                    let cursor = cursors.entry(author).or_insert(0);
                    *cursor = (*cursor).max(end);
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "notifications fell behind the appended entries; reading them back"
                );
                notifier.shared.catch_ups.fetch_add(1, Ordering::Relaxed);
                let publisher = notifier.clone();
                let worker = Arc::clone(&ledger);
                let before = cursors.clone();
                if let Ok(after) =
                    tokio::task::spawn_blocking(move || catch_up(&worker, &publisher, before)).await
                {
                    cursors = after;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Every `interval`, publishes the custody handoffs that became overdue since the last look
/// (`Ledger::newly_overdue`: each once per run of the node; a restart tells the ones still
/// overdue again), until the node stops. The look reads every shipment, so it runs on the
/// blocking pool, one at a time.
pub fn watch_overdue(
    ledger: Arc<Ledger>,
    notifier: Notifier,
    interval: Duration,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        let mut stopping = notifier.shared.stopping.clone();
        let mut announced: BTreeSet<(String, String)> = BTreeSet::new();
        loop {
            tokio::select! {
                _ = stopping.wait_for(|stopping| *stopping) => return,
                () = tokio::time::sleep(interval) => {}
            }
            let worker = Arc::clone(&ledger);
            let publisher = notifier.clone();
            let mut seen = std::mem::take(&mut announced);
            let looked = tokio::task::spawn_blocking(move || {
                match worker.newly_overdue(&mut seen) {
                    Ok(overdue) => {
                        for handoff in &overdue {
                            publisher
                                .publish(Kind::HandoffOverdue, handoff_fields(&worker, handoff));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot look for overdue handoffs"),
                }
                seen
            })
            .await;
            match looked {
                Ok(seen) => announced = seen,
                Err(error) => tracing::warn!(%error, "the overdue-handoff look failed"),
            }
        }
    }
}

/// The fields of an overdue handoff's notification: the handoff as `GET /handoffs` serves it,
/// its lot as `lots`, and the shipping event's entry (`author`, `sequence`, `entry_hash`) when
/// this node holds it. Reads the store for that.
fn handoff_fields(ledger: &Ledger, handoff: &Handoff) -> Value {
    let mut fields = serde_json::to_value(handoff).unwrap_or_else(|_| json!({}));
    fields["lots"] = json!([handoff.lot]);
    let shipping = handoff.shipped.as_ref().and_then(|shipped| {
        ledger.store().entry_by_event_id(&shipped.event.to_text()).ok().flatten()
    });
    if let Some(entry) = shipping {
        fields["author"] = json!(entry.author().to_hex());
        fields["sequence"] = json!(entry.sequence());
        fields["entry_hash"] = json!(entry.entry_hash().to_hex());
    }
    fields
}

/// Publishes the records of `batch` at or after `cursor` (reading back from the store any
/// positions between `cursor` and the batch); returns the feed and its new cursor.
fn take_batch(
    ledger: &Ledger,
    notifier: &Notifier,
    cursor: u64,
    batch: &Appended,
) -> (PublicKey, u64) {
    if batch.sequences.start > cursor {
        match ledger.records_in(&batch.author, cursor..batch.sequences.start) {
            Ok(missed) => notifier.publish_records(ledger, &missed),
            Err(error) => {
                tracing::warn!(%error, author = %batch.author, "cannot read back records to notify")
            }
        }
    }
    let fresh: Vec<VerifiedEntry> =
        batch.records.iter().filter(|entry| entry.sequence() >= cursor).cloned().collect();
    notifier.publish_records(ledger, &fresh);
    (batch.author, cursor.max(batch.sequences.end))
}

/// Reads back, feed by feed, the records appended past each cursor and publishes them;
/// returns the new cursors.
fn catch_up(
    ledger: &Ledger,
    notifier: &Notifier,
    mut cursors: BTreeMap<PublicKey, u64>,
) -> BTreeMap<PublicKey, u64> {
    for (author, end) in ledger.feed_ends() {
        let cursor = cursors.entry(author).or_insert(0);
        if end <= *cursor {
            continue;
        }
        match ledger.records_in(&author, *cursor..end) {
            Ok(missed) => {
                notifier.publish_records(ledger, &missed);
                *cursor = end;
            }
            Err(error) => tracing::warn!(%error, %author, "cannot read back records to notify"),
        }
    }
    cursors
}

/// The first number of this run: the start time in milliseconds times 1,000 (see the module
/// documentation), at least 1.
fn first_id() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0).saturating_mul(1_000).max(1)
}

/// Current time in milliseconds since the epoch.
fn now_ms() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Locks a mutex, recovering from poisoning.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notifier(backlog: usize) -> Notifier {
        let settings = Notifications { backlog, ..Notifications::default() };
        let stopping = watch::channel(false).1;
        Notifier::start(&settings, Keypair::from_seed([3; 32]), stopping).unwrap()
    }

    fn ids(resume: Resume) -> Vec<u64> {
        match resume {
            Resume::Replay(missed) => missed.iter().map(|notification| notification.id).collect(),
            Resume::Reset { .. } => panic!("a replay was expected"),
        }
    }

    /// Numbers follow each other; a client gets what it missed while the backlog holds it,
    /// and a reset naming the oldest and latest held once it does not, or for an id this run
    /// never issued.
    #[test]
    fn resumption_replays_what_is_held_and_resets_past_it() {
        let notifier = notifier(2);
        let first = notifier.publish(Kind::Excursion, json!({"lots": ["a"]}));
        let second = notifier.publish(Kind::RecallNotice, json!({"id": 7, "kind": "x"}));
        let third = notifier.publish(Kind::HandoffOverdue, json!("late"));
        assert_eq!((second, third), (first + 1, first + 2));
        assert_eq!(notifier.latest(), third);
        assert_eq!(ids(notifier.since(third)), Vec::<u64>::new());
        assert_eq!(ids(notifier.since(second)), [third]);
        assert_eq!(ids(notifier.since(first)), [second, third]);
        for stale in [first - 1, 1, third + 1] {
            match notifier.since(stale) {
                Resume::Reset { oldest, latest } => assert_eq!((oldest, latest), (second, third)),
                Resume::Replay(_) => panic!("{stale}: a reset was expected"),
            }
        }
        let Resume::Replay(held) = notifier.since(second) else { panic!("a replay") };
        let body: Value = serde_json::from_str(&held[0].body).unwrap();
        assert_eq!(body["id"], json!(third));
        assert_eq!(body["kind"], "handoff_overdue");
        assert_eq!(body["value"], "late");
        let Resume::Replay(held) = notifier.since(first) else { panic!("a replay") };
        let body: Value = serde_json::from_str(&held[0].body).unwrap();
        // The notifier's own fields win over a caller's of the same name.
        assert_eq!(
            (body["id"].clone(), body["kind"].clone()),
            (json!(second), json!("recall_notice"))
        );
        assert!(held[0].signature.is_none(), "no webhook, no signature");
        assert_eq!(notifier.stats().published, 3);
    }
}
