/**
 * End to end with a real control plane (etcd, kube-apiserver, controller-manager, scheduler) and
 * real kubelets on Docker (dockershim) in the lab nodes: `pulumi up` cordons, drains, switches the
 * kubelet to containerd, verifies and uncordons; failures put the node back. (A failure budget and
 * an SSH session cut while the kubelet is stopped: k8s-budget.e2e.ts.)
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { artifacts, ARTIFACT_PORT, changes, drainLog, durations, LAB_DIR, LAB_PLAIN_REGISTRY, labNode, labStack, nodeDown, nodeUp, onNode, REPO, upExpectingFailure } from "./lab";
import { apply, jp, KUBELET_PORT, kubeadmFlags, kubectl, kubectlAsync, lab, podsOn, settings, SSH_PORT, WORKLOADS } from "./k8sLab";

const A = artifacts();
const NODES = { a: "k8s-a", b: "k8s-b", c: "k8s-c" };
const SOCKET = "unix:///run/containerd/containerd.sock";

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

/**
 * A pod in `apps` on node a, on the host's network and stopped at once, whose one container (of
 * the pod's name) runs `command` (by default it sleeps) from `image` (by default the lab's busybox,
 * never pulled), through `runtimeClass` when given.
 */
function podOnA(p: { name: string; image?: string; pull?: "Never" | "Always"; command?: string[]; runtimeClass?: string }): string {
    return `
apiVersion: v1
kind: Pod
metadata: {name: ${p.name}, namespace: apps}
spec:
  nodeName: ${NODES.a}
${p.runtimeClass ? `  runtimeClassName: ${p.runtimeClass}\n` : ""}  hostNetwork: true
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - {name: ${p.name}, image: ${JSON.stringify(p.image ?? "lab/busybox:1")}, imagePullPolicy: ${p.pull ?? "Never"}, command: ${JSON.stringify(p.command ?? ["/bin/busybox", "sleep", "1000000"])}}
`;
}

