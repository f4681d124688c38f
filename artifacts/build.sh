#!/usr/bin/env bash
# Builds containerd and runc from Go modules, packed in the official release layout
# (containerd-V-linux-amd64.tar.gz with bin/, runc.amd64, each with a .sha256sum), cached by
# version, and containerd-V.service, the unit of that tag. Writes artifacts.env (versions, paths,
# checksums) for the tests to source.
#   containerd 2.2.9 (CONTAINERD2_*): what the component installs by default
#   containerd 1.7.35 (CONTAINERD17_*): the lab's "before" for in-place upgrades (lab/node-17.sh)
#   containerd 2.3.7 (CONTAINERD23_*): the supported LTS-to-LTS upgrade target from 1.7
#   containerd 2.3.6 (CONTAINERD236_*): the patch release before it (the in-place patch upgrade)
#   BuildKit 0.34.2 (BUILDKIT_*): buildkit-vV.linux-amd64.tar.gz (bin/buildkitd, bin/buildctl), and
#   crictl (CRICTL_*): crictl-vV-linux-amd64.tar.gz (crictl), for the `tools` input
# build.sh [all|stack]: all of them (default), or only what the stack program (scripts/up.sh)
# installs: containerd 2.2.9 and runc; artifacts.env then names only those.
set -euo pipefail
PART=${1:-all}
case $PART in all|stack) ;; *) echo "usage: $0 [all|stack]" >&2; exit 2;; esac
CONTAINERD_VERSION=2.2.9
CONTAINERD17_VERSION=1.7.35
CONTAINERD23_VERSION=2.3.7
CONTAINERD236_VERSION=2.3.6
RUNC_VERSION=1.3.6
BUILDKIT_VERSION=0.34.2
OUT=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts
source "$(dirname "$0")/../scripts/go-env.sh"
mkdir -p "$OUT"
RUNC=runc-$RUNC_VERSION.amd64
# Static, no cgo: the snapshotters that need it (btrfs) or external tools (devmapper, zfs) left out.
TAGS="urfave_cli_no_docs no_btrfs no_devmapper no_zfs"

# checksum FILE: $OUT/FILE.sha256sum, unless it is already newer than FILE; written aside and
# renamed (a run of another checkout with the same cache may be reading it).
checksum() {
  [ "$OUT/$1.sha256sum" -nt "$OUT/$1" ] && return 0
  (cd "$OUT" && sha256sum "$1" >"$1.sha256sum.tmp" && mv "$1.sha256sum.tmp" "$1.sha256sum")
}

