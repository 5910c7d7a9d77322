//! `lotline demo --exit` end to end: six real `lotline-node` processes' worth of nodes (one
//! `dev-cluster`), the whole story played through the public API, every answer verified and
//! identical checkpoints on every node, then a clean exit.
//!
//! Needs the `lotline-node` binary next to `lotline` (`cargo test --workspace` builds both).

use std::net::TcpListener;
use std::process::Command;

const LOTLINE: &str = env!("CARGO_BIN_EXE_lotline");

/// A base port whose twelve ports (six nodes, HTTP and libp2p each) are free now.
fn free_port_range() -> u16 {
    let mut candidate: u16 = 20_000 + (std::process::id() % 2_000) as u16 * 12;
    loop {
        let all_free =
            (0..12).all(|offset| TcpListener::bind(("127.0.0.1", candidate + offset)).is_ok());
        if all_free {
            return candidate;
        }
        candidate = candidate.checked_add(12).filter(|port| *port < 60_000).unwrap_or(20_000);
    }
}

#[test]
fn the_demo_tells_the_whole_story_verifies_every_answer_and_exits_cleanly() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(LOTLINE)
        .args(["demo", "--exit", "--base-port", &free_port_range().to_string(), "--data-dir"])
        .arg(data_dir.path())
        .env_remove("LOTLINE_NODE")
        .env_remove("LOTLINE_TOKEN")
        .output()
        .expect("the lotline binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo --exit failed:\n{stdout}\n{stderr}");
    for expected in [
        "checks: 6 nodes hold identical checkpoints of 6 feeds: yes; every answer verified: yes",
        // Names from master data in the answers' tables.
        "Garden salad mix, 300 g bag",
        "FreshMart Store #12, Davis",
        "FreshMart Store #31, Reno",
        "Green Valley Growers Cooperative",
        // The consumer page of a recalled pack and the dashboard.
        "/01/09506004000011/10/SM-0612",
        "/dashboard (log in with the token ",
        // The truck's logger file, imported and judged.
        "TRK-7: single-event: above 4 CEL for more than 30 min for 45 minutes",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from the demo's output:\n{stdout}"
        );
    }
    assert!(stdout.contains('▀') || stdout.contains('█'), "the QR code is drawn:\n{stdout}");
    let spreadsheet = data_dir.path().join("fsma204-R-2026-0614.csv");
    let mut reader = csv::Reader::from_path(&spreadsheet).expect("the FSMA 204 spreadsheet");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().any(|row| row.iter().any(|cell| cell == "Shipping")), "{rows:?}");
    assert!(
        rows.iter().any(|row| row.iter().any(|cell| cell.contains("FreshMart Store #31, Reno"))),
        "the spreadsheet names the stores: {rows:?}"
    );
}
