/**
 * End to end, image builds after Docker (`tools`): a kubelet 1.23 node on Docker in the lab
 * cluster, with no crictl, converted to containerd with BuildKit and crictl installed from their
 * release tarballs (artifacts/build.sh builds both from Go modules); `buildctl` builds an image from
 * a Dockerfile on the node into containerd's `k8s.io` namespace and a pod runs it with
 * `imagePullPolicy: Never`, and again after containerd restarts; a second `pulumi up` changes
 * nothing; a tool's input removed later leaves it installed, and a rerun of the step restarts no
 * unchanged buildkitd; a tarball of another version than declared fails the run, changing nothing.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { artifacts, ARTIFACT_PORT, changes, labNode, labStack, labTools, nodeDown, nodeUp, onNode, REPO, upChangesNothing, upExpectingFailure } from "./lab";
import { apply, jp, kubectl, lab, settings } from "./k8sLab";

const A = artifacts();
const NODE = "bk-1";
const SSH_PORT = 2511;
const KUBELET_PORT = 10410;
const TOOLS = labTools();

/** A pod on the node running the image built there, never pulled. */
const BUILT_POD = `
apiVersion: v1
kind: Pod
metadata: {name: built, namespace: default}
spec:
  nodeName: ${NODE}
  hostNetwork: true
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - {name: built, image: "lab/built:1", imagePullPolicy: Never, command: ["/bin/busybox", "sh", "-c", "cat /etc/built-on; exec /bin/busybox sleep 1000000"]}
`;

/** Builds docker.io/lab/built:1 (or another tag) on the node from a Dockerfile: FROM scratch and the context's own static busybox, nothing pulled. */
const build = (tag: string) => onNode(NODE, `set -e
d=$(mktemp -d); cp /bin/busybox "$d/busybox"; echo "${NODE}" >"$d/built-on"
printf 'FROM scratch\\nCOPY busybox /bin/busybox\\nCOPY built-on /etc/built-on\\n' >"$d/Dockerfile"
buildctl build --frontend dockerfile.v0 --local context="$d" --local dockerfile="$d" --output type=image,name=docker.io/lab/built:${tag},unpack=true 2>&1
rm -rf "$d"`);

const mainPid = () => onNode(NODE, "systemctl show -p MainPID --value buildkit").trim();

