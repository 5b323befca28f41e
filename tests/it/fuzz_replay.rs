//! The fuzz harnesses in the normal test suite: every committed corpus file of
//! `fuzz/corpus/<target>/` and, per target, as many random inputs as its proptest's
//! `cases` below (2,000 for decode, 300 for programs, 100 for scheduler) go through
//! the same functions cargo-fuzz drives (`parex_cli::fuzz`), so the invariants they check
//! run in CI on every change, with or without cargo-fuzz, and a crash input added to a
//! corpus stays a regression test.

use parex_cli::fuzz as harness;

use proptest::prelude::*;

/// Runs `run` on every file of `fuzz/corpus/<target>`; returns how many there were.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).expect("a corpus file");
        run(&data);
    }
    files.len()
}

#[test]
fn decode_corpus_replays() {
    assert!(replay("decode", harness::decode::run) > 0);
}

#[test]
fn programs_corpus_replays() {
    assert!(replay("programs", harness::programs::run) > 0);
}

#[test]
fn scheduler_corpus_replays() {
    assert!(replay("scheduler", harness::scheduler::run) > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decode_harness_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..1_400)) {
        harness::decode::run(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn programs_harness_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        harness::programs::run(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn scheduler_harness_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        harness::scheduler::run(&data);
    }
}
