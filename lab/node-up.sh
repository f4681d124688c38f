#!/usr/bin/env bash
# node-up.sh NAME PORT: boots a lab node (systemd-nspawn) with sshd on 127.0.0.1:PORT, key-only
# root login with the lab key, and the seeds' "before" state: Docker running a container from a
# locally made image, and dockershim-era kubelet flags. Writes LAB_DIR/NAME.{pid,port,hostkey}.
# DOCKER_PROXY=URL (and DOCKER_NO_PROXY=LIST): docker.service gets the proxy drop-in Docker's
# documentation describes, docker.service.d/http-proxy.conf with HTTP_PROXY (and NO_PROXY).
source "$(dirname "$0")/lib.sh"
NAME=$1 PORT=$2
DIR=$LAB_DIR/nodes/$NAME
start=$(date +%s)
node_tree "$NAME" "$PORT"
# The "before" kubelet flags (dockershim era), as in the seed articles.
mkdir -p "$DIR/var/lib/kubelet"
echo 'KUBELET_KUBEADM_ARGS="--cgroup-driver=cgroupfs --network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.2"' >"$DIR/var/lib/kubelet/kubeadm-flags.env"
if [ -n "${DOCKER_PROXY:-}" ]; then
  mkdir -p "$DIR/etc/systemd/system/docker.service.d"
  { echo "[Service]"; echo "Environment=\"HTTP_PROXY=$DOCKER_PROXY\""
    [ -z "${DOCKER_NO_PROXY:-}" ] || echo "Environment=\"NO_PROXY=$DOCKER_NO_PROXY\""; } >"$DIR/etc/systemd/system/docker.service.d/http-proxy.conf"
fi
node_boot "$NAME"
node_active "$NAME" docker
node_run "$NAME" <<'BEFORE'
set -e
lab_image docker lab/busybox:1
docker run -d --name sleeper --restart=always --network none lab/busybox:1 /bin/busybox sleep 1000000 >/dev/null
BEFORE
echo "node $NAME up on $(node_address "$NAME"):$PORT in $(( $(date +%s) - start ))s"
