//! Oracle program and the readers' `read_price`.

use parex_runtime::{InstructionError, Keypair, Pubkey};

use crate::OracleError;
use crate::oracle::{self, PriceFeed, read_price};
use crate::state::AccountState;
use crate::testing::TestChain;
use crate::{all_programs, token};

const WAD: u128 = 1_000_000_000_000_000_000;

fn feed_data(price: u128, updated_slot: u64) -> Vec<u8> {
    PriceFeed { authority: Pubkey::new_unique(1), price, updated_slot }.pack()
}

#[test]
fn init_and_set_price() {
    let (payer, auth, mallory) = (Keypair::from_index(1), Keypair::from_index(2), Keypair::from_index(3));
    let mut t = TestChain::new(&[&payer, &auth, &mallory]);
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&payer.pubkey(), &feed.pubkey(), &auth.pubkey(), 2 * WAD), &[&payer, &feed]);
    let feed = feed.pubkey();
    let stored = |t: &TestChain| PriceFeed::unpack(&t.account(&feed).data).unwrap();
    assert_eq!(stored(&t), PriceFeed { authority: auth.pubkey(), price: 2 * WAD, updated_slot: t.slot() });

    t.warp_to(100);
    t.ok(&[oracle::set_price(&feed, &auth.pubkey(), 3 * WAD)], &[&auth]);
    assert_eq!(stored(&t), PriceFeed { authority: auth.pubkey(), price: 3 * WAD, updated_slot: 101 });
    let a = t.account(&feed);
    assert_eq!(read_price(&a.data, &a.owner, 111, 10), Ok(3 * WAD));
    assert_eq!(read_price(&a.data, &a.owner, 112, 10), Err(OracleError::StalePrice));

    // SetPrice failures.
    t.fails(&[oracle::set_price(&feed, &mallory.pubkey(), WAD)], &[&mallory], OracleError::WrongAuthority);
    t.fails(&[oracle::set_price(&feed, &auth.pubkey(), 0)], &[&auth], OracleError::ZeroPrice);
    let mut unsigned = oracle::set_price(&feed, &auth.pubkey(), WAD);
    unsigned.accounts[1].is_signer = false;
    t.fails(&[unsigned], &[&mallory], InstructionError::MissingSignature(auth.pubkey()));
    let mut readonly = oracle::set_price(&feed, &auth.pubkey(), WAD);
    readonly.accounts[0].is_writable = false;
    t.fails(&[readonly], &[&auth], InstructionError::ReadonlyWrite(feed));
    let blank = t.create_raw(&payer, PriceFeed::LEN, &oracle::id());
    t.fails(&[oracle::set_price(&blank, &auth.pubkey(), WAD)], &[&auth], OracleError::NotInitialized);
    let foreign = t.create_raw(&payer, PriceFeed::LEN, &token::id());
    t.fails(&[oracle::set_price(&foreign, &auth.pubkey(), WAD)], &[&auth], OracleError::WrongAccountOwner);

    // InitFeed failures.
    t.fails(
        &[oracle::init_feed(&feed, &mallory.pubkey(), WAD)],
        &[&mallory],
        OracleError::AlreadyInitialized,
    );
    t.fails(&[oracle::init_feed(&blank, &auth.pubkey(), 0)], &[&payer], OracleError::ZeroPrice);
    t.fails(&[oracle::init_feed(&foreign, &auth.pubkey(), WAD)], &[&payer], OracleError::WrongAccountOwner);
    t.ok(&[oracle::init_feed(&blank, &auth.pubkey(), WAD)], &[&payer]);
}

#[test]
fn read_price_rejections() {
    let id = oracle::id();
    assert_eq!(read_price(&feed_data(WAD, 10), &id, 10, 0), Ok(WAD));
    assert_eq!(read_price(&feed_data(WAD, 10), &id, 5, 0), Ok(WAD), "a feed from the future is fresh");
    assert_eq!(read_price(&feed_data(WAD, 10), &id, 60, 50), Ok(WAD), "age == bound is fresh");
    assert_eq!(read_price(&feed_data(WAD, 10), &id, 61, 50), Err(OracleError::StalePrice));
    assert_eq!(read_price(&feed_data(WAD, 0), &id, u64::MAX, u64::MAX - 1), Err(OracleError::StalePrice));
    assert_eq!(read_price(&feed_data(0, 10), &id, 10, 5), Err(OracleError::ZeroPrice));
    assert_eq!(read_price(&feed_data(WAD, 10), &token::id(), 10, 5), Err(OracleError::WrongAccountOwner));
    assert_eq!(read_price(&[0; PriceFeed::LEN], &id, 10, 5), Err(OracleError::NotInitialized));
    assert_eq!(read_price(&[], &id, 10, 5), Err(OracleError::NotInitialized));
    assert_eq!(read_price(&feed_data(WAD, 10)[..20], &id, 10, 5), Err(OracleError::InvalidAccountData));
    let mut wrong_tag = feed_data(WAD, 10);
    wrong_tag[0] = 2;
    assert_eq!(read_price(&wrong_tag, &id, 10, 5), Err(OracleError::InvalidAccountData));
}

#[test]
fn error_codes() {
    let registry = all_programs();
    for (i, &e) in OracleError::ALL.iter().enumerate() {
        assert_eq!(e.code(), i as u32 + 1);
        let ie = InstructionError::from(e);
        assert_eq!(OracleError::from_instruction_error(&ie), Some(e));
        assert_eq!(registry.describe(&ie), format!("oracle: {e}"));
    }
}

#[test]
fn guard_checks_range_and_staleness_read_only() {
    let (payer, auth) = (Keypair::from_index(1), Keypair::from_index(2));
    let mut t = TestChain::new(&[&payer, &auth]);
    let feed = t.new_keypair();
    t.ok(&oracle::create_feed(&payer.pubkey(), &feed.pubkey(), &auth.pubkey(), 2 * WAD), &[&payer, &feed]);
    let feed = feed.pubkey();
    let g = oracle::guard(&feed, WAD, 3 * WAD, 5);
    assert!(!g.accounts[0].is_writable, "a guard only reads the feed");
    t.ok(std::slice::from_ref(&g), &[&payer]);
    // Bounds are inclusive.
    t.ok(&[oracle::guard(&feed, 2 * WAD, 2 * WAD, 5)], &[&payer]);
    t.fails(&[oracle::guard(&feed, 3 * WAD, 4 * WAD, 5)], &[&payer], OracleError::PriceOutOfRange);
    t.fails(&[oracle::guard(&feed, 0, WAD, 5)], &[&payer], OracleError::PriceOutOfRange);
    t.warp_to(t.slot() + 10);
    t.fails(&[g], &[&payer], OracleError::StalePrice);
    let foreign = t.create_raw(&payer, PriceFeed::LEN, &token::id());
    t.fails(&[oracle::guard(&foreign, 0, u128::MAX, 5)], &[&payer], OracleError::WrongAccountOwner);
}
