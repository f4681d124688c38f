/**
 * End to end: a fleet of three lab nodes in waves of two (maxUnavailable 2). A node forced to fail
 * stops the rollout (the next wave keeps Docker, untouched); a rerun after the fix completes it
 * without changing the node that was already converted.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { artifacts, ARTIFACT_PORT, labNode, labStack, nodeDown, nodeUp, onNode, privateKey, REPO } from "./lab";

const A = artifacts();
const NODES: [string, number][] = [["fleet-1", 2261], ["fleet-2", 2262], ["fleet-3", 2263]];
const BAD_TOML = { grpc: { max_recv_message_size: "not-a-number" } };

/**
 * Boots the lab nodes and makes a fleet stack of them: containerd 2 from the tarball, Docker
 * disabled. `nodes` is called after the boot (a node's connection holds its new host key).
 */
async function fleetStack(name: string, boot: [string, number][], nodes: () => object[], maxUnavailable: number | string): Promise<Stack> {
    execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
    for (const [n, port] of boot) {
        nodeUp(n, port);
    }
    return labStack(name, {
        nodes: nodes(),
        privateKey: privateKey(),
        containerd: {
            version: A.CONTAINERD2_VERSION,
            source: { kind: "tarball", url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.CONTAINERD2_FILE}`, sha256: A.CONTAINERD2_SHA256 },
            runc: { url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.RUNC_FILE}`, sha256: A.RUNC_SHA256 },
        },
        kubelet: { version: "1.30.4" },
        docker: { mode: "disable" },
        maxUnavailable,
    });
}

describe("e2e: fleet in waves — a failure stops the rollout, a rerun resumes", function () {
    this.timeout(20 * 60 * 1000);
    let stack: Stack;
    let fleet1Converted = false;
    const node = (i: number, over?: object) => ({ ...labNode(NODES[i][0]), ...(over ? { overrides: over } : {}) });

    before(async () => {
        stack = await fleetStack("fleet", NODES, () => [node(0), node(1, { config: { extraToml: BAD_TOML } }), node(2)], "2");
    });
    after(() => NODES.forEach(([n]) => nodeDown(n)));

    it("the failing node stops the rollout: its wave-mate converts, the next wave is not touched", async () => {
        let err = "";
        try {
            await stack.up({ color: "never" });
        } catch (e) {
            err = String((e as Error).message);
        }
        assert.match(err, /fleet-2-converge/);
        assert.match(err, /step 'configure' failed during 'starting containerd'/);
        // Its wave-mate ran in parallel: the engine lets the step under way finish and starts no
        // new one, so it is either converted or untouched (its step not started), never half-switched.
        const dockerOn1 = onNode("fleet-1", "systemctl is-active docker", true).trim();
        const flags1 = onNode("fleet-1", "cat /var/lib/kubelet/kubeadm-flags.env");
        if (dockerOn1 === "active") {
            assert.doesNotMatch(flags1, /containerd\.sock/);
            assert.strictEqual(onNode("fleet-1", "docker inspect -f '{{.State.Status}}' sleeper").trim(), "running");
        } else {
            assert.match(flags1, /containerd\.sock/);
            assert.strictEqual(onNode("fleet-1", "systemctl is-active containerd").trim(), "active");
        }
        fleet1Converted = dockerOn1 !== "active";
        console.log(`      fleet-1 after the failed run: ${fleet1Converted ? "converted" : "still on Docker (its step had not started)"}`);
        assert.strictEqual(onNode("fleet-2", "systemctl is-active docker").trim(), "active", "the failed node is back on Docker");
        assert.strictEqual(onNode("fleet-3", "systemctl is-active docker").trim(), "active");
        assert.strictEqual(onNode("fleet-3", "test -e /var/lib/containerd-node/original && echo touched || echo untouched").trim(), "untouched",
            "the next wave was not even backed up");
        assert.strictEqual(onNode("fleet-3", "docker inspect -f '{{.State.Status}}' sleeper").trim(), "running");
    });

    it("after the fix, a rerun converts the rest and leaves the converted node alone", async () => {
        await stack.setConfig("containerd-node:nodes", { value: JSON.stringify([node(0), node(1), node(2)]) });
        const events: any[] = [];
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        assert.strictEqual(res.summary.result, "succeeded");
        // Steps of fleet-1 that completed in the failed run are not run again; a step the engine
        // did not start after the failure (it stops launching new ones) is created now.
        const ops = new Map<string, string>(events.filter(e => e.resourcePreEvent)
            .map(e => [e.resourcePreEvent.metadata.urn.split("::").pop(), e.resourcePreEvent.metadata.op]));
        const fleet1 = [...ops].filter(([n]) => n.startsWith("fleet-1-"));
        assert.ok(fleet1.length >= 1 && fleet1.every(([, op]) => op === "same" || op === "create"), `fleet-1: ${JSON.stringify(fleet1)}`);
        if (fleet1Converted) {
            assert.deepStrictEqual(fleet1.filter(([, op]) => op !== "same"), [], "a converted node has nothing left to do");
        }
        assert.strictEqual(ops.get("fleet-2-converge"), "create", "the failed step runs again with the fix");
        for (const [n] of NODES) {
            assert.strictEqual(res.outputs.runtimes.value[n].after, `containerd://${A.CONTAINERD2_VERSION}`);
            assert.strictEqual(onNode(n, "systemctl is-active containerd").trim(), "active");
        }
        assert.deepStrictEqual(res.outputs.waves.value, [["fleet-1", "fleet-2"], ["fleet-3"]]);
        const table = res.outputs.table.value as { node: string; wave: number; result: string }[];
        assert.deepStrictEqual(table.map(r => [r.node, r.wave, r.result]),
            [["fleet-1", 1, "converted"], ["fleet-2", 1, "converted"], ["fleet-3", 2, "converted"]]);
    });
});

