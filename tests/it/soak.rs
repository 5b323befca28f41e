//! The short soak: the soak engine (`parex_cli::soak`, run long by `examples/soak`) on a few hundred blocks, so CI
//! checks what the long run checks (one receipt per submitted transaction, outcomes
//! as generated, every payer's nonce exactly where it must be, signed blocks through
//! the full path) in seconds. The long run and its figures are in
//! `docs/RELIABILITY.md`.

use parex_cli::soak as engine;

#[test]
fn short_soak_keeps_every_receipt_and_nonce() {
    let config = engine::SoakConfig {
        txs: 60_000,
        block_size: 500,
        users: 500,
        threads: 2,
        window_blocks: 20,
        signed_every: 10,
        seed: 3,
    };
    let report = engine::run(&config, |_| {});
    assert_eq!(report.blocks, 120);
    assert_eq!(report.submitted, 60_000);
    assert_eq!(report.receipts, report.submitted);
    assert_eq!(report.success + report.failed + report.invalid, report.submitted);
    assert!(report.failed > 0 && report.invalid > 0, "the mix includes failures and invalid transactions");
    assert_eq!(report.signed_blocks, 12);
    assert_eq!(report.windows.len(), 6);
}
