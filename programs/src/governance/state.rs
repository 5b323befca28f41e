//! The governance program's state: DAOs, voter records, proposals, tallies and vote
//! records, and their readers.

use super::*;

/// A DAO's fixed terms, set by `InitDao` and copied into each proposal at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DaoParams {
    /// The fewest votes (yes + no, governing token base units) a proposal needs; at least 1.
    pub quorum: u64,
    /// The yes share of the votes cast a proposal must exceed, in bps: `0..10_000`.
    pub threshold_bps: u64,
    /// Slots a proposal is open for votes; at least 1.
    pub voting_period: u64,
    /// Slots between the voting end and the earliest execution.
    pub timelock: u64,
}

impl DaoParams {
    /// Whether `InitDao` accepts these parameters.
    pub fn is_valid(&self) -> bool {
        self.quorum >= 1 && self.threshold_bps < BPS && self.voting_period >= 1
    }
}

/// A DAO, at [`dao_address`]`(vault)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Dao {
    /// The governing token.
    pub mint: Pubkey,
    /// The token account holding the deposits, owned by the DAO's address.
    pub vault: Pubkey,
    /// The DAO's terms.
    pub params: DaoParams,
    /// Proposals created so far: the next proposal's index.
    pub proposal_count: u64,
}

impl AccountState for Dao {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 2 * 32 + 4 * 8 + 8;
}

/// One holder's deposit in one DAO, at [`voter_address`]`(dao, owner)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VoterRecord {
    /// The DAO.
    pub dao: Pubkey,
    /// The holder, who alone votes and withdraws with it.
    pub owner: Pubkey,
    /// Governing tokens deposited: the record's voting weight.
    pub amount: u64,
    /// The slot after the last deposit: the record may vote on proposals created at
    /// this slot or later.
    pub active_from_slot: u64,
    /// The latest voting end of the proposals the record voted on: withdrawals wait for it.
    pub locked_until: u64,
}

impl AccountState for VoterRecord {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 2 * 32 + 3 * 8;
}

/// One account of a proposal's action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ActionAccount {
    /// The account.
    pub pubkey: Pubkey,
    /// Whether the action's program writes it.
    pub is_writable: bool,
    /// Whether it signs: only the DAO's [`treasury_address`] may.
    pub is_signer: bool,
}

/// The instruction a passed proposal runs, signed by the DAO's treasury authority:
/// at most [`MAX_ACTION_ACCOUNTS`] accounts and [`MAX_ACTION_DATA`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Action {
    /// The program to call.
    pub program_id: Pubkey,
    /// Its accounts, in order.
    pub accounts: Vec<ActionAccount>,
    /// Its instruction data.
    pub data: Vec<u8>,
}

impl Action {
    /// The action that runs `ix` (its signers must be the treasury authority).
    pub fn from_instruction(ix: &Instruction) -> Self {
        let accounts = ix
            .accounts
            .iter()
            .map(|m| ActionAccount { pubkey: m.pubkey, is_writable: m.is_writable, is_signer: m.is_signer })
            .collect();
        Self { program_id: ix.program_id, accounts, data: ix.data.clone() }
    }

    /// The metas `Execute` calls the program with.
    pub fn metas(&self) -> Vec<AccountMeta> {
        self.accounts
            .iter()
            .map(|a| {
                if a.is_writable {
                    AccountMeta::writable(a.pubkey, a.is_signer)
                } else {
                    AccountMeta::readonly(a.pubkey, a.is_signer)
                }
            })
            .collect()
    }

    /// Whether `CreateProposal` accepts it for `dao`: within the bounds, and no signer
    /// but the DAO's treasury authority.
    pub fn is_valid(&self, dao: &Pubkey) -> bool {
        let treasury = treasury_address(dao);
        self.accounts.len() <= MAX_ACTION_ACCOUNTS
            && self.data.len() <= MAX_ACTION_DATA
            && self.accounts.iter().all(|a| !a.is_signer || a.pubkey == treasury)
    }
}