describe("e2e: fleet one node at a time (maxUnavailable 1)", function () {
    this.timeout(20 * 60 * 1000);
    const nodes: [string, number][] = [["fleet-4", 2264], ["fleet-5", 2265], ["fleet-6", 2266]];
    let stack: Stack;

    before(async () => {
        stack = await fleetStack("fleet-serial", nodes, () => nodes.map(([n]) => labNode(n)), 1);
    });
    after(() => nodes.forEach(([n]) => nodeDown(n)));

    it("converts the nodes one after the other: a node's first change waits for the previous node's last step", async () => {
        const events: any[] = [];
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.deepStrictEqual(res.outputs.waves.value, [["fleet-4"], ["fleet-5"], ["fleet-6"]]);
        const at = (kind: "resourcePreEvent" | "resOutputsEvent", name: string) =>
            events.findIndex(e => e[kind]?.metadata.urn.endsWith(`::${name}`));
        // Every node's pre-flight passed (the barrier that holds their verdicts ran) before any
        // change; then strictly one node at a time.
        const passed = at("resOutputsEvent", "fleet-preflight-passed");
        assert.ok(passed >= 0 && passed < at("resourcePreEvent", "fleet-4-converge"), "all pre-flights first");
        for (let i = 1; i < nodes.length; i++) {
            const prevDone = at("resOutputsEvent", `${nodes[i - 1][0]}-converge`);
            const nextStart = at("resourcePreEvent", `${nodes[i][0]}-converge`);
            assert.ok(prevDone >= 0 && nextStart > prevDone, `${nodes[i][0]} starts after ${nodes[i - 1][0]} is done (${prevDone} < ${nextStart})`);
        }
        for (const [n] of nodes) {
            assert.strictEqual(res.outputs.runtimes.value[n].after, `containerd://${A.CONTAINERD2_VERSION}`);
            assert.strictEqual(onNode(n, "systemctl is-active docker", true).trim(), "inactive");
        }
        const again = await stack.up({ color: "never" });
        assert.deepStrictEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], "a second run changes nothing");
    });
});

describe("e2e: fleet input checked before anything is planned", function () {
    // A hang here was the bug: a child waited on the rest of a constructor that had thrown.
    this.timeout(120 * 1000);

    it("bad input of one node fails the preview at once, naming the node and the field", async () => {
        const stack = await labStack("fleet-bad-input", {
            nodes: [{ name: "ok-1", host: "127.0.0.1", port: 22 }, { name: "bad-2", host: "127.0.0.1", port: 70000 }],
            privateKey: "unused: nothing is dialled",
            containerd: { version: A.CONTAINERD2_VERSION, source: { kind: "tarball", url: "https://example.com/c.tgz", sha256: "a".repeat(64) } },
        });
        let out = "";
        let err = "";
        try {
            await stack.preview({ color: "never", onOutput: o => { out += o; } });
        } catch (e) {
            err = String((e as Error).message);
        }
        assert.match(err, /node bad-2: invalid connection\.port: expected an integer from 1 to 65535, got 70000/);
        assert.doesNotMatch(out, /command:remote:Command/, "no step of any node was planned");
    });
});
