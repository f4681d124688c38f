#!/usr/bin/env bash
# Builds containerd 2.x and runc from Go modules, packed in the official release layout
# (containerd-V-linux-amd64.tar.gz with bin/, runc.amd64, each with a .sha256sum), cached by
# version. Writes artifacts.env (versions, paths, checksums) for the tests to source.
set -euo pipefail
CONTAINERD_VERSION=2.2.9
RUNC_VERSION=1.3.6
OUT=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts
mkdir -p "$OUT"
TAR=containerd-$CONTAINERD_VERSION-linux-amd64.tar.gz
RUNC=runc-$RUNC_VERSION.amd64

if [ ! -f "$OUT/$TAR" ]; then
  start=$(date +%s)
  w=$(mktemp -d); mkdir -p "$w/bin"
  for cmd in containerd containerd-shim-runc-v2 ctr; do
    CGO_ENABLED=0 GOBIN="$w/bin" go install -trimpath -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION -X github.com/containerd/containerd/v2/version.Revision=containerd-node-lab" \
      "github.com/containerd/containerd/v2/cmd/$cmd@v$CONTAINERD_VERSION"
  done
  tar -C "$w" -czf "$OUT/$TAR.tmp" bin && mv "$OUT/$TAR.tmp" "$OUT/$TAR"
  rm -rf "$w"
  echo "built containerd $CONTAINERD_VERSION in $(( $(date +%s) - start ))s"
else
  echo "reusing $OUT/$TAR"
fi
(cd "$OUT" && sha256sum "$TAR" >"$TAR.sha256sum")

if [ ! -f "$OUT/$RUNC" ]; then
  start=$(date +%s)
  dpkg -s libseccomp-dev pkg-config >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev pkg-config >/dev/null; }
  w=$(mktemp -d)
  # Linked against the host's libseccomp (bookworm, like the lab nodes).
  CGO_ENABLED=1 GOBIN="$w" go install -trimpath -tags seccomp -ldflags "-s -w -X main.version=$RUNC_VERSION" "github.com/opencontainers/runc@v$RUNC_VERSION"
  mv "$w/runc" "$OUT/$RUNC"; rm -rf "$w"
  echo "built runc $RUNC_VERSION in $(( $(date +%s) - start ))s"
else
  echo "reusing $OUT/$RUNC"
fi
(cd "$OUT" && sha256sum "$RUNC" >"$RUNC.sha256sum")

cat >"$OUT/artifacts.env" <<ENV
ARTIFACTS_DIR=$OUT
CONTAINERD2_VERSION=$CONTAINERD_VERSION
CONTAINERD2_FILE=$TAR
CONTAINERD2_SHA256=$(cut -d' ' -f1 "$OUT/$TAR.sha256sum")
RUNC_VERSION=$RUNC_VERSION
RUNC_FILE=$RUNC
RUNC_SHA256=$(cut -d' ' -f1 "$OUT/$RUNC.sha256sum")
ENV
cat "$OUT/artifacts.env"
