//! The staking program's state (config, validator, delegation), the addresses it
//! lives at, and the pure bookkeeping: share conversions, the reward index, epoch
//! catch-up and slashing. Nothing here touches the runtime, so the property tests
//! drive these methods directly as well as through transactions.

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{Pubkey, program_address};

use super::error::StakingError;
use super::id;
use crate::math::{BPS, mul_div_ceil, mul_div_floor, to_u64};
use crate::state::{AccountState, read_owned};

/// Fixed-point scale of the reward index: `10^18` index units are one token per share.
pub const INDEX_SCALE: u128 = 1_000_000_000_000_000_000;

/// First seed of a validator's address: `[VALIDATOR_SEED, config, operator]`.
pub const VALIDATOR_SEED: &[u8] = b"validator";
/// First seed of a validator's vault: `[VAULT_SEED, validator]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// First seed of a delegation's address: `[DELEGATION_SEED, validator, owner]`.
pub const DELEGATION_SEED: &[u8] = b"delegation";

/// `operator`'s validator under `config`: the program-derived address
/// `[VALIDATOR_SEED, config, operator]`, which also owns the validator's vault.
pub fn validator_address(config: &Pubkey, operator: &Pubkey) -> Pubkey {
    program_address(&[VALIDATOR_SEED, config.as_ref(), operator.as_ref()], &id())
        .expect("three seeds of at most 32 bytes")
}

/// The vault (a token account of the stake mint owned by `validator`) holding a
/// validator's bonded and unbonding stake, its undistributed and unclaimed rewards
/// and its operator's commission: `[VAULT_SEED, validator]`.
pub fn vault_address(validator: &Pubkey) -> Pubkey {
    program_address(&[VAULT_SEED, validator.as_ref()], &id()).expect("two seeds of at most 32 bytes")
}

/// `owner`'s delegation with `validator`: `[DELEGATION_SEED, validator, owner]`.
pub fn delegation_address(validator: &Pubkey, owner: &Pubkey) -> Pubkey {
    program_address(&[DELEGATION_SEED, validator.as_ref(), owner.as_ref()], &id())
        .expect("three seeds of at most 32 bytes")
}

/// A config's fixed rules, set by `InitConfig` and copied into every validator
/// registered under it (a config never changes, so the copies never go stale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConfigParams {
    /// The only key that may deposit rewards (`DepositRewards`).
    pub reward_authority: Pubkey,
    /// The only key that may slash (`Slash`).
    pub slash_authority: Pubkey,
    /// Slots per epoch: epoch = block slot / `epoch_slots`. Not zero.
    pub epoch_slots: u64,
    /// Epochs an unbonding entry waits before it may be withdrawn. Not zero.
    pub unbonding_epochs: u64,
    /// The highest commission a validator may set, in bps: at most 10 000.
    pub max_commission_bps: u64,
}

impl ConfigParams {
    /// Whether `InitConfig` accepts these parameters.
    pub fn is_valid(&self) -> bool {
        self.epoch_slots > 0 && self.unbonding_epochs > 0 && u128::from(self.max_commission_bps) <= BPS
    }
}

/// One staking instance: a stake token and its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Config {
    /// The stake (and reward) token.
    pub mint: Pubkey,
    /// The rules.
    pub params: ConfigParams,
}

impl AccountState for Config {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 32 + (2 * 32 + 3 * 8);
}

