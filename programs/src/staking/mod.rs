//! The staking program: proof-of-stake delegation over a token, with per-epoch
//! rewards distributed through a reward-per-share index (Cosmos' F1 fee
//! distribution: O(1) per delegator whatever the number of epochs), commission,
//! unbonding with a waiting period, redelegation, and slashing that reaches
//! unbonding stake too.
//!
//! | instruction | accounts | fails on |
//! |---|---|---|
//! | `InitConfig{params}` | config W(new), mint R, admin S | bad params, mint not a mint, already initialised |
//! | `RegisterValidator{commission_bps}` | config R, validator W(new), vault W(new), mint R, operator S | commission above the maximum, not the config's mint, validator or vault not at its PDA, already registered |
//! | `SetCommission{commission_bps}` | validator W, operator S | not the operator, above the maximum |
//! | `Delegate{amount}` | validator W, vault W, delegation W, owner token W, owner S | zero, wrong vault or delegation, owner token is the vault, rounds to zero shares, the token transfer's errors |
//! | `Undelegate{shares}` | validator W, delegation W, owner S | zero, no delegation, above its shares, rounds to zero tokens, a redelegation open |
//! | `WithdrawUnbonded` | validator W, vault W, delegation W, owner token W, owner S | nothing unbonding, before the release epoch, the entry is a redelegation |
//! | `ClaimRewards` | validator W, vault W, delegation W, owner token W, owner S | nothing to claim |
//! | `DepositRewards{amount}` | validator W, vault W, source token W, reward authority S | zero, not the reward authority |
//! | `AdvanceEpoch` | validator W | the validator is at the current epoch already |
//! | `Slash{bps}` | validator W, vault W, mint W, slash authority S | not the slash authority, bps outside `1..=9999`, not the mint |
//! | `WithdrawCommission` | validator W, vault W, operator token W, operator S | not the operator, nothing to claim |
//! | `Redelegate{shares}` | validator W, delegation W, destination R, owner S | as `Undelegate`, plus destination is the source, not a validator, or of another config; a plain unbonding or a redelegation elsewhere open |
//! | `CompleteRedelegation` | validator W, vault W, delegation W, destination W, destination vault W, destination delegation W, owner S | nothing unbonding, before the release epoch, a plain unbonding, not the redelegation's destination |
//!
//! Each instruction's accounts are declared once, as a spec (`init_config_accounts`,
//! `owner_accounts`, …) that both its builder and its processor read. Every
//! instruction also fails with the runtime's `ReadonlyWrite` /
//! `MissingSignature` / `NotEnoughAccounts` on a wrong list (the spec's check, before
//! any state is read), with [`StakingError::WrongAccountOwner`] /
//! [`StakingError::NotInitialized`] / [`StakingError::InvalidAccountData`] on
//! state accounts that are not what they claim, [`StakingError::WrongVault`] /
//! [`StakingError::WrongDelegation`] when a vault or delegation is not the
//! validator's or the signer's, [`StakingError::UserAccountIsVault`] when a user
//! token account is the vault, [`StakingError::MathOverflow`] instead of any
//! overflow, and with the token program's typed errors from its transfers.
//!
//! ## Accounts
//! - **Config** ([`Config`]): a client-created account ([`create_config`]) holding
//!   the stake mint and the rules ([`ConfigParams`]): reward and slash authorities,
//!   `epoch_slots`, `unbonding_epochs`, `max_commission_bps`. It never changes;
//!   `RegisterValidator` copies it into the validator, so no other instruction
//!   needs it.
//! - **Validator** ([`Validator`]) at [`validator_address`]`(config, operator)`,
//!   opened by `RegisterValidator` (system `Assign` signed with its seeds). It is
//!   the token owner of its **vault** at [`vault_address`]`(validator)` (a token
//!   account opened with [`token::create_pda_token_account`](crate::token::create_pda_token_account)),
//!   and signs the vault's transfers and burns with its seeds.
//! - **Delegation** ([`Delegation`]) at [`delegation_address`]`(validator, owner)`,
//!   opened by the first `Delegate` (or `CompleteRedelegation`) there.
//!
//! Each validator has its own vault, so delegators of different validators touch
//! disjoint accounts and run in parallel; only those of one validator serialise.
//!
//! ## Epochs
//! The runtime gives programs the block's slot (`ctx.env().slot`, set by consensus,
//! never by a caller): epoch = `slot / epoch_slots`. Every instruction that writes a
//! validator first processes its epoch boundary if the block is in a later epoch
//! ([`Validator::catch_up`]): the rewards deposited in the validator's last epoch are
//! split into commission and the delegators' part, which raises the reward index.
//! So rewards deposited in an epoch go to the shares bonded at its end, whoever
//! touches the validator first afterwards; `AdvanceEpoch` is the crank for a
//! validator nobody touches (anyone may send it; it only does what the next
//! instruction would do anyway).
//!
//! ## Stake: two share pools
//! Bonded stake is a pool of `bonded_tokens` owned by `bonded_shares`, unbonding
//! stake a pool of `unbonding_tokens` owned by `unbonding_shares`. `Delegate` issues
//! `floor(amount * shares / tokens)` bonded shares (`amount` for an empty pool);
//! `Undelegate` turns `s` shares into `floor(s * tokens / shares)` tokens and those
//! into unbonding shares the same way; `WithdrawUnbonded` pays
//! `floor(s * unbonding_tokens / unbonding_shares)` once the entry's release epoch
//! (`epoch at unbonding + unbonding_epochs`) is reached. Every conversion floors
//! against the caller, so a stake/unbond loop never gains a unit. A slash of `bps`
//! takes `floor(tokens * bps / 10000)` from **both** pools, so unbonding stake pays
//! the same fraction as bonded stake, and burns it; `bps < 10000`, so a pool with
//! tokens keeps at least one and shares never lose their backing entirely. Rewards
//! are not compounded into the pool, so a share's token value only falls (by
//! slashes): there is no first-depositor inflation to defend against.
//!
//! ## Rewards (F1)
//! The validator keeps `reward_index`, the cumulative rewards per bonded share
//! scaled by [`INDEX_SCALE`]; a delegation records the index at its last settlement
//! and is owed `floor(shares * (index - recorded) / INDEX_SCALE)` on top, settled
//! before its shares change and at each claim. At a boundary, commission is
//! `floor(pending * commission_bps / 10000)`, the index grows by
//! `inc = floor(part * INDEX_SCALE / bonded_shares)`, the reserve by
//! `ceil(inc * bonded_shares / INDEX_SCALE)` (at most `part`; rounded up because a
//! delegator's claim floors once over several increments, and a sum of floors per
//! increment could fall short of it), and the remainder stays pending for the next
//! epoch. The reserve therefore always covers the claims; what it holds beyond them
//! is flooring dust that stays in the vault. A
//! commission change applies from the next boundary on, so the rewards of the
//! epoch in which it is announced keep the old rate (nobody raises the commission
//! on rewards already earned), and is capped by `max_commission_bps`.
//!
//! ## Redelegation
//! `Redelegate` moves bonded shares into the source's unbonding pool, bound for
//! the destination; `CompleteRedelegation` moves what they are worth at release
//! into the destination's pool. So redelegated stake stays slashable at the source
//! for the whole unbonding period and earns nothing meanwhile (unlike Cosmos'
//! instant redelegation, which needs per-delegation slash bookkeeping at both ends).
//!
//! ## Choices and limits
//! - One unbonding entry per delegation: a second `Undelegate` merges into it and
//!   takes the later release epoch; a redelegation and a plain unbonding (or two
//!   destinations) cannot be open at once.
//! - A matured entry stays in the unbonding pool until withdrawn, and a slash
//!   before then still reaches it.
//! - Rewards of an epoch with no bonded shares go to the operator as commission.
//! - Rewards go to the shares bonded at the end of their epoch, as in Cosmos where a
//!   block's rewards go to the stake bonded at that block: a delegation made just
//!   before a boundary earns that epoch's rewards, then pays the unbonding period
//!   to leave. An activation delay (Solana's warm-up) is out of scope.
//! - Tokens sent straight to a vault are not counted anywhere and stay there.
//! - Out of scope: jailing, slashing for a past infraction height, closing accounts,
//!   changing a config.
//!
//! The full layouts, formulas and invariants with their tests are in
//! `docs/PROGRAMS.md`, *staking*.

