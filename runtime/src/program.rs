//! The native program runtime: the [`Program`] trait, the registry, and the
//! [`InvokeContext`] through which a program sees and changes accounts.
//!
//! Enforcement happens at the point of access, so a program cannot even
//! express a forbidden change:
//! - only accounts passed to the instruction are reachable (by position);
//! - writing data, debiting or reassigning needs the account writable **and**
//!   owned by the running program; crediting needs it writable or credit-only;
//! - a credit-only account can only be added to: its balance
//!   ([`InvokeContext::credit`]), or its owner's counter
//!   ([`InvokeContext::credit_counter`], by the owner only); reading, debiting or
//!   writing it is [`InstructionError::CreditOnly`], and a credit that fails fails
//!   the transaction even if the program ignores the error;
//! - signer checks read the privileges the transaction (or a PDA signature) granted;
//! - after each instruction frame, the sum of balances over its accounts must be
//!   unchanged (conservation) and data must fit [`MAX_ACCOUNT_DATA`];
//! - a cross-program call may pass only accounts its caller holds, with at most
//!   the caller's privileges, plus signatures for program-derived addresses of
//!   the *calling* program ([`InvokeContext::invoke_signed`]); a failed call fails the
//!   transaction even if the caller ignores the error;
//! - every step charges compute units from the transaction's limit.

use std::sync::Arc;

use borsh::BorshSerialize;
use smallvec::SmallVec;

use crate::error::{InstructionError, RuntimeError};
use crate::event::{Event, EventData, Events};
use crate::message::{AccountMeta, Instruction};
use crate::types::{Account, BlockEnv, Pubkey};

/// The largest account data, in bytes.
pub const MAX_ACCOUNT_DATA: usize = 10 * 1024;
/// How deep cross-program calls may nest (the top-level instruction is depth 1).
pub const MAX_CALL_DEPTH: u8 = 4;
/// Compute units every instruction (top-level or cross-program) costs before the program runs.
pub const INSTRUCTION_BASE_COST: u64 = 100;
/// Extra compute units a cross-program call costs.
pub const CPI_COST: u64 = 250;
/// The most seeds a program-derived address may have, and the longest seed.
pub const MAX_SEEDS: usize = 16;
/// The longest seed of a program-derived address.
pub const MAX_SEED_LEN: usize = 32;

/// A program compiled into the node.
///
/// A program's failure is a value (`Err(InstructionError)`), and the runtime
/// also catches a panic, so a buggy program fails its own transaction only.
pub trait Program: Send + Sync + 'static {
    /// The program's address.
    fn id(&self) -> Pubkey;
    /// A short human-readable name.
    fn name(&self) -> &'static str;
    /// Executes one instruction.
    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError>;
    /// The meaning of one of this program's [`InstructionError::Custom`] codes.
    fn describe_error(&self, _code: u32) -> Option<&'static str> {
        None
    }
    /// Adds `amount` to the counter this program keeps in `account` (which it owns),
    /// for a transaction that holds the account credit-only and so never read it:
    /// [`InvokeContext::credit_counter`]. `expect` is what the crediting instruction
    /// requires of the account (a token program: its mint); the check may read any
    /// field but the counter, since a transaction can change those only by writing
    /// the account, which the schedulers order against credits. The data's length
    /// must not change. The default supports no counter.
    fn apply_credit(
        &self,
        account: &mut Account,
        amount: u64,
        expect: &Pubkey,
    ) -> Result<(), InstructionError> {
        let _ = (account, amount, expect);
        Err(InstructionError::CreditUnsupported)
    }
}

/// The programs a node runs. Looked up by id with a short linear scan: a node
/// has a handful of programs, and a scan over them beats hashing.
#[derive(Clone, Default)]
pub struct ProgramRegistry {
    programs: Vec<(Pubkey, Arc<dyn Program>)>,
}

impl ProgramRegistry {
    /// A registry holding the system program only.
    pub fn new() -> Self {
        let mut r = Self { programs: Vec::new() };
        r.register(Arc::new(crate::system::SystemProgram)).expect("empty registry");
        r
    }

    /// Adds a program; its id must be new.
    pub fn register(&mut self, program: Arc<dyn Program>) -> Result<(), RuntimeError> {
        let id = program.id();
        if self.get(&id).is_some() {
            return Err(RuntimeError::DuplicateProgram(id));
        }
        self.programs.push((id, program));
        Ok(())
    }

