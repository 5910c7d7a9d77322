//! QR codes of GS1 Digital Links for labels: `GET /qr/{digital-link-path}` answers the link as
//! an SVG image with the link written under the code (the default), or as a PNG of the code
//! alone (`?format=png`, or `Accept: image/png`).
//!
//! The code holds the link in the canonical form of the Digital Link standard on
//! `https://id.gs1.org` — key, qualifiers in order, data attributes (an expiry date `17`, …) in
//! the query string — because every GS1-conformant scanner and resolver understands it and it
//! names the item, not this node: GS1's resolver sends a scan on to the brand's registered
//! resolver, which may be this node. Non-GS1 query parameters (`format`, `linkType`) are not
//! encoded.
//!
//! Owns: drawing the code (error correction level M, a four-module quiet zone) in both formats.
//! Does not own QR encoding (the `qrcode` crate), PNG encoding (`png`), nor Digital Link syntax
//! (a bad path gets `resolver`'s 400 answer).

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qrcode::{Color, EcLevel, QrCode};

use super::WebState;
use super::resolver::{canonical_of, cors, error_answer, parse_request};

/// Modules of blank margin around the code (the QR standard's quiet zone).
const QUIET_ZONE: usize = 4;
/// Pixels per module in a PNG.
const PNG_SCALE: usize = 8;

/// The QR route.
pub fn routes() -> Router<WebState> {
    Router::new().route("/qr/{*path}", get(qr))
}

/// The image formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// SVG with the link written under the code.
    Svg,
    /// PNG of the code alone.
    Png,
}

/// `GET /qr/{digital-link-path}`.
async fn qr(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().strip_prefix("/qr").unwrap_or_default();
    let query = uri.query();
    let format = match format_of(query, &headers) {
        Ok(format) => format,
        Err(value) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                &format!("format {value:?} is not an image format this node draws (svg, png)"),
                uri.path(),
                &headers,
            );
        }
    };
    let link = match parse_request(path, query) {
        Ok(link) => link,
        Err((status, problem)) => return error_answer(status, &problem, uri.path(), &headers),
    };
    let Some(text) = canonical_of(&link.ai_data()) else {
        return error_answer(
            StatusCode::BAD_REQUEST,
            "the link's data cannot be written as a Digital Link",
            uri.path(),
            &headers,
        );
    };
    let code = match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code,
        Err(error) => {
            return error_answer(
                StatusCode::BAD_REQUEST,
                &format!("the link does not fit in a QR code: {error}"),
                uri.path(),
                &headers,
            );
        }
    };
    let (media_type, body) = match format {
        Format::Svg => ("image/svg+xml", svg(&code, &text).into_bytes()),
        Format::Png => match png(&code) {
            Ok(bytes) => ("image/png", bytes),
            Err(error) => {
                return error_answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("the PNG could not be written: {error}"),
                    uri.path(),
                    &headers,
                );
            }
        },
    };
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static(media_type))], body).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response_headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // An SVG opened directly runs nothing and loads nothing (it styles by attributes only).
    response_headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    cors(response_headers);
    response
}

/// The format asked for: `?format=` first, then `Accept: image/png`; the offending value when
/// `format` names none.
fn format_of(query: Option<&str>, headers: &HeaderMap) -> Result<Format, String> {
    let parameter = query.and_then(|query| {
        query.split('&').find_map(|pair| pair.strip_prefix("format=").map(str::to_owned))
    });
    match parameter.as_deref() {
        Some("svg") => return Ok(Format::Svg),
        Some("png") => return Ok(Format::Png),
        Some(other) => return Err(other.chars().take(40).collect()),
        None => {}
    }
    let accepts_png =
        headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| {
            accept.len() <= 1024
                && !accept.contains("image/svg+xml")
                && accept.contains("image/png")
        });
    Ok(if accepts_png { Format::Png } else { Format::Svg })
}

/// `text` escaped for XML character data.
fn xml_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The code as SVG, one unit per module, with `text` written under it, fitted to the width.
fn svg(code: &QrCode, text: &str) -> String {
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let text_height = 4;
    let colors = code.to_colors();
    let mut path = String::new();
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let x = index % width + QUIET_ZONE;
            let y = index / width + QUIET_ZONE;
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    let height = size + text_height;
    let escaped = xml_escaped(text);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {size} {height}\" \
         width=\"{w}\" height=\"{h}\" shape-rendering=\"crispEdges\" role=\"img\" \
         aria-label=\"QR code: {escaped}\">\n\
         <title>{escaped}</title>\n\
         <rect width=\"{size}\" height=\"{height}\" fill=\"#fff\"/>\n\
         <path fill=\"#000\" d=\"{path}\"/>\n\
         <text x=\"{middle}\" y=\"{baseline}\" font-family=\"monospace\" font-size=\"1.6\" \
         text-anchor=\"middle\" textLength=\"{length}\" lengthAdjust=\"spacingAndGlyphs\" \
         fill=\"#000\">{escaped}</text>\n\
         </svg>\n",
        w = size * 8,
        h = height * 8,
        middle = size / 2,
        baseline = size + 1,
        length = size - 2,
    )
}

/// The code as a greyscale PNG, [`PNG_SCALE`] pixels per module.
fn png(code: &QrCode) -> Result<Vec<u8>, png::EncodingError> {
    let width = code.width();
    let pixels = (width + 2 * QUIET_ZONE) * PNG_SCALE;
    let colors = code.to_colors();
    let mut image = vec![255u8; pixels * pixels];
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let left = (index % width + QUIET_ZONE) * PNG_SCALE;
            let top = (index / width + QUIET_ZONE) * PNG_SCALE;
            for row in top..top + PNG_SCALE {
                image[row * pixels + left..row * pixels + left + PNG_SCALE].fill(0);
            }
        }
    }
    let side = u32::try_from(pixels).unwrap_or(u32::MAX);
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&image)?;
    writer.finish()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_writes_the_link_escaped_under_the_code() {
        let text = "https://id.gs1.org/01/09506000134352/10/L1?17=271231&3103=000500";
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let image = svg(&code, text);
        assert!(image.starts_with("<?xml"));
        assert!(image.contains("?17=271231&amp;3103=000500</text>"));
        assert!(!image.contains("&3103"));
    }

    #[test]
    fn the_png_has_the_signature_and_a_quiet_zone() {
        let code = QrCode::with_error_correction_level(
            b"https://id.gs1.org/00/006141411234567890",
            EcLevel::M,
        )
        .unwrap();
        let bytes = png(&code).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn formats_are_read_from_the_query_then_accept() {
        let mut headers = HeaderMap::new();
        assert_eq!(format_of(None, &headers), Ok(Format::Svg));
        assert_eq!(format_of(Some("format=png"), &headers), Ok(Format::Png));
        assert_eq!(format_of(Some("format=gif"), &headers), Err("gif".into()));
        headers.insert(header::ACCEPT, HeaderValue::from_static("image/png"));
        assert_eq!(format_of(None, &headers), Ok(Format::Png));
        assert_eq!(format_of(Some("format=svg"), &headers), Ok(Format::Svg));
    }
}
