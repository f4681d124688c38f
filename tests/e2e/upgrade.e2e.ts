/**
 * End to end: nodes already on containerd 1.7 (lab/node-17.sh: an installer's schema 2 config
 * with mirrors, a registry password and a second runtime handler; kubelet 1.33 joined to a real
 * control plane) move to 2.3 in place through `pulumi up`: the pre-flight refuses what would be
 * lost, a major move drains, a patch move restarts in place, a 2.x that fails goes back to 1.7,
 * and one fleet converges Docker, 1.7 and 2.x nodes (one of the 1.7 nodes keeps its CRI settings
 * and a GPU-style runtime handler in a version 2 drop-in its root config imports).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { Stack } from "@pulumi/pulumi/automation";
import {
    artifacts, ARTIFACT_PORT, changes, drainLog, durations, KUBECTL, labNode, labStack, LAB_DIR, LAB_DOCKER_DROPPED, LAB_DOCKER_RUNTIMES, LAB_KUBELET, LAB_PLAIN_REGISTRY, LAB_TLS_IMAGE, LAB_TLS_REGISTRY, LAB17_CARRIED, LAB17_MIRROR, LAB17_REGISTRY_PASSWORD,
    nodeDown, onNode, privateKey, REPO, stateText, upChangesNothing, upExpectingFailure,
} from "./lab";

const A = artifacts();
const ADMIN = path.join(LAB_DIR, "cluster", "admin.conf");
/** u1: the drain, the patch move; u2: the failed move; m1/m2/m3: the mixed fleet (Docker, 1.7 tarball, 1.6 package). */
const SSH_PORT: { [n: string]: number } = { "up-u1": 2251, "up-u2": 2252, "up-m1": 2253, "up-m2": 2254, "up-m3": 2255 };
const KUBELET_PORT: { [n: string]: number } = { "up-u1": 10380, "up-u2": 10382, "up-m1": 10384, "up-m2": 10386, "up-m3": 10388 };
const [U1, U2, M1, M2, M3] = Object.keys(SSH_PORT);
const PASSWORD = LAB17_REGISTRY_PASSWORD;
const MIRROR = LAB17_MIRROR;

const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });
const jp = (node: string, p: string) => kubectl("get", "node", node, "-o", `jsonpath={${p}}`);
const lab = (script: string, ...args: string[]) =>
    execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR, REGISTRY_PASSWORD: PASSWORD } });
/**
 * A 1.x node (lab/node-17.sh); `env` picks its variant: CONTAINERD_INSTALL=package, Debian's
 * containerd package (1.6) as a distribution install leaves it; CONTAINERD_LAYOUT=dropin, a root
 * config that imports conf.d/*.toml, with a version 2 drop-in holding a GPU-style runtime handler.
 */
const node17 = (name: string, env: { [k: string]: string }) => execFileSync(path.join(REPO, "lab", "node-17.sh"), [name, String(SSH_PORT[name]), String(KUBELET_PORT[name])],
    { stdio: "inherit", env: { ...process.env, LAB_DIR, REGISTRY_PASSWORD: PASSWORD, ...env } });
