//! A recall's scope as a provenance graph laid out for SVG: lots and organisations are boxes,
//! transformations (input lot → output lot) and handoffs (lot → the organisation that received
//! it) are arrows, and each box stands in the column of its depth from the implicated lots.
//!
//! Owns the layout (columns by depth, rows in identifier order, at most [`MAX_NODES`] boxes) and
//! the labels (names from the answer's `names`, else the identifier). Does not own the markup
//! (`dashboard_scope.svg`, whose template escapes every label) nor the scope (`RecallReply`).

use std::collections::{BTreeMap, VecDeque};

use lotline_ledger::trace::{OriginKind, RecallReply};

/// Boxes drawn at most; a wider scope says how many it left out.
pub const MAX_NODES: usize = 400;

/// A box's size and the gaps between boxes, in SVG user units.
const NODE_WIDTH: i64 = 250;
const NODE_HEIGHT: i64 = 50;
const COLUMN_GAP: i64 = 90;
const ROW_GAP: i64 = 22;
const MARGIN: i64 = 20;
/// Characters of a label shown in a box (the tooltip holds all of it).
const TITLE_CHARACTERS: usize = 32;
const SUBTITLE_CHARACTERS: usize = 40;

/// A box.
#[derive(Debug, Clone)]
pub struct Node {
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// `lot` or `organisation` (the box's class and colour).
    pub kind: &'static str,
    /// Its fill colour.
    pub fill: &'static str,
    /// The name (shortened).
    pub title: String,
    /// The identifier (shortened).
    pub subtitle: String,
    /// Name and identifier in full.
    pub tooltip: String,
}

/// An arrow between two boxes.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Start.
    pub x1: i64,
    /// Start.
    pub y1: i64,
    /// End.
    pub x2: i64,
    /// End.
    pub y2: i64,
    /// `transformation` or `handoff`.
    pub kind: &'static str,
    /// What moved (a quantity), possibly empty.
    pub label: String,
    /// Where the label goes.
    pub label_x: i64,
    /// Where the label goes.
    pub label_y: i64,
}

/// The laid-out graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Total width.
    pub width: i64,
    /// Total height.
    pub height: i64,
    /// Boxes.
    pub nodes: Vec<Node>,
    /// Arrows.
    pub edges: Vec<Edge>,
    /// Boxes left out beyond [`MAX_NODES`].
    pub omitted: usize,
}

/// A box before layout.
struct Pending {
    id: String,
    kind: &'static str,
    depth: usize,
}

