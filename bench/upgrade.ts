/**
 * Per-node time of an in-place move containerd 1.7 → 2.3, in one run, on four identical fresh
 * lab nodes (lab/node-17.sh: kubelet 1.33 joined to a real control plane, one pod each):
 *   A) `pulumi up` of index.ts moving one node, drained (upgrade.drain "major");
 *   B) the same, restarted in place (upgrade.drain "never");
 *   C, D) the very same steps as one bare script: the drain step's kubectl, then the node's
 *      steps in a single SSH session, then the verify step's and the health gate's kubectl;
 *      drained and in place.
 * What only A and B do: the facts read over SSH before the run, and one SSH session per step.
 * Prints each time and the ratios A/C and B/D. A and B are the CLI's `pulumi up` process, engine
 * and providers included (the program is inline, already loaded by this process).
 *
 *   npm run bench:upgrade
 */
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { timeCli } from "./cli";
import { ContainerdNodeArgs } from "../components/args";
import { gateScript } from "../components/fleet/gate";
import { drainScript, verifyNodeScript } from "../components/scripts/kubectl";
import { writeLocalLibrary } from "../components/kubeconfig";
import { registryAuthScript, stepScript } from "../components/scripts/steps";
import { nodeFactsScript } from "../components/scripts/upgradeFacts";
import { resolveSpec } from "../components/spec";
import {
    artifacts, ARTIFACT_PORT, KUBECTL, labNode, labStack, LAB_DIR, LAB17_CARRIED, LAB17_REGISTRY_PASSWORD, nodeDown, privateKey, REPO,
} from "../tests/e2e/lab";

const A = artifacts();
const ADMIN = path.join(LAB_DIR, "cluster", "admin.conf");
const NODES = { pulumiDrain: "bench-u1", pulumiInPlace: "bench-u2", bareDrain: "bench-u3", bareInPlace: "bench-u4" };
const SSH_PORT = 2271;
const KUBELET_PORT = 10390;
const AUTH = { "registry.lab.internal": { username: "lab", password: LAB17_REGISTRY_PASSWORD } };
const containerd = {
    version: A.CONTAINERD23_VERSION,
    source: { kind: "tarball" as const, url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.CONTAINERD23_FILE}`, sha256: A.CONTAINERD23_SHA256 },
    runc: { url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.RUNC_FILE}`, sha256: A.RUNC_SHA256 },
};
const settings = (drain: "major" | "never") => ({
    privateKey: privateKey(), kubeconfig: ADMIN, kubectl: KUBECTL, containerd, config: LAB17_CARRIED, registryAuth: AUTH,
    kubelet: { version: "1.33.13" }, drain: { timeoutSeconds: 120, gracePeriodSeconds: 1 }, verifyTimeoutSeconds: 120,
    upgrade: { drain },
});

const lab = (script: string, ...args: string[]) =>
    execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR, REGISTRY_PASSWORD: LAB17_REGISTRY_PASSWORD } });
const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });


async function pulumiMove(node: string, drain: "major" | "never"): Promise<number> {
    const stack = await labStack(`bench-${node}`, { nodes: [labNode(node)], ...settings(drain) });
    const cli = timeCli(stack);
    const res = await stack.up({ color: "never" });
    if (res.summary.result !== "succeeded") {
        throw new Error(`pulumi up of ${node}: ${res.summary.result}`);
    }
    return cli.up;
}

