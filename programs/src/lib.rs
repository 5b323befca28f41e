//! # parex-programs
//!
//! The programs compiled into a parex node, with the client-side
//! instruction builders that produce their access lists:
//!
//! | program | what | state |
//! |---|---|---|
//! | [`token`] | fungible tokens: mints, accounts, mint / transfer / burn | `Mint`, `TokenAccount` |
//! | [`oracle`] | price feeds one authority writes and many programs read | `PriceFeed` |
//! | [`amm`] | constant-product pools with Uniswap V2's math, LP tokens | `Pool` |
//! | [`lending`] | pooled lending, Compound-style borrow index, Aave-style health and liquidation | `Reserve`, `Obligation` |
//! | [`insurance`] | parametric depeg cover sold out of an ERC-4626-style capital pool | `Pool`, `Position`, `Policy` |
//! | [`staking`] | delegated proof of stake: F1 reward index, commission, unbonding, redelegation, slashing | `Config`, `Validator`, `Delegation` |
//! | [`peg`] | a federated two-way peg: M-of-N attested mints, burns queued for payment, a rate limit | `Peg`, `Receipt`, `Withdrawal` |
//! | [`governance`] | token-weighted proposals, votes credited to per-side tallies, timelocked execution | `Dao`, `VoterRecord`, `Proposal`, `Tally`, `VoteRecord` |
//! | [`channels`] | two-party payment channels: states signed off chain, disputes, revocation penalties, HTLCs | `Channel` |
//!
//! The exact semantics of each program (state layouts, instruction encodings
//! and account lists, formulas with their rounding, events, errors, compute
//! costs and invariants with the tests that check them) are written down in
//! `docs/PROGRAMS.md`, to the unit. Each program is a folder whose `mod.rs` opens
//! with its instruction table (accounts W/R/S, failure cases) and its choices;
//! the pure formulas are in [`math`], the error enums are re-exported at the root
//! ([`TokenError`], [`AmmError`], …). The root
//! package's `examples/market.rs` runs token, oracle, amm, lending and insurance through the sequential
//! executor and prints what happened.
//!
//! ## API in one breath
//! [`all_programs`] gives a [`ProgramRegistry`](parex_runtime::ProgramRegistry)
//! holding the system program and every program here, ready for
//! [`Chain::new`](parex_runtime::Chain::new) or a parallel executor. Each program
//! module exposes `id()`, its state types (with `LEN` for account creation) and
//! `read_*` decoders for clients, its instruction enum, its event enum with
//! `decode` for receipts, each instruction's account spec (`<instruction>_accounts`,
//! with its named positions), and one builder function per instruction returning an
//! [`Instruction`](parex_runtime::Instruction) with the exact W/R/S list:
//! ```text
//! let mut ixs = token::create_mint(&payer, &mint, &authority, 6);
//! ixs.extend(token::create_token_account(&payer, &alice_usd, &mint, &alice));
//! ixs.push(token::mint_to(&mint, &alice_usd, &authority, 1_000_000));
//! Transaction::new_signed(&ixs, &[&payer_kp, &mint_kp, &alice_usd_kp, &authority_kp], nonce)
//! ```
//! Programs built on top call the same builders through
//! `ctx.invoke` / `ctx.invoke_signed`, with program-derived addresses as vault
//! owners and mint authorities ([`token::create_pda_token_account`],
//! [`token::create_pda_mint`]; see the [`token`] module docs), and read feeds
//! without calling the oracle ([`oracle::price`]). amm, lending and insurance
//! are built exactly so: their vaults, LP and share mints live at PDAs of the
//! pool or reserve, and lending and insurance read feeds read-only.
//!
//! ## The program SDK
//! The built-in programs are written with a public SDK, so a program outside this
//! crate is written the same way (`examples/counter-program` is one, tested in CI):
//! - [`accounts`]: one `const` account spec per instruction, declared with
//!   [`instruction_accounts!`] (named positions, W/S, credit-only allowed, PDA
//!   seeds), from which the builder takes its metas (`metas`) and the processor its
//!   access-list check (`SPEC.check`, the runtime's own errors, no compute) and its
//!   PDA derivations (`SPEC.derive_in`);
//! - [`state`]: tagged account state ([`AccountState`](state::AccountState)) and the
//!   helpers that read it checking the owner, write it, and check that an account is
//!   new ([`load_owned`](state::load_owned), [`save_state`](state::save_state),
//!   [`require_new_state`](state::require_new_state));
//! - [`program_error!`] for the error enum (stable codes, typed round trip) and
//!   [`StateError`] for state that does not decode;
//! - on the runtime's [`InvokeContext`](parex_runtime::InvokeContext):
//!   `invoke_forward` passes the running instruction's own positions on to a
//!   cross-program call with the privileges it holds (no keys copied out of the
//!   context first; [`token::invoke_transfer_at`] is the token transfer on
//!   positions), and `assign_own_pda` makes a program-derived address the program's
//!   own state account (a system `Assign` signed with its seeds);
//! - `testing::TestChain` (feature `test-utils`) to test it through the real chain.
//!
//! ## Conventions
//! - **Exact integer math**: amounts are `u64`, every intermediate product is
//!   `u128` (256-bit where two `u128` meet) with checked arithmetic, `/` floors,
//!   and rounding favours the protocol. Overflow is a clean typed `MathOverflow`,
//!   never a panic or a wrap.
//! - **Typed errors**: one enum per program (in its folder, re-exported at the crate root), with stable `u32`
//!   codes, converted by `?` into `InstructionError::Custom { program, code }`;
//!   each program's `describe_error` maps the code back to text, and
//!   `from_instruction_error` gives tests and clients the typed value back.
//!   A failure in a cross-program call (a token transfer inside a swap) comes
//!   back as the callee's typed error.
//! - **Tagged state** ([`state`]): account data is `[tag, borsh(state)]`, tag 0
//!   meaning "created but not initialised", so a zeroed account is never valid state
//!   and a mint never reads as a token account. Every state read checks the owner.
//! - **Access lists first, declared once** ([`accounts`]): each instruction's
//!   accounts are one `const` spec (named positions, W/S, credit, PDA seeds) from
//!   which the builder takes its list and the processor its check. The check comes
//!   before any state is read, so a wrong hand-made list fails with the runtime's
//!   `ReadonlyWrite` / `MissingSignature`, never silently and never with a
//!   misleading business error. Processors address accounts by name
//!   (`transfer_accounts::FROM`), never by a bare index.
//! - **Metering**: native programs charge compute units for the work they do
//!   (`ctx.consume`): a fixed decode cost plus a cost per state read and write.
//! - **Failure is atomic**: a failing instruction fails its transaction, and the
//!   runtime rolls back everything but the fee. Programs still validate
//!   everything before their first write, so no caller ever sees a half-applied
//!   instruction.
//!
//! ## Defences against known attacks
//! Each one is kept as a test that failed before the defence existed.
//! - **First-depositor share inflation** (lending, insurance). Share mints and
//!   redemptions floor, so a lone first depositor could loop "deposit the most
//!   that still mints one share, redeem one share", keep every round's rounding,
//!   and grow a share's price ×1.5 a round until a victim's deposit minted one
//!   share for nearly two shares' worth. The first deposit now locks
//!   [`math::DEAD_SHARES`] (1000) shares nobody holds, as the AMM's minimum
//!   liquidity does: they take their part of every rounding gain and donation, so
//!   the loop costs the attacker and a victim loses at most rounding dust.
//!   Dead shares rather than OpenZeppelin's virtual shares and assets: virtual
//!   assets back nothing, so once losses (claims, bad debt) push the share price
//!   below par the last holders would be owed more than the pool holds, and a
//!   decimals offset multiplies share amounts past `u64` for large deposits.
//!   `Deposit` / `DepositCapital` also take `min_shares` and `Redeem` /
//!   `WithdrawCapital` `min_amount`, against any price move between a client's
//!   quote and its transaction.
//! - **Cover bought after the depeg is visible** (insurance). The trigger moves
//!   only when someone sends `UpdateTrigger`, so a buyer who saw the feed below
//!   the trigger first bought cover and started the alarm in one transaction.
//!   `BuyPolicy` now reads the pool's feed (read-only) and refuses while it is
//!   stale, zero or below the trigger price.
//! - **Capital locked by an unclaimed policy** (insurance). An alarm or depeg in
//!   a policy's window blocked its expiry so that nobody could erase a due claim,
//!   and forever if the holder never claimed. Claims now have a window
//!   ([`math::insurance::claim_deadline`]: 30 days from the later of the policy's
//!   end and the earliest final depeg); after it the claim is refused and the
//!   policy expires, freeing its cover.
//! - **Bad debt never written off** (lending). Once a liquidation had seized all
//!   of an obligation's collateral, the debt left stayed in `total_borrows` and
//!   kept accruing interest nobody would pay. It is now written off, protocol
//!   reserves first, then the suppliers through the share price (see
//!   [`lending`], *Liquidation and bad debt*); a liquidation may take the last
//!   unit of collateral (a seizure above the collateral is capped), and only a
//!   liquidation can leave debt without collateral.
//! - **Smaller**: interest accrual over a huge slot gap overflowed and froze the
//!   reserve (one accrual now charges at most a year and saturates, see
//!   [`math::lending`], *Bounds*); minting or burning zero tokens succeeded (now
//!   `ZeroAmount`); insurance reported a zero price as `InvalidOracle` (now
//!   `ZeroPrice`).
//!
//! ## Cost
//! On top of the runtime's 100 units per instruction and 250 per cross-program
//! call, each program charges its `INSTRUCTION_COST` to decode and 25 units per
//! state read and per write (plus the runtime's charge for event bytes):
//! - token `Transfer`: one borsh decode of the instruction, two 73-byte state
//!   decodes and two re-encodes into the accounts' existing buffers, 250 units in
//!   all. Nothing allocates but the instruction's own `Vec`s.
//! - oracle: a price read ([`oracle::price`], `Guard`) is one 57-byte decode and
//!   25 units; `SetPrice` is 200 units in all.
//! - amm `SwapExactIn` / `SwapExactOut`: three state reads (pool, both vaults),
//!   the pricing (`MATH_COST`, a 256-bit multiply-divide), the pool write, the
//!   event and two token transfers: 1,318 units (pinned by a test).
//! - lending and insurance follow the same scheme, plus the oracle's 25 units per
//!   price; lending reads one reserve and one price per entry of the position
//!   tail, so its costs grow with the obligation (at most four collateral and
//!   four borrow entries). A policy purchase is 951 units: 801 for `BuyPolicy`
//!   (three reads, the policy and pool writes, the event, one token transfer) and
//!   150 for the policy account's `CreateAccount` (pinned by a test). The rest are
//!   not pinned; the market example measures about 1,300 units for a lender
//!   deposit, 900 for a borrow and 1,400 for a liquidation on a one-collateral
//!   loan, and 770 for a claim.
//!
//! ## Beyond the minimal account lists
//! `docs/PROGRAMS.md` gives every list in full. Where a list holds more than the
//! accounts its instruction acts on, it is because the runtime or the design
//! needs it; each module's table is the exact list and says why.
//! - **token**: the minimal lists; `Burn` also fails on a mint mismatch and
//!   `InitAccount` on a mint that is not one.
//! - **oracle**: besides `SetPrice`, `InitFeed` creates a feed, and
//!   an extra read-only `Guard{min_price, max_price, max_staleness_slots}` lets a
//!   client make its transaction conditional on a fresh price in range.
//! - **amm**: every instruction adds the pool authority (R), the PDA that owns the
//!   vaults and mints LP and signs the pool's token calls (a cross-program call
//!   may only pass accounts its caller holds); `InitPool` also lists both mints
//!   (R) and the locked-liquidity account `lp_lock` (W), which holds the 1000
//!   minimum-liquidity LP from the start.
//! - **lending**: `Deposit`/`Redeem` take a minimum out (see above) and add the
//!   share mint (W) and the reserve authority (R); `InitReserve` also opens a
//!   collateral vault and the share mint and reads the asset mint;
//!   `WithdrawCollateral`, `Borrow` and `Liquidate` take a position tail of
//!   *every* reserve of the obligation with its oracle (R), since `Borrow` needs
//!   every debt, not only the collateral; `Borrow` also lists the borrowed
//!   reserve's oracle. `Liquidate`'s collateral reserve is read-only (collateral
//!   sits in its own vault, outside `cash`), so liquidations do not serialise
//!   with deposits and borrows of that asset. An extra `InitObligation` opens an
//!   obligation in a market (the admin key that listed the reserves), and an
//!   extra `WriteOffBadDebt` (reserve W, obligation W) writes off the debt of an
//!   obligation left without collateral in the reserves a liquidation only read.
//! - **insurance**: the pool lives at a PDA of its vault, which also owns the
//!   vault, so no list needs an authority account; a capital position lives at
//!   a PDA of `(pool, owner)` opened by the first deposit. `BuyPolicy` also reads
//!   the pool's oracle (R), against cover bought once a depeg is visible.
//!   `Expire` also refuses a policy while the pool's alarm or depeg lies in its
//!   window and its claim window is open, so nobody can erase a claim that is due.
//!
//! ## Adding a program
//! A folder like the others: `mod.rs` with `pub fn id()`, its constants and the module
//! docs; `state.rs` with state types implementing [`AccountState`](state::AccountState)
//! (each with its own non-zero tag) and their readers; `instruction.rs` with the
//! instruction enum, the events, one account spec per instruction
//! ([`instruction_accounts!`]) and one builder per instruction taking its list from
//! the spec; `processor.rs` with the [`Program`](parex_runtime::Program) impl, which
//! checks each instruction's list against the same spec; `error.rs` with its error
//! enum through [`program_error!`] (codes from 1, never reused), re-exported at the
//! crate root. Then one line in [`register_all`]; tests in `tests/` on the
//! `TestChain` harness, which runs signed transactions through
//! `Chain::execute_block` and checks that a failure changes nothing but the fee.
//!
//! ## Files
//! One folder per program (`mod.rs`, `state.rs`, `instruction.rs`, `processor.rs`,
//! `error.rs`): `token/` fungible tokens (mints, accounts, mint/transfer/burn) ·
//! `oracle/` price feeds and the readers' [`oracle::read_price`] ·
//! `amm/` constant-product pools (PDA vaults and LP mint, donations synced) ·
//! `lending/` reserves, obligations, position tails, liquidation ·
//! `insurance/` capital pool, policies, the depeg trigger ·
//! `peg/` federation attestations (on-chain ed25519), receipts, withdrawals, the rate limit.
//! `governance/` DAOs, voter records, proposals and their credited tallies.
//! `channels/` payment channels: both parties' ed25519 signatures on chain, the dispute
//! window, revocation penalties and HTLCs.
//! The SDK: `state.rs` tagged account state · `error.rs` [`program_error!`] and
//! [`StateError`] ·
//! `accounts.rs` the account specs (`instruction_accounts!`) · `registry.rs` [`all_programs`] ·
//! [`math`] pure AMM, lending and insurance formulas (no runtime types) ·
//! `tests/` end-to-end tests through the real runtime (signed transactions,
//! `Chain::execute_block`), per program plus cross-program calls and a token
//! invariant property.
//!
//! ## Out of scope
//! - token: delegates, freezing, authority changes and account closing; rent
//!   (accounts are created with whatever balance the payer gives them).
//! - oracle: aggregation or confidence intervals (a feed is one authority's
//!   price), changing a feed's authority.
//! - amm: the protocol fee, flash swaps, price accumulators (a TWAP oracle) and
//!   routing (a client chains swaps in one transaction); tokens donated to a
//!   vault are synced into the reserves rather than skimmed.
//! - lending: withdrawing protocol reserves, changing a config or an admin,
//!   closing accounts, flash loans, and liquidating dust (with a close factor
//!   below 100% a debt of one unit can never be liquidated).
//! - insurance: closing positions and policies, changing a pool's terms, and
//!   resetting a pool after a final depeg (it stays `Depegged` and sells no more
//!   cover).
//! - governance: cancelling a proposal, changing a DAO's terms, vote delegation,
//!   and actions of more than one instruction.
//! - channels: topping up or withdrawing from an open channel, on-chain checkpoints of
//!   an open channel's state, more than two parties, and watchtowers (a party must
//!   itself answer a revoked state within the dispute window).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod accounts;
pub mod amm;
pub mod channels;
mod error;
pub mod governance;
pub mod insurance;
pub mod lending;
pub mod math;
pub mod oracle;
pub mod peg;
mod registry;
pub mod staking;
pub mod state;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
pub mod token;

#[cfg(test)]
mod tests;

pub use amm::error::AmmError;
pub use channels::error::ChannelError;
pub use error::StateError;
pub use governance::error::GovernanceError;
pub use insurance::error::InsuranceError;
pub use lending::error::LendingError;
pub use oracle::error::OracleError;
pub use peg::error::PegError;
pub use staking::StakingError;
pub use token::error::TokenError;

/// What the exported [`program_error!`] expands to refers to; not an API.
#[doc(hidden)]
pub mod __sdk {
    pub use parex_runtime::{AccountMeta, InstructionError, Pubkey};
}
pub use registry::{all_programs, register_all};
