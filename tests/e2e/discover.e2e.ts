/**
 * End to end: a fleet whose nodes are found in the cluster (containerd-node:discover →
 * ContainerdFleet.fromCluster) on the real lab cluster: nodes with loopback addresses of their
 * own as InternalIP, one SSH port for all, host keys pinned from a known_hosts file, the
 * kubeconfig given as content. A Node that joins later is a create at the next preview; one that
 * left is dropped from the stack with nothing run on it; an unpinned node is refused.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { ADMIN_KUBECONFIG, ARTIFACT_PORT, changes, clusterSettings, KUBECTL, labStack, LAB_DIR, nodeDown, nodeUp, REPO, upExpectingFailure } from "./lab";

const SSH_PORT = 2300;
const NODES: { [name: string]: { address: string; kubelet: number } } = {
    "d-1": { address: "127.0.0.31", kubelet: 10362 },
    "d-2": { address: "127.0.0.32", kubelet: 10364 },
    "d-3": { address: "127.0.0.33", kubelet: 10366 },
};
const SELECTOR = "containerd-node.test/pool=disc";

const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN_KUBECONFIG, ...args], { encoding: "utf8" });
const lab = (script: string, ...args: string[]) => execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR } });

function join(name: string): void {
    nodeUp(name, SSH_PORT, NODES[name].address);
    lab("kubelet-join.sh", name, String(NODES[name].kubelet));
    kubectl("label", "node", name, SELECTOR, "--overwrite");
}

/** Each step resource's operation in a preview, by name (without "same"). */
async function previewOps(stack: Stack): Promise<{ ops: { [name: string]: string[] }; stdout: string }> {
    const ops: { [name: string]: string[] } = {};
    const res = await stack.preview({
        color: "never", onEvent: e => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.op !== "same" && m.type.startsWith("command:")) {
                (ops[m.urn.split("::").pop()!] ??= []).push(m.op);
            }
        },
    });
    return { ops, stdout: res.stdout };
}
/** The nodes whose steps a preview changes (the fleet's own barriers aside). */
const nodesOf = (ops: { [name: string]: string[] }) => [...new Set(Object.keys(ops).filter(n => /^d-\d-/.test(n)).map(n => n.slice(0, 3)))].sort();

