//! Choosing, block by block, between the worker pool and the calling thread
//! alone: a node never runs slower in parallel than it would sequentially.
//!
//! On a machine whose cores are busy with other work (networking, verification,
//! RPC), helper threads may get no core when they need one, and a parallel block
//! can take longer than the same block run inline. [`Chooser`] keeps the recent
//! costs per transaction of each way, runs blocks the cheaper way, and
//! re-measures the other way every [`PROBE_EVERY`] blocks, less often (up to
//! [`MAX_PROBE_EVERY`]) while those probes keep losing, so it follows the
//! machine's load in both directions and a lasting load pays few probes. Both
//! ways give identical results (the law), so the choice is only about speed.

/// How often (in blocks) the way not chosen is measured again, at first.
pub(crate) const PROBE_EVERY: u64 = 32;
/// The longest interval between probes: each probe that loses doubles the interval
/// up to this; a probe that wins brings it back to [`PROBE_EVERY`].
pub(crate) const MAX_PROBE_EVERY: u64 = 256;
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

impl Way {
    /// The way not taken.
    fn other(self) -> Self {
        match self {
            Way::Parallel => Way::Inline,
            Way::Inline => Way::Parallel,
        }
    }
}

/// The last three costs per transaction of each way, and when to probe next; each
/// way is [`judged`](Chooser::judged) by its own rule.
#[derive(Clone, Debug)]
pub(crate) struct Chooser {
    parallel: Vec<f64>,
    inline: Vec<f64>,
    /// Blocks since the last probe, and the current interval between probes.
    since_probe: u64,
    probe_every: u64,
    /// The way the block being run probes, if it is a probe.
    probing: Option<Way>,
}

impl Default for Chooser {
    fn default() -> Self {
        Self {
            parallel: Vec::new(),
            inline: Vec::new(),
            since_probe: 0,
            probe_every: PROBE_EVERY,
            probing: None,
        }
    }
}

impl Chooser {
    /// The way to run the next block.
    pub(crate) fn choose(&mut self) -> Way {
        if self.parallel.len() < 2 {
            return Way::Parallel;
        }
        if self.inline.len() < 2 {
            return Way::Inline;
        }
        let best = self.best();
        self.since_probe += 1;
        if self.since_probe < self.probe_every {
            return best;
        }
        self.since_probe = 0;
        self.probing = Some(best.other());
        best.other()
    }

    /// The way that measured cheaper recently.
    fn best(&self) -> Way {
        if self.judged(Way::Parallel) <= self.judged(Way::Inline) { Way::Parallel } else { Way::Inline }
    }

    /// What `way` is judged to cost per transaction: the inline way its cheapest
    /// recent block (noise only ever adds time to one thread), the pool its
    /// [`typical`] one.
    fn judged(&self, way: Way) -> f64 {
        match way {
            Way::Parallel => typical(&self.parallel),
            Way::Inline => best_of(&self.inline),
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
        if self.probing.take() == Some(way) {
            // A probe that beat the other way's recent cost is looked at again soon.
            let other = self.judged(way.other());
            self.probe_every =
                if ns_per_tx < other { PROBE_EVERY } else { (self.probe_every * 2).min(MAX_PROBE_EVERY) };
        }
    }
}

fn best_of(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The pool's typical recent cost: the median of a full window, else the cheapest
/// (the first pool block pays for starting the threads). On a contended machine a
/// pool block's cost swings both ways (a helper that finds a core, or one
/// descheduled with work the block waits for): one lucky block must not bring the
/// pool back, as the cheapest would.
fn typical(samples: &[f64]) -> f64 {
    if samples.len() < WINDOW {
        return best_of(samples);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[WINDOW / 2]
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
    fn measures_both_ways_then_keeps_the_cheaper_probing_the_other_less_and_less() {
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
        // Each losing probe doubles the interval: probes after 32, 64, 128 and 256 blocks.
        let (p, i) = run(&mut c, PROBE_EVERY * (1 + 2 + 4 + 8), 500.0, 1_000.0);
        assert_eq!(i, 4, "probes of the slower way, less and less often");
        assert_eq!(p, PROBE_EVERY * 15 - 4);
        let (_, i) = run(&mut c, 2 * MAX_PROBE_EVERY, 500.0, 1_000.0);
        assert_eq!(i, 2, "then one per {MAX_PROBE_EVERY} blocks");
    }

    #[test]
    fn follows_the_load_when_parallel_stops_paying_off() {
        let mut c = Chooser::default();
        run(&mut c, PROBE_EVERY, 500.0, 1_000.0);
        // The cores get busy: parallel blocks now cost three times the inline ones.
        let (p, i) = run(&mut c, 4 * PROBE_EVERY, 3_000.0, 1_000.0);
        assert!(p <= 4, "two blocks to move the pool's median, then a probe or two: {p}");
        assert_eq!(p + i, 4 * PROBE_EVERY);
        // And back when the load goes away: a winning probe is confirmed by the next
        // one, PROBE_EVERY blocks later.
        run(&mut c, MAX_PROBE_EVERY + PROBE_EVERY + 1, 500.0, 1_000.0);
        let (p, _) = run(&mut c, PROBE_EVERY, 500.0, 1_000.0);
        assert!(p >= PROBE_EVERY - 1, "{p}");
    }

    #[test]
    fn a_lucky_pool_block_does_not_bring_the_pool_back() {
        let mut c = Chooser::default();
        run(&mut c, 4, 3_000.0, 1_000.0);
        // Contended: most pool blocks cost three times an inline one, every other one
        // gets lucky and costs less. Judged by its cheapest block, the pool would run
        // nearly every block.
        let mut lucky = false;
        let mut pooled = 0;
        for _ in 0..1_024 {
            match c.choose() {
                Way::Parallel => {
                    pooled += 1;
                    lucky = !lucky;
                    c.record(Way::Parallel, if lucky { 400.0 } else { 3_000.0 });
                }
                Way::Inline => c.record(Way::Inline, 1_000.0),
            }
        }
        assert!(pooled <= 1_024 / 16, "{pooled} pool blocks");
    }
}
