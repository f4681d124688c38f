#!/usr/bin/env bash
# Builds (once, cached) the Debian bookworm tree every lab node is copied from: systemd, sshd and
# Debian's docker.io (20.10, with containerd 1.6 and runc), busybox-static for a local image.
source "$(dirname "$0")/lib.sh"
if [ -f "$BASE/.complete" ]; then echo "reusing lab base $BASE"; exit 0; fi
start=$(date +%s)
M=$(mirror)
rm -rf "$BASE.tmp"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates,curl,kmod,procps,busybox-static,sudo,less \
  bookworm "$BASE.tmp" "$M" >"$LAB_CACHE/debootstrap.log" 2>&1 || { tail -20 "$LAB_CACHE/debootstrap.log"; exit 1; }
echo "deb $M bookworm main" >"$BASE.tmp/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$BASE.tmp/usr/sbin/policy-rc.d"; chmod +x "$BASE.tmp/usr/sbin/policy-rc.d"
mkdir -p "$BASE.tmp/etc/docker"
echo '{"iptables":false,"ip-forward":false,"bridge":"none"}' >"$BASE.tmp/etc/docker/daemon.json"
systemd-nspawn -q --keep-unit --register=no -D "$BASE.tmp" --pipe bash -c \
  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null && apt-get clean' \
  </dev/null
rm -f "$BASE.tmp/usr/sbin/policy-rc.d" "$BASE.tmp"/etc/ssh/ssh_host_*
# No console getty (nspawn gives none) and no units that make no sense in a container.
systemd-nspawn -q --keep-unit --register=no -D "$BASE.tmp" --pipe bash -c \
  'systemctl enable ssh docker containerd >/dev/null 2>&1; systemctl mask console-getty.service getty@tty1.service systemd-networkd-wait-online.service >/dev/null 2>&1; true' </dev/null
touch "$BASE.tmp/.complete"
mv "$BASE.tmp" "$BASE"
echo "built lab base in $(( $(date +%s) - start ))s: $BASE"
