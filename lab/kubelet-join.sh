#!/usr/bin/env bash
# kubelet-join.sh NAME KUBELET_PORT [docker|containerd]: installs a real kubelet on a running lab
# node and joins it to the lab cluster the way kubeadm lays a node out:
# /etc/kubernetes/kubelet.conf, /var/lib/kubelet/config.yaml, the kubeadm drop-in reading
# /var/lib/kubelet/kubeadm-flags.env (which the node's script wrote). Waits for Ready.
#   docker (default): KUBELET_VERSION (1.23, dockershim) on a lab/node-up.sh node, its dockershim
#     flags in kubeadm-flags.env;
#   containerd: KUBELET_CURRENT_VERSION on a lab/node-17.sh node, containerRuntimeEndpoint in
#     config.yaml, the pause image named by containerd's sandbox_image.
source "$(dirname "$0")/lib.sh"
NAME=$1 KPORT=$2 RUNTIME=${3:-docker}
DIR=$LAB_DIR/nodes/$NAME
case $RUNTIME in
  docker)
    BIN=$KUBELET RUNC=/usr/bin/runc ENDPOINT=
    PAUSE=$(sed -n 's/.*--pod-infra-container-image=\([^ "]*\).*/\1/p' "$DIR/var/lib/kubelet/kubeadm-flags.env");;
  containerd)
    BIN=$KUBELET_CURRENT RUNC=/usr/local/sbin/runc ENDPOINT=unix:///run/containerd/containerd.sock
    # The config's sandbox_image, or its drop-ins' (lab/node-17.sh CONTAINERD_LAYOUT=dropin).
    PAUSE=$(for f in "$DIR/etc/containerd/config.toml" "$DIR"/etc/containerd/conf.d/*.toml; do
      if [ -f "$f" ]; then sed -n 's/^ *sandbox_image *= *"\(.*\)"/\1/p' "$f"; fi
    done | tail -n 1);;
  *) echo "kubelet-join.sh: the runtime is docker or containerd, not $RUNTIME" >&2; exit 2;;
esac
start=$(date +%s)
cert "node-$NAME" "/O=system:nodes/CN=system:node:$NAME"
mkdir -p "$DIR/etc/kubernetes/pki" "$DIR/etc/systemd/system/kubelet.service.d" "$DIR/opt/cni/bin" "$DIR/etc/cni/net.d"
kubeconfig "node-$NAME" >"$DIR/etc/kubernetes/kubelet.conf"
cp "$PKI/ca.crt" "$DIR/etc/kubernetes/pki/ca.crt"
install -m 0755 "$BIN" "$DIR/usr/bin/kubelet"
install -m 0755 "$CRICTL" "$DIR/usr/local/bin/crictl"
# Pods use the host network (the nodes share one network namespace); a loopback-only CNI config
# is enough for the runtime to report its network ready.
install -m 0755 /usr/lib/cni/loopback "$DIR/opt/cni/bin/loopback"
echo '{"cniVersion":"0.4.0","name":"lab","plugins":[{"type":"loopback"}]}' >"$DIR/etc/cni/net.d/99-lab.conflist"

# Ports of its own (shared network namespace); no QoS cgroups and no node-allocatable enforcement
# (the nodes share the host's cgroup tree: a kubelet would reap the other nodes' pod cgroups);
# eviction and image GC thresholds out of the way of a shared disk. cgroupfs for both runtimes
# (lab/node-17.sh says why containerd's SystemdCgroup is false).
cat >"$DIR/var/lib/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: $KPORT
healthzPort: $((KPORT + 1))
readOnlyPort: 0
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
YAML
[ -z "$ENDPOINT" ] || echo "containerRuntimeEndpoint: $ENDPOINT" >>"$DIR/var/lib/kubelet/config.yaml"
cat >"$DIR/etc/systemd/system/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet
After=network-online.target
[Service]
ExecStart=/usr/bin/kubelet
Restart=always
RestartSec=2
[Install]
WantedBy=multi-user.target
UNIT
# See the InternalIP below.
[ "$(node_address "$NAME")" = 127.0.0.1 ] || echo 'KUBELET_EXTRA_ARGS=--cloud-provider=external' >"$DIR/etc/default/kubelet"
cat >"$DIR/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'UNIT'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
UNIT
# Lab only: this machine's capability set lacks CAP_SYS_RESOURCE, so no process here can lower an
# OOM score, and dockershim starts every pod sandbox at -998. Docker gets a runc that raises
# negative scores to 0 (after the conversion, containerd's restrict_oom_score_adj does the same;
# a containerd node has it from the start and uses this runc only for its second runtime handler).
# Each call is a line of /var/log/lab-runc.log: a test tells the containers it ran from runc's.
cat >"$DIR/usr/local/bin/lab-runc" <<SH
#!/bin/sh
echo "\$*" >>/var/log/lab-runc.log
b=; prev=
for a in "\$@"; do case "\$prev" in --bundle|-b) b=\$a;; esac; prev=\$a; done
[ -n "\$b" ] && [ -f "\$b/config.json" ] && sed -i 's/"oomScoreAdj":-[0-9]*/"oomScoreAdj":0/' "\$b/config.json"
exec $RUNC "\$@"
SH
chmod 0755 "$DIR/usr/local/bin/lab-runc"
[ "$RUNTIME" != docker ] ||
  echo '{"iptables":false,"ip-forward":false,"bridge":"none","default-runtime":"lab-runc","runtimes":{"lab-runc":{"path":"/usr/local/bin/lab-runc"}},"log-driver":"json-file","log-opts":{"max-size":"1m","max-file":"3"}}' \
    >"$DIR/etc/docker/daemon.json"
# The kubelet's OOM watcher reads /dev/kmsg, which a container has not (kind does the same). The
# pause image: busybox waiting for TERM.
node_run "$NAME" <<JOIN
set -e
# dockerd takes a new default runtime on reload (SIGHUP; moby's daemon/reload.go): no restart, so
# no wait for its containers to stop.
if [ $RUNTIME = docker ]; then
  systemctl reload docker
  for _ in \$(seq 50); do [ "\$(docker info --format '{{.DefaultRuntime}}')" = lab-runc ] && break; sleep 0.2; done
  [ "\$(docker info --format '{{.DefaultRuntime}}')" = lab-runc ] || { echo "docker did not take lab-runc"; journalctl -u docker -n 30 --no-pager; exit 1; }
fi
ln -sf /dev/console /dev/kmsg
lab_image $RUNTIME '${PAUSE:-k8s.gcr.io/pause:3.6}' '["/bin/busybox","sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 1; done"]'
systemctl daemon-reload
systemctl enable --now kubelet >/dev/null 2>&1
JOIN
K() { "$KUBE_BIN/kubectl" --kubeconfig "$LAB_DIR/cluster/admin.conf" "$@"; }
for _ in $(seq 120); do
  [ "$(K get node "$NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
  sleep 1
done
[ "$(K get node "$NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] || {
  echo "node $NAME not Ready after 120s:"; K get node "$NAME" -o wide 2>&1; node_ssh "$NAME" 'journalctl -u kubelet -n 40 --no-pager'; exit 1; }
# A node with a loopback address of its own (NODE_ADDRESS when it was made) has it as its
# InternalIP, set here as a cloud controller would: its kubelet runs with --cloud-provider=external,
# which keeps addresses set from outside (a kubelet refuses a loopback --node-ip).
ADDR=$(node_address "$NAME")
if [ "$ADDR" != 127.0.0.1 ]; then
  K patch node "$NAME" --subresource=status --type=merge \
    -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$ADDR\"},{\"type\":\"Hostname\",\"address\":\"$NAME\"}]}}" >/dev/null
  K taint node "$NAME" node.cloudprovider.kubernetes.io/uninitialized- >/dev/null 2>&1 || true
fi
echo "kubelet on $NAME Ready ($(K get node "$NAME" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}')) in $(( $(date +%s) - start ))s"
