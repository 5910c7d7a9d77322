//! The GS1-Conformant resolver (standard 1.2) on the node's root: every GS1 Digital Link path
//! (`/01/{gtin}`, `/01/{gtin}/10/{lot}`, `/00/{sscc}`, `/414/{gln}`, … for every primary key
//! the syntax dictionary lists) with its query attributes, and the resolver description file
//! at `/.well-known/gs1resolver`.
//!
//! Owns: the answers — a `307` to the default link (the consumer page) with the whole query
//! string passed on; the linkset for `?linkType=linkset` (or `all`) and for clients that accept
//! `application/linkset+json`, `application/json` or `application/ld+json` rather than HTML; a
//! `307` to the link of `?linkType=X`, or `404` when the item has none; `400` for a path the
//! Digital Link standard refuses, naming the rule (an HTML page for browsers, RFC 7807 JSON for
//! the rest, shared with `qr`); `414` for an over-long path or query; `404` for a valid key the
//! node knows nothing about; the walk up from an unknown lot or item to its product;
//! `Link` headers (`rel="linkset"`, `owl:sameAs`, the JSON-LD context), CORS, `HEAD` and
//! `OPTIONS`. Does not own Digital Link syntax (`lotline_ledger::gs1` parses and
//! canonicalises), the links themselves (`linkset`), nor what the node knows (the ledger).
//!
//! Links are absolute on the address the client used (`Host`, and `https` when a proxy says
//! `X-Forwarded-Proto: https`); a linkset's anchor is the canonical `https://id.gs1.org` form.

use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lotline_ledger::gs1::{self, AiData, DigitalLink, Identifier};
use sha2::Digest;

use super::WebState;
use super::linkset::{LINKSET_CONTEXT, Level, Links, Requested};
use crate::state::Ledger;

/// Longest request path resolved (the longest valid Digital Link path is far shorter).
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest query string resolved; longer ones are refused before anything is parsed.
pub const MAX_QUERY_BYTES: usize = 2048;
/// Longest `Accept` header read; a longer one is read as "anything" (a redirect).
const MAX_ACCEPT_BYTES: usize = 1024;
/// Longest `Host` header used to build links; a longer or odd one falls back to `localhost`.
const MAX_HOST_BYTES: usize = 255;

/// The resolver's routes: one per Digital Link primary key, and the description file.
pub fn routes() -> Router<WebState> {
    let mut router =
        Router::new().route("/.well-known/gs1resolver", get(description).options(preflight));
    for entry in gs1::dictionary().entries().filter(|entry| entry.is_dl_primary_key()) {
        router = router.route(&format!("/{}/{{*rest}}", entry.ai), get(resolve).options(preflight));
    }
    router
}

/// `OPTIONS` on any resolver path: the methods and the CORS preflight answer.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    cors(headers);
    headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Accept, Accept-Language"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

/// The CORS headers of every resolver answer: any origin may read it, `Link` and `Location`
/// included.
pub(super) fn cors(headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Link, Location, Content-Type"),
    );
}

/// `GET /.well-known/gs1resolver`: the resolver description file (standard 1.2, section 3).
#[utoipa::path(
    get,
    path = "/.well-known/gs1resolver",
    tag = "resolver",
    summary = "The GS1-Conformant resolver's description file",
    responses(
        (status = 200, description = "`name`, `resolverRoot`, `supportedPrimaryKeys`, `supportedLinkType`, `linkTypeDefaultCanBeLinkset`, `jsonLdContextLocation`", body = Object),
    )
)]
pub(crate) async fn description(headers: HeaderMap) -> Response {
    let document = serde_json::json!({
        "name": "Lotline node",
        "resolverRoot": base_of(&headers),
        "supportedPrimaryKeys": ["all"],
        "supportedLinkType": [{"namespace": super::linkset::GS1_VOCABULARY, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": false,
        "jsonLdContextLocation": LINKSET_CONTEXT,
    });
    let mut response = axum::Json(document).into_response();
    cors(response.headers_mut());
    response
}

/// How the client wants the answer, from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    /// A redirect (browsers, scanners, `*/*`, no `Accept`).
    Redirect,
    /// The linkset as `application/linkset+json`.
    Linkset,
    /// The linkset as `application/json`.
    Json,
    /// The linkset as `application/ld+json`, with the context embedded.
    JsonLd,
}

/// Reads `Accept`: a linkset when the client names a JSON type and not HTML.
fn wanted(headers: &HeaderMap) -> Wanted {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Wanted::Redirect;
    };
    if accept.len() > MAX_ACCEPT_BYTES {
        return Wanted::Redirect;
    }
    let types: Vec<String> = accept
        .split(',')
        .filter(|part| !refused(part))
        .map(|part| part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .collect();
    let has = |media_type: &str| types.iter().any(|found| found == media_type);
    if has("application/linkset+json") {
        Wanted::Linkset
    } else if has("text/html") {
        Wanted::Redirect
    } else if has("application/ld+json") {
        Wanted::JsonLd
    } else if has("application/json") {
        Wanted::Json
    } else {
        Wanted::Redirect
    }
}

/// Whether an `Accept` member says `q=0` (not acceptable).
fn refused(part: &str) -> bool {
    part.split(';').skip(1).any(|parameter| {
        parameter
            .trim()
            .strip_prefix("q=")
            .and_then(|quality| quality.trim().parse::<f32>().ok())
            .is_some_and(|quality| quality <= 0.0)
    })
}

/// Whether an error answer should be an HTML page (the client accepts HTML).
pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.len() <= MAX_ACCEPT_BYTES && accept.contains("text/html"))
}

