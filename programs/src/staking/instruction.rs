//! The staking program's instructions, events, account specs and builders: one spec
//! and one builder per instruction, the builder listing its accounts from the spec.

use borsh::{BorshDeserialize, BorshSerialize};
use parex_runtime::{AccountMeta, Event, Instruction, Pubkey, system};

use super::id;
use super::state::{
    Config, ConfigParams, DELEGATION_SEED, VALIDATOR_SEED, VAULT_SEED, delegation_address, validator_address,
    vault_address,
};
use crate::instruction_accounts;
use crate::state::AccountState;

/// Staking program instructions (borsh-encoded as instruction data).
/// Use the builder functions rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum StakingInstruction {
    /// Opens a config. Accounts: `[config W(new), mint R, admin S]`.
    InitConfig {
        /// The rules.
        params: ConfigParams,
    },
    /// Registers the signer as a validator.
    /// Accounts: `[config R, validator W(new), vault W(new), mint R, operator S]`.
    RegisterValidator {
        /// Initial commission, bps.
        commission_bps: u64,
    },
    /// Announces a commission that applies from the next epoch boundary on.
    /// Accounts: `[validator W, operator S]`.
    SetCommission {
        /// New commission, bps.
        commission_bps: u64,
    },
    /// Bonds tokens. Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
    Delegate {
        /// Tokens to bond.
        amount: u64,
    },
    /// Moves bonded shares into the unbonding pool. Accounts: `[validator W, delegation W, owner S]`.
    Undelegate {
        /// Bonded shares to unbond.
        shares: u64,
    },
    /// Pays out a released unbonding entry.
    /// Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
    WithdrawUnbonded,
    /// Pays out settled rewards. Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
    ClaimRewards,
    /// Adds rewards for the current epoch.
    /// Accounts: `[validator W, vault W, source token W, reward authority S]`.
    DepositRewards {
        /// Tokens to add.
        amount: u64,
    },
    /// Processes the epoch boundary (anyone). Accounts: `[validator W]`.
    AdvanceEpoch,
    /// Slashes both pools and burns the slashed tokens.
    /// Accounts: `[validator W, vault W, mint W, slash authority S]`.
    Slash {
        /// Fraction slashed, bps (`1..=9999`).
        bps: u64,
    },
    /// Pays out the operator's commission.
    /// Accounts: `[validator W, vault W, operator token W, operator S]`.
    WithdrawCommission,
    /// Moves bonded shares into the source's unbonding pool, bound for `destination`.
    /// Accounts: `[validator W, delegation W, destination R, owner S]`.
    Redelegate {
        /// Bonded shares to move.
        shares: u64,
    },
    /// Bonds a released redelegation at its destination.
    /// Accounts: `[validator W, vault W, delegation W, destination W, destination vault W,
    /// destination delegation W, owner S]`.
    CompleteRedelegation,
}

