#!/usr/bin/env bash
# Gets a real Pulumi engine and installs the providers as plugins into a Pulumi home of the
# project's own cache (PULUMI_HOME, see env.sh), so nothing under ~/.pulumi leaks into the tests.
#
# The CLI: an installed `pulumi` at least as new as the SDK (@pulumi/pulumi in package.json), as on
# a user's machine; else built from Go modules and cached by version.
#
# The command provider (`command` 1.2.1), in this order:
#   1. CONTAINERD_NODE_COMMAND_PROVIDER=FILE, when given;
#   2. the official plugin: `pulumi plugin install` where the network allows it, or built from the
#      Go module proxy where it serves github.com/pulumi/pulumi-command;
#   3. the project's stand-in (lab/command-provider), built from served modules, cached by the hash
#      of its sources.
# It prints which one it installed and records that in $ENGINE/command-provider.txt (the e2e
# summary prints it).
#
# The Kubernetes provider (`kubernetes`, the version of @pulumi/kubernetes in package.json): built
# from the Go module proxy, cached by version, recorded in $ENGINE/kubernetes-provider.txt.
#
# A second run with everything cached builds nothing.
#
# build.sh [all|stack]: all (default), or stack: the CLI and the command provider only, what the
# stack program (index.ts, scripts/up.sh) needs.
set -euo pipefail
PART=${1:-all}
case $PART in all|stack) ;; *) echo "usage: $0 [all|stack]" >&2; exit 2;; esac
cd "$(dirname "$0")/../.."
ROOT=$PWD
SDK_VERSION=$(sed -n 's/^ *"@pulumi\/pulumi": "\([0-9.]*\)".*/\1/p' package.json)
COMMAND_VERSION=$(sed -n 's/^ *"@pulumi\/command": "\([0-9.]*\)".*/\1/p' package.json)
KUBERNETES_VERSION=$(sed -n 's/^ *"@pulumi\/kubernetes": "\([0-9.]*\)".*/\1/p' package.json)
ENGINE=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine
BIN=$ENGINE/bin
export PULUMI_HOME=$ENGINE/home PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p "$BIN" "$PULUMI_HOME"
source scripts/go-env.sh
export CGO_ENABLED=0

# replaces MODULE@VERSION: the module's own non-relative replace lines (a wrapper must repeat them).
replaces() {
  local gomod
  gomod=$(go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0; next} /^replace /{print}' "$gomod" | grep -v '=> \.' || true
}

# build NAME MODULE@VERSION PACKAGE LDFLAGS OUT [EXTRA_REQUIRE...]: go build through a wrapper module.
# MAIN=FUNCTION: instead of PACKAGE as the module has it, the main package that FUNCTION (called
# with MODULE@VERSION PACKAGE) lays out in the wrapper's main/ (for a main package that embeds files
# its release generates). ALIGN=BINARY: each module of the wrapper's build that BINARY (a Go
# program built here) was also built with is required at BINARY's version, unless its path matches
# the regular expression ALIGN_EXCEPT: Go's build cache then holds the packages the two share.
build() {
  local name=$1 modver=$2 pkg=$3 ldflags=$4 out=$5; shift 5
  if [ -x "$out" ]; then echo "reusing $out"; return 0; fi
  local w start
  w=$(mktemp -d)
  start=$(date +%s)
  ( cd "$w"
    printf 'module wrapper\n\ngo 1.25\n\nrequire %s %s\n' "${modver%@*}" "${modver#*@}" >go.mod
    for r in "$@"; do printf 'require %s\n' "$r" >>go.mod; done
    replaces "$modver" >>go.mod
    printf 'package wrapper\n\nimport _ "%s"\n' "$pkg" >tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
    if [ -n "${ALIGN:-}" ]; then
      go list -m all | awk 'NR > 1 {print $1}' >modules.txt
      go version -m "$ALIGN" | awk -v except="${ALIGN_EXCEPT:-^$}" 'NR == FNR {m[$1]; next}
        $1 == "dep" && ($2 in m) && $2 !~ except {print "require " $2 " " $3}' modules.txt - >>go.mod
      go mod tidy >/dev/null 2>&1 || go mod tidy
    fi
    if [ -n "${MAIN:-}" ]; then mkdir main; (cd main; "$MAIN" "$modver" "$pkg"); pkg=./main; fi
    go_compile build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg"
    mv "$out.tmp" "$out" )
  rm -rf "$w"
  echo "built $name in $(( $(date +%s) - start ))s"
}

