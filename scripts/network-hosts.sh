#!/usr/bin/env bash
# Hosts on one machine for MPI over a network: N Linux network namespaces, each with its own
# interface, joined through a bridge like machines through a switch, optionally shaped by tc's
# token-bucket filter to a link speed.
#
#   scripts/network-hosts.sh up N [--rate RATE]   make hosts 1..N (10.77.K.1 .. 10.77.K.N)
#   scripts/network-hosts.sh down                 remove them, the bridge and every veth
#   scripts/network-hosts.sh list                 the hosts' addresses, one per line
# Each takes --network K (0-99, default 0, or $VAE_NETWORK): separate sets of hosts, so that a
# test's hosts never touch a user's.
#
# Layout: the bridge vaebrK holds 10.77.K.254/24 in this (the launching) namespace, where mpirun
# runs; host i is the namespace vaeK-host-i, whose eth0 (10.77.K.i/24) is one end of a veth pair
# whose other end, vaeK-veth-i, is a port of the bridge. With --rate (tc's units: 1gbit, 10gbit,
# 100mbit), both ends of every pair get a tbf qdisc at that rate: traffic into and out of each
# host is limited as by a full-duplex network card of that speed. The queue holds 50 ms at the
# rate (a switch's buffer), and the bucket 1 ms of it, at least 64 KiB (TCP's segments offload in
# 64 KiB pieces on veth).
#
# Ranks start in the hosts through scripts/netns-agent.sh (Open MPI's plm_rsh_agent); see
# scripts/mpirun-hosts.sh. Needs root (or CAP_NET_ADMIN) and iproute2. Safe to run twice: `up`
# first removes what an earlier `up` left.
set -euo pipefail

usage() { sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The network: --network K anywhere among the arguments, else $VAE_NETWORK, else 0.
network=${VAE_NETWORK:-0}
arguments=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == --network ]]; then
        [[ $# -ge 2 ]] || usage
        network=$2; shift 2
    else
        arguments+=("$1"); shift
    fi
done
set -- "${arguments[@]+"${arguments[@]}"}"
[[ $network =~ ^[0-9]+$ ]] && (( network <= 99 )) || { echo "error: --network '$network': expected 0 to 99" >&2; exit 2; }
prefix=10.77.$network
bridge=vaebr$network
host_prefix=vae$network-host-
veth_prefix=vae$network-veth-

down() {
    for namespace in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$host_prefix" || true); do
        ip netns delete "$namespace"
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$veth_prefix" || true); do
        ip link delete "$link" 2>/dev/null || true
    done
    if ip link show "$bridge" >/dev/null 2>&1; then ip link delete "$bridge"; fi
}

# shape DEVICE RATE [NAMESPACE]: a tbf root qdisc at RATE on DEVICE's egress.
shape() {
    local device=$1 rate=$2 namespace=${3:-}
    local bits
    bits=$(tc_rate_bits "$rate")
    local burst=$(( bits / 8 / 1000 )) limit=$(( bits / 8 / 20 ))
    (( burst < 65536 )) && burst=65536
    (( limit < 4 * burst )) && limit=$(( 4 * burst ))
    tc ${namespace:+-netns "$namespace"} qdisc replace dev "$device" root tbf rate "$rate" burst "$burst" limit "$limit"
}

# tc_rate_bits RATE: bits per second of a rate in tc's units (kbit, mbit, gbit, or plain bit/s).
tc_rate_bits() {
    local rate=${1,,}
    case $rate in
        *gbit) echo $(( ${rate%gbit} * 1000000000 )) ;;
        *mbit) echo $(( ${rate%mbit} * 1000000 )) ;;
        *kbit) echo $(( ${rate%kbit} * 1000 )) ;;
        *bit) echo $(( ${rate%bit} )) ;;
        *) echo "error: --rate $1: expected a whole number with kbit, mbit or gbit, e.g. 1gbit" >&2; exit 2 ;;
    esac
}

up() {
    local count=$1 rate=$2
    [[ $count =~ ^[0-9]+$ ]] && (( count >= 1 && count <= 200 )) || { echo "error: host count '$count': expected 1 to 200" >&2; exit 2; }
    [[ -z $rate ]] || tc_rate_bits "$rate" >/dev/null
    command -v ip >/dev/null && command -v tc >/dev/null || { echo "error: ip and tc (Debian's iproute2) are needed" >&2; exit 1; }
    down
    ip link add "$bridge" type bridge
    ip addr add "$prefix.254/24" dev "$bridge"
    ip link set "$bridge" up
    for (( host = 1; host <= count; host++ )); do
        local namespace=$host_prefix$host outer=$veth_prefix$host
        ip netns add "$namespace"
        ip link add "$outer" type veth peer name eth0 netns "$namespace"
        ip link set "$outer" master "$bridge"
        ip link set "$outer" up
        ip -n "$namespace" addr add "$prefix.$host/24" dev eth0
        ip -n "$namespace" link set eth0 up
        ip -n "$namespace" link set lo up
        if [[ -n $rate ]]; then
            shape "$outer" "$rate"
            shape eth0 "$rate" "$namespace"
        fi
    done
    # Each host answers the others (a check that the bridge forwards).
    if (( count >= 2 )) && command -v ping >/dev/null; then
        ip netns exec "${host_prefix}1" ping -c 1 -W 2 "$prefix.2" >/dev/null \
            || { echo "error: host 1 cannot reach host 2 over $bridge (is the bridge filtered by iptables?)" >&2; exit 1; }
    fi
    echo "hosts 1..$count up on $bridge ($prefix.1-$prefix.$count)${rate:+, links shaped to $rate}"
}

case ${1:-} in
    up)
        shift
        [[ $# -ge 1 ]] || usage
        count=$1; shift
        rate=
        while [[ $# -gt 0 ]]; do
            case $1 in
                --rate) [[ $# -ge 2 ]] || usage; rate=$2; shift 2 ;;
                *) echo "error: unknown option '$1'" >&2; usage ;;
            esac
        done
        up "$count" "$rate" ;;
    down) down ;;
    list) for namespace in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$host_prefix" | sort -t- -k3 -n); do echo "$prefix.${namespace#"$host_prefix"}"; done ;;
    *) usage ;;
esac
