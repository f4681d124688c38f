#!/usr/bin/env bash
# Host packages the lab needs (idempotent); openssh-server is for the stand-in command provider's tests (a real sshd on 127.0.0.1),
# and the shellcheck package for the unit tests that check every rendered node-side script.
set -euo pipefail
need=()
for p in debootstrap systemd-container openssh-client openssh-server iproute2 util-linux curl openssl etcd-server containernetworking-plugins shellcheck; do [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
