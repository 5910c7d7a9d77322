//! Webhooks: each notification posted to every configured URL, signed by the node's
//! organisation key, so a receiver verifies it with the public key alone (no shared secret).
//!
//! A delivery is `POST <url>` with the notification JSON as the body and the headers
//! `Lotline-Signature: ed25519=<hex>` (the signature of [`message`] of the body: the domain tag
//! `lotline/webhook\0` followed by the body's bytes), `Lotline-Key: <hex>` (the organisation's
//! public key, to be checked against the roster) and `Lotline-Notification: <id>`. Any `2xx`
//! answer delivers it; anything else (another status, no answer in time, no connection) is
//! retried after a wait that doubles from `webhook_backoff_ms` up to `webhook_backoff_max_ms`,
//! at most `webhook_attempts` times in all, then given up and counted. Redirects are not
//! followed: the operator names the URL that receives.
//!
//! Each webhook has one delivery task and a bounded queue: a receiver that is down or slow
//! holds up only its own deliveries, in order, and when its queue is full the oldest waiting
//! notification is dropped and counted, so memory stays bounded whatever it does.
//!
//! Owns: the queues, the delivery tasks, the signed message and the counters. Does not own the
//! notification JSON (`super`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{Error, Notification, lock};
use crate::config::Notifications;

/// The domain tag of a webhook signature: no other signed Lotline message starts with it.
pub const SIGNATURE_TAG: &[u8] = b"lotline/webhook\0";

/// The message a webhook signature signs: [`SIGNATURE_TAG`] followed by the body.
pub fn message(body: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNATURE_TAG.len() + body.len());
    message.extend_from_slice(SIGNATURE_TAG);
    message.extend_from_slice(body.as_bytes());
    message
}

/// One webhook's counters.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Its position in the config's list (the metrics' `webhook` label: a URL may hold a
    /// secret, so it is not exported).
    pub index: usize,
    /// Notifications waiting now.
    pub queued: u64,
    /// Notifications delivered.
    pub delivered: u64,
    /// Attempts that failed and were retried.
    pub retried: u64,
    /// Notifications given up after the last attempt failed.
    pub failed: u64,
    /// Notifications dropped unsent because the queue was full.
    pub dropped: u64,
}

/// A webhook: its queue, shared with its delivery task.
#[derive(Debug)]
pub(super) struct Webhook {
    /// The queue and counters.
    shared: Arc<Queue>,
}

/// A webhook's queue and counters.
#[derive(Debug)]
struct Queue {
    /// Position in the config's list.
    index: usize,
    /// Waiting notifications, oldest first.
    waiting: Mutex<VecDeque<Arc<Notification>>>,
    /// The most that wait.
    capacity: usize,
    /// Wakes the delivery task.
    wake: Notify,
    /// See [`Stats`].
    delivered: AtomicU64,
    /// See [`Stats`].
    retried: AtomicU64,
    /// See [`Stats`].
    failed: AtomicU64,
    /// See [`Stats`].
    dropped: AtomicU64,
}

/// How a delivery task sends and retries.
#[derive(Debug, Clone)]
struct Delivery {
    /// Where to.
    url: reqwest::Url,
    /// The HTTP client (one per node, with the attempt timeout).
    client: reqwest::Client,
    /// This organisation's public key (hex).
    key: String,
    /// Attempts per notification.
    attempts: u32,
    /// Wait before the first retry.
    backoff: Duration,
    /// Longest wait.
    backoff_max: Duration,
}

impl Webhook {
    /// Queues `notification`, dropping (and counting) the oldest waiting one when full.
    pub(super) fn push(&self, notification: Arc<Notification>) {
        let queue = &self.shared;
        let mut waiting = lock(&queue.waiting);
        if waiting.len() >= queue.capacity {
            waiting.pop_front();
            queue.dropped.fetch_add(1, Ordering::Relaxed);
        }
        waiting.push_back(notification);
        drop(waiting);
        queue.wake.notify_one();
    }

