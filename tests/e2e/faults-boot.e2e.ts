/**
 * End to end: a node reset mid-step (the fault matrix's reboot case) on a real lab node in host
 * mode, through the real engine and command provider: the node comes back on one runtime, nothing
 * lost, and a rerun converges. In a mocha process of its own: in one process, the inline program
 * of each `pulumi up` that failed on purpose (the SSH cuts of faults.e2e.ts) never ends (one more
 * unhandledRejection listener each, measured at e8ef0cf too), and with four of them left an up's
 * program was seen to end at once without registering its resources (2 of 4 runs).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { artifacts, changes, labNode, labStack, LAB_DIR, nodeUp, onNode, REPO, upExpectingFailure } from "./lab";
import { consistent, images, reached, matrixHooks, settings } from "./faultsLab";

const A = artifacts();
const PORTS: { [n: string]: number } = { "f-boot": 2283 };

describe("e2e: a node reset mid-step leaves no half-converted node (fault matrix)", function () {
    this.timeout(30 * 60 * 1000);
    const rows: string[] = [];
    matrixHooks(PORTS, rows);

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
