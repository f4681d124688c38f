#!/usr/bin/env bash
# node-17.sh NAME SSH_PORT KUBELET_PORT: boots a lab node (as node-up.sh does) in the state an
# installer for containerd 1.7 leaves, the "before" of in-place upgrades 1.7 → 2.x, and joins it to
# the running lab cluster (lab/cluster-up.sh first, same LAB_DIR, API_PORT):
#   - no Docker: Debian's docker.io, containerd and runc purged from the node's copy of the base;
#   - containerd CONTAINERD17_VERSION from its release tarball (artifacts/build.sh) in
#     /usr/local/bin, runc RUNC_VERSION in /usr/local/sbin, the unit containerd ships at that tag in
#     /etc/systemd/system, enabled; /etc/containerd/config.toml in schema 2 as installers wrote it
#     for 1.7 (below), its registry TLS files in /etc/containerd/lab-tls (the lab registry's);
#     /etc/crictl.yaml;
#   - kubelet KUBELET_CURRENT_VERSION joined by `kubelet-join.sh NAME KUBELET_PORT containerd`;
#   - the pause image (sandbox_image) and lab/busybox:1 in containerd's k8s.io namespace, made here;
#     a RuntimeClass runc-alt for the config's second runtime handler.
# Waits for Ready on containerd://CONTAINERD17_VERSION. The registry password is REGISTRY_PASSWORD
# (default lab-registry-s3cret). With CONTAINERD_INSTALL=package the node keeps Debian's
# containerd package (1.6, /usr/bin, its unit in /lib/systemd/system) and runc instead, as a
# distribution install leaves it, and waits for Ready on that version. With CONTAINERD_LAYOUT=dropin
# the config is laid out as cloud node images and GPU toolkits leave it instead: a root config
# that only imports /etc/containerd/conf.d/*.toml, and a version 2 drop-in there with the CRI
# settings and a GPU-style runtime handler, lab-gpu (the lab's runc wrapper, logging each call to
# /var/log/lab-gpu-runc.log; RuntimeClass lab-gpu).
# (containerd 1.x replaces a plugin's whole table with a drop-in's, so the drop-in holds all of
# the CRI plugin's settings, as such drop-ins for 1.x do.) Stop with lab/node-down.sh NAME.
source "$(dirname "$0")/lib.sh"
NAME=$1 PORT=$2 KPORT=$3
DIR=$LAB_DIR/nodes/$NAME
A=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts
grep -qs '^CONTAINERD17_FILE=' "$A/artifacts.env" || { echo "no containerd 1.7 artifacts: run artifacts/build.sh" >&2; exit 1; }
# shellcheck source=/dev/null # written by artifacts/build.sh
source "$A/artifacts.env"
[ -f "$LAB_DIR/cluster/admin.conf" ] || { echo "no lab cluster in $LAB_DIR: run lab/cluster-up.sh first" >&2; exit 1; }
[ -x "$KUBELET_CURRENT" ] || { echo "no kubelet $KUBELET_CURRENT_VERSION: run scripts/kube/build.sh" >&2; exit 1; }
PAUSE=registry.k8s.io/pause:3.9
start=$(date +%s)
(cd "$A" && sha256sum -c --quiet "$CONTAINERD17_FILE.sha256sum" "$RUNC_FILE.sha256sum")
node_tree "$NAME" "$PORT"
INSTALL=${CONTAINERD_INSTALL:-tarball}
case "$INSTALL" in
  tarball) PURGE="docker.io containerd runc" KEEP="" ;;
  package) PURGE="docker.io" KEEP="containerd runc" ;;
  *) echo "CONTAINERD_INSTALL is tarball or package, got $INSTALL" >&2; exit 2 ;;
esac
systemd-nspawn -q --keep-unit --register=no -D "$DIR" --pipe bash -c \
  "${KEEP:+apt-mark manual $KEEP >/dev/null && }DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PURGE && apt-get autoremove -y -qq --purge" \
  </dev/null >"$LAB_DIR/$NAME.purge.log" 2>&1 || { echo "node $NAME: purging Docker failed:"; tail "$LAB_DIR/$NAME.purge.log"; exit 1; }
rm -rf "$DIR/etc/docker" # the base's daemon.json, no package's file

# What the installer put there: the release tarball over /usr/local, runc, the upstream unit.
if [ "$INSTALL" = tarball ]; then
  tar -C "$DIR/usr/local" -xzf "$A/$CONTAINERD17_FILE"
  install -m 0755 "$A/$RUNC_FILE" "$DIR/usr/local/sbin/runc"
  install -m 0644 "$A/containerd-$CONTAINERD17_VERSION.service" "$DIR/etc/systemd/system/containerd.service"
  ln -sf /etc/systemd/system/containerd.service "$DIR/etc/systemd/system/multi-user.target.wants/containerd.service"
  WANT=$CONTAINERD17_VERSION