# version_ge A B: A >= B (dotted numbers).
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

# --- the CLI
cli=""
if installed=$(PATH=${PATH//$BIN:/} command -v pulumi); then
  v=$("$installed" version 2>/dev/null | sed 's/^v//')
  if [ -n "$v" ] && version_ge "$v" "$SDK_VERSION"; then cli=$installed; cli_note="installed $installed v$v"; fi
fi
if [ -z "$cli" ]; then
  cli=$ENGINE/pulumi-$SDK_VERSION/pulumi
  mkdir -p "${cli%/*}"
  build pulumi "github.com/pulumi/pulumi/pkg/v3@v$SDK_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$SDK_VERSION" "$cli" \
    "github.com/pulumi/pulumi/sdk/v3 v$SDK_VERSION"
  cli_note="built v$SDK_VERSION"
fi
# Files another run may be using right now (a test of another checkout with the same cache) are
# replaced only when they change, and then by a rename: never seen half-written or missing.
[ "$(readlink "$BIN/pulumi" 2>/dev/null)" = "$cli" ] || { ln -sfn "$cli" "$BIN/pulumi.tmp"; mv -T "$BIN/pulumi.tmp" "$BIN/pulumi"; }
# No Node.js language host here (the Go module proxy does not serve it): programs run inline
# through the Automation API (scripts/stack.ts). Dynamic providers need this script, which the CLI
# release ships.
dynamic=$BIN/pulumi-resource-pulumi-nodejs
cat >"$dynamic.tmp" <<'SH'
#!/bin/sh
# Dynamic providers (shipped as a script with the Pulumi CLI release).
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
SH
chmod +x "$dynamic.tmp"
if cmp -s "$dynamic.tmp" "$dynamic"; then rm "$dynamic.tmp"; else mv "$dynamic.tmp" "$dynamic"; fi
export PATH=$BIN:$PATH

# --- the command provider
PROV=$ENGINE/providers
mkdir -p "$PROV"
record=$ENGINE/command-provider.txt
plugin_dir=$PULUMI_HOME/plugins/resource-command-v$COMMAND_VERSION
# install_plugin NAME VERSION RECORD FILE NOTE: the resource plugin NAME VERSION from FILE into the
# project's Pulumi home, unless RECORD says that very file is what is installed.
install_plugin() {
  local sum
  sum=$(sha256sum "$4" | cut -c1-16)
  if [ -f "$3" ] && [ -d "$PULUMI_HOME/plugins/resource-$1-v$2" ] && grep -q "sha256 $sum" "$3"; then return 0; fi
  local out
  out=$(pulumi plugin install resource "$1" "$2" -f "$4" --reinstall 2>&1) || { echo "$out" >&2; return 1; }
  echo "$5 (sha256 $sum)" >"$3"
}
# install FILE NOTE: the command provider.
install() { install_plugin command "$COMMAND_VERSION" "$record" "$1" "$2"; }
official_note="official $COMMAND_VERSION (pulumi plugin install)"
if [ -n "${CONTAINERD_NODE_COMMAND_PROVIDER:-}" ]; then
  [ -x "$CONTAINERD_NODE_COMMAND_PROVIDER" ] || { echo "error: CONTAINERD_NODE_COMMAND_PROVIDER=$CONTAINERD_NODE_COMMAND_PROVIDER is not an executable file" >&2; exit 1; }
  install "$CONTAINERD_NODE_COMMAND_PROVIDER" "given: $CONTAINERD_NODE_COMMAND_PROVIDER"
elif [ -f "$record" ] && [ -d "$plugin_dir" ] && grep -q "^$official_note" "$record"; then
  : # the official release, installed by an earlier run
elif go mod download "github.com/pulumi/pulumi-command/provider@v$COMMAND_VERSION" >/dev/null 2>&1; then
  bin=$PROV/official-$COMMAND_VERSION/pulumi-resource-command
  mkdir -p "${bin%/*}"
  build pulumi-resource-command "github.com/pulumi/pulumi-command/provider@v$COMMAND_VERSION" \
    github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" "$bin"
  install "$bin" "official $COMMAND_VERSION (built from the Go module proxy)"
elif dl=$(mktemp -d) && PULUMI_HOME=$dl pulumi plugin install resource command "$COMMAND_VERSION" >/dev/null 2>&1; then
  # Downloaded into a Pulumi home of its own first: a failed download must not touch the installed one.
  install "$dl/plugins/resource-command-v$COMMAND_VERSION/pulumi-resource-command" "$official_note"
  rm -rf "$dl"
else
  rm -rf "$dl"
  src=lab/command-provider
  sources=("$src"/go.mod "$src"/go.sum)
  for f in "$src"/*.go; do [[ $f == *_test.go ]] || sources+=("$f"); done
  hash=$(cat "${sources[@]}" | sha256sum | cut -c1-16)
  bin=$PROV/stand-in-$hash/pulumi-resource-command
  if [ ! -x "$bin" ]; then
    rm -rf "$PROV"/stand-in-*  # builds of older sources
    start=$(date +%s)
    mkdir -p "${bin%/*}"
    (cd "$src" && go_compile build -trimpath -ldflags "-s -w" -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
    echo "built the stand-in command provider in $(( $(date +%s) - start ))s"
  fi
  install "$bin" "stand-in $COMMAND_VERSION (lab/command-provider, sources $hash): the official plugin could not be had here"
fi

if [ "$PART" = stack ]; then
  echo "engine ready: pulumi $(pulumi version) ($cli_note); command provider: $(cut -d'(' -f1 "$record" | sed 's/ *$//')"
  echo "  $(cat "$record")"
  exit 0
fi

# --- the YAML language host
# `pulumi-language-yaml` runs Pulumi YAML programs (examples/yaml-fleet/, the multi-language use of
# this package's provider plugin). Built from github.com/pulumi/pulumi-yaml, cached by version, on
# PATH beside the CLI (the CLI finds a language host named pulumi-language-NAME on PATH). Built with
# the Pulumi SDK its own go.mod names (v3.206.0): 1.25.0 does not compile against the CLI's 3.248.
YAML_VERSION=1.25.0
yaml_host=$ENGINE/language-yaml-$YAML_VERSION/pulumi-language-yaml
mkdir -p "${yaml_host%/*}"
build pulumi-language-yaml "github.com/pulumi/pulumi-yaml@v$YAML_VERSION" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
  "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$YAML_VERSION" "$yaml_host"
[ "$(readlink "$BIN/pulumi-language-yaml" 2>/dev/null)" = "$yaml_host" ] || { ln -sfn "$yaml_host" "$BIN/pulumi-language-yaml.tmp"; mv -T "$BIN/pulumi-language-yaml.tmp" "$BIN/pulumi-language-yaml"; }

# --- SDK generation for Go and Python (`pulumi package gen-sdk`)
# gen-sdk asks each language's host to generate; the Go module proxy here serves neither the Go nor
# the Python language host, so a stand-in (lab/sdkgen/main.go: GeneratePackage only, with the code
# generators of github.com/pulumi/pulumi/pkg/v3 that those hosts call) is built, cached by the hash
# of its source, and named pulumi-language-go and pulumi-language-python in $ENGINE/sdkgen/bin,
# which is not on PATH: only the SDK test puts it there (tests/e2e/yaml.e2e.ts).
sdkgen_hash=$( (cat lab/sdkgen/main.go; echo "$SDK_VERSION") | sha256sum | cut -c1-16)
sdkgen_bin=$ENGINE/sdkgen-$sdkgen_hash/pulumi-language-sdkgen
sdkgen_main() { cp "$ROOT/lab/sdkgen/main.go" .; }
mkdir -p "${sdkgen_bin%/*}" "$ENGINE/sdkgen/bin"
MAIN=sdkgen_main build pulumi-language-sdkgen "github.com/pulumi/pulumi/pkg/v3@v$SDK_VERSION" github.com/pulumi/pulumi/pkg/v3/codegen/go \
  "" "$sdkgen_bin" "github.com/pulumi/pulumi/sdk/v3 v$SDK_VERSION"
for l in go python; do
  [ "$(readlink "$ENGINE/sdkgen/bin/pulumi-language-$l" 2>/dev/null)" = "$sdkgen_bin" ] || ln -sfn "$sdkgen_bin" "$ENGINE/sdkgen/bin/pulumi-language-$l"
done
for d in "$ENGINE"/sdkgen-*; do [ "$d" = "${sdkgen_bin%/*}" ] || rm -rf "$d"; done  # builds of older sources

# --- the Kubernetes provider
# The module github.com/pulumi/pulumi-kubernetes/provider/v4: the Go module proxy serves no tagged
# v4.25.0 of it, only pseudo-versions. This one is the v4.25.0 release commit.
KUBERNETES_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
[ "$KUBERNETES_VERSION" = 4.25.0 ] || { echo "error: package.json has @pulumi/kubernetes ${KUBERNETES_VERSION:-(none)}, KUBERNETES_MODULE in $0 is the 4.25.0 release commit: set it to that release's commit" >&2; exit 1; }
k8s_record=$ENGINE/kubernetes-provider.txt
# kubernetes_main MODULE@VERSION PACKAGE: the provider's main package (its .go files as the module
# has them) beside the two files it embeds, schema-embed.json and terraform-mapping-embed.json. The
# module does not ship those: the release makes them with `VERSION=V go generate`, which runs
# generate.go beside main.go (schema.json with its version set to V, and terraform-mapping.json,
# each re-serialized). Here the same generator makes them.
kubernetes_main() {
  local src
  src=$(go list -m -f '{{.Dir}}' "${1%@*}")/${2#"${1%@*}"/}
  cp "$src"/*.go .
  ln -s "$src/schema.json" "$src/terraform-mapping.json" .
  go_compile build -o ../generate "$src/generate.go"
  VERSION=$KUBERNETES_VERSION ../generate
  rm -f schema.json terraform-mapping.json
}
# The modules it shares with the CLI (gRPC, protobuf, golang.org/x, go-git, OpenTelemetry...) at the
# CLI's versions (ALIGN), so that about 290 of its 1,750 packages come from Go's build cache; not
# the Pulumi SDK itself: the provider does not compile against the CLI's (v$SDK_VERSION: pkg/v3's
# codegen/schema and sdk/v3's plugin API changed since the v3.215.0 its go.mod names), and the CLI's
# pulumi/esc asks for a pkg/v3 the Go module proxy does not serve.
k8s_bin=$PROV/kubernetes-$KUBERNETES_VERSION-cli-$SDK_VERSION/pulumi-resource-kubernetes
mkdir -p "${k8s_bin%/*}"
for d in "$PROV"/kubernetes-*; do [ "$d" = "${k8s_bin%/*}" ] || rm -rf "$d"; done  # built beside another CLI
# The release builds with the sdk/ of its own tree (the module's go.mod replaces sdk/v4 with ../sdk,
# which a wrapper cannot repeat): here sdk/v4 v$KUBERNETES_VERSION, the release's sdk as tagged.
MAIN=kubernetes_main ALIGN=$cli ALIGN_EXCEPT='^github.com/pulumi/(pulumi/|esc$)' build pulumi-resource-kubernetes "$KUBERNETES_MODULE" \
  github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" "$k8s_bin" \
  "github.com/pulumi/pulumi-kubernetes/sdk/v4 v$KUBERNETES_VERSION"
install_plugin kubernetes "$KUBERNETES_VERSION" "$k8s_record" "$k8s_bin" \
  "official $KUBERNETES_VERSION (built from the Go module proxy, ${KUBERNETES_MODULE#*@}, its modules shared with the CLI at the CLI's versions)"

echo "engine ready: pulumi $(pulumi version) ($cli_note); command provider: $(cut -d'(' -f1 "$record" | sed 's/ *$//')"
echo "  $(cat "$record")"
echo "  kubernetes provider: $(cat "$k8s_record")"
echo "  YAML language host: $YAML_VERSION ($yaml_host)"
