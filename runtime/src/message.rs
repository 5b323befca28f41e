//! The wire format: a Solana-style signed message, borsh-encoded.
//!
//! ```text
//! Transaction = signatures: Vec<Signature>  (u32 length + 64 bytes each)
//!               message:    Message          (the signed bytes: everything after the signatures)
//! Message     = header { num_required_signatures, num_readonly_signed, num_readonly_unsigned,
//!                        num_credit_only }
//!               account_keys: Vec<Pubkey>    (fee payer first; signers first, then writable,
//!                                             credit-only and read-only non-signers)
//!               nonce: u64                   (the fee payer's replay-protection counter)
//!               compute_unit_limit: u32, compute_unit_price: u64 (micro-units per CU)
//!               instructions: Vec<{ program_id, accounts: Vec<u8> (indices), data: Vec<u8> }>
//! ```
//!
//! Decoding is strict: at most [`MAX_TRANSACTION_SIZE`] bytes, every field
//! must decode, no trailing bytes, and [`SanitizedTransaction::decode`] checks
//! every structural rule (counts, duplicates, index ranges) with its own
//! [`DecodeError`]. The bytes are read by a hand-written reader (`wire.rs`) that
//! accepts exactly what borsh accepts, sizes each vector once from the bytes
//! left, and is held to borsh by a differential property test. Programs are
//! named by id, not by account index, so program ids never enter the lock set.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;

use crate::error::DecodeError;
use crate::keys::Keypair;
use crate::types::{Pubkey, Signature};

/// The largest transaction accepted on the wire (an IPv6 MTU minus headers, as in Solana).
pub const MAX_TRANSACTION_SIZE: usize = 1232;
/// The most account keys a message may list.
pub const MAX_ACCOUNTS: usize = 64;
/// The most instructions a message may carry.
pub const MAX_INSTRUCTIONS: usize = 64;
/// The highest compute-unit limit a transaction may ask for.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;
/// The compute-unit limit builders use unless told otherwise.
pub const DEFAULT_COMPUTE_UNIT_LIMIT: u32 = 200_000;

/// Tells signers, writable, credit-only and read-only accounts apart in `account_keys`:
/// `[writable signers | read-only signers | writable non-signers | credit-only non-signers
/// | read-only non-signers]`.
///
/// A **credit-only** account may only be added to: its native balance, or the counter
/// its owner program declares ([`Program::apply_credit`](crate::Program::apply_credit));
/// the transaction can neither read nor debit it. Credits commute, so the schedulers
/// may run the transactions that credit one account at the same time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MessageHeader {
    /// The first this-many keys must sign; the first of them pays the fee.
    pub num_required_signatures: u8,
    /// The last this-many signers are read-only.
    pub num_readonly_signed: u8,
    /// The last this-many non-signers are read-only.
    pub num_readonly_unsigned: u8,
    /// The this-many non-signers before the read-only ones are credit-only.
    pub num_credit_only: u8,
}

/// One instruction as it travels: a program and indices into the message's accounts.
///
/// Privileges are per transaction, as in Solana: an account is writable (or a signer)
/// for every instruction if the message marks it so, whatever one instruction asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CompiledInstruction {
    /// The program to run.
    pub program_id: Pubkey,
    /// Indices into [`Message::account_keys`], in the order the program expects.
    pub accounts: Vec<u8>,
    /// Program-defined input.
    pub data: Vec<u8>,
}

/// The signed part of a transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Message {
    /// Signer / writable layout of `account_keys`.
    pub header: MessageHeader,
    /// Every account the transaction touches, fee payer first, no duplicates.
    pub account_keys: Vec<Pubkey>,
    /// Must equal the fee payer's nonce; replay protection.
    pub nonce: u64,
    /// Compute units the transaction may use.
    pub compute_unit_limit: u32,
    /// Priority price in micro-units of balance per compute unit.
    pub compute_unit_price: u64,
    /// What to run, in order.
    pub instructions: Vec<CompiledInstruction>,
}