    /// The program with `id`.
    pub fn get(&self, id: &Pubkey) -> Option<&Arc<dyn Program>> {
        self.programs.iter().find(|(k, _)| k == id).map(|(_, p)| p)
    }

    /// A readable description of an instruction error, naming a program's own error code.
    pub fn describe(&self, err: &InstructionError) -> String {
        match err {
            InstructionError::Custom { program, code } => match self.get(program) {
                Some(p) => format!("{}: {}", p.name(), p.describe_error(*code).unwrap_or("unknown error")),
                None => err.to_string(),
            },
            other => other.to_string(),
        }
    }
}

impl std::fmt::Debug for ProgramRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.programs.iter().map(|(_, p)| p.name())).finish()
    }
}

/// Per-transaction execution state shared by every instruction frame.
pub(crate) struct TxState<'a> {
    pub(crate) env: &'a BlockEnv,
    pub(crate) registry: &'a ProgramRegistry,
    pub(crate) keys: &'a [Pubkey],
    pub(crate) accounts: &'a mut [Account],
    pub(crate) remaining: u64,
    pub(crate) events: Events,
    /// The first failure that must fail the transaction even if a program ignores the
    /// error: a failed cross-program call (its partial writes are not rolled back on
    /// their own) or compute exhaustion (metering must not be escapable).
    pub(crate) sticky_failure: Option<InstructionError>,
    /// Counter credits to credit-only accounts, applied as the transaction commits.
    pub(crate) credits: crate::executor::CounterCredits,
    /// The top-level instruction running.
    pub(crate) instruction: u8,
}

/// An instruction frame's accounts, inline up to 16 (more spill to the heap).
pub(crate) type Frame = SmallVec<[FrameAccount; 16]>;

/// One account as an instruction frame sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameAccount {
    /// Position in the transaction's account list.
    pub(crate) index: u8,
    pub(crate) is_signer: bool,
    pub(crate) is_writable: bool,
    /// Credit-only: added to, never read (see [`crate::MessageHeader`]).
    pub(crate) is_credit: bool,
}

/// What a running program sees: its instruction's accounts (by position),
/// the block, compute metering, events, and cross-program calls.
pub struct InvokeContext<'t, 'a> {
    tx: &'t mut TxState<'a>,
    program_id: Pubkey,
    frame: Frame,
    depth: u8,
}

impl<'t, 'a> InvokeContext<'t, 'a> {
    /// The running program.
    pub fn program_id(&self) -> &Pubkey {
        &self.program_id
    }

    /// The block being executed (slot, time).
    pub fn env(&self) -> &BlockEnv {
        self.tx.env
    }

    /// How many accounts the instruction passed.
    pub fn num_accounts(&self) -> usize {
        self.frame.len()
    }

    fn frame_account(&self, i: usize) -> Result<FrameAccount, InstructionError> {
        self.frame.get(i).copied().ok_or(InstructionError::NotEnoughAccounts)
    }

    /// Fails unless the instruction passed at least `n` accounts.
    pub fn expect_accounts(&self, n: usize) -> Result<(), InstructionError> {
        if self.frame.len() < n { Err(InstructionError::NotEnoughAccounts) } else { Ok(()) }
    }

    /// The key of account `i`.
    pub fn key(&self, i: usize) -> Result<Pubkey, InstructionError> {
        Ok(self.tx.keys[self.frame_account(i)?.index as usize])
    }

    /// Whether account `i` signed (or was signed for by a calling program).
    pub fn is_signer(&self, i: usize) -> Result<bool, InstructionError> {
        Ok(self.frame_account(i)?.is_signer)
    }

    /// Whether account `i` is writable in this instruction.
    pub fn is_writable(&self, i: usize) -> Result<bool, InstructionError> {
        Ok(self.frame_account(i)?.is_writable)
    }

    /// Account `i`'s key, failing with [`InstructionError::MissingSignature`] unless it signed.
    pub fn signer(&self, i: usize) -> Result<Pubkey, InstructionError> {
        let a = self.frame_account(i)?;
        let key = self.tx.keys[a.index as usize];
        if a.is_signer { Ok(key) } else { Err(InstructionError::MissingSignature(key)) }
    }

