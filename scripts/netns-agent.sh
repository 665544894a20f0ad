#!/bin/sh
# Open MPI's remote-start agent (plm_rsh_agent) for the hosts of scripts/network-hosts.sh: where
# mpirun would run `ssh HOST COMMAND`, this runs COMMAND in the network namespace that holds
# HOST's address, with its own host name (a UTS namespace), so Open MPI sees separate machines.
#   netns-agent.sh 10.77.0.2 'orted ...'   (runs in namespace vae0-host-2)
set -eu
host=$1
shift
if ! expr "$host" : '10\.77\.[0-9]\{1,2\}\.[0-9]\{1,3\}$' >/dev/null; then
    echo "netns-agent.sh: '$host' is not a host of scripts/network-hosts.sh (10.77.K.N)" >&2
    exit 1
fi
network=${host#10.77.}
network=${network%%.*}
namespace=vae$network-host-${host##*.}
if ! ip netns list | awk '{print $1}' | grep -qx "$namespace"; then
    echo "netns-agent.sh: no namespace $namespace for $host; run scripts/network-hosts.sh up first" >&2
    exit 1
fi
exec ip netns exec "$namespace" unshare --uts /bin/sh -c "hostname $namespace && $*"
