/**
 * The health gate after each node of a rolling conversion (bash run on the machine running
 * `pulumi up`): the next wave starts only when every node of this one passed.
 */
import { LOCAL_LIB_SOURCE, localValues } from "../scripts/localLib";

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
 * pod on the node is Running and ready; then each probe. Marks the Node's phase as converted
 * (kubectl.sh cn_gate). The text is the gate's values and the call.
 */
export function gateScript(g: GateSpec): string {
    const k = g.kubernetes;
    return `set -uo pipefail
${localValues({
        NODE: g.node,
        PROBES: g.probes,
        GATE_TIMEOUT: g.timeoutSeconds,
        PAUSE: g.pauseSeconds,
        K: k?.kubectl,
        WANT: k?.containerdVersion,
        PLANNED: k ? g.planned : undefined,
    })}${LOCAL_LIB_SOURCE}cn_gate
`;
}
