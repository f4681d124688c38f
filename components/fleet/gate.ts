/**
 * The health gate after each node of a rolling conversion (bash run on the machine running
 * `pulumi up`): the next wave starts only when every node of this one passed.
 */
import { FleetGateValues } from "../args";
import { LOCAL_LIB_SOURCE, localValues } from "../scripts/localLib";

/** The gate's values (probes, timeout, pause: args.ts FleetGateValues) and where it runs. */
export interface GateSpec extends FleetGateValues {
    /** Node name (Kubernetes mode) or the node's resource name (host mode), exported as NODE. */
    node: string;
    /** Kubernetes mode: kubectl and the declared containerd version. */
    kubernetes?: { kubectl: string; containerdVersion: string };
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