else
  # Debian's "1.6.20~ds1": the CRI reports the upstream part, "1.6.20".
  WANT=$(chroot "$DIR" /usr/bin/containerd --version | awk '{print $3}'); WANT=${WANT%%~*}
fi
mkdir -p "$DIR/etc/containerd" "$DIR/var/lib/kubelet"
# The lab registry's CA and a client key pair, where the installer's config names them.
install -d -m 0700 "$DIR/etc/containerd/lab-tls"
install -m 0644 "$PKI/ca.crt" "$DIR/etc/containerd/lab-tls/ca.pem"
install -m 0644 "$PKI/registry-client.crt" "$DIR/etc/containerd/lab-tls/node.crt"
install -m 0600 "$PKI/registry-client.key" "$DIR/etc/containerd/lab-tls/node.key"
echo "127.0.0.1 $TLS_REGISTRY_HOST" >>"$DIR/etc/hosts"
# SystemdCgroup = false, set explicitly, as the lab's kubelets use cgroupfs (kubelet-join.sh).
# The systemd driver does work in these nodes, but only with cgroupsPerQOS on: with it off the CRI
# plugin gives runc a plain path ("/k8s.io/ID") and runc refuses it ("expected cgroupsPath to be of
# format slice:prefix:name for systemd cgroups"). With it on, every node's kubelet and systemd
# would own the same kubepods.slice, since the nodes share this host's cgroup tree (cgroup v1,
# --bind=/sys/fs/cgroup) and would reap each other's pods.
# restrict_oom_score_adj: no process on this machine may lower an OOM score (no
# CAP_SYS_RESOURCE); containers get no score below containerd's own.
install -m 0600 /dev/stdin "$DIR/etc/containerd/config.toml" <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
oom_score = 0

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = false
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc-alt]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc-alt.options]
            BinaryName = "/usr/local/bin/lab-runc"
            SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]
        [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
          endpoint = ["https://mirror.lab.internal", "https://registry-1.docker.io"]
      [plugins."io.containerd.grpc.v1.cri".registry.configs]
        [plugins."io.containerd.grpc.v1.cri".registry.configs."registry.lab.internal".auth]
          username = "lab"
          password = "${REGISTRY_PASSWORD:-lab-registry-s3cret}"
        [plugins."io.containerd.grpc.v1.cri".registry.configs."$TLS_REGISTRY".tls]
          ca_file = "/etc/containerd/lab-tls/ca.pem"
          cert_file = "/etc/containerd/lab-tls/node.crt"
          key_file = "/etc/containerd/lab-tls/node.key"
TOML
if [ "${CONTAINERD_LAYOUT:-single}" = dropin ]; then
  install -m 0644 /dev/stdin "$DIR/etc/containerd/config.toml" <<'TOML'
version = 2
imports = ["/etc/containerd/conf.d/*.toml"]
root = "/var/lib/containerd"
state = "/run/containerd"
TOML
  mkdir -p "$DIR/etc/containerd/conf.d"
  install -m 0644 /dev/stdin "$DIR/etc/containerd/conf.d/99-lab-gpu.toml" <<TOML
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.lab-gpu]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.lab-gpu.options]
        BinaryName = "/usr/local/bin/lab-gpu-runc"
        SystemdCgroup = false
TOML
  # The handler's runtime: the lab's runc wrapper, each call logged (which handler ran a container).
  install -m 0755 /dev/stdin "$DIR/usr/local/bin/lab-gpu-runc" <<'SH'
#!/bin/sh
echo "$*" >>/var/log/lab-gpu-runc.log
exec /usr/local/bin/lab-runc "$@"
SH
fi
printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 10\n' \
  >"$DIR/etc/crictl.yaml"
# kubeadm's flags for a containerd node (the endpoint is in config.yaml; the pause flag only keeps
# the image from the kubelet's garbage collector).
echo "KUBELET_KUBEADM_ARGS=\"--pod-infra-container-image=$PAUSE\"" >"$DIR/var/lib/kubelet/kubeadm-flags.env"

node_boot "$NAME"
node_active "$NAME" containerd
node_run "$NAME" <<'BEFORE'
set -e
lab_image containerd lab/busybox:1
BEFORE
"$LAB_SCRIPTS/kubelet-join.sh" "$NAME" "$KPORT" containerd
K() { "$KUBE_BIN/kubectl" --kubeconfig "$LAB_DIR/cluster/admin.conf" "$@"; }
printf 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: runc-alt}\nhandler: runc-alt\n' | K apply -f - >/dev/null
if [ "${CONTAINERD_LAYOUT:-single}" = dropin ]; then
  printf 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: lab-gpu}\nhandler: lab-gpu\n' | K apply -f - >/dev/null
fi
v=$(K get node "$NAME" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}')
[ "$v" = "containerd://$WANT" ] || { echo "node $NAME runs $v, not containerd://$WANT" >&2; exit 1; }
echo "node $NAME (containerd $WANT from the $INSTALL, kubelet $KUBELET_CURRENT_VERSION) Ready on 127.0.0.1:$PORT in $(( $(date +%s) - start ))s"
