//! The insurance program's error enum ([`InsuranceError`], re-exported at the crate root) and the
//! conversions its `?` relies on. Codes are stable: they are part of receipts.

use crate::error::StateError;
use crate::math::MathError;

crate::program_error! {
    /// Why an insurance instruction failed.
    pub enum InsuranceError for crate::insurance::id {
        /// `InitPool` on a pool that already holds state, or `BuyPolicy` on a used policy account.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A pool, position or policy account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the insurance program.
        WrongAccountOwner = 3 => "account is not owned by the insurance program",
        /// The account holds another kind of insurance state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected insurance state",
        /// `InitPool` parameters out of range (see [`PoolParams`](crate::insurance::PoolParams)).
        InvalidParams = 5 => "invalid pool parameters",
        /// The pool account is not [`pool_address`](crate::insurance::pool_address) of the vault.
        InvalidPoolAddress = 6 => "pool is not the vault's program-derived address",
        /// The vault is not an empty token account owned by the pool.
        InvalidVault = 7 => "vault is not an empty token account owned by the pool",
        /// The vault passed is not the pool's vault.
        WrongVault = 8 => "vault is not the pool's vault",
        /// The oracle account is not an initialised price feed.
        InvalidOracle = 9 => "oracle is not a price feed",
        /// The oracle passed is not the pool's oracle.
        WrongOracle = 10 => "oracle is not the pool's oracle",
        /// The oracle's price is older than the pool's staleness bound.
        StalePrice = 11 => "oracle price is stale",
        /// An amount, share count or sum insured of zero.
        ZeroAmount = 12 => "amount must not be zero",
        /// A deposit that mints no shares (a first deposit of at most `DEAD_SHARES`
        /// included) or a withdrawal that pays no assets.
        RoundsToZero = 13 => "amount rounds to zero",
        /// Withdrawing more shares than the position holds.
        InsufficientShares = 14 => "position holds fewer shares",
        /// The withdrawal would take `total_assets` below `locked`.
        BelowLocked = 15 => "withdrawal would leave total assets below locked cover",
        /// The pool has shares but no assets left (payouts took everything): it takes no deposits.
        Insolvent = 16 => "pool has shares but no assets",
        /// The policy duration is outside `[min_duration, max_duration]`.
        DurationOutOfBounds = 17 => "policy duration outside the pool's bounds",
        /// The premium floors to zero: cover is never free.
        ZeroPremium = 18 => "premium rounds to zero",
        /// The premium is above the buyer's `max_premium`.
        PremiumTooHigh = 19 => "premium above the buyer's maximum",
        /// `locked + sum_insured` would exceed `total_assets * capacity_bps / 10000`.
        CapacityExceeded = 20 => "pool capacity exceeded",
        /// Policies are sold only while the trigger is `Normal` (and the feed at or
        /// above the trigger price, see `PriceBelowTrigger`).
        TriggerNotNormal = 21 => "trigger is not normal",
        /// Claims are paid only once the pool is `Depegged`.
        NotDepegged = 22 => "pool is not depegged",
        /// The depeg started outside the policy's `[start, end)`.
        OutsidePolicyWindow = 23 => "depeg outside the policy window",
        /// The policy was already claimed or expired.
        PolicyNotActive = 24 => "policy is not active",
        /// The signer is not the policy's holder.
        WrongHolder = 25 => "signer is not the policy holder",
        /// `Expire` before the policy's end.
        NotExpired = 26 => "policy has not ended",
        /// `Expire` while the pool's alarm or depeg falls in the policy's window and
        /// its claim window is still open (claim it instead).
        ClaimPending = 27 => "pool alarm or depeg falls in the policy window",
        /// The policy belongs to another pool.
        PolicyPoolMismatch = 28 => "policy belongs to another pool",
        /// The position is not [`position_address`](crate::insurance::position_address) of the pool and the signer.
        WrongPosition = 29 => "position is not the signer's position in this pool",
        /// The user's token account is the vault itself.
        UserAccountIsVault = 30 => "user token account is the pool vault",
        /// Arithmetic overflowed.
        MathOverflow = 31 => "arithmetic overflow",
        /// The oracle's price is zero (never a valid price; the oracle refuses to set it).
        ZeroPrice = 32 => "oracle price is zero",
        /// A deposit that would mint fewer shares than its `min_shares`.
        SharesBelowMinimum = 33 => "deposit mints fewer shares than the minimum",
        /// A withdrawal that would pay less than its `min_amount`.
        AmountBelowMinimum = 34 => "withdrawal pays less than the minimum",
        /// `BuyPolicy` while the oracle's price is below the depeg trigger (the
        /// pool's trigger may not have caught up yet): the loss is already visible.
        PriceBelowTrigger = 35 => "oracle price is below the depeg trigger",
        /// `Claim` at or after the policy's claim deadline
        /// (`max(end, at + DEPEG_WINDOW) + CLAIM_WINDOW`): the policy may only expire.
        ClaimWindowClosed = 36 => "the policy's claim window has closed",
        /// `DepositCapital` or `WithdrawCapital` while the trigger is not `Normal` and
        /// cover is locked: until the claims are settled the shares' value is unknown.
        CapitalFrozen = 37 => "capital is frozen while claims may be owed",
    }
}

impl From<StateError> for InsuranceError {
    /// An uninitialised account is `NotInitialized`, undecodable data `InvalidAccountData`.
    fn from(e: StateError) -> Self {
        match e {
            StateError::Uninitialized => Self::NotInitialized,
            StateError::InvalidData => Self::InvalidAccountData,
        }
    }
}

impl From<MathError> for InsuranceError {
    /// Only overflow is reachable where `?` uses this; the instructions map the
    /// other outcomes (no assets, too many shares) to their own variants first.
    fn from(_: MathError) -> Self {
        Self::MathOverflow
    }
}
