import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ContainerdNodeArgs } from "./args";
import { NodeFacts } from "./facts";
import { kubeconfigWiring, writeLocalLibrary } from "./kubeconfig";
import { CopyStep, LocalStep, RemoteStep, secretConnection } from "./commands";
import { drainDigest, drainScript, GateReport, parseWaveDrain, parseWaveReport, rollbackMarkScript, verifyNodeScript } from "./scripts/kubectl";
import { NodeStep, nodeSteps } from "./scripts/claim";
import { NODE_LIB_FILE } from "./scripts/lib";
import { NODE_LIB_PATH } from "./nodeFiles";
import { detachedCommand, sq } from "./scripts/shell";
import { proxyScript, registryAuthScript, stepScript, uploadPath } from "./scripts/steps";
import { ProxyValues } from "./render/proxy";
import { RegistryAuthValues } from "./render/registryAuth";
import { DEFAULTS, hasUserInfo, InvalidArgumentError, NodeSpec, resolveSpec } from "./spec";
import { NodePlan, pathText } from "./preflight/plan";
import { planOutputs, readFactsLimited } from "./preflight/planOutputs";
import { dropSdkDebugLogs } from "./sdkDebugLogs";
import { applyAll, outputOf } from "./outputs";

/** Seconds a step reported on a JSON stdout line (`{"seconds":N,…}`), if it did. */
export function reportedSeconds(stdout: string | undefined): number | undefined {
    for (const line of (stdout ?? "").split("\n").reverse()) {
        const m = /^\{.*"seconds":(\d+)/.exec(line.trim());
        if (m) {
            return Number(m[1]);
        }
    }
    return undefined;
}

/** The steps after the pre-flight, as the outputs need them. */
interface NodeSteps {
    /** The last step (a promise when it waits for the fleet's wave step: a Docker cleanup). */
    done: pulumi.Resource | Promise<pulumi.Resource>;
    /** The last step before the verify (Kubernetes mode), else the last step. */
    verifiedAfter: pulumi.Resource | Promise<pulumi.Resource>;
    /** The last step before the drain (Kubernetes mode), else the last step. */
    beforeDrain: pulumi.Resource;
    /** stdout whose last line is the runtime after the run (verify, else configure). */
    runtime: pulumi.Output<string>;
    drain?: pulumi.Output<string>;
    switch?: pulumi.Output<string>;
    verify?: pulumi.Output<string>;
    /** The fleet's health gate after the node (a fleet's wave step verified it). */
    gate?: pulumi.Output<GateReport | undefined>;
}

/** The node's line of its fleet's wave drain step (ContainerdNodeArgs.fleetWave), as its own drain would print it. */
function waveDrainLine(stdout: string | undefined, node: string): string {
    const r = parseWaveDrain(stdout, node);
    return r?.drain ? JSON.stringify(r.drain) : "";
}

/** The node's line of its fleet's wave verify step (ContainerdNodeArgs.fleetWave), as its own verify would print it. */
function waveLine(stdout: string | undefined, node: string): { verify: string; gate?: GateReport } {
    const r = parseWaveReport(stdout, node);
    if (r === undefined) {
        return { verify: "" };
    }
    return { verify: `${r.verify ? JSON.stringify(r.verify) : ""}\n${r.runtime}`, gate: r.gate ?? undefined };
}

/** How long the disruptive steps of this run took, in seconds (absent when a step did not run). */
export interface StepDurations {
    drain?: number;
    switch?: number;
    verify?: number;
}

/**
 * Brings one Linux node from whatever runtime it has to a declared containerd state and keeps it
 * there. Before any step, at preview and at up, the pre-flight reads the node's facts over SSH and
 * plans it (what it takes, what refuses it); at up that read also puts the node library on the
 * node. Steps, in order: [registry-auth] → [proxy] → converge in host mode (configure,
 * [migrate-images], [tools], [switch], [docker-cleanup] as its parts); in Kubernetes mode configure
 * (with [migrate-images], [tools]) →
 * drain → [switch] → verify (which also sets the cri-socket annotation and lifts the cordon; in a
 * fleet, the wave's steps drain and verify its nodes) → [docker-cleanup]; brackets mark what only some
 * nodes have (claim.ts partSteps). Few steps on purpose: each is an SSH session in a run, a
 * resource in every preview of the fleet and its bytes in the state, which the engine rewrites
 * after every step.
 * `pulumi destroy` leaves the node as it is (see docs/operations.md).
 */
export class ContainerdNode extends pulumi.ComponentResource {
    /** The runtime the node used before the first run, e.g. "docker://20.10.24". */
    public readonly runtimeBefore: pulumi.Output<string>;
    /** The runtime after the run, e.g. "containerd://2.1.4". */
    public readonly runtimeAfter: pulumi.Output<string>;
    /** The containerd version that was installed and verified. */
    public readonly containerdVersion: pulumi.Output<string>;
    /** status.nodeInfo.containerRuntimeVersion of the Node (Kubernetes mode only). */
    public readonly containerRuntimeVersion: pulumi.Output<string | undefined>;
    /** Seconds the drain, switch and verify steps took when they last ran. */
    public readonly durations: pulumi.Output<StepDurations>;
    /**
     * What the fleet's health gate reported for this node (Kubernetes mode in a ContainerdFleet,
     * whose wave step verifies and gates its nodes); undefined otherwise, and at a preview.
     */
    public readonly gateReport: pulumi.Output<GateReport | undefined>;
    /** The resolved settings (defaults filled in). */
    public readonly spec: NodeSpec;
    /** What the run does to the node, from the facts read before it (undefined when they could not be read). */
    public readonly plan: pulumi.Output<NodePlan | undefined>;
    /** The path the node takes, e.g. "containerd 1.7.35 → 2.3.7 (drained)". */
    public readonly path: pulumi.Output<string>;
    /**
     * Why the pre-flight refuses the run ("" when it does not): the node's first step fails with it,
     * and a fleet's barrier before every change.
     */
    public readonly refusal: pulumi.Output<string>;
    /**
     * The last step: depend on this to order work after the node is converted. A promise when
     * `startAfter` is one (the steps are built once it resolves).
     */
    public readonly done: pulumi.Resource | Promise<pulumi.Resource>;
    /**
     * The step the verify follows (Kubernetes mode: the switch, or the drain on a node without
     * one), else the last step: what a fleet's wave verify step (ContainerdNodeArgs.fleetWave) waits for.
     */
    public readonly verifiedAfter: pulumi.Resource | Promise<pulumi.Resource>;
    /**
     * The step the drain follows (Kubernetes mode: the configure), else the last step: what a
     * fleet's wave drain step (ContainerdNodeArgs.fleetWave) waits for.
     */
    public readonly beforeDrain: pulumi.Resource | Promise<pulumi.Resource>;

    constructor(name: string, args: ContainerdNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("containerd-node:index:ContainerdNode", name, {}, opts);
        // Not a debug RPC for each resource, nor its response's secrets in one (components/sdkDebugLogs.ts).
        dropSdkDebugLogs();
        try {
            this.spec = resolveSpec(args);
        } catch (e) {
            throw e instanceof InvalidArgumentError ? new pulumi.ResourceError(e.message, this) : e;
        }
        const spec = this.spec;
        const c = args.connection;
        const user = c.user ?? DEFAULTS.user;
        const connection: command.types.input.remote.ConnectionArgs = {
            host: c.host,
            port: c.port ?? DEFAULTS.port,
            user,
            privateKey: c.privateKey === undefined ? undefined : pulumi.secret(c.privateKey),
            privateKeyPassword: c.privateKeyPassword === undefined ? undefined : pulumi.secret(c.privateKeyPassword),
            password: c.password === undefined ? undefined : pulumi.secret(c.password),
            agentSocketPath: c.agentSocketPath,
            hostKey: c.hostKey,
            dialErrorLimit: c.dialErrorLimit ?? DEFAULTS.dialErrorLimit,
            perDialTimeout: c.perDialTimeout ?? DEFAULTS.perDialTimeout,
        };

        // What every remote step sends: one secret.
        const sent = secretConnection(connection);

        // The component's own dependsOn (e.g. the previous node of a rolling conversion) gates
        // its first step: children do not inherit it.
        const after = opts?.dependsOn;
        let last: pulumi.Resource[] = after === undefined ? [] : Array.isArray(after) ? after as pulumi.Resource[] : [after as pulumi.Resource];
        // Every step but the read-only pre-flight runs detached on the node (the library's cn_run).
        const holder = `stack ${pulumi.getProject()}/${pulumi.getStack()}`;
        // Each step's script is the stdin of a short command that runs it (components/scripts/shell.ts).
        const remote = (step: NodeStep, script: pulumi.Input<string>, after: pulumi.Resource[] = last, triggers?: pulumi.Input<any>[], formerly?: string) => {
            const create = detachedCommand(step, user, holder, NODE_LIB_FILE, spec.stateDir);
            const cmd = new RemoteStep(`${name}-${step}`, { connection: sent, create, stdin: script, triggers }, {
                parent: this, dependsOn: after, aliases: formerly === undefined ? undefined : [{ name: `${name}-${formerly}` }],
            });
            last = [cmd];
            return cmd;
        };
        const kc = args.kubernetes ? kubeconfigWiring("kubernetes.kubeconfig", args.kubernetes.kubeconfig) : undefined;
        // The drain and verify steps' kubeconfig: a file of the run when given as content (kubeconfig.ts).
        // (A fleet's node has none: its wave's steps drain and verify it.)
        const kcSteps = args.fleetWave === undefined ? kc?.steps(name) : undefined;
        if (kcSteps && !pulumi.runtime.isDryRun()) {
            // The local steps' library (components/node/kubectl.sh), which their text sources.
            writeLocalLibrary();
        }
        const local = (step: string, script: pulumi.Input<string>, extraInputs?: pulumi.Input<string>, triggers?: pulumi.Input<any>[]) => {
            const create = extraInputs === undefined ? script : pulumi.interpolate`# after: ${extraInputs}\n${script}`;
            const cmd = new LocalStep(`${name}-${step}`, {
                create,
                interpreter: ["/bin/bash", "-c"],
                environment: kcSteps?.environment,
                triggers,
            }, { parent: this, dependsOn: last });
            last = [cmd];
            return cmd;
        };

        // The pre-flight: the node's facts, read before any step (at preview too), decide its plan:
        // the path it takes and what refuses it. A refusal is an error in the preview and fails the
        // node's first step (in a fleet, the barrier every change to any node waits for).
        // The credentials are resolved only inside applies (the step's text, the plan).
        // (None given: a plain {}, no Output made for it, nor an apply of the plan for it.)
        const authValues = spec.config.registryAuth.length === 0 ? {} : pulumi.output(args.config?.registryAuth ?? {}) as pulumi.Output<RegistryAuthValues>;
        // The proxy's values: a secret Output when any of them is one (pulumi.output keeps it so),
        // and when a plain one holds a user or password.
        const proxyValues = spec.proxy.length === 0 ? {} : pulumi.output(Object.fromEntries(Object.entries(args.proxy ?? {})
            .map(([k, v]) => [k, typeof v === "string" && hasUserInfo(v) ? pulumi.secret(v) : v]))) as pulumi.Output<ProxyValues>;
        const facts = args.nodeFacts !== undefined ? pulumi.output(args.nodeFacts as pulumi.Input<NodeFacts>)
            : pulumi.all([connection.host, connection.privateKey, connection.privateKeyPassword, connection.password, connection.hostKey])
                .apply(([host, privateKey, privateKeyPassword, password, hostKey]) => readFactsLimited({
                    host, port: connection.port as number, user, privateKey, privateKeyPassword, password, hostKey,
                    agentSocketPath: c.agentSocketPath, dialErrorLimit: connection.dialErrorLimit as number, perDialTimeout: connection.perDialTimeout as number,
                }, {
                    kubeletConfig: spec.kubelet?.configPath, stateDir: spec.stateDir, freePaths: [spec.config.root],
                    kubelet: spec.kubelet !== undefined, prepare: !pulumi.runtime.isDryRun(),
                }, spec.factReads));
        const { plan, refusal } = planOutputs(spec.kubernetes?.nodeName ?? name, spec, facts, authValues, proxyValues, this, holder);
        this.plan = plan;
        this.path = this.plan.apply(p => p ? pathText(p.path) : "unknown (the node's facts were not read)");
        this.refusal = refusal;
        // The node's first step runs its script only when nothing refuses the node.
        // (The script as it is: the apply lifts an Output, where pulumi.output would wrap it twice more.)
        const refusedOr = (script: pulumi.Input<string>): pulumi.Output<string> => refusal.apply((r): pulumi.Input<string> => r
            ? `echo ${sq(`containerd-node: ${r}`)} >&2\nexit 1\n` : script) as unknown as pulumi.Output<string>;

        // Every step after the pre-flight, in order, once `startAfter` is known. Only plain arrays go
        // to dependsOn: the SDK walks the whole object graph of a resolved promise there
        // (resources reach their parents, i.e. the whole fleet): quadratic in a fleet.
        const steps = (startAfter: pulumi.Resource[]): NodeSteps => {
            // Files given by path travel from the operator's machine before the first step reads
            // them, once the pre-flight has read the node (which at up makes their directory).
            const uploads: pulumi.Resource[] = [];
            const upload = (kind: string, source: string, remotePath: string) => uploads.push(new CopyStep(`${name}-${kind}`, {
                connection: sent,
                source: new pulumi.asset.FileAsset(source),
                remotePath: refusal.apply(() => remotePath),
            }, { parent: this, dependsOn: startAfter }));
            // The node library: the facts read at up puts it on the node; when the caller gave the
            // facts, nothing read the node, so it is copied (its state holds the file's hash).
            if (args.nodeFacts !== undefined) {
                upload("lib", NODE_LIB_PATH, `${spec.stateDir}/${NODE_LIB_FILE}`);
            }
            const src = spec.containerd.source;
            if (src.kind === "file") {
                upload("upload-containerd", src.path, uploadPath(spec, "containerd", src.sha256));
            }
            for (const [kind, a] of [["runc", spec.containerd.runc], ["cni", spec.containerd.cni],
                ["buildkit", spec.tools.buildkit?.tarball], ["crictl", spec.tools.crictl?.tarball]] as const) {
                if (a?.kind === "path") {
                    upload(`upload-${kind}`, a.path, uploadPath(spec, kind, a.sha256));
                }
            }
            // (They wait for startAfter: what follows needs no edge of its own to it.)
            let before: pulumi.Resource[] = uploads.length > 0 ? uploads : startAfter;
            // The same list the steps' scripts are rendered from: the last of them ends the run's claim.
            const onNode = nodeSteps(spec);
            const has = (step: NodeStep) => onNode.includes(step);
            // The node's first step runs only when nothing refuses the node (refusedOr).
            let gated = false;
            const first = (script: pulumi.Input<string>): pulumi.Input<string> => gated ? script : (gated = true, refusedOr(script));
            if (has("registry-auth")) {
                before = [remote("registry-auth", first(pulumi.secret(authValues).apply(v => registryAuthScript(spec, v))), before)];
            }
            if (has("proxy")) {
                // A secret when a value is: a preview shows it as [secret]; plain values as its diff.
                before = [remote("proxy", first(pulumi.output(proxyValues).apply(v => proxyScript(spec, v))), before)];
            }
            if (!spec.kubernetes) {
                // Host mode: one step does the node's whole work (it was the configure step's
                // resource: an update of it, not a new one, in stacks made before).
                const converged = remote("converge", first(stepScript(spec, "converge")), before, undefined, "configure");
                return { done: converged, verifiedAfter: converged, beforeDrain: converged, runtime: converged.stdout, switch: has("switch") ? converged.stdout : undefined };
            }
            const configured = remote("configure", first(stepScript(spec, "configure")), before);
            // Read at every preview and update: a switch rollback (or a failure within a fleet's
            // failure budget) since the last drain changed the Node's retry mark, so the drain runs
            // again (and the preview says it will); the rollback lifted its cordon.
            // (Not a secret, though a kubeconfig's content on its stdin makes the read's result one.)
            // (A fleet's mark is an Output already: not wrapped again.)
            const given = args.rollbackMark;
            // (Made only where a step uses it: a fleet's wave steps without a budget don't.)
            const markOf = () => pulumi.Output.isInstance(given) ? given : pulumi.output(given ?? pulumi.unsecret(command.local.runOutput({
                command: `${kc!.read.prologue}${rollbackMarkScript(spec)}`,
                interpreter: ["/bin/bash", "-c"],
                environment: kc!.read.environment,
                stdin: kc!.read.stdin,
            }, { parent: this }).stdout.apply(s => s.trim())));
            // Within a failure budget every step after the drain is triggered by the mark too: it
            // may have run (and skipped or absorbed a failure) in the run that failed.
            const soft = args.softFailures ? markOf() : undefined;
            const softTriggers = soft ? [soft] : undefined;
            const switchText = soft ? soft.apply(planned => stepScript(spec, "switch", { planned })) : stepScript(spec, "switch");
            const cleanup = (after: pulumi.Resource[]) => has("docker-cleanup") ? remote("docker-cleanup", stepScript(spec, "docker-cleanup"), after) : after[0];
            const wave = args.fleetWave;
            if (wave !== undefined) {
                // A fleet's wave steps drain, verify and gate the node (ContainerdNodeArgs.fleetWave).
                const switched = wave.drain.step.then(d => has("switch") ? remote("switch", switchText, [d], softTriggers) : undefined);
                const node = spec.kubernetes!.nodeName;
                const line = wave.verify.stdout.apply(out => waveLine(out, node));
                const verified = line.apply(l => l.verify);
                return {
                    done: wave.verify.step.then(v => cleanup([v])),
                    verifiedAfter: Promise.all([wave.drain.step, switched]).then(([d, sw]) => sw ?? d),
                    beforeDrain: configured,
                    runtime: verified,
                    drain: wave.drain.stdout.apply(out => waveDrainLine(out, node)),
                    // (No switch: undefined, as the node's steps say.)
                    switch: outputOf(switched.then(sw => sw?.stdout) as Promise<pulumi.Output<string>>),
                    verify: verified,
                    gate: line.apply(l => l.gate),
                };
            }

            const mark = soft ?? markOf();
            const drainText = soft ? soft.apply(planned => drainScript(spec, { planned })) : pulumi.output(drainScript(spec));
            const drain = local("drain", drainText, undefined, [mark]);
            const switched = has("switch") ? remote("switch", switchText, last, softTriggers) : undefined;
            const verifiedAfter = last[0];
            // Checked from the API by the operator's kubectl, after every drain: its text names the
            // drain's (kubectl.ts drainDigest), so it runs again whenever the drain does.
            const digest = pulumi.all([drainText, mark]).apply(([t, m]) => drainDigest(t, m));
            const verify = local("verify", soft ? soft.apply(planned => verifyNodeScript(spec, { planned })) : verifyNodeScript(spec), digest.apply(d => `drain ${d}`), softTriggers);
            // The node's last local step has run: its kubeconfig file goes (at exit otherwise).
            verify.stdout.apply(() => kcSteps?.release());
            return { done: cleanup([verify]), verifiedAfter, beforeDrain: configured, runtime: verify.stdout, drain: drain.stdout, switch: switched?.stdout, verify: verify.stdout };
        };
        // A promise: built once it resolves, so a fleet holds the resources of a wave or two in
        // flight at a time instead of all of them (most of a large preview's memory).
        const built = args.startAfter instanceof Promise ? args.startAfter.then(steps) : steps(args.startAfter ?? []);
        const fromSteps = <T>(f: (s: NodeSteps) => pulumi.Input<T>): pulumi.Output<T> =>
            built instanceof Promise ? outputOf(built.then(f) as Promise<pulumi.Output<T>>) : pulumi.output(f(built)) as pulumi.Output<T>;
        this.done = built instanceof Promise ? built.then(s => s.done) : built.done;
        this.verifiedAfter = built instanceof Promise ? built.then(s => s.verifiedAfter) : built.verifiedAfter;
        this.beforeDrain = built instanceof Promise ? built.then(s => s.beforeDrain) : built.beforeDrain;

        // Recorded on the node with its original state, so it stays what it was before the first run.
        // (Not a secret, though the facts read with the key are marked one.)
        this.runtimeBefore = pulumi.unsecret(facts.apply(f => "error" in f ? "unknown" : f.host?.runtimeBefore ?? f.runtime));
        this.runtimeAfter = fromSteps(s => s.runtime).apply(s => (s ?? "").trim().split("\n").pop() ?? "");
        this.containerdVersion = this.runtimeAfter.apply(r => r.replace(/^containerd:\/\//, "").replace(/^v/, ""));
        this.containerRuntimeVersion = spec.kubernetes ? this.runtimeAfter : pulumi.output(undefined);
        this.durations = fromSteps(s => applyAll([s.drain, s.switch, s.verify], ([d, sw, v]) => ({
            drain: reportedSeconds(d), switch: reportedSeconds(sw), verify: reportedSeconds(v),
        })));
        this.gateReport = fromSteps(s => s.gate ?? pulumi.output(undefined));
        this.registerOutputs({
            runtimeBefore: this.runtimeBefore,
            runtimeAfter: this.runtimeAfter,
            containerdVersion: this.containerdVersion,
            containerRuntimeVersion: this.containerRuntimeVersion,
            durations: this.durations,
            path: this.path,
        });
    }
}