describe("e2e: nodes found from the cluster (discover)", function () {
    this.timeout(30 * 60 * 1000);
    let stack: Stack;
    const discover = (knownHostsFile: string) => ({ selector: SELECTOR, port: SSH_PORT, knownHostsFile });

    before(async () => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("cluster-up.sh");
        join("d-1");
        join("d-2");
        stack = await labStack("discover", {
            ...clusterSettings({ kubeconfig: undefined, kubeconfigContent: fs.readFileSync(ADMIN_KUBECONFIG, "utf8") }),
            discover: discover(path.join(LAB_DIR, "known_hosts")),
        });
    });
    after(() => {
        Object.keys(NODES).forEach(nodeDown);
        lab("cluster-down.sh");
    });

    it("Docker's settings: one not carried refuses the preview, naming node, key and value; acknowledged, it is said dropped", async () => {
        const unsaid = await labStack("discover-docker", {
            ...clusterSettings({ kubeconfig: undefined, kubeconfigContent: fs.readFileSync(ADMIN_KUBECONFIG, "utf8"), upgrade: { acknowledgeDropped: [] } }),
            discover: discover(path.join(LAB_DIR, "known_hosts")),
        });
        const refused = await unsaid.preview({ color: "never" }).then(() => "", e => String(e));
        for (const n of ["d-1", "d-2"]) {
            assert.match(refused, new RegExp(`${n}: in /etc/docker/daemon\\.json:`), refused.slice(-3000));
            assert.match(refused, new RegExp(`${n}:   docker:default-runtime = "lab-runc" would be dropped: set config\\.extraToml with .*default_runtime_name = "lab-runc"`), refused.slice(-3000));
        }
        const { stdout } = await previewOps(stack);
        assert.match(stdout, /d-1:   docker:default-runtime = "lab-runc" is dropped, as upgrade\.acknowledgeDropped says/);
        assert.match(stdout, /d-1:   docker:iptables = false not carried, not needed: Docker's own API, networks or daemon/);
        assert.match(stdout, /d-1: Docker's settings: 3 carried, \d+ not needed under containerd, 1 dropped as acknowledged, 0 not carried/);
        assert.match(stdout, /d-1:   docker:runtimes\.lab-runc = .* carried: config\.runtimes/);
        assert.match(stdout, /d-1:   docker:log-opts\.max-size = "1m" carried: kubelet\.containerLogMaxSize = "1M"/);
    });
    it("the preview lists the Nodes found and plans each one's steps", async () => {
        const { ops, stdout } = await previewOps(stack);
        assert.match(stdout, /2 Nodes matching containerd-node\.test\/pool=disc found: d-1 \(127\.0\.0\.31\), d-2 \(127\.0\.0\.32\)/);
        assert.deepStrictEqual(nodesOf(ops), ["d-1", "d-2"]);
        assert.deepStrictEqual(ops["d-1-switch"], ["create"]);
    });

    it("pulumi up converts them at their InternalIP with the pinned keys; a second up changes nothing", async () => {
        const res = await stack.up({ color: "never" });
        const rows = Object.fromEntries((res.outputs.table.value as any[]).map(r => [r.node, r.result]));
        assert.deepStrictEqual(rows, { "d-1": "converted", "d-2": "converted" });
        for (const n of ["d-1", "d-2"]) {
            assert.match(kubectl("get", "node", n, "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}"), /^containerd:\/\//);
        }
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
    });

    it("a Node that joins shows as a create at the next preview, nothing else changes", async () => {
        join("d-3");
        const { ops, stdout } = await previewOps(stack);
        assert.match(stdout, /3 Nodes matching .* found: d-1 \(127\.0\.0\.31\), d-2 \(127\.0\.0\.32\), d-3 \(127\.0\.0\.33\)/);
        assert.deepStrictEqual(nodesOf(ops), ["d-3"], `only d-3's steps: ${JSON.stringify(ops)}`);
        assert.ok(Object.entries(ops).filter(([n]) => n.startsWith("d-3-")).every(([, o]) => o.every(op => op === "create")), JSON.stringify(ops));
    });

    it("a node without a pinned host key is refused at preview, naming it", async () => {
        const partial = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kh-")), "known_hosts");
        fs.writeFileSync(partial, fs.readFileSync(path.join(LAB_DIR, "known_hosts"), "utf8").split("\n").filter(l => !l.startsWith("[127.0.0.33]")).join("\n"));
        await stack.setConfig("containerd-node:discover", { value: JSON.stringify(discover(partial)) });
        try {
            await assert.rejects(stack.preview({ color: "never" }),
                /invalid discover\.hostKeys: no host key for node d-3 \(127\.0\.0\.33:2300\) in \S+known_hosts or byNode; pin it, or set allowUnpinned: true/);
        } finally {
            await stack.setConfig("containerd-node:discover", { value: JSON.stringify(discover(path.join(LAB_DIR, "known_hosts"))) });
        }
    });

    it("a Node that left is dropped from the stack with nothing run on it", async () => {
        await stack.up({ color: "never" });
        // d-1 leaves: its Node deleted, its machine gone (anything run on it would fail the run).
        nodeDown("d-1");
        kubectl("delete", "node", "d-1", "--wait=true");
        const { ops } = await previewOps(stack);
        assert.deepStrictEqual(nodesOf(ops), ["d-1"]);
        assert.ok(Object.entries(ops).filter(([n]) => n.startsWith("d-1-")).every(([, o]) => o.every(op => op === "delete")), JSON.stringify(ops));
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.ok((res.summary.resourceChanges as any).delete > 0);
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
    });

    it("the fleet refuses a stack without a kubeconfig to find nodes in", async () => {
        const bare = await labStack("discover-bare", { ...clusterSettings({ kubeconfig: undefined }), discover: discover(path.join(LAB_DIR, "known_hosts")) });
        assert.match(await upExpectingFailure(bare), /containerd-node:discover needs containerd-node:kubeconfig or kubeconfigContent/);
    });
});
