#!/usr/bin/env bash
# cluster-up.sh: a real Kubernetes control plane on 127.0.0.1 for the lab: etcd (Debian's), then
# kube-apiserver, kube-controller-manager and kube-scheduler built by scripts/kube/build.sh, with
# certificates generated here, a private registry on mutual TLS and a plain-HTTP one with basic
# auth (tls-registry.py).
# Writes LAB_DIR/cluster/{admin.conf,pki/,*.pid,*.log}.
# Nodes join with lab/kubelet-join.sh. Stop with lab/cluster-down.sh.
source "$(dirname "$0")/lib.sh"
C=$LAB_DIR/cluster
"$(dirname "$0")/cluster-down.sh" >/dev/null 2>&1 || true
mkdir -p "$PKI" "$C/etcd"
start=$(date +%s)
# The values a kubelet insists on (it sets them when they differ, and cannot from inside a
# container: /proc/sys is read-only there). The nodes share this kernel, so set them here.
sysctl -q -w vm.overcommit_memory=1 vm.panic_on_oom=0 kernel.panic=10 kernel.panic_on_oops=1 \
  kernel.keys.root_maxkeys=1000000 kernel.keys.root_maxbytes=25000000

# --- certificates: one CA for everything (a lab needs no separate front-proxy or etcd CA)
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=lab-ca" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
cert apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default"
cert admin "/O=system:masters/CN=lab-admin"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
cert registry "/CN=$TLS_REGISTRY_HOST" "DNS:$TLS_REGISTRY_HOST"
cert registry-client "/CN=lab-node"
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

for u in admin controller-manager scheduler; do kubeconfig $u >"$C/$u.conf"; done

# --- processes
run() { # run NAME CMD...: in the background, its own session, pid and log in $C
  local name=$1; shift
  setsid "$@" >"$C/$name.log" 2>&1 </dev/null &
  echo $! >"$C/$name.pid"
}
run etcd etcd --name lab --data-dir "$C/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "lab=http://127.0.0.1:$((ETCD_PORT + 1))"
for i in $(seq 30); do curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break; sleep 1; done

run kube-apiserver "$KUBE_BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key" \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true
for i in $(seq 90); do
  "$KUBE_BIN/kubectl" --kubeconfig "$C/admin.conf" get --raw /readyz >/dev/null 2>&1 && break; sleep 1
done
"$KUBE_BIN/kubectl" --kubeconfig "$C/admin.conf" get --raw /readyz >/dev/null \
  || { echo "kube-apiserver not ready:"; tail -20 "$C/kube-apiserver.log"; exit 1; }

# Serving ports 0: nothing here needs their metrics, and the nodes share this network namespace.
# LAB_NODE_LIFECYCLE=off: no node lifecycle controller, so Node objects with no kubelet behind them
# keep the status they were given (bench/scale.ts's Kubernetes-mode up) instead of going Unknown.
controllers='*,-nodeipam'
[ "${LAB_NODE_LIFECYCLE:-on}" = on ] || controllers+=',-nodelifecycle'
run kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig "$C/controller-manager.conf" \
  --secure-port 0 --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --use-service-account-credentials=true --leader-elect=false --controllers "$controllers"
run kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig "$C/scheduler.conf" --secure-port 0 --leader-elect=false
for i in $(seq 60); do
  "$KUBE_BIN/kubectl" --kubeconfig "$C/admin.conf" -n default get serviceaccount default >/dev/null 2>&1 && break; sleep 1
done
# A private registry with its own CA that takes only client certificates (lab/tls-registry.py).
run tls-registry python3 "$(dirname "$0")/tls-registry.py" "$REGISTRY_PORT" "$PKI/registry.crt" "$PKI/registry.key" "$PKI/ca.crt"
registry_answers() {
  curl -fsS --resolve "$TLS_REGISTRY:127.0.0.1" --cacert "$PKI/ca.crt" --cert "$PKI/registry-client.crt" --key "$PKI/registry-client.key" \
    "https://$TLS_REGISTRY/v2/" >/dev/null
}
for _ in $(seq 30); do registry_answers 2>/dev/null && break; sleep 0.5; done
registry_answers || { echo "the lab registry did not start:"; tail -5 "$C/tls-registry.log"; exit 1; }
# And a plain-HTTP one that takes only PLAIN_REGISTRY_USER's basic credentials, serving lab/plain:1
# with a static busybox (lab/lib.sh PLAIN_REGISTRY).
run plain-registry python3 "$(dirname "$0")/tls-registry.py" "${PLAIN_REGISTRY##*:}" --plain \
  "--auth=$PLAIN_REGISTRY_USER:$PLAIN_REGISTRY_PASSWORD" "--busybox=$BASE/bin/busybox"
plain_answers() { curl -fsS --resolve "$PLAIN_REGISTRY:127.0.0.1" -u "$PLAIN_REGISTRY_USER:$PLAIN_REGISTRY_PASSWORD" "http://$PLAIN_REGISTRY/v2/" -o /dev/null; }
for _ in $(seq 30); do plain_answers 2>/dev/null && break; sleep 0.5; done
plain_answers || { echo "the lab's plain registry did not start:"; tail -5 "$C/plain-registry.log"; exit 1; }
echo "cluster up in $(( $(date +%s) - start ))s: $API_URL, kubeconfig $C/admin.conf; registries https://$TLS_REGISTRY, http://$PLAIN_REGISTRY"