    /// Account `i`'s key, failing with [`InstructionError::ReadonlyWrite`] unless it is
    /// writable in this instruction.
    pub fn writable(&self, i: usize) -> Result<Pubkey, InstructionError> {
        let a = self.frame_account(i)?;
        let key = self.tx.keys[a.index as usize];
        if a.is_writable { Ok(key) } else { Err(InstructionError::ReadonlyWrite(key)) }
    }

    /// Whether account `i` is credit-only in this instruction.
    pub fn is_credit(&self, i: usize) -> Result<bool, InstructionError> {
        Ok(self.frame_account(i)?.is_credit)
    }

    /// Account `i`, read-only ([`InstructionError::CreditOnly`] if it is credit-only).
    pub fn account(&self, i: usize) -> Result<&Account, InstructionError> {
        let a = self.frame_account(i)?;
        if a.is_credit {
            return Err(InstructionError::CreditOnly(self.tx.keys[a.index as usize]));
        }
        Ok(&self.tx.accounts[a.index as usize])
    }

    /// Account `i`'s data.
    pub fn data(&self, i: usize) -> Result<&[u8], InstructionError> {
        Ok(&self.account(i)?.data)
    }

    /// Account `i`'s owner.
    pub fn owner(&self, i: usize) -> Result<Pubkey, InstructionError> {
        Ok(self.account(i)?.owner)
    }

    /// Account `i`, for writing by its owner: fails unless it is writable and owned by
    /// the running program.
    fn owned_mut(
        &mut self,
        i: usize,
        err: fn(Pubkey) -> InstructionError,
    ) -> Result<&mut Account, InstructionError> {
        let a = self.frame_account(i)?;
        let key = self.tx.keys[a.index as usize];
        if a.is_credit {
            return Err(InstructionError::CreditOnly(key));
        }
        if !a.is_writable {
            return Err(InstructionError::ReadonlyWrite(key));
        }
        let acc = &mut self.tx.accounts[a.index as usize];
        if acc.owner != self.program_id {
            return Err(err(key));
        }
        Ok(acc)
    }

    /// Account `i`'s data for writing (writable and owned by the running program).
    /// Its final length must stay within [`MAX_ACCOUNT_DATA`].
    pub fn data_mut(&mut self, i: usize) -> Result<&mut Vec<u8>, InstructionError> {
        Ok(&mut self.owned_mut(i, InstructionError::ExternalDataModification)?.data)
    }

    /// Adds `amount` to account `i`'s balance (it must be writable or credit-only).
    /// The native supply is fixed, so a balance cannot overflow; if it did (a genesis
    /// above `u64::MAX` in all), the credit fails the transaction.
    pub fn credit(&mut self, i: usize, amount: u64) -> Result<(), InstructionError> {
        let a = self.frame_account(i)?;
        if !a.is_writable && !a.is_credit {
            return Err(InstructionError::ReadonlyWrite(self.tx.keys[a.index as usize]));
        }
        let acc = &mut self.tx.accounts[a.index as usize];
        let credited = acc.balance.checked_add(amount).ok_or(InstructionError::MathOverflow);
        let result = credited.map(|b| acc.balance = b);
        self.stick_if_credit(a, result)
    }

    /// Adds `amount` to the counter the running program keeps in account `i`, which it
    /// owns and which is writable or credit-only: the program's
    /// [`Program::apply_credit`] checks the account against `expect` and adds. A
    /// credit-only account is never read by the transaction, so many transactions may
    /// credit it at once. A failure fails the transaction even if ignored.
    pub fn credit_counter(&mut self, i: usize, amount: u64, expect: &Pubkey) -> Result<(), InstructionError> {
        let a = self.frame_account(i)?;
        let key = self.tx.keys[a.index as usize];
        if !a.is_writable && !a.is_credit {
            return Err(InstructionError::ReadonlyWrite(key));
        }
        if a.is_credit {
            // Never read by this transaction (it holds a stand-in): checked and added
            // by the owner as the transaction commits.
            let (program, instruction) = (self.program_id, self.tx.instruction);
            let credit = crate::executor::CounterCredit {
                index: a.index,
                amount,
                expect: *expect,
                program,
                instruction,
            };
            self.tx.credits.push(credit);
            return Ok(());
        }
        let acc = &mut self.tx.accounts[a.index as usize];
        apply_counter_credit(self.tx.registry, &self.program_id, key, acc, amount, expect)
    }

