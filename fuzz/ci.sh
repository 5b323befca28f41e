#!/usr/bin/env bash
# Short fuzz run for CI: every target for FUZZ_SECONDS (default 25) on the stable
# toolchain (libFuzzer through cargo-fuzz, no sanitizer), seeded with the committed
# corpora. New inputs go to a scratch corpus under fuzz/target, never into the repo;
# a crash fails the run and leaves its input in fuzz/artifacts/<target>/.
# The long runs and their figures are in docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")"

secs="${FUZZ_SECONDS:-25}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

echo "== cargo fuzz build (stable, -s none)"
cargo fuzz build -s none -O

target_dir="${CARGO_TARGET_DIR:-target}"
for t in decode programs scheduler; do
    case "$t" in
        decode) flags=(-max_len=2048) ;;
        programs) flags=(-max_len=1024) ;;
        scheduler) flags=(-max_len=1024 -len_control=0) ;;
    esac
    scratch="$target_dir/ci-corpus/$t"
    mkdir -p "$scratch"
    log="$target_dir/ci-corpus/$t.log"
    echo "== fuzz $t for ${secs}s"
    if cargo fuzz run -s none -O "$t" "$scratch" "corpus/$t" -- \
        -max_total_time="$secs" "${flags[@]}" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec)|DONE' "$log" || true
    else
        tail -n 80 "$log"
        echo "fuzz target $t failed: the crashing input is in fuzz/artifacts/$t/"
        exit 1
    fi
done
echo "== fuzz: no crash"
