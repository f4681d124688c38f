/**
 * End to end with a real control plane (etcd, kube-apiserver, controller-manager, scheduler) and
 * real kubelets on Docker (dockershim) in the lab nodes: `pulumi up` cordons, drains, switches the
 * kubelet to containerd, verifies and uncordons; failures put the node back.
 */
import * as assert from "assert";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Stack } from "@pulumi/pulumi/automation";
import {
    artifacts, ARTIFACT_PORT, changes, clusterSettings, cutAt, durations, KUBECTL, labNode, labStack, LAB_DIR, nodeDown, nodeUp, onNode,
    REPO, settled, stateText, upExpectingFailure,
} from "./lab";

const A = artifacts();
const ADMIN = path.join(LAB_DIR, "cluster", "admin.conf");
const NODES = { a: "k8s-a", b: "k8s-b", c: "k8s-c" };
/** Booted by the failure-budget test only. */
const BUDGET_NODES = { d: "k8s-d", e: "k8s-e" };
/** Booted by the interruption test only. */
const CUT_NODE = "k8s-f";
const SSH_PORT: { [n: string]: number } = { "k8s-a": 2241, "k8s-b": 2242, "k8s-c": 2243, "k8s-d": 2244, "k8s-e": 2245, "k8s-f": 2246 };
const KUBELET_PORT: { [n: string]: number } = { "k8s-a": 10350, "k8s-b": 10352, "k8s-c": 10354, "k8s-d": 10356, "k8s-e": 10358, "k8s-f": 10360 };
const SOCKET = "unix:///run/containerd/containerd.sock";

const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });
const kubectlAsync = (...args: string[]) => promisify(execFile)(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });
const jp = (node: string, path: string) => kubectl("get", "node", node, "-o", `jsonpath={${path}}`);
const lab = (script: string, ...args: string[]) =>
    execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR } });

const settings = clusterSettings;

/** The private kubeconfig files local steps make (from a kubeconfig's content) in the temp directory. */
const kubeconfigFiles = () => fs.readdirSync(os.tmpdir()).filter(f => f.startsWith("containerd-node-kubeconfig.")).sort();

function podsOn(node: string, selector: string): string[] {
    return kubectl("get", "pods", "-A", "-l", selector, "--field-selector", `spec.nodeName=${node}`, "-o", "jsonpath={.items[*].metadata.name}")
        .split(/\s+/).filter(Boolean);
}


const WORKLOADS = `
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      containers:
      - {name: web, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"],
         volumeMounts: [{name: scratch, mountPath: /scratch}]}
      volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: apps}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: apps}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      containers:
      - {name: agent, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
`;

/** A pod pinned to node c whose PodDisruptionBudget allows no eviction: its drain can't finish. */
const SOLO = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: solo, namespace: apps}
spec:
  replicas: 1
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      nodeSelector: {kubernetes.io/hostname: ${NODES.c}}
      containers:
      - {name: solo, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: solo, namespace: apps}
