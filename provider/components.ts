/**
 * The two components as the provider's schema declares them: their inputs (provider/args.ts) and
 * their outputs. Declarations only (no code): the schema generator reads them, and the provider
 * (provider/provider.ts) builds the components of components/ from the inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ContainerdFleetInputs, ContainerdNodeInputs, FleetRowOutputs, StepDurationsOutputs } from "./args";

/**
 * Brings one Linux node from whatever runtime it has (Docker, containerd 1.x or 2.x) to a declared
 * containerd state over SSH and keeps it there. Before any step, at preview and at up, the
 * pre-flight reads the node's facts and plans it; every step is one transaction on the node.
 */
export declare class ContainerdNode extends pulumi.ComponentResource {
    /** The runtime the node had before, e.g. "docker://20.10.24". */
    public readonly runtimeBefore: pulumi.Output<string>;
    /** The runtime the node runs after, e.g. "containerd://2.2.9". */
    public readonly runtimeAfter: pulumi.Output<string>;
    /** The containerd version the node runs. */
    public readonly containerdVersion: pulumi.Output<string>;
    /** Kubernetes mode: the Node's containerRuntimeVersion once verified. */
    public readonly containerRuntimeVersion: pulumi.Output<string | undefined>;
    /** The path the node takes, e.g. "containerd 1.7.35 → 2.3.7 (drained)". */
    public readonly path: pulumi.Output<string>;
    /** Why the pre-flight refuses the run ("" when it does not). */
    public readonly refusal: pulumi.Output<string>;
    /** The time each step took. */
    public readonly durations: pulumi.Output<StepDurationsOutputs>;
    constructor(name: string, args: ContainerdNodeInputs, opts?: pulumi.ComponentResourceOptions);
}

/**
 * Converts a fleet of nodes in waves: every node is checked (pre-flight) before any is changed; a
 * wave starts when every node of the previous one passed its health gate; a failure past the
 * failure budget stops the rollout, and a rerun resumes.
 */
export declare class ContainerdFleet extends pulumi.ComponentResource {
    /** Node names per wave, in order. */
    public readonly waves: pulumi.Output<string[][]>;
    /** Per node: wave, runtime before and after, step durations, result. */
    public readonly table: pulumi.Output<FleetRowOutputs[]>;
    /** Pods mounting Docker's socket that were acknowledged (Kubernetes mode). */
    public readonly dockerSocketPods: pulumi.Output<string[]>;
    constructor(name: string, args: ContainerdFleetInputs, opts?: pulumi.ComponentResourceOptions);
}
