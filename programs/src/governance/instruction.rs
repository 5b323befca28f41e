//! The governance program's instructions: their encoding, events, account specs and builders.

use super::*;

/// Governance program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovernanceInstruction {
    /// Opens a DAO. Accounts: `[dao W(new), vault R]`.
    InitDao {
        /// The DAO's terms.
        params: DaoParams,
    },
    /// Deposits governing tokens into the voter record.
    /// Accounts: `[dao R, vault C/W, owner token W, voter record W, owner S]`.
    Deposit {
        /// Tokens to deposit.
        amount: u64,
    },
    /// Withdraws governing tokens from the voter record.
    /// Accounts: `[dao R, vault W, owner token W, voter record W, owner S]`.
    Withdraw {
        /// Tokens to withdraw.
        amount: u64,
    },
    /// Opens the DAO's next proposal and its two tallies.
    /// Accounts: `[dao W, proposal W(new), yes tally W(new), no tally W(new), proposer S]`.
    CreateProposal {
        /// What runs if it passes.
        action: Action,
    },
    /// Votes with the voter record's tokens.
    /// Accounts: `[proposal R, tally C/W, voter record W, vote record W(new), owner S]`.
    Vote {
        /// The side.
        side: Side,
    },
    /// Counts the tallies once voting has ended. Accounts: `[proposal W, yes tally R, no tally R]`.
    Finalize,
    /// Runs a passed proposal's action after its timelock.
    /// Accounts: `[proposal W]` then the action's accounts.
    Execute,
}

/// What the governance program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovernanceEvent {
    /// `InitDao` opened a DAO.
    DaoInitialized {
        /// The DAO.
        dao: Pubkey,
        /// Its governing token.
        mint: Pubkey,
        /// Its vault.
        vault: Pubkey,
    },
    /// `Deposit` added tokens to a voter record.
    Deposited {
        /// The DAO.
        dao: Pubkey,
        /// The record's owner.
        owner: Pubkey,
        /// Tokens deposited.
        amount: u64,
        /// The record's amount after.
        total: u64,
    },
    /// `Withdraw` took tokens out of a voter record.
    Withdrawn {
        /// The DAO.
        dao: Pubkey,
        /// The record's owner.
        owner: Pubkey,
        /// Tokens withdrawn.
        amount: u64,
        /// The record's amount after.
        total: u64,
    },
    /// `CreateProposal` opened a proposal.
    ProposalCreated {
        /// The DAO.
        dao: Pubkey,
        /// The proposal.
        proposal: Pubkey,
        /// Its index.
        index: u64,
        /// Who proposed it.
        proposer: Pubkey,
        /// Its voting end.
        voting_end: u64,
    },
    /// `Vote` added a weight to a tally.
    Voted {
        /// The proposal.
        proposal: Pubkey,
        /// The voter.
        voter: Pubkey,
        /// The side.
        side: Side,
        /// The weight.
        weight: u64,
    },
    /// `Finalize` decided a proposal.
    Finalized {
        /// The proposal.
        proposal: Pubkey,
        /// Yes votes.
        yes: u64,
        /// No votes.
        no: u64,
        /// Whether it passed.
        passed: bool,
    },
    /// `Execute` ran a proposal's action.
    Executed {
        /// The proposal.
        proposal: Pubkey,
    },
}