/// What the staking program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum StakingEvent {
    /// `RegisterValidator` opened a validator.
    ValidatorRegistered {
        /// The validator.
        validator: Pubkey,
        /// Its operator.
        operator: Pubkey,
        /// Its commission, bps.
        commission_bps: u64,
    },
    /// An epoch boundary was processed (by any instruction touching the validator).
    EpochAdvanced {
        /// The validator.
        validator: Pubkey,
        /// The epoch it was at.
        from: u64,
        /// The epoch it is at now.
        to: u64,
        /// Rewards credited to the delegators' index.
        distributed: u64,
        /// Rewards credited to the operator.
        commission: u64,
    },
    /// `SetCommission` announced a commission.
    CommissionSet {
        /// The validator.
        validator: Pubkey,
        /// The commission from the next boundary on, bps.
        commission_bps: u64,
    },
    /// `Delegate` bonded tokens.
    Delegated {
        /// The validator.
        validator: Pubkey,
        /// The owner.
        owner: Pubkey,
        /// Tokens bonded.
        amount: u64,
        /// Shares issued.
        shares: u64,
    },
    /// `Undelegate` or `Redelegate` opened or extended an unbonding entry.
    Unbonding {
        /// The validator.
        validator: Pubkey,
        /// The owner.
        owner: Pubkey,
        /// Bonded shares given up.
        shares: u64,
        /// Their tokens.
        tokens: u64,
        /// The epoch the entry is released at.
        release_epoch: u64,
    },
    /// `WithdrawUnbonded` or `CompleteRedelegation` released an entry.
    Released {
        /// The validator.
        validator: Pubkey,
        /// The owner.
        owner: Pubkey,
        /// Tokens paid out or moved to the destination.
        tokens: u64,
    },
    /// `ClaimRewards` or `WithdrawCommission` paid out.
    Claimed {
        /// The validator.
        validator: Pubkey,
        /// Who was paid.
        owner: Pubkey,
        /// Tokens paid.
        amount: u64,
    },
    /// `DepositRewards` added rewards.
    RewardsDeposited {
        /// The validator.
        validator: Pubkey,
        /// Tokens added.
        amount: u64,
    },
    /// `Slash` burned stake.
    Slashed {
        /// The validator.
        validator: Pubkey,
        /// Fraction, bps.
        bps: u64,
        /// Tokens burned, both pools together.
        burned: u64,
    },
}

impl StakingEvent {
    /// Decodes a receipt event, if the staking program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}

instruction_accounts! {
    /// `InitConfig`'s accounts.
    pub mod init_config_accounts {
        /// The new config (created for the staking program, no state yet).
        CONFIG: writable,
        /// The stake mint.
        MINT: readonly,
        /// Whoever sets the rules.
        ADMIN: signer,
    }
}

instruction_accounts! {
    /// `RegisterValidator`'s accounts.
    pub mod register_validator_accounts {
        /// The config the validator joins.
        CONFIG: readonly,
        /// The new validator, at `[VALIDATOR_SEED, config, operator]`.
        VALIDATOR: writable pda(&[Seed::Bytes(VALIDATOR_SEED), Seed::Key(CONFIG), Seed::Key(OPERATOR)]),
        /// The validator's new vault, at `[VAULT_SEED, validator]`.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The config's stake mint.
        MINT: readonly,
        /// The validator's operator.
        OPERATOR: signer,
    }
}

instruction_accounts! {
    /// `SetCommission`'s accounts.
    pub mod set_commission_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// Its operator.
        OPERATOR: signer,
    }
}

instruction_accounts! {
    /// The accounts of `Delegate`, `WithdrawUnbonded` and `ClaimRewards`: a delegator
    /// moving tokens between its token account and the validator's vault.
    pub mod owner_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// Its vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The owner's delegation with the validator.
        DELEGATION: writable pda(&[Seed::Bytes(DELEGATION_SEED), Seed::Key(VALIDATOR), Seed::Key(OWNER)]),
        /// The owner's token account of the stake mint.
        OWNER_TOKEN: writable,
        /// The delegator.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Undelegate`'s accounts.
    pub mod undelegate_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// The owner's delegation with the validator.
        DELEGATION: writable pda(&[Seed::Bytes(DELEGATION_SEED), Seed::Key(VALIDATOR), Seed::Key(OWNER)]),
        /// The delegator.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `Redelegate`'s accounts.
    pub mod redelegate_accounts {
        /// The validator the shares leave.
        VALIDATOR: writable,
        /// The owner's delegation with it.
        DELEGATION: writable pda(&[Seed::Bytes(DELEGATION_SEED), Seed::Key(VALIDATOR), Seed::Key(OWNER)]),
        /// The validator they are bound for (read to check its config).
        DESTINATION: readonly,
        /// The delegator.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `DepositRewards`' accounts.
    pub mod deposit_rewards_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// Its vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The token account the rewards come from.
        SOURCE: writable,
        /// The config's reward authority (owner of `SOURCE`).
        AUTHORITY: signer,
    }
}

instruction_accounts! {
    /// `AdvanceEpoch`'s accounts.
    pub mod advance_epoch_accounts {
        /// The validator.
        VALIDATOR: writable,
    }
}

