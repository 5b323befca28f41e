//! The governance program: token-weighted proposals whose votes run in parallel.
//!
//! Holders of a DAO's governing token deposit it into the DAO's vault, recorded in
//! their voter record, and vote with what the record holds; a proposal that passes
//! (quorum and threshold) runs its stored instruction after a timelock, signed by the
//! DAO's treasury authority.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitDao{params}` | dao W(new), vault R | bad params, dao not the vault's PDA, vault not an empty token account owned by the dao, already initialised |
//! | `Deposit{amount}` | dao R, vault C/W, owner token W, voter record W, owner S | zero, wrong vault, wrong record, the token program's errors |
//! | `Withdraw{amount}` | dao R, vault W, owner token W, voter record W, owner S | zero, wrong vault, wrong record, locked, above the deposit |
//! | `CreateProposal{action}` | dao W, proposal W(new), yes tally W(new), no tally W(new), proposer S | invalid action, not the DAO's next proposal address, wrong tally address, slot overflow |
//! | `Vote{side}` | proposal R, tally C/W, voter record W, vote record W(new), owner S | closed, wrong tally, wrong record, not eligible, no tokens, already voted |
//! | `Finalize` | proposal W, yes tally R, no tally R | before the end, already finalized, wrong tally |
//! | `Execute` | proposal W, then the action's accounts | not passed, timelock, already executed, accounts not the action's, the action's own errors |
//!
//! Every instruction also fails with the runtime's `ReadonlyWrite` / `MissingSignature`
//! when the access list lacks a W or S (checked before any state is read), and with
//! [`GovernanceError::WrongAccountOwner`] / [`GovernanceError::NotInitialized`] /
//! [`GovernanceError::InvalidAccountData`] on state accounts that are not what they claim.
//!
//! ## Accounts
//! - **DAO** ([`Dao`]) at [`dao_address`]`(vault)`, which is also the vault's token
//!   owner: deposits and withdrawals move tokens with the DAO's seeds. The vault is
//!   a token account of the governing mint the client creates in the same
//!   transaction as `InitDao` ([`create_dao`]).
//! - **Treasury authority** [`treasury_address`]`(dao)`: the only key `Execute` signs
//!   for. Token accounts it owns are the DAO's treasury; the vault is not among them,
//!   so no proposal can move deposits.
//! - **Voter record** ([`VoterRecord`]) at [`voter_address`]`(dao, owner)`, opened by
//!   the first deposit.
//! - **Proposal** ([`Proposal`]) at [`proposal_address`]`(dao, index)`, index the
//!   DAO's proposal counter; its **tallies** ([`Tally`]) at
//!   [`tally_address`]`(proposal, side)`, one per side, opened with it.
//! - **Vote record** ([`VoteRecord`]) at [`vote_address`]`(proposal, owner)`: opening
//!   it is what makes a second vote fail.
//!
//! ## Voting power and double voting
//! A deposit sets the record's `active_from_slot` to its slot + 1; a vote on a
//! proposal created at slot `c` requires `active_from_slot ≤ c`, so tokens that
//! arrived in the proposal's slot or later cannot vote on it. The weight is the
//! record's `amount`, which since `c` can only have fallen (any deposit would have
//! moved `active_from_slot` past `c`). A vote sets the record's `locked_until` to the
//! latest voting end among the proposals it voted on; withdrawals are refused before
//! it. So tokens that voted stay in the record until the vote is over, and tokens
//! that move to another record cannot vote on any proposal already open.
//!
//! ## Parallel votes
//! A vote reads the proposal, writes the voter's own record and vote record, and
//! adds its weight to the side's tally through [`InvokeContext::credit_counter`]
//! with the tally passed credit-only ([`vote`]): credits to one account commute, so
//! the schedulers run all votes on one proposal at once, and [`Finalize`](GovernanceInstruction::Finalize)
//! (which reads the tallies) is ordered after them. [`GovernanceProgram::apply_credit`]
//! checks that the tally belongs to the proposal and adds, checked. It cannot
//! overflow: the weights on one proposal are amounts of distinct records that held
//! them at the proposal's creation (see above), so their sum is at most the vault's
//! balance then, at most the mint's supply, a `u64`.
//!
//! ## Outcome
//! [`passes`]`(yes, no, quorum, threshold_bps)`: `yes + no ≥ quorum` and
//! `yes · 10_000 > threshold_bps · (yes + no)` in `u128` — strictly more than the
//! threshold, so a share exactly at the threshold is rejected.
//!
//! Times are block slots (`ctx.env().slot`): votes are accepted while
//! `slot < voting_end`, `Finalize` from `voting_end`, `Execute` from
//! `voting_end + timelock`.

