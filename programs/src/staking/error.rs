//! The staking program's error enum, declared with the exported
//! [`program_error!`](crate::program_error) macro, and the conversions its `?` relies on.

use crate::StateError;
use crate::math::MathError;
use crate::program_error;
use crate::state::OwnedState;

program_error! {
    /// Why a staking instruction failed.
    pub enum StakingError for crate::staking::id {
        /// `InitConfig`/`RegisterValidator` on an account that already holds staking state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A staking account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the staking program.
        WrongAccountOwner = 3 => "account is not owned by the staking program",
        /// The account holds another kind of staking state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected staking state",
        /// `InitConfig` parameters out of range (see [`ConfigParams`](crate::staking::ConfigParams)).
        InvalidParams = 5 => "invalid staking parameters",
        /// The mint account is not a token mint.
        InvalidMint = 6 => "account is not a token mint",
        /// The validator account is not [`validator_address`](crate::staking::validator_address) of its config and operator.
        WrongValidatorAddress = 7 => "validator is not the operator's program-derived address",
        /// The vault account is not the validator's vault.
        WrongVault = 8 => "vault is not the validator's vault",
        /// The delegation account is not [`delegation_address`](crate::staking::delegation_address) of the validator and the signer.
        WrongDelegation = 9 => "delegation is not the signer's delegation with this validator",
        /// The signer is not the validator's operator.
        NotOperator = 10 => "signer is not the validator's operator",
        /// The signer is not the config's reward authority.
        NotRewardAuthority = 11 => "signer is not the reward authority",
        /// The signer is not the config's slash authority.
        NotSlashAuthority = 12 => "signer is not the slash authority",
        /// A commission above the config's `max_commission_bps`.
        CommissionTooHigh = 13 => "commission above the maximum",
        /// An amount or share count of zero.
        ZeroAmount = 14 => "amount must not be zero",
        /// The amount converts to zero shares, or the shares to zero tokens.
        RoundsToZero = 15 => "amount rounds to zero",
        /// Undelegating or redelegating more shares than the delegation holds.
        InsufficientShares = 16 => "delegation holds fewer shares",
        /// An unbonding entry of another kind or destination is still open (withdraw or complete it first).
        UnbondingInProgress = 17 => "another unbonding entry is still open",
        /// Withdrawing before the unbonding entry's release epoch.
        StillUnbonding = 18 => "unbonding period has not ended",
        /// No unbonding entry to withdraw or complete.
        NothingUnbonding = 19 => "no unbonding entry",
        /// No rewards or commission to claim.
        NothingToClaim = 20 => "nothing to claim",
        /// `AdvanceEpoch` while the validator is already at the current epoch.
        EpochNotOver = 21 => "the validator is already at the current epoch",
        /// A slash fraction outside `1..=9999` bps.
        InvalidSlash = 22 => "slash fraction must be between 1 and 9999 bps",
        /// `WithdrawUnbonded` on a redelegation, or `CompleteRedelegation` on a plain unbonding.
        WrongUnbondingKind = 23 => "unbonding entry is of the other kind",
        /// Redelegating to the validator the stake is at.
        SameValidator = 24 => "source and destination validator are the same",
        /// The destination validator belongs to another config (another stake token).
        ConfigMismatch = 25 => "validators belong to different configs",
        /// The destination validator is not the one the redelegation named.
        WrongDestination = 26 => "destination is not the redelegation's validator",
        /// The user's token account is the validator's vault itself.
        UserAccountIsVault = 27 => "user token account is the validator vault",
        /// A pool holds shares but no tokens (never reached: slashes leave at least one unit).
        PoolWipedOut = 28 => "pool holds shares but no tokens",
        /// Arithmetic overflowed.
        MathOverflow = 29 => "arithmetic overflow",
    }
}

impl From<StateError> for StakingError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}

impl From<MathError> for StakingError {
    /// The staking formulas check their divisors first, so only overflow is left.
    fn from(_: MathError) -> Self {
        Self::MathOverflow
    }
}

impl OwnedState for StakingError {
    fn program() -> parex_runtime::Pubkey {
        crate::staking::id()
    }
    const WRONG_OWNER: Self = StakingError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = StakingError::AlreadyInitialized;
}
