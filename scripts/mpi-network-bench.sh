#!/usr/bin/env bash
# Data-parallel training over a network, measured: one epoch of each workload with two ranks
# over shared memory, and over two hosts of scripts/network-hosts.sh (veth unshaped, then tc
# shaped to each rate), with gradient buckets overlapping the backward pass and without, in
# fp32 and bf16 sums; beside one process with two threads. Prints a table row per run: the
# epoch's training seconds, the seconds a rank waited for gradient sums, and their share.
#
#   scripts/mpi-network-bench.sh [--images64 FOLDER] [--rates "unshaped 10gbit 1gbit"] [--workloads "mlp conv28 conv64"]
#
# FOLDER: 64x64 grey pictures for the dsprites-conv workload (without it, conv64 is skipped).
# Needs root for the namespaces; uses network 8 of network-hosts.sh and removes it at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vae=${VAE:-$here/../.build/release/vae}
images64=
rates="unshaped 10gbit 1gbit"
workloads="mlp conv28 conv64"
while [[ $# -gt 0 ]]; do
    case $1 in
        --images64) images64=$2; shift 2 ;;
        --rates) rates=$2; shift 2 ;;
        --workloads) workloads=$2; shift 2 ;;
        *) sed -n '8p' "$0" >&2; exit 2 ;;
    esac
done
[[ -x $vae ]] || { echo "error: no vae at $vae; run swift build -c release --product vae" >&2; exit 1; }
cd "$here/.."  # data/mnist
export VAE_NETWORK=8
trap '"$here/network-hosts.sh" down' EXIT
scratch=$(mktemp -d)
echo "$(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $("$vae" --version)"

arguments() {
    case $1 in
        mlp) echo "--preset pytorch-example" ;;
        conv28) echo "--preset conv-mnist --batch-size 128 --learning-rate 0.001 --free-bits 0 --weight-average none" ;;  # the settings of the figures in TrainingOverMPI.md
        conv64) echo "--preset dsprites-conv --images $images64 --image-size 64" ;;
    esac
}

# run LABEL WORKLOAD LAUNCHER... -- EXTRA: one epoch; prints "label  seconds  waited  share".
run() {
    local label=$1 workload=$2; shift 2
    local launcher=() extra=()
    while [[ $1 != -- ]]; do launcher+=("$1"); shift; done
    shift
    extra=("$@")
    rm -rf "$scratch/run"
    # shellcheck disable=SC2046
    local output
    output=$("${launcher[@]}" "$vae" train $(arguments "$workload") --epochs 1 --out "$scratch/run" "${extra[@]+"${extra[@]}"}" 2>&1 | tr '\r' '\n')
    local seconds waited
    seconds=$(grep -E '^epoch +1  train' <<<"$output" | sed -E 's/.* ([0-9.]+) s +[0-9]+ images\/s.*/\1/')
    waited=$(grep -E 'processes: gradients' <<<"$output" | sed -E 's/.*waited ([0-9.]+) s.*/\1/' || true)
    [[ -n $seconds ]] || { echo "$label: failed"; echo "$output" | tail -5; return; }
    if [[ -n $waited ]]; then
        printf '%-8s %-34s %7.2f s  waited %6.2f s  (%4.1f%%)\n' "$workload" "$label" "$seconds" "$waited" "$(awk -v w="$waited" -v s="$seconds" 'BEGIN { print 100 * w / s }')"
    else
        printf '%-8s %-34s %7.2f s\n' "$workload" "$label" "$seconds"
    fi
}

mpi=(mpirun --oversubscribe --bind-to none -np 2)
[[ $(id -u) -eq 0 ]] && mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
for workload in $workloads; do
    [[ $workload == conv64 && -z $images64 ]] && { echo "conv64: skipped (no --images64)"; continue; }
    run "1 process, 2 threads" "$workload" env -- --blas-threads 2
    run "2 ranks, shared memory, overlap" "$workload" "${mpi[@]}" -- --overlap on
    run "2 ranks, shared memory, no overlap" "$workload" "${mpi[@]}" -- --overlap off
done
for rate in $rates; do
    if [[ $rate == unshaped ]]; then "$here/network-hosts.sh" up 2 >/dev/null; else "$here/network-hosts.sh" up 2 --rate "$rate" >/dev/null; fi
    for workload in $workloads; do
        [[ $workload == conv64 && -z $images64 ]] && continue
        for sums in fp32 bf16; do
            run "2 hosts, $rate, $sums, overlap" "$workload" "$here/mpirun-hosts.sh" 2 -- --gradient-sums $sums --overlap on
            run "2 hosts, $rate, $sums, no overlap" "$workload" "$here/mpirun-hosts.sh" 2 -- --gradient-sums $sums --overlap off
        done
    done
done
rm -rf "$scratch"