use std::sync::LazyLock;

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{
    Account, AccountMeta, Event, Instruction, InstructionError, InvokeContext, Program, Pubkey,
    SYSTEM_PROGRAM_ID, program_address,
};

use crate::instruction_accounts;
use crate::state::{
    AccountState, OwnedState, is_uninitialized, load_owned, read_owned, save_state, take_own_pda,
};
use crate::token;

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("governance"));

/// The governance program's id: `Pubkey::from_name("governance")`.
pub fn id() -> Pubkey {
    *ID
}

/// Compute units every governance instruction charges for decoding and dispatch.
pub const INSTRUCTION_COST: u64 = 50;
/// Compute units charged per state account read.
pub const READ_COST: u64 = 25;
/// Compute units charged per state account written (or credited).
pub const WRITE_COST: u64 = 25;

/// The most accounts a proposal's action may name.
pub const MAX_ACTION_ACCOUNTS: usize = 8;
/// The most data bytes a proposal's action may carry.
pub const MAX_ACTION_DATA: usize = 256;
/// Basis points in one: thresholds are `0..BPS`.
pub const BPS: u64 = 10_000;

/// First seed of a DAO's address: `[DAO_SEED, vault]`.
pub const DAO_SEED: &[u8] = b"dao";
/// First seed of a DAO's treasury authority: `[TREASURY_SEED, dao]`.
pub const TREASURY_SEED: &[u8] = b"treasury";
/// First seed of a voter record: `[VOTER_SEED, dao, owner]`.
pub const VOTER_SEED: &[u8] = b"voter";
/// First seed of a proposal: `[PROPOSAL_SEED, dao, index as 8 little-endian bytes]`.
pub const PROPOSAL_SEED: &[u8] = b"proposal";
/// First seed of a proposal's yes tally: `[YES_SEED, proposal]`.
pub const YES_SEED: &[u8] = b"tally-yes";
/// First seed of a proposal's no tally: `[NO_SEED, proposal]`.
pub const NO_SEED: &[u8] = b"tally-no";
/// First seed of a vote record: `[VOTE_SEED, proposal, voter]`.
pub const VOTE_SEED: &[u8] = b"vote";

fn pda(seeds: &[&[u8]]) -> Pubkey {
    program_address(seeds, &id()).expect("at most three seeds of at most 32 bytes")
}

/// The DAO whose vault is `vault`: `[DAO_SEED, vault]`, also the vault's token owner.
pub fn dao_address(vault: &Pubkey) -> Pubkey {
    pda(&[DAO_SEED, vault.as_ref()])
}

/// The key `Execute` signs for: `[TREASURY_SEED, dao]`, the owner of the DAO's treasury.
pub fn treasury_address(dao: &Pubkey) -> Pubkey {
    pda(&[TREASURY_SEED, dao.as_ref()])
}

/// `owner`'s voter record in `dao`: `[VOTER_SEED, dao, owner]`.
pub fn voter_address(dao: &Pubkey, owner: &Pubkey) -> Pubkey {
    pda(&[VOTER_SEED, dao.as_ref(), owner.as_ref()])
}

/// Proposal number `index` of `dao`: `[PROPOSAL_SEED, dao, index.to_le_bytes()]`.
pub fn proposal_address(dao: &Pubkey, index: u64) -> Pubkey {
    pda(&[PROPOSAL_SEED, dao.as_ref(), &index.to_le_bytes()])
}

/// The tally of `side` of `proposal`: `[YES_SEED or NO_SEED, proposal]`.
pub fn tally_address(proposal: &Pubkey, side: Side) -> Pubkey {
    pda(&[side.seed(), proposal.as_ref()])
}

/// `voter`'s vote record on `proposal`: `[VOTE_SEED, proposal, voter]`.
pub fn vote_address(proposal: &Pubkey, voter: &Pubkey) -> Pubkey {
    pda(&[VOTE_SEED, proposal.as_ref(), voter.as_ref()])
}

/// Whether a proposal with `yes` and `no` votes passes: at least `quorum` votes cast
/// and a yes share strictly above `threshold_bps`:
/// `yes + no ≥ quorum && yes · 10_000 > threshold_bps · (yes + no)`, exact in `u128`.
pub fn passes(yes: u64, no: u64, quorum: u64, threshold_bps: u64) -> bool {
    let cast = yes as u128 + no as u128;
    cast >= quorum as u128 && yes as u128 * BPS as u128 > threshold_bps as u128 * cast
}

pub(crate) mod error;
mod instruction;
mod processor;
mod state;

use error::GovernanceError;
pub use instruction::*;
pub use processor::*;
pub use state::*;
