//! The dashboard's sessions: random ids kept in memory, each with its own form token (the CSRF
//! token every dashboard form carries) and an expiry, at most [`MAX_SESSIONS`] at once.
//!
//! Owns creating, finding, ending and expiring sessions and reading the session cookie of a
//! request. Does not own who may log in (the node's API token, compared by
//! `crate::state::Ledger::token_matches`) nor the cookie's attributes (`super`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

/// The cookie that carries a session id.
pub const COOKIE_NAME: &str = "lotline_session";

/// How long a session lasts after its login: a working day, then the regulator logs in again.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// Sessions kept at once; a login beyond it ends the oldest, so logins cannot grow memory.
pub const MAX_SESSIONS: usize = 256;

/// Random bytes in a session id and in a form token.
const SECRET_BYTES: usize = 32;

/// A logged-in session as the handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The id the cookie carries (hex).
    pub id: String,
    /// The token each form of this session posts back.
    pub form_token: String,
    /// When it was created (the oldest is ended first when the store is full).
    created: Instant,
    /// When it ends.
    expires: Instant,
}

/// Failure to draw random bytes from the operating system.
#[derive(Debug, thiserror::Error)]
#[error("the operating system gave no random bytes for a session: {0}")]
pub struct NoRandomness(getrandom::Error);

/// The sessions of one node.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Session id → session.
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session, ending expired ones and, when the store is still full, the oldest.
    pub fn create(&self) -> Result<Session, NoRandomness> {
        let now = Instant::now();
        let session = Session {
            id: random_hex()?,
            form_token: random_hex()?,
            created: now,
            expires: now + SESSION_LIFETIME,
        };
        let mut by_id = self.lock();
        by_id.retain(|_, session| session.expires > now);
        while by_id.len() >= MAX_SESSIONS {
            let Some(oldest) = by_id
                .values()
                .min_by_key(|session| session.created)
                .map(|session| session.id.clone())
            else {
                break;
            };
            by_id.remove(&oldest);
        }
        by_id.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    /// The live session whose id the request's cookie carries.
    pub fn of_request(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers)?;
        let now = Instant::now();
        let mut by_id = self.lock();
        let session = by_id.get(id)?;
        if session.expires <= now {
            by_id.remove(id);
            return None;
        }
        Some(session.clone())
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_id.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Session {
    /// Whether `presented` is this session's form token (compared in constant time).
    pub fn form_token_matches(&self, presented: &str) -> bool {
        constant_time_equal(self.form_token.as_bytes(), presented.as_bytes())
    }

    /// Seconds left, for the cookie's `Max-Age`.
    pub fn seconds_left(&self) -> u64 {
        self.expires.saturating_duration_since(Instant::now()).as_secs()
    }
}

/// Compares two secrets without stopping at the first difference.
fn constant_time_equal(expected: &[u8], presented: &[u8]) -> bool {
    if expected.len() != presented.len() {
        return false;
    }
    expected.iter().zip(presented).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

/// A fresh random secret as hex.
fn random_hex() -> Result<String, NoRandomness> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(NoRandomness)?;
    Ok(hex::encode(bytes))
}

/// The value of the session cookie among the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_cookie_until_it_ends() {
        let sessions = Sessions::default();
        let session = sessions.create().unwrap();
        assert_eq!(session.id.len(), 2 * SECRET_BYTES);
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE_NAME}={}", session.id);
        headers.insert(header::COOKIE, cookie.parse().unwrap());
        let found = sessions.of_request(&headers).expect("the session is live");
        assert!(found.form_token_matches(&session.form_token));
        assert!(!found.form_token_matches("guess"));
        sessions.end(&session.id);
        assert!(sessions.of_request(&headers).is_none());
    }

    #[test]
    fn the_store_never_holds_more_than_its_bound() {
        let sessions = Sessions::default();
        let first = sessions.create().unwrap();
        for _ in 0..MAX_SESSIONS {
            sessions.create().unwrap();
        }
        assert_eq!(sessions.lock().len(), MAX_SESSIONS);
        assert!(!sessions.lock().contains_key(&first.id), "the oldest session ends first");
    }
}