    /// Its counters now.
    pub(super) fn stats(&self) -> Stats {
        let queue = &self.shared;
        Stats {
            index: queue.index,
            queued: lock(&queue.waiting).len() as u64,
            delivered: queue.delivered.load(Ordering::Relaxed),
            retried: queue.retried.load(Ordering::Relaxed),
            failed: queue.failed.load(Ordering::Relaxed),
            dropped: queue.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Checks the configured URLs and starts one delivery task per webhook; the key is the one
/// `super::Notifier` signs with (its public half is sent in `Lotline-Key`).
pub(super) fn start_all(
    settings: &Notifications,
    key: &lotline_ledger::identity::PublicKey,
    stopping: &watch::Receiver<bool>,
) -> Result<Vec<Webhook>, Error> {
    if settings.webhooks.is_empty() {
        return Ok(Vec::new());
    }
    let mut urls = Vec::with_capacity(settings.webhooks.len());
    for (index, text) in settings.webhooks.iter().enumerate() {
        let url = reqwest::Url::parse(text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| Error::WebhookUrl { index, url: text.clone() })?;
        urls.push(url);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.webhook_timeout_ms.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| Error::Client(error.to_string()))?;
    let webhooks = urls
        .into_iter()
        .enumerate()
        .map(|(index, url)| {
            let shared = Arc::new(Queue {
                index,
                waiting: Mutex::new(VecDeque::new()),
                capacity: settings.webhook_queue.max(1),
                wake: Notify::new(),
                delivered: AtomicU64::new(0),
                retried: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            });
            let delivery = Delivery {
                url,
                client: client.clone(),
                key: key.to_hex(),
                attempts: settings.webhook_attempts.max(1),
                backoff: Duration::from_millis(settings.webhook_backoff_ms),
                backoff_max: Duration::from_millis(
                    settings.webhook_backoff_max_ms.max(settings.webhook_backoff_ms),
                ),
            };
            tokio::spawn(deliver_all(Arc::clone(&shared), delivery, stopping.clone()));
            Webhook { shared }
        })
        .collect();
    Ok(webhooks)
}

/// The delivery task: takes the oldest waiting notification and delivers it (with its
/// retries) before the next, until the node stops.
async fn deliver_all(queue: Arc<Queue>, delivery: Delivery, mut stopping: watch::Receiver<bool>) {
    loop {
        let next = lock(&queue.waiting).pop_front();
        let Some(notification) = next else {
            tokio::select! {
                _ = stopping.wait_for(|stopping| *stopping) => return,
                () = queue.wake.notified() => continue,
            }
        };
        tokio::select! {
            _ = stopping.wait_for(|stopping| *stopping) => return,
            () = deliver(&queue, &delivery, &notification) => {}
        }
    }
}

/// Delivers one notification, retrying with a doubling wait; counts the outcome.
async fn deliver(queue: &Queue, delivery: &Delivery, notification: &Notification) {
    let mut wait = delivery.backoff;
    for attempt in 1..=delivery.attempts {
        match attempt_once(delivery, notification).await {
            Ok(()) => {
                queue.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(reason) if attempt == delivery.attempts => {
                tracing::warn!(webhook = queue.index, id = notification.id, attempt, %reason, "webhook delivery given up");
                queue.failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(reason) => {
                tracing::debug!(webhook = queue.index, id = notification.id, attempt, %reason, "webhook delivery failed; retrying");
                queue.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(delivery.backoff_max);
            }
        }
    }
}

/// One attempt: `Ok` on a `2xx` answer, else why not.
async fn attempt_once(delivery: &Delivery, notification: &Notification) -> Result<(), String> {
    let mut request = delivery
        .client
        .post(delivery.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Lotline-Key", &delivery.key)
        .header("Lotline-Notification", notification.id.to_string())
        .body(notification.body.clone());
    if let Some(signature) = &notification.signature {
        request = request.header("Lotline-Signature", format!("ed25519={signature}"));
    }
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(format!("answered {status}")) }
}
