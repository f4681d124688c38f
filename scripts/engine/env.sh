# shellcheck shell=bash
# Source me: puts the Pulumi CLI that scripts/engine/build.sh chose first on PATH, and uses the
# project's own Pulumi home, where that script installed the plugins.
export PATH="${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine/bin:$PATH"
export PULUMI_HOME="${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine/home"
export PULUMI_SKIP_UPDATE_CHECK=true
