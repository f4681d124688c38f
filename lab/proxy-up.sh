#!/usr/bin/env bash
# proxy-up.sh USER PASSWORD: the lab's HTTP proxy, squid (Debian's package) on
# 127.0.0.1:PROXY_PORT (default 13128), that serves only USER with PASSWORD (basic auth), and a
# plain-HTTP registry (tls-registry.py --plain, lab/plain:1) on 127.0.0.1:REGISTRY_PORT that only
# the proxy can reach by name: squid's hosts_file names PROXIED_REGISTRY_HOST, which the nodes
# cannot resolve, so a pull from it that works went through the proxy. (Go never proxies
# localhost or a loopback address: the registry must be reached by a host name.)
# Writes LAB_DIR/proxy/{squid.conf,hosts,passwd,access.log,cache.log,*.pid,registry.log}; its
# access log has a line per request, with the user. Stop with lab/proxy-down.sh.
source "$(dirname "$0")/lib.sh"
USER_NAME=$1 PASSWORD=$2
P=$LAB_DIR/proxy
"$(dirname "$0")/proxy-down.sh" >/dev/null 2>&1 || true
mkdir -p "$P"
printf '127.0.0.1 %s\n' "$PROXIED_REGISTRY_HOST" >"$P/hosts"
printf '%s:%s\n' "$USER_NAME" "$(openssl passwd -apr1 "$PASSWORD")" >"$P/passwd"
# squid's directives: squid.conf.documented of the package (/usr/share/doc/squid).
cat >"$P/squid.conf" <<CONF
http_port 127.0.0.1:$PROXY_PORT
hosts_file $P/hosts
auth_param basic program /usr/lib/squid/basic_ncsa_auth $P/passwd
auth_param basic realm containerd-node lab
acl lab proxy_auth REQUIRED
http_access allow localhost lab
http_access deny all
cache deny all
cache_mem 8 MB
access_log stdio:$P/access.log squid
cache_log $P/cache.log
cache_store_log none
netdb_filename none
pid_filename $P/squid.pid
coredump_dir $P
icp_port 0
pinger_enable off
shutdown_lifetime 1 seconds
CONF
# Started as root, squid runs as the package's user, which writes the logs and reads the passwords.
chown -R proxy: "$P"
setsid squid -N -f "$P/squid.conf" >"$P/squid.out" 2>&1 </dev/null &
echo $! >"$P/squid.run.pid"
setsid python3 "$LAB_SCRIPTS/tls-registry.py" "$REGISTRY_PORT" --plain >"$P/registry.log" 2>&1 </dev/null &
echo $! >"$P/registry.pid"
through_proxy() { curl -fsS --max-time 5 -x "http://127.0.0.1:$PROXY_PORT" -U "$USER_NAME:$PASSWORD" "http://$PROXIED_REGISTRY/v2/" -o /dev/null; }
for _ in $(seq 60); do through_proxy 2>/dev/null && break; sleep 0.5; done
through_proxy || { echo "the lab proxy or its registry did not start:"; tail -5 "$P/squid.out" "$P/cache.log" "$P/registry.log"; exit 1; }
echo "proxy http://127.0.0.1:$PROXY_PORT up, reaching http://$PROXIED_REGISTRY (lab/plain:1)"