/// Scheme and authority links are built on: the `Host` the client used (only host name and
/// port characters), `https` when a proxy says so.
pub(super) fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.len() <= MAX_HOST_BYTES
                && host.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// Why a request names no Digital Link: the status and what is wrong.
pub(super) type Refusal = (StatusCode, String);

/// Parses the Digital Link a request path (and query) spells on this node, after the bounds
/// checks; the refusal otherwise (answered by [`error_answer`]).
pub(super) fn parse_request(path: &str, query: Option<&str>) -> Result<DigitalLink, Refusal> {
    if path.len() > MAX_PATH_BYTES || query.is_some_and(|query| query.len() > MAX_QUERY_BYTES) {
        return Err((
            StatusCode::URI_TOO_LONG,
            format!(
                "the path may be at most {MAX_PATH_BYTES} bytes and the query string at most \
                 {MAX_QUERY_BYTES}"
            ),
        ));
    }
    // A trailing slash is tolerated (standard 1.2, 2.13).
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut uri = format!("{}{path}", gs1::CANONICAL_STEM);
    if let Some(query) = query {
        uri.push('?');
        uri.push_str(query);
    }
    gs1::parse_digital_link(&uri).map_err(|error| {
        (StatusCode::BAD_REQUEST, format!("not a valid GS1 Digital Link: {error}"))
    })
}

/// The canonical Digital Link (`https://id.gs1.org/...`) of `ai_data`.
pub(super) fn canonical_of(ai_data: &AiData) -> Option<String> {
    gs1::digital_link::generate(ai_data, Some(gs1::CANONICAL_STEM)).ok()
}

/// Every level of a link, most specific first: the key with all its qualifiers, then with
/// fewer, down to the key alone, each as the constrained canonical form the ledger keys on
/// (repeats dropped: a CPV adds no level, a serial makes the lot a level of its own).
fn levels_of(link: &DigitalLink) -> Vec<Level> {
    let mut levels: Vec<Level> = Vec::new();
    for count in (0..=link.qualifiers.len()).rev() {
        let mut ai_data = AiData::new();
        for element in std::iter::once(&link.primary_key).chain(&link.qualifiers[..count]) {
            let _ = ai_data.push(&element.ai, &element.value);
        }
        let Some(written) = canonical_of(&ai_data) else { continue };
        let Some(canonical) = gs1::canonical_digital_link(&written) else { continue };
        let Some(identifier) = gs1::classify(&canonical) else { continue };
        if levels.iter().all(|level| level.canonical != canonical) {
            levels.push(Level { canonical, identifier });
        }
    }
    levels
}

/// Whether the node knows `level`: the lot graph recorded it (for a product, any lot of it;
/// for a place, any event there), or master data describes it.
fn known(ledger: &Ledger, level: &Level) -> bool {
    let (gtin, gln) = match &level.identifier {
        Identifier::Class { gtin } => (Some(gtin.as_str()), None),
        Identifier::Location { gln, extension: None } => (None, Some(gln.as_str())),
        _ => (None, None),
    };
    ledger.knows(&level.canonical, gtin, gln) || ledger.master_data(&level.canonical).is_some()
}

/// The value of the first `linkType` parameter of `query`, percent-decoded.
fn link_type_parameter(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "linkType").then(|| percent_decode(value))
    })
}

/// `text` with `%XX` escapes decoded (and `+` as a space, as in a query string); invalid
/// escapes and non-UTF-8 results are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 3 <= bytes.len() => {
                let digits = (hex_digit(bytes[index + 1]), hex_digit(bytes[index + 2]));
                if let (Some(high), Some(low)) = digits {
                    decoded.push(high * 16 + low);
                    index += 3;
                    continue;
                }
                decoded.push(b'%');
            }
            b'+' => decoded.push(b' '),
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded).unwrap_or_else(|_| text.to_owned())
}