# build_containerd VERSION: $OUT/containerd-VERSION-linux-amd64.tar.gz (bin/containerd,
# containerd-shim-runc-v2, ctr; 1.x also the v1 shims its releases ship) and its .sha256sum, and
# beside them containerd-VERSION.service, the unit containerd ships at that tag (installers fetch
# it from the repository: it is not in the tarball).
build_containerd() {
  local v=$1 tar=containerd-$1-linux-amd64.tar.gz start w mod cmds cmd ld gomod pkgs
  if [ "${v%%.*}" = 1 ]; then
    mod=github.com/containerd/containerd
    cmds="containerd containerd-shim containerd-shim-runc-v1 containerd-shim-runc-v2 ctr"
  else
    mod=github.com/containerd/containerd/v${v%%.*}
    cmds="containerd containerd-shim-runc-v2 ctr"
  fi
  if [ -f "$OUT/$tar" ]; then
    echo "reusing $OUT/$tar"
  else
    start=$(date +%s)
    w=$(mktemp -d); mkdir -p "$w/bin"
    ld="-s -w -X $mod/version.Version=v$v -X $mod/version.Revision=containerd-node-lab"
    gomod=$(go mod download -json "$mod@v$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    pkgs=(); for cmd in $cmds; do pkgs+=("$mod/cmd/$cmd"); done
    if grep -Eq '^(replace|exclude)' "$gomod"; then
      # `go install pkg@version` refuses a module whose go.mod has replace or exclude directives
      # (1.7's excludes an indirect dependency): build it from a wrapper module that requires it
      # and carries those lines, as scripts/kube/build.sh does for Kubernetes.
      ( cd "$w"
        printf 'module wrapper\n\ngo %s\n\nrequire %s v%s\n' "$(awk '/^go /{print $2; exit}' "$gomod")" "$mod" "$v" >go.mod
        awk '/^(replace|exclude) \(/{b=$1;next} b&&/^\)/{b="";next} b{print b " " $0} /^(replace|exclude) [^(]/' "$gomod" >>go.mod
        printf 'package wrapper\n\nimport (\n' >tools.go
        for cmd in $cmds; do printf '\t_ "%s/cmd/%s"\n' "$mod" "$cmd" >>tools.go; done
        printf ')\n' >>tools.go
        go mod tidy >/dev/null 2>&1 || go mod tidy
        # One go build for all of them: it links one binary while it compiles the next one's packages.
        CGO_ENABLED=0 go_compile build -trimpath -tags "$TAGS" -ldflags "$ld" -o bin/ "${pkgs[@]}" )
    else
      CGO_ENABLED=0 GOBIN="$w/bin" go_compile install -trimpath -tags "$TAGS" -ldflags "$ld" "${pkgs[@]/%/@v$v}"
    fi
    tar -C "$w" -czf "$OUT/$tar.tmp" bin && mv "$OUT/$tar.tmp" "$OUT/$tar"
    rm -rf "$w"
    echo "built containerd $v in $(( $(date +%s) - start ))s"
  fi
  checksum "$tar"
  [ -f "$OUT/containerd-$v.service" ] ||
    install -m 0644 "$(go mod download -json "$mod@v$v" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/containerd.service" "$OUT/containerd-$v.service"
}
build_containerd "$CONTAINERD_VERSION"
if [ "$PART" = all ]; then
  build_containerd "$CONTAINERD17_VERSION"
  build_containerd "$CONTAINERD23_VERSION"
  build_containerd "$CONTAINERD236_VERSION"
fi

# build_buildkit VERSION: $OUT/buildkit-vVERSION.linux-amd64.tar.gz, the layout of BuildKit's
# release tarballs (bin/buildkitd, bin/buildctl; the releases add runc, CNI and QEMU helpers the
# containerd worker does not use), and its .sha256sum. Static, no cgo (so no seccomp tag, which only
# the OCI worker's own runc needs), version stamped as its Dockerfile stamps it. Its go.mod has
# `exclude` lines, so, like containerd 1.7, it is built from a wrapper module that carries them.
build_buildkit() {
  local v=$1 tar=buildkit-v$1.linux-amd64.tar.gz mod=github.com/moby/buildkit start w gomod ld cmd
  if [ -f "$OUT/$tar" ]; then echo "reusing $OUT/$tar"; checksum "$tar"; return 0; fi
  start=$(date +%s)
  w=$(mktemp -d); mkdir -p "$w/bin"
  gomod=$(go mod download -json "$mod@v$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  ld="-s -w -X $mod/version.Version=v$v -X $mod/version.Revision=containerd-node-lab -X $mod/version.Package=$mod"
  ( cd "$w"
    printf 'module wrapper\n\ngo %s\n\nrequire %s v%s\n' "$(awk '/^go /{print $2; exit}' "$gomod")" "$mod" "$v" >go.mod
    awk '/^(replace|exclude) \(/{b=$1;next} b&&/^\)/{b="";next} b&&!/^[[:space:]]*(\/\/|$)/{print b " " $0} /^(replace|exclude) [^(]/' "$gomod" >>go.mod
    printf 'package wrapper\n\nimport (\n\t_ "%s/cmd/buildkitd"\n\t_ "%s/cmd/buildctl"\n)\n' "$mod" "$mod" >tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
    CGO_ENABLED=0 go_compile build -trimpath -tags "osusergo netgo static_build" -ldflags "$ld" -o bin/ "$mod/cmd/buildkitd" "$mod/cmd/buildctl" )
  tar -C "$w" -czf "$OUT/$tar.tmp" bin && mv "$OUT/$tar.tmp" "$OUT/$tar"
  rm -rf "$w"
  echo "built BuildKit $v in $(( $(date +%s) - start ))s"
  checksum "$tar"
}

# build_crictl VERSION: $OUT/crictl-vVERSION-linux-amd64.tar.gz (crictl at its top, as cri-tools
# releases it) and its .sha256sum; its version stamped as cri-tools' Makefile stamps it (the lab
# nodes' own crictl, scripts/kube/build.sh, is not: it says "unknown").
build_crictl() {
  local v=$1 tar=crictl-v$1-linux-amd64.tar.gz w start
  if [ -f "$OUT/$tar" ]; then echo "reusing $OUT/$tar"; checksum "$tar"; return 0; fi
  start=$(date +%s)
  w=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$w" go_compile install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v$v" "sigs.k8s.io/cri-tools/cmd/crictl@v$v"
  tar -C "$w" -czf "$OUT/$tar.tmp" crictl && mv "$OUT/$tar.tmp" "$OUT/$tar"
  rm -rf "$w"
  echo "built crictl $v in $(( $(date +%s) - start ))s"
  checksum "$tar"
}
if [ "$PART" = all ]; then
  build_buildkit "$BUILDKIT_VERSION"
  CRICTL_VERSION=$(sed -n 's/^CRICTL_VERSION=//p' "$(dirname "$0")/../scripts/kube/versions.env")
  build_crictl "$CRICTL_VERSION"
fi

if [ ! -f "$OUT/$RUNC" ]; then
  start=$(date +%s)
  dpkg -s libseccomp-dev pkg-config >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev pkg-config >/dev/null; }
  w=$(mktemp -d)
  # Linked against the host's libseccomp (bookworm, like the lab nodes).
  CGO_ENABLED=1 GOBIN="$w" go_compile install -trimpath -tags seccomp -ldflags "-s -w -X main.version=$RUNC_VERSION" "github.com/opencontainers/runc@v$RUNC_VERSION"
  mv "$w/runc" "$OUT/$RUNC"; rm -rf "$w"
  echo "built runc $RUNC_VERSION in $(( $(date +%s) - start ))s"
else
  echo "reusing $OUT/$RUNC"
fi
checksum "$RUNC"

# containerd_env PREFIX VERSION: PREFIX_VERSION, PREFIX_FILE, PREFIX_SHA256 (nothing for a version not built).
containerd_env() {
  local t=containerd-$2-linux-amd64.tar.gz
  [ -f "$OUT/$t.sha256sum" ] || return 0
  printf '%s_VERSION=%s\n%s_FILE=%s\n%s_SHA256=%s\n' "$1" "$2" "$1" "$t" "$1" "$(cut -d' ' -f1 "$OUT/$t.sha256sum")"
}
# tool_env PREFIX VERSION FILE: PREFIX_VERSION, PREFIX_FILE, PREFIX_SHA256 (nothing for a file not built).
tool_env() {
  [ -f "$OUT/$3.sha256sum" ] || return 0
  printf '%s_VERSION=%s\n%s_FILE=%s\n%s_SHA256=%s\n' "$1" "$2" "$1" "$3" "$1" "$(cut -d' ' -f1 "$OUT/$3.sha256sum")"
}
# Written aside and renamed, like the checksums.
sed '/^$/d' >"$OUT/artifacts.env.tmp" <<ENV
ARTIFACTS_DIR=$OUT
$(containerd_env CONTAINERD2 "$CONTAINERD_VERSION")
$(containerd_env CONTAINERD17 "$CONTAINERD17_VERSION")
$(containerd_env CONTAINERD23 "$CONTAINERD23_VERSION")
$(containerd_env CONTAINERD236 "$CONTAINERD236_VERSION")
RUNC_VERSION=$RUNC_VERSION
RUNC_FILE=$RUNC
RUNC_SHA256=$(cut -d' ' -f1 "$OUT/$RUNC.sha256sum")
$(tool_env BUILDKIT "${BUILDKIT_VERSION}" "buildkit-v$BUILDKIT_VERSION.linux-amd64.tar.gz")
$(tool_env CRICTL "${CRICTL_VERSION:-}" "crictl-v${CRICTL_VERSION:-}-linux-amd64.tar.gz")
ENV
mv "$OUT/artifacts.env.tmp" "$OUT/artifacts.env"
cat "$OUT/artifacts.env"
