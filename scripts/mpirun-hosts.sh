#!/usr/bin/env bash
# mpirun with one rank in each host of scripts/network-hosts.sh, over Open MPI's TCP transport
# only (shared memory switched off), so ranks talk as over a network:
#   scripts/mpirun-hosts.sh N COMMAND [ARGUMENTS...]
# starts ranks 0..N-1 on hosts 10.77.K.1 .. 10.77.K.N (K: $VAE_NETWORK, default 0) through
# scripts/netns-agent.sh. Both the messages (btl) and mpirun's own control channel (oob) use the
# hosts' subnet only.
#
# btl_tcp_links 2: two TCP connections between each pair of ranks. With one, a two-rank ring
# allreduce of 2.6 MB over a 1 Gbit/s link takes 2.0x its link floor (the two directions of a
# pair's one connection take turns); with two it takes 1.05x. Extra mpirun options go in
# MPIRUN_OPTIONS.
set -euo pipefail
[[ $# -ge 2 && $1 =~ ^[0-9]+$ ]] || { echo "usage: $0 N COMMAND [ARGUMENTS...]" >&2; exit 2; }
count=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
network=${VAE_NETWORK:-0}
hosts=$("$here/network-hosts.sh" list --network "$network" | head -n "$count" | sed 's/$/:1/' | paste -sd, -)
[[ $(tr ',' '\n' <<<"$hosts" | grep -c .) -eq $count ]] \
    || { echo "error: fewer than $count hosts are up; run scripts/network-hosts.sh up $count --network $network first" >&2; exit 1; }
root=()
[[ $(id -u) -eq 0 ]] && root=(--allow-run-as-root)
# shellcheck disable=SC2086
exec mpirun "${root[@]}" --oversubscribe --bind-to none -np "$count" --host "$hosts" \
    --mca plm_rsh_agent "$here/netns-agent.sh" \
    --mca btl tcp,self --mca btl_tcp_if_include "10.77.$network.0/24" --mca oob_tcp_if_include "10.77.$network.0/24" \
    --mca btl_tcp_links 2 ${MPIRUN_OPTIONS:-} "$@"