/// An account an [`Instruction`] needs, with the privileges it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountMeta {
    /// The account.
    pub pubkey: Pubkey,
    /// Whether it must sign.
    pub is_signer: bool,
    /// Whether the instruction writes it.
    pub is_writable: bool,
    /// Whether the instruction only adds to it (see [`MessageHeader`]); meaningful only
    /// for a non-signer that is not writable.
    pub is_credit: bool,
}

impl AccountMeta {
    /// A writable account.
    pub fn writable(pubkey: Pubkey, is_signer: bool) -> Self {
        Self { pubkey, is_signer, is_writable: true, is_credit: false }
    }

    /// A read-only account.
    pub fn readonly(pubkey: Pubkey, is_signer: bool) -> Self {
        Self { pubkey, is_signer, is_writable: false, is_credit: false }
    }

    /// A credit-only account: the instruction only adds to it, never reads it.
    pub fn credit(pubkey: Pubkey) -> Self {
        Self { pubkey, is_signer: false, is_writable: false, is_credit: true }
    }
}

/// A client-side instruction with its access list, before it is compiled into a message.
/// Program crates provide builders that return these with the exact W/R/S list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The program to run.
    pub program_id: Pubkey,
    /// The accounts, in the order the program expects, with privileges.
    pub accounts: Vec<AccountMeta>,
    /// Program-defined input.
    pub data: Vec<u8>,
}

impl Instruction {
    /// An instruction whose data is the borsh encoding of `data`.
    pub fn new_borsh<T: BorshSerialize>(program_id: Pubkey, data: &T, accounts: Vec<AccountMeta>) -> Self {
        let data = borsh::to_vec(data).expect("borsh encoding into a Vec cannot fail");
        Self { program_id, accounts, data }
    }
}

impl Message {
    /// Compiles instructions into a message: merges duplicate accounts (privileges are
    /// OR-ed), puts the fee payer first and orders the keys as the header requires.
    ///
    /// An account only credited is credit-only. One that is also read, or signs, becomes
    /// writable: reading it, or its signature, would otherwise see a value other
    /// transactions' credits change concurrently.
    pub fn new(instructions: &[Instruction], payer: &Pubkey, nonce: u64) -> Self {
        // (key, access) in first-seen order, payer first.
        let mut metas: Vec<(Pubkey, KeyAccess)> = vec![(*payer, KeyAccess::payer())];
        for ix in instructions {
            for m in &ix.accounts {
                match metas.iter_mut().find(|(k, _)| *k == m.pubkey) {
                    Some(e) => e.1.merge(m),
                    None => metas.push((m.pubkey, KeyAccess::of(m))),
                }
            }
        }
        // Stable sort keeps the payer first among writable signers.
        metas.sort_by_key(|m| m.1.class());
        let count = |c| metas.iter().filter(|m| m.1.class() == c).count() as u8;
        let header = MessageHeader {
            num_required_signatures: count(0) + count(1),
            num_readonly_signed: count(1),
            num_readonly_unsigned: count(4),
            num_credit_only: count(3),
        };
        let account_keys: Vec<Pubkey> = metas.iter().map(|m| m.0).collect();
        let index_of = |k: &Pubkey| account_keys.iter().position(|x| x == k).unwrap() as u8;
        let instructions = instructions
            .iter()
            .map(|ix| CompiledInstruction {
                program_id: ix.program_id,
                accounts: ix.accounts.iter().map(|m| index_of(&m.pubkey)).collect(),
                data: ix.data.clone(),
            })
            .collect();
        Self {
            header,
            account_keys,
            nonce,
            compute_unit_limit: DEFAULT_COMPUTE_UNIT_LIMIT,
            compute_unit_price: 0,
            instructions,
        }
    }

    /// Sets the compute budget.
    pub fn with_compute_budget(mut self, limit: u32, price: u64) -> Self {
        self.compute_unit_limit = limit;
        self.compute_unit_price = price;
        self
    }