instruction_accounts! {
    /// `Slash`'s accounts.
    pub mod slash_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// Its vault (the slashed tokens are burned from it).
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The stake mint (its supply falls).
        MINT: writable,
        /// The config's slash authority.
        AUTHORITY: signer,
    }
}

instruction_accounts! {
    /// `WithdrawCommission`'s accounts.
    pub mod withdraw_commission_accounts {
        /// The validator.
        VALIDATOR: writable,
        /// Its vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The operator's token account paid.
        OPERATOR_TOKEN: writable,
        /// The validator's operator.
        OPERATOR: signer,
    }
}

instruction_accounts! {
    /// `CompleteRedelegation`'s accounts.
    pub mod complete_redelegation_accounts {
        /// The validator the redelegation left.
        VALIDATOR: writable,
        /// Its vault.
        VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(VALIDATOR)]),
        /// The owner's delegation with it.
        DELEGATION: writable pda(&[Seed::Bytes(DELEGATION_SEED), Seed::Key(VALIDATOR), Seed::Key(OWNER)]),
        /// The destination validator.
        DESTINATION: writable,
        /// The destination's vault.
        DESTINATION_VAULT: writable pda(&[Seed::Bytes(VAULT_SEED), Seed::Key(DESTINATION)]),
        /// The owner's delegation with the destination.
        DESTINATION_DELEGATION: writable pda(&[
            Seed::Bytes(DELEGATION_SEED),
            Seed::Key(DESTINATION),
            Seed::Key(OWNER),
        ]),
        /// The delegator.
        OWNER: signer,
    }
}

// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of its spec.

/// `InitConfig`: makes `config` (created for the staking program, see
/// [`create_config`]) a staking config of `mint`. Accounts: `[config W(new), mint R, admin S]`.
pub fn init_config(config: &Pubkey, mint: &Pubkey, admin: &Pubkey, params: ConfigParams) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::InitConfig { params },
        init_config_accounts::metas([*config, *mint, *admin]).to_vec(),
    )
}

/// A config at the fresh key `config`: system `CreateAccount` ([`Config::LEN`]
/// bytes owned by the staking program; `payer` and `config` sign) then [`init_config`]
/// (`admin` signs), in one transaction.
pub fn create_config(
    payer: &Pubkey,
    config: &Pubkey,
    mint: &Pubkey,
    admin: &Pubkey,
    params: ConfigParams,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, config, 0, Config::LEN as u32, &id()),
        init_config(config, mint, admin, params),
    ]
}

/// `RegisterValidator`: `operator` (signs) opens its validator under `config` at
/// [`validator_address`]`(config, operator)` and the validator's vault at
/// [`vault_address`]. Accounts: `[config R, validator W(new), vault W(new), mint R, operator S]`.
pub fn register_validator(
    config: &Pubkey,
    mint: &Pubkey,
    operator: &Pubkey,
    commission_bps: u64,
) -> Instruction {
    let validator = validator_address(config, operator);
    Instruction::new_borsh(
        id(),
        &StakingInstruction::RegisterValidator { commission_bps },
        register_validator_accounts::metas([*config, validator, vault_address(&validator), *mint, *operator])
            .to_vec(),
    )
}

/// `SetCommission`: `operator` (signs) announces `commission_bps` for `validator`,
/// applied from the next epoch boundary on. Accounts: `[validator W, operator S]`.
pub fn set_commission(validator: &Pubkey, operator: &Pubkey, commission_bps: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::SetCommission { commission_bps },
        set_commission_accounts::metas([*validator, *operator]).to_vec(),
    )
}

/// `[validator W, vault W, delegation W, owner token W, owner S]`.
fn owner_metas(validator: &Pubkey, owner_token: &Pubkey, owner: &Pubkey) -> Vec<AccountMeta> {
    let (vault, delegation) = (vault_address(validator), delegation_address(validator, owner));
    owner_accounts::metas([*validator, vault, delegation, *owner_token, *owner]).to_vec()
}

