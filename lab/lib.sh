# Shared settings and functions of the lab scripts (sourced).
# shellcheck shell=bash
# shellcheck disable=SC2034 # settings the sourcing scripts use
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
# node_address NAME: the loopback address the node's sshd listens on (NODE_ADDRESS when it was made).
node_address() { cat "$LAB_DIR/$1.address" 2>/dev/null || echo 127.0.0.1; }
node_ssh() { local name=$1; shift; ssh -q -i "$KEY" -p "$(cat "$LAB_DIR/$name.port")" -o BatchMode=yes -o StrictHostKeyChecking=yes \
  -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o ConnectTimeout=5 "root@$(node_address "$name")" "$@"; }
LAB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# node_tree NAME PORT: LAB_DIR/nodes/NAME, a fresh tree from the base (any old node NAME stopped
# first) whose sshd listens on NODE_ADDRESS:PORT (default 127.0.0.1; another loopback address
# gives the node an address of its own, as for node discovery), root by the lab key only; writes
# LAB_DIR/NAME.{port,address,hostkey} and the host key into LAB_DIR/known_hosts.
# The base's /usr, 434 of its 524 MB and most of its files, is not copied: an overlay mount over
# it takes the node's changes (in LAB_DIR/nodes/NAME.usr), so the host and the node see one /usr
# and the base is never written; the rest is copied. node-down.sh unmounts it. Nothing in /usr
# needs a filesystem of its own (Docker's and containerd's overlays live under /var/lib).
node_tree() {
  local name=$1 port=$2 dir=$LAB_DIR/nodes/$1 addr=${NODE_ADDRESS:-127.0.0.1} entry
  [ -f "$BASE/.complete" ] || "$LAB_SCRIPTS/base.sh"
  [ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C containerd-node-lab -f "$KEY"
  "$LAB_SCRIPTS/node-down.sh" "$name" >/dev/null 2>&1 || true
  mkdir -p "$dir/usr" "$dir.usr/upper" "$dir.usr/work"
  find "$BASE" -mindepth 1 -maxdepth 1 ! -name usr ! -name .complete -exec cp -a -t "$dir/" {} +
  mount -t overlay overlay -o "lowerdir=$BASE/usr,upperdir=$dir.usr/upper,workdir=$dir.usr/work" "$dir/usr"
  # nspawn mounts the cgroup controllers' hierarchies read-only; Docker's, containerd's and the
  # kubelet's cgroups are made in them, so the node makes them writable before anything starts.
  cat >"$dir/etc/systemd/system/lab-cgroups-rw.service" <<'UNIT'
[Unit]
Description=lab: the cgroup controllers writable
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*; do case "$c" in */systemd|*/unified) ;; *) ! mountpoint -q "$c" || mount -o remount,bind,rw "$c";; esac; done'
UNIT
  mkdir -p "$dir/etc/systemd/system/sysinit.target.wants"
  ln -sf ../lab-cgroups-rw.service "$dir/etc/systemd/system/sysinit.target.wants/lab-cgroups-rw.service"
  echo "$name" >"$dir/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$name" >"$dir/etc/hosts"
  mkdir -p "$dir/root/.ssh" && cp "$KEY.pub" "$dir/root/.ssh/authorized_keys" && chmod 700 "$dir/root/.ssh"
  cat >"$dir/etc/ssh/sshd_config.d/lab.conf" <<CONF
Port $port
ListenAddress $addr
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/etc/ssh/ssh_host_ed25519_key"
  cut -d' ' -f1,2 "$dir/etc/ssh/ssh_host_ed25519_key.pub" >"$LAB_DIR/$name.hostkey"
  echo "$port" >"$LAB_DIR/$name.port"
  echo "$addr" >"$LAB_DIR/$name.address"
  # As OpenSSH writes it: [host]:port unless the port is 22.
  if [ "$port" = 22 ]; then entry=$addr; else entry="[$addr]:$port"; fi
  touch "$LAB_DIR/known_hosts"
  awk -v e="$entry" '$1 != e' "$LAB_DIR/known_hosts" >"$LAB_DIR/known_hosts.tmp"
  echo "$entry $(cat "$LAB_DIR/$name.hostkey")" >>"$LAB_DIR/known_hosts.tmp"
  mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
}

