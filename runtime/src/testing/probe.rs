//! The probe program: one instruction per misbehaviour a program can attempt.
//!
//! Account operands are positions in the instruction. Each [`Probe`] has its own id,
//! so a test can register two distinct probes (cross-program calls between them).

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{Account, AccountMeta, Instruction, InstructionError, InvokeContext, Program, Pubkey};

/// Compute units one [`ProbeOp::Burn`] round charges.
pub const BURN_STEP: u64 = 1_000;
/// The custom error code [`Probe::describe_error`] knows.
pub const DESCRIBED_CODE: u32 = 7;

/// An account passed to a cross-program call, by key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CpiAccount {
    /// Its address.
    pub key: Pubkey,
    /// Whether the call passes it as a signer.
    pub signer: bool,
    /// Whether the call passes it writable.
    pub writable: bool,
}

impl CpiAccount {
    /// An account of a cross-program call.
    pub fn new(key: Pubkey, signer: bool, writable: bool) -> Self {
        Self { key, signer, writable }
    }
}

/// What a probe instruction does.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum ProbeOp {
    /// Nothing.
    Noop,
    /// Replaces the account's data.
    SetData {
        /// Position of the account.
        account: u8,
        /// The new data.
        data: Vec<u8>,
    },
    /// Resizes the account's data (zero-filled).
    Grow {
        /// Position of the account.
        account: u8,
        /// The new length.
        len: u32,
    },
    /// Adds to the balance, taking it from nowhere.
    Credit {
        /// Position of the account.
        account: u8,
        /// Lamports added.
        amount: u64,
    },
    /// Takes from the balance, giving it to nobody.
    Debit {
        /// Position of the account.
        account: u8,
        /// Lamports taken.
        amount: u64,
    },
    /// Moves balance between two accounts.
    Transfer {
        /// Position of the debited account.
        from: u8,
        /// Position of the credited account.
        to: u8,
        /// Lamports moved.
        amount: u64,
    },
    /// Hands the account to another owner.
    Assign {
        /// Position of the account.
        account: u8,
        /// The new owner.
        owner: Pubkey,
    },
    /// Reads the account (fails if the instruction did not pass it).
    Read {
        /// Position of the account.
        account: u8,
    },
    /// A cross-program call, signing for the probe's program-derived addresses of `seeds`.
    Invoke {
        /// The program called.
        program: Pubkey,
        /// Its accounts, with the privileges asked for.
        accounts: Vec<CpiAccount>,
        /// Its instruction data.
        data: Vec<u8>,
        /// Seed sets of the addresses the probe signs for.
        seeds: Vec<Vec<Vec<u8>>>,
    },
    /// Calls itself `levels` more times with its own accounts and privileges.
    Recurse {
        /// Calls still to make.
        levels: u8,
    },
    /// Panics with `message`.
    Panic {
        /// The panic message.
        message: String,
    },
    /// Panics with a non-string payload.
    PanicWithNumber,
    /// Panics with a payload whose own `Drop` panics.
    PanicWithExplodingPayload,
    /// Charges [`BURN_STEP`] units in a loop until the limit is spent.
    Burn,
    /// Charges compute until exhausted, swallows the error and reports success.
    BurnAndLie,
    /// Adds to the counter the probe keeps in an account it owns: the first 8 data
    /// bytes, little-endian, when the account's next 32 bytes equal `expect`.
    CreditCounter {
        /// Position of the account.
        account: u8,
        /// Amount added.
        amount: u64,
        /// What the account's bytes 8..40 must hold.
        expect: Pubkey,
    },
    /// Emits `data` as an event.
    Emit {
        /// The event's data.
        data: Vec<u8>,
    },
    /// Fails with the custom error `code`.
    Fail {
        /// The error code.
        code: u32,
    },
    /// Runs every op in order, stopping at the first error.
    Batch(Vec<ProbeOp>),
    /// Runs the op and ignores its error (a careless or lying caller).
    Ignore(Box<ProbeOp>),
}

/// A panic payload that panics again when dropped.
pub struct ExplodingPayload;

impl Drop for ExplodingPayload {
    fn drop(&mut self) {
        panic!("the panic payload's drop panics");
    }
}

/// The probe program, under the id of its choice.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    id: Pubkey,
}

impl Probe {
    /// A probe with id `id`.
    pub fn new(id: Pubkey) -> Self {
        Self { id }
    }
}

impl Program for Probe {
    fn id(&self) -> Pubkey {
        self.id
    }

