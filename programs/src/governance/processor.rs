//! The governance program's processor: the access-list checks and each instruction's effect.

use super::*;

/// The governance program.
#[derive(Debug, Clone, Copy, Default)]
pub struct GovernanceProgram;

impl Program for GovernanceProgram {
    fn id(&self) -> Pubkey {
        id()
    }

    fn name(&self) -> &'static str {
        "governance"
    }

    fn process(&self, ctx: &mut InvokeContext<'_, '_>, data: &[u8]) -> Result<(), InstructionError> {
        ctx.consume(INSTRUCTION_COST)?;
        let ix = GovernanceInstruction::try_from_slice(data)
            .map_err(|_| InstructionError::InvalidInstructionData)?;
        match ix {
            GovernanceInstruction::InitDao { params } => init_dao_ix(ctx, params),
            GovernanceInstruction::Deposit { amount } => deposit_ix(ctx, amount),
            GovernanceInstruction::Withdraw { amount } => withdraw_ix(ctx, amount),
            GovernanceInstruction::CreateProposal { action } => create_proposal_ix(ctx, action),
            GovernanceInstruction::Vote { side } => vote_ix(ctx, side),
            GovernanceInstruction::Finalize => finalize_ix(ctx),
            GovernanceInstruction::Execute => execute_ix(ctx),
        }
    }

    fn describe_error(&self, code: u32) -> Option<&'static str> {
        GovernanceError::from_code(code).map(GovernanceError::message)
    }

    /// The counter of a tally is its `votes`; `expect` is the proposal the vote is on.
    /// The tally's `proposal` is fixed at creation, so the check does not depend on
    /// other credits. The add cannot overflow: the weights credited to a proposal's
    /// tallies are amounts distinct voter records held when it was created (see the
    /// module docs), whose sum is at most the governing token's supply, a `u64`.
    fn apply_credit(
        &self,
        account: &mut Account,
        amount: u64,
        expect: &Pubkey,
    ) -> Result<(), InstructionError> {
        let mut tally: Tally = read_owned::<_, GovernanceError>(&account.data, &account.owner)?;
        if tally.proposal != *expect {
            return Err(GovernanceError::WrongTally.into());
        }
        tally.votes = tally.votes.checked_add(amount).ok_or(GovernanceError::MathOverflow)?;
        tally.pack_into(&mut account.data);
        Ok(())
    }
}

/// Reads account `i`'s state of kind `T`, charging [`READ_COST`].
fn load<T: AccountState>(ctx: &mut InvokeContext<'_, '_>, i: usize) -> Result<T, InstructionError> {
    load_owned::<T, GovernanceError>(ctx, i, READ_COST)
}

/// Writes `value` into account `i`, charging [`WRITE_COST`].
fn save<T: AccountState>(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    value: &T,
) -> Result<(), InstructionError> {
    save_state(ctx, i, value, WRITE_COST)
}

fn add(a: u64, b: u64) -> Result<u64, GovernanceError> {
    a.checked_add(b).ok_or(GovernanceError::MathOverflow)
}

/// Makes account `i`, this program's address for `seeds`, a new state account of this
/// program: already ours is `AlreadyInitialized`, another program's is `WrongAccountOwner`.
fn open_pda(ctx: &mut InvokeContext<'_, '_>, i: usize, seeds: &[&[u8]]) -> Result<(), InstructionError> {
    ctx.consume(READ_COST)?;
    take_own_pda(ctx, i, seeds, GovernanceError::AlreadyInitialized, READ_COST)
}

/// Loads the DAO at `dao_i` and checks that the account at `vault_i` is its vault.
fn load_dao_and_vault(
    ctx: &mut InvokeContext<'_, '_>,
    dao_i: usize,
    vault_i: usize,
) -> Result<Dao, InstructionError> {
    let dao: Dao = load(ctx, dao_i)?;
    if ctx.key(vault_i)? != dao.vault {
        return Err(GovernanceError::WrongVault.into());
    }
    Ok(dao)
}

