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
//!
//! The first blocks of a way carry one-time costs (the pool's threads starting,
//! the scheduling core and the caches growing to the chain's accounts), so the
//! first comparison may be wrong: the way it did not pick is measured again
//! after [`FIRST_PROBE_AFTER`] blocks, and that probe replaces its warm-up
//! samples instead of joining them. That probe's verdict rests on one block, and
//! one block of a noisy machine can cost twice another: whichever way it picks,
//! the other is probed again [`FIRST_PROBE_AFTER`] blocks later, before the
//! chooser settles on the usual interval. A lasting load pays one probe more per
//! executor for this; a single slow block no longer decides the next 32.

/// How often (in blocks) the way not chosen is measured again, after the second probe.
pub(crate) const PROBE_EVERY: u64 = 32;
/// Blocks between the first comparison and the first probe, and between the first
/// probe and the second.
pub(crate) const FIRST_PROBE_AFTER: u64 = 4;
/// The longest interval between probes: each probe that loses doubles the interval
/// up to this; a probe that wins brings it back to [`PROBE_EVERY`].
pub(crate) const MAX_PROBE_EVERY: u64 = 256;
/// Samples kept per way; blocks each way runs before the chooser first compares.
const WINDOW: usize = 3;

/// Blocks an adaptive executor runs before its chooser has compared both ways and
/// made its first two probes: two on the pool, two inline, then four more (the last
/// of them the first probe) and four more (the last the second). From then on it
/// probes every 32 blocks or less often. A benchmark of steady-state throughput
/// runs this many blocks untimed first.
pub const WARM_UP_BLOCKS: u64 = 4 + 2 * FIRST_PROBE_AFTER;

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
    /// Whether the first probe has been recorded (the warm-up samples are gone).
    warmed: bool,
}

impl Default for Chooser {
    fn default() -> Self {
        Self {
            parallel: Vec::new(),
            inline: Vec::new(),
            since_probe: 0,
            probe_every: FIRST_PROBE_AFTER,
            probing: None,
            warmed: false,
        }
    }
}

impl Chooser {
    /// The way to run the next block.
    pub(crate) fn choose(&mut self) -> Way {
        // Each way runs two blocks first (after the first probe, one sample is enough).
        if !self.warmed && self.parallel.len() < 2 {
            return Way::Parallel;
        }
        if !self.warmed && self.inline.len() < 2 {
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
        let probe = self.probing.take() == Some(way);
        let first_probe = probe && !self.warmed;
        let samples = match way {
            Way::Parallel => &mut self.parallel,
            Way::Inline => &mut self.inline,
        };
        if first_probe {
            // The probed way's samples so far are its warm-up blocks.
            samples.clear();
        }
        if samples.len() == WINDOW {
            samples.remove(0);
        }
        samples.push(ns_per_tx);
        if first_probe {
            // One block decided: the second probe comes as soon as the first did.
            self.warmed = true;
        } else if probe {
            // A probe that beat the other way's recent cost is looked at again soon;
            // one that lost waits twice as long as before, and at least PROBE_EVERY.
            let other = self.judged(way.other());
            self.probe_every = if ns_per_tx < other {
                PROBE_EVERY
            } else {
                (self.probe_every * 2).clamp(PROBE_EVERY, MAX_PROBE_EVERY)
            };
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
        // Two probes soon after, then each losing probe doubles the interval:
        // probes after 4, 4, then 32, 64, 128 and 256 blocks.
        let (p, i) = run(&mut c, 2 * FIRST_PROBE_AFTER + PROBE_EVERY * (1 + 2 + 4 + 8), 500.0, 1_000.0);
        assert_eq!(i, 6, "probes of the slower way, less and less often");
        assert_eq!(p, 2 * FIRST_PROBE_AFTER + PROBE_EVERY * 15 - 6);
        let (_, i) = run(&mut c, 2 * MAX_PROBE_EVERY, 500.0, 1_000.0);
        assert_eq!(i, 2, "then one per {MAX_PROBE_EVERY} blocks");
    }

    #[test]
    fn a_pool_slow_only_while_warming_up_wins_back_at_the_first_probe() {
        let mut c = Chooser::default();
        // Both first pool blocks pay one-time costs and lose the first comparison.
        for _ in 0..2 {
            assert_eq!(c.choose(), Way::Parallel);
            c.record(Way::Parallel, 1_100.0);
        }
        let (p, i) = run(&mut c, 2 + FIRST_PROBE_AFTER, 600.0, 900.0);
        assert_eq!((p, i), (1, FIRST_PROBE_AFTER + 1), "inline until the first probe, which is the pool's");
        // The probe replaced the warm-up samples: the pool runs from then on, but for
        // the second probe (of the inline way).
        let (p, i) = run(&mut c, FIRST_PROBE_AFTER, 600.0, 900.0);
        assert_eq!((p, i), (FIRST_PROBE_AFTER - 1, 1));
        let (p, i) = run(&mut c, PROBE_EVERY - 1, 600.0, 900.0);
        assert_eq!((p, i), (PROBE_EVERY - 1, 0));
        // Had the probe lost, the pool would have been probed once more as soon, then
        // waited PROBE_EVERY blocks for the next.
        let mut c = Chooser::default();
        run(&mut c, 4 + FIRST_PROBE_AFTER, 1_100.0, 900.0);
        let (p, _) = run(&mut c, FIRST_PROBE_AFTER, 1_100.0, 900.0);
        assert_eq!(p, 1, "the second probe");
        let (p, _) = run(&mut c, PROBE_EVERY - 1, 1_100.0, 900.0);
        assert_eq!(p, 0);
    }

    #[test]
    fn the_warm_up_ends_with_the_second_probe() {
        for (parallel_ns, inline_ns) in [(600.0, 900.0), (900.0, 600.0)] {
            let mut c = Chooser::default();
            // The slower way runs its two warm-up blocks, then each probe.
            let (p, i) = run(&mut c, WARM_UP_BLOCKS - 1, parallel_ns, inline_ns);
            assert_eq!(p.min(i), 3, "the second probe is the last warm-up block");
            let (p_last, i_last) = run(&mut c, 1, parallel_ns, inline_ns);
            assert_eq!((p + p_last).min(i + i_last), 4, "the second probe, after {WARM_UP_BLOCKS} blocks");
            // Then only the steady rule: no probe for PROBE_EVERY - 1 blocks.
            let (p, i) = run(&mut c, PROBE_EVERY - 1, parallel_ns, inline_ns);
            assert_eq!(p.min(i), 0, "no probe in the steady blocks after the warm-up");
        }
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
        let mut contended = |c: &mut Chooser, blocks: usize| {
            let mut pooled = 0;
            for _ in 0..blocks {
                match c.choose() {
                    Way::Parallel => {
                        pooled += 1;
                        lucky = !lucky;
                        c.record(Way::Parallel, if lucky { 400.0 } else { 3_000.0 });
                    }
                    Way::Inline => c.record(Way::Inline, 1_000.0),
                }
            }
            pooled
        };
        // The first probe (a lucky block, judged alone as it replaces the warm-up)
        // brings the pool back until the median of its window is an unlucky block,
        // and the second probe may again: each probe and at most a window more, once.
        let first = contended(&mut c, 2 * FIRST_PROBE_AFTER as usize + 2 * WINDOW);
        assert!(first <= 2 * (1 + WINDOW), "{first} pool blocks around the first two probes");
        let pooled = contended(&mut c, 1_024);
        assert!(pooled <= 1_024 / 16, "{pooled} pool blocks");
    }
}
