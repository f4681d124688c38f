import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ContainerdNodeArgs, DrainArgs, NodeConnectionArgs } from "../args";
import { ContainerdNode, StepDurations } from "../containerdNode";
import { sq } from "../scripts/shell";
import { DEFAULTS, InvalidArgumentError } from "../spec";
import { dockerSocketPods, mergeSettings, rollbackMarks } from "./checks";
import { gateScript } from "./gate";
import { ControlPlaneOrder, planWaves } from "./waves";

/** Settings every node shares; each node may override any part of them. */
export type FleetSettings = Omit<ContainerdNodeArgs, "connection" | "kubernetes" | "startAfter">;

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
}

/** The health gate each node must pass before the next wave starts. */
export interface HealthGateArgs {
    /** Extra commands run on this machine with NODE set; each must exit 0. Default none. */
    probes?: string[];
    /** How long the gate waits for the node (and the probes) to be healthy. Default 300. */
    timeoutSeconds?: number;
    /** Pause after a wave has passed, before the next starts. Default 0. */
    pauseSecondsBetweenWaves?: number;
}

export interface ContainerdFleetArgs {
    nodes: FleetNodeArgs[];
    settings: FleetSettings;
    /** Kubernetes mode for every node (cordon/drain/verify/uncordon, health gates on the API). */
    kubernetes?: {
        kubeconfig: string;
        kubectl?: string;
        drain?: DrainArgs;
        verifyTimeoutSeconds?: number;
    };
    /** Nodes converted at once: a count or a percentage of the fleet ("25%"). Default 1. */
    maxUnavailable?: number | string;
    /** Control-plane nodes first (default) or last. */
    controlPlane?: ControlPlaneOrder;
    healthGate?: HealthGateArgs;
    /**
     * Pods that mount docker.sock or dockershim.sock break when Docker goes; the run is refused
     * while there are any, unless this is true. Default false.
     */
    acknowledgeDockerSocketPods?: boolean;
}

/** A row of the fleet's progress table. */
export interface FleetRow {
    node: string;
    wave: number;
    runtimeBefore: string;
    runtimeAfter: string;
    durations: StepDurations;
    result: "converted" | "already on containerd";
}

/**
 * Converts a fleet of nodes in waves: every node is checked (pre-flight) before any is changed;
 * a wave starts when every node of the previous one passed its health gate; a failure stops the
 * rollout there (later waves are not touched) and a rerun resumes: converted nodes have nothing
 * to change.
 */
export class ContainerdFleet extends pulumi.ComponentResource {
    /** The nodes by name. */
    public readonly nodes: { [name: string]: ContainerdNode } = {};
    /** Node names per wave, in order. */
    public readonly waves: string[][];
    /** Per node: wave, runtime before/after, step durations, result. */
    public readonly table: pulumi.Output<FleetRow[]>;
    /** Pods mounting Docker's socket that were acknowledged (Kubernetes mode). */
    public readonly dockerSocketPods: pulumi.Output<string[]>;