mod error;
mod instruction;
mod processor;
mod state;

use std::sync::LazyLock;

use parex_runtime::Pubkey;

pub use error::StakingError;
pub use instruction::{
    StakingEvent, StakingInstruction, advance_epoch, advance_epoch_accounts, claim_rewards,
    complete_redelegation, complete_redelegation_accounts, create_config, delegate, deposit_rewards,
    deposit_rewards_accounts, init_config, init_config_accounts, owner_accounts, redelegate,
    redelegate_accounts, register_validator, register_validator_accounts, set_commission,
    set_commission_accounts, slash, slash_accounts, undelegate, undelegate_accounts, withdraw_commission,
    withdraw_commission_accounts, withdraw_unbonded,
};
pub use processor::{INSTRUCTION_COST, READ_COST, StakingProgram, WRITE_COST};
pub use state::{
    Boundary, Config, ConfigParams, DELEGATION_SEED, Delegation, INDEX_SCALE, VALIDATOR_SEED, VAULT_SEED,
    Validator, delegation_address, read_config, read_delegation, read_validator, validator_address,
    vault_address,
};

static ID: LazyLock<Pubkey> = LazyLock::new(|| Pubkey::from_name("staking"));

/// The staking program's id: `Pubkey::from_name("staking")`.
pub fn id() -> Pubkey {
    *ID
}
