#!/usr/bin/env bash
# up.sh N [FIRST_PORT]: boots lab nodes node1..nodeN on ports FIRST_PORT.. (default 2221).
source "$(dirname "$0")/lib.sh"
N=${1:-2} P=${2:-2221}
"$(dirname "$0")/base.sh"
for i in $(seq 1 "$N"); do "$(dirname "$0")/node-up.sh" "node$i" $((P + i - 1)); done
