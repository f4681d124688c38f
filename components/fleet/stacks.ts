/**
 * A fleet split across stacks, run as one: every stack previewed first (several at once), then
 * each stack's `pulumi up` in turn under one maxUnavailable and one failure budget, with one
 * table of results. Each stack keeps its own state, so each checkpoint holds only its own nodes
 * (what the engine rewrites after every operation); a stack whose preview changes nothing is not
 * updated at all.
 *
 * The stacks' programs follow the contract of this package's stack program (index.ts at the
 * repository's root): one ContainerdFleet whose maxUnavailable, failureBudget and absorbFailures
 * come from the stack's config keys of those names, and its table exported as `table`.
 */
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { InvalidArgumentError } from "../spec";
import { FleetRow } from "./fleet";

/** The limits a stack's fleet runs with: its ContainerdFleetArgs of those names. */
export interface FleetLimits {
    maxUnavailable: number;
    /** What the stacks before it left of the rollout's budget. */
    failureBudget: number;
    /** The rollout has a budget: failures are counted even with none left (the stack's steps stay the same). */
    absorbFailures: boolean;
}

/** What the driver does with one stack: the Automation API's (automationStack), or a test's. */
export interface FleetStack {
    /** The stack's name, as the table shows it. */
    readonly name: string;
    /** Sets the limits the stack's fleet runs with (its config keys `maxUnavailable`, `failureBudget` and `absorbFailures`). */
    setLimits(limits: FleetLimits): Promise<void>;
    /** `pulumi preview`: the number of resources it would create, update, replace or delete. Throws when the preview fails (a refusal, bad input). */
    preview(): Promise<number>;
    /** `pulumi up`: undefined when it succeeded, else its error and the URNs of the resources that failed. */
    up(): Promise<{ error: string; failed: string[] } | undefined>;
    /** The fleet's table as the stack's last update left it (its output `table`). */
    table(): Promise<FleetRow[]>;
}

/** A fleet's stacks run under one rollout. */
export interface FleetStacksArgs {
    /**
     * The stacks, in the order they are updated (a node pool each, for example). Each one's
     * program declares one ContainerdFleet, takes its `maxUnavailable`, `failureBudget` and
     * `absorbFailures` from its stack's config keys of those names and exports the fleet's table
     * as `table`.
     */
    stacks: FleetStack[];
    /**
     * Nodes of the whole fleet converted at once, a count: the stacks are updated one at a time,
     * each with this maxUnavailable, so no more are ever unavailable across the stacks.
     */
    maxUnavailable: number;
    /**
     * Nodes of the whole fleet that may fail before the rollout stops, a count (Kubernetes mode
     * only, as ContainerdFleetArgs.failureBudget). Each stack gets what the stacks before it left
     * (and, with a budget above 0, `absorbFailures`, so that a stack's steps do not change with
     * what the others used); past it, that stack's rollout stops and no later stack is updated.
     * Default 0: the first failure stops the rollout.
     */
    failureBudget?: number;
    /** Previews run at once. Default 2. */
    previews?: number;
}

/** How a stack's part of the run ended. */
export type StackOutcome =
    /** Its preview changed nothing: it was not updated. */
    | "unchanged"
    /** Updated, every node passed. */
    | "updated"
    /** Updated; nodes failed, within the budget left: the next stack goes on. */
    | "failed within the budget"
    /** Its preview or update failed (or the budget ran out): no later stack is updated. */
    | "failed"
    /** Not updated: an earlier stack's failure stopped the rollout (or a preview failed). */
    | "not run";

/** One stack's line of the result. */
export interface StackResult {
    stack: string;
    outcome: StackOutcome;
    /** Resources its preview would change. */
    changes?: number;
    /** Its nodes that failed within the budget. */
    failedNodes: number;
    /** Its preview's or update's error. */
    error?: string;
    /** The URNs of the resources whose update failed (the stack itself left out). */
    failedResources?: string[];
}

/** A row of the fleet's table, with its stack. */
export interface FleetStacksRow extends FleetRow {
    stack: string;
}

/** What a run of the stacks did: each stack's outcome, and every node's row. */
export interface FleetStacksResult {
    /** Every stack unchanged or updated with no failure. */
    ok: boolean;
    stacks: StackResult[];
    /** The rows of every stack that ran or was unchanged, in stack order. */
    table: FleetStacksRow[];
}

/** The barrier that fails a fleet's run when nodes failed within its budget (fleet.ts's "result"). */
const WITHIN_BUDGET = /:ContainerdFleet\$command:local:Command::[^:]*-result$/;
/** The stack's own resource, which reports that the update failed. */
const ROOT = /::pulumi:pulumi:Stack::[^:]*$/;

function count(field: string, n: unknown, min: number): number {
    if (!Number.isInteger(n) || (n as number) < min) {
        throw new InvalidArgumentError(field, `expected an integer of at least ${min}, got ${JSON.stringify(n)}`);
    }
    return n as number;
}

