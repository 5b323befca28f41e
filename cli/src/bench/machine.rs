//! The machine a run measured: CPU, cores, date, and memory figures.

use std::time::{SystemTime, UNIX_EPOCH};

use parex_programs::state::AccountState;
use parex_programs::token::TokenAccount;
use parex_runtime::{Account, AccountTable, Pubkey};
use serde::Serialize;

/// What the run was measured on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Cores available to the process (`nproc`).
    pub cores: usize,
    /// CPU model from `/proc/cpuinfo` ("unknown" elsewhere).
    pub cpu_model: String,
    /// Operating system and architecture.
    pub os: String,
    /// Start of the run, UTC, `YYYY-MM-DD HH:MM:SS`.
    pub date_utc: String,
    /// 1-, 5- and 15-minute load averages at the start (`/proc/loadavg`): a busy
    /// machine makes every absolute figure lower.
    pub load_average: Option<[f64; 3]>,
    /// Nanoseconds for one cache line to go from one thread to another and back
    /// ([`core_round_trip_ns`]), at the start; `None` on one core. Every hand-off
    /// between the parallel executor's threads pays it.
    pub core_round_trip_ns: Option<f64>,
}

impl Machine {
    /// Describes this machine now.
    pub fn detect() -> Self {
        Self {
            cores: cores(),
            cpu_model: cpu_model(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            date_utc: utc_now(),
            load_average: load_average(),
            core_round_trip_ns: core_round_trip_ns(),
        }
    }
}

/// The median of three measurements of a cache line's round trip between two
/// threads: each in turn waits for the other's store to one atomic and answers it,
/// for up to 100,000 round trips or 50 ms. `None` with fewer than two cores. A
/// virtual machine's cores may sit on one core complex of the host or on two, and
/// the two differ several times over in this figure while one core's speed does not
/// change: it tells which placement a run had.
pub fn core_round_trip_ns() -> Option<f64> {
    if cores() < 2 {
        return None;
    }
    let mut runs: Vec<f64> =
        (0..3).map(|_| ping_pong(100_000, std::time::Duration::from_millis(50))).collect();
    runs.sort_by(f64::total_cmp);
    Some(runs[1])
}

/// Nanoseconds per round trip of at most `rounds` ones, stopping after `limit`.
fn ping_pong(rounds: u64, limit: std::time::Duration) -> f64 {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let ball = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut expect = 1;
            while !stop.load(Ordering::Relaxed) {
                if ball.load(Ordering::Acquire) == expect {
                    ball.store(expect + 1, Ordering::Release);
                    expect += 2;
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        let start = std::time::Instant::now();
        let mut done = 0;
        // The clock is read once per 256 round trips, so that it adds nothing measurable.
        while done < rounds && (done % 256 != 0 || start.elapsed() < limit) {
            ball.store(2 * done + 1, Ordering::Release);
            while ball.load(Ordering::Acquire) != 2 * done + 2 {
                std::hint::spin_loop();
            }
            done += 1;
        }
        let ns = start.elapsed().as_nanos() as f64 / done.max(1) as f64;
        stop.store(true, Ordering::Relaxed);
        ns
    })
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn load_average() -> Option<[f64; 3]> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS`.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A field of `/proc/self/status` in bytes (`VmHWM`: peak resident, `VmRSS`: resident).
pub fn proc_status_bytes(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Peak resident bytes of this process so far.
pub fn peak_rss() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// What the in-memory account table costs per account.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AccountMemory {
    /// Accounts inserted.
    pub accounts: usize,
    /// Resident bytes the table added, per account.
    pub bytes_per_account: f64,
    /// Bytes of the account itself: key, balance, nonce, owner and data.
    pub payload_bytes: usize,
    /// `bytes_per_account - payload_bytes`: index, slot bookkeeping, allocation
    /// headers, slack.
    pub overhead_per_account: f64,
    /// `bytes_per_account` × 10 million, in GiB (an extrapolation below 10 million accounts).
    pub gib_for_10m: f64,
}

/// Fills an [`AccountTable`] (the in-memory state a chain executes on) with `n` token
/// accounts (the commonest account of the workloads: a 73-byte token balance) and
/// measures the resident memory it adds.
///
/// Run it early, before the heap holds freed memory that the table would reuse
/// unnoticed. `None` where `/proc/self/status` is missing.
pub fn account_memory(n: usize) -> Option<AccountMemory> {
    let mint = Pubkey::from_name("bench/mint");
    let sample = TokenAccount { mint, owner: mint, amount: 1 }.pack();
    let payload = 32 + 8 + 8 + 32 + sample.len();
    let before = proc_status_bytes("VmRSS:")?;
    let mut table = AccountTable::new();
    for i in 0..n as u64 {
        let owner = Pubkey::new_unique(i);
        let data = TokenAccount { mint, owner, amount: i }.pack();
        table.insert(owner, Account::with_data(parex_programs::token::id(), data));
    }
    let after = proc_status_bytes("VmRSS:")?;
    std::hint::black_box(&table);
    drop(table);
    let per = after.saturating_sub(before) as f64 / n.max(1) as f64;
    Some(AccountMemory {
        accounts: n,
        bytes_per_account: per,
        payload_bytes: payload,
        overhead_per_account: per - payload as f64,
        gib_for_10m: per * 10e6 / (1u64 << 30) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn a_round_trip_is_measured_and_stops_at_its_limit() {
        // Even two threads on one core (the OS switching between them) finish: the
        // limit is checked between round trips.
        let start = std::time::Instant::now();
        let ns = ping_pong(1_000_000, std::time::Duration::from_millis(20));
        assert!(ns > 0.0 && ns.is_finite(), "{ns}");
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "the limit held");
        let few = ping_pong(10, std::time::Duration::from_secs(5));
        assert!(few > 0.0, "{few}");
    }
}