# raise_inotify: every node's systemd, journald, dockerd and kubelet take inotify instances and
# watches of the host's root user; the kernel's default of 128 instances runs out at about a dozen
# nodes ("Failed to allocate manager object: Too many open files"; the same cause and fix as
# https://kind.sigs.k8s.io/docs/user/known-issues/#pod-errors-due-to-too-many-open-files).
# Raises the limits, never lowers them.
raise_inotify() {
  local key want
  for key in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288; do
    want=${key#*=}
    [ "$(sysctl -n "${key%=*}")" -ge "$want" ] || sysctl -q -w "$key"
  done
}

# The cgroup of a node's nspawn in the hierarchies systemd keeps its units in (name=systemd, and the
# unified one of a hybrid host), below which nspawn puts the node, in a cgroup namespace of its
# own: each node's systemd has a tree of its own there, as a machine has. (Nodes that shared one
# tree shared every unit's cgroup by name, ssh.service or two nodes' runs of the same step, and
# one node's unit ending removed the cgroup another's was starting in: "Failed to attach to
# cgroup /system.slice/…: No such file or directory", 219/CGROUP.)
node_cgroups() { local h; for h in systemd unified; do [ ! -d "/sys/fs/cgroup/$h" ] || echo "/sys/fs/cgroup/$h/lab-nodes/$1"; done; }

# node_boot NAME: boots LAB_DIR/nodes/NAME (systemd-nspawn, its own session and cgroups; LAB_DIR/NAME.pid and
# .console.log) and waits up to 90 s for its sshd.
node_boot() {
  local name=$1 _ cg
  raise_inotify
  (
    for cg in $(node_cgroups "$name"); do mkdir -p "$cg" && echo "$BASHPID" >"$cg/cgroup.procs"; done
    exec setsid systemd-nspawn --keep-unit --register=no -b -D "$LAB_DIR/nodes/$name" --machine="$name" --capability=all \
      --system-call-filter='@keyring bpf'
  ) >"$LAB_DIR/$name.console.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/$name.pid"
  for _ in $(seq 1 90); do node_ssh "$name" true 2>/dev/null && break; sleep 1; done
  node_ssh "$name" true || { echo "node $name: no ssh after 90s; console:"; tail -30 "$LAB_DIR/$name.console.log"; return 1; }
}

# node_active NAME UNIT: waits up to 60 s for UNIT to be active on node NAME, else shows its journal.
node_active() {
  # shellcheck disable=SC2016 # $(seq 60) runs on the node
  node_ssh "$1" 'for i in $(seq 60); do systemctl is-active -q '"$2"' && break; sleep 1; done; systemctl is-active '"$2" >/dev/null \
    || { echo "node $1: $2 did not start"; node_ssh "$1" "journalctl -u $2 -n 30 --no-pager"; return 1; }
}

# stop_pidfile FILE: stops the process FILE names (TERM, up to 10 s, then KILL), if FILE is there.
stop_pidfile() {
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

# node_run NAME < SCRIPT: runs the bash SCRIPT on node NAME with the node-side helpers below defined.
node_run() { local name=$1; { declare -f lab_image; cat; } | node_ssh "$name" bash -s; }

# Node side (node_run): lab_image docker|containerd NAME [ENTRYPOINT]: a local image NAME of one
# file, /bin/busybox (busybox-static), ENTRYPOINT a JSON array. Docker's from docker import;
# containerd's (namespace k8s.io, where its CRI plugin looks) imported by ctr from a docker-archive
# made with tar (manifest.json, the image config, one layer).
lab_image() {
  local rt=$1 name=$2 ep=${3:-} t diff cfg
  t=$(mktemp -d); mkdir -p "$t/rootfs/bin" "$t/img"; cp /bin/busybox "$t/rootfs/bin/busybox"
  if [ "$rt" = docker ]; then
    local change=(); [ -z "$ep" ] || change=(--change "ENTRYPOINT $ep")
    tar -C "$t/rootfs" -c . | docker import "${change[@]}" - "$name" >/dev/null
  else
    tar -C "$t/rootfs" -cf "$t/img/layer.tar" .
    diff=$(sha256sum "$t/img/layer.tar" | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
      "${ep:-null}" "$diff" >"$t/config.json"
    cfg=$(sha256sum "$t/config.json" | cut -d' ' -f1)
    mv "$t/config.json" "$t/img/$cfg.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$name" >"$t/img/manifest.json"
    tar -C "$t/img" -c manifest.json "$cfg.json" layer.tar | CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS=1 ctr -n k8s.io images import - >/dev/null
  fi
  rm -rf "$t"
}
# The lab cluster (lab/cluster-up.sh): Kubernetes built by scripts/kube/build.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/kube/versions.env"
KUBE_BIN=$KUBE_CACHE/$CONTROL_PLANE_VERSION
KUBELET=$KUBE_CACHE/$KUBELET_VERSION/kubelet
KUBELET_CURRENT=$KUBE_CACHE/$KUBELET_CURRENT_VERSION/kubelet
CRICTL=$KUBE_CACHE/crictl-$CRICTL_VERSION/crictl
API_PORT=${API_PORT:-16443} ETCD_PORT=${ETCD_PORT:-12379}
# The lab's private registry (cluster-up.sh): mutual TLS with the lab CA, reached by the nodes as
# TLS_REGISTRY (their /etc/hosts names it; they share this network namespace).
REGISTRY_PORT=${REGISTRY_PORT:-5443} TLS_REGISTRY_HOST=tls.lab.internal
TLS_REGISTRY=$TLS_REGISTRY_HOST:$REGISTRY_PORT
# Its plain-HTTP registry with basic auth (cluster-up.sh), on REGISTRY_PORT + 100: the Docker
# nodes list it in daemon.json's insecure-registries and the kubelet pulls from it with the
# credentials in /var/lib/kubelet/config.json (kubelet-join.sh).
PLAIN_REGISTRY_HOST=plain.lab.internal PLAIN_REGISTRY_USER=lab-puller PLAIN_REGISTRY_PASSWORD=${PLAIN_REGISTRY_PASSWORD:-lab-pull-s3cret}
PLAIN_REGISTRY=$PLAIN_REGISTRY_HOST:$((REGISTRY_PORT + 100))
# The lab's HTTP proxy (proxy-up.sh; not on squid's usual 3128, which the package's own service may hold) and
# the plain-HTTP registry only it resolves, on REGISTRY_PORT.
PROXY_PORT=${PROXY_PORT:-13128} PROXIED_REGISTRY_HOST=proxied.lab.internal
PROXIED_REGISTRY=$PROXIED_REGISTRY_HOST:$REGISTRY_PORT
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