/** Runs `f` on every item, at most `limit` at a time; settles like Promise.allSettled. */
async function limited<T, R>(items: T[], limit: number, f: (t: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
    const out: PromiseSettledResult<R>[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await f(items[i]).then(value => ({ status: "fulfilled" as const, value }), reason => ({ status: "rejected" as const, reason }));
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return out;
}

const message = (e: unknown) => e instanceof Error ? e.message : String(e);

/** The resources a preview's or an update's summary counts as changed: every operation but "same". */
export function changedCount(summary: { [op: string]: number | undefined }): number {
    return Object.entries(summary).reduce((n, [op, c]) => op === "same" ? n : n + (c ?? 0), 0);
}

/**
 * Previews every stack (`previews` at a time), then updates those that change something, one
 * after another, each under `maxUnavailable` and the failure budget the stacks before it left.
 * A failed preview stops the run before any update; a failed update stops it before the next
 * stack, unless its only failure is nodes failing within the budget.
 */
export async function upFleetStacks(args: FleetStacksArgs): Promise<FleetStacksResult> {
    if (args.stacks.length === 0) {
        throw new InvalidArgumentError("stacks", "expected at least one stack");
    }
    const names = args.stacks.map(s => s.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
        throw new InvalidArgumentError("stacks", `expected each stack once, got ${twice} twice`);
    }
    const maxUnavailable = count("maxUnavailable", args.maxUnavailable, 1);
    const fullBudget = count("failureBudget", args.failureBudget ?? 0, 0);
    let budget = fullBudget;
    const previews = count("previews", args.previews ?? 2, 1);

    const results: StackResult[] = args.stacks.map(s => ({ stack: s.name, outcome: "not run", failedNodes: 0 }));
    const limits = (failureBudget: number): FleetLimits => ({ maxUnavailable, failureBudget, absorbFailures: fullBudget > 0 });
    const previewed = await limited(args.stacks, previews, async s => {
        await s.setLimits(limits(budget));
        return s.preview();
    });
    previewed.forEach((p, i) => {
        if (p.status === "fulfilled") {
            results[i].changes = p.value;
        } else {
            results[i] = { ...results[i], outcome: "failed", error: `preview: ${message(p.reason)}` };
        }
    });
    const table: FleetStacksRow[] = [];
    const add = (s: FleetStack, rows: FleetRow[]) => rows.forEach(r => table.push({ ...r, stack: s.name }));
    if (results.some(r => r.outcome === "failed")) {
        return { ok: false, stacks: results, table };
    }
    for (let i = 0; i < args.stacks.length; i++) {
        const s = args.stacks[i];
        const r = results[i];
        if (r.changes === 0) {
            r.outcome = "unchanged";
            add(s, await s.table());
            continue;
        }
        // The preview's limits stand unless stacks before this one used some of the budget.
        if (budget !== fullBudget) {
            await s.setLimits(limits(budget));
        }
        const failure = await s.up();
        if (failure === undefined) {
            r.outcome = "updated";
            add(s, await s.table());
            continue;
        }
        r.error = failure.error;
        r.failedResources = failure.failed.filter(f => !ROOT.test(f));
        // Only the fleet's closing barrier failed: every node ran, some failed within the budget.
        const rows = r.failedResources.length > 0 && r.failedResources.every(f => WITHIN_BUDGET.test(f)) ? await s.table() : [];
        const failed = rows.filter(row => row.result === "failed").length;
        if (failed > 0 && failed <= budget) {
            r.outcome = "failed within the budget";
            r.failedNodes = failed;
            budget -= failed;
            add(s, rows);
            continue;
        }
        r.outcome = "failed";
        break;
    }
    return { ok: results.every(r => r.outcome === "unchanged" || r.outcome === "updated"), stacks: results, table };
}

/** Options of automationStack: what every `pulumi preview` and `pulumi up` of the stack gets. */
export interface AutomationStackOptions {
    /** `--parallel`. */
    parallel?: number;
    /** The engine's output, as it comes. */
    onOutput?: (text: string) => void;
}

/** A FleetStack of an Automation API stack (an inline program, or a project on disk run by the CLI in a process of its own). */
export function automationStack(stack: Stack, options: AutomationStackOptions = {}): FleetStack {
    const common = { color: "never" as const, parallel: options.parallel, onOutput: options.onOutput };
    return {
        name: stack.name,
        setLimits: async limits => {
            await stack.setAllConfig(Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { value: String(v) }])));
        },
        preview: async () => {
            return changedCount((await stack.preview(common)).changeSummary);
        },
        up: async () => {
            const failed = new Set<string>();
            const onEvent = (e: EngineEvent) => {
                const urn = e.resOpFailedEvent?.metadata.urn ?? (e.diagnosticEvent?.severity === "error" ? e.diagnosticEvent.urn : undefined);
                if (urn) {
                    failed.add(urn);
                }
            };
            try {
                await stack.up({ ...common, onEvent });
                return undefined;
            } catch (e) {
                // A failure that names no resource (the program's own error) is never within a budget.
                return { error: message(e), failed: failed.size > 0 ? [...failed] : ["(the program)"] };
            }
        },
        table: async () => ((await stack.outputs()).table?.value ?? []) as FleetRow[],
    };
}

/** The result as text: one line per stack, then one per node. */
export function formatFleetStacks(result: FleetStacksResult): string {
    const lines = ["stack | outcome | changes | failed nodes", "---|---|---|---"];
    for (const s of result.stacks) {
        lines.push(`${s.stack} | ${s.outcome} | ${s.changes ?? "-"} | ${s.failedNodes}`);
    }
    lines.push("", "stack | node | wave | path | result", "---|---|---|---|---");
    for (const r of result.table) {
        lines.push(`${r.stack} | ${r.node} | ${r.wave} | ${r.path} | ${r.result}${r.failure ? ` (${r.failure})` : ""}`);
    }
    return lines.join("\n");
}
