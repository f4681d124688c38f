/**
 * The health gate after each node of a rolling conversion (bash run on the machine running
 * `pulumi up`): the next wave starts only when every node of this one passed.
 */
import { FAILURE_ANNOTATION, PHASE_ANNOTATION, ROLLBACK_ANNOTATION } from "../scripts/kubectl";
import { sq } from "../scripts/shell";

export interface GateSpec {
    /** Node name (Kubernetes mode) or the node's resource name (host mode), exported as NODE. */
    node: string;
    /** Kubernetes mode: kubectl and the declared containerd version. */
    kubernetes?: { kubectl: string; containerdVersion: string };
    /** Commands that must exit 0, run with NODE set (e.g. `curl -fsS http://$NODE:8080/healthz`). */
    probes: string[];
    /** How long the gate waits for the checks to pass. */
    timeoutSeconds: number;
    /** Pause after passing, before the next wave may start. */
    pauseSeconds: number;
    /**
     * Within a failure budget (Kubernetes mode): the Node's retry mark when the run was planned.
     * A node whose mark changed since (an earlier step failed) or that fails the gate is reported
     * as failed on stdout and the gate ends successfully, so the rollout goes on.
     */
    planned?: string;
}

/**
 * Kubernetes mode: Ready, containerRuntimeVersion is the declared containerd, and every DaemonSet
 * pod on the node is Running and ready; then each probe. Marks the Node's phase as converted.
 */
export function gateScript(g: GateSpec): string {
    const k = g.kubernetes;
    const probes = g.probes.map((p, i) => `probe ${i + 1} ${sq(p)}`).join("\n");
    const key = (a: string) => a.replace(/\./g, "\\.");
    const soft = k && g.planned !== undefined ? `
A=$("$K" get node "$NODE" -o jsonpath='{.metadata.annotations.${key(ROLLBACK_ANNOTATION)}}{"\\n"}{.metadata.annotations.${key(FAILURE_ANNOTATION)}}') || { echo "containerd-node: cannot read node $NODE" >&2; exit 1; }
RB=$(echo "$A" | sed -n 1p); FA=$(echo "$A" | sed -n 2p)
MARK=$RB; [ -n "$FA" ] && MARK="$RB failed:$FA"
if [ "$MARK" != ${sq(g.planned!)} ]; then
  echo "node $NODE failed earlier in this run (\${FA:-switch rolled back}): not gated" >&2
  echo "{\\"node\\":\\"$NODE\\",\\"passed\\":false,\\"failure\\":\\"\${FA:-switch}\\"}"; exit 0
fi
fail() {
  echo "containerd-node: health gate of $NODE failed: $*; within the failure budget, the rollout goes on" >&2
  F="gate $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  "$K" annotate --overwrite node "$NODE" ${FAILURE_ANNOTATION}="$F" ${PHASE_ANNOTATION}=gate-failed >&2 || exit 1
  echo "{\\"node\\":\\"$NODE\\",\\"passed\\":false,\\"failure\\":\\"$F\\"}"; exit 0
}` : "";
    return `set -uo pipefail
export NODE=${sq(g.node)}
deadline=$(( $(date +%s) + ${g.timeoutSeconds} ))
fail() { echo "containerd-node: health gate of $NODE failed: $*" >&2; exit 1; }
late() { [ "$(date +%s)" -ge "$deadline" ]; }
probe() { # probe N COMMAND: retried until it passes or the gate's time is up
  until bash -c "$2" >&2; do late && fail "probe $1 ($2) did not pass"; sleep 3; done
}
${k ? `K=${sq(k.kubectl)}${soft}
while :; do
  RT=$("$K" get node "$NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null)
  READY=$("$K" get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  # One line per DaemonSet pod on the node: "ns/name phase ready…"; a pod is good when Running and all ready.
  BAD=$("$K" get pods -A --field-selector "spec.nodeName=$NODE" -o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind=="DaemonSet")]}{.metadata.namespace}/{.metadata.name} {.status.phase} {.status.containerStatuses[*].ready}{"\\n"}{end}' 2>/dev/null | awk 'NF && ($2 != "Running" || / false/) {print $1}')
  V=\${RT#containerd://}
  if [ "$READY" = True ] && { [ "$V" = ${sq(k.containerdVersion)} ] || case "$V" in ${sq(k.containerdVersion)}[.~+-]*) true;; *) false;; esac; } && [ -z "$BAD" ]; then break; fi
  late && fail "Ready=\${READY:-unknown}, runtime \${RT:-unknown} (want containerd ${k.containerdVersion}), DaemonSet pods not running: \${BAD:-none}"
  sleep 3
done` : ""}
${probes}
${k ? `"$K" annotate --overwrite node "$NODE" ${PHASE_ANNOTATION}=converted >&2` : ""}
${g.pauseSeconds > 0 ? `sleep ${g.pauseSeconds}` : ""}
echo "{\\"node\\":\\"$NODE\\",\\"passed\\":true,\\"seconds\\":$SECONDS}"
`;
}
