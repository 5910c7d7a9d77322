//! Human output: plain aligned text tables for the terminal, and the one JSON printer every
//! `--json` flag goes through.
//!
//! Owns layout only. Deliberately does not decide what goes into a table: each command does.

use std::fmt::Write as _;

use serde::Serialize;

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
    match (quantity, uom) {
        (Some(quantity), Some(uom)) => format!("{quantity} {uom}"),
        (Some(quantity), None) => quantity.to_string(),
        (None, _) => String::new(),
    }
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
}
