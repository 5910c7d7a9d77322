//! The `lotline-node` binary as an operator runs it: `init` writes a private, loopback-only
//! configuration and refuses to replace an organisation key, and `run` names a config it cannot
//! read. (Building this test also builds the binary that the process-level tests in `tests/`
//! start.)

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn node_binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lotline-node"))
}

fn init(dir: &Path, genesis: &Path) -> Output {
    node_binary()
        .args(["init", "--name", "acme", "--dir"])
        .arg(dir)
        .arg("--genesis")
        .arg(genesis)
        .output()
        .expect("lotline-node runs")
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("file exists").permissions().mode() & 0o777
}

#[test]
fn init_writes_private_files_and_listens_on_loopback_without_mdns() {
    let scratch = tempfile::tempdir().unwrap();
    lotline_node::cluster::prepare(1, scratch.path(), None).unwrap();
    let genesis = scratch.path().join("genesis.json");
    let dir = scratch.path().join("acme");

    let output = init(&dir, &genesis);
    assert!(output.status.success(), "init failed: {}", String::from_utf8_lossy(&output.stderr));

    let config_path = dir.join(lotline_node::setup::CONFIG_FILE);
    let key_path = dir.join(lotline_node::setup::KEY_FILE);
    // The config holds the API token, the key file the organisation's signing seed.
    assert_eq!(mode_of(&config_path), 0o600, "config.toml must be private");
    assert_eq!(mode_of(&key_path), 0o600, "the key file must be private");
    let config = lotline_node::config::Config::load(&config_path).unwrap();
    assert!(!config.api_token.is_empty());
    assert!(!config.mdns, "mDNS is opt-in");
    assert!(!config.p2p_listen.is_empty());
    for address in &config.p2p_listen {
        assert!(address.starts_with("/ip4/127.0.0.1/"), "libp2p listens on {address}");
    }
}

#[test]
fn init_refuses_to_replace_an_organisation_key() {
    let scratch = tempfile::tempdir().unwrap();
    lotline_node::cluster::prepare(1, scratch.path(), None).unwrap();
    let genesis = scratch.path().join("genesis.json");
    let dir = scratch.path().join("acme");
    assert!(init(&dir, &genesis).status.success());
    let key_before = std::fs::read(dir.join(lotline_node::setup::KEY_FILE)).unwrap();

    let again = init(&dir, &genesis);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("refusing to replace an organisation key"), "stderr: {stderr}");
    assert_eq!(std::fs::read(dir.join(lotline_node::setup::KEY_FILE)).unwrap(), key_before);
}

#[test]
fn run_names_a_config_it_cannot_read() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("nowhere.toml");
    let output = node_binary().args(["run", "--config"]).arg(&missing).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nowhere.toml"), "stderr: {stderr}");
}