    /// A failed credit to a credit-only account fails the transaction even if the
    /// program goes on: the schedulers apply such credits as the transaction ends, where
    /// a failure can only fail it, so executing here must give the same outcome.
    fn stick_if_credit(
        &mut self,
        a: FrameAccount,
        result: Result<(), InstructionError>,
    ) -> Result<(), InstructionError> {
        if let (true, Err(e)) = (a.is_credit, &result) {
            self.tx.sticky_failure.get_or_insert_with(|| e.clone());
        }
        result
    }

    /// Takes `amount` from account `i`'s balance (writable and owned by the running program).
    pub fn debit(&mut self, i: usize, amount: u64) -> Result<(), InstructionError> {
        let acc = self.owned_mut(i, InstructionError::ExternalDebit)?;
        acc.balance = acc.balance.checked_sub(amount).ok_or(InstructionError::InsufficientFunds)?;
        Ok(())
    }

    /// Moves native balance from account `from` (owned by the running program) to `to`.
    pub fn transfer(&mut self, from: usize, to: usize, amount: u64) -> Result<(), InstructionError> {
        self.debit(from, amount)?;
        self.credit(to, amount)
    }

    /// Hands account `i` to `new_owner` (it must be writable and owned by the running program).
    pub fn assign(&mut self, i: usize, new_owner: Pubkey) -> Result<(), InstructionError> {
        self.owned_mut(i, InstructionError::ExternalReassign)?.owner = new_owner;
        Ok(())
    }

    /// Charges `units` compute units; fails the transaction once its limit is spent
    /// (even if the program ignores the error).
    pub fn consume(&mut self, units: u64) -> Result<(), InstructionError> {
        match self.tx.remaining.checked_sub(units) {
            Some(left) => {
                self.tx.remaining = left;
                Ok(())
            }
            None => {
                self.tx.remaining = 0;
                self.tx.sticky_failure.get_or_insert(InstructionError::ComputeExhausted);
                Err(InstructionError::ComputeExhausted)
            }
        }
    }

    /// The running program's address for `seeds`
    /// ([`program_address`](crate::program_address)), from this thread's memo when it
    /// derived the same address before (in this transaction, to sign a call, or in an
    /// earlier one), so a repeated derivation costs no hash.
    pub fn program_address(&mut self, seeds: &[&[u8]]) -> Result<Pubkey, InstructionError> {
        let program_id = self.program_id;
        crate::program_address(seeds, &program_id)
    }

    /// Compute units left in the transaction.
    pub fn remaining_compute(&self) -> u64 {
        self.tx.remaining
    }

    /// Records an event in the receipt (costs one compute unit per 8 bytes).
    pub fn emit<T: BorshSerialize>(&mut self, event: &T) -> Result<(), InstructionError> {
        let mut data = EventData::new();
        event.serialize(&mut data).map_err(|_| InstructionError::InvalidInstructionData)?;
        self.consume(10 + data.len() as u64 / 8)?;
        self.tx.events.push(Event { program: self.program_id, data });
        Ok(())
    }

    /// Calls another program with a subset of this instruction's accounts, never with
    /// more privilege than this instruction holds.
    pub fn invoke(&mut self, ix: &Instruction) -> Result<(), InstructionError> {
        self.invoke_signed(ix, &[])
    }

    /// Like [`invoke`](Self::invoke), and also signs for the running program's
    /// program-derived addresses made from each entry of `signer_seeds`.
    ///
    /// A failed call fails the whole transaction, even if the caller goes on.
    pub fn invoke_signed(
        &mut self,
        ix: &Instruction,
        signer_seeds: &[&[&[u8]]],
    ) -> Result<(), InstructionError> {
        self.invoke_parts(ix.program_id, &ix.accounts, &ix.data, signer_seeds)
    }

