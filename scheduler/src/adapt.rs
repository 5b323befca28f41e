//! Choosing, block by block, between the worker pool and the calling thread
//! alone: a node never runs slower in parallel than it would sequentially.
//!
//! On a machine whose cores are busy with other work (networking, verification,
//! RPC), helper threads may get no core when they need one, and a parallel block
//! can take longer than the same block run inline. [`Chooser`] keeps the recent
//! costs per transaction of each way, runs blocks the cheaper way, and
//! re-measures the other way every [`PROBE_EVERY`] blocks, so it follows the
//! machine's load in both directions. Both ways give identical
//! results (the law), so the choice is only about speed.

/// How often (in blocks) the way not chosen is measured again.
pub(crate) const PROBE_EVERY: u64 = 32;
/// Samples kept per way; blocks each way runs before the chooser first compares.
const WINDOW: usize = 3;

/// How to run one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    /// On the worker pool.
    Parallel,
    /// On the calling thread alone (the sequential executor).
    Inline,
}

/// The last three costs per transaction of each way, and the block count. Each
/// way is judged by its cheapest recent block: noise on a shared machine only ever
/// adds time, and the first block on a new pool pays for starting its threads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chooser {
    parallel: Vec<f64>,
    inline: Vec<f64>,
    blocks: u64,
}

impl Chooser {
    /// The way to run the next block.
    pub(crate) fn choose(&mut self) -> Way {
        self.blocks += 1;
        if self.parallel.len() < 2 {
            return Way::Parallel;
        }
        if self.inline.len() < 2 {
            return Way::Inline;
        }
        let best = if best_of(&self.parallel) <= best_of(&self.inline) { Way::Parallel } else { Way::Inline };
        match (self.blocks.is_multiple_of(PROBE_EVERY), best) {
            (false, best) => best,
            (true, Way::Parallel) => Way::Inline,
            (true, Way::Inline) => Way::Parallel,
        }
    }

    /// Records what a block run `way` cost per transaction.
    pub(crate) fn record(&mut self, way: Way, ns_per_tx: f64) {
        let samples = match way {
            Way::Parallel => &mut self.parallel,
            Way::Inline => &mut self.inline,
        };
        if samples.len() == WINDOW {
            samples.remove(0);
        }
        samples.push(ns_per_tx);
    }
}

fn best_of(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(c: &mut Chooser, blocks: u64, parallel_ns: f64, inline_ns: f64) -> (u64, u64) {
        let (mut p, mut i) = (0, 0);
        for _ in 0..blocks {
            match c.choose() {
                Way::Parallel => {
                    p += 1;
                    c.record(Way::Parallel, parallel_ns);
                }
                Way::Inline => {
                    i += 1;
                    c.record(Way::Inline, inline_ns);
                }
            }
        }
        (p, i)
    }

    #[test]
    fn measures_both_ways_then_keeps_the_cheaper_probing_the_other() {
        let mut c = Chooser::default();
        // The first parallel block pays for starting the pool: twice the steady cost.
        assert_eq!(c.choose(), Way::Parallel);
        c.record(Way::Parallel, 1_200.0);
        assert_eq!(c.choose(), Way::Parallel);
        c.record(Way::Parallel, 500.0);
        for _ in 0..2 {
            assert_eq!(c.choose(), Way::Inline);
            c.record(Way::Inline, 1_000.0);
        }
        let (p, i) = run(&mut c, 2 * PROBE_EVERY, 500.0, 1_000.0);
        assert_eq!(i, 2, "one probe of the slower way per {PROBE_EVERY} blocks");
        assert_eq!(p, 2 * PROBE_EVERY - 2);
    }

    #[test]
    fn follows_the_load_when_parallel_stops_paying_off() {
        let mut c = Chooser::default();
        run(&mut c, PROBE_EVERY, 500.0, 1_000.0);
        // The cores get busy: parallel blocks now cost three times the inline ones.
        let (p, i) = run(&mut c, 4 * PROBE_EVERY, 3_000.0, 1_000.0);
        assert!(p <= 8, "parallel until its window forgets the quiet blocks, then as probes: {p}");
        assert!(i >= 4 * PROBE_EVERY - 8);
        // And back when the load goes away: at the next probe at the latest.
        let (p, _) = run(&mut c, 4 * PROBE_EVERY, 500.0, 1_000.0);
        assert!(p >= 3 * PROBE_EVERY - 2, "{p}");
    }
}
