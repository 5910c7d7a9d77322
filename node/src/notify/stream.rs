//! `GET /events/stream`: the notifications as Server-Sent Events.
//!
//! Each notification is one event: `id:` its number, `event:` its kind, `data:` its JSON. A
//! client that reconnects with `Last-Event-ID` first gets what it missed from the backlog; when
//! that is no longer held (or the id is not one this run issued) it gets one `event: reset`
//! whose `id:` is the latest number, and the live events after it. An idle stream carries a
//! keep-alive comment at the configured interval. At most
//! [`crate::config::Notifications::max_streams`] streams are open at once: every public input
//! is hostile, and each stream holds a connection for as long as the client likes; more are
//! answered `503` with `Retry-After`.
//!
//! Owns: the route's handler and the event framing. Does not own numbering or the backlog
//! (`super::Notifier`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, watch};

use super::{Notification, Notifier, Resume};
use crate::http::ApiError;

/// What a client refused at the cap on streams waits before retrying.
pub const STREAM_RETRY_AFTER: Duration = Duration::from_secs(5);

/// One open stream's state between events.
struct Open {
    /// Where the stream reads from.
    notifier: Notifier,
    /// The number of the last notification sent (or the reset's).
    last_sent: u64,
    /// Fetched from the backlog, not sent yet.
    pending: VecDeque<Arc<Notification>>,
    /// A reset to send before anything else.
    reset: Option<Event>,
    /// Changes when a notification is published.
    latest: watch::Receiver<u64>,
    /// Turns true when the node stops.
    stopping: watch::Receiver<bool>,
    /// Held while the stream is open; released when the client goes.
    _permit: OwnedSemaphorePermit,
}

/// Opens an event stream for a client that sent `headers` (its `Last-Event-ID`), or refuses
/// it with `503` when as many streams are open as the node allows. The route is
/// `crate::http`'s, which documents it.
pub fn open(notifier: &Notifier, headers: &HeaderMap) -> Response {
    let Ok(permit) = Arc::clone(&notifier.shared.streams).try_acquire_owned() else {
        notifier.shared.streams_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return ApiError::Busy { retry_after: STREAM_RETRY_AFTER }.into_response();
    };
    let mut latest = notifier.shared.latest.subscribe();
    let current = *latest.borrow_and_update();
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| value.to_str().ok().and_then(|text| text.trim().parse::<u64>().ok()));
    let mut open = Open {
        notifier: notifier.clone(),
        last_sent: current,
        pending: VecDeque::new(),
        reset: None,
        latest,
        stopping: notifier.shared.stopping.clone(),
        _permit: permit,
    };
    match last_event_id {
        None => {}
        Some(Some(last_id)) => open.resume(last_id, Some(last_id)),
        // An id this node never issues: the client is told to start again.
        Some(None) => open.resume(u64::MAX, None),
    }
    let keep_alive = KeepAlive::new().interval(notifier.shared.keep_alive).text("keep-alive");
    let events = futures::stream::unfold(open, |mut open| async move {
        let event = open.next_event().await?;
        Some((Ok::<Event, Infallible>(event), open))
    });
    Sse::new(events).keep_alive(keep_alive).into_response()
}

impl Open {
    /// Queues what a client that last saw `last_id` missed, or a reset; `named` is the id
    /// the client sent, when it was a number.
    fn resume(&mut self, last_id: u64, named: Option<u64>) {
        match self.notifier.since(last_id) {
            Resume::Replay(missed) => {
                self.last_sent = last_id;
                self.pending = missed.into();
            }
            Resume::Reset { oldest, latest } => {
                let data = json!({
                    "reason": "the events after Last-Event-ID are no longer held: read the current state, then follow from here",
                    "last_event_id": named,
                    "oldest": oldest,
                    "latest": latest,
                });
                self.reset = Some(
                    Event::default().event("reset").id(latest.to_string()).data(data.to_string()),
                );
                self.last_sent = latest;
                self.pending.clear();
            }
        }
    }

    /// The next event to send; `None` ends the stream (the node stops).
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if let Some(reset) = self.reset.take() {
                return Some(reset);
            }
            if let Some(notification) = self.pending.pop_front() {
                self.last_sent = notification.id;
                return Some(
                    Event::default()
                        .id(notification.id.to_string())
                        .event(notification.kind.name())
                        .data(notification.body.as_str()),
                );
            }
            if *self.latest.borrow_and_update() > self.last_sent {
                // A stream that fell behind the backlog is reset like a late reconnection.
                self.resume(self.last_sent, Some(self.last_sent));
                continue;
            }
            tokio::select! {
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
                changed = self.latest.changed() => if changed.is_err() { return None },
            }
        }
    }
}