    /// [`invoke_signed`](Self::invoke_signed) on an instruction given by its parts,
    /// which the caller may keep on the stack: a call allocates nothing for up to 16
    /// accounts.
    pub fn invoke_parts(
        &mut self,
        program_id: Pubkey,
        accounts: &[AccountMeta],
        data: &[u8],
        signer_seeds: &[&[&[u8]]],
    ) -> Result<(), InstructionError> {
        let result = self
            .enter_call()
            .and_then(|()| self.pda_signers(signer_seeds))
            .and_then(|signers| self.call(program_id, accounts, data, &signers));
        if let Err(e) = &result {
            self.tx.sticky_failure.get_or_insert_with(|| e.clone());
        }
        result
    }

    /// Account `i` as this frame holds it, as a meta to pass on to a cross-program call:
    /// its key, whether it signed, and whether it is writable or credit-only here.
    pub fn account_meta(&self, i: usize) -> Result<AccountMeta, InstructionError> {
        let a = self.frame_account(i)?;
        let pubkey = self.tx.keys[a.index as usize];
        Ok(AccountMeta { pubkey, is_signer: a.is_signer, is_writable: a.is_writable, is_credit: a.is_credit })
    }

    /// Calls `program_id` with this frame's accounts at `positions`, each passed on with
    /// the privileges it holds here ([`account_meta`](Self::account_meta)), and also as a
    /// signer where it is the running program's address for an entry of `signer_seeds`.
    /// The positions replace a hand-built meta list (and the keys read into locals to
    /// build it); up to 16 accounts, nothing is allocated. Otherwise as
    /// [`invoke_signed`](Self::invoke_signed).
    pub fn invoke_forward(
        &mut self,
        program_id: Pubkey,
        positions: &[usize],
        data: &[u8],
        signer_seeds: &[&[&[u8]]],
    ) -> Result<(), InstructionError> {
        let result = self.pda_signers(signer_seeds).and_then(|signers| {
            let metas = self.forwarded_metas(positions, &signers)?;
            self.enter_call()?;
            self.call(program_id, &metas, data, &signers)
        });
        if let Err(e) = &result {
            self.tx.sticky_failure.get_or_insert_with(|| e.clone());
        }
        result
    }

    /// The metas [`invoke_forward`](Self::invoke_forward) passes on, `signers` (the
    /// running program's addresses it signs for) marked as signers.
    fn forwarded_metas(
        &self,
        positions: &[usize],
        signers: &[Pubkey],
    ) -> Result<SmallVec<[AccountMeta; 16]>, InstructionError> {
        positions
            .iter()
            .map(|&i| {
                let mut meta = self.account_meta(i)?;
                meta.is_signer |= signers.contains(&meta.pubkey);
                Ok(meta)
            })
            .collect()
    }

    /// Makes account `i`, the running program's address for `seeds`, the program's own:
    /// a system `Assign` to the running program, signed with `seeds` (one cross-program
    /// call). The program can then write its state there with
    /// [`data_mut`](Self::data_mut), which sizes the data. It needs no payer, and works
    /// even if someone sent the address a balance first (a program-derived address is
    /// predictable, so refusing one would let anyone block it). The account must be
    /// writable, still the system program's, and hold no data.
    pub fn assign_own_pda(&mut self, i: usize, seeds: &[&[u8]]) -> Result<(), InstructionError> {
        let key = self.key(i)?;
        let program_id = self.program_id;
        self.invoke_signed(&crate::system::assign(&key, &program_id), &[seeds])
    }

    /// The caller's privileges for `key`, OR-ed over its occurrences in the caller's
    /// frame (`None` if the frame does not name it). Keys are unique in a
    /// transaction, so once one occurrence is found by key, the others are found by
    /// their index, a byte comparison instead of a 32-byte one.
    fn held(&self, key: &Pubkey) -> Option<FrameAccount> {
        let first = self.frame.iter().position(|fa| self.tx.keys[fa.index as usize] == *key)?;
        let mut held = self.frame[first];
        for fa in self.frame[first + 1..].iter().filter(|fa| fa.index == held.index) {
            held.is_signer |= fa.is_signer;
            held.is_writable |= fa.is_writable;
            held.is_credit &= fa.is_credit;
        }
        Some(held)
    }

    /// The running program's addresses for each entry of `signer_seeds`: the ones a
    /// call signs for.
    fn pda_signers(&self, signer_seeds: &[&[&[u8]]]) -> Result<SmallVec<[Pubkey; 4]>, InstructionError> {
        signer_seeds.iter().map(|seeds| crate::program_address(seeds, &self.program_id)).collect()
    }

