/**
 * End to end with a real control plane and real kubelets on Docker (dockershim) in the lab nodes,
 * each test booting nodes of its own: a fleet in two stacks run as one rollout (upFleetStacks)
 * with one failure budget, whose first node fails its switch (put back, the rollout goes on into
 * the next stack, a rerun retries only it), and an SSH session cut while the kubelet is stopped
 * (the node comes back on containerd by itself, the rerun uncordons it).
 *
 * The cluster carries only the `apps` namespace and the `agent` DaemonSet: the drains leave its
 * pods, and the health gate waits for them to run again on containerd. The web Deployment of
 * k8s.e2e.ts is left out: applied before these nodes join, its pods would land on them, and
 * their drains would evict them.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { automationStack, formatFleetStacks, upFleetStacks } from "../../components";
import { LOCAL_LIB, LOCAL_LIB_FILE } from "../../components/scripts/localLib";
import { artifacts, ARTIFACT_PORT, changes, checkpointResources, cutAt, labNode, labStack, nodeDown, nodeUp, REPO, settled, stateText, upExpectingFailure } from "./lab";
import { ADMIN, AGENT, apply, jp, KUBELET_PORT, kubeadmFlags, kubeconfigFiles, kubectl, lab, NAMESPACE, settings, SSH_PORT } from "./k8sLab";

const A = artifacts();
/** Booted by the failure-budget test only. */
const BUDGET_NODES = { d: "k8s-d", e: "k8s-e" };
/** Booted by the interruption test only. */
const CUT_NODE = "k8s-f";

