import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ContainerdNodeArgs, DrainArgs, FleetStep, KubeconfigInput } from "../args";
import { LocalStep, withoutSourcePosition } from "../commands";
import { kubeconfigWiring, writeLocalLibrary } from "../kubeconfig";
import { ContainerdNode, StepDurations } from "../containerdNode";
import { readsWaitingAtMost } from "../preflight/planOutputs";
import { allOf, applyAll, outputOf } from "../outputs";
import { withoutPromiseTraces } from "../promiseTraces";
import { dropSdkDebugLogs } from "../sdkDebugLogs";
import { drainDigest, waveDrainScript, WaveMember, waveTriggers, waveVerifyScript } from "../scripts/kubectl";
import { sq } from "../scripts/shell";
import { DEFAULTS, InvalidArgumentError, resolveSpec } from "../spec";
import { checkpointAdvice, dockerSocketPods, mergeSettings, rollbackMarks } from "./checks";
import { discoverNodes, DiscoveryArgs } from "./discover";
import { gateScript } from "./gate";
import { FleetNodeArgs, FleetSettings } from "./nodeArgs";
import { ControlPlaneOrder, planWaves, resolveFailureBudget } from "./waves";

/** Nodes built at a time (see `nextInBatch` below). */
export const NODE_BATCH = 50;

/** HealthGateArgs.nodesAtOnce's default. */
const GATE_NODES_AT_ONCE = 16;

/** The resources, each once (a fleet's nodes in Kubernetes mode all end with their wave's step). */
const distinct = (rs: Promise<pulumi.Resource>[]): Promise<pulumi.Resource[]> => Promise.all(rs).then(all => [...new Set(all)]);

/** A promise and what resolves it. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>(r => { resolve = r; });
    return { promise, resolve };
}

/** A wave's step for its nodes (ContainerdNodeArgs.fleetWave): the step once built, and its output. */
const waveStep = (step: Promise<LocalStep>): FleetStep => ({ step, stdout: outputOf(step.then(s => s.stdout)) });

/** Resolves once the engine has registered `r` (at preview: planned it; at up: done it). */
const registered = (r: pulumi.Resource): Promise<void> => new Promise(done => r.urn.apply(() => done()));

/** The health gate each node must pass before the next wave starts. */
export interface HealthGateArgs {
    /** Extra commands run on this machine with NODE set; each must exit 0. Default none. */
    probes?: string[];
    /** How long the gate waits for the node (and the probes) to be healthy. Default 300. */
    timeoutSeconds?: number;
    /** Pause after a wave has passed, before the next starts. Default 0. */
    pauseSecondsBetweenWaves?: number;
    /**
     * Kubernetes mode: how many nodes of a wave its steps drain, and then verify and gate, at once
     * (each a kubectl drain, then a few kubectl runs every 3 s while the gate waits, on this
     * machine). Default 16.
     */
    nodesAtOnce?: number;
}

export interface ContainerdFleetArgs {
    nodes: FleetNodeArgs[];
    settings: FleetSettings;
    /** Kubernetes mode for every node (cordon/drain/verify/uncordon, health gates on the API). */
    kubernetes?: {
        /** The kubeconfig: the path of a file on the machine running `pulumi up`, or `{ content }`. */
        kubeconfig: KubeconfigInput;
        kubectl?: string;
        drain?: DrainArgs;
        verifyTimeoutSeconds?: number;
    };
    /** Nodes converted at once: a count or a percentage of the fleet ("25%"). Default 1. */
    maxUnavailable?: number | string;
    /**
     * Nodes that may fail before the rollout stops: a count or a percentage of the fleet, rounded
     * down. Default 0: the first failure stops it. Within the budget a failed node (drain, switch,
     * verify or health gate) is left as that step's failure always leaves it (a failed drain or
     * switch puts the node back on its runtime, uncordoned), its Node gets the
     * annotation `containerd-node.pulumi.com/last-failure`, and the next waves go on; the run
     * then fails at its end, naming the failed nodes, and the next `pulumi up` retries just them.
     * Kubernetes mode only. A node that can't be reached at all still stops the rollout.
     */
    failureBudget?: number | string;
    /**
     * `true`: a failing node is put back and counted against `failureBudget` (as within a budget)
     * even when the budget is 0; the run then stops after its wave, naming it. A fleet that is one
     * of several stacks of a rollout with a budget (upFleetStacks sets it) gets what the stacks
     * before it left, 0 included, and this keeps its steps the same whatever they used: a stack
     * converted with 0 left is unchanged in the next run. Default: `failureBudget` above 0.
     * Kubernetes mode only.
     */
    absorbFailures?: boolean;
    /** Control-plane nodes first (default) or last. */
    controlPlane?: ControlPlaneOrder;
    healthGate?: HealthGateArgs;
    /**
     * Pods that mount docker.sock or dockershim.sock break when Docker goes; the run is refused
     * while there are any, unless this is true. Default false.
     */
    acknowledgeDockerSocketPods?: boolean;
    /**
     * How many nodes' facts are read over SSH at once, at preview and at up (ContainerdNodeArgs
     * `factReads`, given to every node). Default 16.
     */
    factReads?: number;
}