/// A validator: two share pools over its vault (bonded stake, unbonding stake) and
/// the reward index of its bonded shares.
///
/// Invariant (absent donations to the vault, which nobody can take out):
/// `vault balance == bonded_tokens + unbonding_tokens + pending_rewards +
/// reward_reserve + commission_owed`. Shares are claims on their pool's tokens:
/// a holder of `s` bonded shares may take `floor(s * bonded_tokens / bonded_shares)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// The config it is registered under.
    pub config: Pubkey,
    /// Its operator: sets the commission and withdraws it.
    pub operator: Pubkey,
    /// The stake token (the config's).
    pub mint: Pubkey,
    /// Its vault, [`vault_address`]`(validator)`.
    pub vault: Pubkey,
    /// The config's rules, copied at registration.
    pub params: ConfigParams,
    /// The commission applied to the rewards of the epoch being distributed, bps.
    pub commission_bps: u64,
    /// The commission from the next epoch boundary on (equal to `commission_bps`
    /// unless a change is pending).
    pub next_commission_bps: u64,
    /// The last epoch whose boundary has been processed.
    pub epoch: u64,
    /// Tokens of the bonded pool.
    pub bonded_tokens: u64,
    /// Shares of the bonded pool (these earn rewards).
    pub bonded_shares: u64,
    /// Tokens of the unbonding pool (still slashable, earn nothing).
    pub unbonding_tokens: u64,
    /// Shares of the unbonding pool.
    pub unbonding_shares: u64,
    /// Cumulative rewards per bonded share, scaled by [`INDEX_SCALE`]; wraps (see
    /// [`Delegation::settle`]).
    pub reward_index: u128,
    /// Rewards deposited in the current epoch, plus the remainder the index could not
    /// express at the last boundary: distributed at the next boundary.
    pub pending_rewards: u64,
    /// Rewards credited to the index and not yet claimed: what delegators may claim,
    /// plus flooring dust that stays in the vault.
    pub reward_reserve: u64,
    /// Commission earned and not yet withdrawn by the operator.
    pub commission_owed: u64,
}

impl AccountState for Validator {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 4 * 32 + (2 * 32 + 3 * 8) + 10 * 8 + 16;
}

/// What one epoch boundary did (the `EpochAdvanced` event's content).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Boundary {
    /// The epoch the validator was at.
    pub from: u64,
    /// The epoch it is at now.
    pub to: u64,
    /// Rewards credited to the delegators' index.
    pub distributed: u64,
    /// Rewards credited to the operator.
    pub commission: u64,
}

/// `floor(a * b / c)` narrowed to `u64`.
fn mul_div_u64(a: u64, b: u64, c: u64) -> Result<u64, StakingError> {
    Ok(to_u64(mul_div_floor(a.into(), b.into(), c.into())?)?)
}

fn add(a: u64, b: u64) -> Result<u64, StakingError> {
    a.checked_add(b).ok_or(StakingError::MathOverflow)
}

fn sub(a: u64, b: u64) -> Result<u64, StakingError> {
    a.checked_sub(b).ok_or(StakingError::MathOverflow)
}

/// Shares a pool of `tokens`/`shares` issues for `amount` tokens: `amount` for an
/// empty pool, else `floor(amount * shares / tokens)` (the pool keeps the rounding).
fn shares_for(amount: u64, tokens: u64, shares: u64) -> Result<u64, StakingError> {
    match (tokens, shares) {
        (_, 0) => Ok(amount),
        (0, _) => Err(StakingError::PoolWipedOut),
        _ => mul_div_u64(amount, shares, tokens),
    }
}

/// Tokens `s` shares of a pool of `tokens`/`shares` are worth: `floor(s * tokens / shares)`.
fn tokens_for(s: u64, tokens: u64, shares: u64) -> Result<u64, StakingError> {
    if s > shares {
        return Err(StakingError::InsufficientShares);
    }
    mul_div_u64(s, tokens, shares)
}

impl Validator {
    /// The epoch of block slot `slot` under this validator's rules.
    pub fn epoch_at(&self, slot: u64) -> u64 {
        slot / self.params.epoch_slots
    }

