//! The `parex` binary's tools end to end: exit statuses and one-line refusals.

use std::path::Path;
use std::process::{Command, Output};

fn parex(args: &[&str], store: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parex")).args(args).arg("--store").arg(store).output().unwrap()
}

#[test]
fn run_then_replay_and_inspect_succeed_and_a_foreign_directory_fails_in_one_line() {
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("chain");
    let small = ["run", "--blocks", "2", "--block-size", "20", "--accounts", "30", "--threads", "2"];
    let out = parex(&small, &store);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = parex(&["replay", "--threads", "2"], &store);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("ok      2 blocks replayed"), "{stdout}");
    let out = parex(&["inspect"], &store);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("tip     slot"));

    let foreign = root.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"mine").unwrap();
    for command in ["replay", "inspect"] {
        let out = parex(&[command], &foreign);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(stderr.starts_with(&format!("error: {}: not a parex store", foreign.display())), "{stderr}");
    }
    assert_eq!(std::fs::read(foreign.join("notes.txt")).unwrap(), b"mine");
}
