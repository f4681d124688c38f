import * as assert from "assert";
import { FleetRow } from "../../components/fleet/fleet";
import { FleetLimits, FleetStack, formatFleetStacks, upFleetStacks } from "../../components/fleet/stacks";

const URN = (stack: string, tail: string) => `urn:pulumi:${stack}::containerd-node::${tail}`;
const RESULT = (stack: string) => URN(stack, "containerd-node:index:ContainerdFleet$command:local:Command::fleet-result");
const ROOT = (stack: string) => URN(stack, "pulumi:pulumi:Stack::containerd-node-" + stack);
const CONVERGE = (stack: string, node: string) => URN(stack, `containerd-node:index:ContainerdFleet$containerd-node:index:ContainerdNode$command:remote:Command::${node}-converge`);

const row = (node: string, result: FleetRow["result"] = "converted"): FleetRow => ({
    node, wave: 1, runtimeBefore: "docker://20.10.24", runtimeAfter: "containerd://2.2.9", path: "docker://20.10.24 → containerd", durations: {} as FleetRow["durations"], result,
});

/** A stack that records what the driver did with it. */
class Fake implements FleetStack {
    calls: string[] = [];
    constructor(
        public readonly name: string,
        private readonly o: { changes?: number; previewError?: string; upFailed?: string[]; rows?: FleetRow[] } = {},
    ) { }
    async setLimits(l: FleetLimits) { this.calls.push(`limits ${l.maxUnavailable} ${l.failureBudget}${l.absorbFailures ? " absorb" : ""}`); }
    async preview() {
        this.calls.push("preview");
        if (this.o.previewError) {
            throw new Error(this.o.previewError);
        }
        return this.o.changes ?? 1;
    }
    async up() {
        this.calls.push("up");
        return this.o.upFailed ? { error: `update of ${this.name} failed`, failed: this.o.upFailed } : undefined;
    }
    async table() { return this.o.rows ?? [row(`${this.name}-n1`)]; }
}

const outcomes = (r: Awaited<ReturnType<typeof upFleetStacks>>) => r.stacks.map(s => [s.stack, s.outcome]);