    /// Processes the epoch boundary if `now` is a later epoch than [`epoch`](Self::epoch):
    /// the pending rewards (all deposited in epoch `self.epoch`, since every instruction
    /// touching the validator calls this first) are split into commission
    /// `floor(pending * commission_bps / 10000)` and the delegators' part; the index
    /// grows by `inc = floor(part * INDEX_SCALE / bonded_shares)`, the reserve by
    /// `ceil(inc * bonded_shares / INDEX_SCALE) ≤ part` (rounded up, so that it covers
    /// every delegator's floored claim however the increments add up), and the
    /// remainder stays pending for the next boundary. With no bonded shares the whole
    /// pending amount is commission (nobody else staked that epoch). Then a pending
    /// commission change takes effect.
    pub fn catch_up(&mut self, now: u64) -> Result<Option<Boundary>, StakingError> {
        if now <= self.epoch {
            return Ok(None);
        }
        let pending = self.pending_rewards;
        let (commission, inc, distributed) = if self.bonded_shares == 0 {
            (pending, 0, 0)
        } else {
            let commission = mul_div_u64(pending, self.commission_bps, BPS as u64)?;
            let part = pending - commission;
            let shares = u128::from(self.bonded_shares);
            let inc = mul_div_floor(part.into(), INDEX_SCALE, shares)?;
            // Rounded up: claims floor per settlement period, and a sum of floors over
            // several increments can pass the floor of their sum, so crediting
            // floors here could promise more than the reserve holds. `inc * shares ≤
            // part * INDEX_SCALE`, so the ceiling is still at most `part`.
            let distributed = to_u64(mul_div_ceil(inc, shares, INDEX_SCALE)?)?;
            (commission, inc, distributed)
        };
        self.reward_index = self.reward_index.wrapping_add(inc);
        self.reward_reserve = add(self.reward_reserve, distributed)?;
        self.commission_owed = add(self.commission_owed, commission)?;
        // commission + distributed ≤ pending by the floors above.
        self.pending_rewards = pending - commission - distributed;
        self.commission_bps = self.next_commission_bps;
        let from = std::mem::replace(&mut self.epoch, now);
        Ok(Some(Boundary { from, to: now, distributed, commission }))
    }

    /// Bonds `amount` tokens: returns the shares issued (at least one).
    pub fn bond(&mut self, amount: u64) -> Result<u64, StakingError> {
        let shares = shares_for(amount, self.bonded_tokens, self.bonded_shares)?;
        if shares == 0 {
            return Err(StakingError::RoundsToZero);
        }
        self.bonded_tokens = add(self.bonded_tokens, amount)?;
        self.bonded_shares = add(self.bonded_shares, shares)?;
        Ok(shares)
    }

    /// Moves `shares` bonded shares into the unbonding pool: returns `(tokens,
    /// unbonding shares)`, the tokens being `floor(shares * bonded_tokens /
    /// bonded_shares)` (the bonded pool keeps the rounding) and the unbonding shares
    /// issued for them as by [`bond`](Self::bond). Fails if either rounds to zero.
    pub fn unbond(&mut self, shares: u64) -> Result<(u64, u64), StakingError> {
        let tokens = tokens_for(shares, self.bonded_tokens, self.bonded_shares)?;
        let unbonding = shares_for(tokens, self.unbonding_tokens, self.unbonding_shares)?;
        if tokens == 0 || unbonding == 0 {
            return Err(StakingError::RoundsToZero);
        }
        self.bonded_tokens -= tokens;
        self.bonded_shares -= shares;
        self.unbonding_tokens = add(self.unbonding_tokens, tokens)?;
        self.unbonding_shares = add(self.unbonding_shares, unbonding)?;
        Ok((tokens, unbonding))
    }

    /// Redeems `shares` unbonding shares: returns `floor(shares * unbonding_tokens /
    /// unbonding_shares)` tokens (possibly zero after slashes).
    pub fn release(&mut self, shares: u64) -> Result<u64, StakingError> {
        let tokens = tokens_for(shares, self.unbonding_tokens, self.unbonding_shares)?;
        self.unbonding_tokens -= tokens;
        self.unbonding_shares -= shares;
        Ok(tokens)
    }

    /// Slashes `bps` of both pools, bonded and unbonding alike: each loses
    /// `floor(tokens * bps / 10000)`, so a pool with tokens keeps at least one
    /// (`bps < 10000`). Returns the tokens taken (to burn).
    pub fn slash(&mut self, bps: u64) -> Result<u64, StakingError> {
        if bps == 0 || u128::from(bps) >= BPS {
            return Err(StakingError::InvalidSlash);
        }
        let bonded = mul_div_u64(self.bonded_tokens, bps, BPS as u64)?;
        let unbonding = mul_div_u64(self.unbonding_tokens, bps, BPS as u64)?;
        self.bonded_tokens -= bonded;
        self.unbonding_tokens -= unbonding;
        add(bonded, unbonding)
    }

    /// Adds `amount` to the rewards pending for the next boundary.
    pub fn deposit_rewards(&mut self, amount: u64) -> Result<(), StakingError> {
        self.pending_rewards = add(self.pending_rewards, amount)?;
        Ok(())
    }