impl GovernanceEvent {
    /// Decodes a receipt event, if the governance program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

instruction_accounts! {
    /// `InitDao`'s accounts.
    pub mod init_dao_accounts {
        /// The new DAO, at the vault's program-derived address.
        DAO: writable pda(&[Seed::Bytes(DAO_SEED), Seed::Key(VAULT)]),
        /// The DAO's vault: an empty token account the DAO owns.
        VAULT: readonly,
    }
}

instruction_accounts! {
    /// `Deposit`'s accounts.
    pub mod deposit_accounts {
        /// The DAO.
        DAO: readonly,
        /// Its vault, only credited: deposits from many voters run at once.
        VAULT: credit,
        /// The owner's token account paying.
        OWNER_TOKEN: writable,
        /// The owner's voter record, opened by the first deposit.
        RECORD: writable pda(&[Seed::Bytes(VOTER_SEED), Seed::Key(DAO), Seed::Key(OWNER)]),
        /// The owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Withdraw`'s accounts.
    pub mod withdraw_accounts {
        /// The DAO, the vault's owner (signed for with its seeds).
        DAO: readonly,
        /// Its vault.
        VAULT: writable,
        /// The owner's token account paid.
        OWNER_TOKEN: writable,
        /// The owner's voter record.
        RECORD: writable pda(&[Seed::Bytes(VOTER_SEED), Seed::Key(DAO), Seed::Key(OWNER)]),
        /// The owner.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `CreateProposal`'s accounts.
    pub mod create_proposal_accounts {
        /// The DAO (its proposal counter moves).
        DAO: writable,
        /// The new proposal, at `[PROPOSAL_SEED, dao, index]`.
        PROPOSAL: writable,
        /// Its new yes tally.
        YES_TALLY: writable pda(&[Seed::Bytes(YES_SEED), Seed::Key(PROPOSAL)]),
        /// Its new no tally.
        NO_TALLY: writable pda(&[Seed::Bytes(NO_SEED), Seed::Key(PROPOSAL)]),
        /// The proposer.
        PROPOSER: signer,
    }
}

instruction_accounts! {
    /// `Vote`'s accounts.
    pub mod vote_accounts {
        /// The proposal, only read: votes do not conflict on it.
        PROPOSAL: readonly,
        /// The tally of the side voted, credit-only (or writable).
        TALLY: credit,
        /// The voter's record in the proposal's DAO.
        RECORD: writable,
        /// The voter's new vote record.
        VOTE: writable pda(&[Seed::Bytes(VOTE_SEED), Seed::Key(PROPOSAL), Seed::Key(OWNER)]),
        /// The voter.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Finalize`'s accounts.
    pub mod finalize_accounts {
        /// The proposal.
        PROPOSAL: writable,
        /// Its yes tally.
        YES_TALLY: readonly pda(&[Seed::Bytes(YES_SEED), Seed::Key(PROPOSAL)]),
        /// Its no tally.
        NO_TALLY: readonly pda(&[Seed::Bytes(NO_SEED), Seed::Key(PROPOSAL)]),
    }
}

instruction_accounts! {
    /// `Execute`'s accounts (the action's accounts follow).
    pub mod execute_accounts {
        /// The proposal.
        PROPOSAL: writable,
    }
}

// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// `InitDao`: opens the DAO of `vault` (at [`dao_address`]`(vault)`).
/// Accounts: `[dao W(new), vault R]`.
pub fn init_dao(vault: &Pubkey, params: DaoParams) -> Instruction {
    Instruction::new_borsh(
        id(),
        &GovernanceInstruction::InitDao { params },
        init_dao_accounts::metas([dao_address(vault), *vault]).to_vec(),
    )
}

/// A new DAO on `mint`: the vault token account at the fresh key `vault` owned by
/// [`dao_address`]`(vault)` (`payer` and `vault` sign), then [`init_dao`], in one
/// transaction so nobody can touch the vault in between.
pub fn create_dao(payer: &Pubkey, vault: &Pubkey, mint: &Pubkey, params: DaoParams) -> Vec<Instruction> {
    let mut ixs = token::create_token_account(payer, vault, mint, &dao_address(vault));
    ixs.push(init_dao(vault, params));
    ixs
}

/// `Deposit`: `owner` (signs) deposits `amount` from `owner_token` into `dao`'s `vault`,
/// credited to its record at [`voter_address`]`(dao, owner)`; the vault is credit-only.
/// Accounts: `[dao R, vault C, owner token W, voter record W, owner S]`.
pub fn deposit(
    dao: &Pubkey,
    vault: &Pubkey,
    owner_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let mut accounts =
        deposit_accounts::metas([*dao, *vault, *owner_token, voter_address(dao, owner), *owner]).to_vec();
    accounts[deposit_accounts::VAULT] = AccountMeta::credit(*vault);
    Instruction::new_borsh(id(), &GovernanceInstruction::Deposit { amount }, accounts)
}

/// `Withdraw`: `owner` (signs) takes `amount` out of its record into `owner_token`.
/// Accounts: `[dao R, vault W, owner token W, voter record W, owner S]`.
pub fn withdraw(
    dao: &Pubkey,
    vault: &Pubkey,
    owner_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &GovernanceInstruction::Withdraw { amount },
        withdraw_accounts::metas([*dao, *vault, *owner_token, voter_address(dao, owner), *owner]).to_vec(),
    )
}

/// `CreateProposal`: `proposer` (signs) opens proposal number `index` of `dao` (the
/// DAO's current `proposal_count`) running `action` if it passes.
/// Accounts: `[dao W, proposal W(new), yes tally W(new), no tally W(new), proposer S]`.
pub fn create_proposal(dao: &Pubkey, index: u64, proposer: &Pubkey, action: Action) -> Instruction {
    let proposal = proposal_address(dao, index);
    let keys =
        [*dao, proposal, tally_address(&proposal, Side::Yes), tally_address(&proposal, Side::No), *proposer];
    Instruction::new_borsh(
        id(),
        &GovernanceInstruction::CreateProposal { action },
        create_proposal_accounts::metas(keys).to_vec(),
    )
}

/// `Vote`: `owner` (signs) votes `side` on `proposal` of `dao` with its record, the
/// side's tally credit-only, so votes run in parallel.
/// Accounts: `[proposal R, tally C, voter record W, vote record W(new), owner S]`.
pub fn vote(dao: &Pubkey, proposal: &Pubkey, owner: &Pubkey, side: Side) -> Instruction {
    let mut ix = vote_writable(dao, proposal, owner, side);
    ix.accounts[vote_accounts::TALLY] = AccountMeta::credit(tally_address(proposal, side));
    ix
}

/// [`vote`] with the tally writable rather than credit-only: the same effect, but votes
/// on one proposal then run one at a time.
pub fn vote_writable(dao: &Pubkey, proposal: &Pubkey, owner: &Pubkey, side: Side) -> Instruction {
    let keys = [
        *proposal,
        tally_address(proposal, side),
        voter_address(dao, owner),
        vote_address(proposal, owner),
        *owner,
    ];
    Instruction::new_borsh(id(), &GovernanceInstruction::Vote { side }, vote_accounts::metas(keys).to_vec())
}

/// `Finalize`: decides `proposal` once voting has ended; anyone may send it.
/// Accounts: `[proposal W, yes tally R, no tally R]`.
pub fn finalize(proposal: &Pubkey) -> Instruction {
    let keys = [*proposal, tally_address(proposal, Side::Yes), tally_address(proposal, Side::No)];
    Instruction::new_borsh(id(), &GovernanceInstruction::Finalize, finalize_accounts::metas(keys).to_vec())
}

/// `Execute`: runs passed `proposal`'s `action` (as stored) after its timelock; anyone
/// may send it. Accounts: `[proposal W]` then the action's accounts, none signing
/// (the program signs for the treasury authority).
pub fn execute(proposal: &Pubkey, action: &Action) -> Instruction {
    let mut accounts = execute_accounts::metas([*proposal]).to_vec();
    accounts.extend(action.metas().into_iter().map(|m| AccountMeta { is_signer: false, ..m }));
    Instruction::new_borsh(id(), &GovernanceInstruction::Execute, accounts)
}
