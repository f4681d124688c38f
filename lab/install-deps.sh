#!/usr/bin/env bash
# Host packages the lab needs (idempotent); openssh-server is for the stand-in command provider's tests (a real sshd on 127.0.0.1),
# the shellcheck package for the unit tests that check every rendered node-side script, and squid for
# the lab's HTTP proxy (lab/proxy-up.sh runs its own instance on 127.0.0.1; the package's service is
# stopped and disabled, so nothing else listens on its port).
set -euo pipefail
need=()
for p in debootstrap systemd-container openssh-client openssh-server iproute2 util-linux curl openssl etcd-server containernetworking-plugins shellcheck squid; do [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The lab starts squid itself, with its own configuration, when a test needs it.
if [[ " ${need[*]-} " == *" squid "* ]] && command -v systemctl >/dev/null && systemctl is-enabled -q squid 2>/dev/null; then
  systemctl disable --now squid >/dev/null 2>&1 || true
fi