/** A fleet whose nodes are found in the cluster (`ContainerdFleet.fromCluster`). */
export interface ClusterFleetArgs extends Omit<ContainerdFleetArgs, "nodes" | "kubernetes"> {
    /** Which Nodes, and how to reach them. */
    discover: DiscoveryArgs;
    /** Required: the cluster the nodes are found in. */
    kubernetes: NonNullable<ContainerdFleetArgs["kubernetes"]>;
}

/** A row of the fleet's progress table. */
export interface FleetRow {
    node: string;
    wave: number;
    runtimeBefore: string;
    runtimeAfter: string;
    /** The path the node took, e.g. "docker://20.10.24 → containerd" or "containerd 1.7.35 → 2.3.7 (drained)". */
    path: string;
    durations: StepDurations;
    result: "converted" | "already on containerd" | "failed";
    /** Within a failure budget: the step that failed and when, e.g. "switch 2026-11-25T10:00:00Z". */
    failure?: string;
}

/**
 * Converts a fleet of nodes in waves: every node is checked (pre-flight) before any is changed;
 * a wave starts when every node of the previous one passed its health gate; a failure stops the
 * rollout there (later waves are not touched) and a rerun resumes: converted nodes have nothing
 * to change.
 */
export class ContainerdFleet extends pulumi.ComponentResource {
    /**
     * The nodes by name, filled in as they are built (a batch at a time, see NODE_BATCH): all of
     * them once `table` is known.
     */
    public readonly nodes: { [name: string]: ContainerdNode } = {};
    /** Node names per wave, in order. */
    public readonly waves: string[][];
    /** Per node: wave, runtime before/after, step durations, result. */
    public readonly table: pulumi.Output<FleetRow[]>;
    /** Pods mounting Docker's socket that were acknowledged (Kubernetes mode). */
    public readonly dockerSocketPods: pulumi.Output<string[]>;

    /**
     * A fleet of the cluster's Nodes (see DiscoveryArgs), read at every preview and update: a Node
     * that joined shows as a create at the next preview; one that left is dropped from the stack
     * with nothing run on it. The nodes found are logged. While the kubeconfig is not known yet
     * (a preview of the program that makes the cluster) the fleet has no nodes.
     */
    static async fromCluster(name: string, args: ClusterFleetArgs, opts?: pulumi.ComponentResourceOptions): Promise<ContainerdFleet> {
        let nodes: FleetNodeArgs[] | undefined;
        try {
            nodes = await discoverNodes(args.kubernetes, args.discover);
        } catch (e) {
            throw new pulumi.RunError(e instanceof InvalidArgumentError ? `ContainerdFleet ${name}: ${e.message}`
                : `ContainerdFleet ${name}: could not read the cluster's Nodes: ${(e as Error).message}`);
        }
        const { discover, ...rest } = args;
        const fleet = new ContainerdFleet(name, { ...rest, nodes: nodes ?? [] }, opts);
        const which = discover.selector ? `Nodes matching ${discover.selector}` : "Nodes";
        if (nodes === undefined) {
            pulumi.log.warn(`the kubeconfig is not known yet (the cluster is still to be made): no ${which} to convert at this preview`, fleet);
        } else {
            pulumi.log.info(`${nodes.length} ${which} found: ${nodes.map(n => `${n.name} (${n.connection.host})`).join(", ") || "none"}`, fleet);
        }
        return fleet;
    }

