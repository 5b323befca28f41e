//! Deterministic simulations of a chain of parex validators behind simplex:
//! commonware's deterministic runtime and simulated network, seeded.

mod harness;

use std::time::Duration;

use harness::{Sim, SimConfig};
use parex_node::Fault;

/// Four honest validators finalize 100+ blocks of defi-mix: the same hashes,
/// and each one's state equals a sequential replay of the finalized chain.
#[test]
fn four_validators_agree_on_100_blocks() {
    let report = Sim::run(SimConfig::new(1), |_| Box::pin(async {}));
    report.check(100);
}

/// A validator whose proposals claim a wrong state commitment: none of its
/// blocks is finalized, and the chain goes on under the next leaders.
#[test]
fn wrong_commitment_proposer_is_not_finalized() {
    let cfg = SimConfig { faults: vec![(3, Fault::WrongCommitment)], ..SimConfig::new(2) };
    let report = Sim::run(cfg, |_| Box::pin(async {}));
    report.check(60);
    report.check_no_block_from(3);
}

/// A validator whose proposals carry a transaction that does not verify.
#[test]
fn invalid_transaction_proposer_is_not_finalized() {
    let cfg = SimConfig { faults: vec![(2, Fault::InvalidTransaction)], ..SimConfig::new(3) };
    let report = Sim::run(cfg, |_| Box::pin(async {}));
    report.check(60);
    report.check_no_block_from(2);
}

/// A validator crashes mid-run, restarts from its store and catches up.
#[test]
fn crashed_validator_restarts_and_catches_up() {
    let report = Sim::run(SimConfig::new(4), |sim| {
        Box::pin(async move {
            sim.wait_height(20).await;
            let at_crash = sim.max_height().await;
            sim.crash(1);
            sim.sleep(Duration::from_secs(5)).await;
            // Three of four are a quorum: the chain went on without it.
            let others = sim.min_height().await;
            assert!(others >= at_crash + 10, "{at_crash} -> {others}");
            sim.restart(1).await;
        })
    });
    report.check(100);
    assert_eq!(report.restarts, 1);
    // It caught up by fetching the finalized blocks it missed.
    assert!(report.status(1).fetches > 0);
}

/// A validator that missed more blocks than its peers keep in memory (here: only
/// their tip) catches up from the finalized blocks its peers keep on disk.
#[test]
fn a_validator_far_behind_catches_up_from_its_peers_disks() {
    let cfg = SimConfig { recent_bytes: 1, ..SimConfig::new(9) };
    let report = Sim::run(cfg, |sim| {
        Box::pin(async move {
            sim.wait_height(10).await;
            let at_crash = sim.max_height().await;
            sim.crash(2);
            sim.sleep(Duration::from_secs(5)).await;
            let others = sim.min_height().await;
            assert!(others >= at_crash + 10, "{at_crash} -> {others}");
            sim.restart(2).await;
        })
    });
    report.check(100);
    assert!(report.status(2).fetches > 0);
}

/// Every validator stops at once, mid-run, and all restart: blocks notarized but
/// not finalized at the stop are still there to build on, and the chain goes on.
#[test]
fn whole_network_restarts() {
    let report = Sim::run(SimConfig::new(9), |sim| {
        Box::pin(async move {
            for round in 0..3 {
                sim.wait_height(15 + 25 * round).await;
                (0..4).for_each(|i| sim.crash(i));
                sim.sleep(Duration::from_millis(500)).await;
                for i in 0..4 {
                    sim.restart(i).await;
                }
            }
        })
    });
    report.check(100);
    assert_eq!(report.restarts, 12);
}

/// The same seed gives the same chain, block for block.
#[test]
fn a_seed_replays_exactly() {
    let cfg = SimConfig { target: 30, feed_blocks: 40, ..SimConfig::new(7) };
    let first = Sim::run(cfg.clone(), |_| Box::pin(async {}));
    let second = Sim::run(cfg, |_| Box::pin(async {}));
    first.check(30);
    assert_eq!(first.chain(0), second.chain(0));
}

/// The network splits in two halves (no quorum on either side), then heals.
#[test]
fn partition_heals() {
    let report = Sim::run(SimConfig::new(5), |sim| {
        Box::pin(async move {
            sim.wait_height(20).await;
            let before = sim.min_height().await;
            sim.partition(&[0, 1], &[2, 3]).await;
            sim.sleep(Duration::from_secs(5)).await;
            let during = sim.max_height().await;
            assert!(during <= before + 2, "no quorum in a half, yet {before} -> {during}");
            sim.heal().await;
        })
    });
    report.check(100);
}

/// A validator cut off from the others falls behind while they go on, then
/// catches up once its links come back.
#[test]
fn isolated_validator_falls_behind_and_catches_up() {
    let report = Sim::run(SimConfig::new(8), |sim| {
        Box::pin(async move {
            sim.wait_height(10).await;
            sim.partition(&[3], &[0, 1, 2]).await;
            let cut = sim.max_height().await;
            sim.sleep(Duration::from_secs(5)).await;
            let (lowest, highest) = (sim.min_height().await, sim.max_height().await);
            assert!(lowest <= cut + 1 && highest >= cut + 8, "cut at {cut}: {lowest}..{highest}");
            sim.heal().await;
        })
    });
    report.check(100);
    assert!(report.status(3).fetches > 0);
}

/// Messages dropped (10%) and delayed at random (jitter) on every link.
#[test]
fn lossy_jittery_links() {
    let cfg = SimConfig { success_rate: 0.9, jitter: Duration::from_millis(40), ..SimConfig::new(6) };
    let report = Sim::run(cfg, |_| Box::pin(async {}));
    report.check(100);
}
