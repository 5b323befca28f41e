//! Executing one transaction: the pure function both the sequential executor
//! and the parallel workers call.
//!
//! [`execute_transaction`] takes the transaction's accounts *by value copy*
//! (in the order of its account keys), runs fee and nonce checks and every
//! instruction, and says which of the copies to write back ([`Commit`]). It
//! touches nothing else: no store, no shared state, no threads. That is what
//! lets a scheduler run it on any thread that holds the right locks, and what
//! makes rollback free: a failed transaction's copies are simply not written
//! back, except the fee payer's (fee charged, nonce bumped).

use std::panic::{AssertUnwindSafe, catch_unwind};

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::{InstructionError, TransactionError};
use crate::event::Events;
use crate::message::SanitizedTransaction;
use crate::program::{Frame, FrameAccount, ProgramRegistry, TxState, run_frame};
use crate::types::{Account, BlockEnv, Pubkey, SYSTEM_PROGRAM_ID};

/// How a transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TxStatus {
    /// Every instruction succeeded; all its writes are committed.
    Success,
    /// Instruction `instruction` failed: only the fee and nonce are committed.
    Failed {
        /// Position of the failing instruction.
        instruction: u8,
        /// Why it failed.
        error: InstructionError,
    },
    /// The transaction is invalid and was not executed: nothing is committed.
    Invalid(TransactionError),
}

/// The outcome of one transaction, in block order in the block's result.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// How it ended.
    pub status: TxStatus,
    /// The fee charged (0 when invalid).
    pub fee: u64,
    /// Compute units used.
    pub compute_used: u64,
    /// Events the programs emitted (empty unless it succeeded).
    pub events: Events,
}

impl Receipt {
    /// The receipt of a transaction that was not executed.
    pub fn invalid(err: TransactionError) -> Self {
        Self { status: TxStatus::Invalid(err), fee: 0, compute_used: 0, events: Events::new() }
    }

    /// Whether the transaction succeeded.
    pub fn is_success(&self) -> bool {
        self.status == TxStatus::Success
    }
}

/// Which of a transaction's account copies the caller writes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Nothing (invalid transaction).
    Nothing,
    /// Only account 0, the fee payer (failed transaction: fee and nonce).
    PayerOnly,
    /// Every writable account (successful transaction).
    Writable,
}

/// The result of [`execute_transaction`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// The receipt.
    pub receipt: Receipt,
    /// What to write back.
    pub commit: Commit,
    /// Counter credits to credit-only accounts, applied as the transaction commits
    /// (empty unless the transaction succeeded).
    pub credits: CounterCredits,
}

/// A program's credit to the counter of a credit-only account, which the transaction
/// never read: [`InvokeContext::credit_counter`](crate::InvokeContext::credit_counter)
/// records it, the caller applies it (the owner's
/// [`Program::apply_credit`](crate::Program::apply_credit)) when the transaction
/// commits, and a failure there fails the transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterCredit {
    /// Position of the account among the transaction's keys.
    pub index: u8,
    /// Amount added.
    pub amount: u64,
    /// What the crediting program requires of the account.
    pub expect: Pubkey,
    /// The crediting program: it must own the account.
    pub program: Pubkey,
    /// The top-level instruction that asked for it (for the receipt of a failure).
    pub instruction: u8,
}

/// A transaction's counter credits (inline up to one).
pub type CounterCredits = smallvec::SmallVec<[CounterCredit; 1]>;

