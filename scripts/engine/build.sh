#!/usr/bin/env bash
# Builds a real Pulumi engine from Go modules (no Pulumi binary can be downloaded here) and caches
# it by version: the CLI, the Node.js language host and the command/kubernetes providers, then
# installs the providers as plugins. A second run with the binaries cached builds nothing.
set -euo pipefail
PULUMI_VERSION=3.248.0
COMMAND_VERSION=1.2.1
KUBERNETES_VERSION=4.34.2
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
build pulumi-language-nodejs github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@v$PULUMI_VERSION \
  github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 "-X $PV" "$BIN/pulumi-language-nodejs" \
  "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION" "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION"
cat >"$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
# Dynamic providers (shipped as a script with the Pulumi CLI release).
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
SH
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"

PROV=$CACHE/providers; mkdir -p "$PROV"
build pulumi-resource-command github.com/pulumi/pulumi-command/provider@v$COMMAND_VERSION \
  github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command \
  "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" "$PROV/pulumi-resource-command-$COMMAND_VERSION"
build pulumi-resource-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4@v$KUBERNETES_VERSION \
  github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" "$PROV/pulumi-resource-kubernetes-$KUBERNETES_VERSION"

export PATH=$BIN:$PATH PULUMI_SKIP_UPDATE_CHECK=true
installed=$(pulumi plugin ls 2>/dev/null || true)
echo "$installed" | grep -qE "^command +resource +$COMMAND_VERSION" ||
  pulumi plugin install resource command $COMMAND_VERSION -f "$PROV/pulumi-resource-command-$COMMAND_VERSION" >/dev/null
echo "$installed" | grep -qE "^kubernetes +resource +$KUBERNETES_VERSION" ||
  pulumi plugin install resource kubernetes $KUBERNETES_VERSION -f "$PROV/pulumi-resource-kubernetes-$KUBERNETES_VERSION" >/dev/null
echo "engine ready: $("$BIN/pulumi" version) in $BIN"
