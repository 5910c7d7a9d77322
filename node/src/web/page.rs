//! The consumer page: `GET /view/{digital-link-path}` (text/html, English or Simplified
//! Chinese) and `GET /view/{digital-link-path}/proof`, the evidence its script verifies and
//! `lotline verify` reads.
//!
//! Owns: what a consumer is shown of a lot (product and lot by name, origin, the path by
//! organisation, place and date, inspection results, recall notices reaching the lot, a marked
//! empty place for the cold chain) and what is deliberately left out (quantities, prices,
//! consignee lists, counterparties' parties: the public view); which entries the page relies
//! on, so the proof covers exactly them; the validator (`ETag`) and caching of the page; the
//! language choice. Does not own any ledger logic (traces, names and evidence come from
//! [`Ledger`]), Digital Link syntax (`lotline_ledger::gs1`, through `Subject::parse`), the
//! verification rules the script follows (`lotline_ledger::proof`), nor the resolver that
//! redirects here (`super::resolver`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lotline_ledger::coldchain::book::profile_in;
use lotline_ledger::entry::EntryRef;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::masterdata::{Described, Directory, attribute};
use lotline_ledger::proof::Evidence;
use lotline_ledger::records::{Payload, RecallClass, Verdict};
use lotline_ledger::roster::Role;
use lotline_ledger::trace::facts::Flow;
use lotline_ledger::trace::subject::normalise_gtin;
use lotline_ledger::trace::{EventHashId, OriginKind, Subject, SubjectError, TraceAnswer};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::WebState;
use super::assets;
use super::coldchain_view::{ColdChainView, cold_chain_view};
use crate::http::ApiError;
use crate::state::Ledger;

/// Longest Digital Link path a page is asked for; a longer one names no GS1 key.
const MAX_PATH_BYTES: usize = 1_024;
/// Longest query string read for the language switch; a longer one is ignored whole, so an
/// odd query costs nothing.
const MAX_QUERY_BYTES: usize = 2_048;
/// Longest `Accept-Language` header read; a longer one is ignored.
const MAX_ACCEPT_LANGUAGE_BYTES: usize = 512;
/// Longest `If-None-Match` header read; a longer one is ignored, so the page is sent.
const MAX_IF_NONE_MATCH_BYTES: usize = 1_024;
/// What a kept page costs beside its bytes (its key, the map's slot, the order's slot).
const PAGE_OVERHEAD_BYTES: usize = 512;
/// How long a built proof is served without asking the ledger again, while no entry
/// arrived: bounds how late a new checkpoint or cosignature reaches the page's script. The
/// page itself shows neither, so it is kept until an entry it rests on changes.
const PROOF_FRESHNESS: Duration = Duration::from_secs(5);
/// `Cache-Control` of the page and its proof: anyone may cache it, and must revalidate
/// (cheaply, with the `ETag`) before reuse, because a recall must show at once.
const CACHE_CONTROL: &str = "public, no-cache";

/// The consumer page's routes, with the cache they share: rendered pages and their proofs are
/// kept within `page_cache_bytes`.
pub fn routes(page_cache_bytes: usize) -> Router<WebState> {
    Router::new()
        .route("/view/{*path}", get(view))
        .layer(Extension(Arc::new(Cache::new(page_cache_bytes))))
}

/// The page's Content-Security-Policy as a header value, built once.
static POLICY_HEADER: LazyLock<Option<HeaderValue>> =
    LazyLock::new(|| HeaderValue::from_str(&assets::PAGE_POLICY).ok());

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The slot of the language's kept pages.
    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Zh => 1,
        }
    }

    /// `?lang=` first, then the first English or Chinese range of `Accept-Language` by
    /// weight; English otherwise.
    fn choose(query: Option<&str>, headers: &HeaderMap) -> Self {
        if let Some(query) = query.filter(|query| query.len() <= MAX_QUERY_BYTES) {
            for pair in query.split('&') {
                match pair {
                    "lang=zh" | "lang=zh-Hans" | "lang=zh-CN" => return Lang::Zh,
                    "lang=en" => return Lang::En,
                    _ => {}
                }
            }
        }
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .filter(|value| value.len() <= MAX_ACCEPT_LANGUAGE_BYTES)
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for range in accepted.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|part| part.trim().strip_prefix("q="))
                .and_then(|weight| weight.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(best_weight, _)| weight > best_weight) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

