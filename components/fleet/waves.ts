/**
 * Wave planning for a rolling conversion (pure): which nodes are converted together.
 * Rules, as kured and system-upgrade-controller operators expect them:
 * - maxUnavailable is a count (≥ 1) or a percentage of the fleet, rounded down but at least 1
 *   (the Deployment rolling-update rule, so "10%" of 5 nodes is 1, not 0);
 * - control-plane nodes are converted one per wave (etcd quorum, API availability), first by
 *   default, or last; workers fill waves of maxUnavailable;
 * - an explicit order (a number per node, lower first) sorts within each group; ties keep the
 *   order the nodes were given in.
 */
import { InvalidArgumentError } from "../spec";

/** Whether a fleet's control-plane nodes are converted first or last, one per wave. */
export const ControlPlaneOrder = {
    /** Control-plane nodes first, one per wave. */
    first: "first",
    /** Control-plane nodes last, one per wave. */
    last: "last",
} as const;
/** Whether a fleet's control-plane nodes are converted first or last (see the constant of the same name). */
export type ControlPlaneOrder = typeof ControlPlaneOrder[keyof typeof ControlPlaneOrder];

export interface WaveNode {
    name: string;
    controlPlane?: boolean;
    /** Lower numbers go first; nodes without one follow those with one, in list order. */
    order?: number;
}

export interface WavePlanArgs {
    /** A count ≥ 1, or a percentage string like "25%". Default 1. */
    maxUnavailable?: number | string;
    /** Control-plane nodes first (default) or last. */
    controlPlane?: ControlPlaneOrder;
}

/** The wave size for a fleet of `total` nodes. */
export function resolveMaxUnavailable(value: number | string | undefined, total: number): number {
    if (value === undefined) {
        return 1;
    }
    if (typeof value === "number") {
        if (!Number.isInteger(value) || value < 1) {
            throw new InvalidArgumentError("maxUnavailable", `expected an integer ≥ 1 or a percentage like "25%", got ${value}`);
        }
        return value;
    }
    const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
    if (!m || Number(m[1]) <= 0 || Number(m[1]) > 100) {
        throw new InvalidArgumentError("maxUnavailable", `expected an integer ≥ 1 or a percentage from 0 to 100 like "25%", got ${JSON.stringify(value)}`);
    }
    return Math.max(1, Math.floor((total * Number(m[1])) / 100));
}

/** Splits the nodes into ordered waves of node names. */
export function planWaves(nodes: WaveNode[], args: WavePlanArgs = {}): string[][] {
    const seen = new Set<string>();
    for (const n of nodes) {
        if (seen.has(n.name)) {
            throw new InvalidArgumentError("nodes", `expected unique node names, got "${n.name}" twice`);
        }
        seen.add(n.name);
    }
    const cpOrder = args.controlPlane ?? "first";
    if (cpOrder !== "first" && cpOrder !== "last") {
        throw new InvalidArgumentError("controlPlane", `expected "first" or "last", got ${JSON.stringify(cpOrder)}`);
    }
    const size = resolveMaxUnavailable(args.maxUnavailable, nodes.length);
    const sorted = (group: WaveNode[]) => group
        .map((n, i) => ({ n, i }))
        .sort((a, b) => (a.n.order ?? Infinity) - (b.n.order ?? Infinity) || a.i - b.i)
        .map(x => x.n.name);
    const control = sorted(nodes.filter(n => n.controlPlane)).map(name => [name]);
    const workers = sorted(nodes.filter(n => !n.controlPlane));
    const workerWaves: string[][] = [];
    for (let i = 0; i < workers.length; i += size) {
        workerWaves.push(workers.slice(i, i + size));
    }
    return cpOrder === "first" ? [...control, ...workerWaves] : [...workerWaves, ...control];
}

/**
 * How many nodes may fail before a rollout stops: a count ≥ 0 or a percentage of the fleet,
 * rounded down (Ansible's max_fail_percentage reads the same way). More than 0 needs Kubernetes
 * mode: the failures are recorded on the Node objects, where the next run finds them.
 */
export function resolveFailureBudget(value: number | string | undefined, total: number, kubernetes: boolean): number {
    const expected = `a whole number ≥ 0 or a percentage like "10%"`;
    let budget: number;
    if (value === undefined) {
        budget = 0;
    } else if (typeof value === "number") {
        if (!Number.isInteger(value) || value < 0) {
            throw new InvalidArgumentError("failureBudget", `expected ${expected}, got ${value}`);
        }
        budget = value;
    } else {
        const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
        if (!m || Number(m[1]) > 100) {
            throw new InvalidArgumentError("failureBudget", `expected ${expected} (0 to 100%), got ${JSON.stringify(value)}`);
        }
        budget = Math.floor((total * Number(m[1])) / 100);
    }
    if (budget > 0 && !kubernetes) {
        throw new InvalidArgumentError("failureBudget", `a budget above 0 needs kubernetes (failed nodes are recorded on their Node objects), got ${JSON.stringify(value)} without it`);
    }
    return budget;
}