describe("e2e: image builds after Docker — BuildKit with containerd's worker in k8s.io, and crictl", function () {
    this.timeout(20 * 60 * 1000);

    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("cluster-up.sh");
        nodeUp(NODE, SSH_PORT);
        lab("kubelet-join.sh", NODE, String(KUBELET_PORT));
        // A node with no crictl (the lab's kubelet join brings one).
        onNode(NODE, "rm -f /usr/local/bin/crictl");
    });
    after(() => {
        nodeDown(NODE);
        lab("cluster-down.sh");
    });

    let stack: Stack;
    it("pulumi up converts the node and installs BuildKit (running, enabled, a containerd worker in k8s.io, no OCI worker) and crictl", async () => {
        assert.strictEqual(onNode(NODE, "command -v crictl buildctl buildkitd || true").trim(), "", "the node has none of them");
        stack = await labStack("bk", { nodes: [labNode(NODE)], ...settings({ tools: TOOLS }) });
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.strictEqual(jp(NODE, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        assert.match(res.stdout, /\[tools\] BuildKit v[\d.]+ is running with containerd's worker in k8s\.io/);

        assert.strictEqual(onNode(NODE, "systemctl is-active buildkit; systemctl is-enabled buildkit"), "active\nenabled\n");
        assert.match(onNode(NODE, "buildkitd --version"), new RegExp(`^buildkitd github\\.com/moby/buildkit v${TOOLS.buildkit.version.replace(/\./g, "\\.")} `));
        const workers = onNode(NODE, "buildctl debug workers --verbose");
        assert.match(workers, /worker\.executor:\s+containerd/);
        assert.match(workers, /worker\.containerd\.namespace:\s+k8s\.io/);
        assert.doesNotMatch(workers, /worker\.executor:\s+oci/, "no OCI worker");
        assert.strictEqual((workers.match(/^ID:/gm) ?? []).length, 1, "one worker");
        assert.strictEqual(onNode(NODE, "command -v crictl").trim(), "/usr/local/bin/crictl");
        assert.match(onNode(NODE, "crictl --version"), new RegExp(`v${TOOLS.crictl.version.replace(/\./g, "\\.")}`));
        assert.match(onNode(NODE, "crictl version"), /RuntimeName:\s+containerd/, "crictl talks to containerd (/etc/crictl.yaml)");
    });

    it("buildctl builds an image from a Dockerfile on the node into k8s.io; a pod runs it with imagePullPolicy Never", async () => {
        const out = build("1");
        assert.match(out, /naming to docker\.io\/lab\/built:1/);
        assert.match(onNode(NODE, "ctr -n k8s.io images ls -q"), /^docker\.io\/lab\/built:1$/m);
        assert.match(onNode(NODE, "crictl images"), /docker\.io\/lab\/built\s+1\s/, "the kubelet's runtime sees it");
        apply(BUILT_POD);
        kubectl("wait", "--for=condition=Ready", "pod/built", "--timeout=120s");
        // Its output, read on the node (the API server can't reach a lab kubelet by its name).
        assert.strictEqual(onNode(NODE, "crictl logs $(crictl ps -q --name built) 2>&1").trim(), NODE);
        assert.match(kubectl("get", "pod", "built", "-o", "jsonpath={.status.containerStatuses[0].imageID}"), /^sha256:[0-9a-f]{64}$/);
        assert.strictEqual(jp(NODE, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
        kubectl("delete", "pod", "built", "--wait=false");
    });

    it("containerd restarted (as a config change restarts it): buildkitd, still running, builds into k8s.io again", () => {
        const pid = mainPid();
        onNode(NODE, "systemctl restart containerd");
        assert.match(build("2"), /naming to docker\.io\/lab\/built:2/);
        assert.match(onNode(NODE, "ctr -n k8s.io images ls -q"), /^docker\.io\/lab\/built:2$/m);
        assert.strictEqual(mainPid(), pid);
    });

    it("a second pulumi up changes nothing, and buildkitd keeps running as it was", async () => {
        const pid = mainPid();
        await upChangesNothing(stack);
        assert.strictEqual(mainPid(), pid);
    });

    it("crictl's input removed: the configure step runs again, leaves crictl installed and does not restart the unchanged buildkitd", async () => {
        const pid = mainPid();
        await stack.setConfig("containerd-node:tools", { value: JSON.stringify({ buildkit: TOOLS.buildkit }) });
        const res = await stack.up({ color: "never" });
        assert.deepStrictEqual(changes(res.summary.resourceChanges as { [op: string]: number }), { update: 1 }, "only the configure step");
        assert.match(res.stdout, /\[tools\] BuildKit unchanged: no restart/);
        assert.strictEqual(mainPid(), pid, "the same buildkitd");
        assert.strictEqual(onNode(NODE, "command -v crictl").trim(), "/usr/local/bin/crictl", "left installed");
    });

    it("a tarball that is not the declared version fails the run naming both, with BuildKit left as it was", async () => {
        const pid = mainPid();
        const files = () => onNode(NODE, "sha256sum /usr/local/bin/buildkitd /usr/local/bin/buildctl /etc/buildkit/buildkitd.toml /etc/systemd/system/buildkit.service");
        const before = files();
        await stack.setConfig("containerd-node:tools", { value: JSON.stringify({ buildkit: { ...TOOLS.buildkit, version: "0.33.0" } }) });
        const err = await upExpectingFailure(stack);
        assert.match(err, new RegExp(`step 'tools' failed during 'fetching BuildKit 0\\.33\\.0': the buildkit tarball holds buildkitd v${TOOLS.buildkit.version.replace(/\./g, "\\.")}, tools\\.buildkit\\.version declares 0\\.33\\.0`));
        assert.strictEqual(files(), before);
        assert.strictEqual(mainPid(), pid);
        assert.strictEqual(jp(NODE, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD2_VERSION}`);
    });
});