describe("e2e: Kubernetes — a failure budget and an interrupted switch on a real cluster", function () {
    this.timeout(40 * 60 * 1000);

    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("cluster-up.sh");
        apply([NAMESPACE, AGENT].join("---"));
    });
    after(() => {
        for (const n of [...Object.values(BUDGET_NODES), CUT_NODE]) {
            nodeDown(n);
        }
        lab("cluster-down.sh");
    });

    it("one failure budget across two stacks (upFleetStacks): the failed node is put back, its stack fails within the budget, the next stack goes on with what is left; a rerun retries only it", async () => {
        const { d, e } = BUDGET_NODES;
        for (const n of [d, e]) {
            nodeUp(n, SSH_PORT[n]);
            lab("kubelet-join.sh", n, String(KUBELET_PORT[n]));
        }
        kubectl("-n", "apps", "rollout", "status", "daemonset/agent", "--timeout=180s");
        const flagsBefore = kubeadmFlags(d);
        // d's stack first, and d can't become Ready on containerd (no CNI config where containerd looks).
        const broken = { ...settings().config, cniConfDir: "/etc/cni/none" };
        const nodeD = (overrides?: object) => [{ ...labNode(d), overrides }];
        const stackD = await labStack("k8s-budget-d", { ...settings({ verifyTimeoutSeconds: 40 }), nodes: nodeD({ config: broken }) });
        const stackE = await labStack("k8s-budget-e", { ...settings({ verifyTimeoutSeconds: 40 }), nodes: [labNode(e)] });
        const run = () => upFleetStacks({ stacks: [automationStack(stackD), automationStack(stackE)], maxUnavailable: 1, failureBudget: 1 });
        const first = await run();
        console.log(formatFleetStacks(first).replace(/^/gm, "      "));
        assert.ok(!first.ok);
        assert.deepStrictEqual(first.stacks.map(x => [x.stack, x.outcome, x.failedNodes]), [["k8s-budget-d", "failed within the budget", 1], ["k8s-budget-e", "updated", 0]], JSON.stringify(first.stacks));
        assert.match(first.stacks[0].error!, /1 of 1 nodes failed within the failure budget of 1: k8s-d \(switch \d{4}-\d\d-\d\dT[\d:]+Z\)/);
        assert.match(first.stacks[0].error!, /step 'switch' failed during 'waiting for node k8s-d to be Ready on containerd \(40s\)'/);
        // e's stack ran with what d's left of the one budget, still counting failures.
        assert.deepStrictEqual([(await stackE.getConfig("failureBudget")).value, (await stackE.getConfig("absorbFailures")).value], ["0", "true"]);
        assert.deepStrictEqual(first.table.map(r => [r.stack, r.node, r.result]), [["k8s-budget-d", d, "failed"], ["k8s-budget-e", e, "converted"]]);
        // d: put back on Docker, Ready and schedulable, the failure recorded on its Node.
        assert.match(jp(d, ".status.nodeInfo.containerRuntimeVersion"), /^docker:\/\//);
        assert.strictEqual(jp(d, '.status.conditions[?(@.type=="Ready")].status'), "True");
        assert.strictEqual(jp(d, ".spec.unschedulable"), "");
        assert.strictEqual(kubeadmFlags(d), flagsBefore, "kubelet flags restored");
        assert.match(jp(d, ".metadata.annotations.containerd-node\\.pulumi\\.com/last-failure"), /^switch /);
        assert.strictEqual(jp(d, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "rolled-back");
        // e: the rollout went on past the failure, into the next stack.
        assert.strictEqual(jp(e, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(e, ".spec.unschedulable"), "");
        assert.strictEqual(jp(e, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "converted");

        // Fixed: d's preview retries its steps after the configure (a replacement shows as several
        // events: create-replacement, replace, delete-replaced), and e's stack changes nothing.
        await stackD.setConfig("containerd-node:nodes", { value: JSON.stringify(nodeD()) });
        const ops: { [name: string]: string[] } = {};
        await stackD.preview({ color: "never", onEvent: ev => {
            const m = ev.resourcePreEvent?.metadata;
            if (m) {
                (ops[m.urn.split("::").pop()!] ??= []).push(m.op);
            }
        } });
        const opsOf = (name: string) => (ops[name] ?? ["same"]).filter(op => op !== "same");
        // The wave's drain is triggered by the Node's retry mark, and the node's switch.
        for (const step of ["fleet-wave-1-drain", `${d}-switch`]) {
            assert.ok(opsOf(step).includes("replace"), `${step} is retried: ${opsOf(step)}`);
        }
        // Its wave's verify step names the Node's retry mark (and the drain), so it verifies the node again.
        assert.deepStrictEqual(opsOf("fleet-wave-1"), ["update"], "the wave's step runs again");
        assert.deepStrictEqual(opsOf(`${d}-configure`), ["update"], "configure writes the fixed config");
        const second = await run();
        console.log(formatFleetStacks(second).replace(/^/gm, "      "));
        assert.ok(second.ok, JSON.stringify(second.stacks));
        assert.deepStrictEqual(second.stacks.map(x => [x.stack, x.outcome]), [["k8s-budget-d", "updated"], ["k8s-budget-e", "unchanged"]], JSON.stringify(second.stacks));
        assert.strictEqual(second.stacks[1].changes, 0, "e's stack, converted with no budget left, is unchanged with the whole budget");
        assert.strictEqual(jp(d, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(jp(d, ".spec.unschedulable"), "");
        assert.deepStrictEqual(second.table.map(r => [r.node, r.result]), [[d, "converted"], [e, "converted"]]);
        const third = await run();
        assert.deepStrictEqual(third.stacks.map(x => [x.stack, x.outcome, x.changes]), [["k8s-budget-d", "unchanged", 0], ["k8s-budget-e", "unchanged", 0]], `a third run changes nothing: ${JSON.stringify(third.stacks)}`);
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
        assert.strictEqual(jp(n, ".spec.unschedulable"), "true", "still cordoned: the wave's step that verifies and uncordons did not run");
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
        // The kubectl steps hold the slot of the program's file, not the content (once a secret on each step's stdin, twice).
        const kubectlSteps = checkpointResources(stack).filter(r => /-(drain|wave-1)$/.test(r.urn));
        assert.strictEqual(kubectlSteps.length, 2);
        for (const r of kubectlSteps) {
            assert.strictEqual(r.inputs.stdin, undefined, r.urn);
            assert.match(r.inputs.environment.CN_KUBECONFIG_SLOT, /^[0-9a-f]{16}$/, r.urn);
            // Values and a call: the library (components/node/kubectl.sh) is a file of the run, not in the step.
            assert.ok(r.inputs.create.includes(LOCAL_LIB_FILE) && r.inputs.create.length < 900, `${r.urn}: ${r.inputs.create.length} bytes`);
        }
        assert.strictEqual(fs.readFileSync(path.join(os.tmpdir(), `containerd-node-${process.getuid!()}`, LOCAL_LIB_FILE), "utf8"), LOCAL_LIB);
        console.log(`      SSH cut | switch, "stopping the kubelet" (Kubernetes mode; node then: Ready on containerd, cordoned) | 0 | 0 | ${seconds.toFixed(1)} s`);
    });
});