    constructor(name: string, args: ContainerdFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("containerd-node:index:ContainerdFleet", name, {}, opts);
        try {
            this.waves = planWaves(args.nodes, { maxUnavailable: args.maxUnavailable, controlPlane: args.controlPlane });
        } catch (e) {
            throw e instanceof InvalidArgumentError ? new pulumi.ResourceError(e.message, this) : e;
        }
        const gate = args.healthGate ?? {};
        const probes = gate.probes ?? [];
        const k8s = args.kubernetes;
        const kubectl = k8s?.kubectl ?? DEFAULTS.kubectl;
        const byName = new Map(args.nodes.map(n => [n.name, n]));

        // Read at every preview and update, before anything is changed. A refusal is an error in
        // the preview and makes the barrier every node's first change waits for fail, so nothing
        // is touched. (Not a rejected dependsOn: the engine can wait forever on one.)
        const socketPods: pulumi.Output<string[]> = !k8s ? pulumi.output([]) : command.local.runOutput({
            command: `${kubectl} get pods -A -o json`,
            environment: { KUBECONFIG: k8s.kubeconfig },
            logging: "none",
        }, { parent: this }).stdout.apply(out => dockerSocketPods(out).map(p => `${p.namespace}/${p.name} (node ${p.node || "none"}, ${p.path})`));
        const refusal = socketPods.apply(pods => {
            if (pods.length === 0 || args.acknowledgeDockerSocketPods) {
                return "";
            }
            const msg = `invalid acknowledgeDockerSocketPods: these pods mount Docker's socket and break without Docker: ` +
                `${pods.join(", ")}; move them off the socket, or set acknowledgeDockerSocketPods: true to convert anyway`;
            pulumi.log.error(msg, this);
            return msg;
        });
        this.dockerSocketPods = socketPods;
        // Every Node's rollback mark in one read (see ContainerdNodeArgs.rollbackMark).
        const marks = !k8s ? undefined : command.local.runOutput({
            command: `${kubectl} get nodes -o json`,
            environment: { KUBECONFIG: k8s.kubeconfig },
            logging: "none",
        }, { parent: this }).stdout.apply(rollbackMarks);

        // Every node's pre-flight runs first; the first change to any node waits for all of them
        // (and for the socket check), then for the gates of the previous wave. Barriers (local
        // no-op commands) keep that linear: N nodes each depending on N pre-flights is N² edges.
        let resolveAllPreflights!: (r: pulumi.Resource[]) => void;
        const allPreflights = new Promise<pulumi.Resource[]>(r => { resolveAllPreflights = r; });
        // Their text is stable (no node names or counts): adding a node changes no barrier.
        const barrier = (id: string, create: pulumi.Input<string>, after: pulumi.Input<pulumi.Input<pulumi.Resource>[]>) =>
            new command.local.Command(`${name}-${id}`, { create, addPreviousOutputInEnv: false }, { parent: this, dependsOn: after });
        const checked = barrier("preflight-passed",
            refusal.apply(msg => msg ? `echo ${sq(`containerd-node: ${msg}`)} >&2; exit 1` : "echo 'pre-flight passed on every node'"),
            allPreflights);
        const preflights: pulumi.Resource[] = [];
        // What a wave's first change waits for: a plain array for the first wave; for the others,
        // a promise of the previous wave's barrier that resolves once the engine has registered it,
        // so the nodes of a wave are built (see ContainerdNodeArgs.startAfter) only then.
        let previous: pulumi.Resource[] | Promise<pulumi.Resource[]> = [checked];
        const rows: pulumi.Output<FleetRow>[] = [];
        const needsGate = !!k8s || probes.length > 0 || (gate.pauseSecondsBetweenWaves ?? 0) > 0;

        this.waves.forEach((wave, w) => {
            const passedOfThisWave: (pulumi.Resource | Promise<pulumi.Resource>)[] = [];
            for (const nodeName of wave) {
                const n = byName.get(nodeName)!;
                const settings = mergeSettings(args.settings, n.overrides);
                const node = new ContainerdNode(n.name, {
                    ...settings,
                    connection: n.connection,
                    kubernetes: k8s ? {
                        kubeconfig: k8s.kubeconfig, kubectl: k8s.kubectl, nodeName: n.nodeName ?? n.name,
                        drain: k8s.drain, verifyTimeoutSeconds: k8s.verifyTimeoutSeconds,
                    } : undefined,
                    startAfter: previous,
                    rollbackMark: marks?.apply(m => m.get(n.nodeName ?? n.name) ?? ""),
                }, { parent: this });
                this.nodes[n.name] = node;
                preflights.push(node.preflight);
                const spec = node.spec;
                const gated = (done: pulumi.Resource): pulumi.Resource => !needsGate ? done : new command.local.Command(`${n.name}-gate`, {
                    create: gateScript({
                        node: n.nodeName ?? n.name,
                        kubernetes: k8s ? { kubectl, containerdVersion: spec.containerd.version.text } : undefined,
                        probes,
                        timeoutSeconds: gate.timeoutSeconds ?? 300,
                        pauseSeconds: w < this.waves.length - 1 ? gate.pauseSecondsBetweenWaves ?? 0 : 0,
                    }),
                    interpreter: ["/bin/bash", "-c"],
                    environment: k8s ? { KUBECONFIG: k8s.kubeconfig } : undefined,
                    addPreviousOutputInEnv: false,
                }, { parent: this, dependsOn: [done] });
                passedOfThisWave.push(node.done instanceof Promise ? node.done.then(gated) : gated(node.done));
                rows.push(pulumi.all([node.runtimeBefore, node.runtimeAfter, node.durations]).apply(([b, a, d]) => ({
                    node: n.name, wave: w + 1, runtimeBefore: b, runtimeAfter: a, durations: d,
                    result: b === a ? "already on containerd" as const : "converted" as const,
                })));
            }
            if (w < this.waves.length - 1) {
                previous = Promise.all(passedOfThisWave)
                    .then(passed => barrier(`wave-${w + 1}-passed`, `echo 'wave ${w + 1} passed'`, passed))
                    .then(b => new Promise<pulumi.Resource[]>(registered => b.urn.apply(() => registered([b]))));
            }
        });
        resolveAllPreflights(preflights);
        this.table = pulumi.all(rows);
        this.registerOutputs({ waves: this.waves, table: this.table, dockerSocketPods: this.dockerSocketPods });
    }
}
