//! The token program's state: mints and token accounts, and their readers.

use super::*;

/// A token type: who may mint, how many exist, and display precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Mint {
    /// The key allowed to mint (may be a program-derived address).
    pub authority: Pubkey,
    /// Tokens in existence: always the sum of the mint's token accounts' amounts.
    pub supply: u64,
    /// Decimal places for display; the program itself only counts base units.
    pub decimals: u8,
}

impl AccountState for Mint {
    const TAG: u8 = 1;
    const LEN: usize = 1 + 32 + 8 + 1;
}

/// One holder's balance of one mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TokenAccount {
    /// The mint whose tokens this account holds.
    pub mint: Pubkey,
    /// The key allowed to move or burn the tokens (may be a program-derived address).
    pub owner: Pubkey,
    /// Balance in base units.
    pub amount: u64,
}

impl AccountState for TokenAccount {
    const TAG: u8 = 2;
    const LEN: usize = 1 + 32 + 32 + 8;
}
/// Decodes a token account's state, checking that the token program owns it.
/// For programs that read a vault: `read_account(ctx.data(i)?, &ctx.owner(i)?)`.
pub fn read_account(data: &[u8], owner: &Pubkey) -> Result<TokenAccount, TokenError> {
    read(data, owner)
}

/// Decodes a mint's state, checking that the token program owns it.
pub fn read_mint(data: &[u8], owner: &Pubkey) -> Result<Mint, TokenError> {
    read(data, owner)
}

pub(super) fn read<T: AccountState>(data: &[u8], owner: &Pubkey) -> Result<T, TokenError> {
    read_owned(data, owner)
}

impl OwnedState for TokenError {
    fn program() -> Pubkey {
        id()
    }
    const WRONG_OWNER: Self = TokenError::WrongAccountOwner;
    const ALREADY_INITIALIZED: Self = TokenError::AlreadyInitialized;
}
