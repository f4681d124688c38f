#!/usr/bin/env bash
# Builds the Kubernetes binaries the lab cluster needs from Go modules (none can be downloaded
# here), cached by version under kube/<version>/:
#   control plane 1.33: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#   kubelet 1.23: the last one with dockershim, i.e. the seeds' "before" (cri-dockerd, the other
#   way to run a current kubelet on Docker, is not served by the Go module proxy); its
#   kube-apiserver can't be built from the module (its generated OpenAPI code is not in it)
#   kubelet 1.33 (KUBELET_CURRENT_VERSION): the containerd nodes' (lab/node-17.sh)
#   crictl, from cri-tools.
# k8s.io/kubernetes replaces its staging modules with ./staging paths: the wrapper module points
# each at its published v0.X.Y instead.
set -euo pipefail
source "$(dirname "$0")/versions.env"
CACHE=$KUBE_CACHE
source "$(dirname "$0")/../go-env.sh"
export CGO_ENABLED=0

# build VERSION BINARY...: k8s.io/kubernetes/cmd/BINARY at VERSION into $CACHE/VERSION/.
build() {
  local K8S_VERSION=$1; shift
  local OUT=$CACHE/$K8S_VERSION missing=() b
  mkdir -p "$OUT"
  for b in "$@"; do [ -x "$OUT/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  local start w gomod staging tags=""
  # The 1.23 kubelet without the in-tree cloud providers and their credential helpers (AWS, Azure,
  # GCE, OpenStack, vSphere SDKs: the `providerless` build tag, which Kubernetes' own builds
  # offer): the lab has no cloud, and they were much of its build. 1.33 has none in tree.
  [ "$K8S_VERSION" != "$KUBELET_VERSION" ] || tags=providerless
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
    # One go build for all of them: it links one binary while it compiles the next one's packages.
    pkgs=(); for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    go_compile build -trimpath -tags "$tags" -ldflags "$ld" -o "$OUT/" "${pkgs[@]}"
    echo "built ${missing[*]}" )
  rm -rf "$w"
  echo "built Kubernetes $K8S_VERSION ${missing[*]} in $(( $(date +%s) - start ))s"
}
build "$KUBELET_VERSION" kubelet
control_plane=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# One wrapper module for a version: the current kubelet joins the control plane's list when they match.
if [ "$KUBELET_CURRENT_VERSION" = "$CONTROL_PLANE_VERSION" ]; then
  build "$CONTROL_PLANE_VERSION" "${control_plane[@]}" kubelet
else
  build "$CONTROL_PLANE_VERSION" "${control_plane[@]}"
  build "$KUBELET_CURRENT_VERSION" kubelet
fi
[ -x "$CACHE/crictl-$CRICTL_VERSION/crictl" ] ||
  GOBIN="$CACHE/crictl-$CRICTL_VERSION" go_compile install -trimpath "sigs.k8s.io/cri-tools/cmd/crictl@v$CRICTL_VERSION"
echo "kubernetes ready: control plane $CONTROL_PLANE_VERSION, kubelets $KUBELET_VERSION and $KUBELET_CURRENT_VERSION, crictl $CRICTL_VERSION in $CACHE"
