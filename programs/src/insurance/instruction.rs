//! The insurance program's instructions: their encoding, events, account specs and builders.

use super::*;

/// Insurance program instructions (borsh-encoded as instruction data).
/// Use the builder functions of this module rather than encoding these by hand.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum InsuranceInstruction {
    /// Opens a pool. Accounts: `[pool W(new), vault W, oracle R, admin S]`.
    InitPool {
        /// The pool's terms.
        params: PoolParams,
    },
    /// Deposits capital for shares. Accounts: `[pool W, vault W, user token W, position W, owner S]`.
    DepositCapital {
        /// Asset units to deposit.
        amount: u64,
        /// The fewest shares the depositor accepts (0: any); the deposit fails below.
        min_shares: u64,
    },
    /// Redeems shares for capital. Accounts: `[pool W, vault W, user token W, position W, owner S]`.
    WithdrawCapital {
        /// Shares to redeem.
        shares: u64,
        /// The fewest asset units the provider accepts (0: any); the withdrawal fails below.
        min_amount: u64,
    },
    /// Buys cover. Accounts: `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`.
    BuyPolicy {
        /// The cover, in asset units.
        sum_insured: u64,
        /// Seconds of cover from now.
        duration: u64,
        /// The most the buyer will pay; the purchase fails above it.
        max_premium: u64,
    },
    /// Feeds the trigger with the oracle's price and the block time. Accounts: `[pool W, oracle R]`.
    UpdateTrigger,
    /// Pays a policy out after a depeg. Accounts: `[policy W, pool W, vault W, holder token W, holder S]`.
    Claim,
    /// Closes an ended policy. Accounts: `[policy W, pool W]`.
    Expire,
}

/// What the insurance program reports in receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum InsuranceEvent {
    /// `InitPool` opened a pool.
    PoolInitialized {
        /// The pool.
        pool: Pubkey,
        /// Its asset.
        asset_mint: Pubkey,
        /// Its vault.
        vault: Pubkey,
        /// Its price feed.
        oracle: Pubkey,
    },
    /// `DepositCapital` minted shares.
    CapitalDeposited {
        /// The pool.
        pool: Pubkey,
        /// The provider.
        owner: Pubkey,
        /// Asset units deposited.
        amount: u64,
        /// Shares minted.
        shares: u64,
    },
    /// `WithdrawCapital` burned shares.
    CapitalWithdrawn {
        /// The pool.
        pool: Pubkey,
        /// The provider.
        owner: Pubkey,
        /// Shares burned.
        shares: u64,
        /// Asset units paid.
        amount: u64,
    },
    /// `BuyPolicy` sold cover.
    PolicyPurchased {
        /// The pool.
        pool: Pubkey,
        /// The new policy.
        policy: Pubkey,
        /// The buyer.
        holder: Pubkey,
        /// The cover.
        sum_insured: u64,
        /// What the buyer paid.
        premium: u64,
        /// Cover start (unix seconds).
        start: i64,
        /// Cover end, exclusive.
        end: i64,
    },
    /// `UpdateTrigger` moved the trigger (unchanged triggers emit nothing).
    TriggerChanged {
        /// The pool.
        pool: Pubkey,
        /// The state before.
        from: Trigger,
        /// The state after.
        to: Trigger,
        /// The price read.
        price: u128,
        /// The block time.
        time: i64,
    },
    /// `Claim` paid a policy.
    Claimed {
        /// The pool.
        pool: Pubkey,
        /// The policy.
        policy: Pubkey,
        /// The holder.
        holder: Pubkey,
        /// Asset units paid.
        payout: u64,
    },
    /// `Expire` closed a policy unclaimed.
    Expired {
        /// The pool.
        pool: Pubkey,
        /// The policy.
        policy: Pubkey,
        /// Cover released from `locked`.
        sum_insured: u64,
    },
}