    /// Checks that one more call fits under [`MAX_CALL_DEPTH`] and charges [`CPI_COST`].
    fn enter_call(&mut self) -> Result<(), InstructionError> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(InstructionError::CallDepthExceeded(MAX_CALL_DEPTH));
        }
        self.consume(CPI_COST)
    }

    /// Runs `program_id` on `accounts` (each checked against the privileges this frame
    /// holds, `pda_signers` signing besides) after [`enter_call`](Self::enter_call).
    fn call(
        &mut self,
        program_id: Pubkey,
        accounts: &[AccountMeta],
        data: &[u8],
        pda_signers: &[Pubkey],
    ) -> Result<(), InstructionError> {
        let mut frame = Frame::with_capacity(accounts.len());
        for meta in accounts {
            let held = self.held(&meta.pubkey).ok_or(InstructionError::UndeclaredAccount(meta.pubkey))?;
            let can_sign = held.is_signer || pda_signers.contains(&meta.pubkey);
            if (meta.is_writable && !held.is_writable) || (meta.is_signer && !can_sign) {
                return Err(InstructionError::PrivilegeEscalation(meta.pubkey));
            }
            // A credit-only account stays credit-only down the call chain, however the
            // callee's instruction names it: a callee can no more read it than its caller.
            let is_credit = held.is_credit || (meta.is_credit && !meta.is_writable);
            frame.push(FrameAccount {
                index: held.index,
                is_signer: meta.is_signer,
                is_writable: meta.is_writable && !is_credit,
                is_credit,
            });
        }
        run_frame(self.tx, program_id, frame, data, self.depth + 1)
    }
}

/// Applies `program`'s credit of `amount` to the counter of account `key`, whose state
/// is `account`: `program` must own it, and its [`Program::apply_credit`] checks it
/// against `expect` and adds without changing the data's length.
pub(crate) fn apply_counter_credit(
    registry: &ProgramRegistry,
    program: &Pubkey,
    key: Pubkey,
    account: &mut Account,
    amount: u64,
    expect: &Pubkey,
) -> Result<(), InstructionError> {
    if account.owner != *program {
        return Err(InstructionError::ExternalDataModification(key));
    }
    let owner = registry.get(program).ok_or(InstructionError::UnknownProgram(*program))?;
    let len = account.data.len();
    owner.apply_credit(account, amount, expect)?;
    if account.data.len() != len {
        return Err(InstructionError::CreditResized(key));
    }
    Ok(())
}

/// Runs one instruction frame: looks up the program, charges the base cost, runs it,
/// and checks conservation and data size afterwards.
pub(crate) fn run_frame(
    tx: &mut TxState<'_>,
    program_id: Pubkey,
    frame: Frame,
    data: &[u8],
    depth: u8,
) -> Result<(), InstructionError> {
    // A copy of the registry reference: the program's borrow does not hold `tx`.
    let registry = tx.registry;
    let program = registry.get(&program_id).ok_or(InstructionError::UnknownProgram(program_id))?;
    let before = frame_balance(tx, &frame);
    let mut ctx = InvokeContext { tx, program_id, frame, depth };
    ctx.consume(INSTRUCTION_BASE_COST)?;
    program.process(&mut ctx, data)?;
    let InvokeContext { tx, frame, .. } = ctx;
    if let Some(e) = &tx.sticky_failure {
        return Err(e.clone());
    }
    if frame_balance(tx, &frame) != before {
        return Err(InstructionError::UnbalancedInstruction);
    }
    for fa in frame.iter().filter(|fa| fa.is_writable) {
        if tx.accounts[fa.index as usize].data.len() > MAX_ACCOUNT_DATA {
            return Err(InstructionError::AccountDataTooLarge);
        }
    }
    Ok(())
}

/// Sum of balances over the frame's distinct accounts (an instruction may list one twice).
fn frame_balance(tx: &TxState<'_>, frame: &[FrameAccount]) -> u128 {
    let mut seen = 0u64; // tx indices are < 64
    let mut sum = 0u128;
    for fa in frame {
        let bit = 1u64 << fa.index;
        if seen & bit == 0 {
            seen |= bit;
            sum += tx.accounts[fa.index as usize].balance as u128;
        }
    }
    sum
}
