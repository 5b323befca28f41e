//! Per-account access sequences, built shard by shard, for the graph mode of the
//! replay executor; the design is on [`ShardGraph`].

use std::sync::atomic::{AtomicU32, Ordering};

/// No group or node.
pub(crate) const NONE: u32 = u32::MAX;

/// How a transaction uses an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// Reads it: shares with other readers.
    Read,
    /// Only credits it: shares with other creditors (credits commute).
    Credit,
    /// Writes it: shares with nobody.
    Write,
}

/// One access of a transaction, and where the caller keeps its group reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    /// The transaction's position in the block.
    pub(crate) tx: u32,
    /// Where the access is recorded (the caller's preparation chunk and position).
    pub(crate) chunk: u32,
    pub(crate) pos: u32,
}

/// A run of accesses to one account that may run together: consecutive readers,
/// consecutive creditors, or one writer.
#[derive(Debug)]
struct Group {
    /// Members not yet complete.
    remaining: AtomicU32,
    members: u32,
    /// The account's next group, or [`NONE`].
    next: u32,
    /// The first member, kept here: most groups have no other, so building them
    /// pushes one entry, not two.
    first: Access,
    /// The second and last member nodes, [`NONE`] while the group has one member.
    second: u32,
    tail: u32,
    kind: Use,
    /// Whether the account has an earlier group in the block (its members wait).
    waits: bool,
}

/// A member of a group after its first: its access, and the next member.
#[derive(Clone, Copy, Debug)]
struct Node {
    at: Access,
    next: u32,
}

/// The access sequences of one shard of a block's accounts.
///
/// # Design note
///
/// The graph mode splits a block's accounts into shards by block-local id, and
/// one thread at a time builds each shard, in block order: [`join`](Self::join)
/// appends an access to its account's sequence. Consecutive readers of an
/// account form one group, so do consecutive creditors, and each writer is a
/// group of its own; each group waits for the account's group before it and for
/// nothing else. A transaction's *pending count* is the number of its accesses
/// whose group waits (the caller sums it over shards).
///
/// After building, the shard is shared read-only but for one atomic per group.
/// When a member completes, [`finish`](Self::finish) counts it off its group; the
/// last member to finish gets the next group, whose
/// [`members`](Self::members) each have one pending wait fewer. A transaction
/// whose pending count reaches zero may run.
///
/// So a transaction runs only once every earlier transaction it conflicts with
/// (an earlier writer of an account it uses, earlier readers of an account it
/// writes or credits, earlier creditors of one it reads or writes) has
/// completed: the order [`ReplayScheduler`](crate::ReplayScheduler) enforces.
///
/// Only accesses whose group has a successor need [`finish`](Self::finish): when
/// a group gets its successor, `join` reports each of its members to the caller,
/// which records the group reference only for those; every other access costs
/// its completion nothing.
///
/// **Memory order.** `finish` is an acquire-release decrement; the caller
/// decrements the released members' pending counts acquire-release too. The
/// last decrement of a group reads every earlier member's (a release sequence),
/// so every member's writes happen-before the thread that releases the next
/// group, and before the thread that runs a transaction whose count reaches zero.
#[derive(Debug, Default)]
pub(crate) struct ShardGraph {
    groups: Vec<Group>,
    nodes: Vec<Node>,
    /// Per account (its index in the shard): the epoch of its latest group, and the group.
    last: Vec<(u32, u32)>,
}

impl ShardGraph {
    /// Forgets every group: the start of a block. Accounts' latest groups are
    /// forgotten by moving to a new epoch ([`join`](Self::join)).
    pub(crate) fn clear(&mut self) {
        self.groups.clear();
        self.nodes.clear();
    }

    /// Forgets the accounts' latest groups too (before epochs wrap around).
    pub(crate) fn reset_epochs(&mut self) {
        self.last.clear();
    }