/// Every sentence of the page, per language.
#[derive(Debug)]
struct Text {
    html_lang: &'static str,
    switch_label: &'static str,
    switch_lang: &'static str,
    switch_html_lang: &'static str,
    title_suffix: &'static str,
    lot: &'static str,
    serial: &'static str,
    pallet: &'static str,
    unnamed_product: &'static str,
    recall_title: &'static str,
    recall_class: [&'static str; 3],
    recall_issued_by: &'static str,
    recall_instructions: &'static str,
    origin: &'static str,
    origin_commissioned: &'static str,
    origin_transformed: &'static str,
    origin_none: &'static str,
    ingredients: &'static str,
    path: &'static str,
    path_none: &'static str,
    flow: [&'static str; 5],
    of_ingredient: &'static str,
    by: &'static str,
    at: &'static str,
    certificates: &'static str,
    certificates_none: &'static str,
    verdict: [&'static str; 3],
    tested_by: &'static str,
    cold_chain: &'static str,
    cold_chain_none: &'static str,
    cold_chain_kept: &'static str,
    cold_chain_excursion: &'static str,
    cold_chain_profile: &'static str,
    cold_chain_readings: &'static str,
    cold_chain_out_of_range: &'static str,
    cold_chain_chart: &'static str,
    cold_chain_ongoing: &'static str,
    cold_chain_minutes: &'static str,
    cold_chain_recorded_by: &'static str,
    verification_title: &'static str,
    verification_no_script: &'static str,
    checking: &'static str,
    verified: &'static str,
    incomplete: &'static str,
    failed: &'static str,
    unavailable: &'static str,
    signed_by: &'static str,
    step_failed: &'static str,
    proof_link: &'static str,
    proof_help: &'static str,
    product_only: &'static str,
    problem_title: &'static str,
    unknown_lot: &'static str,
}

const EN: Text = Text {
    html_lang: "en",
    switch_label: "中文",
    switch_lang: "zh",
    switch_html_lang: "zh-Hans",
    title_suffix: "where it comes from",
    lot: "Lot",
    serial: "Serial number",
    pallet: "Pallet (SSCC)",
    unnamed_product: "Product",
    recall_title: "Recalled: do not eat or use this product",
    recall_class: ["Class I recall", "Class II recall", "Class III recall"],
    recall_issued_by: "Issued by",
    recall_instructions: "What to do",
    origin: "Origin",
    origin_commissioned: "Produced",
    origin_transformed: "Made",
    origin_none: "No origin is recorded for this lot.",
    ingredients: "Made from",
    path: "Its path",
    path_none: "No step is recorded.",
    flow: ["Produced", "Received", "Shipped", "Sold or taken out of distribution", "Handled"],
    of_ingredient: "ingredient",
    by: "by",
    at: "at",
    certificates: "Certificates and inspections",
    certificates_none: "No inspection result names this lot.",
    verdict: ["passed", "failed", "inconclusive"],
    tested_by: "tested by",
    cold_chain: "Cold chain",
    cold_chain_none: "No temperature record for this lot.",
    cold_chain_kept: "Kept within range: no temperature excursion recorded.",
    cold_chain_excursion: "Temperature excursion recorded",
    cold_chain_profile: "Required",
    cold_chain_readings: "readings",
    cold_chain_out_of_range: "The last reading is out of range.",
    cold_chain_chart: "Temperature over the journey; the allowed range is shaded green, excursions red",
    cold_chain_ongoing: "ongoing",
    cold_chain_minutes: "min beyond the limit",
    cold_chain_recorded_by: "recorded by",
    verification_title: "Verification",
    verification_no_script: "This page checks its own proof in your browser when scripts run.",
    checking: "Checking the signatures of every step…",
    verified: "Verified: {entries} signed entries checked against their feeds' checkpoints ({witnesses} witness cosignatures).",
    incomplete: "Partly verified: some steps are not yet in a signed checkpoint.",
    failed: "Not verified: the proof does not match what this page shows.",
    unavailable: "This browser cannot check signatures here; use the proof file below.",
    signed_by: "Signed by",
    step_failed: "Not verified",
    proof_link: "Proof file",
    proof_help: "Check it offline with",
    product_only: "This code names a product, not a lot: the lot number on the pack tells its origin and path.",
    problem_title: "This code cannot be read",
    unknown_lot: "Nothing is recorded about this lot on this node.",
};

const ZH: Text = Text {
    html_lang: "zh-Hans",
    switch_label: "English",
    switch_lang: "en",
    switch_html_lang: "en",
    title_suffix: "产品溯源",
    lot: "批次",
    serial: "序列号",
    pallet: "托盘（SSCC）",
    unnamed_product: "产品",
    recall_title: "已召回：请勿食用或使用本产品",
    recall_class: ["一级召回", "二级召回", "三级召回"],
    recall_issued_by: "发布机构",
    recall_instructions: "处理方式",
    origin: "产地",
    origin_commissioned: "生产",
    origin_transformed: "加工",
    origin_none: "本批次没有产地记录。",
    ingredients: "原料",
    path: "流通路径",
    path_none: "没有流通记录。",
    flow: ["生产", "收货", "发货", "已售出或退出流通", "经手"],
    of_ingredient: "原料",
    by: "经办",
    at: "地点",
    certificates: "证书与检验结果",
    certificates_none: "没有针对本批次的检验结果。",
    verdict: ["合格", "不合格", "无结论"],
    tested_by: "检验机构",
    cold_chain: "冷链",
    cold_chain_none: "此批次没有温度记录。",
    cold_chain_kept: "温度始终在范围内：未记录温度偏离。",
    cold_chain_excursion: "记录到温度偏离",
    cold_chain_profile: "温控要求",
    cold_chain_readings: "个读数",
    cold_chain_out_of_range: "最后一个读数超出范围。",
    cold_chain_chart: "运输途中的温度曲线；绿色为允许范围，红色为偏离",
    cold_chain_ongoing: "仍在持续",
    cold_chain_minutes: "分钟超出限值",
    cold_chain_recorded_by: "记录方",
    verification_title: "验证",
    verification_no_script: "启用脚本后，本页会在浏览器中自行核验证明。",
    checking: "正在核验每一步的签名…",
    verified: "已验证：{entries} 条签名记录已按其账本检查点核验（{witnesses} 个见证人联署）。",
    incomplete: "部分验证：部分记录尚未进入已签名的检查点。",
    failed: "验证失败：证明与本页内容不符。",
    unavailable: "此浏览器无法在本页核验签名，请使用下方的证明文件。",
    signed_by: "签名机构",
    step_failed: "未通过验证",
    proof_link: "证明文件",
    proof_help: "离线核验命令",
    product_only: "此码标识的是产品而非批次：包装上的批号可查询产地与流通路径。",
    problem_title: "无法识别此码",
    unknown_lot: "本节点没有此批次的记录。",
};

/// Text that is safe in HTML as it is, so the template writes it without escaping: a key, an
/// entry hash or an Event Hash ID is hex and punctuation that is never markup. Anything else
/// given to it is escaped once, when it is made. A page carries hundreds of these.
#[derive(Debug, Clone)]
struct HtmlText(Arc<str>);

impl HtmlText {
    /// `text`, escaped as the templates escape when it holds anything but letters, digits
    /// and URI punctuation.
    fn new(text: &str) -> Self {
        let plain = text.bytes().all(|byte| {
            byte.is_ascii_alphanumeric()
                || matches!(byte, b':' | b'/' | b';' | b'?' | b'=' | b'.' | b'-' | b'_')
        });
        if plain {
            return HtmlText(Arc::from(text));
        }
        let Ok(escaped) = askama::filters::escape(text, askama::filters::Html);
        let escaped = escaped.to_string();
        HtmlText(Arc::from(escaped))
    }

    /// An Event Hash ID as the page shows it. Its SHA-256 form is hex behind a fixed prefix
    /// and is written as it is; any other form is checked like any text.
    fn event(event: &EventHashId) -> Self {
        match event {
            EventHashId::Sha256(_) => HtmlText(Arc::from(event.to_string())),
            EventHashId::Text(_) => Self::new(&event.to_string()),
        }
    }

    /// `bytes` in lower-case hex.
    fn hex(bytes: &[u8]) -> Self {
        HtmlText(Arc::from(hex::encode(bytes)))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for HtmlText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for HtmlText {}

/// A step of the lot's path, or its origin, as shown.
#[derive(Debug, Clone)]
struct StepView {
    /// Date (`YYYY-MM-DD`).
    date: String,
    /// What happened, in the page's language.
    what: &'static str,
    /// The organisation that recorded it, by name.
    organisation: Arc<str>,
    /// Its key (hex), which the script checks signed the step.
    author: HtmlText,
    /// The place by name and city, when known.
    place: Option<Arc<PlaceView>>,
    /// The Event Hash ID the step comes from.
    event: HtmlText,
    /// For a step of an ingredient: that ingredient's name.
    ingredient: Option<Named>,
    /// Sort key (RFC 3339 time).
    time: String,
}

/// A name as shown, with the master-data entry that states it (entry hash, hex): the script
/// checks the name is one of that signed statement's values.
#[derive(Debug, Clone)]
struct Named {
    /// What is shown.
    text: Arc<str>,
    /// The statement's entry, when the name comes from master data.
    entry: Option<HtmlText>,
}

impl Named {
    /// Text no statement states (a fallback or a roster name).
    fn plain(text: &str) -> Self {
        Named { text: Arc::from(text), entry: None }
    }
}

/// A place as shown: its name, then its city and country from the same statement, which the
/// page cites once for all three.
#[derive(Debug, Clone)]
struct PlaceView {
    /// Its name.
    name: Arc<str>,
    /// City and country, when stated.
    details: Vec<Arc<str>>,
    /// The statement's entry, when the name comes from master data.
    entry: Option<HtmlText>,
}

/// A recall notice reaching the lot, as shown.
#[derive(Debug, Clone)]
struct RecallView {
    recall_id: String,
    class: &'static str,
    hazard: String,
    instructions: String,
    issuer: Arc<str>,
    author: HtmlText,
    entry_hash: HtmlText,
}

/// An inspection result naming the lot (or an ingredient), as shown.
#[derive(Debug, Clone)]
struct InspectionView {
    test: String,
    verdict: &'static str,
    verdict_class: &'static str,
    date: String,
    lab: Arc<str>,
    author: HtmlText,
    entry_hash: HtmlText,
    ingredient: Option<Named>,
}

/// The page of a lot.
#[derive(Template)]
#[template(path = "page.html")]
struct LotPage<'page> {
    t: &'static Text,
    switch_href: String,
    product: Named,
    /// What the code names beside the product: lot, serial number or pallet.
    code_label: &'static str,
    /// The lot number, serial number or SSCC.
    lot_number: String,
    subject: String,
    origins: Vec<StepView>,
    ingredients: Vec<Named>,
    steps: Vec<StepView>,
    recalls: Vec<RecallView>,
    inspections: Vec<InspectionView>,
    /// The cold-chain section.
    cold: ColdChainView,
    proof_href: &'page str,
    /// The file name the proof downloads as, which the documented command names.
    proof_file: String,
}

/// A page that names a problem or a product without a lot.
#[derive(Template)]
#[template(path = "page_message.html")]
struct MessagePage {
    t: &'static Text,
    style: &'static str,
    switch_href: String,
    title: String,
    message: String,
    detail: String,
}

/// A rendered page and what it relies on, kept between requests.
#[derive(Debug)]
struct Rendered {
    /// The lot page in the language it was asked in, without its style sheet and script: they
    /// are the same on every page, so they are sent from the binary between these bytes (at
    /// `style_at` and `script_at`) and a kept page holds only what is its own.
    html: Bytes,
    /// Where the style sheet goes in `html`.
    style_at: usize,
    /// Where the script goes in `html`.
    script_at: usize,
    /// The validator: a digest of everything the page was built from (see [`Basis`]).
    etag: String,
    /// The validator as the `ETag` header sends it.
    etag_header: Option<HeaderValue>,
    /// The canonical Digital Link of the lot.
    subject: String,
    /// The page's own path, which the proof names.
    page_path: String,
    /// Entries the page relies on: its proof covers exactly these.
    entries: Vec<(PublicKey, u64)>,
    /// Event Hash IDs the page shows.
    events: Vec<EventHashId>,
    /// Witness keys (hex) the proof lists for the script.
    witnesses: Arc<[String]>,
}

impl Rendered {
    /// The whole page as a body: its own bytes with the style sheet and script between them,
    /// none of them copied.
    fn body(&self) -> Body {
        let (style_at, script_at) = (self.style_at, self.script_at);
        Body::new(PartsBody::new([
            self.html.slice(..style_at),
            Bytes::from_static(assets::STYLE.as_bytes()),
            self.html.slice(style_at..script_at),
            Bytes::from_static(assets::SCRIPT.as_bytes()),
            self.html.slice(script_at..),
        ]))
    }

    /// The bytes it holds, for the cache's budget.
    fn weight(&self) -> usize {
        self.html.len()
            + self.subject.len()
            + self.page_path.len()
            + self.etag.len()
            + self.entries.len() * std::mem::size_of::<(PublicKey, u64)>()
            + self
                .events
                .iter()
                .map(|event| {
                    std::mem::size_of::<EventHashId>()
                        + match event {
                            EventHashId::Text(text) => text.len(),
                            EventHashId::Sha256(_) => 0,
                        }
                })
                .sum::<usize>()
    }
}

/// A body of a few parts sent one after the other, with its exact length known, so it is sent
/// with `Content-Length`.
struct PartsBody {
    parts: VecDeque<Bytes>,
}

impl PartsBody {
    fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        PartsBody { parts: parts.into_iter().filter(|part| !part.is_empty()).collect() }
    }
}

impl HttpBody for PartsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.parts.pop_front().map(|part| Ok(http_body::Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.parts.iter().map(|part| part.len() as u64).sum())
    }
}

/// A page's proof file and its validator.
#[derive(Debug)]
struct Proof {
    /// The proof file (JSON).
    json: Bytes,
    /// Its validator: the page's, and the checkpoints and cosignatures proving its entries.
    etag: String,
}

/// The records of the ledger that a page may show (recall notices, inspection results), read
/// incrementally per feed, and the rendered pages.
#[derive(Debug)]
struct Cache {
    records: Mutex<RecordScan>,
    pages: Mutex<Pages>,
    /// The roster's names and witnesses, with the roster version they were read at: a page
    /// reads them without copying the roster, which grows with the network.
    roster: Mutex<Option<(u64, Arc<RosterNames>)>>,
}

/// What a page needs of the roster.
#[derive(Debug)]
struct RosterNames {
    /// Organisation names by key (hex).
    organisations: HashMap<String, Arc<str>>,
    /// Organisation names by GLN, for a party link that names a member.
    by_gln: HashMap<String, Arc<str>>,
    /// Witness keys (hex).
    witnesses: Arc<[String]>,
}

/// A rendered page, and the store's size when it was last known current.
#[derive(Debug)]
struct CachedPage {
    /// Entries in the store when the page was last known current: while the store holds no
    /// more, nothing can have changed it and it is served without asking the ledger.
    size: u64,
    /// The page.
    rendered: Arc<Rendered>,
    /// Its proof once asked for, with when it was built and the store's size then.
    proof: Option<(Instant, u64, Arc<Proof>)>,
}

impl CachedPage {
    /// The bytes it holds, for the cache's budget.
    fn weight(&self) -> usize {
        PAGE_OVERHEAD_BYTES
            + self.rendered.weight()
            + self.proof.as_ref().map_or(0, |(_, _, proof)| proof.json.len() + proof.etag.len())
    }
}

/// Rendered pages kept within a byte budget, per language by canonical Digital Link. When the
/// budget is spent the page kept longest leaves first: scans spread over every lot, and a
/// page's first render is what a kept page saves, whichever page it is.
#[derive(Debug)]
struct Pages {
    /// Keyed by links of lots the ledger knows (a page is kept only for those), hashed with
    /// a per-process seed.
    kept: [HashMap<Box<str>, CachedPage, foldhash::fast::RandomState>; 2],
    /// Kept pages in the order they were first kept.
    order: VecDeque<(Lang, Box<str>)>,
    /// What the kept pages weigh (see [`CachedPage::weight`]).
    bytes: usize,
    /// The most they may weigh; 0 keeps nothing.
    budget: usize,
}

impl Drop for Pages {
    fn drop(&mut self) {
        crate::metrics::page_cache_changed(self.bytes, 0, 0);
    }
}

impl Pages {
    fn new(budget: usize) -> Self {
        Pages { kept: Default::default(), order: VecDeque::new(), bytes: 0, budget }
    }

    fn get(&self, lang: Lang, link: &str) -> Option<&CachedPage> {
        self.kept[lang.index()].get(link)
    }

    /// Keeps `page`, in place of the page kept for the same lot and language.
    fn insert(&mut self, lang: Lang, link: &str, page: CachedPage) {
        let weight = page.weight();
        if weight > self.budget {
            return;
        }
        let before = self.bytes;
        let kept = &mut self.kept[lang.index()];
        if let Some(old) = kept.get_mut(link) {
            self.bytes -= old.weight();
            *old = page;
        } else {
            kept.insert(link.into(), page);
            self.order.push_back((lang, link.into()));
        }
        self.bytes += weight;
        self.evict(before);
    }

    /// Changes the kept page of `link` in `lang` with `change`, its weight accounted again.
    fn update(&mut self, lang: Lang, link: &str, change: impl FnOnce(&mut CachedPage)) {
        let before = self.bytes;
        let Some(page) = self.kept[lang.index()].get_mut(link) else { return };
        self.bytes -= page.weight();
        change(page);
        self.bytes += page.weight();
        self.evict(before);
    }

    /// Lets the pages kept longest go until the rest fit the budget, and tells the metrics
    /// how the kept bytes changed since they were `before`.
    fn evict(&mut self, before: usize) {
        let mut evicted = 0;
        while self.bytes > self.budget {
            let Some((lang, link)) = self.order.pop_front() else { break };
            if let Some(page) = self.kept[lang.index()].remove(&link) {
                self.bytes -= page.weight();
                evicted += 1;
            }
        }
        crate::metrics::page_cache_changed(before, self.bytes, evicted);
    }
}

/// Recall notices and inspection results read so far, and how far each feed was read.
#[derive(Debug, Default)]
struct RecordScan {
    /// Whether the first pass over the whole store ran.
    started: bool,
    /// The store's size when it was last read: while it holds no more entries there is
    /// nothing new to read, and the feeds are not listed.
    read_at: u64,
    /// Next sequence to read per feed.
    next: BTreeMap<PublicKey, u64>,
    /// The records by each lot they name (canonical Digital Links), in append order.
    by_lot: HashMap<String, Vec<Arc<PageRecord>>>,
}

impl RecordScan {
    /// Reads what the feeds gained: the whole store in one pass the first time (in append
    /// order, as the store reads its segments), then each feed's new entries. `size` is the
    /// store's size before the feeds are listed, so an entry appended meanwhile is read now
    /// or on the next call, never skipped.
    fn read_new(&mut self, store: &lotline_ledger::store::Store, size: u64) {
        let scan = self;
        let heads = store.heads();
        if !scan.started {
            let ends: BTreeMap<PublicKey, u64> =
                heads.iter().map(|(author, head)| (*author, head.sequence + 1)).collect();
            for entry in store.entries_in_order().flatten() {
                if entry.sequence() < ends.get(&entry.author()).copied().unwrap_or(0) {
                    scan.consider(&entry);
                }
            }
            scan.next = ends;
            scan.started = true;
        }
        for (author, head) in heads {
            let from = scan.next.get(&author).copied().unwrap_or(0);
            for sequence in from..=head.sequence {
                if let Ok(Some(entry)) = store.entry(&author, sequence) {
                    scan.consider(&entry);
                }
            }
            scan.next.insert(author, head.sequence + 1);
        }
        scan.read_at = size;
    }

    /// Keeps `entry` when it is a recall notice or an inspection result.
    fn consider(&mut self, entry: &VerifiedEntry) {
        let lots = match entry.payload() {
            Some(Payload::RecallNotice(notice)) => &notice.lots,
            Some(Payload::InspectionResult(result)) => &result.lots,
            Some(Payload::Excursion(excursion)) => &excursion.lots,
            _ => return,
        };
        let lots: BTreeSet<String> = lots
            .iter()
            .filter_map(|lot| Subject::parse(lot).ok())
            .map(|subject| subject.link().to_owned())
            .collect();
        let Some(payload) = entry.payload().cloned() else { return };
        let record = Arc::new(PageRecord { entry: entry.reference(), lots, payload });
        for lot in &record.lots {
            self.by_lot.entry(lot.clone()).or_default().push(Arc::clone(&record));
        }
    }
}

/// A recall notice or inspection result, with its entry.
#[derive(Debug)]
struct PageRecord {
    entry: EntryRef,
    lots: BTreeSet<String>,
    payload: Payload,
}

impl Cache {
    fn new(page_cache_bytes: usize) -> Self {
        Cache {
            records: Mutex::default(),
            pages: Mutex::new(Pages::new(page_cache_bytes)),
            roster: Mutex::default(),
        }
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The roster's names and witnesses with the roster's version, read again only when the
    /// roster changed.
    fn roster_names(&self, ledger: &Ledger) -> (u64, Arc<RosterNames>) {
        let store = ledger.store();
        let version = store.with_roster(lotline_ledger::roster::Roster::version);
        let mut kept = self.roster.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((kept_version, names)) = kept.as_ref()
            && *kept_version == version
        {
            return (version, Arc::clone(names));
        }
        let names = Arc::new(store.with_roster(|roster| {
            RosterNames {
                organisations: roster
                    .members()
                    .map(|member| (member.key.to_hex(), Arc::from(member.name.as_str())))
                    .collect(),
                by_gln: roster
                    .members()
                    .map(|member| (member.gln.clone(), Arc::from(member.name.as_str())))
                    .collect(),
                witnesses: roster
                    .members()
                    .filter(|member| member.roles.contains(&Role::Witness))
                    .map(|member| member.key.to_hex())
                    .collect(),
            }
        }));
        *kept = Some((version, Arc::clone(&names)));
        (version, names)
    }

    /// The page of the lot whose canonical link is `link`, in `lang`, when one is kept and no
    /// entry arrived since it was last known current. Takes two in-memory locks only, so it runs on the async threads.
    fn unchanged(&self, ledger: &Ledger, link: &str, lang: Lang) -> Option<Arc<Rendered>> {
        let size = ledger.store().len();
        let pages = self.pages();
        let cached = pages.get(lang, link)?;
        (cached.size == size).then(|| Arc::clone(&cached.rendered))
    }

    /// The kept proof of the page of `link` in `lang` while no entry arrived and it is fresh.
    fn fresh_proof(&self, ledger: &Ledger, link: &str, lang: Lang) -> Option<Arc<Proof>> {
        let size = ledger.store().len();
        let pages = self.pages();
        let (made, proof_size, proof) = pages.get(lang, link)?.proof.as_ref()?;
        (*proof_size == size && made.elapsed() < PROOF_FRESHNESS).then(|| Arc::clone(proof))
    }

    /// Keeps `rendered` as current at store size `size`, its proof with it when the page is
    /// the one already kept.
    fn keep(&self, lang: Lang, size: u64, rendered: &Arc<Rendered>) {
        let mut pages = self.pages();
        let link = rendered.subject.as_str();
        if pages.get(lang, link).is_some_and(|cached| Arc::ptr_eq(&cached.rendered, rendered)) {
            pages.update(lang, link, |cached| cached.size = cached.size.max(size));
            return;
        }
        pages.insert(lang, link, CachedPage { size, rendered: Arc::clone(rendered), proof: None });
    }

    /// The kept page of `subject` in `lang` when its validator is `etag`.
    fn with_etag(&self, subject: &Subject, lang: Lang, etag: &str) -> Option<Arc<Rendered>> {
        let pages = self.pages();
        let cached = pages.get(lang, subject.link())?;
        (cached.rendered.etag == etag).then(|| Arc::clone(&cached.rendered))
    }

    /// Keeps `proof` beside the page it proves, when that page is still the one kept.
    fn keep_proof(&self, lang: Lang, size: u64, rendered: &Arc<Rendered>, proof: &Arc<Proof>) {
        let mut pages = self.pages();
        let link = rendered.subject.as_str();
        if pages.get(lang, link).is_some_and(|cached| Arc::ptr_eq(&cached.rendered, rendered)) {
            pages.update(lang, link, |cached| {
                cached.proof = Some((Instant::now(), size, Arc::clone(proof)));
            });
        }
    }

    /// The records naming any of `lots`, each once, after reading what the feeds gained since
    /// the last call.
    fn records<'lot>(
        &self,
        ledger: &Ledger,
        lots: impl IntoIterator<Item = &'lot str>,
    ) -> Vec<Arc<PageRecord>> {
        let mut scan = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = ledger.store();
        let size = store.len();
        if !scan.started || scan.read_at != size {
            scan.read_new(store, size);
        }
        let mut seen = BTreeSet::new();
        lots.into_iter()
            .filter_map(|lot| scan.by_lot.get(lot))
            .flatten()
            .filter(|record| seen.insert(record.entry))
            .cloned()
            .collect()
    }
}

/// `GET /view/{path}` and `GET /view/{path}/proof`.
async fn view(
    State(state): State<WebState>,
    Extension(cache): Extension<Arc<Cache>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::choose(uri.query(), &headers);
    let path = uri.path().strip_prefix("/view/").unwrap_or_default();
    let (path, wants_proof) = match path.strip_suffix("/proof") {
        Some(path) => (path, true),
        None => (path, false),
    };
    if path.len() > MAX_PATH_BYTES {
        return problem(wants_proof, lang, StatusCode::BAD_REQUEST, "the path is too long");
    }
    let link = format!("https://id.gs1.org/{path}");
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.len() <= MAX_IF_NONE_MATCH_BYTES)
        .map(str::to_owned);
    // A kept page is found by the path as asked when that is its lot's canonical link, as the
    // resolver's redirects and the page's own links write it, without reading the path.
    let kept = if wants_proof {
        None
    } else {
        cache.unchanged(&state.ledger, &link, lang).map(Served::Page)
    };
    let served = match kept {
        Some(served) => Ok(served),
        None => {
            let subject = match Subject::parse(&link) {
                Ok(subject) => subject,
                Err(SubjectError::ProductOnly(_)) if !wants_proof => {
                    return product_page(&state.ledger, lang, path).await;
                }
                Err(error) => {
                    return problem(wants_proof, lang, StatusCode::BAD_REQUEST, &error.to_string());
                }
            };
            let kept = if wants_proof {
                cache.fresh_proof(&state.ledger, subject.link(), lang).map(Served::Proof)
            } else {
                cache.unchanged(&state.ledger, subject.link(), lang).map(Served::Page)
            };
            match kept {
                Some(served) => Ok(served),
                None => {
                    let ledger = Arc::clone(&state.ledger);
                    let asked = Asked {
                        subject,
                        page_path: format!("/view/{path}"),
                        lang,
                        wants_proof,
                        if_none_match: if_none_match.clone(),
                    };
                    tokio::task::spawn_blocking(move || current(&ledger, &cache, &asked))
                        .await
                        .unwrap_or_else(|error| Err(PageError::Ledger(error.to_string())))
                }
            }
        }
    };
    let served = match served {
        Ok(served) => served,
        Err(PageError::Unknown) => {
            return problem(wants_proof, lang, StatusCode::NOT_FOUND, lang.text().unknown_lot);
        }
        Err(PageError::Ledger(reason)) => {
            tracing::warn!(%reason, "consumer page failed");
            return problem(
                wants_proof,
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the node could not read its ledger",
            );
        }
    };
    let etag = match &served {
        Served::Page(rendered) => &rendered.etag,
        Served::Proof(proof) => &proof.etag,
        Served::NotModified(etag) => etag,
    };
    let matches = matches!(served, Served::NotModified(_))
        || if_none_match.as_deref().is_some_and(|tags| etag_listed(tags, etag));
    if !wants_proof {
        crate::metrics::page_answered();
    }
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (body, content_type) = match &served {
            Served::Page(rendered) => (rendered.body(), "text/html; charset=utf-8"),
            Served::Proof(proof) => (Body::from(proof.json.clone()), "application/json"),
            Served::NotModified(_) => (Body::empty(), "text/plain"),
        };
        let mut response = Response::new(body);
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let etag_header = match &served {
        Served::Page(rendered) => rendered.etag_header.clone(),
        _ => HeaderValue::from_str(&format!("\"{etag}\"")).ok(),
    };
    let response_headers = response.headers_mut();
    if let Some(value) = etag_header {
        response_headers.insert(header::ETAG, value);
    }
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    if !wants_proof {
        secure_page_headers(response_headers);
    }
    response
}

/// Whether an `If-None-Match` list names `etag` (unquoted) or is `*`; a weak tag (`W/"…"`)
/// matches too, as the header compares weakly.
fn etag_listed(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || tag
                .trim_start_matches("W/")
                .strip_prefix('"')
                .and_then(|tag| tag.strip_suffix('"'))
                .is_some_and(|tag| tag == etag)
    })
}