impl InsuranceEvent {
    /// Decodes a receipt event, if the insurance program emitted it.
    pub fn decode(event: &Event) -> Option<Self> {
        if event.program != id() {
            return None;
        }
        Self::try_from_slice(&event.data).ok()
    }
}
instruction_accounts! {
    /// `InitPool`'s accounts.
    pub mod init_pool_accounts {
        /// The new pool, at the vault's program-derived address.
        POOL: writable pda(&[Seed::Bytes(POOL_SEED), Seed::Key(VAULT)]),
        /// The pool's vault: an empty token account the pool owns.
        VAULT: writable,
        /// The asset's price feed.
        ORACLE: readonly,
        /// Who sets the pool up.
        ADMIN: signer,
    }
}

instruction_accounts! {
    /// `DepositCapital`'s and `WithdrawCapital`'s accounts.
    pub mod capital_accounts {
        /// The pool.
        POOL: writable,
        /// Its vault.
        VAULT: writable,
        /// The provider's token account.
        USER_TOKEN: writable,
        /// The provider's position, opened by the first deposit.
        POSITION: writable pda(&[Seed::Bytes(POSITION_SEED), Seed::Key(POOL), Seed::Key(OWNER)]),
        /// The provider.
        OWNER: signer,
    }
}

instruction_accounts! {
    /// `BuyPolicy`'s accounts.
    pub mod buy_policy_accounts {
        /// The pool.
        POOL: writable,
        /// The new policy.
        POLICY: writable,
        /// The buyer's token account paying the premium.
        BUYER_TOKEN: writable,
        /// The pool's vault.
        VAULT: writable,
        /// The pool's price feed.
        ORACLE: readonly,
        /// The buyer, the policy's holder.
        BUYER: signer,
    }
}

instruction_accounts! {
    /// `UpdateTrigger`'s accounts.
    pub mod update_trigger_accounts {
        /// The pool.
        POOL: writable,
        /// The pool's price feed.
        ORACLE: readonly,
    }
}

instruction_accounts! {
    /// `Claim`'s accounts.
    pub mod claim_accounts {
        /// The policy.
        POLICY: writable,
        /// Its pool.
        POOL: writable,
        /// The pool's vault.
        VAULT: writable,
        /// The holder's token account paid out to.
        HOLDER_TOKEN: writable,
        /// The policy's holder.
        HOLDER: signer,
    }
}

instruction_accounts! {
    /// `Expire`'s accounts.
    pub mod expire_accounts {
        /// The policy.
        POLICY: writable,
        /// Its pool.
        POOL: writable,
    }
}
// ---------------------------------------------------------------------------------------------
// Instruction builders: each returns the exact access list of the table above.

/// `InitPool`: opens the pool of `vault` (at [`pool_address`]`(vault)`) on `oracle`,
/// `admin` signing. `vault` must be an empty token account owned by the pool's address;
/// [`create_pool`] makes both in one transaction.
/// Accounts: `[pool W(new), vault W, oracle R, admin S]`.
pub fn init_pool(vault: &Pubkey, oracle: &Pubkey, admin: &Pubkey, params: PoolParams) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::InitPool { params },
        init_pool_accounts::metas([pool_address(vault), *vault, *oracle, *admin]).to_vec(),
    )
}

/// A new pool on `mint` at [`pool_address`]`(vault)`: the vault token account at the
/// fresh key `vault` owned by the pool's address (system `CreateAccount` and token
/// `InitAccount`; `payer` and `vault` sign), then [`init_pool`] (`admin` signs). Put
/// all three in one transaction, so nobody can touch the vault in between.
pub fn create_pool(
    payer: &Pubkey,
    vault: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    admin: &Pubkey,
    params: PoolParams,
) -> Vec<Instruction> {
    let mut ixs = token::create_token_account(payer, vault, mint, &pool_address(vault));
    ixs.push(init_pool(vault, oracle, admin, params));
    ixs
}

fn capital_metas(pool: &Pubkey, vault: &Pubkey, user_token: &Pubkey, owner: &Pubkey) -> Vec<AccountMeta> {
    capital_accounts::metas([*pool, *vault, *user_token, position_address(pool, owner), *owner]).to_vec()
}

