//! Every builder's access list agrees with its instruction's account spec: the same
//! W/S flags at every position, and each program-derived position at the address the
//! spec's seeds give. The processors check the same specs, so a builder and its
//! processor cannot drift apart.

use parex_runtime::{Instruction, Pubkey};

use crate::accounts::InstructionSpec;
use crate::amm::{self, LiquidityUser};
use crate::insurance;
use crate::lending::{self, Position, PositionReserve};
use crate::{oracle, staking, token};

/// Fails unless `ix`'s first `spec.len()` accounts are what `spec` declares.
fn assert_follows(spec: &InstructionSpec, ix: &Instruction) {
    assert!(ix.accounts.len() >= spec.len(), "{}: short list", spec.name);
    let keys: Vec<Pubkey> = ix.accounts.iter().map(|m| m.pubkey).collect();
    for (i, (a, m)) in spec.accounts.iter().zip(&ix.accounts).enumerate() {
        assert_eq!((m.is_writable, m.is_signer), (a.writable, a.signer), "{}.{}", spec.name, a.name);
        if a.pda.is_some() {
            let derived = spec.derive(i, &keys, &ix.program_id).expect("valid seeds");
            assert_eq!(m.pubkey, derived, "{}.{} is not at its derivation", spec.name, a.name);
        }
    }
}

fn k(n: u8) -> Pubkey {
    Pubkey([n; 32])
}

#[test]
fn token_and_oracle_builders_follow_their_specs() {
    assert_follows(&token::init_mint_accounts::SPEC, &token::init_mint(&k(1), &k(2), 6));
    assert_follows(&token::init_account_accounts::SPEC, &token::init_account(&k(1), &k(2), &k(3)));
    assert_follows(&token::mint_to_accounts::SPEC, &token::mint_to(&k(1), &k(2), &k(3), 1));
    assert_follows(&token::transfer_accounts::SPEC, &token::transfer(&k(1), &k(2), &k(3), 1));
    assert_follows(&token::burn_accounts::SPEC, &token::burn(&k(1), &k(2), &k(3), 1));
    let credit = token::transfer_credit(&k(1), &k(2), &k(3), 1);
    let to = credit.accounts[token::transfer_accounts::TO];
    assert!(to.is_credit && token::transfer_accounts::SPEC.accounts[token::transfer_accounts::TO].credit);
    assert_follows(&oracle::init_feed_accounts::SPEC, &oracle::init_feed(&k(1), &k(2), 5));
    assert_follows(&oracle::set_price_accounts::SPEC, &oracle::set_price(&k(1), &k(2), 5));
    assert_follows(&oracle::guard_accounts::SPEC, &oracle::guard(&k(1), 1, 2, 3));
}

#[test]
fn amm_builders_follow_their_specs_and_derivations() {
    let pool = k(1);
    assert_follows(&amm::init_pool_accounts::SPEC, &amm::init_pool(&pool, &k(2), &k(3), &k(4), 30));
    let user = LiquidityUser { token_a: k(5), token_b: k(6), lp: k(7), owner: k(8) };
    assert_follows(&amm::liquidity_accounts::SPEC, &amm::add_liquidity(&pool, &user, 1, 2, 3));
    assert_follows(&amm::liquidity_accounts::SPEC, &amm::remove_liquidity(&pool, &user, 1, 2, 3));
    for a_to_b in [true, false] {
        let ix = amm::swap_exact_in(&pool, &k(5), &k(6), &k(8), 1, 0, a_to_b);
        assert_follows(&amm::swap_accounts::SPEC, &ix);
        let ix = amm::swap_exact_out(&pool, &k(5), &k(6), &k(8), 1, 9, a_to_b);
        assert_follows(&amm::swap_accounts::SPEC, &ix);
    }
}

#[test]
fn lending_builders_follow_their_specs_and_derivations() {
    let (reserve, coll, obligation) = (k(1), k(2), k(3));
    let position = Position { obligation, reserves: vec![PositionReserve { reserve: coll, oracle: k(9) }] };
    let config = super::lending::config(7_000, 8_000);
    let ix = lending::init_reserve(&reserve, &k(4), &k(5), &k(6), config);
    assert_follows(&lending::init_reserve_accounts::SPEC, &ix);
    assert_follows(
        &lending::init_obligation_accounts::SPEC,
        &lending::init_obligation(&obligation, &k(6), &k(7)),
    );
    assert_follows(&lending::lender_accounts::SPEC, &lending::deposit(&reserve, &k(4), &k(5), &k(6), 1, 0));
    assert_follows(&lending::lender_accounts::SPEC, &lending::redeem(&reserve, &k(4), &k(5), &k(6), 1, 0));
    let ix = lending::deposit_collateral(&obligation, &coll, &k(4), &k(6), 1);
    assert_follows(&lending::deposit_collateral_accounts::SPEC, &ix);
    let ix = lending::withdraw_collateral(&position, &coll, &k(4), &k(6), 1);
    assert_follows(&lending::withdraw_collateral_accounts::SPEC, &ix);
    assert_eq!(ix.accounts.len(), lending::withdraw_collateral_accounts::LEN + 2);
    let ix = lending::borrow(&position, &reserve, &k(5), &k(4), &k(6), 1);
    assert_follows(&lending::borrow_accounts::SPEC, &ix);
    assert_follows(&lending::repay_accounts::SPEC, &lending::repay(&reserve, &obligation, &k(4), &k(6), 1));
    let ix = lending::liquidate(&position, &reserve, &coll, &k(4), &k(5), &k(6), 1);
    assert_follows(&lending::liquidate_accounts::SPEC, &ix);
    assert_follows(&lending::write_off_accounts::SPEC, &lending::write_off_bad_debt(&reserve, &obligation));
}