/// What a request asks of a lot page.
struct Asked {
    subject: Subject,
    page_path: String,
    lang: Lang,
    wants_proof: bool,
    /// The request's `If-None-Match`, when short enough to read.
    if_none_match: Option<String>,
}

/// What is sent back for a lot page.
enum Served {
    /// The page.
    Page(Arc<Rendered>),
    /// Its proof.
    Proof(Arc<Proof>),
    /// The page is unchanged from the one the client holds (the validator, unquoted).
    NotModified(String),
}

/// The headers every HTML page carries: its policy, and no sniffing or framing.
fn secure_page_headers(headers: &mut HeaderMap) {
    if let Some(policy) = POLICY_HEADER.as_ref() {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// Why a lot page could not be built.
#[derive(Debug)]
enum PageError {
    /// Nothing is recorded about the lot.
    Unknown,
    /// The ledger failed.
    Ledger(String),
}

/// The page (or proof) of a lot as the ledger stands. The trace's walk alone tells which
/// entries the page rests on, so its validator is known before anything is rendered: a kept
/// page with that validator is still current (the entries that arrived touch nothing it
/// shows), and a client holding it gets `304` without a render.
fn current(ledger: &Ledger, cache: &Cache, asked: &Asked) -> Result<Served, PageError> {
    let Asked { subject, page_path, lang, wants_proof, if_none_match } = asked;
    let lang = *lang;
    let size = ledger.store().len();
    let rendered = match cache.unchanged(ledger, subject.link(), lang) {
        Some(rendered) => rendered,
        None => {
            let answer = ledger.provenance(subject);
            if answer.events.is_empty() {
                return Err(PageError::Unknown);
            }
            let records = cache.records(ledger, answer.lots.iter().map(|lot| &**lot));
            let (roster_version, roster) = cache.roster_names(ledger);
            let directory_size = ledger.with_directory(|directory| directory.len());
            let etag = basis(lang, &answer, &records, roster_version, directory_size);
            if let Some(rendered) = cache.with_etag(subject, lang, &etag) {
                cache.keep(lang, size, &rendered);
                rendered
            } else if !wants_proof
                && if_none_match.as_deref().is_some_and(|tags| etag_listed(tags, &etag))
            {
                return Ok(Served::NotModified(etag));
            } else {
                let basis = Basis { answer, records, roster, etag };
                let rendered = Arc::new(render(ledger, subject, page_path, lang, basis)?);
                crate::metrics::page_rendered();
                cache.keep(lang, size, &rendered);
                rendered
            }
        }
    };
    if !wants_proof {
        return Ok(Served::Page(rendered));
    }
    if let Some(proof) = cache.fresh_proof(ledger, subject.link(), lang) {
        return Ok(Served::Proof(proof));
    }
    let proof = Arc::new(build_proof(ledger, &rendered, lang)?);
    cache.keep_proof(lang, size, &rendered, &proof);
    Ok(Served::Proof(proof))
}

/// What a page is built from: the trace's walk, the records reaching its lots, the roster's
/// names, and the validator they give.
struct Basis {
    answer: TraceAnswer,
    records: Vec<Arc<PageRecord>>,
    roster: Arc<RosterNames>,
    etag: String,
}

/// The page's validator from what it is built from, before rendering: the entries the walk
/// reached and the records reaching its lots (a new entry touching the lot or anything it was
/// made from changes them), the roster's version (organisation names), the master-data
/// directory's size (every statement adds to it, and names come from statements), the
/// language and the build (template and assets).
fn basis(
    lang: Lang,
    answer: &TraceAnswer,
    records: &[Arc<PageRecord>],
    roster_version: u64,
    directory_size: usize,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"lotline consumer page\n");
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(*ASSETS_DIGEST);
    hasher.update(if lang == Lang::Zh { b"zh" } else { b"en" });
    hasher.update(roster_version.to_le_bytes());
    hasher.update((directory_size as u64).to_le_bytes());
    let entries = answer.entries.iter().map(|reference| &reference.entry);
    for entry in entries.chain(records.iter().map(|record| &record.entry)) {
        hasher.update(entry.author.as_bytes());
        hasher.update(entry.sequence.to_le_bytes());
        hasher.update(entry.entry_hash.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// A digest of the page's style and script, so a build that changes them changes every
/// validator.
static ASSETS_DIGEST: std::sync::LazyLock<[u8; 32]> = std::sync::LazyLock::new(|| {
    let mut hasher = Sha256::new();
    hasher.update(assets::STYLE.as_bytes());
    hasher.update(assets::SCRIPT.as_bytes());
    hasher.finalize().into()
});

/// The proof of a rendered page: the evidence for exactly the entries it relies on.
fn build_proof(ledger: &Ledger, rendered: &Rendered, lang: Lang) -> Result<Proof, PageError> {
    let evidence: Evidence = ledger
        .store()
        .evidence(&rendered.entries)
        .map_err(|error| PageError::Ledger(error.to_string()))?;
    let proof = json!({
        "subject": rendered.subject,
        "page": rendered.page_path,
        "events": rendered.events,
        "witnesses": rendered.witnesses,
        "evidence": evidence,
    });
    let json =
        serde_json::to_string(&proof).map_err(|error| PageError::Ledger(error.to_string()))?;
    let etag = format!("p{}", validator(&evidence, &rendered.entries, lang));
    Ok(Proof { json: Bytes::from(json), etag })
}

/// What the page shows, gathered while noting every entry and name it relies on.
struct Gathered<'render> {
    /// The master-data directory, read under one lock for the whole render.
    directory: &'render Directory,
    /// The entry carrying each event of the answer.
    carriers: HashMap<&'render EventHashId, (PublicKey, u64)>,
    /// Entries the page relies on.
    entries: BTreeSet<(PublicKey, u64)>,
    /// Event Hash IDs the page shows.
    events: BTreeSet<EventHashId>,
    /// Organisation names by key, and the witnesses, from the roster.
    roster: &'render RosterNames,
    /// Places already looked up, by canonical Digital Link.
    places: HashMap<&'render str, Option<Arc<PlaceView>>>,
    /// Organisation keys as the page writes them.
    authors: HashMap<&'render str, HtmlText>,
    /// Entries the path leaves out because another section shows them (the sensor events
    /// behind the cold-chain curve).
    hidden: BTreeSet<(PublicKey, u64)>,
}

impl<'render> Gathered<'render> {
    /// The name master data gives `id` (see `Directory::name_of`), noting the statement's
    /// entry.
    fn name(&mut self, id: &str) -> Option<Named> {
        self.described(id).map(|(named, _)| named)
    }

    /// The name master data gives `id` with the statement that gives it, its entry noted.
    fn described(&mut self, id: &str) -> Option<(Named, &'render Described)> {
        let described = self.directory.name_of(id)?;
        let text = described.statement.name()?;
        self.entries.insert((described.entry.author, described.entry.sequence));
        let named = Named {
            text: Arc::from(text),
            entry: Some(HtmlText::hex(described.entry.entry_hash.as_bytes())),
        };
        Some((named, described))
    }

    /// An organisation's key as the page writes it, made once per organisation.
    fn author(&mut self, key: &'render str) -> HtmlText {
        self.authors.entry(key).or_insert_with(|| HtmlText::new(key)).clone()
    }

    /// An organisation's name (by key), from the roster.
    fn organisation(&self, key: &str) -> Arc<str> {
        match self.roster.organisations.get(key) {
            Some(name) => Arc::clone(name),
            None => Arc::from(format!("{}…", key.get(..12).unwrap_or(key))),
        }
    }

    /// A place by name and city (`Packhouse, Salinas`), noting its source. A place shown on
    /// many steps is looked up once.
    fn place(&mut self, place: &'render str) -> Option<Arc<PlaceView>> {
        if let Some(view) = self.places.get(place) {
            return view.clone();
        }
        let view = self.look_up_place(place).map(Arc::new);
        self.places.insert(place, view.clone());
        view
    }

    /// A place's name with its city and country from the same statement; a party link that
    /// master data does not name but that is a member's GLN gets the member's name.
    fn look_up_place(&mut self, place: &str) -> Option<PlaceView> {
        let Some((name, described)) = self.described(place) else {
            let Some(lotline_ledger::gs1::Identifier::Party { .. }) =
                lotline_ledger::gs1::classify(place)
            else {
                return None;
            };
            let member = self.roster.by_gln.get(place.rsplit('/').next()?)?;
            return Some(PlaceView { name: Arc::clone(member), details: Vec::new(), entry: None });
        };
        let details = [attribute::CITY, attribute::COUNTRY_CODE]
            .into_iter()
            .filter_map(|id| described.statement.attribute(id))
            .map(Arc::from)
            .collect();
        Some(PlaceView { name: name.text, details, entry: name.entry })
    }

    /// The entry carrying `event`, noted.
    fn rely_on_event(&mut self, event: &EventHashId) -> bool {
        match self.carriers.get(event).copied() {
            Some(entry) => {
                self.entries.insert(entry);
                self.events.insert(event.clone());
                true
            }
            None => false,
        }
    }

    /// The step `seen` shows, when the answer names the entry carrying its event.
    fn step(
        &mut self,
        what: &'static str,
        seen: Seen<'render>,
        ingredient: Option<Named>,
    ) -> Option<StepView> {
        let Seen { organisation, place, date, event } = seen;
        if self.carriers.get(event).is_some_and(|entry| self.hidden.contains(entry)) {
            return None;
        }
        if !self.rely_on_event(event) {
            return None;
        }
        let place = place.and_then(|place| self.place(place));
        Some(StepView {
            date: date.get(..10).unwrap_or(date).to_owned(),
            what,
            organisation: self.organisation(organisation),
            author: self.author(organisation),
            place,
            event: HtmlText::event(event),
            ingredient,
            time: date.to_owned(),
        })
    }
}

/// Who recorded an event, where and when, as an answer states it.
struct Seen<'answer> {
    /// The organisation's key (hex).
    organisation: &'answer str,
    /// The place's canonical Digital Link.
    place: Option<&'answer str>,
    /// RFC 3339 time.
    date: &'answer str,
    /// The Event Hash ID.
    event: &'answer EventHashId,
}

/// The cold-chain section of a page, with what it rests on.
struct ColdChain {
    view: ColdChainView,
    /// The entries it relies on.
    relied: BTreeSet<EntryRef>,
    /// The sensor events it draws, which the path leaves out.
    sensor_events: BTreeSet<EntryRef>,
}

/// The cold-chain section of the page of `lot`. Reads the directory's lock, then the book's,
/// one after the other, so it runs before the render takes the directory's for the rest.
fn cold_chain(ledger: &Ledger, lot: &str, back: &TraceAnswer) -> ColdChain {
    let profile = ledger.with_directory(|directory| profile_in(directory, lot));
    let mut relied = BTreeSet::new();
    let mut sensor_events = BTreeSet::new();
    let view = cold_chain_view(
        &ledger.cold_chain().book(),
        profile,
        back.lots.iter().map(|lot| &**lot),
        &mut relied,
        &mut sensor_events,
    );
    ColdChain { view, relied, sensor_events }
}

/// A first guess at a page's size, so the template writes into one allocation.
const PAGE_CAPACITY: usize = 32 * 1_024;

/// Renders the page from what it is built from.
fn render(
    ledger: &Ledger,
    subject: &Subject,
    page_path: &str,
    lang: Lang,
    basis: Basis,
) -> Result<Rendered, PageError> {
    let Basis { answer, records, roster, etag } = basis;
    let cold = cold_chain(ledger, subject.link(), &answer);
    let sections = Sections {
        subject,
        page_path,
        lang,
        answer: &answer,
        records: &records,
        roster: &roster,
        cold,
        etag,
    };
    ledger.with_directory(|directory| sections.render(directory))
}

/// What one render reads beside the master-data directory.
struct Sections<'render> {
    subject: &'render Subject,
    page_path: &'render str,
    lang: Lang,
    /// The lot's provenance: what it was made from, and every lot's detail with all its
    /// visits (a lot's visits do not depend on the walk's direction, so no forward walk is
    /// needed for where the lot itself went).
    answer: &'render TraceAnswer,
    records: &'render [Arc<PageRecord>],
    roster: &'render RosterNames,
    cold: ColdChain,
    etag: String,
}

impl<'render> Sections<'render> {
    fn render(self, directory: &'render Directory) -> Result<Rendered, PageError> {
        let Sections { subject, page_path, lang, answer: back, records, roster, cold, etag } = self;
        let ColdChain { view: mut cold, relied: cold_relied, sensor_events } = cold;
        let text = lang.text();
        let mut gathered = Gathered {
            directory,
            carriers: back
                .entries
                .iter()
                .map(|reference| {
                    (&reference.event_hash_id, (reference.entry.author, reference.entry.sequence))
                })
                .collect(),
            entries: cold_relied.iter().map(|entry| (entry.author, entry.sequence)).collect(),
            events: BTreeSet::new(),
            roster,
            places: HashMap::new(),
            authors: HashMap::new(),
            hidden: sensor_events.iter().map(|entry| (entry.author, entry.sequence)).collect(),
        };
        for excursion in &mut cold.excursions {
            excursion.recorder = gathered.organisation(&excursion.author).to_string();
        }
        let lot = subject.link();
        let product = gathered.name(lot).unwrap_or_else(|| Named::plain(text.unnamed_product));
        let ai_data = lotline_ledger::gs1::parse_digital_link(lot).ok().map(|link| link.ai_data());
        let (code_label, lot_number) = [("10", text.lot), ("21", text.serial), ("00", text.pallet)]
            .into_iter()
            .find_map(|(ai, label)| Some((label, ai_data.as_ref()?.get(ai)?.to_owned())))
            .unwrap_or((text.lot, lot.to_owned()));

        // Origin: how this lot came to be, and the origins of what it was made from.
        let detail_of = |link: &str| back.details.iter().find(|detail| &*detail.lot == link);
        let mut origins = Vec::new();
        let mut ingredient_lots: Vec<&str> = Vec::new();
        if let Some(detail) = detail_of(lot) {
            for origin in &detail.origins {
                let what = match origin.how {
                    OriginKind::Commissioned => text.origin_commissioned,
                    OriginKind::Transformed => text.origin_transformed,
                };
                ingredient_lots.extend(origin.inputs.iter().map(|input| &**input));
                let seen = Seen {
                    organisation: &origin.organisation,
                    place: origin.place.as_deref(),
                    date: &origin.date,
                    event: &origin.event,
                };
                if let Some(step) = gathered.step(what, seen, None) {
                    origins.push(step);
                }
            }
        }
        ingredient_lots.sort();
        ingredient_lots.dedup();
        let mut ingredients = Vec::new();
        let mut ingredient_names: HashMap<&str, Named> = HashMap::new();
        for input in &back.lots {
            let input = &**input;
            if input == lot {
                continue;
            }
            let name = gathered.name(input).unwrap_or_else(|| Named::plain(input));
            if ingredient_lots.binary_search(&input).is_ok() {
                ingredients.push(name.clone());
            }
            ingredient_names.insert(input, name);
        }

        // The path: every place and date of the lot and what it was made from, up to the shelf.
        let mut steps = Vec::new();
        let mut seen_events: std::collections::HashSet<&EventHashId> =
            std::collections::HashSet::new();
        for detail in &back.details {
            let ingredient = if &*detail.lot == lot {
                None
            } else {
                ingredient_names.get(&*detail.lot).cloned()
            };
            for visit in &detail.visits {
                if !seen_events.insert(&visit.event) {
                    continue;
                }
                let what = text.flow[match visit.flow {
                    Flow::Produced => 0,
                    Flow::Received => 1,
                    Flow::Shipped => 2,
                    Flow::Ended => 3,
                    Flow::Observed => 4,
                }];
                let seen = Seen {
                    organisation: &visit.organisation,
                    place: visit.place.as_deref(),
                    date: &visit.date,
                    event: &visit.event,
                };
                if let Some(step) = gathered.step(what, seen, ingredient.clone()) {
                    steps.push(step);
                }
            }
        }
        steps.sort_by(|left, right| {
            left.time.cmp(&right.time).then(left.event.as_str().cmp(right.event.as_str()))
        });

        // Records: recall notices and inspection results naming the lot or what it was made from.
        let reached: BTreeSet<&str> = back.lots.iter().map(|lot| &**lot).collect();
        let mut recalls = Vec::new();
        let mut inspections = Vec::new();
        for record in records {
            let Some(named) = record.lots.iter().find(|named| reached.contains(named.as_str()))
            else {
                continue;
            };
            let author = HtmlText::hex(record.entry.author.as_bytes());
            let entry_hash = HtmlText::hex(record.entry.entry_hash.as_bytes());
            match &record.payload {
                Payload::RecallNotice(notice) => {
                    recalls.push(RecallView {
                        recall_id: notice.recall_id.clone(),
                        class: text.recall_class[match notice.class {
                            RecallClass::ClassOne => 0,
                            RecallClass::ClassTwo => 1,
                            RecallClass::ClassThree => 2,
                        }],
                        hazard: notice.hazard.clone(),
                        instructions: notice.instructions.clone(),
                        issuer: gathered.organisation(author.as_str()),
                        author,
                        entry_hash,
                    });
                }
                Payload::InspectionResult(result) => {
                    let (verdict, verdict_class) = match result.verdict {
                        Verdict::Pass => (text.verdict[0], "verdict-pass"),
                        Verdict::Fail => (text.verdict[1], "verdict-fail"),
                        Verdict::Inconclusive => (text.verdict[2], "verdict-inconclusive"),
                    };
                    inspections.push(InspectionView {
                        test: result.test.clone(),
                        verdict,
                        verdict_class,
                        date: time::OffsetDateTime::from_unix_timestamp(
                            result.sampled_at_ms / 1_000,
                        )
                        .ok()
                        .and_then(|time| {
                            time.format(&time::format_description::well_known::Rfc3339).ok()
                        })
                        .map(|time| time.get(..10).unwrap_or_default().to_owned())
                        .unwrap_or_default(),
                        lab: gathered.organisation(author.as_str()),
                        author,
                        entry_hash,
                        ingredient: (named.as_str() != lot)
                            .then(|| ingredient_names.get(named.as_str()).cloned())
                            .flatten(),
                    });
                }
                _ => continue,
            }
            gathered.entries.insert((record.entry.author, record.entry.sequence));
        }

        let entries: Vec<(PublicKey, u64)> = gathered.entries.iter().copied().collect();
        let events: Vec<EventHashId> = gathered.events.into_iter().collect();
        let proof_href = format!("{page_path}/proof");
        let page = LotPage {
            t: text,
            switch_href: format!("{page_path}?lang={}", text.switch_lang),
            product,
            code_label,
            lot_number,
            subject: lot.to_owned(),
            origins,
            ingredients,
            steps,
            recalls,
            inspections,
            cold,
            proof_href: &proof_href,
            proof_file: proof_file_name(&lot_number_for_file(lot)),
        };
        let (html, style_at, script_at) = write_page(&page)?;
        let etag_header = HeaderValue::from_str(&format!("\"{etag}\"")).ok();
        Ok(Rendered {
            html,
            style_at,
            script_at,
            etag,
            etag_header,
            subject: lot.to_owned(),
            page_path: page_path.to_owned(),
            entries,
            events,
            witnesses: Arc::clone(&roster.witnesses),
        })
    }
}

thread_local! {
    /// Where a render thread writes pages: the template grows it once to the size of a page
    /// and it is reused, so a page costs one copy of its bytes, of exactly their size.
    static PAGE_BUFFER: std::cell::RefCell<String> =
        std::cell::RefCell::new(String::with_capacity(PAGE_CAPACITY));
}

/// Largest buffer a render thread keeps between pages; one grown by a larger page is let go.
const MAX_KEPT_BUFFER: usize = 1 << 20;

/// Writes `page` and finds where the style sheet and script go: the template's empty
/// `<style>` and `<script>` elements, which nothing else in the page can spell since every
/// value in it is escaped.
fn write_page(page: &LotPage<'_>) -> Result<(Bytes, usize, usize), PageError> {
    PAGE_BUFFER.with_borrow_mut(|html| {
        html.clear();
        let written = page.render_into(html).map_err(|error| PageError::Ledger(error.to_string()));
        let style_at = html.find(STYLE_SLOT).map(|at| at + "<style>".len());
        let script_at = html.rfind(SCRIPT_SLOT).map(|at| at + "<script>".len());
        let bytes = Bytes::copy_from_slice(html.as_bytes());
        if html.capacity() > MAX_KEPT_BUFFER {
            *html = String::with_capacity(PAGE_CAPACITY);
        }
        written?;
        let style_at = style_at
            .ok_or_else(|| PageError::Ledger("the page template has no style slot".to_owned()))?;
        let script_at = script_at
            .filter(|at| *at > style_at)
            .ok_or_else(|| PageError::Ledger("the page template has no script slot".to_owned()))?;
        Ok((bytes, style_at, script_at))
    })
}

/// The empty element of the page template that the style sheet fills when the page is sent.
const STYLE_SLOT: &str = "<style></style>";
/// The empty element of the page template that the script fills when the page is sent.
const SCRIPT_SLOT: &str = "<script></script>";

/// A file name for a lot's proof: letters and digits of its link, so the documented command
/// can be pasted.
fn lot_number_for_file(lot: &str) -> String {
    lot.trim_start_matches("https://id.gs1.org/")
        .chars()
        .map(|character| if character.is_ascii_alphanumeric() { character } else { '-' })
        .take(80)
        .collect()
}

/// The proof file's suggested name.
fn proof_file_name(stem: &str) -> String {
    format!("proof-{stem}.json")
}

/// The page's validator: the entries it relied on, the checkpoints proving them (a feed that
/// grows gets a new checkpoint, a witness adds a cosignature), what is not yet checkpointed,
/// and the language. A new entry touching the lot changes the entries, so the validator.
fn validator(evidence: &Evidence, entries: &[(PublicKey, u64)], lang: Lang) -> String {
    let mut hasher = Sha256::new();
    hasher.update(if lang == Lang::Zh { b"zh" } else { b"en" });
    for (author, sequence) in entries {
        hasher.update(author.as_bytes());
        hasher.update(sequence.to_le_bytes());
    }
    for bundle in &evidence.bundles {
        hasher.update(bundle.checkpoint.as_bytes());
        for entry in &bundle.entries {
            hasher.update(&entry.entry);
        }
    }
    for unproven in &evidence.unproven {
        hasher.update(unproven.author.as_bytes());
        hasher.update(unproven.sequence.to_le_bytes());
    }
    hasher.update(assets::SCRIPT.as_bytes());
    let digest = hasher.finalize();
    hex::encode(&digest[..16])
}

/// A problem with the request: an RFC 7807 problem for the proof (read by programs), a
/// friendly page naming it for the page (read by people).
fn problem(wants_proof: bool, lang: Lang, status: StatusCode, detail: &str) -> Response {
    if !wants_proof {
        return message(lang, status, detail);
    }
    let detail = detail.to_owned();
    match status {
        StatusCode::BAD_REQUEST => ApiError::Validation(detail),
        StatusCode::NOT_FOUND => ApiError::NotFound(detail),
        _ => ApiError::Internal(detail),
    }
    .into_response()
}

/// A friendly HTML page naming a problem.
fn message(lang: Lang, status: StatusCode, detail: &str) -> Response {
    let text = lang.text();
    let page = MessagePage {
        t: text,
        style: assets::STYLE,
        switch_href: format!("?lang={}", text.switch_lang),
        title: text.problem_title.to_owned(),
        message: String::new(),
        detail: detail.to_owned(),
    };
    html_response(status, page.render())
}

/// The page of a product code without a lot: its name and what to scan instead.
async fn product_page(ledger: &Arc<Ledger>, lang: Lang, path: &str) -> Response {
    let text = lang.text();
    let gtin = path.trim_start_matches("01/").split('/').next().unwrap_or_default();
    let product_link = match normalise_gtin(gtin) {
        Ok(gtin14) => format!("https://id.gs1.org/01/{gtin14}"),
        Err(error) => {
            return message(lang, StatusCode::BAD_REQUEST, &error.to_string());
        }
    };
    let ledger = Arc::clone(ledger);
    let name = tokio::task::spawn_blocking(move || {
        ledger
            .master_data_name(&product_link)
            .and_then(|described| described.statement.name().map(str::to_owned))
    })
    .await
    .ok()
    .flatten();
    let page = MessagePage {
        t: text,
        style: assets::STYLE,
        switch_href: format!("?lang={}", text.switch_lang),
        title: name.unwrap_or_else(|| text.unnamed_product.to_owned()),
        message: text.product_only.to_owned(),
        detail: String::new(),
    };
    html_response(StatusCode::OK, page.render())
}

/// An HTML response with the page headers, or a plain `500` should the template fail.
fn html_response(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    let Ok(html) = html else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response =
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    secure_page_headers(response.headers_mut());
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(language: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(language).unwrap());
        headers
    }

    fn page_of(link: &str, html_bytes: usize) -> CachedPage {
        CachedPage {
            size: 1,
            rendered: Arc::new(Rendered {
                html: Bytes::from(vec![b'x'; html_bytes]),
                style_at: 0,
                script_at: 0,
                etag: "e".to_owned(),
                etag_header: None,
                subject: link.to_owned(),
                page_path: String::new(),
                entries: Vec::new(),
                events: Vec::new(),
                witnesses: Arc::from(Vec::<String>::new()),
            }),
            proof: None,
        }
    }

    #[test]
    fn kept_pages_stay_within_their_budget_and_the_longest_kept_leaves_first() {
        let weight = page_of("a", 10_000).weight();
        let mut pages = Pages::new(3 * weight);
        for link in ["a", "b", "c"] {
            pages.insert(Lang::En, link, page_of(link, 10_000));
        }
        assert!(pages.get(Lang::En, "a").is_some() && pages.get(Lang::En, "c").is_some());
        // The same lot again replaces its page and keeps its place.
        pages.insert(Lang::En, "a", page_of("a", 10_000));
        assert_eq!(pages.bytes, 3 * weight);
        pages.insert(Lang::Zh, "d", page_of("d", 10_000));
        assert!(pages.get(Lang::En, "a").is_none(), "the first kept leaves first");
        assert!(pages.get(Lang::En, "b").is_some() && pages.get(Lang::Zh, "d").is_some());
        assert!(pages.get(Lang::En, "d").is_none(), "languages are kept apart");
        // A proof makes its page heavier: another page leaves to make room.
        pages.update(Lang::Zh, "d", |page| {
            page.proof = Some((
                Instant::now(),
                1,
                Arc::new(Proof { json: Bytes::from(vec![b'{'; 5_000]), etag: "p".to_owned() }),
            ));
        });
        assert!(pages.bytes <= pages.budget);
        assert!(pages.get(Lang::En, "b").is_none());
        // A page heavier than the whole budget is not kept; a budget of 0 keeps nothing.
        pages.insert(Lang::En, "huge", page_of("huge", 4 * weight));
        assert!(pages.get(Lang::En, "huge").is_none());
        let mut none = Pages::new(0);
        none.insert(Lang::En, "a", page_of("a", 1));
        assert!(none.get(Lang::En, "a").is_none() && none.bytes == 0);
    }

    #[test]
    fn if_none_match_names_the_validator_quoted_weak_or_as_a_star() {
        assert!(etag_listed("\"abc\"", "abc"));
        assert!(etag_listed("\"x\", W/\"abc\"", "abc"));
        assert!(etag_listed("*", "abc"));
        assert!(!etag_listed("abc", "abc"), "an unquoted tag is not a tag");
        assert!(!etag_listed("\"abcd\"", "abc"));
        assert!(!etag_listed("", "abc"));
    }

    #[test]
    fn html_text_is_written_as_it_is_only_when_nothing_in_it_is_markup() {
        let event = "ni:///sha-256;07debd3d?ver=CBV2.0";
        assert_eq!(HtmlText::new(event).to_string(), event);
        assert_eq!(
            HtmlText::new("\"><script>x&y'").to_string(),
            "&#34;&#62;&#60;script&#62;x&#38;y&#39;"
        );
        assert_eq!(HtmlText::hex(&[0xab, 0x01]).to_string(), "ab01");
    }

    #[test]
    fn the_language_follows_the_switch_then_the_weighted_accept_language() {
        assert_eq!(Lang::choose(Some("lang=zh"), &accept("en")), Lang::Zh);
        assert_eq!(Lang::choose(Some("x=1&lang=en"), &accept("zh-CN")), Lang::En);
        assert_eq!(Lang::choose(None, &accept("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::choose(None, &accept("fr, en;q=0.5, zh;q=0.4")), Lang::En);
        assert_eq!(Lang::choose(None, &accept("fr")), Lang::En);
        assert_eq!(Lang::choose(None, &HeaderMap::new()), Lang::En);
        let huge = format!("lang=zh&{}", "a".repeat(MAX_QUERY_BYTES));
        assert_eq!(Lang::choose(Some(&huge), &HeaderMap::new()), Lang::En, "ignored whole");
    }
}
