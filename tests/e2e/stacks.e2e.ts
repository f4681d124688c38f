/**
 * End to end: a fleet split across two stacks (a lab node each, the package's stack program),
 * run as one rollout by upFleetStacks. A failure in the first stack stops the rollout before the
 * second is updated (its node untouched); after the fix one run converts both, with one table;
 * a run after that previews both and updates neither.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { automationStack, formatFleetStacks, upFleetStacks } from "../../components";
import { artifacts, ARTIFACT_PORT, labContainerd2, labNode, labStack, nodeDown, nodeUp, onNode, privateKey, REPO } from "./lab";

const A = artifacts();
const NODES: [string, number][] = [["stacks-1", 2267], ["stacks-2", 2268]];
const BAD_TOML = { grpc: { max_recv_message_size: "not-a-number" } };

/** A stack of one lab node: containerd 2 from the tarball, Docker disabled. */
function poolStack(name: string, nodes: object[]): Promise<Stack> {
    return labStack(name, {
        nodes,
        privateKey: privateKey(),
        containerd: labContainerd2(),
        kubelet: { version: "1.30.4" },
        docker: { mode: "disable" },
    });
}

describe("e2e: a fleet across two stacks, one rollout (upFleetStacks)", function () {
    this.timeout(20 * 60 * 1000);
    let a: Stack;
    let b: Stack;
    const node = (i: number, over?: object) => ({ ...labNode(NODES[i][0]), ...(over ? { overrides: over } : {}) });
    const run = () => upFleetStacks({ stacks: [automationStack(a), automationStack(b)], maxUnavailable: 1 });

    before(async () => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        for (const [n, port] of NODES) {
            nodeUp(n, port);
        }
        a = await poolStack("stacks-a", [node(0, { config: { extraToml: BAD_TOML } })]);
        b = await poolStack("stacks-b", [node(1)]);
    });
    after(() => NODES.forEach(([n]) => nodeDown(n)));

    it("a failed update in the first stack stops the rollout: the second stack is previewed, never updated", async () => {
        const r = await run();
        console.log(formatFleetStacks(r).replace(/^/gm, "      "));
        assert.ok(!r.ok);
        assert.deepStrictEqual(r.stacks.map(s => [s.stack, s.outcome]), [["stacks-a", "failed"], ["stacks-b", "not run"]]);
        assert.ok(r.stacks.every(s => (s.changes ?? 0) > 0), "both previews passed and had changes");
        assert.ok(r.stacks[0].failedResources!.some(u => u.endsWith("::stacks-1-converge")), JSON.stringify(r.stacks[0].failedResources));
        assert.match(r.stacks[0].error!, /step 'configure' failed during 'starting containerd'/);
        assert.strictEqual(onNode("stacks-1", "systemctl is-active docker").trim(), "active", "the failed node is back on Docker");
        assert.strictEqual(onNode("stacks-2", "systemctl is-active docker").trim(), "active");
        assert.strictEqual(onNode("stacks-2", "test -e /var/lib/containerd-node && echo touched || echo untouched").trim(), "untouched",
            "the second stack's node: nothing of containerd-node on it");
        assert.strictEqual(onNode("stacks-2", "docker inspect -f '{{.State.Status}}' sleeper").trim(), "running");
        assert.deepStrictEqual((await b.exportStack()).deployment.resources ?? [], [], "the second stack was never updated");
        assert.deepStrictEqual(await b.getConfig("maxUnavailable"), { value: "1", secret: false }, "its limits were handed to it");
    });

    it("after the fix, one run converts both stacks' nodes, one stack after the other; one table", async () => {
        await a.setConfig("containerd-node:nodes", { value: JSON.stringify([node(0)]) });
        const r = await run();
        console.log(formatFleetStacks(r).replace(/^/gm, "      "));
        assert.ok(r.ok, JSON.stringify(r.stacks));
        assert.deepStrictEqual(r.stacks.map(s => [s.stack, s.outcome]), [["stacks-a", "updated"], ["stacks-b", "updated"]]);
        assert.deepStrictEqual(r.table.map(x => [x.stack, x.node, x.runtimeAfter, x.result]), [
            ["stacks-a", "stacks-1", `containerd://${A.CONTAINERD2_VERSION}`, "converted"],
            ["stacks-b", "stacks-2", `containerd://${A.CONTAINERD2_VERSION}`, "converted"],
        ]);
        for (const [n] of NODES) {
            assert.strictEqual(onNode(n, "systemctl is-active containerd").trim(), "active");
        }
        // One stack at a time: the second's update started after the first's ended.
        const [ha] = await a.history(1);
        const [hb] = await b.history(1);
        assert.ok(new Date(hb.startTime).getTime() >= new Date(ha.endTime!).getTime(), `${ha.endTime} then ${hb.startTime}`);
    });

    it("the next run previews both stacks and updates neither", async () => {
        const before = [(await a.history()).length, (await b.history()).length];
        const r = await run();
        assert.ok(r.ok);
        assert.deepStrictEqual(r.stacks.map(s => [s.stack, s.outcome, s.changes]), [["stacks-a", "unchanged", 0], ["stacks-b", "unchanged", 0]]);
        assert.deepStrictEqual([(await a.history()).length, (await b.history()).length], before, "no update was made");
        assert.deepStrictEqual(r.table.map(x => [x.stack, x.node]), [["stacks-a", "stacks-1"], ["stacks-b", "stacks-2"]]);
    });
});
