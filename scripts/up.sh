#!/usr/bin/env bash
# The main job against the local lab: sets everything up, boots two lab nodes in the seeds'
# "before" state (Docker), and runs `pulumi up` of index.ts converting them to containerd, through
# scripts/stack.ts (the Automation API; see there why). `bash scripts/up.sh preview` previews
# with the diff instead; `bash scripts/up.sh destroy` and `refresh` work too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh stack
source scripts/engine/env.sh
source "${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts/artifacts.env"
LAB_DIR=${LAB_DIR:-$PWD/.lab}
bash artifacts/serve.sh 18080
for i in 1 2; do [ -f "$LAB_DIR/node$i.pid" ] && kill -0 "$(cat "$LAB_DIR/node$i.pid")" 2>/dev/null || bash lab/node-up.sh node$i $((2220 + i)); done
mkdir -p "$LAB_DIR/state"
export PULUMI_BACKEND_URL="file://$LAB_DIR/state" PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-lab}
pulumi stack select lab 2>/dev/null || pulumi stack init lab
node_json() { printf '{"name":"%s","host":"127.0.0.1","port":%s,"hostKey":"%s"}' "$1" "$(cat "$LAB_DIR/$1.port")" "$(cat "$LAB_DIR/$1.hostkey")"; }
pulumi config set --path privateKeyPath "$LAB_DIR/id_ed25519"
pulumi config set nodes "[$(node_json node1),$(node_json node2)]"
pulumi config set containerd "{\"version\":\"$CONTAINERD2_VERSION\",\"source\":{\"kind\":\"tarball\",\"url\":\"http://127.0.0.1:18080/$CONTAINERD2_FILE\",\"sha256\":\"$CONTAINERD2_SHA256\"},\"runc\":{\"url\":\"http://127.0.0.1:18080/$RUNC_FILE\",\"sha256\":\"$RUNC_SHA256\"}}"
pulumi config set kubelet '{"version":"1.30.4"}'
pulumi config set docker '{"mode":"disable","migrateImages":true}'
case "${1:-up}" in
  preview) exec npx ts-node scripts/stack.ts preview --diff --stack lab ;;
  up|refresh|destroy) exec npx ts-node scripts/stack.ts "${1:-up}" --stack lab ;;
  *) echo "usage: scripts/up.sh [up|preview|refresh|destroy]" >&2; exit 2 ;;
esac
