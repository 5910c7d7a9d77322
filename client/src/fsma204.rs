//! The FSMA 204 "electronic sortable spreadsheet" (21 CFR 1.1455(c)(3)(ii)) as files: CSV and
//! XLSX.
//!
//! Owns the XLSX workbook (one sheet of every CTE, then one per CTE). Deliberately does not own
//! the rows nor the CSV text (`lotline_ledger::fsma204`, shared with the node's dashboard,
//! re-exported here) nor where the events come from: callers pass events that
//! [`crate::verify`] has already checked, in their JSON-LD form, so the export contains only
//! signed facts.

use std::path::Path;

pub use lotline_ledger::fsma204::{
    COLUMNS, CriticalTrackingEvent, Row, Window, note_excursions, rows_from_events, write_csv,
};

/// Errors writing the spreadsheet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Building the rows or writing the CSV failed.
    #[error(transparent)]
    Rows(#[from] lotline_ledger::fsma204::Error),
    /// Writing the XLSX failed.
    #[error("cannot write the xlsx file: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Writes the rows as an XLSX workbook: an "All CTEs" sheet, then one sheet per CTE present,
/// each with a bold frozen header row and an autofilter so it is sortable as the rule asks.
pub fn write_xlsx(rows: &[Row], path: &Path) -> Result<(), Error> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    write_sheet(&mut workbook, "All CTEs", rows.iter())?;
    let mut ctes_present: Vec<&str> = rows.iter().map(|row| row.event_type.as_str()).collect();
    ctes_present.sort_unstable();
    ctes_present.dedup();
    for cte in ctes_present {
        write_sheet(&mut workbook, cte, rows.iter().filter(|row| row.event_type == cte))?;
    }
    workbook.save(path)?;
    Ok(())
}