describe("fleet stacks: one rollout over several stacks", () => {
    it("previews every stack, then updates each in turn under the one maxUnavailable; one table", async () => {
        const a = new Fake("pool-a");
        const b = new Fake("pool-b", { rows: [row("b1"), row("b2", "already on containerd")] });
        const r = await upFleetStacks({ stacks: [a, b], maxUnavailable: 3 });
        assert.ok(r.ok);
        assert.deepStrictEqual(outcomes(r), [["pool-a", "updated"], ["pool-b", "updated"]]);
        assert.deepStrictEqual(a.calls, ["limits 3 0", "preview", "up"], "the preview's limits stand: nothing used the budget");
        assert.deepStrictEqual(b.calls, ["limits 3 0", "preview", "up"]);
        assert.deepStrictEqual(r.table.map(x => [x.stack, x.node, x.result]),
            [["pool-a", "pool-a-n1", "converted"], ["pool-b", "b1", "converted"], ["pool-b", "b2", "already on containerd"]]);
        assert.match(formatFleetStacks(r), /^pool-b \| b2 \| 1 \| docker:\/\/20\.10\.24 → containerd \| already on containerd$/m);
    });

    it("a stack whose preview changes nothing is not updated: its table is its last update's", async () => {
        const a = new Fake("a", { changes: 0 });
        const b = new Fake("b", { changes: 0 });
        const r = await upFleetStacks({ stacks: [a, b], maxUnavailable: 1 });
        assert.ok(r.ok);
        assert.deepStrictEqual(outcomes(r), [["a", "unchanged"], ["b", "unchanged"]]);
        assert.ok(![...a.calls, ...b.calls].includes("up"));
        assert.strictEqual(r.table.length, 2);
    });

    it("a failed preview stops the run before any stack is updated", async () => {
        const a = new Fake("a");
        const b = new Fake("b", { previewError: "the pre-flight refuses 1 of 2 nodes" });
        const r = await upFleetStacks({ stacks: [a, b], maxUnavailable: 1 });
        assert.ok(!r.ok);
        assert.deepStrictEqual(outcomes(r), [["a", "not run"], ["b", "failed"]]);
        assert.match(r.stacks[1].error!, /^preview: the pre-flight refuses 1 of 2 nodes/);
        assert.ok(![...a.calls, ...b.calls].includes("up"));
    });

    it("a failed update stops the rollout: no later stack is updated", async () => {
        const a = new Fake("a");
        const b = new Fake("b", { upFailed: [CONVERGE("b", "b1"), ROOT("b")] });
        const c = new Fake("c");
        const r = await upFleetStacks({ stacks: [a, b, c], maxUnavailable: 2, failureBudget: 5 });
        assert.ok(!r.ok);
        assert.deepStrictEqual(outcomes(r), [["a", "updated"], ["b", "failed"], ["c", "not run"]]);
        assert.deepStrictEqual(r.stacks[1].failedResources, [CONVERGE("b", "b1")], "the stack's own 'update failed' is left out");
        assert.deepStrictEqual(c.calls, ["limits 2 5 absorb", "preview"], "previewed, never updated");
        assert.deepStrictEqual(r.table.map(x => x.stack), ["a"]);
    });

    it("nodes failing within the budget let the next stack go on with what is left; past it the rollout stops", async () => {
        const a = new Fake("a", { upFailed: [RESULT("a"), ROOT("a")], rows: [row("a1", "failed"), row("a2")] });
        const b = new Fake("b", { upFailed: [RESULT("b")], rows: [row("b1", "failed"), row("b2", "failed")] });
        const c = new Fake("c");
        const r = await upFleetStacks({ stacks: [a, b, c], maxUnavailable: 1, failureBudget: 2 });
        assert.ok(!r.ok);
        assert.deepStrictEqual(outcomes(r), [["a", "failed within the budget"], ["b", "failed"], ["c", "not run"]]);
        assert.strictEqual(r.stacks[0].failedNodes, 1);
        assert.deepStrictEqual(b.calls, ["limits 1 2 absorb", "preview", "limits 1 1 absorb", "up"], "b runs with the budget a left, still counting failures");
        assert.ok(!c.calls.includes("up"));
        assert.deepStrictEqual(r.table.map(x => [x.stack, x.node, x.result]), [["a", "a1", "failed"], ["a", "a2", "converted"]]);
    });

    it("a closing barrier's failure with no failed node in the table is not taken for one within the budget", async () => {
        const a = new Fake("a", { upFailed: [RESULT("a")], rows: [row("a1")] });
        const b = new Fake("b");
        const r = await upFleetStacks({ stacks: [a, b], maxUnavailable: 1, failureBudget: 3 });
        assert.deepStrictEqual(outcomes(r), [["a", "failed"], ["b", "not run"]]);
    });

    it("bad arguments are refused naming the field", async () => {
        const a = () => new Fake("a");
        await assert.rejects(upFleetStacks({ stacks: [], maxUnavailable: 1 }), /invalid stacks: expected at least one stack/);
        await assert.rejects(upFleetStacks({ stacks: [a(), a()], maxUnavailable: 1 }), /invalid stacks: expected each stack once, got a twice/);
        await assert.rejects(upFleetStacks({ stacks: [a()], maxUnavailable: 0 }), /invalid maxUnavailable: expected an integer of at least 1, got 0/);
        await assert.rejects(upFleetStacks({ stacks: [a()], maxUnavailable: 1, failureBudget: 1.5 }), /invalid failureBudget: expected an integer of at least 0, got 1.5/);
        await assert.rejects(upFleetStacks({ stacks: [a()], maxUnavailable: 1, previews: 0 }), /invalid previews/);
    });

    it("previews at most `previews` stacks at once", async () => {
        let now = 0;
        let most = 0;
        const slow = (name: string): FleetStack => ({
            name,
            setLimits: async () => undefined,
            preview: async () => {
                most = Math.max(most, ++now);
                await new Promise(r => setTimeout(r, 5));
                now--;
                return 0;
            },
            up: async () => undefined,
            table: async () => [],
        });
        await upFleetStacks({ stacks: ["a", "b", "c", "d", "e"].map(slow), maxUnavailable: 1, previews: 2 });
        assert.strictEqual(most, 2);
    });
});