    fn name(&self) -> &'static str {
        "probe"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        let op = ProbeOp::try_from_slice(data).map_err(|_| InstructionError::InvalidInstructionData)?;
        run_op(ctx, op)
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        (code == DESCRIBED_CODE).then_some("seven")
    }

    fn apply_credit(
        &self,
        account: &mut Account,
        amount: u64,
        expect: &Pubkey,
    ) -> Result<(), InstructionError> {
        let data = &mut account.data;
        if data.len() < 40 || data[8..40] != expect.0 {
            return Err(InstructionError::Custom { program: self.id, code: DESCRIBED_CODE });
        }
        let counter = u64::from_le_bytes(data[..8].try_into().expect("8 bytes"));
        let counter = counter.checked_add(amount).ok_or(InstructionError::MathOverflow)?;
        data[..8].copy_from_slice(&counter.to_le_bytes());
        Ok(())
    }
}

fn run_op(ctx: &mut InvokeContext<'_, '_>, op: ProbeOp) -> Result<(), InstructionError> {
    match op {
        ProbeOp::Noop => Ok(()),
        ProbeOp::SetData { account, data } => {
            *ctx.data_mut(account.into())? = data;
            Ok(())
        }
        ProbeOp::Grow { account, len } => {
            ctx.data_mut(account.into())?.resize(len as usize, 0);
            Ok(())
        }
        ProbeOp::Credit { account, amount } => ctx.credit(account.into(), amount),
        ProbeOp::Debit { account, amount } => ctx.debit(account.into(), amount),
        ProbeOp::Transfer { from, to, amount } => ctx.transfer(from.into(), to.into(), amount),
        ProbeOp::Assign { account, owner } => ctx.assign(account.into(), owner),
        ProbeOp::Read { account } => ctx.account(account.into()).map(|_| ()),
        ProbeOp::Invoke { program, accounts, data, seeds } => invoke(ctx, program, accounts, data, &seeds),
        ProbeOp::Recurse { levels } => recurse(ctx, levels),
        ProbeOp::Panic { message } => panic!("{message}"),
        ProbeOp::PanicWithNumber => std::panic::panic_any(42u32),
        ProbeOp::PanicWithExplodingPayload => std::panic::panic_any(ExplodingPayload),
        ProbeOp::Burn => loop {
            ctx.consume(BURN_STEP)?;
        },
        ProbeOp::BurnAndLie => {
            while ctx.consume(BURN_STEP).is_ok() {}
            Ok(())
        }
        ProbeOp::CreditCounter { account, amount, expect } => {
            ctx.credit_counter(account.into(), amount, &expect)
        }
        ProbeOp::Emit { data } => ctx.emit(&data),
        ProbeOp::Fail { code } => Err(InstructionError::Custom { program: *ctx.program_id(), code }),
        ProbeOp::Batch(ops) => ops.into_iter().try_for_each(|op| run_op(ctx, op)),
        ProbeOp::Ignore(op) => {
            let _ignored = run_op(ctx, *op);
            Ok(())
        }
    }
}

fn invoke(
    ctx: &mut InvokeContext<'_, '_>,
    program: Pubkey,
    accounts: Vec<CpiAccount>,
    data: Vec<u8>,
    seeds: &[Vec<Vec<u8>>],
) -> Result<(), InstructionError> {
    let accounts = accounts
        .iter()
        .map(|a| AccountMeta {
            pubkey: a.key,
            is_signer: a.signer,
            is_writable: a.writable,
            is_credit: false,
        })
        .collect();
    let seeds: Vec<Vec<&[u8]>> = seeds.iter().map(|set| set.iter().map(Vec::as_slice).collect()).collect();
    let seeds: Vec<&[&[u8]]> = seeds.iter().map(Vec::as_slice).collect();
    ctx.invoke_signed(&Instruction { program_id: program, accounts, data }, &seeds)
}

fn recurse(ctx: &mut InvokeContext<'_, '_>, levels: u8) -> Result<(), InstructionError> {
    if levels == 0 {
        return Ok(());
    }
    let mut accounts = Vec::with_capacity(ctx.num_accounts());
    for i in 0..ctx.num_accounts() {
        accounts.push(AccountMeta {
            pubkey: ctx.key(i)?,
            is_signer: ctx.is_signer(i)?,
            is_writable: ctx.is_writable(i)?,
            is_credit: ctx.is_credit(i)?,
        });
    }
    let program = *ctx.program_id();
    ctx.invoke(&Instruction::new_borsh(program, &ProbeOp::Recurse { levels: levels - 1 }, accounts))
}

/// An instruction of the probe `program`.
pub fn probe_ix(program: Pubkey, op: &ProbeOp, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_borsh(program, op, accounts)
}

/// A probe op that calls `ix`'s program with its accounts and data, signing for the
/// probe's addresses of `seeds`.
pub fn invoke_op(ix: &Instruction, seeds: &[&[&[u8]]]) -> ProbeOp {
    ProbeOp::Invoke {
        program: ix.program_id,
        accounts: ix.accounts.iter().map(|m| CpiAccount::new(m.pubkey, m.is_signer, m.is_writable)).collect(),
        data: ix.data.clone(),
        seeds: seeds.iter().map(|set| set.iter().map(|s| s.to_vec()).collect()).collect(),
    }
}