    /// Appends access `at` of `kind` to the sequence of the shard's account `idx`,
    /// in block order. Accesses of accounts whose latest group is from an epoch
    /// other than `epoch` start a new sequence. Returns whether the access waits
    /// for an earlier group; when it closes the account's previous group, calls
    /// `sealed(member, group)` for each member of that group.
    pub(crate) fn join(
        &mut self,
        epoch: u32,
        idx: usize,
        at: Access,
        kind: Use,
        mut sealed: impl FnMut(Access, u32),
    ) -> bool {
        if self.last.len() <= idx {
            self.last.resize(idx + 1, (0, NONE));
        }
        let (seen, latest) = self.last[idx];
        let earlier = seen == epoch && latest != NONE;
        if earlier {
            let group = &self.groups[latest as usize];
            let last_tx =
                if group.tail == NONE { group.first.tx } else { self.nodes[group.tail as usize].at.tx };
            if last_tx == at.tx {
                // A key named twice (sanitising refuses it): one access is enough.
                return false;
            }
            if group.kind == kind && kind != Use::Write {
                return self.append(latest, at);
            }
        }
        let id = self.groups.len() as u32;
        self.groups.push(Group {
            remaining: AtomicU32::new(1),
            members: 1,
            next: NONE,
            first: at,
            second: NONE,
            tail: NONE,
            kind,
            waits: earlier,
        });
        if earlier {
            self.groups[latest as usize].next = id;
            self.members_of(latest).for_each(|m| sealed(m, latest));
        }
        self.last[idx] = (epoch, id);
        earlier
    }

    /// Appends `at` to `group`, the account's latest; returns whether it waits.
    fn append(&mut self, group: u32, at: Access) -> bool {
        let node = self.nodes.len() as u32;
        self.nodes.push(Node { at, next: NONE });
        let g = &mut self.groups[group as usize];
        g.members += 1;
        *g.remaining.get_mut() += 1;
        match std::mem::replace(&mut g.tail, node) {
            NONE => g.second = node,
            tail => self.nodes[tail as usize].next = node,
        }
        g.waits
    }

    /// A member of `group` completed. Returns the group it releases, if it was the
    /// last member of a group with a successor.
    pub(crate) fn finish(&self, group: u32) -> Option<u32> {
        let g = &self.groups[group as usize];
        let last = g.members == 1 || g.remaining.fetch_sub(1, Ordering::AcqRel) == 1;
        (last && g.next != NONE).then_some(g.next)
    }

