/**
 * Fleet-wide checks and merges (pure): pods that would break when Docker goes away, the Nodes'
 * rollback marks, per-node overrides of the shared settings, and what a large fleet is told
 * about checkpoints.
 */
import { FAILURE_ANNOTATION, retryMark, ROLLBACK_ANNOTATION } from "../scripts/kubectl";

/** A pod that mounts Docker's or dockershim's socket from the host. */
export interface SocketPod {
    namespace: string;
    name: string;
    node: string;
    path: string;
}

const SOCKETS = /(^|\/)(docker|dockershim)\.sock$/;

/**
 * Pods (from `kubectl get pods -A -o json`) with a hostPath volume on docker.sock or
 * dockershim.sock: after the switch the socket is gone or dead, and such pods (CI runners
 * building images, log and monitoring agents) break. The check AWS's detector makes.
 */
export function dockerSocketPods(podList: string): SocketPod[] {
    const list = JSON.parse(podList) as { items?: any[] };
    const found: SocketPod[] = [];
    for (const pod of list.items ?? []) {
        for (const v of pod.spec?.volumes ?? []) {
            const p: string | undefined = v.hostPath?.path;
            if (p !== undefined && SOCKETS.test(p.replace(/\/+$/, ""))) {
                found.push({ namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", node: pod.spec?.nodeName ?? "", path: p });
            }
        }
    }
    return found.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/**
 * Each Node's retry mark (from `kubectl get nodes -o json`; see retryMark), "" when it has none:
 * one request for the fleet instead of one kubectl run per node at every preview.
 */
export function rollbackMarks(nodeList: string): Map<string, string> {
    const list = JSON.parse(nodeList) as { items?: any[] };
    return new Map((list.items ?? []).map(n => {
        const a = n.metadata?.annotations ?? {};
        return [String(n.metadata?.name ?? ""), retryMark(String(a[ROLLBACK_ANNOTATION] ?? ""), String(a[FAILURE_ANNOTATION] ?? ""))];
    }));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Deep-merges `over` onto `base`: objects merge key by key, anything else (arrays too) replaces. */
export function mergeSettings<T>(base: T, over: unknown): T {
    if (over === undefined) {
        return base;
    }
    if (!isPlainObject(base) || !isPlainObject(over)) {
        return over as T;
    }
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        out[k] = mergeSettings(out[k], v);
    }
    return out as T;
}

/** Fleets of this many nodes or more are told about checkpoints (see checkpointAdvice). */
export const LARGE_FLEET = 100;

/**
 * What a large fleet's run is told when every resource operation rewrites the whole state: a
 * self-managed backend (file, S3, GCS, Azure Blob) has no journaling, so the engine's own work
 * per operation grows with the fleet, and a whole run with its square (pulumi/pulumi#10668).
 * `PULUMI_SKIP_CHECKPOINTS=true` writes the state once, at the end; a run killed before then
 * leaves none of its own operations in the state, and the next run does every step again, which
 * finds its work done on the node (docs/fleets.md, "Large fleets"). Undefined when the fleet is
 * small or the setting is on.
 */
export function checkpointAdvice(nodes: number, env: { [name: string]: string | undefined }): string | undefined {
    const on = /^(1|true|yes)$/i.test(env.PULUMI_SKIP_CHECKPOINTS ?? "");
    if (nodes < LARGE_FLEET || on) {
        return undefined;
    }
    return `a fleet of ${nodes} nodes: on a self-managed backend (file, S3, GCS, Azure Blob) the engine rewrites the whole state after each of the run's operations, ` +
        `so its own work grows with the square of the fleet; run pulumi with PULUMI_SKIP_CHECKPOINTS=true (the state is written once, at the end; ` +
        `see "Large fleets" in containerd-node's docs/fleets.md). Pulumi Cloud's journaling needs no such setting`;
}