    /// The bytes signatures cover.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }

    /// Whether key `i` must sign.
    pub fn is_signer(&self, i: usize) -> bool {
        i < self.header.num_required_signatures as usize
    }

    /// Whether key `i` is writable.
    pub fn is_writable(&self, i: usize) -> bool {
        let h = &self.header;
        let signers = h.num_required_signatures as usize;
        if i < signers {
            i < signers - h.num_readonly_signed as usize
        } else {
            i < self.account_keys.len() - h.num_readonly_unsigned as usize - h.num_credit_only as usize
        }
    }

    /// Whether the schedulers hold key `i` exclusively: writable, or credit-only
    /// (credits are ordered like writes for now; they commute, so a scheduler may
    /// later let them share).
    pub fn locks_exclusive(&self, i: usize) -> bool {
        self.is_writable(i) || self.is_credit(i)
    }

    /// The credit-only keys as a bit mask (bit `i` for key `i`; keys are at most
    /// [`MAX_ACCOUNTS`] = 64): the contiguous run the header counts.
    pub fn credit_mask(&self) -> u64 {
        let keys = self.credit_keys();
        (keys.start..keys.end.min(64)).fold(0, |mask, i| mask | 1 << i)
    }

    /// Whether key `i` is credit-only (see [`MessageHeader`]).
    pub fn is_credit(&self, i: usize) -> bool {
        self.credit_keys().contains(&i)
    }

    /// The positions of the credit-only keys: the run just before the read-only
    /// non-signers, never reaching into the signers.
    fn credit_keys(&self) -> std::ops::Range<usize> {
        let h = &self.header;
        let end = self.account_keys.len().saturating_sub(h.num_readonly_unsigned as usize);
        let start = end.saturating_sub(h.num_credit_only as usize).max(h.num_required_signatures as usize);
        start..end.max(start)
    }

    /// Checks every structural rule. Crate-visible so that unit tests reach the count
    /// limits, which the wire size limit makes unreachable from bytes.
    pub(crate) fn sanitize(&self) -> Result<(), DecodeError> {
        let h = &self.header;
        let n = self.account_keys.len();
        if n > MAX_ACCOUNTS {
            return Err(DecodeError::TooManyAccounts(n as u32));
        }
        if h.num_required_signatures == 0 {
            return Err(DecodeError::MissingFeePayer);
        }
        let signers = h.num_required_signatures as usize;
        // The payer (key 0) must be a writable signer, and the read-only counts must fit.
        if signers > n
            || h.num_readonly_signed >= h.num_required_signatures
            || h.num_readonly_unsigned as usize + h.num_credit_only as usize > n - signers
        {
            return Err(DecodeError::InvalidHeader);
        }
        if self.instructions.len() > MAX_INSTRUCTIONS {
            return Err(DecodeError::TooManyInstructions(self.instructions.len() as u32));
        }
        if self.compute_unit_limit > MAX_COMPUTE_UNIT_LIMIT {
            return Err(DecodeError::ComputeLimitTooHigh(self.compute_unit_limit));
        }
        // n ≤ 64: a quadratic scan beats hashing here.
        for (i, k) in self.account_keys.iter().enumerate() {
            if self.account_keys[..i].contains(k) {
                return Err(DecodeError::DuplicateAccount(*k));
            }
        }
        for (ii, ix) in self.instructions.iter().enumerate() {
            if let Some(&bad) = ix.accounts.iter().find(|&&a| a as usize >= n) {
                return Err(DecodeError::AccountIndexOutOfRange { instruction: ii as u8, index: bad });
            }
        }
        Ok(())
    }
}

/// How a message uses one key, merged over its instructions.
#[derive(Clone, Copy)]
struct KeyAccess {
    signer: bool,
    writable: bool,
    credit: bool,
    read: bool,
}

impl KeyAccess {
    fn payer() -> Self {
        Self { signer: true, writable: true, credit: false, read: false }
    }

