//! Every program's error enum, one per program.
//!
//! A program fails with a value of its enum; `?` turns it into the runtime's
//! [`InstructionError::Custom`](parex_runtime::InstructionError::Custom)`{ program, code }`, which lands in the
//! transaction's receipt. `program` names the enum (the program whose error it
//! is) and `code` the variant, so [`ProgramRegistry::describe`] can print the
//! message through the program's [`Program::describe_error`], and a test or a
//! client can get the typed value back with `from_instruction_error`.
//!
//! Codes are explicit and stable (they are part of receipts, hence of block
//! hashes): a variant keeps its number forever, new variants take new numbers,
//! and no code is 0, so a zeroed field never reads as an error.
//!
//! The enums follow in program order ([`TokenError`], [`OracleError`],
//! [`AmmError`], [`LendingError`], [`InsuranceError`]); after them come
//! [`StateError`] (state that does not decode) and the conversions the programs'
//! `?` relies on: from [`StateError`] for every enum, from the pure formulas'
//! [`MathError`] for amm, lending and insurance, and from [`ConfigError`] for
//! lending.
//!
//! [`ProgramRegistry::describe`]: parex_runtime::ProgramRegistry::describe
//! [`Program::describe_error`]: parex_runtime::Program::describe_error

use crate::math::MathError;
use crate::math::lending::ConfigError;

/// Declares a program's error enum (part of the program SDK, for programs outside this
/// crate too): `Display` and `Error`, `#[repr(u32)]` codes, `code`/`from_code`/`message`,
/// conversion into [`InstructionError::Custom`](parex_runtime::InstructionError::Custom) and back. `$program` is a path to the
/// program's `fn id() -> Pubkey`.
///
/// Messages are plain literals (no `{}`): they double as the `&'static str`
/// that [`Program::describe_error`](parex_runtime::Program::describe_error) returns.
///
/// ```
/// fn id() -> parex_runtime::Pubkey {
///     parex_runtime::Pubkey::from_name("example/counter")
/// }
///
/// parex_programs::program_error! {
///     /// Why a counter instruction failed.
///     pub enum CounterError for id {
///         /// The counter would pass its limit.
///         Full = 1 => "the counter is full",
///     }
/// }
///
/// let err: parex_runtime::InstructionError = CounterError::Full.into();
/// assert_eq!(CounterError::from_instruction_error(&err), Some(CounterError::Full));
/// assert_eq!(CounterError::Full.to_string(), "the counter is full");
/// ```
#[macro_export]
macro_rules! program_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $program:path {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident = $code:literal => $msg:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                $variant = $code,
            )+
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.message())
            }
        }

        impl ::std::error::Error for $name {}

        impl $name {
            /// Every variant, in code order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code carried in `InstructionError::Custom`.
            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The variant with `code`, if any.
            pub const fn from_code(code: u32) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The human-readable message (also the `Display` text).
            pub const fn message(self) -> &'static str {
                match self {
                    $(Self::$variant => $msg,)+
                }
            }

            /// The program whose error this is.
            pub fn program() -> $crate::__sdk::Pubkey {
                $program()
            }

            /// The typed error inside `err`, if `err` is this program's custom error.
            pub fn from_instruction_error(err: &$crate::__sdk::InstructionError) -> Option<Self> {
                match err {
                    $crate::__sdk::InstructionError::Custom { program, code } if *program == $program() => {
                        Self::from_code(*code)
                    }
                    _ => None,
                }
            }
        }

        impl From<$name> for $crate::__sdk::InstructionError {
            fn from(e: $name) -> Self {
                $crate::__sdk::InstructionError::Custom { program: $program(), code: e.code() }
            }
        }
    };
}

program_error! {
    /// Why a token instruction failed.
    pub enum TokenError for crate::token::id {
        /// `InitMint`/`InitAccount` on an account that already holds token state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A mint or token account that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the token program.
        WrongAccountOwner = 3 => "account is not owned by the token program",
        /// The account holds token state of the other kind (a mint where a token
        /// account is expected, or the reverse), or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected token state",
        /// The signer is not the mint's authority.
        WrongAuthority = 5 => "signer is not the mint authority",
        /// The signer is not the token account's owner.
        WrongOwner = 6 => "signer is not the token account owner",
        /// The accounts belong to different mints.
        MintMismatch = 7 => "accounts belong to different mints",
        /// The source holds fewer tokens than asked for.
        InsufficientFunds = 8 => "insufficient token balance",
        /// A transfer, mint or burn of zero tokens.
        ZeroAmount = 9 => "amount must not be zero",
        /// Minting would take the supply past `u64::MAX`.
        SupplyOverflow = 10 => "mint supply would overflow",
        /// Arithmetic overflowed (unreachable while the supply invariant holds).
        MathOverflow = 11 => "arithmetic overflow",
    }
}