/** The steps the fleet runs for the node, as one bare run: kubectl, one SSH session, kubectl (verify, health gate). */
function bareMove(node: string, drain: "major" | "never"): number {
    const args: ContainerdNodeArgs = {
        connection: { host: "127.0.0.1", privateKey: "x" },
        kubernetes: { kubeconfig: ADMIN, kubectl: KUBECTL, nodeName: node, drain: { timeoutSeconds: 120, gracePeriodSeconds: 1 }, verifyTimeoutSeconds: 120 },
        containerd, config: { ...LAB17_CARRIED, registryAuth: AUTH }, kubelet: { version: "1.33.13" }, upgrade: { drain },
    };
    const spec = resolveSpec(args);
    const remote = [nodeFactsScript({ stateDir: spec.stateDir, freePaths: [spec.config.root], kubelet: true, prepare: true }), registryAuthScript(spec, AUTH), stepScript(spec, "configure"), stepScript(spec, "switch")]
        .map((s, i) => `bash <<'STEP_${i}_END' || exit $?\n${s}\nSTEP_${i}_END`).join("\n");
    const env = { ...process.env, LAB_DIR, KUBECONFIG: ADMIN };
    writeLocalLibrary();
    const t0 = Date.now();
    for (const [what, r] of [
        ["drain", () => spawnSync("bash", ["-c", drainScript(spec)], { encoding: "utf8", env })],
        ["node steps", () => spawnSync(path.join(REPO, "lab", "ssh.sh"), [node, "bash -s"], { input: remote, encoding: "utf8", env })],
        ["verify", () => spawnSync("bash", ["-c", verifyNodeScript(spec)], { encoding: "utf8", env })],
        ["health gate", () => spawnSync("bash", ["-c", gateScript({ node, kubernetes: { kubectl: KUBECTL, containerdVersion: containerd.version }, probes: [], timeoutSeconds: 300, pauseSeconds: 0 })], { encoding: "utf8", env })],
    ] as const) {
        const out = r();
        if (out.status !== 0) {
            throw new Error(`bare ${what} on ${node} failed: ${out.stderr.slice(-2000)}`);
        }
    }
    return (Date.now() - t0) / 1000;
}

/** One pod per node, as in a cluster at work: a drain evicts it. */
const WORKLOAD = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, namespace: default}
spec:
  replicas: 4
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: bench}}}]
      containers:
      - {name: b, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
`;

async function main(): Promise<void> {
    spawnSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
    lab("cluster-up.sh");
    const names = Object.values(NODES);
    try {
        names.forEach((n, i) => lab("node-17.sh", n, String(SSH_PORT + i), String(KUBELET_PORT + 2 * i)));
        execFileSync(KUBECTL, ["--kubeconfig", ADMIN, "apply", "-f", "-"], { input: WORKLOAD, stdio: ["pipe", "inherit", "inherit"] });
        kubectl("rollout", "status", "deployment/bench", "--timeout=180s");

        const t = {
            pulumiDrain: await pulumiMove(NODES.pulumiDrain, "major"),
            pulumiInPlace: await pulumiMove(NODES.pulumiInPlace, "never"),
            bareDrain: bareMove(NODES.bareDrain, "major"),
            bareInPlace: bareMove(NODES.bareInPlace, "never"),
        };
        for (const n of names) {
            const rt = kubectl("get", "node", n, "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}");
            if (rt !== `containerd://${A.CONTAINERD23_VERSION}`) {
                throw new Error(`${n} runs ${rt} after its move`);
            }
        }
        console.log(`containerd ${A.CONTAINERD17_VERSION} → ${A.CONTAINERD23_VERSION}, one node (kubelet 1.33, one pod):`);
        console.log(`  pulumi up, drained:              ${t.pulumiDrain.toFixed(1)} s`);
        console.log(`  same steps, bare, drained:       ${t.bareDrain.toFixed(1)} s   ratio ${(t.pulumiDrain / t.bareDrain).toFixed(2)}`);
        console.log(`  pulumi up, in place:             ${t.pulumiInPlace.toFixed(1)} s`);
        console.log(`  same steps, bare, in place:      ${t.bareInPlace.toFixed(1)} s   ratio ${(t.pulumiInPlace / t.bareInPlace).toFixed(2)}`);
    } finally {
        names.forEach(nodeDown);
        lab("cluster-down.sh");
    }
}

main().catch(e => { console.error(e); process.exit(1); });
