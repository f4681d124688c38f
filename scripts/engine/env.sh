# Source me: puts the cached Pulumi engine (scripts/engine/build.sh) first on PATH.
export PATH="${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine/pulumi-3.248.0:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
