/**
 * End to end: the three programs under examples/, each as its own project through the real
 * engine, against lab nodes and the lab cluster: one host-mode node (run, then run again), a
 * cluster by discovery (previewed), and the provisioning stack that deploys workloads with
 * @pulumi/kubernetes and converts the nodes under them (run, then run again).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    ADMIN_KUBECONFIG, ARTIFACT_PORT, changes, clusterSettings, exampleStack, KUBECTL, labNode, LAB_DIR, nodeDown, nodeUp, privateKey, REPO,
} from "./lab";

const HOST = "x-h";
const MEMBERS: { [name: string]: { address: string; kubelet: number } } = {
    "x-1": { address: "127.0.0.41", kubelet: 10370 },
    "x-2": { address: "127.0.0.42", kubelet: 10372 },
};
const SSH_PORT = 2311;
const SELECTOR = "containerd-node.test/pool=examples";

const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN_KUBECONFIG, ...args], { encoding: "utf8" });
const lab = (script: string, ...args: string[]) => execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR } });

/** The fleet settings of the lab (what clusterSettings holds per node). */
function fleetSettings() {
    const { containerd, config, kubelet, docker, upgrade } = clusterSettings();
    return { containerd, config, kubelet, docker, upgrade };
}

describe("e2e: the examples", function () {
    this.timeout(30 * 60 * 1000);
    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        nodeUp(HOST, 2310);
        lab("cluster-up.sh");
        for (const [n, m] of Object.entries(MEMBERS)) {
            nodeUp(n, SSH_PORT, m.address);
            lab("kubelet-join.sh", n, String(m.kubelet));
            kubectl("label", "node", n, SELECTOR, "--overwrite");
        }
    });
    after(() => {
        [HOST, ...Object.keys(MEMBERS)].forEach(nodeDown);
        lab("cluster-down.sh");
    });

    it("host-node: converts one node in host mode; a second up changes nothing", async () => {
        const n = labNode(HOST);
        const { containerd, kubelet } = fleetSettings();
        const stack = await exampleStack("host-node", "host", { host: n.host, port: n.port, hostKey: n.hostKey, privateKey: privateKey(), containerd, kubelet }, ["privateKey"]);
        const preview = await stack.preview({ color: "never" });
        assert.match(preview.stdout, /\+ +command:remote:Command +node-converge +create/);
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.outputs.runtimeAfter.value, `containerd://${containerd.version}`);
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
    });

    it("cluster-discovery: the preview finds the labelled Nodes at their InternalIP and plans their conversion", async () => {
        const stack = await exampleStack("cluster-discovery", "discovery", {
            kubeconfig: fs.readFileSync(ADMIN_KUBECONFIG, "utf8"), kubectl: KUBECTL, privateKey: privateKey(),
            knownHostsFile: path.join(LAB_DIR, "known_hosts"), selector: SELECTOR, sshPort: SSH_PORT, settings: fleetSettings(),
        }, ["kubeconfig", "privateKey"]);
        const preview = await stack.preview({ color: "never" });
        assert.match(preview.stdout, /2 Nodes matching containerd-node\.test\/pool=examples found: x-1 \(127\.0\.0\.41\), x-2 \(127\.0\.0\.42\)/);
        for (const n of Object.keys(MEMBERS)) {
            assert.match(preview.stdout, new RegExp(`\\+ +command:remote:Command +${n}-switch +create`));
        }
        // Drained, and verified, by their wave's steps.
        assert.match(preview.stdout, /\+ +command:local:Command +cluster-wave-1-drain +create/);
    });

    it("cluster: workloads with @pulumi/kubernetes, then the nodes under them converted; a second up changes nothing", async () => {
        const stack = await exampleStack("cluster", "cluster", {
            kubeconfig: fs.readFileSync(ADMIN_KUBECONFIG, "utf8"), kubectl: KUBECTL, privateKey: privateKey(),
            nodes: Object.keys(MEMBERS).map(labNode), settings: fleetSettings(),
            image: "lab/busybox:1", command: ["/bin/busybox", "sleep", "1000000"], imagePullPolicy: "Never",
            // The lab's nodes share one network namespace and run no service-account token controller.
            podSpec: { hostNetwork: true, automountServiceAccountToken: false },
        }, ["kubeconfig", "privateKey"]);
        const events: any[] = [];
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        const rows = Object.fromEntries((res.outputs.table.value as any[]).map(r => [r.node, r.result]));
        assert.deepStrictEqual(rows, { "x-1": "converted", "x-2": "converted" });
        // The workloads came first: every drain started after the PodDisruptionBudget was created.
        const at = (pred: (m: any) => boolean, kind: "resourcePreEvent" | "resOutputsEvent") =>
            events.findIndex(e => e[kind]?.metadata && pred(e[kind].metadata));
        const budgetDone = at(m => m.type === "kubernetes:policy/v1:PodDisruptionBudget", "resOutputsEvent");
        const firstDrain = at(m => /-drain$/.test(m.urn), "resourcePreEvent");
        assert.ok(budgetDone >= 0 && firstDrain > budgetDone, `the budget (event ${budgetDone}) before the first drain (event ${firstDrain})`);
        assert.strictEqual(kubectl("-n", "apps", "get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}"), "2");
        for (const n of Object.keys(MEMBERS)) {
            assert.match(kubectl("get", "node", n, "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}"), /^containerd:\/\//);
        }
        assert.ok(!JSON.stringify(events).includes(/client-key-data: (\S+)/.exec(fs.readFileSync(ADMIN_KUBECONFIG, "utf8"))![1].slice(0, 60)),
            "the kubeconfig's key is in none of the engine's events");
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
    });
});
