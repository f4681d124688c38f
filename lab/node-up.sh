#!/usr/bin/env bash
# node-up.sh NAME PORT: boots a lab node (systemd-nspawn) with sshd on 127.0.0.1:PORT, key-only
# root login with the lab key, and the seeds' "before" state: Docker running a container from a
# locally made image, and dockershim-era kubelet flags. Writes LAB_DIR/NAME.{pid,port,hostkey}.
source "$(dirname "$0")/lib.sh"
NAME=$1 PORT=$2
DIR=$LAB_DIR/nodes/$NAME
[ -f "$BASE/.complete" ] || "$(dirname "$0")/base.sh"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C containerd-node-lab -f "$KEY"
"$(dirname "$0")/node-down.sh" "$NAME" >/dev/null 2>&1 || true
start=$(date +%s)
cp -a "$BASE" "$DIR"
echo "$NAME" >"$DIR/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$NAME" >"$DIR/etc/hosts"
mkdir -p "$DIR/root/.ssh" && cp "$KEY.pub" "$DIR/root/.ssh/authorized_keys" && chmod 700 "$DIR/root/.ssh"
cat >"$DIR/etc/ssh/sshd_config.d/lab.conf" <<CONF
Port $PORT
ListenAddress 127.0.0.1
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF
ssh-keygen -q -t ed25519 -N '' -C "$NAME" -f "$DIR/etc/ssh/ssh_host_ed25519_key"
cut -d' ' -f1,2 "$DIR/etc/ssh/ssh_host_ed25519_key.pub" >"$LAB_DIR/$NAME.hostkey"
echo "$PORT" >"$LAB_DIR/$NAME.port"
touch "$LAB_DIR/known_hosts"
grep -v "^\[127.0.0.1\]:$PORT " "$LAB_DIR/known_hosts" >"$LAB_DIR/known_hosts.tmp" || true
echo "[127.0.0.1]:$PORT $(cat "$LAB_DIR/$NAME.hostkey")" >>"$LAB_DIR/known_hosts.tmp"
mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
# The "before" kubelet flags (dockershim era), as in the seed articles.
mkdir -p "$DIR/var/lib/kubelet"
echo 'KUBELET_KUBEADM_ARGS="--cgroup-driver=cgroupfs --network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.2"' >"$DIR/var/lib/kubelet/kubeadm-flags.env"

setsid systemd-nspawn --keep-unit --register=no -b -D "$DIR" --machine="$NAME" --capability=all \
  --system-call-filter='@keyring bpf' --bind=/sys/fs/cgroup >"$LAB_DIR/$NAME.console.log" 2>&1 </dev/null &
echo $! >"$LAB_DIR/$NAME.pid"
for i in $(seq 1 90); do node_ssh "$NAME" true 2>/dev/null && break; sleep 1; done
node_ssh "$NAME" true || { echo "node $NAME: no ssh after 90s; console:"; tail -30 "$LAB_DIR/$NAME.console.log"; exit 1; }
node_ssh "$NAME" 'for i in $(seq 60); do systemctl is-active -q docker && break; sleep 1; done; systemctl is-active docker' >/dev/null \
  || { echo "node $NAME: docker did not start"; node_ssh "$NAME" 'journalctl -u docker -n 30 --no-pager'; exit 1; }
node_ssh "$NAME" bash -s <<'BEFORE'
set -e
t=$(mktemp -d); mkdir -p $t/bin; cp /bin/busybox $t/bin/busybox
tar -C $t -c . | docker import - lab/busybox:1 >/dev/null
docker run -d --name sleeper --restart=always --network none lab/busybox:1 /bin/busybox sleep 1000000 >/dev/null
rm -rf $t
BEFORE
echo "node $NAME up on 127.0.0.1:$PORT in $(( $(date +%s) - start ))s"