/// Where a proposal is in its life.
///
/// ```text
///          Finalize (slot ≥ voting_end, passes)          Execute (slot ≥ executable_from)
/// Voting ───────────────────────────────────────▶ Passed ─────────────────────────▶ Executed
///    └──────────────────────────────────────────▶ Rejected
///          Finalize (slot ≥ voting_end, does not pass)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalStatus {
    /// Open for votes until `voting_end`, then waiting for `Finalize`.
    Voting,
    /// Quorum met and yes share above the threshold; executable after the timelock.
    Passed,
    /// Not passed; never executes.
    Rejected,
    /// Its action ran.
    Executed,
}

/// A proposal, at [`proposal_address`]`(dao, index)`. Its encoding holds the action's
/// variable-length lists, so [`Proposal::LEN`] is the largest size.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// The DAO.
    pub dao: Pubkey,
    /// Its number in the DAO.
    pub index: u64,
    /// Who created it.
    pub proposer: Pubkey,
    /// The slot it was created at: records active from a later slot cannot vote.
    pub created_slot: u64,
    /// Votes are accepted while `slot < voting_end` (`created_slot + voting_period`).
    pub voting_end: u64,
    /// `Execute` is accepted from this slot (`voting_end + timelock`).
    pub executable_from: u64,
    /// The DAO's quorum when the proposal was created.
    pub quorum: u64,
    /// The DAO's threshold when the proposal was created.
    pub threshold_bps: u64,
    /// Voting, passed, rejected or executed.
    pub status: ProposalStatus,
    /// The yes tally as `Finalize` read it (0 before).
    pub yes_votes: u64,
    /// The no tally as `Finalize` read it (0 before).
    pub no_votes: u64,
    /// What runs if it passes.
    pub action: Action,
}

impl AccountState for Proposal {
    const TAG: u8 = 3;
    const LEN: usize =
        1 + 32 + 8 + 32 + 5 * 8 + 1 + 2 * 8 + 32 + 4 + MAX_ACTION_ACCOUNTS * (32 + 2) + 4 + MAX_ACTION_DATA;
}

/// A side of a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Side {
    /// Against.
    No,
    /// For.
    Yes,
}

impl Side {
    /// The first seed of this side's tally address.
    pub fn seed(self) -> &'static [u8] {
        match self {
            Side::No => NO_SEED,
            Side::Yes => YES_SEED,
        }
    }
}

/// One side's votes on one proposal, at [`tally_address`]`(proposal, side)`. `votes`
/// is the counter [`GovernanceProgram::apply_credit`] adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Tally {
    /// The proposal.
    pub proposal: Pubkey,
    /// The side it counts.
    pub side: Side,
    /// The sum of the weights voted on this side.
    pub votes: u64,
}

impl AccountState for Tally {
    const TAG: u8 = 4;
    const LEN: usize = 1 + 32 + 1 + 8;
}

/// One voter's vote on one proposal, at [`vote_address`]`(proposal, voter)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VoteRecord {
    /// The proposal.
    pub proposal: Pubkey,
    /// The voter.
    pub voter: Pubkey,
    /// The side voted.
    pub side: Side,
    /// The weight added to that side's tally.
    pub weight: u64,
}

impl AccountState for VoteRecord {
    const TAG: u8 = 5;
    const LEN: usize = 1 + 2 * 32 + 1 + 8;
}

/// Decodes a DAO's state, checking that the governance program owns the account.
pub fn read_dao(data: &[u8], owner: &Pubkey) -> Result<Dao, GovernanceError> {
    read_owned(data, owner)
}

/// Decodes a voter record, checking that the governance program owns the account.
pub fn read_voter(data: &[u8], owner: &Pubkey) -> Result<VoterRecord, GovernanceError> {
    read_owned(data, owner)
}

/// Decodes a proposal, checking that the governance program owns the account.
pub fn read_proposal(data: &[u8], owner: &Pubkey) -> Result<Proposal, GovernanceError> {
    read_owned(data, owner)
}

/// Decodes a tally, checking that the governance program owns the account.
pub fn read_tally(data: &[u8], owner: &Pubkey) -> Result<Tally, GovernanceError> {
    read_owned(data, owner)
}

/// Decodes a vote record, checking that the governance program owns the account.
pub fn read_vote(data: &[u8], owner: &Pubkey) -> Result<VoteRecord, GovernanceError> {
    read_owned(data, owner)
}

impl OwnedState for GovernanceError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = GovernanceError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = GovernanceError::AlreadyInitialized;
}