    fn of(m: &AccountMeta) -> Self {
        let credit = m.is_credit && !m.is_writable;
        Self { signer: m.is_signer, writable: m.is_writable, credit, read: !m.is_writable && !credit }
    }

    fn merge(&mut self, m: &AccountMeta) {
        let other = Self::of(m);
        self.signer |= other.signer;
        self.writable |= other.writable;
        self.credit |= other.credit;
        self.read |= other.read;
    }

    /// Position class in `account_keys`: writable signers, read-only signers, writable,
    /// credit-only, read-only.
    fn class(&self) -> u8 {
        // Credit-only needs no other use of the key: a signer or a reader of it is writable.
        let writable = self.writable || (self.credit && (self.signer || self.read));
        match (self.signer, writable, self.credit) {
            (true, true, _) => 0,
            (true, false, _) => 1,
            (false, true, _) => 2,
            (false, false, true) => 3,
            (false, false, false) => 4,
        }
    }
}

/// A transaction as it travels: signatures over a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    /// One per required signer, in key order.
    pub signatures: Vec<Signature>,
    /// The signed message.
    pub message: Message,
}

impl Transaction {
    /// Signs `message` with `signers`, which must be exactly the message's required
    /// signers in key order.
    ///
    /// # Panics
    /// If the signers do not match the message's signer keys (a client bug).
    pub fn sign(message: Message, signers: &[&Keypair]) -> Self {
        let n = message.header.num_required_signatures as usize;
        let bytes = message.to_bytes();
        let signatures = message.account_keys[..n]
            .iter()
            .map(|k| {
                let kp = signers
                    .iter()
                    .find(|s| s.pubkey() == *k)
                    .unwrap_or_else(|| panic!("no keypair given for signer {k}"));
                kp.sign(&bytes)
            })
            .collect();
        Self { signatures, message }
    }

    /// Builds and signs a transaction from instructions; `signers[0]` pays the fee.
    pub fn new_signed(instructions: &[Instruction], signers: &[&Keypair], nonce: u64) -> Self {
        let message = Message::new(instructions, &signers[0].pubkey(), nonce);
        Self::sign(message, signers)
    }

    /// The wire encoding.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail"))
    }
}

/// A decoded, structurally valid transaction (signatures not yet verified).
///
/// Its fields are private so that every value satisfies the rules [`decode`](Self::decode)
/// checks (at most [`MAX_ACCOUNTS`] distinct keys, a writable signing fee payer, indices in
/// range, one signature per signer, the exact signed bytes): the executors rely on them,
/// e.g. on distinct keys to lock each account once. Build one with [`decode`](Self::decode),
/// [`from_transaction`](Self::from_transaction) or [`new`](Self::new).
///
/// ```
/// use parex_runtime::{DecodeError, Keypair, Message, SanitizedTransaction, Transaction, system};
///
/// let payer = Keypair::from_index(1);
/// let to = Keypair::from_index(2).pubkey();
/// let mut message = Message::new(&[system::transfer(&payer.pubkey(), &to, 5)], &payer.pubkey(), 0);
/// let tx = Transaction::sign(message.clone(), &[&payer]);
/// assert!(SanitizedTransaction::new(tx.signatures.clone(), message.clone()).is_ok());
/// // The same key twice is refused with the rule it breaks.
/// message.account_keys[1] = payer.pubkey();
/// let refused = SanitizedTransaction::new(tx.signatures, message);
/// assert_eq!(refused, Err(DecodeError::DuplicateAccount(payer.pubkey())));
/// ```
///
/// Its fields cannot be set from outside the runtime:
///
/// ```compile_fail
/// use parex_runtime::{Message, SanitizedTransaction};
///
/// let unchecked = SanitizedTransaction {
///     signatures: Vec::new(),
///     message: Message::default(),
///     message_bytes: Default::default(),
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SanitizedTransaction {
    // Crate-visible: the runtime reads them on its hot paths; only this file builds them.
    pub(crate) signatures: Vec<Signature>,
    pub(crate) message: Message,
    /// The exact signed bytes (a zero-copy slice of the wire bytes).
    pub(crate) message_bytes: Bytes,
}

