//! Serving the router on a listener: accepting connections under a cap, the HTTP/1 connection
//! settings (header read timeout, which also closes idle keep-alive connections), and graceful
//! shutdown.
//!
//! Owns: the accept loop (a connection beyond [`crate::config::HttpLimits::max_connections`]
//! is closed as soon as it is accepted, so the process keeps file descriptors for its store
//! and peers; a failing accept, such as running out of descriptors, is logged and retried
//! after a pause instead of spinning), and [`RateLimitedLog`], so refusals under attack cost a
//! log line per interval rather than one per request. Does not own routes, per-route limits
//! or the body read timeout (`super::router`).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Pause after a failed accept (out of file descriptors, say) before the next one: the error
/// persists until connections close, and retrying at once would spin a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Shortest interval between two log lines of one kind of refusal.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Logs an event at most once per [`REFUSAL_LOG_INTERVAL`], counting the ones it skipped.
#[derive(Debug, Default)]
pub struct RateLimitedLog {
    /// When the last line was written.
    last: Mutex<Option<Instant>>,
    /// Events since the last line that wrote none.
    suppressed: AtomicU64,
}

impl RateLimitedLog {
    /// Calls `log` with the number of events skipped since the last line, unless a line was
    /// written less than an interval ago.
    pub fn warn(&self, log: impl FnOnce(u64)) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|last| now.duration_since(last) < REFUSAL_LOG_INTERVAL) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        drop(last);
        log(self.suppressed.swap(0, Ordering::Relaxed));
    }
}

/// Connection settings of the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time to receive a complete request head, and longest idle time between requests.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Longest wait for connections in flight at shutdown.
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` turns true, then waits up to the grace for
/// the connections in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: Options,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(options.header_timeout).keep_alive(true);
    let over_capacity = RateLimitedLog::default();
    let accept_failures = RateLimitedLog::default();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|stopping| *stopping) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failures.warn(|suppressed| {
                    tracing::warn!(%error, suppressed, "cannot accept an HTTP connection");
                });
                tokio::select! {
                    _ = shutdown.wait_for(|stopping| *stopping) => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            over_capacity.warn(|suppressed| {
                tracing::warn!(
                    %peer,
                    limit = options.max_connections,
                    suppressed,
                    "refusing an HTTP connection: too many open"
                );
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "http connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("http connections still open after the shutdown grace");
    }
}