describe("e2e: Kubernetes — drain, switch the kubelet, verify and uncordon on a real cluster", function () {
    this.timeout(40 * 60 * 1000);

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
        for (const n of Object.values(NODES)) {
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
        // kubectl's lines are in the drain's log, which the step names; the step says how many pods it evicted.
        assert.match(res.stdout, new RegExp(`draining node ${NODES.a} \\(kubectl's output: .*/drain-${NODES.a}\\.log\\)`));
        assert.match(res.stdout, new RegExp(`node ${NODES.a} drained in \\d+s: 2 pods evicted`));
        assert.doesNotMatch(res.stdout, /evicting pod/, "kubectl's own lines are not in the step's output (the state keeps it)");
        const log = drainLog(NODES.a);
        assert.match(log, /evicting pod apps\/web-/);
        assert.doesNotMatch(log, /evicting pod apps\/agent-/, "DaemonSet pods are ignored");

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
        console.log(`      node conversion: drain ${d["fleet-wave-1-drain"]}s (the wave's drain), switch ${d["k8s-a-switch"]}s, verify and gate ${d["fleet-wave-1"]}s (the wave's verify), whole run ${d.total}s`);
    });

    it("container logs rotate at the size and count Docker's json-file had (log-opts 1m × 3, carried to the kubelet)", async () => {
        const config = onNode(NODES.a, "cat /var/lib/kubelet/config.yaml");
        assert.match(config, /^containerLogMaxSize: 1M$/m);
        assert.match(config, /^containerLogMaxFiles: 3$/m);
        // About 3.6 MB of output: rotated at 1M (the kubelet looks every 10 s), at most 3 files kept.
        apply(podOnA({
            name: "logger",
            command: ["/bin/busybox", "sh", "-c", 'i=0; while [ $i -lt 50000 ]; do echo "line $i of a container log that the kubelet rotates: 0123456789"; i=$((i+1)); done; exec /bin/busybox sleep 1000000'],
        }));
        let files: string[] = [];
        const until = Date.now() + 90_000;
        while (Date.now() < until) {
            files = onNode(NODES.a, "ls /var/log/pods/apps_logger_*/logger/ 2>/dev/null || true", true).split(/\s+/).filter(Boolean);
            if (files.some(f => /^0\.log\.\d{8}-\d{6}/.test(f))) {
                break;
            }
            await new Promise(r => setTimeout(r, 3000));
        }
        kubectl("-n", "apps", "delete", "pod", "logger", "--wait=false");
        assert.ok(files.some(f => /^0\.log\.\d{8}-\d{6}/.test(f)), `rotated: ${files.join(" ")}`);
        assert.ok(files.length <= 3, `at most containerLogMaxFiles (3) files: ${files.join(" ")}`);
    });
    it("Docker's second runtime (daemon.json runtimes.lab-runc) is carried: a pod with its RuntimeClass runs through it", async () => {
        assert.match(onNode(NODES.a, "containerd config dump"), /runtimes\.lab-runc\.options\][^[]*BinaryName = ['"]\/usr\/local\/bin\/lab-runc['"]/);
        apply(`
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: lab-runc}
handler: lab-runc
---${podOnA({ name: "second-runtime", runtimeClass: "lab-runc" })}`);
        kubectl("-n", "apps", "wait", "--for=condition=Ready", "pod/second-runtime", "--timeout=90s");
        const id = kubectl("-n", "apps", "get", "pod", "second-runtime", "-o", "jsonpath={.status.containerStatuses[0].containerID}").replace(/^containerd:\/\//, "");
        assert.match(id, /^[0-9a-f]{64}$/);
        // lab-runc logs each call (lab/kubelet-join.sh); containerd's default handler, runc, would not.
        assert.match(onNode(NODES.a, "cat /var/log/lab-runc.log"), new RegExp(`create .*${id}`), "the container was created through the carried handler's binary");
        kubectl("-n", "apps", "delete", "pod", "second-runtime", "--wait=false");
    });
    it("Docker's insecure registry is carried and the kubelet's pull credentials (its config.json) keep working: a pod pulls from it over HTTP", async () => {
        // The registry takes only the credentials in /var/lib/kubelet/config.json (lab/kubelet-join.sh), which the conversion leaves alone.
        assert.match(onNode(NODES.a, "stat -c %a /var/lib/kubelet/config.json"), /^600$/m);
        assert.match(onNode(NODES.a, `cat /etc/containerd/certs.d/${LAB_PLAIN_REGISTRY}/hosts.toml`), new RegExp(`http://${LAB_PLAIN_REGISTRY.replace(/\./g, "\\.")}`));
        const log = path.join(LAB_DIR, "cluster", "plain-registry.log");
        const before = fs.readFileSync(log, "utf8").length;
        apply(podOnA({ name: "from-plain", image: `${LAB_PLAIN_REGISTRY}/lab/plain:1`, pull: "Always" }));
        kubectl("-n", "apps", "wait", "--for=condition=Ready", "pod/from-plain", "--timeout=90s");
        const served = fs.readFileSync(log, "utf8").slice(before);
        assert.match(served, /user lab-puller: "(GET|HEAD) \/v2\/lab\/plain\/manifests\/\S+ HTTP\/1\.1" 200/, served);
        assert.match(served, /user lab-puller: "GET \/v2\/lab\/plain\/blobs\/sha256:[0-9a-f]{64} HTTP\/1\.1" 200/, served);
        assert.match(onNode(NODES.a, "crictl images -o json"), new RegExp(`"${LAB_PLAIN_REGISTRY.replace(/\./g, "\\.")}/lab/plain:1"`));
        kubectl("-n", "apps", "delete", "pod", "from-plain", "--wait=false");
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
        assert.match(res.stdout, new RegExp(`node ${NODES.c} drained in \\d+s: 1 pod evicted`));
        assert.match(drainLog(NODES.c), /evicting pod apps\/solo-/);
        assert.strictEqual(res.outputs.runtimes.value[NODES.c].after, `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.c, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(NODES.c, ".spec.unschedulable"), "");
    });
});
