#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 600 s each, every target)
#
# Targets (Sources/FuzzTargets/FuzzTarget.swift): idx, safetensors, image, folder-file,
# config, checkpoint, metrics. Each runs for the stated time on its corpus in
# $VAE_FUZZ_DIR/corpus/<target> (default .fuzz/, kept between runs, started from the seeds
# the fuzzer writes with $VAE_FUZZ_WRITE_SEEDS); a crashing input is kept in $VAE_FUZZ_DIR/crashes/<target>/ and
# makes the script fail. The JSON-bearing targets and metrics.csv get a dictionary of their
# tokens (scripts/fuzz-dictionaries/). Save a fixed crash input in Tests/FuzzInputs/<target>/ so the tests
# replay it. The summary line per target gives executions, coverage and corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx safetensors image folder-file config checkpoint metrics)
work="${VAE_FUZZ_DIR:-.fuzz}"

# The fuzzing build has a scratch folder of its own (sanitizer flags differ from the main build).
swift build -c release --product vae-fuzz --scratch-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING 2>&1 | grep -v "Cannot export local symbol" | tail -2
fuzzer=.build/fuzz/release/vae-fuzz
VAE_FUZZ_WRITE_SEEDS="$work/seeds" "$fuzzer"

status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target" "$work/crashes/$target"
    cp -n "$work/seeds/$target"/* "$work/corpus/$target/" 2>/dev/null || true
    [ -d "Tests/FuzzInputs/$target" ] && cp -n "Tests/FuzzInputs/$target"/* "$work/corpus/$target/" 2>/dev/null || true
    log="$work/$target.log"
    dictionary=()
    case "$target" in
        safetensors|config|checkpoint) dictionary=(-dict=scripts/fuzz-dictionaries/json.dict) ;;
        metrics) dictionary=(-dict=scripts/fuzz-dictionaries/metrics.dict) ;;
    esac
    set +e
    VAE_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
        -max_len=65536 -print_final_stats=1 "${dictionary[@]}" -artifact_prefix="$work/crashes/$target/" "$work/corpus/$target" >"$log" 2>&1
    code=$?
    set -e
    runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    line=$(grep -E '^#[0-9]+' "$log" | tail -1)
    echo "$target: ${seconds}s, ${runs:-?} executions; ${line#* }"
    if [ $code -ne 0 ]; then
        echo "$target: FAILED (exit $code); see $log and $work/crashes/$target/" >&2
        grep -m5 -E "ERROR|SUMMARY|Fatal error" "$log" >&2 || true
        status=1
    fi
done
exit $status
