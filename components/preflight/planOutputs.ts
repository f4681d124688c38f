/**
 * The node's plan as Outputs of its component: the facts read (a limited number of nodes at a
 * time), the plan, and what it reports: the plan's lines at preview and up, its warnings, and a
 * refusal, which keeps every step of the node (and, in a fleet, of every node) from running.
 */
import * as pulumi from "@pulumi/pulumi";
import { claimConflict } from "../claim";
import { applyAll } from "../outputs";
import { NodeFacts } from "../facts";
import { ProxyValues } from "../render/proxy";
import { RegistryAuthValues } from "../render/registryAuth";
import { checkProxyValue, DEFAULTS, NodeSpec } from "../spec";
import { NodePlan, planNode } from "./plan";
import { NodeFactsOptions } from "../scripts/upgradeFacts";
import { hostRefusals } from "./hostChecks";
import { readNodeFacts, ResolvedConnection } from "./readFacts";

/** Reads under way in this program (a fleet's preview reads every node), and those waiting. */
let reading = 0;
const waiting: (() => void)[] = [];
/** Who waits for fewer reads waiting (readsWaitingAtMost): at most `most`, then `done`. */
let shrinking: { most: number; done: () => void }[] = [];

/** A failed read, as a value: the plan says why there is none. */
export type FactsOrError = NodeFacts | { error: string };

/**
 * Runs `read` once fewer than `limit` reads (of any limit) are under way in this program; each
 * that ends lets the next waiting one check again.
 */
export async function limitedRead<T>(limit: number, read: () => Promise<T>): Promise<T> {
    while (reading >= limit) {
        await new Promise<void>(r => waiting.push(r));
    }
    reading++;
    try {
        return await read();
    } finally {
        reading--;
        waiting.shift()?.();
        const ready = shrinking.filter(s => waiting.length <= s.most);
        shrinking = shrinking.filter(s => waiting.length > s.most);
        ready.forEach(s => s.done());
    }
}

/**
 * Resolves once at most `most` reads wait for their turn in this program (at once if that is so
 * now). A fleet builds its next batch of nodes only then: each node built waits with its outputs
 * (its plan, its steps' text) pending until its facts are read, so building every node of a large
 * fleet before the reads catch up holds all of them at once.
 */
export function readsWaitingAtMost(most: number): Promise<void> {
    return waiting.length <= most ? Promise.resolve() : new Promise(done => shrinking.push({ most, done }));
}

/**
 * readNodeFacts, once fewer than `limit` reads are under way in the program (the node's
 * `factReads`); a failure is returned, not thrown.
 */
export async function readFactsLimited(c: ResolvedConnection, options: NodeFactsOptions = {}, limit: number = DEFAULTS.factReads): Promise<FactsOrError> {
    return limitedRead(limit, () => readNodeFacts(c, options)).catch(e => ({ error: (e as Error).message }));
}

type PlanOrError =
    /** `claimed`: another stack's run has the node (claim.ts's claimConflict). */
    | { plan: NodePlan; claimed?: string }
    /** The facts could not be read (the node down, SSH refused). */
    | { unread: string }
    /** The facts were read but the live config could not be judged (e.g. it does not parse). */
    | { unjudged: string }
    /** An input given as an Output is not what it must be (spec.ts checks the plain ones): refused at preview too. */
    | { invalid: string };

/**
 * The proxy's values checked once resolved, each as a line naming the node and the field; a value
 * that may be a secret is never shown (spec.ts's checkProxyValue).
 */
export function proxyProblems(label: string, spec: NodeSpec, proxy: ProxyValues): string[] {
    return spec.proxy.flatMap(f => {
        try {
            checkProxyValue(f, proxy[f], true);
            return [];
        } catch (e) {
            return [`${label}: ${(e as Error).message}`];
        }
    });
}

/**
 * Plans the node and reports the plan on `parent`. `refusal` is "" when the node may go ahead,
 * else the message the node's first step (in a fleet, the barrier before every change) fails
 * with. `holder` names this run in the node's claim. `auth` and `proxy`: the registry
 * credentials' and the proxy's values (secrets, maybe), which the plan compares, never shows
 * (each an Output, or a plain value with no Output inside it).
 */
export function planOutputs(label: string, spec: NodeSpec, facts: pulumi.Output<FactsOrError>, auth: pulumi.Output<RegistryAuthValues> | RegistryAuthValues,
    proxy: pulumi.Output<ProxyValues> | ProxyValues, parent: pulumi.Resource, holder: string): { plan: pulumi.Output<NodePlan | undefined>; refusal: pulumi.Output<string> } {
    // Neither the facts nor the plan hold a secret (the messages name credentials, never show
    // them): unmarked, so that the outputs built on them (the fleet's table) stay readable.
    const planned: pulumi.Output<PlanOrError> = pulumi.unsecret(applyAll([auth, proxy, facts], ([a, px, f]): PlanOrError => {
        const invalid = proxyProblems(label, spec, px);
        if (invalid.length > 0) {
            return { invalid: invalid.join("\n") };
        }
        if ("error" in f) {
            return { unread: f.error };
        }
        try {
            const plan = planNode(label, f, spec, a, px);
            const host = f.host ? hostRefusals(label, spec, f, f.host, plan.path.kind !== "current") : [];
            return { plan: { ...plan, refused: [...host, ...plan.refused] }, claimed: claimConflict(label, f.claim, holder, Date.now() / 1000) };
        } catch (e) {
            // Only the first line: a TOML parser's message goes on to quote the file (secrets too).
            return { unjudged: (e as Error).message.split("\n")[0] };
        }
    }));
    const dryRun = pulumi.runtime.isDryRun();
    const refusal = planned.apply(p => {
        if ("unread" in p) {
            const msg = `${label}: could not read the node's facts over SSH: ${p.unread}`;
            // At preview the node may not be up yet (a stack that makes it); at up it must answer.
            if (dryRun) {
                pulumi.log.warn(`${msg}; they will be read again at up`, parent);
                return "";
            }
            pulumi.log.error(msg, parent);
            return msg;
        }
        if ("invalid" in p) {
            pulumi.log.error(p.invalid, parent);
            return p.invalid;
        }
        if ("unjudged" in p) {
            const msg = `${label}: the pre-flight could not judge the node's live config, so it cannot tell what the rendered one would drop: ${p.unjudged}`;
            pulumi.log.error(msg, parent);
            return msg;
        }
        // One message of the plan's lines: each message is a call to the engine, made one after
        // another by the SDK (a fleet's preview sends one a node, not one a line).
        if (p.plan.lines.length > 0) {
            pulumi.log.info(p.plan.lines.join("\n"), parent);
        }
        p.plan.warnings.forEach(w => pulumi.log.warn(w, parent));
        // Another run's claim may be gone by the time of an up: said at preview; at up the node is
        // refused now, before any node changes, rather than at its first step mid-rollout.
        const refused = [...p.plan.refused];
        if (p.claimed && dryRun) {
            pulumi.log.warn(`${p.claimed}; an up now would be refused`, parent);
        } else if (p.claimed) {
            refused.push(p.claimed);
        }
        if (refused.length === 0) {
            return "";
        }
        const msg = `the pre-flight refuses the run:\n${refused.join("\n")}`;
        pulumi.log.error(msg, parent);
        return msg;
    });
    return { plan: planned.apply(p => "plan" in p ? p.plan : undefined), refusal };
}
