#!/usr/bin/env bash
# Runs the fuzz targets under libFuzzer with ASan and UBSan (clang from Debian's clang-14 and
# libclang-rt-14-dev). Seeds: the SMTP corpus, every fixture email, and sample tables. New
# inputs go to a scratch corpus; a crash leaves its input in build-fuzz/ and fails the script.
# Usage: bash scripts/fuzz.sh [seconds per target, default 30] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
only=("$@")
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DALERTBRIDGE_FUZZ=ON -DALERTBRIDGE_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_smtp_session fuzz_email fuzz_enrich \
    fuzz_alertmanager fuzz_nightingale fuzz_config >/dev/null
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
run() {
    local target="$1"
    shift
    if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " ${target} " ]]; then return; fi
    mkdir -p "$scratch/$target"
    echo "== fuzz $target for ${seconds}s"
    (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 "./$target" -max_total_time="$seconds" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$scratch/$target" "$@" 2>&1 | grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' || true)
    # libFuzzer exits non-zero and writes crash-*/leak-*/timeout-* files on a finding.
    if compgen -G "build-fuzz/crash-*" >/dev/null || compgen -G "build-fuzz/leak-*" >/dev/null ||
        compgen -G "build-fuzz/timeout-*" >/dev/null; then
        echo "fuzz: $target found a failing input:" build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* 2>/dev/null
        exit 1
    fi
}
run fuzz_smtp_session "$PWD/tests/fuzz/corpus/smtp"
run fuzz_email "$PWD/tests/fixtures/email" "$PWD/tests/fixtures/email_extra" "$PWD/tests/fixtures/email_variants"
run fuzz_enrich "$PWD/tests/fuzz/corpus/tables"
run fuzz_alertmanager "$PWD/tests/fixtures/alertmanager" "$PWD/tests/fuzz/corpus/alertmanager"
run fuzz_nightingale "$PWD/tests/fixtures/nightingale" "$PWD/tests/fuzz/corpus/nightingale"
run fuzz_config "$PWD/config-examples" "$PWD/adapters/email/rules" "$PWD/tests/fuzz/corpus/config"
