/**
 * The run claim: which stack's run is converting the node (its bash: the node library,
 * components/node/lib.sh, cn_claim and cn_claim_end). The node lock (lib.ts) is held for one
 * step, so two stacks' steps never run at once; but a run is several steps, with the operator's
 * own steps (drain, verify) between them, and another stack's run must not slip in between. So
 * every mutating step, under the lock, also claims the node for its stack: a step of another stack
 * is refused while that claim holds, naming the holder, its step and since when.
 *
 * A claim ends when the run is over for the node: the node's last step removes it when it
 * succeeds, and a step that fails removes it (the run stops there, and the step put back what it
 * had changed). A run that dies between two steps (pulumi SIGKILLed, a runner cancelled) leaves
 * its claim, and so does a run in which the last step had nothing to do (a config change reruns
 * only configure): the same stack's next run goes on with it, and for another stack it lapses once
 * no step of the holder has started or ended for longer than the longest gap a run can have
 * between two of its node steps (`claimSeconds`). Over-refusing for that long is the price of not
 * having a step that runs last in every run: one more resource per node, a quarter more time and a
 * tenth more memory in every preview of a fleet (measured with bench/preview.ts: 1000 nodes, 28.4 → 35.4 s,
 * 1068 → 1191 MiB), for the rare case of two stacks that list one node.
 */
import { NodeSpec } from "../spec";

/**
 * The node's work, in the order it runs: each part is one transaction of the node library (one
 * cn_* call, components/node/lib.sh), rolled back on its own when it fails.
 */
export type StepPart = "configure" | "migrate-images" | "tools" | "switch" | "docker-cleanup";

/** The parts a node of this spec has. */
export function nodeParts(spec: NodeSpec): StepPart[] {
    const parts: StepPart[] = ["configure"];
    if (spec.docker.migrateImages) {
        parts.push("migrate-images");
    }
    if (spec.tools.buildkit || spec.tools.crictl) {
        parts.push("tools");
    }
    if (spec.kubelet || spec.docker.mode !== "keep") {
        parts.push("switch");
    }
    if (spec.docker.mode === "purge" || spec.docker.removeData) {
        parts.push("docker-cleanup");
    }
    return parts;
}

/**
 * The node steps after the pre-flight that change the node, in the order they run: in host mode
 * one, `converge`, that runs every part (each step is a resource in every preview, an SSH session
 * and its bytes in the state, which the engine rewrites after every operation); in Kubernetes mode
 * the operator's drain and verify run between parts, so `configure` (with migrate-images and tools) comes
 * before the drain, `switch` between the drain and the verify, `docker-cleanup` (what can't be
 * rolled back) after the verify. `registry-auth` comes first, apart: its text is a secret; then
 * `proxy`, apart too: its text is a secret when a value of the proxy is.
 */
export type NodeStep = "registry-auth" | "proxy" | "converge" | "configure" | "switch" | "docker-cleanup";

/** The steps that write what may be secrets, each apart from the parts' steps, in the order they run. */
export type SecretStep = "registry-auth" | "proxy";

/** Which steps a node of this spec has (ContainerdNode builds exactly these), with the parts each runs. */
export function nodeSteps(spec: NodeSpec): NodeStep[] {
    return [...secretSteps(spec), ...partSteps(spec).map(s => s.step)];
}

/** The steps before the parts' that write what may be secrets: registry-auth, proxy. */
export function secretSteps(spec: NodeSpec): SecretStep[] {
    return [...(spec.config.registryAuth.length > 0 ? ["registry-auth" as const] : []), ...(spec.proxy.length > 0 ? ["proxy" as const] : [])];
}

/** The steps that run the parts, each with its parts, in order (every step but registry-auth and proxy). */
export function partSteps(spec: NodeSpec): { step: Exclude<NodeStep, SecretStep>; parts: StepPart[] }[] {
    const parts = nodeParts(spec);
    if (!spec.kubernetes) {
        return [{ step: "converge", parts }];
    }
    const steps: { step: Exclude<NodeStep, SecretStep>; parts: StepPart[] }[] = [
        { step: "configure", parts: parts.filter(p => p === "configure" || p === "migrate-images" || p === "tools") },
    ];
    for (const p of ["switch", "docker-cleanup"] as const) {
        if (parts.includes(p)) {
            steps.push({ step: p, parts: [p] });
        }
    }
    return steps;
}

/** The claim a node step takes: how long it holds after the step, and whether the step ends it. */
export function claimOf(spec: NodeSpec, step: NodeStep): { seconds: number; last: boolean } {
    const steps = nodeSteps(spec);
    return { seconds: claimSeconds(spec), last: steps[steps.length - 1] === step };
}

/** Slack on top of the operator-side steps' own timeouts: SSH set-up, a wave's other nodes, clock skew. */
const CLAIM_SLACK_SECONDS = 900;

/**
 * How long a claim holds after its step started or ended: longer than any gap between two node
 * steps of one run. In Kubernetes mode the drain and the verify run between them, each up to its
 * timeout.
 */
export function claimSeconds(spec: NodeSpec): number {
    const k = spec.kubernetes;
    return CLAIM_SLACK_SECONDS + (k ? k.drainTimeoutSeconds + k.verifyTimeoutSeconds : 0);
}
