//! The HTTP transport to one node: base URL, bearer token, timeouts and the one mapping from
//! HTTP outcomes (connection errors, 401/403, RFC 7807 problems, 5xx) to [`Error`].
//!
//! Owns nothing about meaning: it moves bytes and JSON. Does not verify anything; that is
//! [`crate::verify`], called by [`crate::Client`] on every answer it returns.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::Error;

/// How long one request may take end to end. A trace over a large graph or a 16 MiB capture
/// can take a while on a small node, so this is generous; an unreachable host still fails fast
/// because the connect step has its own, shorter limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for the TCP connection, so a wrong `--node` fails in seconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest answer body accepted (proof bundles of a big recall can be large, but a node
/// must not be able to exhaust the client's memory).
const MAX_ANSWER_BYTES: u64 = 256 * 1024 * 1024;

/// A connection description for one node: where it is and which token to present.
#[derive(Debug, Clone)]
pub struct Transport {
    /// The shared ureq agent (keeps connections alive across the many requests of a trace).
    agent: ureq::Agent,
    /// `http://host:port` without a trailing slash, so paths can be appended as `/trace/back`.
    base_url: String,
    /// The node's API token, sent as `Authorization: Bearer` on writes (and on reads, so that
    /// a node can show an organisation its own non-public data).
    token: Option<String>,
}

/// One HTTP answer body with the headers the client cares about.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status (2xx only; others become errors).
    pub status: u16,
    /// The `Location` header, when present (capture jobs).
    pub location: Option<String>,
    /// The `Link` header, when present (query pagination).
    pub link: Option<String>,
    /// The raw body bytes.
    pub body: Vec<u8>,
}

/// An RFC 7807 problem document as the node sends it.
#[derive(Debug, Default, serde::Deserialize)]
struct Problem {
    /// `epcisException:ValidationException` and the like.
    #[serde(default, rename = "type")]
    problem_type: String,
    /// A short summary.
    #[serde(default)]
    title: String,
    /// The detail line (names the event and field for validation errors).
    #[serde(default)]
    detail: String,
}

impl Transport {
    /// Describes the node at `base_url` (`http://host:port`), presenting `token` if given.
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self, Error> {
        let trimmed_url = base_url.trim().trim_end_matches('/');
        let has_http_scheme =
            trimmed_url.starts_with("http://") || trimmed_url.starts_with("https://");
        if !has_http_scheme || trimmed_url.len() <= "http://".len() {
            return Err(Error::BadNodeUrl(base_url.to_owned()));
        }
        // This build carries no TLS stack; say so instead of failing as "unreachable".
        if trimmed_url.starts_with("https://") {
            return Err(Error::TlsUnsupported(base_url.to_owned()));
        }
        let agent_config = ureq::Agent::config_builder()
            // ureq's default turns 4xx/5xx into opaque errors; we want the problem document.
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .build();
        Ok(Self {
            agent: agent_config.into(),
            base_url: trimmed_url.to_owned(),
            token: token.filter(|token| !token.trim().is_empty()),
        })
    }

    /// The node's base URL, for messages.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether a token is configured (writes need one).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `GET path` with the given query pairs (values are percent-encoded here).
    pub fn get(&self, path: &str, query: &[(String, String)]) -> Result<Answer, Error> {
        let url = self.url(path);
        let mut request = self.agent.get(&url);
        for (key, value) in query {
            request = request.query(key, value);
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let outcome = request.call();
        self.finish(&url, outcome)
    }

    /// `GET path` and decode the JSON body as `T`.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, Error> {
        let answer = self.get(path, query)?;
        self.decode(path, &answer.body)
    }

    /// `POST path` with `body` of `content_type`; needs the token.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer, Error> {
        let token = self.token.as_ref().ok_or(Error::MissingToken)?;
        let url = self.url(path);
        let outcome = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(body);
        self.finish(&url, outcome)
    }

    /// `POST path` with a JSON body and decode the JSON answer as `T`.
    pub fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, Error> {
        let body_bytes = serde_json::to_vec(body).map_err(|error| Error::BadAnswer {
            url: self.url(path),
            detail: format!("cannot encode the request: {error}"),
        })?;
        let answer = self.post(path, "application/json", &body_bytes)?;
        self.decode(path, &answer.body)
    }

    /// Decodes a JSON body, naming the path when the node sent something else.
    pub fn decode<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(body).map_err(|error| Error::BadAnswer {
            url: self.url(path),
            detail: format!("the body is not the documented JSON: {error}"),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Maps a ureq outcome to an [`Answer`] or the right [`Error`].
    fn finish(
        &self,
        url: &str,
        outcome: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, Error> {
        let mut response = outcome.map_err(|error| match error {
            ureq::Error::BodyExceedsLimit(limit) => Error::BadAnswer {
                url: url.to_owned(),
                detail: format!("the answer is larger than {limit} bytes"),
            },
            other => Error::Unreachable { url: url.to_owned(), reason: other.to_string() },
        })?;
        let status = response.status().as_u16();
        let header_text = |name: &str| {
            response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
        };
        let location = header_text("location");
        let link = header_text("link");
        let body =
            response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(
                |error| Error::Unreachable {
                    url: url.to_owned(),
                    reason: format!("the answer was cut off: {error}"),
                },
            )?;
        if (200..300).contains(&status) {
            return Ok(Answer { status, location, link, body });
        }
        let problem: Problem = serde_json::from_slice(&body).unwrap_or_else(|_| Problem {
            detail: String::from_utf8_lossy(&body).trim().chars().take(300).collect(),
            ..Problem::default()
        });
        Err(match status {
            // 403 is the node's answer to a valid token whose organisation's roles do not
            // allow the request: a refusal of the request (exit 6), not of the token.
            401 => Error::Unauthorized {
                url: url.to_owned(),
                status,
                detail: if problem.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", problem.detail)
                },
            },
            400..=499 => Error::Rejected {
                status,
                title: if problem.title.is_empty() { problem.problem_type } else { problem.title },
                detail: problem.detail,
            },
            _ => Error::BadAnswer {
                url: url.to_owned(),
                detail: format!("status {status}: {} {}", problem.title, problem.detail)
                    .trim_end()
                    .to_owned(),
            },
        })
    }
}
