#!/usr/bin/env bash
# Host packages the lab needs (idempotent).
set -euo pipefail
need=()
for p in debootstrap systemd-container openssh-client iproute2 util-linux curl openssl etcd-server containernetworking-plugins; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
