//! Human output: plain aligned text tables for the terminal, the one JSON printer every
//! `--json` flag goes through, and the `--json` form of a handoff (`consignees`).
//!
//! Owns layout only. Deliberately does not decide what goes into a table: each command does.
//! Nor does it own the answer types: they are the ledger's, shown here as the CLI's contract
//! words them.

use std::fmt::Write as _;

use lotline_ledger::trace::Handoff;
use serde::Serialize;
use serde_json::{Map, Value};

/// A text table: a header row and data rows, columns padded to their widest cell.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column titles.
    headers: Vec<String>,
    /// Data rows; each has at most `headers.len()` cells (missing cells print empty).
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<Title: Into<String>>(headers: impl IntoIterator<Item = Title>) -> Self {
        Self { headers: headers.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends one row.
    pub fn push<Cell: Into<String>>(&mut self, cells: impl IntoIterator<Item = Cell>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Whether no rows were added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, ending in a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> =
            self.headers.iter().map(|header| header.chars().count()).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(column) {
                    *width = (*width).max(cell.chars().count());
                }
            }
        }
        let mut text = String::new();
        let mut write_line = |cells: &[String]| {
            let mut line = String::new();
            for (column, width) in widths.iter().enumerate() {
                let cell = cells.get(column).map_or("", String::as_str);
                let _ = write!(line, "{cell:<width$}  ");
            }
            text.push_str(line.trim_end());
            text.push('\n');
        };
        write_line(&self.headers);
        let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        write_line(&rule);
        for row in &self.rows {
            write_line(row);
        }
        text
    }
}

/// Prints `value` as pretty JSON on stdout (the `--json` form of every read command).
pub fn print_json(value: &impl Serialize) -> Result<(), serde_json::Error> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}

/// A quantity and its unit for a table cell (`120 KGM`, `120`, or empty).
pub fn quantity_cell(quantity: Option<f64>, uom: Option<&str>) -> String {
    lotline_ledger::supervision::quantity_text(quantity, uom)
}

/// A handoff's date for a table: when it was received, else when it was shipped.
pub fn handoff_date(handoff: &Handoff) -> Option<&str> {
    lotline_ledger::supervision::handoff_date(handoff)
}

/// Fields of a consignee that `--json` writes first, and only when known.
const CONSIGNEE_LEADING_FIELDS: [&str; 5] = ["party", "location", "quantity", "uom", "lot"];

/// A handoff as one item of `consignees` in `trace --json`, `recall … --json` (an API
/// boundary that external tests read): `party`, `location`, `quantity`, `uom` and `lot` first
/// and only when known, then every other field of the handoff in the node's order (nulls
/// kept).
pub fn consignee_json(handoff: &Handoff) -> Value {
    let Ok(Value::Object(fields)) = serde_json::to_value(handoff) else { return Value::Null };
    let mut leading: [Option<Value>; CONSIGNEE_LEADING_FIELDS.len()] = Default::default();
    let mut rest = Map::new();
    for (name, value) in fields {
        match CONSIGNEE_LEADING_FIELDS.iter().position(|leading_name| *leading_name == name) {
            Some(position) => leading[position] = Some(value).filter(|value| !value.is_null()),
            None => {
                rest.insert(name, value);
            }
        }
    }
    let mut consignee = Map::new();
    for (name, value) in CONSIGNEE_LEADING_FIELDS.iter().zip(leading) {
        if let Some(value) = value {
            consignee.insert((*name).to_owned(), value);
        }
    }
    consignee.extend(rest);
    Value::Object(consignee)
}

/// [`consignee_json`] of each handoff, in order.
pub fn consignees_json<'handoff>(
    handoffs: impl IntoIterator<Item = &'handoff Handoff>,
) -> Vec<Value> {
    handoffs.into_iter().map(consignee_json).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let mut table = Table::new(["lot", "qty"]);
        table.push(["https://id.gs1.org/01/09506000134352/10/A", "5 KGM"]);
        table.push(["B"]);
        let rendered = table.render();
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].find("qty"), lines[2].find("5 KGM"));
        assert_eq!(lines[3], "B");
    }

    #[test]
    fn quantity_cells_show_the_unit_when_known() {
        assert_eq!(quantity_cell(Some(120.0), Some("KGM")), "120 KGM");
        assert_eq!(quantity_cell(Some(2.5), None), "2.5");
        assert_eq!(quantity_cell(None, Some("KGM")), "");
    }

    #[test]
    fn a_consignee_leads_with_what_is_known_then_the_rest_as_sent() {
        let handoff = Handoff {
            lot: "https://id.gs1.org/01/09506000134352/10/A".into(),
            location: Some("https://id.gs1.org/414/4012345000115".into()),
            quantity: Some(10.0),
            shipped_at: Some("2026-03-03T16:30:00Z".into()),
            ..Handoff::default()
        };
        let json = consignee_json(&handoff);
        let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "location",
                "quantity",
                "lot",
                "shipped_by",
                "shipped_at",
                "ship_from",
                "received_by",
                "received_at",
                "documents",
                "shipping_event",
                "receiving_event"
            ]
        );
        assert_eq!(json["quantity"], 10.0);
        assert!(json["received_at"].is_null());
        assert_eq!(handoff_date(&handoff), Some("2026-03-03T16:30:00Z"));
    }
}