/// `[dao W(new), vault R]`
fn init_dao_ix(ctx: &mut InvokeContext<'_, '_>, params: DaoParams) -> Result<(), InstructionError> {
    use init_dao_accounts::*;
    SPEC.check(ctx)?;
    let (dao_key, vault_key) = (ctx.key(DAO)?, ctx.key(VAULT)?);
    if !params.is_valid() {
        return Err(GovernanceError::InvalidParams.into());
    }
    if dao_key != SPEC.derive_in(ctx, DAO)? {
        return Err(GovernanceError::InvalidDaoAddress.into());
    }
    ctx.consume(READ_COST)?;
    let vault = ctx.account(VAULT)?;
    let vault = token::read_account(&vault.data, &vault.owner).map_err(|_| GovernanceError::InvalidVault)?;
    if vault.owner != dao_key || vault.amount != 0 {
        return Err(GovernanceError::InvalidVault.into());
    }
    open_pda(ctx, DAO, &[DAO_SEED, vault_key.as_ref()])?;
    save(ctx, DAO, &Dao { mint: vault.mint, vault: vault_key, params, proposal_count: 0 })?;
    ctx.emit(&GovernanceEvent::DaoInitialized { dao: dao_key, mint: vault.mint, vault: vault_key })
}

/// Checks that account `i` is `owner`'s record in `dao` and reads it; a record not
/// opened yet reads as empty (`Ok((record, true))`: the caller opens it).
fn load_record(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    dao: &Pubkey,
    owner: &Pubkey,
) -> Result<(VoterRecord, bool), InstructionError> {
    if ctx.key(i)? != ctx.program_address(&[VOTER_SEED, dao.as_ref(), owner.as_ref()])? {
        return Err(GovernanceError::WrongVoterRecord.into());
    }
    let account = ctx.account(i)?;
    if account.owner == SYSTEM_PROGRAM_ID && account.data.is_empty() {
        let empty = VoterRecord { dao: *dao, owner: *owner, amount: 0, active_from_slot: 0, locked_until: 0 };
        return Ok((empty, true));
    }
    let record: VoterRecord = load(ctx, i)?;
    // Implied by the address; checked so that no state is trusted on its key alone.
    if record.dao != *dao || record.owner != *owner {
        return Err(GovernanceError::WrongVoterRecord.into());
    }
    Ok((record, false))
}

/// `[dao R, vault C/W, owner token W, voter record W, owner S]`
fn deposit_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use deposit_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(GovernanceError::ZeroAmount.into());
    }
    load_dao_and_vault(ctx, DAO, VAULT)?;
    let dao_key = ctx.key(DAO)?;
    let (mut record, is_new) = load_record(ctx, RECORD, &dao_key, &owner)?;
    record.amount = add(record.amount, amount)?;
    record.active_from_slot = add(ctx.env().slot, 1)?;
    // The owner signed the transaction; the vault keeps the privilege it has here
    // (credit-only from the builder), so deposits do not conflict on it.
    token::invoke_transfer_at(ctx, [OWNER_TOKEN, VAULT, OWNER], amount, &[])?;
    if is_new {
        ctx.assign_own_pda(RECORD, &[VOTER_SEED, dao_key.as_ref(), owner.as_ref()])?;
    }
    save(ctx, RECORD, &record)?;
    ctx.emit(&GovernanceEvent::Deposited { dao: dao_key, owner, amount, total: record.amount })
}

/// `[dao R, vault W, owner token W, voter record W, owner S]`
fn withdraw_ix(ctx: &mut InvokeContext<'_, '_>, amount: u64) -> Result<(), InstructionError> {
    use withdraw_accounts::*;
    SPEC.check(ctx)?;
    let owner = ctx.key(OWNER)?;
    if amount == 0 {
        return Err(GovernanceError::ZeroAmount.into());
    }
    let dao = load_dao_and_vault(ctx, DAO, VAULT)?;
    // A "transfer" from the vault to itself would lower the record and move nothing.
    if ctx.key(OWNER_TOKEN)? == dao.vault {
        return Err(GovernanceError::OwnerTokenIsVault.into());
    }
    let dao_key = ctx.key(DAO)?;
    let (mut record, is_new) = load_record(ctx, RECORD, &dao_key, &owner)?;
    if is_new || record.amount < amount {
        return Err(GovernanceError::InsufficientDeposit.into());
    }
    if ctx.env().slot < record.locked_until {
        return Err(GovernanceError::Locked.into());
    }
    record.amount -= amount;
    save(ctx, RECORD, &record)?;
    token::invoke_transfer_at(ctx, [VAULT, OWNER_TOKEN, DAO], amount, &[&[DAO_SEED, dao.vault.as_ref()]])?;
    ctx.emit(&GovernanceEvent::Withdrawn { dao: dao_key, owner, amount, total: record.amount })
}

