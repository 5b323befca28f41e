//! Turning a block's wire bytes into transactions ready to execute: decode,
//! sanitise, and verify signatures in batches.

use bytes::Bytes;

use crate::error::TransactionError;
use crate::message::SanitizedTransaction;
use crate::sigverify;

/// A block entry after preparation: ready to execute, or invalid with its reason.
pub type Prepared = Result<SanitizedTransaction, TransactionError>;

/// Decodes and verifies a block's transactions: entry `i` is transaction `i`, ready to
/// execute or invalid with its reason. Signatures are verified in batches; acceptance
/// is the same as single verification (see [`sigverify`]).
pub fn prepare_transactions(raw: &[Bytes]) -> Vec<Prepared> {
    let mut out: Vec<Prepared> = raw.iter().map(decode).collect();
    verify_signatures(&mut out);
    out
}

/// Decodes several runs of transactions (parts of one block or of several) and
/// verifies all their signatures as one batch, which costs less per signature than
/// a batch per run: entry `k` of the result is what [`prepare_transactions`] gives
/// for `runs[k]`.
pub fn prepare_runs(runs: &[&[Bytes]]) -> Vec<Vec<Prepared>> {
    let mut all: Vec<Prepared> = runs.iter().flat_map(|run| run.iter()).map(decode).collect();
    verify_signatures(&mut all);
    let mut verified = all.into_iter();
    runs.iter().map(|run| verified.by_ref().take(run.len()).collect()).collect()
}

fn decode(raw: &Bytes) -> Prepared {
    SanitizedTransaction::decode(raw).map_err(TransactionError::from)
}

/// Verifies the signatures of every decoded entry in one batch, turning entries with a
/// bad signature into [`TransactionError::InvalidSignature`].
pub fn verify_signatures(entries: &mut [Prepared]) {
    let mut items = Vec::new();
    let mut owners = Vec::new();
    for (ti, e) in entries.iter().enumerate() {
        if let Ok(tx) = e {
            for (si, sig) in tx.signatures.iter().enumerate() {
                items.push(sigverify::SigItem {
                    pubkey: &tx.message.account_keys[si].0,
                    signature: &sig.0,
                    message: &tx.message_bytes,
                });
                owners.push((ti, si as u8));
            }
        }
    }
    let mut results = Vec::with_capacity(items.len());
    sigverify::verify_batch(&items, &mut results);
    drop(items);
    for ((ti, si), r) in owners.into_iter().zip(results) {
        if let (Err(error), Ok(_)) = (r, &entries[ti]) {
            entries[ti] = Err(TransactionError::InvalidSignature { index: si, error });
        }
    }
}