spec: {minAvailable: 1, selector: {matchLabels: {app: solo}}}
`;

function apply(yaml: string): void {
    execFileSync(KUBECTL, ["--kubeconfig", ADMIN, "apply", "-f", "-"], { input: yaml, stdio: ["pipe", "inherit", "inherit"] });
}

describe("e2e: Kubernetes — drain, switch the kubelet, verify and uncordon on a real cluster", function () {
    this.timeout(40 * 60 * 1000);
    const kubeadmFlags = (n: string) => onNode(n, "cat /var/lib/kubelet/kubeadm-flags.env");

    before(async () => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("cluster-up.sh");
        for (const n of Object.values(NODES)) {
            nodeUp(n, SSH_PORT[n]);
            lab("kubelet-join.sh", n, String(KUBELET_PORT[n]));
        }
        // Both web pods on node a: the others are cordoned while they are placed.
        kubectl("cordon", NODES.b);
        kubectl("cordon", NODES.c);
        apply(WORKLOADS);
        kubectl("-n", "apps", "rollout", "status", "deployment/web", "--timeout=180s");
        kubectl("uncordon", NODES.b);
        kubectl("uncordon", NODES.c);
        kubectl("-n", "apps", "rollout", "status", "daemonset/agent", "--timeout=180s");
        assert.strictEqual(podsOn(NODES.a, "app=web").length, 2);
    });
    after(() => {
        for (const n of [...Object.values(NODES), ...Object.values(BUDGET_NODES), CUT_NODE]) {
            nodeDown(n);
        }
        lab("cluster-down.sh");
    });

    it("the nodes start on Docker through dockershim", () => {
        for (const n of Object.values(NODES)) {
            assert.match(jp(n, ".status.nodeInfo.containerRuntimeVersion"), /^docker:\/\/20\.10\./);
        }
    });

    let stackA: Stack;
    it("pulumi up cordons and drains node a (PDB honoured, DaemonSet ignored), switches it to containerd and uncordons it", async () => {
        stackA = await labStack("k8s-a", { nodes: [labNode(NODES.a)], ...settings() });
        let minAvailable = 2;
        let polling = true;
        const poll = (async () => {
            while (polling) {
                const { stdout } = await kubectlAsync("-n", "apps", "get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}").catch(() => ({ stdout: "" }));
                minAvailable = Math.min(minAvailable, Number(stdout || 0));
                await new Promise(r => setTimeout(r, 500));
            }
        })();
        const events: any[] = [];
        const res = await stackA.up({ color: "never", onEvent: e => events.push(e) });
        polling = false;
        await poll;
        assert.strictEqual(res.summary.result, "succeeded");
        assert.deepStrictEqual(res.outputs.runtimes.value[NODES.a], { before: "docker://20.10.24+dfsg1", after: `containerd://${A.CONTAINERD2_VERSION}` });

        assert.strictEqual(jp(NODES.a, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.a, '.status.conditions[?(@.type=="Ready")].status'), "True");
        assert.strictEqual(jp(NODES.a, ".spec.unschedulable"), "", "uncordoned");
        assert.strictEqual(jp(NODES.a, ".metadata.annotations.containerd-node\\.pulumi\\.com/cordoned"), "", "cordon mark removed");
        assert.strictEqual(jp(NODES.a, ".metadata.annotations.kubeadm\\.alpha\\.kubernetes\\.io/cri-socket"), SOCKET);
        assert.strictEqual(jp(NODES.a, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "converted", "the phase annotation");

        assert.deepStrictEqual(podsOn(NODES.a, "app=web"), [], "the Deployment's pods moved away");
        assert.strictEqual(kubectl("-n", "apps", "get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}"), "2");
        assert.ok(minAvailable >= 1, `the PodDisruptionBudget kept one web pod available (min seen ${minAvailable})`);
        assert.match(res.stdout, /evicting pod apps\/web-/);
        assert.doesNotMatch(res.stdout, /evicting pod apps\/agent-/, "DaemonSet pods are ignored");

        // The DaemonSet's pod runs again, now on containerd, and crictl on the node talks to containerd.
        kubectl("-n", "apps", "rollout", "status", "daemonset/agent", "--timeout=120s");
        assert.strictEqual(podsOn(NODES.a, "app=agent").length, 1);
        assert.match(onNode(NODES.a, "crictl ps -o json"), /"name":\s+"agent"/);
        assert.match(onNode(NODES.a, "crictl version"), /RuntimeName:\s+containerd/);
        assert.strictEqual(onNode(NODES.a, "systemctl is-active docker", true).trim(), "inactive");
        const flags = kubeadmFlags(NODES.a);
        assert.match(flags, /--container-runtime=remote/);
        assert.match(flags, new RegExp(`--container-runtime-endpoint=${SOCKET}`));
        // 1.23 still accepts --network-plugin (ignored with a remote runtime): only the sandbox image moves to containerd.
        assert.doesNotMatch(flags, /--pod-infra-container-image/);
        assert.match(flags, /--cgroup-driver=cgroupfs/);

        const d = durations(events);
        console.log(`      node conversion: drain ${d["k8s-a-drain"]}s, switch ${d["k8s-a-switch"]}s, verify ${d["k8s-a-verify"]}s, whole run ${d.total}s`);
    });

    it("a second pulumi up changes nothing; a new stack on the converted node does not drain it", async () => {
        const again = await stackA.up({ color: "never" });
        assert.deepStrictEqual(changes(again.summary.resourceChanges as any), {});

        const fresh = await labStack("k8s-a-again", { nodes: [labNode(NODES.a)], ...settings() });
        let cordoned = false;
        let polling = true;
        const poll = (async () => {
            while (polling) {
                const { stdout } = await kubectlAsync("get", "node", NODES.a, "-o", "jsonpath={.spec.unschedulable}").catch(() => ({ stdout: "" }));
                cordoned = cordoned || stdout === "true";
                await new Promise(r => setTimeout(r, 300));
            }
        })();
        const res = await fresh.up({ color: "never" });
        polling = false;
        await poll;
        assert.match(res.stdout, /already runs containerd:\/\/.*not draining/);
        assert.ok(!cordoned, "the node was never cordoned");
    });

    it("a node cordoned before the run is still cordoned after it", async () => {
        kubectl("cordon", NODES.b);
        const stack = await labStack("k8s-b", { nodes: [labNode(NODES.b)], ...settings() });
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.outputs.runtimes.value[NODES.b].after, `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.b, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.b, ".spec.unschedulable"), "true", "still cordoned");
        kubectl("uncordon", NODES.b);
    });

    let stackC: Stack;
    it("a drain blocked by a PodDisruptionBudget fails the run at the timeout and leaves the node as it was", async () => {
        apply(SOLO);
        kubectl("-n", "apps", "rollout", "status", "deployment/solo", "--timeout=120s");
        const flagsBefore = kubeadmFlags(NODES.c);
        stackC = await labStack("k8s-c", { nodes: [labNode(NODES.c)], ...settings({ drain: { timeoutSeconds: 15, gracePeriodSeconds: 1 } }) });
        const err = await upExpectingFailure(stackC);
        assert.match(err, /draining k8s-c failed .*the node was uncordoned and nothing on it was changed/);
        assert.match(err, /disruption budget|Cannot evict/i, "kubectl's own reason is shown");
        assert.strictEqual(jp(NODES.c, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "drain-failed");
        assert.match(jp(NODES.c, ".status.nodeInfo.containerRuntimeVersion"), /^docker:\/\//);
        assert.strictEqual(jp(NODES.c, ".spec.unschedulable"), "", "schedulable again");
        assert.strictEqual(kubeadmFlags(NODES.c), flagsBefore);
        assert.strictEqual(onNode(NODES.c, "systemctl is-active docker kubelet"), "active\nactive\n");
    });

    it("a kubelet that is not Ready on containerd in time is rolled back to Docker and the node is Ready and schedulable again", async () => {
        kubectl("-n", "apps", "delete", "pdb", "solo");
        const flagsBefore = kubeadmFlags(NODES.c);
        // No CNI config where containerd looks: its network never gets ready, so neither does the node.
        await stackC.setConfig("containerd-node:config", { value: JSON.stringify({ ...settings().config, cniConfDir: "/etc/cni/none" }) });
        await stackC.setConfig("containerd-node:verifyTimeoutSeconds", { value: "40" });
        const err = await upExpectingFailure(stackC);
        assert.match(err, /step 'switch' failed during 'waiting for node k8s-c to be Ready on containerd \(40s\)'/);
        assert.match(err, /node k8s-c is Ready again on docker:\/\//);
        assert.match(err, /node k8s-c uncordoned/);
        assert.strictEqual(jp(NODES.c, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "rolled-back");
        assert.match(jp(NODES.c, ".status.nodeInfo.containerRuntimeVersion"), /^docker:\/\//);
        assert.strictEqual(jp(NODES.c, '.status.conditions[?(@.type=="Ready")].status'), "True");
        assert.strictEqual(jp(NODES.c, ".spec.unschedulable"), "", "schedulable again");
        assert.strictEqual(kubeadmFlags(NODES.c), flagsBefore, "kubelet flags restored");
        assert.strictEqual(onNode(NODES.c, "systemctl is-active docker"), "active\n");
    });

    it("a pod mounting docker.sock refuses the run at preview, naming it, unless acknowledged", async () => {
        apply(`
apiVersion: v1
kind: Pod
metadata: {name: ci-runner, namespace: apps}
spec:
  nodeSelector: {kubernetes.io/hostname: nowhere}
  containers:
  - {name: runner, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"],
     volumeMounts: [{name: docker, mountPath: /var/run/docker.sock}]}
  volumes: [{name: docker, hostPath: {path: /var/run/docker.sock}}]
`);
        try {
            const stack = await labStack("k8s-socket", { nodes: [labNode(NODES.c)], ...settings() });
            let err = "";
            await stack.preview({ color: "never" }).catch(e => { err = String(e.message); });
            assert.match(err, /invalid acknowledgeDockerSocketPods: these pods mount Docker's socket .*apps\/ci-runner \(node none, \/var\/run\/docker\.sock\)/);
            await stack.setConfig("containerd-node:acknowledgeDockerSocketPods", { value: "true" });
            await stack.preview({ color: "never" });
        } finally {
            kubectl("-n", "apps", "delete", "pod", "ci-runner", "--wait=false");
        }
    });

    it("with the config fixed, a rerun converts the node", async () => {
        await stackC.setConfig("containerd-node:config", { value: JSON.stringify(settings().config) });
        const res = await stackC.up({ color: "never" });
        assert.ok((res.summary.resourceChanges as any).replace >= 1, "the drain ran again (the rollback had lifted its cordon)");
        assert.match(res.stdout, /evicting pod apps\/solo-/);
        assert.strictEqual(res.outputs.runtimes.value[NODES.c].after, `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.c, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.c, ".spec.unschedulable"), "");
    });

    it("with a failure budget, a failed node is put back and the rollout goes on; the run fails naming it; a rerun retries only it", async () => {
        const { d, e } = BUDGET_NODES;
        for (const n of [d, e]) {
            nodeUp(n, SSH_PORT[n]);
            lab("kubelet-join.sh", n, String(KUBELET_PORT[n]));
        }
        kubectl("-n", "apps", "rollout", "status", "daemonset/agent", "--timeout=180s");
        const flagsBefore = kubeadmFlags(d);
        // d first, and it can't become Ready on containerd (no CNI config where containerd looks).
        const broken = { ...settings().config, cniConfDir: "/etc/cni/none" };
        const nodes = (dOverrides?: object) => [{ ...labNode(d), order: 1, overrides: dOverrides }, { ...labNode(e), order: 2 }];
        const stack = await labStack("k8s-budget", {
            ...settings({ verifyTimeoutSeconds: 40 }), nodes: nodes({ config: broken }), maxUnavailable: 1, failureBudget: 1,
        });
        const err = await upExpectingFailure(stack);
        assert.match(err, /1 of 2 nodes failed within the failure budget of 1: k8s-d \(switch \d{4}-\d\d-\d\dT[\d:]+Z\)/);
        assert.match(err, /step 'switch' failed during 'waiting for node k8s-d to be Ready on containerd \(40s\)'/);
        // d: put back on Docker, Ready and schedulable, the failure recorded on its Node.
        assert.match(jp(d, ".status.nodeInfo.containerRuntimeVersion"), /^docker:\/\//);
        assert.strictEqual(jp(d, '.status.conditions[?(@.type=="Ready")].status'), "True");
        assert.strictEqual(jp(d, ".spec.unschedulable"), "");
        assert.strictEqual(kubeadmFlags(d), flagsBefore, "kubelet flags restored");
        assert.match(jp(d, ".metadata.annotations.containerd-node\\.pulumi\\.com/last-failure"), /^switch /);
        assert.strictEqual(jp(d, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "rolled-back");
        // e: the rollout went on past the failure.
        assert.strictEqual(jp(e, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(e, ".spec.unschedulable"), "");
        assert.strictEqual(jp(e, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "converted");

        // Fixed: the preview retries d's steps after its pre-flight and configure, and nothing of e's.
        await stack.setConfig("containerd-node:nodes", { value: JSON.stringify(nodes()) });
        // A replacement shows as several events (create-replacement, replace, delete-replaced).
        const ops: { [name: string]: string[] } = {};
        await stack.preview({ color: "never", onEvent: ev => {
            const m = ev.resourcePreEvent?.metadata;
            if (m) {
                (ops[m.urn.split("::").pop()!] ??= []).push(m.op);
            }
        } });
        const opsOf = (name: string) => (ops[name] ?? ["same"]).filter(op => op !== "same");
        for (const step of ["drain", "switch", "verify", "gate"]) {
            assert.ok(opsOf(`${d}-${step}`).includes("replace"), `${d}-${step} is retried: ${opsOf(`${d}-${step}`)}`);
            assert.deepStrictEqual(opsOf(`${e}-${step}`), [], `${e}-${step} is not`);
        }
        assert.deepStrictEqual(opsOf(`${d}-preflight`), [], "the pre-flight is not run again");
        assert.deepStrictEqual(opsOf(`${d}-configure`), ["update"], "configure writes the fixed config");
        const res = await stack.up({ color: "never" });
        assert.strictEqual(jp(d, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(d, ".spec.unschedulable"), "");
        const rows = Object.fromEntries((res.outputs.table.value as any[]).map(r => [r.node, r.result]));
        assert.deepStrictEqual(rows, { [d]: "converted", [e]: "converted" });
        const again = await stack.up({ color: "never" });
        assert.deepStrictEqual(changes(again.summary.resourceChanges), {}, "a third up changes nothing");
    });
    it("an SSH session cut while the kubelet is stopped: the node comes back Ready on containerd by itself; the rerun uncordons it (kubeconfig given as content)", async () => {
        const n = CUT_NODE;
        nodeUp(n, SSH_PORT[n]);
        lab("kubelet-join.sh", n, String(KUBELET_PORT[n]));
        kubectl("-n", "apps", "rollout", "status", "daemonset/agent", "--timeout=180s");
        // The kubeconfig as content (a secret, as a provisioning program has it), not a path.
        const admin = fs.readFileSync(ADMIN, "utf8");
        const clientKey = /client-key-data: (\S+)/.exec(admin)![1].slice(0, 60);
        const tmpBefore = kubeconfigFiles();
        const stack = await labStack("k8s-cut", { nodes: [labNode(n)], ...settings({ kubeconfig: undefined, kubeconfigContent: admin }) });
        const cutter = cutAt(n, "switch", "stopping the kubelet");
        let cutOut = "";
        cutter.stdout!.on("data", d => { cutOut += d; });
        const cutterDone = new Promise(r => cutter.on("close", r));
        await upExpectingFailure(stack);
        await cutterDone;
        assert.match(cutOut, /cut/, "the session was cut while the kubelet was stopped");
        // Before any rerun: the switch went on on the node, the kubelet runs on containerd.
        settled(n);
        assert.strictEqual(jp(n, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(n, '.status.conditions[?(@.type=="Ready")].status'), "True");
        assert.strictEqual(jp(n, ".spec.unschedulable"), "true", "still cordoned: the verify step that uncordons did not run");
        const t0 = Date.now();
        const res = await stack.up({ color: "never" });
        const seconds = (Date.now() - t0) / 1000;
        // The cut session's follower may have filed the result itself before it died: then the
        // switch runs again and finds nothing left to do.
        assert.match(res.stdout, /\[switch\] (found this step's run on the node, finished while no one followed it: its result|the kubelet's flags and Docker's state are already as declared: nothing restarted)/);
        assert.strictEqual(jp(n, ".spec.unschedulable"), "", "uncordoned by the rerun");
        assert.strictEqual(jp(n, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "converted");
        const third = await stack.up({ color: "never" });
        assert.deepStrictEqual(changes(third.summary.resourceChanges as any), {});
        for (const text of [res.stdout, res.stderr, third.stdout, stateText(stack)]) {
            assert.ok(!text.includes(clientKey), "the kubeconfig's key is in no output and only encrypted in the state");
        }
        assert.deepStrictEqual(kubeconfigFiles(), tmpBefore, "every step removed its kubeconfig file");
        console.log(`      SSH cut | switch, "stopping the kubelet" (Kubernetes mode; node then: Ready on containerd, cordoned) | 0 | 0 | ${seconds.toFixed(1)} s`);
    });
});
