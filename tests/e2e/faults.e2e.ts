/**
 * End to end: interruptions (the fault matrix) on real lab nodes in host mode, through the
 * real engine and command provider: an SSH session cut mid-step and a node reset mid-step (the
 * rest of the matrix: faults-more.e2e.ts). Each case asserts the node is consistent (one runtime
 * running, the binary on disk the one that runs, the kubelet flags pointing at it) and that
 * nothing was lost (Docker's container and images, /var/lib/docker), then that a rerun converges.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { artifacts, changes, cutAt, labNode, labStack, LAB_DIR, nodeUp, onNode, REPO, settled, upExpectingFailure } from "./lab";
import { consistent, convergesAgain, images, reached, matrixHooks, settings } from "./faultsLab";

const A = artifacts();
const PORTS: { [n: string]: number } = { "f-cut-cfg": 2281, "f-cut-sw": 2282, "f-boot": 2283, "f-cut-cfg2": 2290, "f-cut-sw2": 2291 };

describe("e2e: interruptions leave no half-converted node (fault matrix)", function () {
    this.timeout(30 * 60 * 1000);
    const rows: string[] = [];
    matrixHooks(PORTS, rows);

    // The node's one step in host mode, converge, cut in each of its transactions (its parts).
    const cuts = [["f-cut-cfg", "configure", "installing binaries"], ["f-cut-cfg2", "configure", "starting containerd"],
        ["f-cut-sw", "switch", "docker: disable"], ["f-cut-sw2", "switch", "pointing the kubelet at containerd"]];
    for (const [node, step, phase] of cuts) {
        it(`an SSH session cut during ${step} at "${phase}": the step completes on the node; the rerun follows or reads it and converges`, async () => {
            nodeUp(node, PORTS[node]);
            const before = images(node);
            const stack = await labStack(node, { nodes: [labNode(node)], ...settings() });
            const cutter = cutAt(node, "converge", phase);
            let cutOut = "";
            cutter.stdout!.on("data", d => { cutOut += d; });
            const cutterDone = new Promise(r => cutter.on("close", r));
            const err = await upExpectingFailure(stack);
            await cutterDone;
            assert.match(cutOut, /cut/, "the session was cut at the marker");
            assert.match(err, /error/i);
            settled(node);
            const state = consistent(node);
            assert.strictEqual(images(node), before, "Docker's images and containers are all there");
            const seconds = await convergesAgain(stack);
            assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
            rows.push(`SSH cut | ${step}, "${phase}" (node then: ${state.runtime}) | 0 | 0 | ${seconds.toFixed(1)} s`);
        });
    }

    it("a node rebooted during switch comes up on one runtime; the rerun converges", async () => {
        const node = "f-boot";
        nodeUp(node, PORTS[node]);
        const before = images(node);
        const stack = await labStack(node, { nodes: [labNode(node)], ...settings() });
        const failed = upExpectingFailure(stack);
        // A hard reset once the switch has Docker stopped: the node's nspawn killed (its tree kept),
        // so nothing on the node gets to clean up before the boot.
        await reached(node, "converge", "docker: disable");
        // SIGKILL to the container's init (PID 1 of its namespace) kills every process in it at once;
        // killing nspawn alone would leave them running.
        const pid = fs.readFileSync(path.join(LAB_DIR, `${node}.pid`), "utf8").trim();
        execFileSync("bash", ["-c", `init=$(pgrep -P ${pid} | head -n 1); kill -KILL "$init"; while kill -0 ${pid} 2>/dev/null; do sleep 0.2; done`]);
        await failed;
        execFileSync("bash", ["-c", `source ${path.join(REPO, "lab", "lib.sh")}; node_boot ${node}; node_active ${node} containerd`], { stdio: "inherit", env: { ...process.env, LAB_DIR } });
        const state = consistent(node);
        assert.strictEqual(state.runtime, "docker", "the switch a reboot cut short was rolled back at boot");
        assert.match(onNode(node, "cat /var/lib/containerd-node/runs/converge-*/err"), /the node rebooted during this step \(docker: disable\); at boot every file and service it had changed was put back/);
        assert.strictEqual(images(node), before);
        const t0 = Date.now();
        const again = await stack.up({ color: "never" });
        assert.match(again.stdout, /\[converge\] containerd-node: the node rebooted during this step \(docker: disable\).*; running it again/);
        const seconds = (Date.now() - t0) / 1000;
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
        rows.push(`reboot | switch, "docker: disable" (node then: ${state.runtime}) | 0 | 0 | ${seconds.toFixed(1)} s`);
    });
});