/** Where the drop-in layout's root config imports from, and its GPU-style drop-in. */
const CONF_D = "/etc/containerd/conf.d/*.toml";
const GPU_DROP_IN = "/etc/containerd/conf.d/99-lab-gpu.toml";
const apply = (yaml: string) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN, "apply", "-f", "-"], { input: yaml, stdio: ["pipe", "inherit", "inherit"] });
const tarball = (v: string, file: string, sha256: string) =>
    ({ version: v, source: { kind: "tarball", url: `http://127.0.0.1:${ARTIFACT_PORT}/${file}`, sha256 }, runc: { url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.RUNC_FILE}`, sha256: A.RUNC_SHA256 } });
const C236 = tarball(A.CONTAINERD236_VERSION, A.CONTAINERD236_FILE, A.CONTAINERD236_SHA256);
const C237 = tarball(A.CONTAINERD23_VERSION, A.CONTAINERD23_FILE, A.CONTAINERD23_SHA256);

const CARRIED = LAB17_CARRIED;
/** The legacy runtime the refusal test adds to u1's config (a removed v1 shim). */
const LEGACY = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.legacy`;

const settings = (over: { [k: string]: unknown } = {}) => ({
    privateKey: privateKey(),
    kubeconfig: ADMIN,
    kubectl: KUBECTL,
    containerd: C236,
    config: CARRIED,
    registryAuth: { "registry.lab.internal": { username: "lab", password: PASSWORD } },
    kubelet: { version: "1.33.13" },
    // The PodDisruptionBudget paces a drain of u2 (both web pods there after u1's move): the second
    // pod is evicted only once the first one's replacement is Ready on u1, which on a loaded machine
    // takes longer than on an idle one.
    drain: { timeoutSeconds: 300, gracePeriodSeconds: 1 },
    verifyTimeoutSeconds: 120,
    ...over,
});

/** Every file an upgrade may touch, with its checksum (or "absent"), and the containerd binary's version. */
function fileState(node: string): string {
    return onNode(node, `for p in /etc/containerd /etc/systemd/system/containerd.service /etc/crictl.yaml /usr/local/bin /usr/local/sbin \
/var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env /etc/systemd/system/kubelet.service.d; do
  if [ -e "$p" ]; then find "$p" -type f -exec sha256sum {} + | sort -k2; else echo "absent $p"; fi
done; containerd --version | awk '{print $3}'`);
}

const images = (node: string) => onNode(node, "ctr -n k8s.io images ls -q").trim().split("\n").filter(Boolean).sort();
const ready = (node: string) => jp(node, '.status.conditions[?(@.type=="Ready")].status');

/** The PID and restart count of a pod's first container, as the node and the API report them. */
function containerOf(ns: string, pod: string): { pid: string; restarts: string; id: string } {
    const id = kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].containerID}").replace(/^containerd:\/\//, "");
    const node = kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}");
    const pid = onNode(node, `crictl inspect -o go-template --template '{{.info.pid}}' ${id}`).trim();
    return { id, pid, restarts: kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}") };
}

/** Pulls the lab registry's image (mutual TLS: only with its CA and a client key pair) through the CRI, from nothing. */
function pullOverTls(node: string): string {
    onNode(node, `crictl rmi ${LAB_TLS_IMAGE} >/dev/null 2>&1 || true`);
    return onNode(node, `crictl pull ${LAB_TLS_IMAGE} 2>&1`);
}

const podOn = (node: string, selector: string) =>
    kubectl("get", "pods", "-A", "-l", selector, "--field-selector", `spec.nodeName=${node}`, "-o", "jsonpath={.items[*].metadata.name}").split(/\s+/).filter(Boolean);


const WORKLOADS = (node: string) => `
apiVersion: v1
kind: Namespace
metadata: {name: up}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: up}
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
      - {name: web, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: up}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: up}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      nodeSelector: {kubernetes.io/hostname: ${node}}
      containers:
      - {name: agent, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
`;