/// The value of one hexadecimal digit.
fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|digit| u8::try_from(digit).ok())
}

/// `href` with the request's whole query string passed on (before any fragment).
fn with_query(href: &str, query: Option<&str>) -> String {
    let Some(query) = query.filter(|query| !query.is_empty()) else { return href.to_owned() };
    let (target, fragment) = match href.split_once('#') {
        Some((target, fragment)) => (target, Some(fragment)),
        None => (href, None),
    };
    let separator = if target.contains('?') { '&' } else { '?' };
    let mut location = format!("{target}{separator}{query}");
    if let Some(fragment) = fragment {
        location.push('#');
        location.push_str(fragment);
    }
    location
}

/// Any resolver path: see the module documentation.
async fn resolve(State(state): State<WebState>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let query = uri.query();
    let link = match parse_request(path, query) {
        Ok(link) => link,
        Err((status, problem)) => return error_answer(status, &problem, path, &headers),
    };
    let levels = levels_of(&link);
    let mut anchor_data = AiData::new();
    for element in std::iter::once(&link.primary_key).chain(&link.qualifiers) {
        let _ = anchor_data.push(&element.ai, &element.value);
    }
    let anchor = canonical_of(&anchor_data).unwrap_or_default();
    let ledger = Arc::clone(&state.ledger);
    let lookup = tokio::task::spawn_blocking(move || {
        let known: Vec<Level> = levels.into_iter().filter(|level| known(&ledger, level)).collect();
        let description = known.iter().find_map(|level| {
            ledger
                .master_data_name(&level.canonical)
                .and_then(|described| described.statement.name().map(str::to_owned))
        });
        (known, description)
    })
    .await;
    let Ok((known, description)) = lookup else {
        return error_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the resolver's worker failed",
            path,
            &headers,
        );
    };
    if known.is_empty() {
        return error_answer(
            StatusCode::NOT_FOUND,
            &format!("nothing is recorded about {anchor} on this node"),
            path,
            &headers,
        );
    }
    let base = base_of(&headers);
    let links = Links::of(anchor, description, &known, &base);
    let linkset_url = format!("{base}{}?linkType=linkset", path.strip_suffix('/').unwrap_or(path));
    let link_header = format!(
        "<{linkset_url}>; rel=\"linkset\"; type=\"application/linkset+json\", <{}>; \
         rel=\"owl:sameAs\"",
        links.anchor
    );
    let requested = link_type_parameter(query).map(|value| Requested::parse(&value));
    let wanted = match requested {
        Some(Requested::Linkset) => match wanted(&headers) {
            Wanted::Redirect => Wanted::Linkset,
            other => other,
        },
        Some(_) => Wanted::Redirect,
        None => wanted(&headers),
    };
    let target = match (wanted, requested) {
        (Wanted::Redirect, Some(Requested::Type(link_type))) => match links.first(link_type) {
            Some(link) => link,
            None => {
                return error_answer(
                    StatusCode::NOT_FOUND,
                    &format!("{} has no {} link on this node", links.anchor, link_type.uri()),
                    path,
                    &headers,
                );
            }
        },
        (Wanted::Redirect, Some(Requested::Other)) => {
            return error_answer(
                StatusCode::NOT_FOUND,
                &format!("{} has no link of the type asked for on this node", links.anchor),
                path,
                &headers,
            );
        }
        (Wanted::Redirect, _) => match links.default_link() {
            Some(link) => link,
            None => {
                return error_answer(
                    StatusCode::NOT_FOUND,
                    &format!("{} has no default link on this node", links.anchor),
                    path,
                    &headers,
                );
            }
        },
        (format, _) => return linkset_answer(&links, format, &link_header),
    };
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    let response_headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&with_query(&target.href, query)) {
        response_headers.insert(header::LOCATION, location);
    }
    if let Ok(value) = HeaderValue::from_str(&link_header) {
        response_headers.insert(header::LINK, value);
    }
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    cors(response_headers);
    response
}