/// Executes `tx` (already sanitised and signature-verified) on `accounts`, the current
/// states of its account keys in key order, leaving in `accounts` the states to write
/// back as [`TxOutcome::commit`] says.
///
/// # Panics
/// If `accounts.len()` differs from the number of account keys (a caller bug).
pub fn execute_transaction(
    env: &BlockEnv,
    registry: &ProgramRegistry,
    tx: &SanitizedTransaction,
    accounts: &mut [Account],
) -> TxOutcome {
    let msg = &tx.message;
    assert_eq!(accounts.len(), msg.account_keys.len(), "one account state per key");
    let invalid = |e| TxOutcome {
        receipt: Receipt::invalid(e),
        commit: Commit::Nothing,
        credits: CounterCredits::new(),
    };

    // Fee payer checks: validity, not execution, so failures charge nothing.
    let fee = match check_fee_payer(&accounts[0], tx) {
        Ok(fee) => fee,
        Err(e) => return invalid(e),
    };
    accounts[0].balance -= fee;
    accounts[0].nonce += 1;
    // Instructions may change the payer too; keep its post-fee state for a rollback.
    let payer_after_fee = accounts[0].clone();

    let limit = msg.compute_unit_limit as u64;
    let mut state = TxState {
        env,
        registry,
        keys: &msg.account_keys,
        accounts,
        remaining: limit,
        events: Events::new(),
        sticky_failure: None,
        credits: CounterCredits::new(),
        instruction: 0,
    };
    let mut failure = None;
    for (i, ix) in msg.instructions.iter().enumerate() {
        state.instruction = i as u8;
        let frame = ix
            .accounts
            .iter()
            .map(|&a| FrameAccount {
                index: a,
                is_signer: msg.is_signer(a as usize),
                is_writable: msg.is_writable(a as usize),
                is_credit: msg.is_credit(a as usize),
            })
            .collect::<Frame>();
        let result =
            catch_unwind(AssertUnwindSafe(|| run_frame(&mut state, ix.program_id, frame, &ix.data, 1)))
                .unwrap_or_else(|panic| Err(InstructionError::ProgramPanicked(caught_panic_message(panic))));
        if let Err(error) = result {
            failure = Some((i as u8, error));
            break;
        }
    }
    let compute_used = limit - state.remaining;
    let events = std::mem::take(&mut state.events);
    let credits = std::mem::take(&mut state.credits);
    match failure {
        None => TxOutcome {
            receipt: Receipt { status: TxStatus::Success, fee, compute_used, events },
            commit: Commit::Writable,
            credits,
        },
        Some((instruction, error)) => {
            accounts[0] = payer_after_fee;
            TxOutcome {
                receipt: Receipt {
                    status: TxStatus::Failed { instruction, error },
                    fee,
                    compute_used,
                    events: Events::new(),
                },
                commit: Commit::PayerOnly,
                credits: CounterCredits::new(),
            }
        }
    }
}

/// The validity checks of `tx`'s fee payer, whose state is `payer`: a system-owned
/// account, the transaction's nonce equal to the account's (lower: `Replayed`,
/// higher: `NonceTooHigh`), a nonce left to bump, and the balance for the fee, which
/// it returns. A transaction that fails them is `Invalid` and charges nothing; a
/// mempool runs the same checks at admission (accepting a higher nonce, which a later
/// block may reach).
pub fn check_fee_payer(payer: &Account, tx: &SanitizedTransaction) -> Result<u64, TransactionError> {
    if payer.owner != SYSTEM_PROGRAM_ID {
        return Err(TransactionError::InvalidFeePayer);
    }
    let (expected, got) = (payer.nonce, tx.message.nonce);
    if got < expected {
        return Err(TransactionError::Replayed { expected, got });
    }
    if got > expected {
        return Err(TransactionError::NonceTooHigh { expected, got });
    }
    if payer.nonce == u64::MAX {
        return Err(TransactionError::NonceExhausted);
    }
    let fee = tx.fee().ok_or(TransactionError::FeeOverflow)?;
    if payer.balance < fee {
        return Err(TransactionError::InsufficientFundsForFee { balance: payer.balance, fee });
    }
    Ok(fee)
}

/// The text of a caught panic (cut to 200 bytes), disposing of the payload without
/// letting its own `Drop` unwind: a program can panic with any value, including one whose
/// drop panics, and that second panic must not escape the executor that caught the first.
pub fn caught_panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = panic_message(&*payload);
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        // The second payload could panic on drop as well: leaking it ends the chain.
        std::mem::forget(again);
    }
    message
}

/// The text of a caught panic, cut to 200 bytes so receipts stay small.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_string());
    let mut end = msg.len().min(200);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    msg[..end].to_string()
}
