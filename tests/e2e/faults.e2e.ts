/**
 * End to end: interruptions (the fault matrix) on real lab nodes in host mode, through the
 * real engine and command provider: an SSH session cut mid-step (a node reset mid-step:
 * faults-boot.e2e.ts; the rest of the matrix: faults-more.e2e.ts). Each case asserts the node is consistent (one runtime
 * running, the binary on disk the one that runs, the kubelet flags pointing at it) and that
 * nothing was lost (Docker's container and images, /var/lib/docker), then that a rerun converges.
 */
import * as assert from "assert";
import { artifacts, cutAt, labNode, labStack, nodeUp, settled, upExpectingFailure } from "./lab";
import { consistent, convergesAgain, images, matrixHooks, settings } from "./faultsLab";

const A = artifacts();
const PORTS: { [n: string]: number } = { "f-cut-cfg": 2281, "f-cut-sw": 2282, "f-cut-cfg2": 2290, "f-cut-sw2": 2291 };

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
});