fn write_sheet<'rows>(
    workbook: &mut rust_xlsxwriter::Workbook,
    name: &str,
    rows: impl Iterator<Item = &'rows Row>,
) -> Result<(), Error> {
    let header_format = rust_xlsxwriter::Format::new().set_bold();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(name)?;
    for (column, title) in COLUMNS.iter().enumerate() {
        worksheet.write_string_with_format(0, column as u16, *title, &header_format)?;
        worksheet.set_column_width(column as u16, 22)?;
    }
    let mut last_row = 0;
    for (index, row) in rows.enumerate() {
        let sheet_row = index as u32 + 1;
        last_row = sheet_row;
        for (column, cell) in row.cells().iter().enumerate() {
            if column == 4 {
                if let Some(quantity) = row.quantity {
                    worksheet.write_number(sheet_row, column as u16, quantity)?;
                }
                continue;
            }
            worksheet.write_string(sheet_row, column as u16, cell)?;
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    worksheet.autofilter(0, 0, last_row, COLUMNS.len() as u16 - 1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use lotline_ledger::entry::EntryRef;
    use lotline_ledger::masterdata::{Attribute, Directory, Statement, VocabularyType, attribute};
    use serde_json::Value;

    use super::*;
    use crate::csv_template::{parse_template, tests::GOOD_TEMPLATE};

    fn template_events() -> Vec<Value> {
        let template = parse_template(GOOD_TEMPLATE.as_bytes(), |_| {}).unwrap();
        template.document["epcisBody"]["eventList"].as_array().unwrap().clone()
    }

    #[test]
    fn each_lot_line_of_each_cte_becomes_one_row_with_its_kdes() {
        let rows = rows_from_events(
            &template_events(),
            Window { from: None, to: None },
            &Directory::new(),
        );
        let summary: Vec<(&str, &str, Option<f64>)> = rows
            .iter()
            .map(|row| (row.event_type.as_str(), row.lot_code.as_str(), row.quantity))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Harvesting", "(01)09506000134352(10)FIELD7", Some(500.0)),
                ("Transformation", "(01)09506000134376(10)PACK42", Some(96.0)),
                ("Shipping", "(01)09506000134376(10)PACK42", Some(60.0)),
                ("Shipping", "(01)09506000134376(10)PACK43", Some(30.0)),
            ]
        );
        let transformation = &rows[1];
        assert_eq!(transformation.input_lot_codes, "(01)09506000134352(10)FIELD7");
        assert_eq!(transformation.document_type, "prodorder");
        assert_eq!(transformation.event_date, "2026-03-02");
        assert_eq!(transformation.event_time, "09:00:00+01:00");
        let shipping = &rows[2];
        assert_eq!(shipping.subsequent_recipient, "https://id.gs1.org/414/4012345000115");
        assert_eq!(shipping.ship_from, "https://id.gs1.org/414/9506000134352");
        assert_eq!(shipping.document_number, "urn:epcglobal:cbv:bt:9506000134352:BOL-1");
        assert_eq!(shipping.unit_of_measure, "EA");
        // PACK42 was assigned by the transformation at the packhouse; PACK43 by no event here.
        assert_eq!(shipping.lot_code_source, "https://id.gs1.org/414/9506000134352");
        assert_eq!(rows[3].lot_code_source, "");
        assert_eq!(shipping.product_description, "GTIN 09506000134376");
    }

    #[test]
    fn the_window_keeps_only_events_inside_it() {
        let window =
            Window::parse(Some("2026-03-02T00:00:00Z"), Some("2026-03-03T00:00:00Z")).unwrap();
        let mut master_data = Directory::new();
        let statement = |vocabulary_type, id: &str, attributes: &[(&str, &str)]| Statement {
            vocabulary_type,
            id: id.to_owned(),
            attributes: attributes
                .iter()
                .map(|(id, value)| Attribute { id: (*id).to_owned(), value: (*value).to_owned() })
                .collect(),
            children: Vec::new(),
        };
        let entry = |sequence| EntryRef {
            author: lotline_ledger::identity::Keypair::from_seed([7; 32]).public_key(),
            sequence,
            entry_hash: lotline_ledger::entry::EntryHash::from_bytes([sequence as u8; 32]),
        };
        master_data.insert(
            entry(0),
            0,
            statement(
                VocabularyType::EpcClass,
                "https://id.gs1.org/01/09506000134376",
                &[(attribute::NAME, "Mango slices 200 g")],
            ),
        );
        master_data.insert(
            entry(1),
            0,
            statement(
                VocabularyType::BusinessLocation,
                "https://id.gs1.org/414/9506000134352",
                &[
                    (attribute::NAME, "Packhouse Tres Rios"),
                    (attribute::CITY, "Culiacan"),
                    (attribute::COUNTRY_CODE, "MX"),
                ],
            ),
        );
        let rows = rows_from_events(&template_events(), window, &master_data);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event_type, "Transformation");
        assert_eq!(rows[0].product_description, "Mango slices 200 g");
        assert_eq!(
            rows[0].location,
            "Packhouse Tres Rios, Culiacan, MX (https://id.gs1.org/414/9506000134352)"
        );
        assert!(Window::parse(Some("last tuesday"), None).is_err());
    }

    #[test]
    fn csv_and_xlsx_files_carry_a_header_and_every_row() {
        let rows = rows_from_events(
            &template_events(),
            Window { from: None, to: None },
            &Directory::new(),
        );
        let mut csv_bytes = Vec::new();
        write_csv(&rows, &mut csv_bytes).unwrap();
        let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS.to_vec());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len());
        assert_eq!(&records[2][0], "Shipping");
        assert_eq!(&records[2][4], "60");

        let scratch = tempfile::tempdir().unwrap();
        let xlsx_path = scratch.path().join("fsma204.xlsx");
        write_xlsx(&rows, &xlsx_path).unwrap();
        let xlsx_bytes = std::fs::read(&xlsx_path).unwrap();
        assert!(xlsx_bytes.starts_with(b"PK"), "an xlsx file is a zip archive");
    }

    #[test]
    fn events_that_are_no_cte_are_left_out() {
        let inspection = serde_json::json!({"type": "ObjectEvent", "bizStep": "inspecting", "eventTime": "2026-03-01T00:00:00Z"});
        assert_eq!(CriticalTrackingEvent::of_event(&inspection), None);
        let receiving = serde_json::json!({"type": "ObjectEvent", "bizStep": "urn:epcglobal:cbv:bizstep:receiving"});
        assert_eq!(
            CriticalTrackingEvent::of_event(&receiving),
            Some(CriticalTrackingEvent::Receiving)
        );
        let web_uri = serde_json::json!({"type": "ObjectEvent", "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"});
        assert_eq!(
            CriticalTrackingEvent::of_event(&web_uri),
            Some(CriticalTrackingEvent::Shipping)
        );
    }
}
