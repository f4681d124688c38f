# Shared settings of the lab scripts (sourced).
set -euo pipefail
LAB_CACHE=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/lab
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.lab}
# Bump when the base recipe changes: the cached tree is keyed by it.
BASE_VERSION=2
BASE=$LAB_CACHE/base-bookworm-v$BASE_VERSION
KEY=$LAB_DIR/id_ed25519
mkdir -p "$LAB_CACHE" "$LAB_DIR/nodes"
# The Debian mirror apt uses on this machine; the nodes use the same one.
mirror() { awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || echo http://deb.debian.org/debian; }
node_ssh() { local name=$1; shift; ssh -q -i "$KEY" -p "$(cat "$LAB_DIR/$name.port")" -o BatchMode=yes -o StrictHostKeyChecking=yes \
  -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o ConnectTimeout=5 root@127.0.0.1 "$@"; }