/// `DepositCapital`: `owner` (signs) deposits `amount` from `user_token` into `pool`,
/// crediting shares to its position at [`position_address`]`(pool, owner)`, which the
/// first deposit opens; fails if that is fewer than `min_shares` (0 accepts any).
/// Accounts: `[pool W, vault W, user token W, position W, owner S]`.
pub fn deposit_capital(
    pool: &Pubkey,
    vault: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    min_shares: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::DepositCapital { amount, min_shares },
        capital_metas(pool, vault, user_token, owner),
    )
}

/// `WithdrawCapital`: `owner` (signs) redeems `shares` of its position for assets paid
/// into `user_token`; fails if they are fewer than `min_amount` (0 accepts any).
/// Accounts: `[pool W, vault W, user token W, position W, owner S]`.
pub fn withdraw_capital(
    pool: &Pubkey,
    vault: &Pubkey,
    user_token: &Pubkey,
    owner: &Pubkey,
    shares: u64,
    min_amount: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::WithdrawCapital { shares, min_amount },
        capital_metas(pool, vault, user_token, owner),
    )
}

/// `BuyPolicy`: `buyer` (signs) pays the premium from `buyer_token` for cover of
/// `sum_insured` over the next `duration` seconds, recorded in `policy` (created for
/// the insurance program, see [`buy_policy_with_new_account`]); fails if the premium
/// is above `max_premium`, or if the pool's `oracle` (read-only) is stale or below
/// the depeg trigger.
/// Accounts: `[pool W, policy W(new), buyer token W, vault W, oracle R, buyer S]`.
#[allow(clippy::too_many_arguments)]
pub fn buy_policy(
    pool: &Pubkey,
    policy: &Pubkey,
    buyer_token: &Pubkey,
    vault: &Pubkey,
    oracle: &Pubkey,
    buyer: &Pubkey,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::BuyPolicy { sum_insured, duration, max_premium },
        buy_policy_accounts::metas([*pool, *policy, *buyer_token, *vault, *oracle, *buyer]).to_vec(),
    )
}

/// [`buy_policy`] into a new account at the fresh key `policy`: system `CreateAccount`
/// ([`Policy::LEN`] bytes owned by the insurance program; `payer` and `policy` sign)
/// then `BuyPolicy` (`buyer` signs), in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn buy_policy_with_new_account(
    payer: &Pubkey,
    policy: &Pubkey,
    pool: &Pubkey,
    buyer_token: &Pubkey,
    vault: &Pubkey,
    oracle: &Pubkey,
    buyer: &Pubkey,
    sum_insured: u64,
    duration: u64,
    max_premium: u64,
) -> Vec<Instruction> {
    vec![
        system::create_account(payer, policy, 0, Policy::LEN as u32, &id()),
        buy_policy(pool, policy, buyer_token, vault, oracle, buyer, sum_insured, duration, max_premium),
    ]
}

/// `UpdateTrigger`: feeds `pool`'s trigger with `oracle`'s price; anyone may send it.
/// Accounts: `[pool W, oracle R]`.
pub fn update_trigger(pool: &Pubkey, oracle: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::UpdateTrigger,
        update_trigger_accounts::metas([*pool, *oracle]).to_vec(),
    )
}

/// `Claim`: `holder` (signs) claims `policy` after `pool`'s depeg; the payout goes to
/// `holder_token`. Accounts: `[policy W, pool W, vault W, holder token W, holder S]`.
pub fn claim(
    policy: &Pubkey,
    pool: &Pubkey,
    vault: &Pubkey,
    holder_token: &Pubkey,
    holder: &Pubkey,
) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::Claim,
        claim_accounts::metas([*policy, *pool, *vault, *holder_token, *holder]).to_vec(),
    )
}

/// `Expire`: closes an ended `policy` of `pool`, releasing its cover; anyone may send it.
/// Accounts: `[policy W, pool W]`.
pub fn expire(policy: &Pubkey, pool: &Pubkey) -> Instruction {
    Instruction::new_borsh(
        id(),
        &InsuranceInstruction::Expire,
        expire_accounts::metas([*policy, *pool]).to_vec(),
    )
}
