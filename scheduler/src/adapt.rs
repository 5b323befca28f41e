//! Choosing, block by block, between the worker pool and the calling thread
//! alone: a node never runs slower in parallel than it would sequentially.
//!
//! On a machine whose cores are busy with other work (networking, verification,
//! RPC), helper threads may get no core when they need one, and a parallel block
//! can take longer than the same block run inline. [`Chooser`] keeps a moving
//! estimate of the cost per transaction of each way, runs blocks the cheaper
//! way, and re-measures the other way every [`PROBE_EVERY`] blocks, so it
//! follows the machine's load in both directions. Both ways give identical
//! results (the law), so the choice is only about speed.

/// How often (in blocks) the way not chosen is measured again.
pub const PROBE_EVERY: u64 = 32;
/// Weight of the newest measurement in an estimate.
const NEWEST: f64 = 0.5;

/// How to run one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// On the worker pool.
    Parallel,
    /// On the calling thread alone (the sequential executor).
    Inline,
}

/// Estimates of nanoseconds per transaction of each way (with the block that last
/// updated each), and the block count.
#[derive(Clone, Debug, Default)]
pub struct Chooser {
    parallel: Option<(f64, u64)>,
    inline: Option<(f64, u64)>,
    blocks: u64,
}

impl Chooser {
    /// The way to run the next block.
    pub fn choose(&mut self) -> Way {
        self.blocks += 1;
        match (self.parallel, self.inline) {
            (None, _) => Way::Parallel,
            (Some(_), None) => Way::Inline,
            (Some((p, _)), Some((i, _))) => {
                let best = if p <= i { Way::Parallel } else { Way::Inline };
                match (self.blocks.is_multiple_of(PROBE_EVERY), best) {
                    (false, best) => best,
                    (true, Way::Parallel) => Way::Inline,
                    (true, Way::Inline) => Way::Parallel,
                }
            }
        }
    }

    /// Records what a block run `way` cost per transaction. A probe replaces the old
    /// estimate (the machine may have changed since); a run in a row averages in.
    pub fn record(&mut self, way: Way, ns_per_tx: f64) {
        let blocks = self.blocks;
        let est = match way {
            Way::Parallel => &mut self.parallel,
            Way::Inline => &mut self.inline,
        };
        let value = match *est {
            Some((e, at)) if blocks - at <= 1 => e * (1.0 - NEWEST) + ns_per_tx * NEWEST,
            _ => ns_per_tx,
        };
        *est = Some((value, blocks));
    }
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
        assert_eq!(c.choose(), Way::Parallel);
        c.record(Way::Parallel, 500.0);
        assert_eq!(c.choose(), Way::Inline);
        c.record(Way::Inline, 1_000.0);
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
        assert!(p <= 6, "parallel only until re-measured, then as probes: {p}");
        assert!(i >= 4 * PROBE_EVERY - 6);
        // And back when the load goes away: at the next probe at the latest.
        let (p, _) = run(&mut c, 4 * PROBE_EVERY, 500.0, 1_000.0);
        assert!(p >= 3 * PROBE_EVERY - 2, "{p}");
    }
}
