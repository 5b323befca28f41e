//! The governance program's error enum ([`GovernanceError`], re-exported at the crate root) and the
//! conversion its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;

crate::program_error! {
    /// Why a governance instruction failed.
    pub enum GovernanceError for crate::governance::id {
        /// The account already holds governance state (a DAO, proposal or tally opened twice).
        AlreadyInitialized = 1 => "account is already initialised",
        /// A governance account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the governance program.
        WrongAccountOwner = 3 => "account is not owned by the governance program",
        /// The account holds another kind of governance state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected governance state",
        /// `InitDao` parameters out of range (see [`DaoParams`](crate::governance::DaoParams)).
        InvalidParams = 5 => "invalid DAO parameters",
        /// The DAO account is not [`dao_address`](crate::governance::dao_address) of the vault.
        InvalidDaoAddress = 6 => "DAO is not the vault's program-derived address",
        /// The vault is not an empty token account owned by the DAO.
        InvalidVault = 7 => "vault is not an empty token account owned by the DAO",
        /// The vault passed is not the DAO's vault.
        WrongVault = 8 => "vault is not the DAO's vault",
        /// A deposit or withdrawal of zero tokens.
        ZeroAmount = 9 => "amount must not be zero",
        /// The voter record is not [`voter_address`](crate::governance::voter_address) of the DAO and the signer.
        WrongVoterRecord = 10 => "voter record is not the signer's record in this DAO",
        /// Withdrawing more than the voter record holds.
        InsufficientDeposit = 11 => "voter record holds fewer tokens",
        /// Withdrawing before the end of the last vote the record cast.
        Locked = 12 => "deposit is locked until the end of the proposals it voted on",
        /// The proposal account is not [`proposal_address`](crate::governance::proposal_address) of the DAO's next index.
        InvalidProposalAddress = 13 => "proposal is not the DAO's next proposal address",
        /// The action has too many accounts or data bytes, or a signer other than the DAO's treasury authority.
        InvalidAction = 14 => "proposal action is not allowed",
        /// The tally is not the proposal's tally for that side.
        WrongTally = 15 => "tally is not the proposal's tally for this side",
        /// The vote record is not [`vote_address`](crate::governance::vote_address) of the proposal and the signer.
        WrongVoteRecord = 16 => "vote record is not the signer's vote on this proposal",
        /// The voter already voted on this proposal.
        AlreadyVoted = 17 => "already voted on this proposal",
        /// A vote at or after the voting end, or on a finalized proposal.
        VotingClosed = 18 => "voting on this proposal is closed",
        /// The voter record received tokens at or after the proposal's creation slot.
        NotEligible = 19 => "voter record received tokens at or after the proposal was created",
        /// The voter record holds no tokens.
        NoVotingPower = 20 => "voter record holds no tokens",
        /// `Finalize` before the voting end.
        VotingNotEnded = 21 => "voting has not ended",
        /// `Finalize` on a proposal already finalized.
        AlreadyFinalized = 22 => "proposal is already finalized",
        /// `Execute` on a proposal that is still voting or was rejected.
        NotPassed = 23 => "proposal has not passed",
        /// `Execute` before the voting end plus the timelock.
        TimelockActive = 24 => "the proposal's timelock has not expired",
        /// `Execute` on a proposal already executed.
        AlreadyExecuted = 25 => "proposal is already executed",
        /// `Execute`'s account tail is not the action's accounts in order.
        ActionAccountsMismatch = 26 => "accounts do not match the proposal's action",
        /// Arithmetic overflowed (a slot bound or a counter).
        MathOverflow = 27 => "arithmetic overflow",
        /// The owner's token account is the DAO's vault itself.
        OwnerTokenIsVault = 28 => "owner token account is the DAO vault",
    }
}

impl From<StateError> for GovernanceError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}