/// `[dao W, proposal W(new), yes tally W(new), no tally W(new), proposer S]`
fn create_proposal_ix(ctx: &mut InvokeContext<'_, '_>, action: Action) -> Result<(), InstructionError> {
    use create_proposal_accounts::*;
    SPEC.check(ctx)?;
    let (dao_key, proposal_key, proposer) = (ctx.key(DAO)?, ctx.key(PROPOSAL)?, ctx.key(PROPOSER)?);
    if !action.is_valid(&dao_key) {
        return Err(GovernanceError::InvalidAction.into());
    }
    let mut dao: Dao = load(ctx, DAO)?;
    let index = dao.proposal_count;
    let index_bytes = index.to_le_bytes();
    let seeds: [&[u8]; 3] = [PROPOSAL_SEED, dao_key.as_ref(), &index_bytes];
    if proposal_key != ctx.program_address(&seeds)? {
        return Err(GovernanceError::InvalidProposalAddress.into());
    }
    if ctx.key(YES_TALLY)? != SPEC.derive_in(ctx, YES_TALLY)?
        || ctx.key(NO_TALLY)? != SPEC.derive_in(ctx, NO_TALLY)?
    {
        return Err(GovernanceError::WrongTally.into());
    }
    let created_slot = ctx.env().slot;
    let voting_end = add(created_slot, dao.params.voting_period)?;
    let executable_from = add(voting_end, dao.params.timelock)?;
    dao.proposal_count = add(index, 1)?;

    open_pda(ctx, PROPOSAL, &seeds)?;
    open_pda(ctx, YES_TALLY, &[YES_SEED, proposal_key.as_ref()])?;
    open_pda(ctx, NO_TALLY, &[NO_SEED, proposal_key.as_ref()])?;
    let proposal = Proposal {
        dao: dao_key,
        index,
        proposer,
        created_slot,
        voting_end,
        executable_from,
        quorum: dao.params.quorum,
        threshold_bps: dao.params.threshold_bps,
        status: ProposalStatus::Voting,
        yes_votes: 0,
        no_votes: 0,
        action,
    };
    save(ctx, DAO, &dao)?;
    save(ctx, PROPOSAL, &proposal)?;
    save(ctx, YES_TALLY, &Tally { proposal: proposal_key, side: Side::Yes, votes: 0 })?;
    save(ctx, NO_TALLY, &Tally { proposal: proposal_key, side: Side::No, votes: 0 })?;
    let event = GovernanceEvent::ProposalCreated {
        dao: dao_key,
        proposal: proposal_key,
        index,
        proposer,
        voting_end,
    };
    ctx.emit(&event)
}

/// `[proposal R, tally C/W, voter record W, vote record W(new), owner S]`
fn vote_ix(ctx: &mut InvokeContext<'_, '_>, side: Side) -> Result<(), InstructionError> {
    use vote_accounts::*;
    SPEC.check(ctx)?;
    let (proposal_key, owner) = (ctx.key(PROPOSAL)?, ctx.key(OWNER)?);
    let proposal: Proposal = load(ctx, PROPOSAL)?;
    if proposal.status != ProposalStatus::Voting || ctx.env().slot >= proposal.voting_end {
        return Err(GovernanceError::VotingClosed.into());
    }
    // The tally is never read here (credit-only): its address says whose and which side.
    if ctx.key(TALLY)? != ctx.program_address(&[side.seed(), proposal_key.as_ref()])? {
        return Err(GovernanceError::WrongTally.into());
    }
    let (mut record, is_new) = load_record(ctx, RECORD, &proposal.dao, &owner)?;
    if is_new || record.amount == 0 {
        return Err(GovernanceError::NoVotingPower.into());
    }
    if record.active_from_slot > proposal.created_slot {
        return Err(GovernanceError::NotEligible.into());
    }
    if ctx.key(VOTE)? != SPEC.derive_in(ctx, VOTE)? {
        return Err(GovernanceError::WrongVoteRecord.into());
    }
    ctx.consume(READ_COST)?;
    if ctx.owner(VOTE)? == id() && !is_uninitialized(ctx.data(VOTE)?) {
        return Err(GovernanceError::AlreadyVoted.into());
    }
    open_pda(ctx, VOTE, &[VOTE_SEED, proposal_key.as_ref(), owner.as_ref()])?;
    let weight = record.amount;
    record.locked_until = record.locked_until.max(proposal.voting_end);
    save(ctx, RECORD, &record)?;
    save(ctx, VOTE, &VoteRecord { proposal: proposal_key, voter: owner, side, weight })?;
    ctx.consume(WRITE_COST)?;
    ctx.credit_counter(TALLY, weight, &proposal_key)?;
    ctx.emit(&GovernanceEvent::Voted { proposal: proposal_key, voter: owner, side, weight })
}

