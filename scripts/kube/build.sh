#!/usr/bin/env bash
# Builds the Kubernetes binaries the lab cluster needs from Go modules (none can be downloaded
# here), cached by version: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kubectl, crictl. 1.23 by default: the last kubelet with dockershim (the seeds' "before").
# k8s.io/kubernetes replaces its staging modules with ./staging paths: the wrapper module points
# each at its published v0.X.Y instead.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-1.23.17}
CRICTL_VERSION=1.34.0
OUT=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/kube/$K8S_VERSION
mkdir -p "$OUT"
export GOFLAGS=-mod=mod CGO_ENABLED=0
missing=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do [ -x "$OUT/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  start=$(date +%s)
  w=$(mktemp -d)
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging="v0.${K8S_VERSION#1.}"
  ( cd "$w"
    printf 'module wrapper\n\ngo 1.24\n\nrequire k8s.io/kubernetes v%s\n' "$K8S_VERSION" >go.mod
    # "k8s.io/api => ./staging/src/k8s.io/api" becomes "k8s.io/api => k8s.io/api v0.33.13".
    awk -v v="$staging" '/=> \.\/staging\/src\//{print "replace " $1 " => " $1 " " v}' "$gomod" >>go.mod
    awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b&&!/staging/{print "replace " $0}' "$gomod" >>go.mod
    printf 'package wrapper\n\nimport (\n' >tools.go
    for b in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b" >>tools.go; done
    printf ')\n' >>tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
    ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
    for b in "${missing[@]}"; do go build -trimpath -ldflags "$ld" -o "$OUT/$b" "k8s.io/kubernetes/cmd/$b"; echo "built $b"; done )
  rm -rf "$w"
  echo "built Kubernetes $K8S_VERSION binaries in $(( $(date +%s) - start ))s"
fi
[ -x "$OUT/crictl" ] || GOBIN="$OUT" go install -trimpath "sigs.k8s.io/cri-tools/cmd/crictl@v$CRICTL_VERSION"
"$OUT/kubectl" version --client 2>/dev/null | head -1
