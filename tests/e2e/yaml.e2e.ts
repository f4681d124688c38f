/**
 * End to end: examples/yaml-fleet, a Pulumi YAML program, through the real CLI, the YAML language
 * host (built from github.com/pulumi/pulumi-yaml by scripts/engine/build.sh) and the package's
 * provider plugin as npm ships it (`npm pack`, the tarball installed into a new project, the
 * program's plugin path node_modules/containerd-node/provider, as the README says): two lab nodes
 * converted in host mode, a second up changing nothing, the SSH key and the registry password kept
 * secrets across the provider boundary, and a bad input failing the preview naming the field. And
 * a fleet found in the lab cluster (`discover`, ContainerdFleet.fromCluster in TypeScript),
 * previewed: a Node object with the first node's address, no kubelet needed for a preview.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import {
    ADMIN_KUBECONFIG, ARTIFACT_PORT, changes, KUBECTL, LAB_DIR, checkpointResources, inNode, labContainerd2, labNode, LAB_KUBELET, nodeDown, nodeUp, packAndInstall, privateKey, REPO, stateText,
} from "./lab";

const NODES: { [name: string]: number } = { "y-1": 2501, "y-2": 2502 };
const EXAMPLE = path.join(REPO, "examples", "yaml-fleet");
const PASSWORD = "yaml-registry-s3cret-7f3a";
/** The registry user name (plain text in the program): kept with the password, a secret. */
const USERNAME = "yaml-fleet-puller";
/** A secret value in the state: an object with this key (the engine's signature key) … */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** … set to this (a secret's signature), beside its ciphertext. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Where the installed package's plugin is (set in `before`). */
let pluginDir: string;

/**
 * A copy of the example in a temp dir (its stack files stay out of the repository), its plugin
 * path the installed package's.
 */
function exampleCopy(edit: (text: string) => string = t => t): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-fleet-"));
    const text = fs.readFileSync(path.join(EXAMPLE, "Pulumi.yaml"), "utf8").replace("path: ../../provider", `path: ${pluginDir}`);
    assert.notStrictEqual(text, fs.readFileSync(path.join(EXAMPLE, "Pulumi.yaml"), "utf8"), "the example names the plugin's path");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), edit(text));
    fs.mkdirSync(path.join(dir, ".state"));
    return dir;
}