/// Reads the tally at `i`, which must be `proposal`'s tally of `side`.
fn load_tally(
    ctx: &mut InvokeContext<'_, '_>,
    i: usize,
    proposal: &Pubkey,
    side: Side,
) -> Result<u64, InstructionError> {
    if ctx.key(i)? != finalize_accounts::SPEC.derive_in(ctx, i)? {
        return Err(GovernanceError::WrongTally.into());
    }
    let tally: Tally = load(ctx, i)?;
    if tally.proposal != *proposal || tally.side != side {
        return Err(GovernanceError::WrongTally.into());
    }
    Ok(tally.votes)
}

/// `[proposal W, yes tally R, no tally R]`
fn finalize_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use finalize_accounts::*;
    SPEC.check(ctx)?;
    let proposal_key = ctx.key(PROPOSAL)?;
    let mut proposal: Proposal = load(ctx, PROPOSAL)?;
    if proposal.status != ProposalStatus::Voting {
        return Err(GovernanceError::AlreadyFinalized.into());
    }
    if ctx.env().slot < proposal.voting_end {
        return Err(GovernanceError::VotingNotEnded.into());
    }
    let yes = load_tally(ctx, YES_TALLY, &proposal_key, Side::Yes)?;
    let no = load_tally(ctx, NO_TALLY, &proposal_key, Side::No)?;
    let passed = passes(yes, no, proposal.quorum, proposal.threshold_bps);
    proposal.status = if passed { ProposalStatus::Passed } else { ProposalStatus::Rejected };
    (proposal.yes_votes, proposal.no_votes) = (yes, no);
    save(ctx, PROPOSAL, &proposal)?;
    ctx.emit(&GovernanceEvent::Finalized { proposal: proposal_key, yes, no, passed })
}

/// `[proposal W, action accounts…]`
fn execute_ix(ctx: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    use execute_accounts::*;
    SPEC.check(ctx)?;
    let proposal_key = ctx.key(PROPOSAL)?;
    let mut proposal: Proposal = load(ctx, PROPOSAL)?;
    match proposal.status {
        ProposalStatus::Passed => {}
        ProposalStatus::Executed => return Err(GovernanceError::AlreadyExecuted.into()),
        ProposalStatus::Voting | ProposalStatus::Rejected => return Err(GovernanceError::NotPassed.into()),
    }
    if ctx.env().slot < proposal.executable_from {
        return Err(GovernanceError::TimelockActive.into());
    }
    let accounts = &proposal.action.accounts;
    if ctx.num_accounts() != LEN + accounts.len() {
        return Err(GovernanceError::ActionAccountsMismatch.into());
    }
    for (j, a) in accounts.iter().enumerate() {
        if ctx.key(LEN + j)? != a.pubkey {
            return Err(GovernanceError::ActionAccountsMismatch.into());
        }
    }
    // Executed before the call: a call back into this program sees it done.
    proposal.status = ProposalStatus::Executed;
    save(ctx, PROPOSAL, &proposal)?;
    ctx.emit(&GovernanceEvent::Executed { proposal: proposal_key })?;
    let action = proposal.action;
    let dao = proposal.dao;
    ctx.invoke_parts(action.program_id, &action.metas(), &action.data, &[&[TREASURY_SEED, dao.as_ref()]])
}