/** A pod on a second runtime handler (by default RuntimeClass runc-alt), pinned to `node`. */
const ALT = (node: string, name: string, runtimeClass = "runc-alt") => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: up}
spec:
  nodeName: ${node}
  runtimeClassName: ${runtimeClass}
  hostNetwork: true
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - {name: alt, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
`;

describe("e2e: containerd 1.7 → 2.x in place, on nodes joined to a real cluster", function () {
    this.timeout(40 * 60 * 1000);

    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("cluster-up.sh");
        for (const n of [U1, U2]) {
            lab("node-17.sh", n, String(SSH_PORT[n]), String(KUBELET_PORT[n]));
        }
        // Both web pods on u1 (u2 cordoned while they are placed); the agent runs on u1 only.
        kubectl("cordon", U2);
        apply(WORKLOADS(U1));
        kubectl("-n", "up", "rollout", "status", "deployment/web", "--timeout=180s");
        kubectl("-n", "up", "rollout", "status", "daemonset/agent", "--timeout=180s");
        kubectl("uncordon", U2);
        assert.strictEqual(podOn(U1, "app=web").length, 2);
    });
    after(() => {
        for (const n of Object.keys(SSH_PORT)) {
            nodeDown(n);
        }
        lab("cluster-down.sh");
    });

    it("the nodes start on containerd 1.7 with an installer's schema 2 config", () => {
        // The lab registry takes no client without a certificate of its CA: a pull needs the key pair.
        const pki = (f: string) => path.join(LAB_DIR, "cluster", "pki", f);
        const curl = (...extra: string[]) => spawnSync("curl", ["-fsS", "--resolve", `${LAB_TLS_REGISTRY}:127.0.0.1`, "--cacert", pki("ca.crt"),
            ...extra, `https://${LAB_TLS_REGISTRY}/v2/`], { encoding: "utf8" });
        assert.notStrictEqual(curl().status, 0, "refused without a client certificate");
        assert.strictEqual(curl("--cert", pki("registry-client.crt"), "--key", pki("registry-client.key")).status, 0);
        for (const n of [U1, U2]) {
            assert.strictEqual(jp(n, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD17_VERSION}`);
            assert.match(onNode(n, "cat /etc/containerd/config.toml"), /^version = 2$[\s\S]*registry\.mirrors\."docker\.io"\]/m);
            assert.match(pullOverTls(n), /Image is up to date for sha256:/, "1.7 reaches the registry with the config's tls files");
        }
    });

    it("the pre-flight refuses a hand-made setting and a removed shim, naming node, key and value, the password never shown; nothing on any node changes", async () => {
        // A legacy handler on the removed io.containerd.runc.v1 shim, as old installs have.
        onNode(U1, `cat >>/etc/containerd/config.toml <<'EOF'
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.legacy]
          runtime_type = "io.containerd.runc.v1"
EOF
systemctl restart containerd`);
        const before = { [U1]: fileState(U1), [U2]: fileState(U2) };
        const pid = (n: string) => onNode(n, "systemctl show -p MainPID --value containerd").trim();
        const pids = { [U1]: pid(U1), [U2]: pid(U2) };
        // No carrying inputs at all, only the sandbox image (a typed input) and the cgroup driver.
        const stack = await labStack("up-refused", {
            nodes: [labNode(U1), labNode(U2)], ...settings({ config: { systemdCgroup: false }, registryAuth: undefined }),
        });
        let preview = "";
        try {
            const r = await stack.preview({ color: "never" });
            preview = r.stdout;
            assert.fail("the preview should fail");
        } catch (e) {
            preview = String((e as Error).message);
        }
        // The file named once, its findings under it.
        assert.match(preview, /up-u1: in \/etc\/containerd\/config\.toml:/);
        assert.match(preview, /up-u1: {3}plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.mirrors\."docker\.io"\.endpoint = \["https:\/\/mirror\.lab\.internal","https:\/\/registry-1\.docker\.io"\] would be dropped: set config\.registryMirrors\["docker\.io"\] = \["https:\/\/mirror\.lab\.internal"\]/);
        assert.match(preview, /up-u1: +plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.configs\."registry\.lab\.internal"\.auth\.password = <secret, 19 chars> .*config\.registryAuth\["registry\.lab\.internal"\]\.password \(a secret\)/);
        assert.match(preview, /up-u1: +plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc-alt\.options\.BinaryName = "\/usr\/local\/bin\/lab-runc"/);
        assert.match(preview, /up-u1: .*runtimes\.legacy\.runtime_type = "io\.containerd\.runc\.v1" .*would be dropped: no equivalent .*removed the io\.containerd\.runc\.v1 shim/);
        const tls = `plugins."io.containerd.grpc.v1.cri".registry.configs."${LAB_TLS_REGISTRY}".tls`;
        for (const [key, field, file] of [["ca_file", "caFile", "ca.pem"], ["cert_file", "certFile", "node.crt"], ["key_file", "keyFile", "node.key"]]) {
            assert.ok(preview.includes(`up-u1:   ${tls}.${key} = "/etc/containerd/lab-tls/${file}" would be dropped: ` +
                `set config.registryTls["${LAB_TLS_REGISTRY}"].${field} = "/etc/containerd/lab-tls/${file}", or list it in upgrade.acknowledgeDropped`), `${key}: ${preview}`);
        }
        assert.match(preview, /up-u1: deprecated: .*io\.containerd\.runc\.v1/);
        assert.match(preview, /up-u2: +plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.mirrors\."docker\.io"/, "u2 is judged too");
        assert.ok(!preview.includes(PASSWORD), "the password is never printed");

        const err = await upExpectingFailure(stack);
        assert.match(err, /the pre-flight refuses the run/);
        assert.ok(!err.includes(PASSWORD));
        for (const n of [U1, U2]) {
            assert.strictEqual(fileState(n), before[n], `${n}: no file changed`);
            assert.strictEqual(pid(n), pids[n], `${n}: containerd was not restarted`);
            assert.strictEqual(jp(n, ".spec.unschedulable"), "", `${n}: not cordoned`);
        }
        assert.ok(!stateText(stack).includes(PASSWORD));
    });

    let stack1: Stack;
    it("1.7 → 2.3 with a drain: pods leave and come back, Ready on 2.3, every image kept, the second handler and every setting carried", async () => {
        const imagesBefore = images(U1);
        const agent = podOn(U1, "app=agent")[0];
        const agentBefore = containerOf("up", agent);
        stack1 = await labStack("up-u1", { nodes: [labNode(U1)], ...settings({ upgrade: { acknowledgeDropped: [LEGACY] } }) });

        const preview = await stack1.preview({ color: "never" });
        assert.match(preview.stdout, new RegExp(`up-u1: containerd ${A.CONTAINERD17_VERSION} → ${A.CONTAINERD236_VERSION} \\(drained\\)`));
        assert.match(preview.stdout, /up-u1: drained first: .*changes the major version \(upgrade\.drain "major"\)/);
        assert.match(preview.stdout, /up-u1: .*runtimes\.legacy\.runtime_type = "io\.containerd\.runc\.v1" is dropped, as upgrade\.acknowledgeDropped says/);

        const webBefore = podOn(U1, "app=web");
        const events: any[] = [];
        const res = await stack1.up({ color: "never", onEvent: e => events.push(e) });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.strictEqual(res.outputs.paths.value[U1], `containerd ${A.CONTAINERD17_VERSION} → ${A.CONTAINERD236_VERSION} (drained)`);
        assert.match(res.stdout, new RegExp(`node ${U1} drained in \\d+s: [1-9]\\d* pods? evicted`));
        assert.match(drainLog(U1), /evicting pod up\/web-/);
        assert.match(res.stdout, /containerd moved from major version 1 to 2: the kubelet restarts/);

        assert.strictEqual(jp(U1, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD236_VERSION}`);
        assert.strictEqual(ready(U1), "True");
        assert.strictEqual(jp(U1, ".spec.unschedulable"), "", "uncordoned");
        assert.strictEqual(jp(U1, ".metadata.annotations.containerd-node\\.pulumi\\.com/phase"), "converted");
        // The web pods were evicted (none of the old ones is on u1) and run again.
        kubectl("-n", "up", "rollout", "status", "deployment/web", "--timeout=120s");
        for (const p of webBefore) {
            assert.ok(!podOn(U1, "app=web").includes(p), `${p} left u1`);
        }
        // The DaemonSet's pod is not drained: its container kept running through the move.
        assert.deepStrictEqual(containerOf("up", agent), { ...agentBefore, restarts: agentBefore.restarts });
        // Nothing lost: every image, the second handler, every setting, the credentials (secretly).
        assert.deepStrictEqual(images(U1).filter(i => imagesBefore.includes(i)), imagesBefore);
        apply(ALT(U1, "alt-after"));
        kubectl("-n", "up", "wait", "--for=condition=Ready", "pod/alt-after", "--timeout=90s");
        const dump = onNode(U1, "containerd config dump");
        assert.match(dump, /version = 4/, "2.3's own schema");
        assert.strictEqual(onNode(U1, "grep -m1 '^version' /etc/containerd/config.toml").trim(), "version = 4", "rendered as the schema 2.3 reads natively");
        // The same file as version 3 (what earlier releases rendered for 2.3): 2.3 reads the same settings.
        const v3 = onNode(U1, `sed -e 's/^version = 4$/version = 3/' -e 's/^\\[plugins."io.containerd.server.v1.grpc"\\]$/[grpc]/' /etc/containerd/config.toml >/tmp/v3.toml && grep -q '^\\[grpc\\]$' /tmp/v3.toml && containerd -c /tmp/v3.toml config dump`);
        assert.strictEqual(v3, dump, "containerd 2.3's config dump of the version 3 rendering is the same");
        for (const want of [/sandbox = 'registry\.k8s\.io\/pause:3\.9'|sandbox = "registry\.k8s\.io\/pause:3\.9"/, /runtimes\.runc-alt\.options\][^[]*BinaryName = ['"]\/usr\/local\/bin\/lab-runc['"]/,
            /SystemdCgroup = false/, /restrict_oom_score_adj = true/, /config_path = ['"]\/etc\/containerd\/certs\.d['"]/, /registry\.lab\.internal/]) {
            assert.match(dump, want);
        }
        assert.match(onNode(U1, "cat /etc/containerd/certs.d/docker.io/hosts.toml"), new RegExp(`\\[host\\."${MIRROR.replace(/\./g, "\\.")}"\\]`));
        assert.strictEqual(onNode(U1, "stat -c %a /etc/containerd/containerd-node/registry-auth.toml").trim(), "600");
        // The registry's CA and client key pair, carried into certs.d: 2.3 pulls over mutual TLS.
        assert.deepStrictEqual(TOML.parse(onNode(U1, `cat '/etc/containerd/certs.d/${LAB_TLS_REGISTRY}/hosts.toml'`)), {
            server: `https://${LAB_TLS_REGISTRY}`, ca: "/etc/containerd/lab-tls/ca.pem", client: [["/etc/containerd/lab-tls/node.crt", "/etc/containerd/lab-tls/node.key"]],
        });
        assert.match(pullOverTls(U1), /Image is up to date for sha256:/);
        assert.ok(!res.stdout.includes(PASSWORD) && !stateText(stack1).includes(PASSWORD), "the password is in neither the output nor the state in plain text");
        assert.ok(!onNode(U1, "ls /var/lib/containerd-node").includes("pending"), "the staged move is gone");
        const d = durations(events);
        console.log(`      1.7 → 2.3: drain ${d["fleet-wave-1-drain"]}s (the wave's drain), switch ${d["up-u1-switch"]}s, verify and gate ${d["fleet-wave-1"]}s (the wave's verify), whole run ${d.total}s`);

        const again = await stack1.up({ color: "never" });
        assert.deepStrictEqual(changes(again.summary.resourceChanges as any), {}, "a second pulumi up changes nothing");
    });

    it("a patch move restarts containerd in place: no drain, a running container keeps its PID and restart count", async () => {
        const agent = podOn(U1, "app=agent")[0];
        const before = containerOf("up", agent);
        const alt = containerOf("up", "alt-after");
        const kubeletPid = onNode(U1, "systemctl show -p MainPID --value kubelet").trim();
        await stack1.setConfig("containerd-node:containerd", { value: JSON.stringify(C237) });
        const preview = await stack1.preview({ color: "never" });
        assert.match(preview.stdout, new RegExp(`up-u1: containerd ${A.CONTAINERD236_VERSION} → ${A.CONTAINERD23_VERSION} \\(restarted in place\\)`));
        assert.match(preview.stdout, /up-u1: not drained: .*keeps the major version/);
        const res = await stack1.up({ color: "never" });
        assert.match(res.stdout, /moves from containerd:\/\/2\.3\.6 to containerd 2\.3\.7 in place \(upgrade\.drain major\): not draining/);
        assert.doesNotMatch(res.stdout, /node\/up-u1 cordoned|evicting/);
        assert.strictEqual(jp(U1, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD23_VERSION}`);
        assert.strictEqual(ready(U1), "True");
        assert.deepStrictEqual(containerOf("up", agent), before, "same container, PID and restart count");
        assert.deepStrictEqual(containerOf("up", "alt-after"), alt);
        assert.strictEqual(onNode(U1, "systemctl show -p MainPID --value kubelet").trim(), kubeletPid, "the kubelet was not restarted");
        await upChangesNothing(stack1);
    });

    it("a 2.x whose CRI does not come up is rolled back: 1.7 runs again, Ready, uncordoned, every file as before (kubectl on the node)", async () => {
        // kubectl on the node, as kubeadm's install puts it on every node: the switch then reads
        // and patches its Node through kubectl (the library's node_api_raw) instead of curl, the
        // rollback's marks and uncordon too (they run in the EXIT trap). A wrapper logs each call.
        const root = path.join(LAB_DIR, "nodes", U2);
        execFileSync("install", ["-D", "-m", "0755", KUBECTL, path.join(root, "usr", "local", "lib", "lab-kubectl")]);
        fs.writeFileSync(path.join(root, "usr", "local", "bin", "kubectl"),
            '#!/bin/sh\necho "$*" >>/var/log/lab-kubectl-calls\nexec /usr/local/lib/lab-kubectl "$@"\n', { mode: 0o755 });
        const before = fileState(U2);
        const imagesBefore = images(U2);
        // The CRI plugin of 2.x fails to load on a snapshotter that does not exist (containerd itself starts).
        const broken = { ...CARRIED, extraToml: { plugins: { ...CARRIED.extraToml.plugins, "io.containerd.cri.v1.images": { snapshotter: "no-such-snapshotter" } } } };
        // The pre-flight refuses to drop the live snapshotter: acknowledged, as a person would.
        const ack = { acknowledgeDropped: [`plugins."io.containerd.grpc.v1.cri".containerd.snapshotter`] };
        const stack = await labStack("up-u2", { nodes: [labNode(U2)], ...settings({ containerd: C237, config: broken, upgrade: ack }) });
        const err = await upExpectingFailure(stack);
        assert.match(err, /the CRI plugin is not loaded/);
        assert.match(err, /rolling back step 'switch'/);
        assert.strictEqual(jp(U2, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD17_VERSION}`);
        assert.strictEqual(ready(U2), "True");
        assert.strictEqual(jp(U2, ".spec.unschedulable"), "", "the cordon the drain made is lifted");
        assert.match(jp(U2, ".metadata.annotations"), /containerd-node\.pulumi\.com\/rolled-back/, "the rollback is marked on the Node");
        // Both went through kubectl: the mark and the uncordon are patches of the rollback.
        const calls = onNode(U2, "cat /var/log/lab-kubectl-calls");
        assert.match(calls, /patch node up-u2 --type merge -p \{"metadata":\{"annotations":\{"containerd-node\.pulumi\.com\/rolled-back"/);
        assert.match(calls, /patch node up-u2 --type merge -p \{"spec":\{"unschedulable":null\}/);
        assert.strictEqual(fileState(U2), before, "every file as before");
        assert.deepStrictEqual(images(U2), imagesBefore);
        // 2.3 had run and moved the metadata database to version 4: 1.7 runs on it (docs/upgrading.md, "The way back").
        assert.match(onNode(U2, "journalctl -u containerd --no-pager | grep -c 'starting containerd.*version=v2.3.7' || true"), /^[1-9]/m);

        // Fixed, the same stack moves it.
        await stack.setConfig("containerd-node:config", { value: JSON.stringify(CARRIED) });
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.strictEqual(jp(U2, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD23_VERSION}`);
    });

    it("one fleet converges a Docker node, a 1.7 node (tarball, its CRI settings and a GPU-style handler in a drop-in), a 1.6 node (Debian's package) and a 2.x node; each row says its path", async () => {
        lab("node-up.sh", M1, String(SSH_PORT[M1]));
        lab("kubelet-join.sh", M1, String(KUBELET_PORT[M1]));
        node17(M2, { CONTAINERD_LAYOUT: "dropin" });
        node17(M3, { CONTAINERD_INSTALL: "package" });
        const dropIn = onNode(M2, `cat ${GPU_DROP_IN}`);
        assert.match(dropIn, /^version = 2$/m);
        // The package's own version, as `containerd --version` says it ("1.6.20~ds1").
        const pkg = onNode(M3, "containerd --version | awk '{print $3}'").trim();
        assert.match(pkg, /^1\.6\./);
        // The Docker node has none of the lab registry's TLS files: only the 1.x nodes name them.
        const { registryTls, ...untls } = CARRIED;
        const docker = {
            kubelet: LAB_KUBELET,
            docker: { mode: "disable", migrateImages: true },
            config: { sandboxImage: "k8s.gcr.io/pause:3.2", runtimes: LAB_DOCKER_RUNTIMES, insecureRegistries: [LAB_PLAIN_REGISTRY] },
            // Its Docker's default runtime, lab-runc (lab/kubelet-join.sh): restrict_oom_score_adj does its job under containerd.
            upgrade: { acknowledgeDropped: LAB_DOCKER_DROPPED },
        };
        const tlsFiles = { overrides: { config: { registryTls } } };
        // m2's config goes on importing its drop-ins, as a GPU toolkit's handler needs.
        const importing = { overrides: { config: { registryTls, imports: [CONF_D] } } };
        const stack = await labStack("up-mixed", {
            nodes: [{ ...labNode(M1), overrides: docker }, { ...labNode(M2), ...importing }, { ...labNode(M3), ...tlsFiles }, { ...labNode(U1), ...tlsFiles }],
            ...settings({ containerd: C237, config: untls }),
        });
        const preview = await stack.preview({ color: "never" });
        assert.match(preview.stdout, /up-m1: docker:\/\/20\.10\.24\+dfsg1 → containerd/);
        assert.match(preview.stdout, /up-m1:   docker:runtimes\.lab-runc = \{"path":"\/usr\/local\/bin\/lab-runc"\} carried: config\.runtimes\["lab-runc"\]\.runtimeType = "io\.containerd\.runc\.v2" and config\.runtimes\["lab-runc"\]\.options\.BinaryName = "\/usr\/local\/bin\/lab-runc"/);
        assert.match(preview.stdout, /up-m1:   docker:default-runtime = "lab-runc" is dropped, as upgrade\.acknowledgeDropped says/);
        assert.match(preview.stdout, new RegExp(`up-m2: containerd ${A.CONTAINERD17_VERSION} → ${A.CONTAINERD23_VERSION} \\(drained\\)`));
        assert.match(preview.stdout, new RegExp(`up-u1: already on containerd ${A.CONTAINERD23_VERSION}`));
        assert.ok(preview.stdout.includes(`up-m3: containerd ${pkg} → ${A.CONTAINERD23_VERSION} (drained)`), preview.stdout);
        // The pre-flight reports the drop-in directory kept and the drop-in's version against the rendered root's.
        assert.ok(preview.stdout.includes(`up-m2: imports "${CONF_D}" (holding ${GPU_DROP_IN}) kept: config.imports lists it`), preview.stdout);
        assert.ok(preview.stdout.includes(`up-m2: drop-in ${GPU_DROP_IN} kept: version 2 under the rendered version 4 root: containerd ${A.CONTAINERD23_VERSION} migrates it in memory at every start`), preview.stdout);
        const res = await stack.up({ color: "never" });
        const rows = Object.fromEntries((res.outputs.table.value as any[]).map(r => [r.node, r]));
        assert.strictEqual(rows[M1].path, "docker://20.10.24+dfsg1 → containerd");
        assert.strictEqual(rows[M2].path, `containerd ${A.CONTAINERD17_VERSION} → ${A.CONTAINERD23_VERSION} (drained)`);
        assert.strictEqual(rows[U1].path, `already on containerd ${A.CONTAINERD23_VERSION}`);
        assert.strictEqual(rows[M3].path, `containerd ${pkg} → ${A.CONTAINERD23_VERSION} (drained)`);
        // The package stays installed; the tarball's binaries and unit (in /usr/local, /etc) take over.
        assert.match(onNode(M3, "dpkg-query -W -f '${Status}' containerd"), /install ok installed/);
        assert.match(onNode(M3, "systemctl show -p ExecStart --value containerd"), /\/usr\/local\/bin\/containerd/);
        for (const n of [M1, M2, M3, U1]) {
            assert.strictEqual(jp(n, ".status.nodeInfo.containerRuntimeVersion"), `containerd://${A.CONTAINERD23_VERSION}`, n);
            assert.strictEqual(ready(n), "True", n);
        }
        // m2 on 2.3: the rendered root imports conf.d, the drop-in is as it was, 2.3's config dump
        // holds its handler, and a pod on that handler's RuntimeClass runs through its runtime.
        assert.match(onNode(M2, "cat /etc/containerd/config.toml"), new RegExp(`^imports = \\[[^\\]]*"${CONF_D.replace(/[.*/]/g, "\\$&")}"`, "m"));
        assert.strictEqual(onNode(M2, `cat ${GPU_DROP_IN}`), dropIn, "the drop-in is left as it was");
        assert.match(onNode(M2, "containerd config dump"), /runtimes\.lab-gpu\.options\][^[]*BinaryName = ['"]\/usr\/local\/bin\/lab-gpu-runc['"]/);
        apply(ALT(M2, "gpu-after", "lab-gpu"));
        kubectl("-n", "up", "wait", "--for=condition=Ready", "pod/gpu-after", "--timeout=90s");
        const gpu = containerOf("up", "gpu-after");
        assert.match(onNode(M2, "cat /var/log/lab-gpu-runc.log"), new RegExp(`create .*${gpu.id}`), "the container was created by the drop-in handler's runtime");
        await upChangesNothing(stack);
    });
});
