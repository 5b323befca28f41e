//! The amm program's state: pools, their pricing and addresses, and their readers.

use super::*;

/// A constant-product pool of `mint_a` against `mint_b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Pool {
    /// The A side's mint.
    pub mint_a: Pubkey,
    /// The B side's mint.
    pub mint_b: Pubkey,
    /// Token account of `mint_a` holding the A reserve (owner: the pool authority).
    pub vault_a: Pubkey,
    /// Token account of `mint_b` holding the B reserve (owner: the pool authority).
    pub vault_b: Pubkey,
    /// The LP mint (authority: the pool authority).
    pub lp_mint: Pubkey,
    /// A tokens the pool accounts for; equals `vault_a`'s balance after every amm instruction.
    pub reserve_a: u64,
    /// B tokens the pool accounts for; equals `vault_b`'s balance after every amm instruction.
    pub reserve_b: u64,
    /// Swap fee in basis points, below 10_000 (30 is Uniswap V2's 0.3%).
    pub fee_bps: u16,
}

impl AccountState for Pool {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 5 * 32 + 8 + 8 + 2;
}

/// What a deposit moves: the trimmed amounts taken from the user and the LP minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deposit {
    /// A tokens taken (at most `max_a`).
    pub amount_a: u64,
    /// B tokens taken (at most `max_b`).
    pub amount_b: u64,
    /// LP tokens minted to the user.
    pub lp: u64,
}

/// The pricing of every instruction, on the pool's state alone: the program runs
/// these, and clients use them to set slippage bounds. Each either fails and leaves
/// the pool unchanged, or updates the reserves to what the vaults will hold.
impl Pool {
    /// `(r_in, r_out)` for a swap in direction `a_to_b`.
    pub fn reserves(&self, a_to_b: bool) -> (u64, u64) {
        if a_to_b { (self.reserve_a, self.reserve_b) } else { (self.reserve_b, self.reserve_a) }
    }

    fn set_reserves(&mut self, a_to_b: bool, r_in: u64, r_out: u64) {
        let k_before = u128::from(self.reserve_a) * u128::from(self.reserve_b);
        if a_to_b {
            (self.reserve_a, self.reserve_b) = (r_in, r_out);
        } else {
            (self.reserve_b, self.reserve_a) = (r_in, r_out);
        }
        debug_assert!(u128::from(self.reserve_a) * u128::from(self.reserve_b) >= k_before, "k decreased");
    }

    /// Whether a deposit has ever been made: the pool's own reserves, as stored
    /// (before absorbing donations), are positive. Both stay positive for good after
    /// the first deposit, and no swap runs before it, so tokens sent to the vaults
    /// cannot make a pool look funded.
    pub fn is_funded(&self) -> bool {
        self.reserve_a != 0 || self.reserve_b != 0
    }