/// Lays out the scope of `reply`.
pub fn layout(reply: &RecallReply) -> Graph {
    let trace = &reply.answer.trace;
    let names = &reply.names;
    let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut add = |id: &str, kind: &'static str, pending: &mut Vec<Pending>| -> usize {
        let key = format!("{kind}:{id}");
        *index_of.entry(key).or_insert_with(|| {
            pending.push(Pending { id: id.to_owned(), kind, depth: 0 });
            pending.len() - 1
        })
    };
    for lot in trace.lots.iter().chain(reply.answer.implicated_lots.iter()) {
        add(lot, "lot", &mut pending);
    }
    let lot_count = pending.len();
    // (from, to, kind, label)
    let mut links: Vec<(usize, usize, &'static str, String)> = Vec::new();
    for detail in &trace.details {
        let output = add(&detail.lot, "lot", &mut pending);
        for origin in detail.origins.iter().filter(|origin| origin.how == OriginKind::Transformed) {
            for input in &origin.inputs {
                if pending.iter().take(lot_count).any(|node| *node.id == **input) {
                    let input = add(input, "lot", &mut pending);
                    links.push((input, output, "transformation", String::new()));
                }
            }
        }
    }
    for handoff in &trace.consignees {
        let Some(receiver) = handoff.party.as_deref().or(handoff.location.as_deref()) else {
            continue;
        };
        let lot = add(&handoff.lot, "lot", &mut pending);
        let organisation = add(receiver, "organisation", &mut pending);
        let label =
            lotline_ledger::supervision::quantity_text(handoff.quantity, handoff.uom.as_deref());
        links.push((lot, organisation, "handoff", label));
    }

    // Depth: implicated lots at 0, then one column further along every arrow (a cycle stops
    // where a box already has a depth at least as deep).
    let mut queue: VecDeque<usize> = VecDeque::new();
    for lot in &reply.answer.implicated_lots {
        if let Some(&index) = index_of.get(&format!("lot:{lot}")) {
            queue.push_back(index);
        }
    }
    let mut steps = 0usize;
    let step_bound = pending.len() * pending.len().max(1);
    while let Some(from) = queue.pop_front() {
        steps += 1;
        if steps > step_bound {
            break;
        }
        for (source, target, _, _) in &links {
            if *source == from && pending[*target].depth <= pending[from].depth {
                pending[*target].depth = pending[from].depth + 1;
                queue.push_back(*target);
            }
        }
    }

    // Rows: within a column, lots first, then by identifier.
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by(|&left, &right| {
        let (left, right) = (&pending[left], &pending[right]);
        (left.depth, left.kind, &left.id).cmp(&(right.depth, right.kind, &right.id))
    });
    let omitted = order.len().saturating_sub(MAX_NODES);
    order.truncate(MAX_NODES);
    let mut position: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    let mut rows_in_column: BTreeMap<usize, i64> = BTreeMap::new();
    let mut graph = Graph { omitted, ..Graph::default() };
    for index in order {
        let node = &pending[index];
        let row = rows_in_column.entry(node.depth).or_insert(0);
        let x = MARGIN + node.depth as i64 * (NODE_WIDTH + COLUMN_GAP);
        let y = MARGIN + *row * (NODE_HEIGHT + ROW_GAP);
        *row += 1;
        position.insert(index, (x, y));
        let name = names.name(&node.id).map(str::to_owned);
        let short_id = node.id.strip_prefix("https://id.gs1.org").unwrap_or(&node.id).to_owned();
        let title = name.clone().unwrap_or_else(|| match node.kind {
            "lot" => "lot".to_owned(),
            _ => "organisation".to_owned(),
        });
        graph.nodes.push(Node {
            x,
            y,
            kind: node.kind,
            fill: if node.kind == "lot" { "#fff4e5" } else { "#e8f1fb" },
            title: shortened(&title, TITLE_CHARACTERS),
            subtitle: shortened(&short_id, SUBTITLE_CHARACTERS),
            tooltip: names.label(&node.id),
        });
        graph.width = graph.width.max(x + NODE_WIDTH + MARGIN);
        graph.height = graph.height.max(y + NODE_HEIGHT + MARGIN);
    }
    for (source, target, kind, label) in links {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (position.get(&source), position.get(&target))
        else {
            continue;
        };
        let (x1, y1) = (x1 + NODE_WIDTH, y1 + NODE_HEIGHT / 2);
        let y2 = y2 + NODE_HEIGHT / 2;
        graph.edges.push(Edge {
            x1,
            y1,
            x2,
            y2,
            kind,
            label,
            label_x: (x1 + x2) / 2,
            label_y: (y1 + y2) / 2 - 4,
        });
    }
    graph.width = graph.width.max(2 * MARGIN + NODE_WIDTH);
    graph.height = graph.height.max(2 * MARGIN + NODE_HEIGHT);
    graph
}

/// `text` cut to `characters` characters, with an ellipsis when cut.
fn shortened(text: &str, characters: usize) -> String {
    if text.chars().count() <= characters {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(characters.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lotline_ledger::trace::{Handoff, RecallAnswer, TraceAnswer};

    use super::*;

    #[test]
    fn a_consignee_stands_one_column_right_of_its_lot() {
        let lot = "https://id.gs1.org/01/09506000134376/10/PACK42";
        let reply = RecallReply {
            answer: RecallAnswer {
                implicated_lots: vec![lot.into()],
                trace: TraceAnswer {
                    lots: vec![lot.into()],
                    consignees: vec![Arc::new(Handoff {
                        lot: lot.into(),
                        party: Some("https://id.gs1.org/417/4012345000009".into()),
                        quantity: Some(60.0),
                        uom: Some("EA".into()),
                        ..Handoff::default()
                    })],
                    ..TraceAnswer::default()
                },
                ..RecallAnswer::default()
            },
            ..RecallReply::default()
        };
        let graph = layout(&reply);
        assert_eq!(graph.nodes.len(), 2);
        assert_eq!(graph.nodes[0].subtitle, "/01/09506000134376/10/PACK42");
        assert!(graph.nodes[1].x > graph.nodes[0].x, "the consignee is one column right");
        assert_eq!(graph.edges.len(), 1);
        assert_eq!(graph.edges[0].label, "60 EA");
        assert_eq!(graph.omitted, 0);
    }
}
