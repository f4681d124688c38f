#!/usr/bin/env bash
# Builds a real Pulumi engine from Go modules (no Pulumi binary can be downloaded here) and caches
# it by version: the CLI and the command provider, then
# installs the providers as plugins. A second run with the binaries cached builds nothing.
set -euo pipefail
PULUMI_VERSION=3.248.0
COMMAND_VERSION=1.2.1
CACHE=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine
BIN=$CACHE/pulumi-$PULUMI_VERSION
mkdir -p "$BIN"
export GOFLAGS=-mod=mod CGO_ENABLED=0

# replaces MODULE@VERSION: the module's own non-relative replace lines (a wrapper must repeat them).
replaces() {
  local gomod
  gomod=$(go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0; next} /^replace /{print}' "$gomod" | grep -v '=> \.' || true
}

# build NAME MODULE@VERSION PACKAGE LDFLAGS [EXTRA_REQUIRE...]: go build through a wrapper module.
build() {
  local name=$1 modver=$2 pkg=$3 ldflags=$4 out=$5; shift 5
  if [ -x "$out" ]; then echo "reusing $out"; return 0; fi
  local w; w=$(mktemp -d)
  local start=$(date +%s)
  ( cd "$w"
    printf 'module wrapper\n\ngo 1.25\n\nrequire %s %s\n' "${modver%@*}" "${modver#*@}" >go.mod
    for r in "$@"; do printf 'require %s\n' "$r" >>go.mod; done
    replaces "$modver" >>go.mod
    printf 'package wrapper\n\nimport _ "%s"\n' "$pkg" >tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
    go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg"
    mv "$out.tmp" "$out" )
  rm -rf "$w"
  echo "built $name in $(( $(date +%s) - start ))s"
}

PV=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION
build pulumi github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X $PV" "$BIN/pulumi" "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"
# No Node.js language host: github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 is not
# served by the Go module proxy here. Programs run inline through the Automation API instead
# (scripts/stack.ts), which needs none.
cat >"$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
# Dynamic providers (shipped as a script with the Pulumi CLI release).
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
SH
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"

PROV=$CACHE/providers; mkdir -p "$PROV"
export PATH=$BIN:$PATH PULUMI_SKIP_UPDATE_CHECK=true
installed=$(pulumi plugin ls 2>/dev/null || true)
has_plugin() { echo "$installed" | grep -qE "^$1 +resource +$2( |$)"; }

# The command provider: the plugin if already installed; else built from the Go module proxy; else
# the official release through `pulumi plugin install` (needs github.com). Here the proxy refuses
# github.com/pulumi/pulumi-command and there is no other network, so a fresh machine of this kind
# must be given the binary (CONTAINERD_NODE_COMMAND_PROVIDER=/path/to/pulumi-resource-command).
if ! has_plugin command $COMMAND_VERSION; then
  bin=${CONTAINERD_NODE_COMMAND_PROVIDER:-$PROV/pulumi-resource-command-$COMMAND_VERSION}
  [ -x "$bin" ] || ! go mod download "github.com/pulumi/pulumi-command/provider@v$COMMAND_VERSION" 2>/dev/null ||
    build pulumi-resource-command github.com/pulumi/pulumi-command/provider@v$COMMAND_VERSION \
    github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" "$bin"
  if [ -x "$bin" ]; then
    pulumi plugin install resource command $COMMAND_VERSION -f "$bin" >/dev/null
  elif ! pulumi plugin install resource command $COMMAND_VERSION >/dev/null 2>&1; then
    echo "error: the Pulumi command provider $COMMAND_VERSION is not installed and cannot be had here:" >&2
    echo "  the Go module proxy does not serve github.com/pulumi/pulumi-command and its release cannot be downloaded." >&2
    echo "  Install it with 'pulumi plugin install resource command $COMMAND_VERSION -f FILE'" >&2
    echo "  or set CONTAINERD_NODE_COMMAND_PROVIDER=FILE." >&2
    exit 1
  fi
fi
echo "engine ready: $("$BIN/pulumi" version) in $BIN; $(pulumi plugin ls 2>/dev/null | awk '$1=="command"{print "command provider " $3}')"