    /// The transactions of `group`, in block order.
    pub(crate) fn members(&self, group: u32) -> impl Iterator<Item = u32> + '_ {
        self.members_of(group).map(|a| a.tx)
    }

    fn members_of(&self, group: u32) -> impl Iterator<Item = Access> + '_ {
        let g = &self.groups[group as usize];
        let mut node = g.second;
        std::iter::once(g.first).chain(std::iter::from_fn(move || {
            let n = *self.nodes.get(node as usize)?;
            node = n.next;
            Some(n.at)
        }))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A block: per transaction, its accounts (distinct) and how it uses each.
    type Block = Vec<Vec<(u32, Use)>>;

    fn conflict(a: &[(u32, Use)], b: &[(u32, Use)]) -> bool {
        a.iter().any(|&(x, ua)| b.iter().any(|&(y, ub)| x == y && !(ua == ub && ua != Use::Write)))
    }

    /// Builds `block` on `shards` shards (account `a` in shard `a % shards`) and
    /// completes ready transactions in the order `pick` chooses; checks that each
    /// becomes ready only after every earlier conflicting one completed, and that
    /// all complete. Returns the completion order.
    fn run(
        block: &Block,
        shards: u32,
        mut pick: impl FnMut(usize) -> usize,
    ) -> Result<Vec<usize>, TestCaseError> {
        let mut graphs: Vec<ShardGraph> = (0..shards).map(|_| ShardGraph::default()).collect();
        let mut refs: Vec<Vec<u32>> = block.iter().map(|tx| vec![NONE; tx.len()]).collect();
        let mut pending = vec![0u32; block.len()];
        for (t, tx) in block.iter().enumerate() {
            for (p, &(a, kind)) in tx.iter().enumerate() {
                let s = (a % shards) as usize;
                let at = Access { tx: t as u32, chunk: t as u32, pos: p as u32 };
                let mut seals = Vec::new();
                let waits = graphs[s].join(7, (a / shards) as usize, at, kind, |m, g| seals.push((m, g)));
                for (m, g) in seals {
                    refs[m.chunk as usize][m.pos as usize] = g;
                }
                pending[t] += u32::from(waits);
            }
        }
        let mut ready: Vec<usize> = (0..block.len()).filter(|&t| pending[t] == 0).collect();
        let mut done = vec![false; block.len()];
        let mut order = Vec::new();
        let check = |t: usize, done: &[bool]| -> Result<(), TestCaseError> {
            for e in 0..t {
                prop_assert!(done[e] || !conflict(&block[e], &block[t]), "{t} ready before {e}");
            }
            Ok(())
        };
        for &t in &ready {
            check(t, &done)?;
        }
        while !ready.is_empty() {
            let t = ready.swap_remove(pick(ready.len()));
            done[t] = true;
            order.push(t);
            for (p, &(a, _)) in block[t].iter().enumerate() {
                let g = refs[t][p];
                let shard = &graphs[(a % shards) as usize];
                if g == NONE {
                    continue;
                }
                if let Some(next) = shard.finish(g) {
                    for m in shard.members(next) {
                        pending[m as usize] -= 1;
                        if pending[m as usize] == 0 {
                            check(m as usize, &done)?;
                            ready.push(m as usize);
                        }
                    }
                }
            }
        }
        prop_assert_eq!(order.len(), block.len(), "every transaction completes");
        Ok(order)
    }

    fn block() -> impl Strategy<Value = Block> {
        let kind = prop_oneof![Just(Use::Read), Just(Use::Credit), Just(Use::Write)];
        let tx = proptest::collection::btree_map(0u32..12, kind, 1..5)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>());
        proptest::collection::vec(tx, 0..60)
    }

    proptest! {
        #[test]
        fn a_transaction_runs_only_after_every_earlier_conflicting_one(
            block in block(),
            shards in 1u32..5,
            seed in any::<u64>(),
        ) {
            let mut state = seed | 1;
            run(&block, shards, |n| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % n as u64) as usize
            })?;
        }
    }

    #[test]
    fn readers_share_and_a_writer_waits_for_all_of_them() {
        let block: Block =
            vec![vec![(0, Use::Read)], vec![(0, Use::Read)], vec![(0, Use::Write)], vec![(0, Use::Read)]];
        // Latest first: the second reader completes before the first.
        let order = run(&block, 1, |n| n - 1).expect("law holds");
        assert_eq!(order, vec![1, 0, 2, 3]);
    }

    #[test]
    fn creditors_share_but_not_with_readers() {
        let block: Block = vec![
            vec![(3, Use::Credit)],
            vec![(3, Use::Credit)],
            vec![(3, Use::Read)],
            vec![(3, Use::Credit)],
        ];
        let order = run(&block, 2, |_| 0).expect("law holds");
        assert_eq!(order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_new_epoch_starts_every_account_afresh() {
        let mut g = ShardGraph::default();
        let at = |tx| Access { tx, chunk: 0, pos: tx };
        assert!(!g.join(1, 0, at(0), Use::Write, |_, _| {}));
        assert!(g.join(1, 0, at(1), Use::Write, |_, _| {}));
        assert!(!g.join(2, 0, at(2), Use::Write, |_, _| {}), "a later segment waits on nothing earlier");
    }

    #[test]
    fn only_the_members_of_a_group_with_a_successor_are_reported() {
        let mut g = ShardGraph::default();
        let at = |tx| Access { tx, chunk: 1, pos: tx };
        let mut sealed = Vec::new();
        g.join(1, 0, at(0), Use::Read, |m, grp| sealed.push((m.tx, grp)));
        g.join(1, 0, at(1), Use::Read, |m, grp| sealed.push((m.tx, grp)));
        assert!(sealed.is_empty(), "no successor yet");
        g.join(1, 0, at(2), Use::Write, |m, grp| sealed.push((m.tx, grp)));
        assert_eq!(sealed, vec![(0, 0), (1, 0)]);
        assert_eq!(g.finish(0), None, "one reader left");
        assert_eq!(g.finish(0), Some(1));
        assert_eq!(g.members(1).collect::<Vec<_>>(), vec![2]);
    }
}