    constructor(name: string, args: ContainerdFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("containerd-node:index:ContainerdFleet", name, {}, opts);
        // Its own resources and barriers too, before its first node (components/sdkDebugLogs.ts).
        dropSdkDebugLogs();
        let budget: number;
        try {
            this.waves = planWaves(args.nodes, { maxUnavailable: args.maxUnavailable, controlPlane: args.controlPlane });
            budget = resolveFailureBudget(args.failureBudget, args.nodes.length, !!args.kubernetes);
            if (args.absorbFailures !== undefined && typeof args.absorbFailures !== "boolean") {
                throw new InvalidArgumentError("absorbFailures", `expected true or false, got ${JSON.stringify(args.absorbFailures)}`);
            }
            const atOnce = args.healthGate?.nodesAtOnce;
            if (atOnce !== undefined && !(Number.isInteger(atOnce) && atOnce >= 1 && atOnce <= 1000)) {
                throw new InvalidArgumentError("healthGate.nodesAtOnce", `expected an integer from 1 to 1000, got ${JSON.stringify(atOnce)}`);
            }
            if (args.absorbFailures && !args.kubernetes) {
                throw new InvalidArgumentError("absorbFailures", "true needs kubernetes (failed nodes are recorded on their Node objects)");
            }
        } catch (e) {
            throw e instanceof InvalidArgumentError ? new pulumi.ResourceError(e.message, this) : e;
        }
        const advice = checkpointAdvice(args.nodes.length, process.env);
        if (advice) {
            pulumi.log.warn(advice, this);
        }
        const gate = args.healthGate ?? {};
        const atOnce = gate.nodesAtOnce ?? GATE_NODES_AT_ONCE;
        const probes = gate.probes ?? [];
        const k8s = args.kubernetes;
        const kubectl = k8s?.kubectl ?? DEFAULTS.kubectl;
        const byName = new Map(args.nodes.map(n => [n.name, n]));
        const soft = budget > 0 || args.absorbFailures === true;
        // Each node's own args (the fleet's wiring is added when it is built), all checked here,
        // before any child exists: bad input fails the preview at once, naming the node. (A child
        // waiting on the rest of a constructor that threw would keep the program from ending.)
        const nodeArgsOf = new Map(args.nodes.map(n => {
            const own: ContainerdNodeArgs = {
                ...mergeSettings(args.settings, n.overrides),
                connection: n.connection,
                nodeFacts: n.nodeFacts,
                factReads: args.factReads,
                kubernetes: k8s ? {
                    kubeconfig: k8s.kubeconfig, kubectl: k8s.kubectl, nodeName: n.nodeName ?? n.name,
                    drain: k8s.drain, verifyTimeoutSeconds: k8s.verifyTimeoutSeconds,
                } : undefined,
                softFailures: soft,
            };
            try {
                resolveSpec(own);
                return [n.name, { own }];
            } catch (e) {
                throw e instanceof InvalidArgumentError ? new pulumi.ResourceError(`node ${n.name}: ${e.message}`, this) : e;
            }
        }));

        // Read at every preview and update, before anything is changed. A refusal is an error in
        // the preview and makes the barrier every node's first change waits for fail, so nothing
        // is touched. (Not a rejected dependsOn: the engine can wait forever on one.)
        const kc = k8s ? kubeconfigWiring("kubernetes.kubeconfig", k8s.kubeconfig) : undefined;
        // The pods and marks are not secrets, though a kubeconfig's content on a read's stdin makes its result one.
        const read = (cmd: string) => pulumi.unsecret(command.local.runOutput({
            command: `${kc!.read.prologue}${cmd}`,
            environment: kc!.read.environment,
            stdin: kc!.read.stdin,
            logging: "none",
        }, { parent: this }).stdout);
        const socketPods: pulumi.Output<string[]> = !k8s ? pulumi.output([]) : read(`${kubectl} get pods -A -o json`)
            .apply(out => dockerSocketPods(out).map(p => `${p.namespace}/${p.name} (node ${p.node || "none"}, ${p.path})`));
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
        // Every Node's retry mark in one read (see ContainerdNodeArgs.rollbackMark).
        const marks = !k8s ? undefined : read(`${kubectl} get nodes -o json`).apply(rollbackMarks);

        // Every node's pre-flight (its facts read and plan) comes first; the first change to any
        // node waits for all of them (and for the socket check), then for the gates of the previous
        // wave. Barriers (local no-op commands) keep that linear: N nodes each waiting on N plans
        // is N² edges. A node that could not be built (a bug: its input was checked above) fails
        // the program; the barrier still gets registered, failing, so that the program ends and
        // nothing runs.
        let settleNodes!: (r: PromiseSettledResult<ContainerdNode>[]) => void;
        const settled = new Promise<PromiseSettledResult<ContainerdNode>[]>(r => { settleNodes = r; });
        const unbuilt = pulumi.output(settled.then(rs => rs.some(r => r.status === "rejected")
            ? "a node could not be built (see the program's error)" : ""));
        // Each refused node's lines, in wave order.
        const nodeRefusals = outputOf(settled.then(rs => allOf(rs.flatMap(r => r.status === "fulfilled" ? [r.value.refusal] : []))));
        // Their text is stable (no node names or counts): adding a node changes no barrier.
        const barrier = (id: string, create: pulumi.Input<string>, after: pulumi.Input<pulumi.Input<pulumi.Resource>[]>) =>
            new LocalStep(`${name}-${id}`, { create }, { parent: this, dependsOn: after });
        const checked = barrier("preflight-passed",
            pulumi.all([refusal, unbuilt, nodeRefusals]).apply(([refused, broken, nodes]) => {
                const why = refused || broken || (nodes.some(Boolean)
                    ? `the pre-flight refuses ${nodes.filter(Boolean).length} of ${nodes.length} nodes, so no node is changed:\n${nodes.filter(Boolean).join("\n")}` : "");
                return why ? `echo ${sq(`containerd-node: ${why}`)} >&2; exit 1` : "echo 'pre-flight passed on every node'";
            }),
            []);
        const built: Promise<ContainerdNode>[] = [];
        // What a wave's first change waits for: a plain array for the first wave; for the others,
        // a promise of the previous wave's barrier that resolves once the engine has registered it,
        // so the nodes of a wave are built (see ContainerdNodeArgs.startAfter) only then.
        let previous: pulumi.Resource[] | Promise<pulumi.Resource[]> = [checked];
        const rows: pulumi.Output<FleetRow>[] = [];
        // Within a failure budget: "node (failure)" of every node that failed so far, in wave order.
        let failedSoFar: pulumi.Output<string[]> = pulumi.output([]);
        // Host mode: a gate step after a node, when there is something to check or wait for. In
        // Kubernetes mode each wave's steps drain, verify and gate its nodes (ContainerdNodeArgs.fleetWave).
        const needsGate = !k8s && (probes.length > 0 || (gate.pauseSecondsBetweenWaves ?? 0) > 0);
        if ((needsGate || k8s) && !pulumi.runtime.isDryRun()) {
            // The gates' library (components/node/kubectl.sh), which their text sources.
            writeLocalLibrary();
        }

        // Nodes are built a batch at a time, in wave order: a batch once the engine has registered
        // the components of the one before. Each registration holds SDK promises until the engine
        // answers (their steps are built later, a wave at a time: see ContainerdNodeArgs.startAfter).
        let batch: Promise<pulumi.Resource>[] = [];
        let batchGate: Promise<unknown> = Promise.resolve();
        const nextInBatch = (): Promise<unknown> => {
            if (batch.length >= NODE_BATCH) {
                // (And once no more facts reads wait than are under way at once: see readsWaitingAtMost.)
                batchGate = Promise.all(batch).then(rs => Promise.all(rs.map(registered))).then(() => readsWaitingAtMost(args.factReads ?? DEFAULTS.factReads));
                batch = [];
            }
            return batchGate;
        };

        // No SDK promise traces from here until every node's resources are built (components/promiseTraces.ts).
        let builtAll = () => {};
        void withoutPromiseTraces(new Promise<void>(done => builtAll = done));
        let reports: pulumi.Output<string>[] = [];
        // Every node's last resource (its gate, or its last step), as built.
        const everyPassed: Promise<pulumi.Resource>[] = [];
        let lastPassed: Promise<pulumi.Resource>[] = [];
        this.waves.forEach((wave, w) => {
            const passedOfThisWave: Promise<pulumi.Resource>[] = [];
            lastPassed = passedOfThisWave;
            const startAfter = previous;
            const gateValues = {
                probes, timeoutSeconds: gate.timeoutSeconds ?? 300,
                pauseSeconds: w < this.waves.length - 1 ? gate.pauseSecondsBetweenWaves ?? 0 : 0,
            };
            // Kubernetes mode: the wave's steps drain and verify its nodes once they are built (below).
            // (Each step's output is one Output for the wave's nodes, each of which takes its line of it.)
            const steps = k8s ? { drain: deferred<LocalStep>(), verify: deferred<LocalStep>() } : undefined;
            const fleetWave = steps && { drain: waveStep(steps.drain.promise), verify: waveStep(steps.verify.promise) };
            const ofThisWave: { node: Promise<ContainerdNode>; key: string }[] = [];
            for (const nodeName of wave) {
                const n = byName.get(nodeName)!;
                const key = n.nodeName ?? n.name;
                // (Its own Output only where its steps use it: within a failure budget.)
                const mark = soft ? marks?.apply(m => m.get(key) ?? "") : undefined;
                const { own } = nodeArgsOf.get(nodeName)!;
                const node = nextInBatch().then(() => {
                    const built = withoutSourcePosition(() => new ContainerdNode(n.name, { ...own, startAfter, rollbackMark: mark, fleetWave }, { parent: this }));
                    this.nodes[n.name] = built;
                    return built;
                });
                built.push(node);
                batch.push(node);
                if (k8s) {
                    ofThisWave.push({ node, key });
                }
                // Host mode's gate (no Kubernetes: the probes and the pause).
                const gated = (done: pulumi.Resource): pulumi.Resource => {
                    if (!needsGate) {
                        return done;
                    }
                    return new LocalStep(`${n.name}-gate`, {
                        create: gateScript({ node: n.nodeName ?? n.name, ...gateValues }),
                        interpreter: ["/bin/bash", "-c"],
                    }, { parent: this, dependsOn: [done] });
                };
                const passed = node.then(nd => nd.done).then(gated);
                passedOfThisWave.push(passed);
                everyPassed.push(passed);
                // (Only Kubernetes mode has a budget: the wave's step ran the gate.)
                const report = !soft ? undefined : outputOf(node.then(nd => nd.gateReport));
                if (report) {
                    reports.push(report.apply(r => r && !r.passed ? `${n.name} (${r.failure ?? "failed"})` : ""));
                }
                rows.push(outputOf(node.then(nd => applyAll([nd.runtimeBefore, nd.runtimeAfter, nd.path, nd.durations, report], ([b, a, p, d, r]): FleetRow => ({
                    node: n.name, wave: w + 1, runtimeBefore: b, runtimeAfter: a, path: p, durations: d,
                    ...(r && !r.passed ? { result: "failed" as const, failure: r.failure }
                        : { result: b === a ? "already on containerd" as const : "converted" as const }),
                })))));
            }
            if (k8s) {
                // The wave's steps: its nodes' drains once their configure steps are built, side by
                // side (kubectl.sh cn_drain_wave); then, once their switches are built, every node's
                // verify and health gate (cn_verify_wave).
                const id = `wave-${w + 1}`;
                const kcWave = kc!.steps(`${name}-${id}`);
                // (A node that could not be built fails the program, and the pre-flight barrier; the others still get their steps.)
                const ready = (f: (nd: ContainerdNode) => pulumi.Resource | Promise<pulumi.Resource>) => Promise.allSettled(ofThisWave.map(m =>
                    m.node.then(nd => Promise.resolve(f(nd)).then(after => ({ nd, key: m.key, after })))))
                    .then(rs => rs.flatMap(r => r.status === "fulfilled" ? [r.value] : []));
                void ready(nd => nd.beforeDrain).then(members => {
                    if (members.length === 0) {
                        return;
                    }
                    // The wave's nodes' marks, from the fleet's one read (one Output, not one a node).
                    const waveMarks = marks!.apply(m => members.map(x => m.get(x.key) ?? ""));
                    const asMembers = (ms: string[]): WaveMember[] => members.map(({ nd }, i) => ({ spec: nd.spec, planned: soft ? ms[i] : undefined }));
                    // Each node's retry mark: a new one (a rollback, or a failure within a budget) drains again.
                    const triggers = waveMarks.apply(ms => waveTriggers(members.map(m => m.nd.spec.kubernetes!.nodeName), ms));
                    const text = waveMarks.apply(ms => waveDrainScript(asMembers(ms), atOnce));
                    const drain = new LocalStep(`${name}-${id}-drain`, {
                        create: text, interpreter: ["/bin/bash", "-c"], environment: kcWave.environment, triggers: [triggers],
                    }, { parent: this, dependsOn: members.map(m => m.after) });
                    steps!.drain.resolve(drain);
                    // The verify names the drain (its text and triggers), so it runs again whenever the drain does.
                    const after = applyAll([text, triggers], ([t, tr]) => drainDigest(t, tr));
                    return ready(nd => nd.verifiedAfter).then(switched => {
                        const step = new LocalStep(`${name}-${id}`, {
                            create: applyAll([waveMarks, after], ([ms, a]) => waveVerifyScript(asMembers(ms), a, gateValues, atOnce)),
                            interpreter: ["/bin/bash", "-c"], environment: kcWave.environment,
                        }, { parent: this, dependsOn: switched.map(m => m.after) });
                        // Its last local step has run: its kubeconfig file goes (at exit otherwise).
                        step.stdout.apply(() => kcWave.release());
                        steps!.verify.resolve(step);
                    });
                });
            }
            if (soft) {
                failedSoFar = applyAll([failedSoFar, allOf(reports)], ([before, now]) => [...before, ...now.filter(Boolean)]);
                reports = [];
            }
            if (w < this.waves.length - 1) {
                // Within a budget the barrier also counts: past it, the rollout stops.
                const text = !soft ? pulumi.output(`echo 'wave ${w + 1} passed'`) : failedSoFar.apply(f => f.length > budget
                    ? `echo ${sq(`containerd-node: ${f.length} nodes failed, more than the failure budget of ${budget}: ${f.join(", ")}; the rollout stops before wave ${w + 2}`)} >&2; exit 1`
                    : `echo 'wave ${w + 1} passed'${f.length ? ` ${sq(`(failed within the budget of ${budget}: ${f.join(", ")})`)}` : ""}`);
                // (Kubernetes mode without a budget: the wave's step is the barrier, when its nodes have no later step.)
                previous = distinct(passedOfThisWave)
                    .then(passed => k8s && !soft && passed.length === 1 ? passed[0] : barrier(`wave-${w + 1}-passed`, text, passed))
                    .then(b => registered(b).then(() => [b]));
            }
        });
        if (soft) {
            // The run fails at its end when a node failed within the budget: the others are done,
            // and the next `pulumi up` retries the failed ones.
            const failed = failedSoFar;
            // (More than the budget only in the last wave, or with absorbFailures and none left.)
            const left = "each is left as that step's failure leaves it (its Node's containerd-node.pulumi.com/phase says which); run pulumi up again to retry them";
            distinct(lastPassed).then(passed => barrier("result", failed.apply(f => f.length
                ? `echo ${sq(`containerd-node: ${f.length} of ${args.nodes.length} nodes failed${f.length > budget ? ", more than" : " within"} the failure budget of ${budget}: ${f.join(", ")}; ${left}`)} >&2; exit 1`
                : "echo 'every node passed'"), passed));
        }
        Promise.allSettled(built).then(settleNodes);
        Promise.allSettled([...built, ...everyPassed]).then(() => builtAll());
        this.table = allOf(rows);
        this.registerOutputs({ waves: this.waves, table: this.table, dockerSocketPods: this.dockerSocketPods });
    }
}