async function yamlStack(name: string, dir: string): Promise<Stack> {
    const stack = await LocalWorkspace.createStack({ stackName: name, workDir: dir }, {
        envVars: { PULUMI_CONFIG_PASSPHRASE: "lab", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}` },
    });
    const c = labContainerd2();
    const [n1, n2] = Object.keys(NODES).map(labNode);
    const plain: { [k: string]: string } = {
        node1Host: n1.host, node1Port: String(n1.port), node1HostKey: n1.hostKey,
        node2Host: n2.host, node2Port: String(n2.port), node2HostKey: n2.hostKey,
        containerdVersion: c.version, containerdUrl: c.source.url, containerdSha256: c.source.sha256,
        runcUrl: c.runc.url, runcSha256: c.runc.sha256, kubeletVersion: LAB_KUBELET.version,
    };
    await stack.setAllConfig({
        ...Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, { value: v }])),
        sshKey: { value: privateKey(), secret: true },
        registryPassword: { value: PASSWORD, secret: true },
    });
    return stack;
}

const SELECTOR = "containerd-node.test/pool=yaml";

/** A YAML program whose fleet is found in the cluster: the Nodes of SELECTOR, reached on one SSH port. */
const DISCOVER_YAML = (plugin: string, port: number, hostKey: string) => {
    const c = labContainerd2();
    return `name: yaml-discover
runtime: yaml
plugins:
  providers:
    - { name: containerd-node, path: ${plugin} }
config:
  sshKey: { type: string, secret: true }
  kubeconfig: { type: string, secret: true }
resources:
  fleet:
    type: containerd-node:ContainerdFleet
    properties:
      discover:
        selector: ${SELECTOR}
        connection: { port: ${port}, privateKey: "\${sshKey}" }
        hostKeys: { byNode: { y-1: "${hostKey}" } }
      kubernetes:
        kubeconfigContent: \${kubeconfig}
        kubectl: ${KUBECTL}
      settings:
        containerd:
          version: "${c.version}"
          source: { kind: tarball, url: "${c.source.url}", sha256: "${c.source.sha256}" }
        kubelet: { version: ${LAB_KUBELET.version} }
outputs:
  waves: \${fleet.waves}
`;
};

/** A line of the lab key that is not its frame: must show nowhere. */
const keyLine = () => privateKey().split("\n")[1];

describe("e2e: a Pulumi YAML program through the provider plugin", function () {
    this.timeout(20 * 60 * 1000);
    let stack: Stack;
    before(async () => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-package-"));
        packAndInstall(work);
        pluginDir = path.join(work, "app", "node_modules", "containerd-node", "provider");
        assert.ok(fs.statSync(path.join(pluginDir, "pulumi-resource-containerd-node")).mode & 0o100, "the installed plugin entry is executable");
        for (const [n, port] of Object.entries(NODES)) {
            nodeUp(n, port);
        }
        stack = await yamlStack("fleet", exampleCopy());
    });
    after(() => {
        Object.keys(NODES).forEach(nodeDown);
        execFileSync(path.join(REPO, "lab", "cluster-down.sh"), { stdio: "inherit", env: { ...process.env, LAB_DIR } });
    });

    it("a bad input fails the preview naming the field, and nothing runs", async () => {
        const bad = await yamlStack("bad", exampleCopy(t => t.replace("kind: tarball", "kind: tarball\n            path: /tmp/containerd.tar.gz")));
        await assert.rejects(bad.preview({ color: "never" }),
            (e: Error) => /invalid settings\.containerd\.source\.path: not set for kind "tarball"/.test(e.message) && !e.message.includes(keyLine()));
        for (const n of Object.keys(NODES)) {
            assert.strictEqual(inNode(n, "systemctl is-active docker || true").trim(), "active", `${n} still on Docker`);
        }
    });

    it("discover: the preview finds the fleet's Node in the cluster and plans its conversion", async () => {
        execFileSync(path.join(REPO, "lab", "cluster-up.sh"), { stdio: "inherit", env: { ...process.env, LAB_DIR } });
        const n = labNode("y-1");
        // A Node object as a kubelet registers it (its status with it): its address is the node's.
        execFileSync(KUBECTL, ["--kubeconfig", ADMIN_KUBECONFIG, "create", "-f", "-"], {
            input: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "y-1", labels: { [SELECTOR.split("=")[0]]: "yaml" } },
                status: { addresses: [{ type: "InternalIP", address: n.host }] } }),
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-discover-"));
        fs.mkdirSync(path.join(dir, ".state"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), DISCOVER_YAML(pluginDir, n.port, n.hostKey));
        const d = await LocalWorkspace.createStack({ stackName: "discover", workDir: dir }, {
            envVars: { PULUMI_CONFIG_PASSPHRASE: "lab", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}` },
        });
        await d.setAllConfig({ sshKey: { value: privateKey(), secret: true }, kubeconfig: { value: fs.readFileSync(ADMIN_KUBECONFIG, "utf8"), secret: true } });
        const preview = await d.preview({ color: "never" });
        assert.match(preview.stdout, new RegExp(`1 Nodes matching ${SELECTOR} found: y-1 \\(${n.host.replace(/\./g, "\\.")}\\)`));
        assert.match(preview.stdout, /\+ +containerd-node:index:ContainerdNode +y-1 +create y-1: docker:\/\/\S+ → containerd/);
        for (const step of ["configure", "switch"]) {
            assert.match(preview.stdout, new RegExp(`\\+ +command:\\w+:Command +y-1-${step} +create`));
        }
        // The node is drained, and verified (and gated), by its wave's steps.
        assert.match(preview.stdout, /\+ +command:local:Command +fleet-wave-1-drain +create/);
        assert.match(preview.stdout, /\+ +command:local:Command +fleet-wave-1 +create/);
        const kubeconfigKey = /client-key-data: (\S+)/.exec(fs.readFileSync(ADMIN_KUBECONFIG, "utf8"))![1].slice(0, 60);
        assert.ok(!preview.stdout.includes(kubeconfigKey) && !preview.stdout.includes(keyLine()), "no secret in the preview");
    });

    it("the preview plans both nodes through the plugin, showing no secret", async () => {
        const preview = await stack.preview({ color: "never" });
        assert.match(preview.stdout, /\+ +containerd-node:index:ContainerdFleet +fleet +create/);
        for (const n of ["node1", "node2"]) {
            assert.match(preview.stdout, new RegExp(`\\+ +containerd-node:index:ContainerdNode +${n} +create ${n}: docker://\\S+ → containerd`));
            assert.match(preview.stdout, new RegExp(`\\+ +command:remote:Command +${n}-converge +create`));
        }
        assert.ok(!preview.stdout.includes(PASSWORD) && !preview.stdout.includes(keyLine()), "no secret in the preview");
    });

    it("up converts both nodes; the key and the password are secrets in the state and the outputs", async () => {
        const res = await stack.up({ color: "never" });
        const version = labContainerd2().version;
        assert.deepStrictEqual((res.outputs.table.value as any[]).map(r => [r.node, r.result, r.runtimeAfter]),
            [["node1", "converted", `containerd://${version}`], ["node2", "converted", `containerd://${version}`]]);
        assert.deepStrictEqual(res.outputs.waves.value, [["node1"], ["node2"]]);
        for (const n of Object.keys(NODES)) {
            assert.strictEqual(inNode(n, "systemctl is-active containerd").trim(), "active");
        }
        assert.ok(!res.stdout.includes(PASSWORD) && !res.stdout.includes(keyLine()), "no secret in the up's output");

        const state = stateText(stack);
        assert.ok(!state.includes(PASSWORD), "the registry password is in the state only encrypted");
        assert.ok(!state.includes(keyLine()), "the SSH key is in the state only encrypted");
        assert.ok(!state.includes(USERNAME), "the registry user name is in the state only encrypted");
        const resources = checkpointResources(stack);
        // The provider's components register their own state (their outputs); the steps they make
        // hold what was given: every step's connection (with the key) and the password's step a secret.
        const steps = resources.filter(r => r.type === "command:remote:Command");
        assert.deepStrictEqual(steps.map(r => r.urn.split("::").pop()).sort(),
            ["node1-converge", "node1-registry-auth", "node2-converge", "node2-registry-auth"]);
        for (const r of steps) {
            assert.strictEqual(r.inputs?.connection?.[SIG_KEY], SECRET_SIG, `${r.urn}: its connection is a secret`);
        }
        for (const r of steps.filter(r => /registry-auth$/.test(r.urn))) {
            assert.strictEqual(r.inputs?.stdin?.[SIG_KEY], SECRET_SIG, `${r.urn}: the script with the password is a secret`);
        }
    });

    it("a second up changes nothing", async () => {
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
    });
});
