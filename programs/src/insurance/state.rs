//! The insurance program's state: pools, capital positions and policies, and their readers.

use super::*;

/// A pool's fixed terms, set by `InitPool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PoolParams {
    /// Share of `total_assets` that may be locked as cover, in bps: `1..=10_000`.
    pub capacity_bps: u64,
    /// Annual premium rate in parts per million (`50_000` = 5% a year); not zero.
    pub apr_ppm: u64,
    /// Shortest policy, seconds; not zero.
    pub min_duration: u64,
    /// Longest policy, seconds; at least `min_duration`, at most `i64::MAX`.
    pub max_duration: u64,
    /// Oldest oracle price `UpdateTrigger` and `BuyPolicy` accept, in slots.
    pub max_staleness_slots: u64,
}

impl PoolParams {
    /// Whether `InitPool` accepts these parameters.
    pub fn is_valid(&self) -> bool {
        (1..=10_000).contains(&self.capacity_bps)
            && self.apr_ppm > 0
            && self.min_duration > 0
            && self.min_duration <= self.max_duration
            && i64::try_from(self.max_duration).is_ok()
    }
}

/// A capital pool selling depeg cover on one asset.
///
/// Invariants: `locked ≤ total_assets`; `total_shares` is the sum of its
/// positions' shares plus [`DEAD_SHARES`](crate::math::DEAD_SHARES) once the first
/// deposit is made; absent donations, the vault holds exactly `total_assets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// The insured asset (the vault's mint); capital, premiums and payouts are in it.
    pub asset_mint: Pubkey,
    /// The token account holding the pool's assets, owned by the pool's address.
    pub vault: Pubkey,
    /// The price feed of the asset (WAD-scaled, 1.0 = on peg).
    pub oracle: Pubkey,
    /// The pool's terms.
    pub params: PoolParams,
    /// Assets the shares are worth: deposits and premiums in, withdrawals and payouts out.
    pub total_assets: u64,
    /// Shares outstanding: those of all positions plus the
    /// [`DEAD_SHARES`](crate::math::DEAD_SHARES) the first deposit locked.
    pub total_shares: u64,
    /// Sum insured of the active policies: capital that may not be withdrawn.
    pub locked: u64,
    /// The depeg trigger.
    pub trigger: Trigger,
}

impl AccountState for Pool {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 3 * 32 + 5 * 8 + 3 * 8 + TRIGGER_LEN;
}

/// One capital provider's shares of one pool, at [`position_address`]`(pool, owner)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Position {
    /// The pool.
    pub pool: Pubkey,
    /// The provider, who alone may withdraw.
    pub owner: Pubkey,
    /// Shares held.
    pub shares: u64,
}

impl AccountState for Position {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 32 + 32 + 8;
}

/// Where a policy is in its life.
///
/// ```text
///          Claim (pool Depegged, at ∈ [start, end), now < claim deadline)
/// Active ───────────────────────────────────────────▶ Claimed
///    │
///    └────────────────────────────────────────────▶ Expired
///          Expire (now ≥ end, and no alarm or depeg in the window
///                  or now ≥ claim deadline)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PolicyStatus {
    /// Cover runs; its `sum_insured` is in the pool's `locked`.
    Active,
    /// Paid out; no longer locked.
    Claimed,
    /// Ended unclaimed; no longer locked.
    Expired,
}

/// One policy: cover of `sum_insured` against a depeg starting in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Policy {
    /// The pool that sold it.
    pub pool: Pubkey,
    /// The buyer, who alone may claim.
    pub holder: Pubkey,
    /// The cover, in asset units.
    pub sum_insured: u64,
    /// Purchase time (unix seconds), inclusive.
    pub start: i64,
    /// `start + duration`, exclusive.
    pub end: i64,
    /// Active, claimed or expired.
    pub status: PolicyStatus,
}

impl AccountState for Policy {
    const TAG: u8 = 3;
    const LEN: usize = 1 + 32 + 32 + 8 + 8 + 8 + 1;
}

/// Encoded size of a [`Trigger`]: `kind: u8, at: i64, price: u128`.
const TRIGGER_LEN: usize = 1 + 8 + 16;

/// A fixed-size encoding, so that a pool account never changes size:
/// `kind` (0 Normal, 1 Triggered, 2 Depegged), `at` and `price`, the fields a
/// state lacks written as 0.
impl BorshSerialize for Trigger {
    fn serialize<W: Write>(&self, writer: &mut W) -> std::io::Result<()> {
        let (kind, at, price): (u8, i64, u128) = match *self {
            Trigger::Normal => (0, 0, 0),
            Trigger::Triggered { at } => (1, at, 0),
            Trigger::Depegged { at, price } => (2, at, price),
        };
        kind.serialize(writer)?;
        at.serialize(writer)?;
        price.serialize(writer)
    }
}

/// The inverse of the encoding above; rejects unknown kinds and non-zero unused
/// fields, so every trigger has exactly one encoding.
impl BorshDeserialize for Trigger {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        let kind = u8::deserialize_reader(reader)?;
        let at = i64::deserialize_reader(reader)?;
        let price = u128::deserialize_reader(reader)?;
        match (kind, at, price) {
            (0, 0, 0) => Ok(Trigger::Normal),
            (1, at, 0) => Ok(Trigger::Triggered { at }),
            (2, at, price) => Ok(Trigger::Depegged { at, price }),
            _ => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a trigger encoding")),
        }
    }
}

/// Decodes a pool's state, checking that the insurance program owns the account.
pub fn read_pool(data: &[u8], owner: &Pubkey) -> Result<Pool, InsuranceError> {
    read(data, owner)
}

/// Decodes a capital position's state, checking that the insurance program owns the account.
pub fn read_position(data: &[u8], owner: &Pubkey) -> Result<Position, InsuranceError> {
    read(data, owner)
}

/// Decodes a policy's state, checking that the insurance program owns the account.
pub fn read_policy(data: &[u8], owner: &Pubkey) -> Result<Policy, InsuranceError> {
    read(data, owner)
}

pub(super) fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, InsuranceError> {
    read_owned(data, owner)
}

impl OwnedState for InsuranceError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = InsuranceError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = InsuranceError::AlreadyInitialized;
}