program_error! {
    /// Why an oracle instruction, or a reader's [`read_price`](crate::oracle::read_price), failed.
    pub enum OracleError for crate::oracle::id {
        /// `InitFeed` on an account that already holds a feed.
        AlreadyInitialized = 1 => "price feed is already initialised",
        /// A feed account that was created but never initialised.
        NotInitialized = 2 => "price feed is not initialised",
        /// The feed account is not owned by the oracle program.
        WrongAccountOwner = 3 => "account is not owned by the oracle program",
        /// The account's bytes are not a price feed.
        InvalidAccountData = 4 => "account data is not a price feed",
        /// The signer is not the feed's authority.
        WrongAuthority = 5 => "signer is not the feed authority",
        /// A price of zero (never valid).
        ZeroPrice = 6 => "price must not be zero",
        /// The price is older than the reader's `max_staleness_slots`.
        StalePrice = 7 => "price is stale",
        /// A guard's price bounds do not hold.
        PriceOutOfRange = 8 => "price is outside the guard's range",
    }
}

program_error! {
    /// Why an amm instruction failed.
    pub enum AmmError for crate::amm::id {
        /// `InitPool` on a pool account that already holds a pool.
        AlreadyInitialized = 1 => "pool is already initialised",
        /// A pool account that was created but never initialised.
        NotInitialized = 2 => "pool is not initialised",
        /// The pool account is not owned by the amm program.
        WrongAccountOwner = 3 => "pool account is not owned by the amm program",
        /// The pool account's bytes are not a pool.
        InvalidAccountData = 4 => "account data is not a pool",
        /// `InitPool` with `mint_a == mint_b`.
        IdenticalMints = 5 => "pool mints must differ",
        /// `InitPool` with `fee_bps >= 10000`.
        InvalidFee = 6 => "fee must be below 10000 bps",
        /// A vault, LP mint, lock or authority account that is not this pool's
        /// (or vaults passed against the swap's direction).
        PoolAccountMismatch = 7 => "account is not this pool's vault, LP mint or authority",
        /// A user account is one of the pool's vaults or its LP mint.
        UserAccountIsPoolAccount = 8 => "user account is one of the pool's own accounts",
        /// A deposit side, an LP amount, or a swap amount of zero.
        ZeroAmount = 9 => "amount must not be zero",
        /// A first deposit with `isqrt(a*b) <= 1000`.
        InsufficientInitialLiquidity = 10 => "first deposit must exceed the minimum liquidity",
        /// A deposit that would mint no LP tokens.
        ZeroLiquidityMinted = 11 => "deposit mints no LP tokens",
        /// A deposit that would mint fewer LP tokens than `min_lp`.
        LpBelowMinimum = 12 => "LP tokens minted below the minimum",
        /// Removing more LP tokens than exist.
        ExceedsLpSupply = 13 => "LP amount exceeds the LP supply",
        /// A withdrawal that would return nothing on one side.
        ZeroLiquidityBurned = 14 => "withdrawal returns nothing on one side",
        /// A withdrawal below `min_a` or `min_b`.
        AmountBelowMinimum = 15 => "withdrawn amount below the minimum",
        /// A swap on a pool with a zero reserve.
        EmptyPool = 16 => "pool has no liquidity",
        /// An exact-in swap whose output rounds to zero (dust).
        ZeroOutput = 17 => "swap output rounds to zero",
        /// An exact-in swap whose output is below `min_out`.
        OutputBelowMinimum = 18 => "swap output below the minimum",
        /// An exact-out swap asking for the whole reserve or more.
        ExceedsReserve = 19 => "swap output must be below the reserve",
        /// An exact-out swap whose input is above `max_in`.
        InputAboveMaximum = 20 => "swap input above the maximum",
        /// Arithmetic overflowed.
        MathOverflow = 21 => "arithmetic overflow",
        /// A vault holds less than its reserve (only a bug could do it).
        VaultBelowReserve = 22 => "vault holds less than the pool's reserve",
    }
}

