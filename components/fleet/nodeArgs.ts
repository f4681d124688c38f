/**
 * What a fleet takes per node: the node itself (listed by hand, or found by discover.ts) and the
 * settings every node shares.
 */
import { ContainerdNodeArgs, NodeConnectionArgs } from "../args";

/** Settings every node shares; each node may override any part of them. */
export type FleetSettings = Omit<ContainerdNodeArgs, "connection" | "kubernetes" | "startAfter" | "rollbackMark" | "softFailures" | "fleetGate" | "nodeFacts" | "factReads">;

/** One node of the fleet. */
export interface FleetNodeArgs {
    /** Resource name prefix of the node's steps; also the Kubernetes Node name unless `nodeName`. */
    name: string;
    connection: NodeConnectionArgs;
    /** Kubernetes Node name. Default `name`. */
    nodeName?: string;
    /** Control-plane nodes are converted one per wave, first or last (see `controlPlane`). */
    controlPlane?: boolean;
    /** Explicit position: lower first; nodes without one follow, in list order. */
    order?: number;
    /** Deep-merged over `settings` for this node (e.g. a different kubelet version or mirror). */
    overrides?: Partial<FleetSettings>;
    /** The node's facts, when already read (see ContainerdNodeArgs.nodeFacts). Default: read over SSH. */
    nodeFacts?: ContainerdNodeArgs["nodeFacts"];
}