#[test]
fn insurance_builders_follow_their_specs_and_derivations() {
    let vault = k(2);
    let pool = insurance::pool_address(&vault);
    let ix = insurance::init_pool(&vault, &k(3), &k(4), super::insurance::PARAMS);
    assert_follows(&insurance::init_pool_accounts::SPEC, &ix);
    let ix = insurance::deposit_capital(&pool, &vault, &k(5), &k(6), 1, 0);
    assert_follows(&insurance::capital_accounts::SPEC, &ix);
    let ix = insurance::withdraw_capital(&pool, &vault, &k(5), &k(6), 1, 0);
    assert_follows(&insurance::capital_accounts::SPEC, &ix);
    let ix = insurance::buy_policy(&pool, &k(7), &k(5), &vault, &k(3), &k(6), 1, 2, 3);
    assert_follows(&insurance::buy_policy_accounts::SPEC, &ix);
    assert_follows(&insurance::update_trigger_accounts::SPEC, &insurance::update_trigger(&pool, &k(3)));
    let ix = insurance::claim(&k(7), &pool, &vault, &k(5), &k(6));
    assert_follows(&insurance::claim_accounts::SPEC, &ix);
    assert_follows(&insurance::expire_accounts::SPEC, &insurance::expire(&k(7), &pool));
}

#[test]
fn staking_builders_follow_their_specs_and_derivations() {
    use staking::*;
    let (config, operator, owner) = (k(1), k(2), k(3));
    let (validator, destination) = (validator_address(&config, &operator), validator_address(&config, &k(4)));
    let params = super::staking::params(&k(6));
    assert_follows(&init_config_accounts::SPEC, &init_config(&config, &k(5), &k(6), params));
    assert_follows(&register_validator_accounts::SPEC, &register_validator(&config, &k(5), &operator, 100));
    assert_follows(&set_commission_accounts::SPEC, &set_commission(&validator, &operator, 100));
    assert_follows(&owner_accounts::SPEC, &delegate(&validator, &k(7), &owner, 1));
    assert_follows(&owner_accounts::SPEC, &withdraw_unbonded(&validator, &k(7), &owner));
    assert_follows(&owner_accounts::SPEC, &claim_rewards(&validator, &k(7), &owner));
    assert_follows(&undelegate_accounts::SPEC, &undelegate(&validator, &owner, 1));
    assert_follows(&redelegate_accounts::SPEC, &redelegate(&validator, &destination, &owner, 1));
    assert_follows(&deposit_rewards_accounts::SPEC, &deposit_rewards(&validator, &k(7), &k(8), 1));
    assert_follows(&advance_epoch_accounts::SPEC, &advance_epoch(&validator));
    assert_follows(&slash_accounts::SPEC, &slash(&validator, &k(5), &k(8), 1));
    assert_follows(&withdraw_commission_accounts::SPEC, &withdraw_commission(&validator, &k(7), &operator));
    let ix = complete_redelegation(&validator, &destination, &owner);
    assert_follows(&complete_redelegation_accounts::SPEC, &ix);
}

#[test]
fn a_spec_names_its_positions() {
    use crate::lending::liquidate_accounts as l;
    assert_eq!(l::SPEC.position("LIQUIDATOR"), Some(l::LIQUIDATOR));
    assert_eq!(l::SPEC.position("nobody"), None);
    assert_eq!(l::LEN, 9);
    // A position without a derivation has no address to derive.
    let keys = [Pubkey::default(); 9];
    assert!(l::SPEC.derive(l::LIQUIDATOR, &keys, &lending::id()).is_err());
}

#[test]
fn channels_builders_follow_their_specs_and_derivations() {
    use crate::channels::{self, OpenParams};
    let params = OpenParams {
        dispute_slots: 1,
        deposit_a: 1,
        deposit_b: 1,
        revocation_a: [0; 32],
        revocation_b: [0; 32],
    };
    let vault = k(1);
    assert_follows(
        &channels::open_accounts::SPEC,
        &channels::open(&vault, (&k(2), &k(3)), (&k(4), &k(5)), params),
    );
    let channel = channels::channel_address(&vault);
    assert_follows(&channels::publish_accounts::SPEC, &channels::close(&channel, &k(4), None));
    let one = &channels::pay_one_accounts::SPEC;
    assert_follows(one, &channels::penalty(&vault, &k(2), &k(4), [0; 32]));
    assert_follows(one, &channels::claim_htlc(&vault, &k(2), &k(4), 0, [0; 32]));
    assert_follows(one, &channels::refund_htlc(&vault, &k(2), &k(4), 0));
    let both = &channels::pay_both_accounts::SPEC;
    assert_follows(both, &channels::settle(&vault, (&k(2), &k(3)), &k(4)));
    assert_follows(
        both,
        &channels::cooperative_close(&vault, (&k(2), &k(3)), &k(4), (1, 1), ([0; 64], [0; 64])),
    );
    for ix in
        [channels::settle(&vault, (&k(2), &k(3)), &k(4)), channels::penalty(&vault, &k(2), &k(4), [0; 32])]
    {
        assert_eq!(ix.accounts[0].pubkey, channel, "the channel is the vault's address");
    }
}