program_error! {
    /// Why a lending instruction failed.
    pub enum LendingError for crate::lending::id {
        /// `InitReserve`/`InitObligation` on an account that already holds lending state.
        AlreadyInitialized = 1 => "account is already initialised",
        /// A reserve or obligation that was created but never initialised.
        NotInitialized = 2 => "account is not initialised",
        /// A state account is not owned by the lending program.
        WrongAccountOwner = 3 => "account is not owned by the lending program",
        /// The account holds the other kind of lending state, or bytes that do not decode.
        InvalidAccountData = 4 => "account data is not the expected lending state",
        /// `InitReserve` with a config that breaks a rule of `ReserveConfig::validate`.
        InvalidConfig = 5 => "invalid reserve config",
        /// `InitReserve`'s asset mint is not a token mint.
        InvalidMint = 6 => "asset mint is not a token mint",
        /// An oracle account that is not a price feed.
        InvalidOracle = 7 => "oracle account is not a price feed",
        /// A vault, collateral vault, share mint, oracle or authority that is not the reserve's.
        AccountMismatch = 8 => "account does not match the reserve",
        /// The position tail does not list the obligation's reserves and their oracles.
        PositionMismatch = 9 => "position accounts do not match the obligation",
        /// A reserve of another market than the obligation's.
        MarketMismatch = 10 => "reserve belongs to another market",
        /// The signer is not the obligation's owner.
        WrongOwner = 11 => "signer is not the obligation owner",
        /// An amount (or share count) of zero.
        ZeroAmount = 12 => "amount must not be zero",
        /// A deposit that would mint no shares (a first deposit of at most
        /// `DEAD_SHARES` included), or a redemption that would pay nothing.
        ZeroShares = 13 => "amount is too small to mint or redeem anything",
        /// A borrow or redemption above the reserve's cash.
        InsufficientLiquidity = 14 => "not enough cash in the reserve",
        /// Redeeming more shares than exist.
        InsufficientShares = 15 => "more shares than exist",
        /// Withdrawing more collateral than the obligation holds in the reserve.
        InsufficientCollateral = 16 => "not enough collateral",
        /// A fifth collateral or borrow entry.
        ObligationFull = 17 => "obligation has no free entry",
        /// The obligation has no debt in the reserve.
        NoDebt = 18 => "no debt in this reserve",
        /// A borrow that takes the debt value above the LTV-weighted collateral value.
        BorrowLimitExceeded = 19 => "borrow exceeds the LTV limit",
        /// A withdrawal that would leave the health factor below 1.
        Unhealthy = 20 => "withdrawal would leave the obligation unhealthy",
        /// Liquidating an obligation whose health factor is at least 1.
        Healthy = 21 => "obligation is healthy",
        /// Liquidating more than `debt * close_factor_bps / 10000`.
        RepayAboveCloseFactor = 22 => "repay exceeds the close factor",
        /// The liquidator is the obligation's owner.
        SelfLiquidation = 23 => "liquidator is the obligation owner",
        /// A liquidation seizing from a reserve in which the obligation holds no
        /// collateral (a seizure above the collateral held is capped instead).
        SeizeAboveCollateral = 24 => "seizure exceeds the collateral",
        /// A liquidation that would seize nothing.
        LiquidationTooSmall = 25 => "repay is too small to seize any collateral",
        /// A price older than the reserve's `max_staleness_slots`.
        StalePrice = 26 => "price is stale",
        /// A price of zero.
        ZeroPrice = 27 => "price is zero",
        /// Arithmetic overflow or division by zero.
        MathOverflow = 28 => "arithmetic overflow",
        /// A deposit that would mint fewer shares than its `min_shares`.
        SharesBelowMinimum = 29 => "deposit mints fewer shares than the minimum",
        /// A redemption that would pay less than its `min_amount`.
        AmountBelowMinimum = 30 => "redemption pays less than the minimum",
        /// `WriteOffBadDebt` on an obligation that still holds collateral (liquidate it instead).
        CollateralRemains = 31 => "obligation still holds collateral",
        /// A deposit into a reserve whose shares are backed by nothing: write-offs
        /// took its whole underlying (`cash + total_borrows - protocol_reserves = 0`).
        Insolvent = 32 => "reserve has shares but no underlying",
    }
}

program_error! {
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

/// Why account data does not decode as a program's state
/// (see [`AccountState::unpack`](crate::state::AccountState::unpack)).
/// Each program maps it into its own enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The account was created but never initialised (empty, or tag 0).
    #[error("account is not initialised")]
    Uninitialized,
    /// Another state kind's tag, or bytes that do not decode exactly.
    #[error("account data is not the expected state")]
    InvalidData,
}

/// `From<StateError>` for program enums: an uninitialised account is the
/// program's `NotInitialized`, undecodable data its `InvalidAccountData`.
macro_rules! from_state_error {
    ($($name:ident),+) => {$(
        impl From<StateError> for $name {
            fn from(e: StateError) -> Self {
                match e {
                    StateError::Uninitialized => Self::NotInitialized,
                    StateError::InvalidData => Self::InvalidAccountData,
                }
            }
        }
    )+};
}

from_state_error!(TokenError, OracleError, AmmError, LendingError, InsuranceError);

impl From<MathError> for AmmError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::InvalidFee => Self::InvalidFee,
            MathError::EmptyPool => Self::EmptyPool,
            MathError::InsufficientLiquidity => Self::ExceedsReserve,
            MathError::InsufficientInitialLiquidity => Self::InsufficientInitialLiquidity,
            MathError::ExceedsSupply => Self::ExceedsLpSupply,
            // The amm formulas produce only `Overflow` of the rest.
            MathError::Overflow
            | MathError::Underflow
            | MathError::DivideByZero
            | MathError::SlotRegression => Self::MathOverflow,
        }
    }
}

impl From<MathError> for LendingError {
    /// Every math failure on valid state is an overflow (or a zero divisor,
    /// which valid state only reaches through an overflowed history).
    fn from(_: MathError) -> Self {
        Self::MathOverflow
    }
}

impl From<ConfigError> for LendingError {
    fn from(_: ConfigError) -> Self {
        Self::InvalidConfig
    }
}

impl From<MathError> for InsuranceError {
    /// Only overflow is reachable where `?` uses this; the instructions map the
    /// other outcomes (no assets, too many shares) to their own variants first.
    fn from(_: MathError) -> Self {
        Self::MathOverflow
    }
}
