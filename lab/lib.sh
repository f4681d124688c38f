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
# The lab cluster (lab/cluster-up.sh): Kubernetes built by scripts/kube/build.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/kube/versions.env"
KUBE_BIN=$KUBE_CACHE/$CONTROL_PLANE_VERSION
KUBELET=$KUBE_CACHE/$KUBELET_VERSION/kubelet
CRICTL=$KUBE_CACHE/crictl-$CRICTL_VERSION/crictl
API_PORT=${API_PORT:-16443} ETCD_PORT=${ETCD_PORT:-12379}
API_URL=https://127.0.0.1:$API_PORT SERVICE_CIDR=10.96.0.0/24 SERVICE_IP=10.96.0.1
PKI=$LAB_DIR/cluster/pki
# cert NAME SUBJECT [SAN]: a key and a certificate signed by the lab CA.
cert() {
  local name=$1 subj=$2 san=${3:-}
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  local ext; ext=$(mktemp)
  if [ -n "$san" ]; then printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$ext"
  else printf 'extendedKeyUsage=clientAuth\n' >"$ext"; fi
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI/$name.csr"
}
kubeconfig() { # kubeconfig NAME > file (block style, as kubeadm writes kubelet.conf)
  cat <<KC
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
    server: $API_URL
  name: lab
contexts:
- context:
    cluster: lab
    user: $1
  name: lab
current-context: lab
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$1.crt")
    client-key-data: $(base64 -w0 "$PKI/$1.key")
KC
}