/// `Delegate`: `owner` (signs) bonds `amount` tokens from `owner_token` with
/// `validator`; the first one opens [`delegation_address`]`(validator, owner)`.
/// Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
pub fn delegate(validator: &Pubkey, owner_token: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::Delegate { amount },
        owner_metas(validator, owner_token, owner),
    )
}

/// `Undelegate`: `owner` (signs) moves `shares` bonded shares into `validator`'s
/// unbonding pool. Accounts: `[validator W, delegation W, owner S]`.
pub fn undelegate(validator: &Pubkey, owner: &Pubkey, shares: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::Undelegate { shares },
        undelegate_accounts::metas([*validator, delegation_address(validator, owner), *owner]).to_vec(),
    )
}

/// `WithdrawUnbonded`: `owner` (signs) takes its released unbonding entry into
/// `owner_token`. Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
pub fn withdraw_unbonded(validator: &Pubkey, owner_token: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::WithdrawUnbonded,
        owner_metas(validator, owner_token, owner),
    )
}

/// `ClaimRewards`: `owner` (signs) takes its rewards into `owner_token`.
/// Accounts: `[validator W, vault W, delegation W, owner token W, owner S]`.
pub fn claim_rewards(validator: &Pubkey, owner_token: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::ClaimRewards,
        owner_metas(validator, owner_token, owner),
    )
}

/// `DepositRewards`: the config's reward `authority` (signs) adds `amount` tokens from
/// `source` to `validator`'s rewards of the current epoch.
/// Accounts: `[validator W, vault W, source token W, reward authority S]`.
pub fn deposit_rewards(validator: &Pubkey, source: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::DepositRewards { amount },
        deposit_rewards_accounts::metas([*validator, vault_address(validator), *source, *authority]).to_vec(),
    )
}

/// `AdvanceEpoch`: processes `validator`'s epoch boundary; anyone may send it.
/// Accounts: `[validator W]`.
pub fn advance_epoch(validator: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::AdvanceEpoch,
        advance_epoch_accounts::metas([*validator]).to_vec(),
    )
}

/// `Slash`: the config's slash `authority` (signs) burns `bps` of `validator`'s bonded
/// and unbonding stake. Accounts: `[validator W, vault W, mint W, slash authority S]`.
pub fn slash(validator: &Pubkey, mint: &Pubkey, authority: &Pubkey, bps: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::Slash { bps },
        slash_accounts::metas([*validator, vault_address(validator), *mint, *authority]).to_vec(),
    )
}

/// `WithdrawCommission`: `operator` (signs) takes `validator`'s commission into
/// `operator_token`. Accounts: `[validator W, vault W, operator token W, operator S]`.
pub fn withdraw_commission(validator: &Pubkey, operator_token: &Pubkey, operator: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::WithdrawCommission,
        withdraw_commission_accounts::metas([
            *validator,
            vault_address(validator),
            *operator_token,
            *operator,
        ])
        .to_vec(),
    )
}

/// `Redelegate`: `owner` (signs) moves `shares` bonded shares of `validator` into its
/// unbonding pool, bound for `destination` (completed by [`complete_redelegation`]).
/// Accounts: `[validator W, delegation W, destination R, owner S]`.
pub fn redelegate(validator: &Pubkey, destination: &Pubkey, owner: &Pubkey, shares: u64) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::Redelegate { shares },
        redelegate_accounts::metas([*validator, delegation_address(validator, owner), *destination, *owner])
            .to_vec(),
    )
}

/// `CompleteRedelegation`: `owner` (signs) bonds its released redelegation from
/// `validator` at `destination`. Accounts: `[validator W, vault W, delegation W,
/// destination W, destination vault W, destination delegation W, owner S]`.
pub fn complete_redelegation(validator: &Pubkey, destination: &Pubkey, owner: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &StakingInstruction::CompleteRedelegation,
        complete_redelegation_accounts::metas([
            *validator,
            vault_address(validator),
            delegation_address(validator, owner),
            *destination,
            vault_address(destination),
            delegation_address(destination, owner),
            *owner,
        ])
        .to_vec(),
    )
}
