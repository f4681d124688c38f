/**
 * Per-node overhead benchmark: in the same run, on two identical fresh lab nodes,
 *   A) `pulumi up` of index.ts converting one node (real CLI, real command provider), and
 *   B) the very same step scripts run as one bare bash script over a single SSH session.
 * Prints both times, the ratio A/B (target ≤ 1.10) and the SSH sessions the Pulumi run opened per
 * node (one per remote step). Also times a no-op `pulumi up` of the converted node, and of a lab
 * fleet of three nodes converted one at a time (index.ts with maxUnavailable 1).
 *
 * A is the CLI's `pulumi up` process, engine and providers included; the program is inline (see
 * scripts/stack.ts), already loaded by this process, so loading it is not in A.
 *
 *   npm run bench:overhead
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { timeCli } from "./cli";
import { resolveSpec } from "../components/spec";
import { stepScript } from "../components/scripts/steps";
import { partSteps } from "../components/scripts/claim";
import { nodeFactsScript } from "../components/scripts/upgradeFacts";
import { ARTIFACT_PORT, changes, labContainerd2, labNode, labStack, LAB_DIR, nodeDown, nodeUp, privateKey, REPO } from "../tests/e2e/lab";

const settings = {
    containerd: labContainerd2(),
    kubelet: { version: "1.30.4" },
    docker: { mode: "disable" as const },
};


async function main(): Promise<void> {
    spawnSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
    const [pa, pb] = ["bench-a", "bench-b"];
    const fleetNodes = ["bench-c", "bench-d", "bench-e"];
    nodeUp(pa, 2251);
    nodeUp(pb, 2252);
    try {
        // A: Pulumi.
        const stack = await labStack("bench", { nodes: [labNode(pa)], privateKey: privateKey(), ...settings });
        const cli = timeCli(stack);
        const events: any[] = [];
        let t0 = Date.now();
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        const totalSeconds = (Date.now() - t0) / 1000;
        const pulumiSeconds = cli.up;
        const sessions = events.filter(e => e.resourcePreEvent && /^command:remote:/.test(e.resourcePreEvent.metadata.type)).length;

        // B: the same scripts, one SSH session, one bash.
        const spec = resolveSpec({ connection: { host: "127.0.0.1", privateKey: "x" }, ...settings });
        const steps = [nodeFactsScript({ stateDir: spec.stateDir, freePaths: [spec.config.root], prepare: true }), ...partSteps(spec).map(s => stepScript(spec, s.step))];
        const script = steps.map((s, i) => `bash <<'STEP_${i}_END' || exit $?\n${s}\nSTEP_${i}_END`).join("\n");
        t0 = Date.now();
        const bare = spawnSync(path.join(REPO, "lab", "ssh.sh"), [pb, "bash -s"], { input: script, encoding: "utf8", env: { ...process.env, LAB_DIR } });
        const bareSeconds = (Date.now() - t0) / 1000;
        if (bare.status !== 0) {
            throw new Error(`bare script failed: ${bare.stderr.slice(-2000)}`);
        }

        // A no-op run.
        const again = await stack.up({ color: "never" });
        const noopSeconds = cli.up;

        // A no-op run of a lab fleet.
        fleetNodes.forEach((n, i) => nodeUp(n, 2253 + i));
        const fleet = await labStack("bench-fleet", { nodes: fleetNodes.map(labNode), privateKey: privateKey(), maxUnavailable: 1, ...settings });
        const fleetCli = timeCli(fleet);
        const converted = await fleet.up({ color: "never" });
        const fleetUpSeconds = fleetCli.up;
        const fleetAgain = await fleet.up({ color: "never" });
        const fleetNoopSeconds = fleetCli.up;

        console.log(`pulumi up, one node:            ${pulumiSeconds.toFixed(1)} s (${res.summary.result}; ${totalSeconds.toFixed(1)} s with the Automation API's reads of outputs and history after it)`);
        console.log(`same steps, bare bash over ssh: ${bareSeconds.toFixed(1)} s`);
        console.log(`ratio pulumi/bare:              ${(pulumiSeconds / bareSeconds).toFixed(2)} (target ≤ 1.10; ${(totalSeconds / bareSeconds).toFixed(2)} with the reads after it)`);
        console.log(`SSH sessions per node:          ${sessions} (bare: 1)`);
        console.log(`no-op pulumi up:                ${noopSeconds.toFixed(1)} s, changes ${JSON.stringify(changes(again.summary.resourceChanges as any))}`);
        console.log(`lab fleet of 3, one at a time:  ${fleetUpSeconds.toFixed(1)} s (${converted.summary.result})`);
        console.log(`no-op pulumi up of that fleet:  ${fleetNoopSeconds.toFixed(1)} s, changes ${JSON.stringify(changes(fleetAgain.summary.resourceChanges as any))} (${fleetAgain.summary.resourceChanges?.same ?? 0} resources the same)`);
    } finally {
        [pa, pb, ...fleetNodes].forEach(nodeDown);
    }
}

main().catch(e => { console.error(e); process.exit(1); });
