//! The devnet on real authenticated p2p (127.0.0.1): a short run, then a second
//! one on the same directory that resumes the chain.

use parex_node::{DevnetConfig, run_devnet};

#[test]
fn devnet_runs_agrees_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        DevnetConfig { validators: 4, seconds: 4, dir: dir.path().join("net"), tps: 500, accounts: 256 };
    let first = run_devnet(config.clone()).unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert!(first.agree);
    let height = *first.heights.iter().min().unwrap();
    assert!(height >= 3 && first.finalized_txs > 0, "{first:?}");
    // A resumed chain leaves the view it stopped in only by timeouts (simplex resends
    // no vote after every validator stopped): up to about four leader timeouts when
    // the stop caught the validators split across two views.
    let second = run_devnet(DevnetConfig { seconds: 10, ..config }).unwrap();
    assert!(second.errors.is_empty() && second.agree, "{second:?}");
    assert!(second.start_height >= height, "resumed at {} after {height}", second.start_height);
    assert!(*second.heights.iter().min().unwrap() > second.start_height, "{second:?}");
    assert!(second.finalized_txs > 0, "nonces resumed from the chain: {second:?}");
}