    /// Takes `amount` out of the reserve for a delegator's claim.
    pub fn pay_rewards(&mut self, amount: u64) -> Result<(), StakingError> {
        self.reward_reserve = sub(self.reward_reserve, amount)?;
        Ok(())
    }

    /// What the vault must hold: every pool and every account of the books.
    pub fn books(&self) -> Result<u64, StakingError> {
        [self.unbonding_tokens, self.pending_rewards, self.reward_reserve, self.commission_owed]
            .into_iter()
            .try_fold(self.bonded_tokens, add)
    }
}

/// One owner's stake with one validator, at [`delegation_address`]`(validator, owner)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Delegation {
    /// The validator.
    pub validator: Pubkey,
    /// The owner, who alone may act on it.
    pub owner: Pubkey,
    /// Bonded shares.
    pub shares: u64,
    /// The validator's reward index at the last settlement.
    pub reward_index: u128,
    /// Rewards settled and not yet claimed.
    pub rewards_owed: u64,
    /// Unbonding shares of the open unbonding entry (0: none).
    pub unbonding_shares: u64,
    /// The epoch from which the entry may be withdrawn or completed.
    pub release_epoch: u64,
    /// The validator a redelegation moves to; `Pubkey::default()` for a plain unbonding.
    pub redelegate_to: Pubkey,
}

impl AccountState for Delegation {
    const TAG: u8 = 3;
    const LEN: usize = 1 + 2 * 32 + 8 + 16 + 3 * 8 + 32;
}

impl Delegation {
    /// An empty delegation settled at `index`.
    pub fn new(validator: Pubkey, owner: Pubkey, index: u128) -> Self {
        Self {
            validator,
            owner,
            shares: 0,
            reward_index: index,
            rewards_owed: 0,
            unbonding_shares: 0,
            release_epoch: 0,
            redelegate_to: Pubkey::default(),
        }
    }

    /// Credits the rewards earned since the last settlement,
    /// `floor(shares * (index - reward_index) / INDEX_SCALE)`, and records `index`:
    /// O(1) whatever the number of epochs in between.
    ///
    /// The index wraps and the difference is taken wrapping: what one delegation is
    /// owed never exceeds the vault's balance (< 2^64), so the true difference is
    /// below `2^64 * INDEX_SCALE / shares + INDEX_SCALE < 2^128` and the wrapping one
    /// equals it.
    pub fn settle(&mut self, index: u128) -> Result<u64, StakingError> {
        let delta = index.wrapping_sub(self.reward_index);
        let earned = to_u64(mul_div_floor(self.shares.into(), delta, INDEX_SCALE)?)?;
        self.rewards_owed = add(self.rewards_owed, earned)?;
        self.reward_index = index;
        Ok(earned)
    }

    /// Whether an unbonding entry is open.
    pub fn is_unbonding(&self) -> bool {
        self.unbonding_shares > 0
    }

    /// Opens or extends the unbonding entry: `shares` more unbonding shares, released
    /// from `release_epoch` (the later release of a merged entry wins), towards
    /// `redelegate_to` (`Pubkey::default()` for a plain unbonding). An open entry of
    /// another kind or destination must be closed first.
    pub fn add_unbonding(
        &mut self,
        shares: u64,
        release_epoch: u64,
        redelegate_to: Pubkey,
    ) -> Result<(), StakingError> {
        if self.is_unbonding() && self.redelegate_to != redelegate_to {
            return Err(StakingError::UnbondingInProgress);
        }
        self.unbonding_shares = add(self.unbonding_shares, shares)?;
        self.release_epoch = self.release_epoch.max(release_epoch);
        self.redelegate_to = redelegate_to;
        Ok(())
    }
}

/// Decodes a config, checking that the staking program owns the account.
pub fn read_config(data: &[u8], owner: &Pubkey) -> Result<Config, StakingError> {
    read_owned(data, owner)
}

/// Decodes a validator, checking that the staking program owns the account.
pub fn read_validator(data: &[u8], owner: &Pubkey) -> Result<Validator, StakingError> {
    read_owned(data, owner)
}

/// Decodes a delegation, checking that the staking program owns the account.
pub fn read_delegation(data: &[u8], owner: &Pubkey) -> Result<Delegation, StakingError> {
    read_owned(data, owner)
}