impl SanitizedTransaction {
    /// Strictly decodes and sanitises wire bytes.
    pub fn decode(bytes: &Bytes) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TRANSACTION_SIZE {
            return Err(DecodeError::TooLarge { len: bytes.len() as u32, max: MAX_TRANSACTION_SIZE as u32 });
        }
        let (tx, left) = crate::wire::read_transaction(bytes)?;
        if left > 0 {
            return Err(DecodeError::TrailingBytes(left as u32));
        }
        tx.message.sanitize()?;
        let expected = tx.message.header.num_required_signatures;
        if tx.signatures.len() != expected as usize {
            return Err(DecodeError::SignatureCountMismatch { expected, got: tx.signatures.len() as u32 });
        }
        // Strict decoding makes the encoding canonical, so the message is exactly
        // what follows the signature vector.
        let start = 4 + 64 * tx.signatures.len();
        Ok(Self { signatures: tx.signatures, message: tx.message, message_bytes: bytes.slice(start..) })
    }

    /// Sanitises an in-memory transaction: it is encoded (which gives the exact signed
    /// bytes) and the encoding decoded, so it is accepted or refused exactly as the same
    /// transaction arriving on the wire, with the same [`DecodeError`] (65 accounts do not
    /// fit [`MAX_TRANSACTION_SIZE`]: `TooLarge`).
    pub fn new(signatures: Vec<Signature>, message: Message) -> Result<Self, DecodeError> {
        Self::decode(&Transaction { signatures, message }.to_bytes())
    }

    /// Sanitises an in-memory transaction; see [`new`](Self::new).
    pub fn from_transaction(tx: Transaction) -> Result<Self, DecodeError> {
        Self::new(tx.signatures, tx.message)
    }

    /// The signatures, one per required signer, in key order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The sanitised message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The exact signed bytes (a zero-copy slice of the wire bytes).
    pub fn message_bytes(&self) -> &Bytes {
        &self.message_bytes
    }

    /// The signatures and the message, as an unchecked wire [`Transaction`].
    pub fn into_transaction(self) -> Transaction {
        Transaction { signatures: self.signatures, message: self.message }
    }

    /// The wire encoding (identical to the bytes it was decoded from: decoding is strict,
    /// so the encoding is canonical).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(4 + 64 * self.signatures.len() + self.message_bytes.len());
        out.extend_from_slice(&(self.signatures.len() as u32).to_le_bytes());
        for s in &self.signatures {
            out.extend_from_slice(&s.0);
        }
        out.extend_from_slice(&self.message_bytes);
        Bytes::from(out)
    }

    /// The fee payer.
    pub fn payer(&self) -> &Pubkey {
        &self.message.account_keys[0]
    }

    /// The transaction's id: its first signature.
    pub fn id(&self) -> Signature {
        self.signatures[0]
    }

    /// The fee: a base per signature plus the priority price times the compute limit,
    /// or `None` on overflow.
    pub fn fee(&self) -> Option<u64> {
        let base = (self.signatures.len() as u64).checked_mul(crate::FEE_PER_SIGNATURE)?;
        let priority = (self.message.compute_unit_price as u128)
            .checked_mul(self.message.compute_unit_limit as u128)?
            .div_ceil(1_000_000);
        base.checked_add(u64::try_from(priority).ok()?)
    }

    /// Iterates `(key, exclusive)` over the access list: whether the schedulers must
    /// hold the account exclusively (writable or credit-only) or may share it with
    /// readers.
    pub fn access_list(&self) -> impl Iterator<Item = (&Pubkey, bool)> + '_ {
        (0..self.message.account_keys.len())
            .map(|i| (&self.message.account_keys[i], self.message.locks_exclusive(i)))
    }
}