/// The linkset in the media type asked for.
fn linkset_answer(links: &Links, format: Wanted, link_header: &str) -> Response {
    let (media_type, body) = match format {
        Wanted::JsonLd => ("application/ld+json", links.to_json(true)),
        Wanted::Json => ("application/json", links.to_json(false)),
        _ => ("application/linkset+json", links.to_json(false)),
    };
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static(media_type))], body.to_string())
            .into_response();
    let headers = response.headers_mut();
    let link_header = format!(
        "{link_header}, <{LINKSET_CONTEXT}>; rel=\"http://www.w3.org/ns/json-ld#context\"; \
         type=\"application/ld+json\""
    );
    if let Ok(value) = HeaderValue::from_str(&link_header) {
        headers.insert(header::LINK, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    cors(headers);
    response
}

/// The error page: what went wrong with the link the visitor followed.
#[derive(Template)]
#[template(path = "resolver_error.html")]
struct ErrorPage<'a> {
    /// The HTTP status code.
    status: u16,
    /// The status's reason phrase.
    title: &'a str,
    /// What is wrong, naming the rule.
    problem: &'a str,
    /// The path asked for.
    path: &'a str,
    /// The page's style sheet (inline, allowed by its hash).
    style: &'a str,
}

/// The error page's style sheet.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}h1{font-size:1.4rem}\
code{word-break:break-all;background:#f2f2f2;padding:0 .2rem}";

/// The Content-Security-Policy of the error page: nothing but its own inline style.
static ERROR_PAGE_POLICY: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    let digest = sha2::Sha256::digest(STYLE.as_bytes());
    format!(
        "default-src 'none'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

/// An error answer: an HTML page for clients that accept HTML, RFC 7807 JSON for the rest;
/// CORS headers on both.
pub(super) fn error_answer(
    status: StatusCode,
    problem: &str,
    path: &str,
    headers: &HeaderMap,
) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let mut response = if wants_html(headers) {
        let page = ErrorPage { status: status.as_u16(), title, problem, path, style: STYLE };
        match page.render() {
            Ok(html) => {
                let mut response = (status, axum::response::Html(html)).into_response();
                if let Ok(policy) = HeaderValue::from_str(&ERROR_PAGE_POLICY) {
                    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
                }
                response
            }
            Err(_) => (status, problem.to_owned()).into_response(),
        }
    } else {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": problem,
            "instance": path,
        });
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))],
            body.to_string(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    cors(response_headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_get_redirects_and_json_clients_get_linksets() {
        assert_eq!(wanted(&HeaderMap::new()), Wanted::Redirect);
        assert_eq!(
            wanted(&accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")),
            Wanted::Redirect
        );
        assert_eq!(wanted(&accept("application/linkset+json")), Wanted::Linkset);
        assert_eq!(wanted(&accept("application/json")), Wanted::Json);
        assert_eq!(wanted(&accept("application/ld+json;q=1")), Wanted::JsonLd);
        assert_eq!(wanted(&accept("application/json;q=0, text/plain")), Wanted::Redirect);
        assert_eq!(wanted(&accept(&"a/b,".repeat(1000))), Wanted::Redirect);
    }

    #[test]
    fn the_query_string_is_passed_on_before_the_fragment() {
        assert_eq!(
            with_query("http://n/view/01/1", Some("17=270101&x=1")),
            "http://n/view/01/1?17=270101&x=1"
        );
        assert_eq!(
            with_query("http://n/view/01/1#recall", Some("a=1")),
            "http://n/view/01/1?a=1#recall"
        );
        assert_eq!(
            with_query("http://n/records?kind=k", Some("a=1")),
            "http://n/records?kind=k&a=1"
        );
        assert_eq!(with_query("http://n/v", None), "http://n/v");
    }

    #[test]
    fn link_type_parameters_are_decoded() {
        assert_eq!(
            link_type_parameter(Some("17=270101&linkType=gs1%3Apip")).as_deref(),
            Some("gs1:pip")
        );
        assert_eq!(link_type_parameter(Some("linkType=%ZZ%")).as_deref(), Some("%ZZ%"));
        assert_eq!(link_type_parameter(Some("other=1")), None);
    }

    #[test]
    fn a_serialised_lot_has_three_levels() {
        let link =
            gs1::parse_digital_link("https://id.gs1.org/01/09506000134352/22/C1/10/L1/21/S1")
                .unwrap();
        let levels: Vec<String> =
            levels_of(&link).into_iter().map(|level| level.canonical).collect();
        assert_eq!(
            levels,
            [
                "https://id.gs1.org/01/09506000134352/21/S1",
                "https://id.gs1.org/01/09506000134352/10/L1",
                "https://id.gs1.org/01/09506000134352",
            ]
        );
    }

    #[test]
    fn hosts_with_odd_characters_are_not_used_in_links() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("evil.example/\"><"));
        assert_eq!(base_of(&headers), "http://localhost");
        headers.insert(header::HOST, HeaderValue::from_static("node.example:8080"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_of(&headers), "https://node.example:8080");
    }
}