    /// `AddLiquidity` on the reserves after absorbing donations: the first deposit
    /// (`first`: the pool was not [funded](Self::is_funded) before them) takes
    /// `(max_a, max_b)` and mints `isqrt(max_a*max_b) - 1000`, whatever the vaults
    /// were sent beforehand, which then accrues to it; later ones trim to the pool
    /// ratio and mint `min(a*S/r_a, b*S/r_b)` with `S = lp_supply`.
    ///
    /// The first deposit is told apart by the pool's books, never by the reserves
    /// after a donation: otherwise one unit sent to each vault made it a "later"
    /// deposit, trimmed to the donor's ratio and priced against the 1000 locked
    /// LP, minting about 1000 times the LP its `min_lp` was sized for.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::InsufficientInitialLiquidity`],
    /// [`AmmError::ZeroLiquidityMinted`], [`AmmError::LpBelowMinimum`],
    /// [`AmmError::MathOverflow`].
    pub fn deposit(
        &mut self,
        max_a: u64,
        max_b: u64,
        min_lp: u64,
        lp_supply: u64,
        first: bool,
    ) -> Result<Deposit, AmmError> {
        if max_a == 0 || max_b == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_a, r_b) = (self.reserve_a, self.reserve_b);
        let (amount_a, amount_b, lp) = if first {
            // The 1000 locked LP were minted at InitPool: `lp_supply` is 1000 here.
            let (lp, _supply) = amm_math::initial_liquidity(max_a, max_b)?;
            (max_a, max_b, lp)
        } else {
            let (a, b) = amm_math::trim_to_ratio(max_a, max_b, r_a, r_b)?;
            (a, b, amm_math::liquidity_minted(a, b, r_a, r_b, lp_supply)?)
        };
        if lp == 0 {
            return Err(AmmError::ZeroLiquidityMinted);
        }
        if lp < min_lp {
            return Err(AmmError::LpBelowMinimum);
        }
        lp_supply.checked_add(lp).ok_or(AmmError::MathOverflow)?;
        let reserve_a = r_a.checked_add(amount_a).ok_or(AmmError::MathOverflow)?;
        let reserve_b = r_b.checked_add(amount_b).ok_or(AmmError::MathOverflow)?;
        (self.reserve_a, self.reserve_b) = (reserve_a, reserve_b);
        Ok(Deposit { amount_a, amount_b, lp })
    }

    /// `RemoveLiquidity`: burning `lp` of `lp_supply` returns `(lp*r_a/S, lp*r_b/S)`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::ExceedsLpSupply`],
    /// [`AmmError::ZeroLiquidityBurned`], [`AmmError::AmountBelowMinimum`].
    pub fn withdraw(
        &mut self,
        lp: u64,
        min_a: u64,
        min_b: u64,
        lp_supply: u64,
    ) -> Result<(u64, u64), AmmError> {
        if lp == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (a, b) = amm_math::remove_liquidity(lp, self.reserve_a, self.reserve_b, lp_supply)?;
        if a == 0 || b == 0 {
            return Err(AmmError::ZeroLiquidityBurned);
        }
        if a < min_a || b < min_b {
            return Err(AmmError::AmountBelowMinimum);
        }
        // `lp <= S`, so each side is at most its reserve.
        self.reserve_a -= a;
        self.reserve_b -= b;
        Ok((a, b))
    }

    /// `SwapExactIn`: the output of `amount_in`,
    /// `in*(10000-fee)*r_out / (r_in*10000 + in*(10000-fee))`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::EmptyPool`], [`AmmError::ZeroOutput`],
    /// [`AmmError::OutputBelowMinimum`], [`AmmError::MathOverflow`].
    pub fn swap_exact_in(&mut self, amount_in: u64, min_out: u64, a_to_b: bool) -> Result<u64, AmmError> {
        if amount_in == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_in, r_out) = self.reserves(a_to_b);
        let out = amm_math::amount_out(amount_in, r_in, r_out, self.fee_bps.into())?;
        if out == 0 {
            return Err(AmmError::ZeroOutput);
        }
        if out < min_out {
            return Err(AmmError::OutputBelowMinimum);
        }
        let r_in = r_in.checked_add(amount_in).ok_or(AmmError::MathOverflow)?;
        // `amount_out` is always below `r_out`.
        self.set_reserves(a_to_b, r_in, r_out - out);
        Ok(out)
    }

    /// `SwapExactOut`: the input that buys `amount_out`,
    /// `r_in*out*10000 / ((r_out-out)*(10000-fee)) + 1`.
    ///
    /// # Errors
    /// [`AmmError::ZeroAmount`], [`AmmError::EmptyPool`], [`AmmError::ExceedsReserve`],
    /// [`AmmError::InputAboveMaximum`], [`AmmError::MathOverflow`].
    pub fn swap_exact_out(&mut self, amount_out: u64, max_in: u64, a_to_b: bool) -> Result<u64, AmmError> {
        if amount_out == 0 {
            return Err(AmmError::ZeroAmount);
        }
        let (r_in, r_out) = self.reserves(a_to_b);
        let amount_in = amm_math::amount_in(amount_out, r_in, r_out, self.fee_bps.into())?;
        if amount_in > max_in {
            return Err(AmmError::InputAboveMaximum);
        }
        let r_in = r_in.checked_add(amount_in).ok_or(AmmError::MathOverflow)?;
        // `amount_in` succeeded, so `amount_out < r_out`.
        self.set_reserves(a_to_b, r_in, r_out - amount_out);
        Ok(amount_in)
    }
}

/// Decodes a pool's state, checking that the amm program owns it.
pub fn read_pool(data: &[u8], owner: &Pubkey) -> Result<Pool, AmmError> {
    if *owner != id() {
        return Err(AmmError::WrongAccountOwner);
    }
    Ok(Pool::unpack(data)?)
}

/// The program-derived addresses of a pool, all computed from its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolAddresses {
    /// The pool account itself.
    pub pool: Pubkey,
    /// Owner of the vaults and the LP mint's authority: `["authority", pool]`.
    pub authority: Pubkey,
    /// The A vault: `["vault_a", pool]`.
    pub vault_a: Pubkey,
    /// The B vault: `["vault_b", pool]`.
    pub vault_b: Pubkey,
    /// The LP mint: `["lp_mint", pool]`.
    pub lp_mint: Pubkey,
    /// The LP account holding the locked minimum liquidity: `["lp_lock", pool]`.
    pub lp_lock: Pubkey,
}

impl PoolAddresses {
    /// Derives every address of `pool` (five hashes).
    pub fn derive(pool: &Pubkey) -> Self {
        Self {
            pool: *pool,
            authority: pool_authority(pool),
            vault_a: pda(VAULT_A_SEED, pool),
            vault_b: pda(VAULT_B_SEED, pool),
            lp_mint: pda(LP_MINT_SEED, pool),
            lp_lock: pda(LP_LOCK_SEED, pool),
        }
    }

    /// `(vault_in, vault_out)` of a swap in direction `a_to_b`.
    pub fn swap_vaults(&self, a_to_b: bool) -> (Pubkey, Pubkey) {
        if a_to_b { (self.vault_a, self.vault_b) } else { (self.vault_b, self.vault_a) }
    }
}

/// The pool's authority: `["authority", pool]`, the only address of a pool the
/// program signs token instructions for.
pub fn pool_authority(pool: &Pubkey) -> Pubkey {
    pda(AUTHORITY_SEED, pool)
}

pub(super) fn seeds<'a>(seed: &'a [u8], pool: &'a Pubkey) -> [&'a [u8]; 2] {
    [seed, pool.as_ref()]
}

fn pda(seed: &[u8], pool: &Pubkey) -> Pubkey {
    program_address(&seeds(seed, pool), &id()).expect("two seeds of at most 32 bytes are valid")
}
