import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ContainerdNodeArgs } from "../../components/args";
import { LOCAL_LIB, LOCAL_LIB_FILE, LOCAL_LIB_SOURCE } from "../../components/scripts/localLib";
import { afterBegin, baseArgs, DOCKER_FACTS } from "./helpers";

interface Created { type: string; name: string; inputs: any; dependsOn: string[] }
let created: Created[] = [];
let rollbackMark = "";
let podList = '{"items":[]}';
/** Steps that run a health gate (a fleet node's verify) and report their node as failed (within a failure budget). */
const failingGates = new Set<string>();
const calls: string[] = [];
/** Each read's stdin, by its command. */
const callStdin = new Map<string, unknown>();
/** Resources whose registration the mock engine holds until they are released. */
const held = new Map<string, () => void>();
/** Steps that come back with no stdout, as the steps an up with --target leaves out do. */
const noOutputs = new Set<string>();
const dependsOnByName = new Map<string, string[]>();
/** A local step's kubeconfig file as it was when the step was registered (null: none there), by step. */
const kubeconfigAtRegistration = new Map<string, { content: string; mode: number } | null>();

pulumi.runtime.setMocks({
    newResource: (args) => {
        created.push({ type: args.type, name: args.name, inputs: args.inputs, dependsOn: dependsOnByName.get(args.name) ?? [] });
        const slot = args.inputs.environment?.CN_KUBECONFIG_SLOT;
        if (slot !== undefined) {
            const file = path.join(os.tmpdir(), `containerd-node-${process.getuid!()}`, `kubeconfig-${slot}`);
            kubeconfigAtRegistration.set(args.name, fs.existsSync(file) ? { content: fs.readFileSync(file, "utf8"), mode: fs.statSync(file).mode & 0o777 } : null);
        }
        const state = { ...args.inputs };
        if ((args.type === "command:remote:Command" || args.type === "command:local:Command") && !noOutputs.has(args.name)) {
            // A fleet's wave steps (kubectl.sh cn_drain_wave, cn_verify_wave): a line per node of NODES; a node in failingGates failed earlier in the run.
            const wave = /^NODES=\((.*)\)$/m.exec(String(args.inputs.create ?? ""));
            const failure = "switch 2026-11-25T10:00:00Z";
            const drains = String(args.inputs.create).endsWith("\ncn_drain_wave\n");
            state.stdout = !wave ? "containerd://2.1.4" : [...wave[1].matchAll(/'([^']*)'/g)].map(([, n]) => JSON.stringify(drains
                ? { node: n, drain: { drained: true, wasCordoned: false, runtime: "docker://20.10.24", seconds: 7 } }
                : failingGates.has(n)
                    ? { node: n, verify: { skipped: true, failure }, gate: { passed: false, failure }, runtime: "containerd://2.1.4" }
                    : { node: n, verify: { seconds: 3 }, gate: { passed: true, seconds: 1 }, runtime: "containerd://2.1.4" })).join("\n");
        }
        const result = { id: `${args.name}-id`, state };
        return held.has(args.name) ? new Promise(r => held.set(args.name, () => r(result))) : result;
    },
    // The drain's rollback-mark read (command:local:run): what the Node's annotation says.
    // The fleet's socket check (kubectl get pods): a pod list; its Node read: every Node marked.
    call: (args) => {
        if (args.token !== "command:local:run") {
            return {};
        }
        calls.push(String(args.inputs.command));
        callStdin.set(String(args.inputs.command), args.inputs.stdin);
        const cmd = String(args.inputs.command);
        return {
            stdout: cmd.includes("cn_retry_mark") ? `${rollbackMark}\n`
                : cmd.includes("get pods") ? podList
                : cmd.includes("get nodes -o json") ? JSON.stringify({ items: ["f2a", "f2b"].map(name => ({ metadata: { name, annotations: rollbackMark ? { "containerd-node.pulumi.com/rolled-back": rollbackMark } : {} } })) })
                    : `${rollbackMark}\n`,
        };
    },
}, "project", "stack", false);

// Must come after setMocks.
import { ContainerdNode } from "../../components/containerdNode";

const value = <T>(o: pulumi.Output<T>) => new Promise<T>(resolve => o.apply(v => { resolve(v); return v; }));

/** Records each child's dependsOn (not visible to mocks) through a transformation on the component. */
const recordDeps: pulumi.ResourceTransformation = (a) => {
    // dependsOn given as a promise reaches transformations as an Output.
    const deps = a.opts.dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined;
    (pulumi.Output.isInstance(deps) ? value(deps as pulumi.Output<pulumi.Resource[]>) : Promise.resolve(deps as pulumi.Resource[] | undefined))
        .then(d => Promise.all(([] as pulumi.Resource[]).concat(d ?? []).map(r => value(r.urn))))
        .then(urns => dependsOnByName.set(a.name, urns.map(u => u.split("::").pop()!)))
        .catch(() => dependsOnByName.set(a.name, ["<rejected>"]));
    return undefined;
};

async function build(name: string, args: ContainerdNodeArgs): Promise<{ node: ContainerdNode; res: Map<string, Created> }> {
    created = [];
    const node = new ContainerdNode(name, args, { transformations: [recordDeps] });
    await new Promise(r => setTimeout(r, 50));
    await value(node.runtimeAfter);
    await new Promise(r => setTimeout(r, 50));
    const res = new Map(created.map(c => [c.name, { ...c, dependsOn: dependsOnByName.get(c.name) ?? [] }]));
    return { node, res };
}

const steps = (res: Map<string, Created>, prefix: string) =>
    [...res.values()].filter(r => r.type.startsWith("command:") || r.type.startsWith("kubernetes:")).map(r => r.name.slice(prefix.length + 1));

const k8sArgs = (over: Partial<ContainerdNodeArgs> = {}) => baseArgs({
    kubelet: { version: "1.30.4" },
    kubernetes: { kubeconfig: "/tmp/kubeconfig", nodeName: "worker-1" },
    ...over,
});

describe("ContainerdNode resource graph", () => {
    it("host mode: one step, converge, runs configure then switch, each in its own transaction (the pre-flight is the facts read, not a step)", async () => {
        const { res } = await build("h1", baseArgs());
        // The facts were given (nothing read the node, so nothing put the library there): lib copies it.
        assert.deepStrictEqual(steps(res, "h1"), ["lib", "converge"]);
        assert.deepStrictEqual(res.get("h1-lib")!.dependsOn, []);
        assert.deepStrictEqual(res.get("h1-converge")!.dependsOn, ["h1-lib"]);
        // The node's only step ends the run's claim; each part runs in a subshell of its own, the runtime last.
        const text: string = res.get("h1-converge")!.inputs.stdin;
        assert.match(text, /^cn_begin converge 900 1$/m);
        assert.match(text, /\n\(\ncn_part configure\ncn_configure_begin\n[\s\S]*\ncn_configure_end\n\)\n\(\ncn_part switch\ncn_switch\n\)\ncn_runtime\n$/);
        for (const r of res.values()) {
            if (r.type === "command:remote:Command") {
                // The whole connection (key included) reaches the provider as a secret.
                assert.strictEqual(r.inputs.connection["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
                assert.strictEqual(r.inputs.connection.value.host, "10.0.0.1");
                assert.strictEqual(r.inputs.addPreviousOutputInEnv, false);
                assert.strictEqual(r.inputs.triggers, undefined, "triggers would force a replace");
            }
        }
    });
    it("Kubernetes mode adds drain and a kubectl verify that sets the cri-socket annotation (≤1.33) and uncordons", async () => {
        const { res } = await build("k1", k8sArgs());
        assert.deepStrictEqual(steps(res, "k1"), ["lib", "configure", "drain", "switch", "verify"]);
        // The claim holds through the drain and verify timeouts (300 + 180 s by default).
        assert.match(res.get("k1-switch")!.inputs.stdin, /^cn_begin switch 1380 1$/m);
        assert.deepStrictEqual(res.get("k1-drain")!.dependsOn, ["k1-configure"]);
        assert.deepStrictEqual(res.get("k1-switch")!.dependsOn, ["k1-drain"]);
        assert.deepStrictEqual(res.get("k1-verify")!.dependsOn, ["k1-switch"]);
        assert.strictEqual(res.get("k1-drain")!.type, "command:local:Command");
        assert.deepStrictEqual(res.get("k1-drain")!.inputs.environment, { KUBECONFIG: "/tmp/kubeconfig" });
        // Each local step's text: its values and a call into the library the program wrote (at up).
        const drain: string = res.get("k1-drain")!.inputs.create;
        assert.match(drain, /^DRAIN_FLAGS=\('--ignore-daemonsets' '--delete-emptydir-data' '--grace-period=-1' '--timeout=300s'\)\n(.*\n)*cn_drain\n$/m);
        assert.ok(drain.includes(LOCAL_LIB_SOURCE) && !drain.includes("cordon"), "the library is sourced, not in the text");
        assert.strictEqual(fs.readFileSync(path.join(os.tmpdir(), `containerd-node-${process.getuid!()}`, LOCAL_LIB_FILE), "utf8"), LOCAL_LIB);
        const patch = res.get("k1-verify")!;
        assert.strictEqual(patch.type, "command:local:Command");
        assert.match(patch.inputs.create, /^NODE='worker-1'$/m);
        assert.match(patch.inputs.create, /^CRI_SOCKET='unix:\/\/\/run\/containerd\/containerd\.sock'\n(.*\n)*cn_verify\n$/m);
    });
    it("a kubeconfig's content reaches the drain and verify as a file of the run named by the node's slot: never in the state, command text or environment", async () => {
        const CONTENT = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: kc-s3cret-token}}]\n";
        const { res } = await build("kc1", k8sArgs({ kubernetes: { kubeconfig: { content: pulumi.output(CONTENT) }, nodeName: "worker-1" } }));
        const slots = new Set<string>();
        for (const step of ["drain", "verify"]) {
            const r = res.get(`kc1-${step}`)!;
            assert.strictEqual(r.inputs.stdin, undefined, `${step}: nothing on stdin (the state would keep it twice)`);
            assert.deepStrictEqual(Object.keys(r.inputs.environment), ["CN_KUBECONFIG_SLOT"], `${step}: the slot, no path`);
            const slot = r.inputs.environment.CN_KUBECONFIG_SLOT;
            assert.match(slot, /^[0-9a-f]{16}$/, `${step}: a plain string, not a secret`);
            slots.add(slot);
            assert.ok(!JSON.stringify(r.inputs).includes("kc-s3cret-token"), `${step}: not in any input`);
            assert.ok(!r.inputs.create.includes("KUBECONFIG"), `${step}: the library finds the file by the slot`);
            // Written (at up) before the step that reads it was registered; 0600.
            assert.deepStrictEqual(kubeconfigAtRegistration.get(`kc1-${step}`), { content: CONTENT, mode: 0o600 }, `${step}: the file there when it runs`);
        }
        assert.strictEqual(slots.size, 1, "one file per node");
        // Removed once the node's last local step (verify) has run.
        const file = path.join(os.tmpdir(), `containerd-node-${process.getuid!()}`, `kubeconfig-${[...slots][0]}`);
        assert.strictEqual(fs.existsSync(file), false, "removed after verify");
        const mark = [...callStdin.entries()].find(([cmd]) => cmd.includes("KUBECONFIG=$(umask 077") && cmd.includes("cn_retry_mark"));
        assert.ok(mark, "the rollback-mark read gets the prologue");
        assert.strictEqual(mark![1], CONTENT, "and the content on its stdin");
        assert.ok(!mark![0].includes("kc-s3cret-token"));
    });
    for (const [bad, why] of [[{}, "an object without content"], [42, "a number"], ["", "an empty path"]] as const) {
        it(`kubernetes.kubeconfig as ${why} is refused naming the field`, async () => {
            await assert.rejects(build("kc2", k8sArgs({ kubernetes: { kubeconfig: bad as any, nodeName: "worker-1" } })),
                /invalid kubernetes\.kubeconfig: expected the path of a kubeconfig file, or \{ content \} with the kubeconfig's text/);
        });
    }
    it("a switch rollback's mark on the Node makes the drain run again", async () => {
        const { res } = await build("k3", k8sArgs());
        assert.deepStrictEqual(res.get("k3-drain")!.inputs.triggers, [""]);
        rollbackMark = "1795580000";
        try {
            const { res: again } = await build("k3", k8sArgs());
            assert.deepStrictEqual(again.get("k3-drain")!.inputs.triggers, ["1795580000"]);
            assert.strictEqual(again.get("k3-drain")!.inputs.create, res.get("k3-drain")!.inputs.create, "only the trigger differs");
            // The verify runs again after a drain that runs again: its text names the drain's by a
            // digest of the drain's text and trigger, not by the drain's output.
            const after = (r: typeof res) => /^# after: drain ([0-9a-f]{16})\n/.exec(r.get("k3-verify")!.inputs.create)?.[1];
            assert.ok(after(res) && after(again) && after(res) !== after(again), `${after(res)} then ${after(again)}`);
        } finally {
            rollbackMark = "";
        }
    });
    it("a change of the drain's own settings runs the drain and the verify again", async () => {
        const a = (await build("d", k8sArgs())).res;
        const b = (await build("d", k8sArgs({ kubernetes: { kubeconfig: "/tmp/kubeconfig", nodeName: "worker-1", drain: { timeoutSeconds: 600 } } }))).res;
        const differing = [...a.keys()].filter(k => JSON.stringify(a.get(k)!.inputs) !== JSON.stringify(b.get(k)!.inputs));
        // (configure and switch too: the node's claim is held through the drain's timeout.)
        assert.deepStrictEqual(differing, ["d-configure", "d-drain", "d-switch", "d-verify"]);
        assert.match(b.get("d-switch")!.inputs.stdin, /^cn_begin switch 1680 1$/m);
    });
    it("no cri-socket annotation from kubelet 1.34 (NodeLocalCRISocket)", async () => {
        const { res } = await build("k2", k8sArgs({ kubelet: { version: "1.34.1" } }));
        assert.match(res.get("k2-verify")!.inputs.create, /^CRI_SOCKET=''$/m);
    });
    it("optional steps: image migration, docker cleanup, uploads of local files", async () => {
        const { res } = await build("o1", baseArgs({
            containerd: { version: "2.1.4", source: { kind: "file", path: "/tmp/containerd.tgz", sha256: "c".repeat(64) }, runc: { path: "/tmp/runc", sha256: "d".repeat(64) } },
            docker: { mode: "purge", removeData: true, migrateImages: true },
        }));
        assert.deepStrictEqual(steps(res, "o1"), ["lib", "upload-containerd", "upload-runc", "converge"]);
        const text: string = res.get("o1-converge")!.inputs.stdin;
        assert.match(text, /^cn_begin converge \d+ 1$/m);
        assert.deepStrictEqual([...text.matchAll(/^cn_part (\S+)$/gm)].map(m => m[1]), ["configure", "migrate-images", "switch", "docker-cleanup"]);
        assert.deepStrictEqual(res.get("o1-converge")!.dependsOn.sort(), ["o1-lib", "o1-upload-containerd", "o1-upload-runc"]);
        assert.deepStrictEqual(res.get("o1-upload-runc")!.dependsOn, []);
        assert.strictEqual(res.get("o1-upload-containerd")!.inputs.remotePath, "/var/lib/containerd-node/cache/containerd-cccccccccccccccc");
        // Each value once, in one block before the parts.
        assert.match(text, /^PURGE='1'\nREMOVE_DATA='1'\n\(\ncn_part configure$/m);
        assert.strictEqual(text.match(/^BIN_DIR=/gm)!.length, 1);
    });
    it("tools given by path travel as uploads before the step; the tools part runs after configure, its tarballs at the cache paths the uploads fill", async () => {
        const { res } = await build("t1", baseArgs({
            tools: {
                buildkit: { version: "0.34.2", source: { path: "/tmp/buildkit.tgz", sha256: "e".repeat(64) } },
                crictl: { version: "1.34.0", source: { url: "https://example.com/crictl-v1.34.0-linux-amd64.tar.gz", sha256: "f".repeat(64) } },
            },
        }));
        assert.deepStrictEqual(steps(res, "t1"), ["lib", "upload-buildkit", "converge"]);
        assert.strictEqual(res.get("t1-upload-buildkit")!.inputs.remotePath, "/var/lib/containerd-node/cache/buildkit-eeeeeeeeeeeeeeee");
        assert.deepStrictEqual(res.get("t1-converge")!.dependsOn.sort(), ["t1-lib", "t1-upload-buildkit"]);
        const text: string = res.get("t1-converge")!.inputs.stdin;
        assert.deepStrictEqual([...text.matchAll(/^cn_part (\S+)$/gm)].map(m => m[1]), ["configure", "tools", "switch"]);
        assert.match(text, /^BUILDKIT_FROM='path'\nBUILDKIT_URL='\/tmp\/buildkit\.tgz'$/m);
        assert.match(text, /^CRICTL_FROM='url'\nCRICTL_URL='https:\/\/example\.com\/crictl-v1\.34\.0-linux-amd64\.tar\.gz'$/m);
    });
    it("Kubernetes mode: image migration runs in configure, before the drain; docker cleanup is a step after the verify", async () => {
        const { res } = await build("o2", k8sArgs({ docker: { mode: "purge", migrateImages: true } }));
        assert.deepStrictEqual(steps(res, "o2"), ["lib", "configure", "drain", "switch", "verify", "docker-cleanup"]);
        assert.deepStrictEqual([...res.get("o2-configure")!.inputs.stdin.matchAll(/^cn_part (\S+)$/gm)].map((m: string[]) => m[1]), ["configure", "migrate-images"]);
        for (const [step, last] of [["configure", 0], ["switch", 0], ["docker-cleanup", 1]] as const) {
            assert.match(res.get(`o2-${step}`)!.inputs.stdin, new RegExp(`^cn_begin ${step} \\d+ ${last}$`, "m"), step);
        }
        assert.match(res.get("o2-switch")!.inputs.stdin, /\ncn_switch\n$/, "one part: no subshell");
        assert.deepStrictEqual(res.get("o2-docker-cleanup")!.dependsOn, ["o2-verify"]);
        assert.match(res.get("o2-docker-cleanup")!.inputs.stdin, /^PURGE='1'\nREMOVE_DATA='0'\ncn_docker_cleanup\n$/m);
    });
    it("docker keep without kubelet: no switch", async () => {
        const { res } = await build("n1", baseArgs({ docker: { mode: "keep" } }));
        assert.doesNotMatch(res.get("n1-converge")!.inputs.stdin, /cn_switch|cn_part/, "configure alone, no subshell");
    });
    it("changing the sandbox image changes only the configure part's lines", async () => {
        const a = (await build("s", baseArgs({ kubelet: { version: "1.30.4" } }))).res;
        const b = (await build("s", baseArgs({ kubelet: { version: "1.30.4" }, config: { sandboxImage: "registry.example.com/pause:3.10" } }))).res;
        const differing = [...a.keys()].filter(k => JSON.stringify(a.get(k)!.inputs) !== JSON.stringify(b.get(k)!.inputs));
        assert.deepStrictEqual(differing, ["s-converge"]);
        assert.match(a.get("s-converge")!.inputs.stdin, /pinned_images\]\nsandbox = "registry.k8s.io\/pause:3.10"/);
        assert.match(b.get("s-converge")!.inputs.stdin, /pinned_images\]\nsandbox = "registry.example.com\/pause:3.10"/);
    });
    it("changing SystemdCgroup changes configure and switch (the kubelet's cgroup driver must match)", async () => {
        const a = (await build("c", k8sArgs())).res;
        const b = (await build("c", k8sArgs({ config: { systemdCgroup: false } }))).res;
        const differing = [...a.keys()].filter(k => JSON.stringify(a.get(k)!.inputs) !== JSON.stringify(b.get(k)!.inputs));
        assert.deepStrictEqual(differing, ["c-configure", "c-switch"]);
    });
    it("changing the containerd version re-runs configure, drain, switch and verify (a kubelet on containerd gets the move in the switch)", async () => {
        const a = (await build("v", k8sArgs())).res;
        const b = (await build("v", k8sArgs({ containerd: { version: "2.1.5", source: { kind: "tarball", url: "https://example.com/containerd-2.1.5-linux-amd64.tar.gz", sha256: "e".repeat(64) } } }))).res;
        const differing = [...a.keys()].filter(k => JSON.stringify(a.get(k)!.inputs) !== JSON.stringify(b.get(k)!.inputs));
        assert.deepStrictEqual(differing, ["v-configure", "v-drain", "v-switch", "v-verify"], "the drain decides by the version, the verify checks it");
        assert.match(b.get("v-switch")!.inputs.stdin, /^VERSION='2\.1\.5'$/m, "the version a staged move must be to");
    });
    it("the node library travels as a file, once per node (its state a hash, not its text); no step carries it, every later step sources it by content hash", async () => {
        const { res } = await build("lib", baseArgs());
        const { NODE_LIB_FILE } = await import("../../components/scripts/lib");
        const { NODE_LIB, NODE_LIB_PATH } = await import("../../components/nodeFiles");
        assert.strictEqual(NODE_LIB, fs.readFileSync(path.join(__dirname, "..", "..", "components", "node", "lib.sh"), "utf8"));
        const hash = require("crypto").createHash("sha256").update(NODE_LIB).digest("hex");
        assert.strictEqual(NODE_LIB_FILE, `lib/node-${hash.slice(0, 16)}.sh`);
        const copy = res.get("lib-lib")!;
        assert.strictEqual(copy.type, "command:remote:CopyToRemote");
        assert.strictEqual(copy.inputs.remotePath, `/var/lib/containerd-node/${NODE_LIB_FILE}`);
        assert.strictEqual(await copy.inputs.source.path, NODE_LIB_PATH);
        for (const step of ["converge"]) {
            // The command names the library by its hash (the runner it starts puts strict mode and
            // the library before the step's text); the text starts with the step's own cn_begin.
            assert.ok(res.get(`lib-${step}`)!.inputs.create.includes(`. "$CN_DIR/${NODE_LIB_FILE}" && `), step);
            const text: string = res.get(`lib-${step}`)!.inputs.stdin;
            assert.match(text, new RegExp(`^cn_begin ${step} `), step);
            assert.ok(!text.includes("txn_begin() {") && !text.includes("source "), `${step} does not repeat the library, nor source it`);
        }
        assert.ok(res.get("lib-converge")!.dependsOn.includes("lib-lib"), "the step waits for the library");
        // The names the library writes on the Node are the ones the operator's steps read.
        const k = await import("../../components/scripts/kubectl");
        const ours = [k.CORDON_ANNOTATION, k.ROLLBACK_ANNOTATION, k.PHASE_ANNOTATION, k.FAILURE_ANNOTATION];
        const used = new Set(NODE_LIB.match(/containerd-node\.pulumi\.com\/[a-z-]+/g));
        assert.ok(used.size >= 3 && [...used].every(a => ours.includes(a)), [...used].join(" "));
        // The credentials file configure removes when config.registryAuth is no longer set is the one registry-auth writes.
        const { REGISTRY_AUTH_FILE } = await import("../../components/render/registryAuth");
        assert.match(NODE_LIB, new RegExp(`remove ${REGISTRY_AUTH_FILE.replace(/[.]/g, "\\.")}$`, "m"));
    });
    it("the SSH key never appears in any command text", async () => {
        const { res } = await build("sec", k8sArgs());
        for (const r of res.values()) {
            const text = JSON.stringify({ create: r.inputs.create, stdin: r.inputs.stdin, update: r.inputs.update, delete: r.inputs.delete, env: r.inputs.environment });
            assert.doesNotMatch(text, /SECRETKEYMATERIAL/, r.name);
        }
    });
    it("registry credentials travel only in the registry-auth step, as a secret, before configure; the config imports their file", async () => {
        let authCreate: unknown;
        const grab: pulumi.ResourceTransformation = a => {
            if (a.name === "ra-registry-auth") {
                authCreate = a.props.stdin;
            }
            return undefined;
        };
        created = [];
        const node = new ContainerdNode("ra", baseArgs({ kubelet: { version: "1.30.4" }, config: { registryAuth: { "registry.example.com": { username: "robot", password: pulumi.secret("PULLPASSWORD") } } } }),
            { transformations: [recordDeps, grab] });
        await value(node.runtimeAfter);
        await new Promise(r => setTimeout(r, 50));
        const res = new Map(created.map(c => [c.name, { ...c, dependsOn: dependsOnByName.get(c.name) ?? [] }]));
        assert.ok(pulumi.Output.isInstance(authCreate) && await (authCreate as any).isSecret, "the step's script is a secret");
        // What the engine receives: a secret envelope (the SDK's signature key and value).
        const sent = res.get("ra-registry-auth")!.inputs.stdin;
        assert.strictEqual(sent[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
        assert.match(sent.value, /password = "PULLPASSWORD"/);
        for (const r of res.values()) {
            if (r.name !== "ra-registry-auth") {
                assert.doesNotMatch(JSON.stringify(r.inputs), /PULLPASSWORD/, r.name);
            }
        }
        assert.deepStrictEqual(res.get("ra-converge")!.dependsOn, ["ra-registry-auth"]);
        assert.match(res.get("ra-converge")!.inputs.stdin, /^imports = \[ "\/etc\/containerd\/containerd-node\/registry-auth\.toml" \]$/m);
    });
    it("the proxy travels in a step of its own before converge, a secret when a value is one; plain values stay readable", async () => {
        const { res } = await build("px", baseArgs({ kubelet: { version: "1.30.4" }, proxy: { httpProxy: pulumi.secret("http://u:PROXYPASSWORD@proxy.corp:3128"), noProxy: ".corp" } }));
        assert.deepStrictEqual(steps(res, "px"), ["lib", "proxy", "converge"]);
        const sent = res.get("px-proxy")!.inputs.stdin;
        assert.strictEqual(sent[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, "the step's script is a secret");
        assert.match(sent.value, /Environment="HTTP_PROXY=http:\/\/u:PROXYPASSWORD@proxy\.corp:3128"/);
        for (const r of res.values()) {
            if (r.name !== "px-proxy") {
                assert.doesNotMatch(JSON.stringify(r.inputs), /PROXYPASSWORD/, r.name);
            }
        }
        assert.deepStrictEqual(res.get("px-converge")!.dependsOn, ["px-proxy"]);
        assert.match(res.get("px-proxy")!.inputs.stdin.value, /^echo 'containerd-node: |^cn_begin proxy /, "the first step: refused when the pre-flight refuses");
        const given = await build("pc", baseArgs({ proxy: { httpsProxy: "http://u:PLAINPASSWORD@proxy.corp:3128" } }));
        assert.strictEqual(given.res.get("pc-proxy")!.inputs.stdin[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, "a URL with a password is kept a secret, given plain too");
        const plain = await build("pp", baseArgs({ proxy: { noProxy: ".corp" } }));
        assert.strictEqual(typeof plain.res.get("pp-proxy")!.inputs.stdin, "string", "no secret given, none made");
        assert.match(plain.res.get("pp-proxy")!.inputs.stdin, /Environment="NO_PROXY=\.corp"/);
    });
    it("a proxy value given as a secret is checked at preview, refusing the node naming the field, never showing it", async () => {
        const { node } = await build("pb", baseArgs({ proxy: { httpProxy: pulumi.secret("socks5://u:BADPASSWORD@p:1") } }));
        const refusal = await value(node.refusal);
        assert.match(refusal, /^pb: invalid proxy\.httpProxy: expected the proxy's URL, .* got <secret, 26 chars>$/);
    });
    it("a node whose facts can't be read over SSH is refused at up by its first step, saying why", async () => {
        // Port 1 on the loopback: nothing listens, the dial is refused at once.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-key-"));
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
        const key = fs.readFileSync(path.join(dir, "k"), "utf8");
        const { res } = await build("unread", baseArgs({ connection: { host: "127.0.0.1", port: 1, privateKey: key, dialErrorLimit: 1 }, nodeFacts: undefined }));
        assert.deepStrictEqual(steps(res, "unread"), ["converge"], "read over SSH: the read puts the library on the node, no lib step");
        const pre = res.get("unread-converge")!.inputs.stdin as string;
        assert.match(pre, /containerd-node: unread: could not read the node.*s facts over SSH: reading root@127\.0\.0\.1:1: .*ECONNREFUSED/);
        assert.match(pre, /\nexit 1\n/);
        assert.ok(!pre.includes(key.split("\n")[1]), "no key material in the message");
        const bad = await build("badkey", baseArgs({ connection: { host: "127.0.0.1", port: 1, privateKey: "not a key" }, nodeFacts: undefined }));
        assert.match(bad.res.get("badkey-converge")!.inputs.stdin, /reading root@127\.0\.0\.1:1: Cannot parse privateKey: Unsupported key format/);
    });
    it("another stack's claim on the node, found by the facts read, refuses the run at the first step; this stack's own does not", async () => {
        const claim = (holder: string) => ({ ...DOCKER_FACTS, claim: { holder, step: "configure", state: "finished at 2026-12-01T10:00:00Z", since: "2026-12-01T09:59:00Z", until: Date.now() / 1000 + 600 } });
        const other = (await build("cl1", baseArgs({ nodeFacts: claim("stack p/other") }))).res.get("cl1-converge")!.inputs.stdin as string;
        assert.match(other, /containerd-node: the pre-flight refuses the run:\ncl1: the node is being converted by stack p\/other \(its run has had the node since 2026-12-01T09:59:00Z; its step configure finished at 2026-12-01T10:00:00Z\)/);
        assert.match(other, /\nexit 1\n/);
        const own = (await build("cl2", baseArgs({ nodeFacts: claim(`stack ${pulumi.getProject()}/${pulumi.getStack()}`) }))).res.get("cl2-converge")!.inputs.stdin as string;
        assert.doesNotMatch(own, /refuses the run/);
    });
    it("a node whose live config cannot be judged is refused at its first step, quoting no line of the file", async () => {
        const broken = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r\".auth]\npassword = \"TOPSECRET\" junk\n";
        const nodeFacts = {
            runtime: "containerd://1.7.35",
            upgrade: { ...DOCKER_FACTS.upgrade, main: { path: "/etc/containerd/config.toml", text: broken }, containerdVersion: { major: 1, minor: 7, patch: 35, text: "1.7.35" } },
        };
        const { res } = await build("bad-config", baseArgs({ kubelet: { version: "1.33.13" }, nodeFacts }));
        const pre = res.get("bad-config-converge")!.inputs.stdin as string;
        assert.match(pre, /bad-config: the pre-flight could not judge the node.*s live config, so it cannot tell what the rendered one would drop: \/etc\/containerd\/config\.toml: not valid TOML: .*at row 3, col 24, pos 100:' >&2\n/);
        assert.match(pre, /\nexit 1\n/);
        assert.doesNotMatch(JSON.stringify([...res.values()].map(r => r.inputs)), /TOPSECRET/);
    });
    it("outputs come from the facts read and the verify step", async () => {
        const { node } = await build("out", k8sArgs());
        assert.strictEqual(await value(node.runtimeBefore), "docker://20.10.24");
        // Facts read with the key are marked secret; the runtime before is not one (nor is the fleet's table).
        const secretFacts = await build("out-s", k8sArgs({ nodeFacts: pulumi.secret({ ...DOCKER_FACTS, host: { arch: "amd64", systemd: true, freeMiB: {}, runc: true, runtimeBefore: "docker://19.3.15" } }) }));
        assert.strictEqual(await value(secretFacts.node.runtimeBefore), "docker://19.3.15", "as recorded with the original state");
        assert.strictEqual(await (secretFacts.node.runtimeBefore as any).isSecret, false);
        assert.strictEqual(await value(node.runtimeAfter), "containerd://2.1.4");
        assert.strictEqual(await value(node.containerdVersion), "2.1.4");
        assert.strictEqual(await value(node.containerRuntimeVersion), "containerd://2.1.4");
    });
    it("a step with no outputs (one an up with --target leaves out) gives an empty runtimeAfter, not an error", async () => {
        noOutputs.add("tg-converge");
        try {
            const { node } = await build("tg", baseArgs());
            assert.strictEqual(await value(node.runtimeAfter), "");
            assert.deepStrictEqual(await value(node.durations), { drain: undefined, switch: undefined, verify: undefined });
        } finally {
            noOutputs.clear();
        }
    });
    it("bad input fails as a ResourceError naming the field", () => {
        assert.throws(() => new ContainerdNode("bad", baseArgs({ connection: { host: "h", port: 99999, privateKey: "k" } })),
            (e: any) => e instanceof pulumi.ResourceError && /invalid connection\.port: expected an integer from 1 to 65535, got 99999/.test(e.message));
    });
});

describe("step durations", () => {
    it("reads the seconds a step reported on its JSON line", async () => {
        const { reportedSeconds } = await import("../../components/containerdNode");
        assert.strictEqual(reportedSeconds('{"drained":true,"wasCordoned":false,"runtime":"docker://20.10","seconds":12}\n'), 12);
        assert.strictEqual(reportedSeconds('{"seconds":7}\ncontainerd://2.2.9\n'), 7);
        assert.strictEqual(reportedSeconds("containerd://2.2.9\n"), undefined);
        assert.strictEqual(reportedSeconds(undefined), undefined);
    });
});

describe("ContainerdFleet resource graph", () => {
    const conn = (host: string) => ({ host, privateKey: "k" });
    const settings = { containerd: { version: "2.1.4", source: { kind: "tarball" as const, url: "https://example.com/c.tgz", sha256: "a".repeat(64) } } };
    async function fleet(name: string, args: Omit<import("../../components/fleet/fleet").ContainerdFleetArgs, "settings"> & { settings?: any }) {
        const { ContainerdFleet } = await import("../../components/fleet/fleet");
        created = [];
        const f = new ContainerdFleet(name, { settings, ...args } as any, { transformations: [recordDeps] });
        const table = await value(f.table);
        await new Promise(r => setTimeout(r, 100));
        const res = new Map(created.map(c => [c.name, { ...c, dependsOn: dependsOnByName.get(c.name) ?? [] }]));
        return { f, res, table };
    }

    it("every node's pre-flight (facts and plan) comes first; a wave's first change waits for all of them and the previous wave", async () => {
        const { f, res } = await fleet("f1", { nodes: ["a", "b", "c"].map(n => ({ name: `f1${n}`, connection: conn(n), nodeFacts: DOCKER_FACTS })), maxUnavailable: 2 });
        assert.deepStrictEqual(f.waves, [["f1a", "f1b"], ["f1c"]]);
        assert.ok(![...res.keys()].some(k => /^f1.-preflight$/.test(k)), "no pre-flight step: the pre-flight is the facts read");
        // Through barriers, so that the edges grow linearly with the fleet; the first one's text
        // holds every node's verdict, so it is registered (and run) once every node is planned.
        assert.deepStrictEqual(res.get("f1-preflight-passed")!.dependsOn, []);
        assert.strictEqual(res.get("f1-preflight-passed")!.inputs.create, "echo 'pre-flight passed on every node'");
        // The facts are given here, so a node's first step copies the library; converge waits for that copy.
        assert.deepStrictEqual(res.get("f1a-lib")!.dependsOn, ["f1-preflight-passed"]);
        assert.deepStrictEqual(res.get("f1b-lib")!.dependsOn, ["f1-preflight-passed"]);
        assert.deepStrictEqual(res.get("f1a-converge")!.dependsOn, ["f1a-lib"]);
        assert.deepStrictEqual(res.get("f1-wave-1-passed")!.dependsOn.sort(), ["f1a-converge", "f1b-converge"]);
        assert.deepStrictEqual(res.get("f1c-lib")!.dependsOn, ["f1-wave-1-passed"]);
        assert.ok(!res.has("f1-wave-2-passed"), "no barrier after the last wave");
        assert.ok(![...res.keys()].some(k => k.endsWith("-gate")), "host mode without probes has no gates");
    });
    it("host mode with probes or a pause: a gate step after each node's converge, and the next wave waits for the gates", async () => {
        const { res } = await fleet("f3", {
            nodes: [{ name: "f3a", connection: conn("a"), nodeFacts: DOCKER_FACTS }, { name: "f3b", connection: conn("b"), nodeFacts: DOCKER_FACTS }],
            healthGate: { probes: ["curl -fsS http://$NODE:8080/healthz"], pauseSecondsBetweenWaves: 30, timeoutSeconds: 60 },
        });
        assert.deepStrictEqual(res.get("f3a-gate")!.dependsOn, ["f3a-converge"]);
        assert.deepStrictEqual(res.get("f3-wave-1-passed")!.dependsOn, ["f3a-gate"]);
        assert.match(res.get("f3a-gate")!.inputs.create, /^NODE='f3a'\nPROBES=\('curl -fsS http:\/\/\$NODE:8080\/healthz'\)\nGATE_TIMEOUT='60'\nPAUSE='30'$/m);
        assert.doesNotMatch(res.get("f3a-gate")!.inputs.create, /^K=/m, "no Kubernetes checks");
        assert.match(res.get("f3b-gate")!.inputs.create, /^PAUSE='0'$/m, "no pause after the last wave");
        assert.ok(!res.get("f3a-converge")!.inputs.stdin.includes("PROBES"));
    });
    it("Kubernetes mode: each wave's steps drain, then verify and gate, its nodes (no drain, verify or gate step of their own), and the next wave waits for them", async () => {
        calls.length = 0;
        const { res, f, table } = await fleet("f2", {
            nodes: [{ name: "f2a", connection: conn("a"), nodeFacts: DOCKER_FACTS }, { name: "f2b", connection: conn("b"), nodeFacts: DOCKER_FACTS }],
            settings: { ...settings, kubelet: { version: "1.30.4" } },
            kubernetes: { kubeconfig: "/tmp/kc" },
            healthGate: { probes: ["curl -fsS http://$NODE:8080/healthz"], pauseSecondsBetweenWaves: 30 },
        });
        assert.deepStrictEqual(res.get("f2-wave-1-drain")!.inputs.triggers, [""], "no Node has a retry mark (the fleet's one Node read)");
        assert.ok(!calls.some(c => /get node "\$NODE"/.test(c)), "no per-node read at preview");
        assert.ok(![...res.keys()].some(k => /^f2[ab]-(drain|gate|verify)$/.test(k)), "no drain, gate or verify steps of the nodes");
        assert.deepStrictEqual(res.get("f2-wave-1-drain")!.dependsOn, ["f2a-configure"]);
        assert.deepStrictEqual(res.get("f2a-switch")!.dependsOn, ["f2-wave-1-drain"]);
        assert.deepStrictEqual(res.get("f2-wave-1")!.dependsOn, ["f2a-switch"]);
        const drain: string = res.get("f2-wave-1-drain")!.inputs.create;
        assert.match(drain, /^NODES=\('f2a'\)\nWANT='[^']+'\nPOLICY='\w+'\nDRAIN_FLAGS=\(.*\)\nAT_ONCE='16'\n/m);
        assert.match(drain, /\ncn_drain_wave\n$/);
        assert.deepStrictEqual(res.get("f2-wave-1-drain")!.inputs.environment, { KUBECONFIG: "/tmp/kc" });
        assert.ok(!res.has("f2-wave-1-passed"), "the wave's step is the barrier");
        assert.ok(res.get("f2b-lib")!.dependsOn.includes("f2-wave-1"), "the next wave's first step waits");
        const text: string = res.get("f2-wave-1")!.inputs.create;
        assert.match(text, /^NODES=\('f2a'\)$/m);
        const { drainDigest } = await import("../../components/scripts/kubectl");
        assert.ok(text.includes(`\nAFTER='${drainDigest(drain, "")}'\n`), "the wave's drain, as a digest of its text and trigger");
        assert.match(text, /^PROBES=\('curl -fsS http:\/\/\$NODE:8080\/healthz'\)$/m);
        assert.match(text, /^GATE_TIMEOUT='300'$/m);
        assert.match(text, /^PAUSE='30'$/m, "pause after a wave that has a successor");
        assert.match(text, /\ncn_verify_wave\n$/);
        assert.deepStrictEqual(res.get("f2-wave-1")!.inputs.environment, { KUBECONFIG: "/tmp/kc" });
        assert.match(res.get("f2-wave-2")!.inputs.create, /^PAUSE='0'$/m, "no pause after the last wave");
        assert.deepStrictEqual(res.get("f2-wave-2")!.dependsOn, ["f2b-switch"]);
        // The node's outputs come from its line of its wave's output.
        assert.strictEqual(await value(f.nodes.f2a.runtimeAfter), "containerd://2.1.4");
        assert.deepStrictEqual(await value(f.nodes.f2a.durations), { drain: 7, switch: undefined, verify: 3 });
        assert.deepStrictEqual(await value(f.nodes.f2b.gateReport), { passed: true, seconds: 1 });
        assert.deepStrictEqual(table.map(r => [r.node, r.wave, r.result]), [["f2a", 1, "converted"], ["f2b", 2, "converted"]]);
    });
    it("the proxy: shared by every node, a secret kept one, a node's override merged over it", async () => {
        const { res, f } = await fleet("f5", {
            nodes: [{ name: "f5a", connection: conn("a"), nodeFacts: DOCKER_FACTS }, { name: "f5b", connection: conn("b"), nodeFacts: DOCKER_FACTS, overrides: { proxy: { noProxy: ".b.corp" } } }],
            settings: { ...settings, proxy: { httpProxy: pulumi.secret("http://u:FLEETPROXYPW@proxy.corp:3128"), noProxy: ".corp" } },
        });
        assert.deepStrictEqual(f.nodes.f5b.spec.proxy, ["httpProxy", "noProxy"]);
        for (const n of ["f5a", "f5b"]) {
            const sent = res.get(`${n}-proxy`)!.inputs.stdin;
            assert.strictEqual(sent[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, `${n}: a secret`);
            assert.match(sent.value, /HTTP_PROXY=http:\/\/u:FLEETPROXYPW@proxy\.corp:3128/);
            assert.match(sent.value, n === "f5a" ? /NO_PROXY=\.corp"/ : /NO_PROXY=\.b\.corp"/);
        }
        assert.deepStrictEqual(res.get("f5a-converge")!.dependsOn, ["f5a-proxy"]);
    });
    it("per-node overrides are merged over the shared settings", async () => {
        const { f } = await fleet("f3", {
            nodes: [{ name: "f3a", connection: conn("a"), nodeFacts: DOCKER_FACTS }, { name: "f3b", connection: conn("b"), nodeFacts: DOCKER_FACTS, overrides: { config: { sandboxImage: "mirror.local/pause:3.10" } } }],
            settings: { ...settings, config: { systemdCgroup: false } },
            factReads: 64,
        });
        assert.strictEqual(f.nodes.f3a.spec.factReads, 64, "the fleet's reads at once, given to every node");
        assert.strictEqual(f.nodes.f3a.spec.config.sandboxImage, "registry.k8s.io/pause:3.10");
        assert.strictEqual(f.nodes.f3b.spec.config.sandboxImage, "mirror.local/pause:3.10");
        assert.strictEqual(f.nodes.f3b.spec.config.systemdCgroup, false, "shared settings kept");
    });
    it("pods mounting docker.sock refuse the run (nothing is changed) unless acknowledged", async () => {
        podList = JSON.stringify({ items: [{ metadata: { namespace: "ci", name: "runner-0" }, spec: { nodeName: "n1", volumes: [{ name: "d", hostPath: { path: "/var/run/docker.sock" } }] } }] });
        try {
            const refused = await fleet("f4", { nodes: [{ name: "f4a", connection: conn("a"), nodeFacts: DOCKER_FACTS }], settings: { ...settings, kubelet: { version: "1.30.4" } }, kubernetes: { kubeconfig: "/tmp/kc" } });
            // The barrier every node's first change waits for fails (and the preview logs the error).
            const barrier = refused.res.get("f4-preflight-passed")!;
            assert.match(barrier.inputs.create, /invalid acknowledgeDockerSocketPods: .*ci\/runner-0 \(node n1, \/var\/run\/docker\.sock\).*>&2; exit 1$/);
            assert.ok(refused.res.get("f4a-lib")!.dependsOn.includes("f4-preflight-passed"));
            const ok = await fleet("f5", { nodes: [{ name: "f5a", connection: conn("a"), nodeFacts: DOCKER_FACTS }], settings: { ...settings, kubelet: { version: "1.30.4" } }, kubernetes: { kubeconfig: "/tmp/kc" }, acknowledgeDockerSocketPods: true });
            assert.deepStrictEqual(await value(ok.f.dockerSocketPods), ["ci/runner-0 (node n1, /var/run/docker.sock)"]);
            assert.strictEqual(ok.res.get("f5-preflight-passed")!.inputs.create, "echo 'pre-flight passed on every node'");
        } finally {
            podList = '{"items":[]}';
        }
    });
    it("failure budget: a failed node is counted at each barrier, the rollout goes on, and the run fails at its end naming it", async () => {
        failingGates.add("f7a");
        try {
            const { res, table } = await fleet("f7", {
                nodes: ["a", "b", "c"].map(n => ({ name: `f7${n}`, connection: conn(n), nodeFacts: DOCKER_FACTS })),
                settings: { ...settings, kubelet: { version: "1.30.4" } },
                kubernetes: { kubeconfig: "/tmp/kc" },
                failureBudget: 1,
            });
            assert.strictEqual(res.get("f7-wave-1-passed")!.inputs.create, "echo 'wave 1 passed' '(failed within the budget of 1: f7a (switch 2026-11-25T10:00:00Z))'");
            assert.strictEqual(res.get("f7-wave-2-passed")!.inputs.create, "echo 'wave 2 passed' '(failed within the budget of 1: f7a (switch 2026-11-25T10:00:00Z))'");
            assert.match(res.get("f7-result")!.inputs.create, /1 of 3 nodes failed within the failure budget of 1: f7a \(switch .*\); .*run pulumi up again to retry them' >&2; exit 1$/);
            assert.deepStrictEqual(res.get("f7-result")!.dependsOn, ["f7-wave-3"]);
            assert.deepStrictEqual(res.get("f7-wave-1-passed")!.dependsOn, ["f7-wave-1"], "the barrier counts after the wave's step");
            // Every step after the drain is triggered by the Node's retry mark, so a rerun retries the node.
            assert.deepStrictEqual(res.get("f7b-switch")!.inputs.triggers, [""]);
            assert.deepStrictEqual(res.get("f7-wave-2-drain")!.inputs.triggers, [""]);
            assert.match(res.get("f7b-switch")!.inputs.stdin, /^SOFT_PLANNED=''$/m, "skipped unless the Node's mark is still the planned one");
            // Run as the node runs it (the library, the step's values): a Node whose mark moved since the
            // run was planned (here: rolled back) is skipped, changing nothing.
            const { NODE_LIB } = await import("../../components/nodeFiles");
            const text: string = res.get("f7b-switch")!.inputs.stdin;
            const after = afterBegin(text);
            const body = after.slice(0, after.indexOf("\ncn_switch\n"));
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-soft-"));
            fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/bash\necho '{"metadata":{"annotations":{"containerd-node.pulumi.com/rolled-back":"1700000000"}}}'\n`, { mode: 0o755 });
            const run = require("child_process").spawnSync("bash", ["-c", `set -euo pipefail\n${NODE_LIB}\ncn_begin switch 60 1\nPATH=${dir}:$PATH\n${body}\ncn_switch\necho not-skipped`], {
                // The fake kubectl first on the PATH cn_begin set.
                encoding: "utf8", env: { ...process.env, CN_DIR: path.join(dir, "state") },
            });
            assert.strictEqual(run.status, 0, run.stderr);
            assert.strictEqual(run.stdout, '{"skipped":true}\n');
            assert.match(run.stderr, /node f7b failed earlier in this run \(rolled back\): skipped/);
            // The wave's step names each node's mark (one for all here), so it runs again when a mark changes.
            assert.match(res.get("f7-wave-2")!.inputs.create, /^PLANNED=''\n(.*\n)*cn_verify_wave\n$/m);
            assert.match(res.get("f7-wave-2-drain")!.inputs.create, /^PLANNED=''\n(.*\n)*cn_drain_wave\n$/m, "a failed drain is recorded, not fatal (kubectlLib.test.ts runs it)");
            assert.deepStrictEqual(table.map(r => [r.node, r.result, r.failure]), [
                ["f7a", "failed", "switch 2026-11-25T10:00:00Z"], ["f7b", "converted", undefined], ["f7c", "converted", undefined]]);
        } finally {
            failingGates.clear();
        }
    });
    it("failure budget exceeded: the next wave's barrier fails, so later waves are not touched", async () => {
        failingGates.add("f8a").add("f8b");
        try {
            const { res } = await fleet("f8", {
                nodes: ["a", "b", "c"].map(n => ({ name: `f8${n}`, connection: conn(n), nodeFacts: DOCKER_FACTS })),
                settings: { ...settings, kubelet: { version: "1.30.4" } },
                kubernetes: { kubeconfig: "/tmp/kc" },
                failureBudget: "34%",
            });
            assert.match(res.get("f8-wave-1-passed")!.inputs.create, /^echo 'wave 1 passed' /);
            assert.match(res.get("f8-wave-2-passed")!.inputs.create, /2 nodes failed, more than the failure budget of 1: f8a .*, f8b .*; the rollout stops before wave 3' >&2; exit 1$/);
            assert.ok(res.get("f8c-lib")!.dependsOn.includes("f8-wave-2-passed"));
        } finally {
            failingGates.clear();
        }
    });
    it("absorbFailures with no budget left (a later stack of upFleetStacks): the same steps as with a budget; one failure stops the rollout", async () => {
        const nodes = (tag: string) => ["a", "b"].map(n => ({ name: `${tag}${n}`, connection: conn(n), nodeFacts: DOCKER_FACTS }));
        const k8s = { settings: { ...settings, kubelet: { version: "1.30.4" } }, kubernetes: { kubeconfig: "/tmp/kc" } };
        const withBudget = await fleet("zq", { nodes: nodes("zq"), ...k8s, failureBudget: 1 });
        failingGates.add("zwa");
        try {
            const none = await fleet("zw", { nodes: nodes("zw"), ...k8s, failureBudget: 0, absorbFailures: true });
            // A node's steps do not depend on the budget: a stack converted with none left is unchanged with some.
            for (const step of ["wave-2-drain", "switch", "wave-2"]) {
                const [x, y] = step.startsWith("wave") ? [withBudget.res.get(`zq-${step}`)!, none.res.get(`zw-${step}`)!]
                    : [withBudget.res.get(`zqb-${step}`)!, none.res.get(`zwb-${step}`)!];
                assert.deepStrictEqual(y.inputs.triggers, x.inputs.triggers, step);
                // (The verify names the drain by a digest of its text, which names the node: the drains are compared as text.)
                const norm = (inputs: unknown, node: string) => JSON.stringify(inputs).replace(new RegExp(`\\b${node}\\b`, "g"), "N").replace(/AFTER='[0-9a-f]{16}'/, "AFTER=D");
                assert.strictEqual(norm(y.inputs, "zwb"), norm(x.inputs, "zqb"), step);
            }
            assert.strictEqual(withBudget.res.get("zq-result")!.inputs.create, "echo 'every node passed'");
            assert.match(none.res.get("zw-wave-1-passed")!.inputs.create, /1 nodes failed, more than the failure budget of 0: zwa \(switch .*\); the rollout stops before wave 2' >&2; exit 1$/);
            assert.match(none.res.get("zw-result")!.inputs.create, /1 of 2 nodes failed, more than the failure budget of 0: zwa/);
        } finally {
            failingGates.clear();
        }
        const { ContainerdFleet } = await import("../../components/fleet/fleet");
        assert.throws(() => new ContainerdFleet("f11", { nodes: nodes("f11"), settings, absorbFailures: true }), /invalid absorbFailures: true needs kubernetes/);
        assert.throws(() => new ContainerdFleet("f12", { nodes: nodes("f12"), ...k8s, absorbFailures: "yes" as never }), /invalid absorbFailures: expected true or false, got "yes"/);
        for (const bad of [0, 2.5, 1001]) {
            assert.throws(() => new ContainerdFleet(`f13-${bad}`, { nodes: nodes(`f13${bad}`), ...k8s, healthGate: { nodesAtOnce: bad } }),
                new RegExp(`invalid healthGate\\.nodesAtOnce: expected an integer from 1 to 1000, got ${bad}`));
        }
    });
    it("without a failure budget nothing is soft: no triggers after the drain, no result barrier", async () => {
        const { res } = await fleet("f9", {
            nodes: [{ name: "f9a", connection: conn("a"), nodeFacts: DOCKER_FACTS }],
            settings: { ...settings, kubelet: { version: "1.30.4" } },
            kubernetes: { kubeconfig: "/tmp/kc" },
        });
        assert.strictEqual(res.get("f9a-switch")!.inputs.triggers, undefined);
        assert.doesNotMatch(res.get("f9a-switch")!.inputs.stdin, /ABSORB_FAILURE/);
        assert.doesNotMatch(res.get("f9-wave-1-drain")!.inputs.create, /^PLANNED=/m);
        assert.ok(!res.has("f9-result"));
    });
    it("a node the pre-flight refuses fails the barrier before every change, naming the node and why; no node is changed", async () => {
        const noSystemd = { ...DOCKER_FACTS, host: { arch: "amd64", systemd: false, freeMiB: { "/var/lib/containerd": 5000 }, runc: true } };
        const { res } = await fleet("f6", { nodes: [
            { name: "f6a", connection: conn("a"), nodeFacts: DOCKER_FACTS },
            { name: "f6b", connection: conn("b"), nodeFacts: noSystemd },
        ] });
        const create: string = res.get("f6-preflight-passed")!.inputs.create;
        assert.match(create, /^echo 'containerd-node: the pre-flight refuses 1 of 2 nodes, so no node is changed:\nthe pre-flight refuses the run:\nf6b: systemd is required: the node has no systemctl' >&2; exit 1$/);
        assert.ok(res.get("f6a-lib")!.dependsOn.includes("f6-preflight-passed"), "the other node waits for the barrier too");
    });
    it("nodes are built a batch at a time: the next batch once the engine has registered the components before it", async () => {
        const { ContainerdFleet, NODE_BATCH: batch } = await import("../../components/fleet/fleet");
        created = [];
        held.set("b7", () => undefined);
        const nodes = Array.from({ length: batch + 1 }, (_, i) => ({ name: `b${i}`, connection: conn(`h${i}`), nodeFacts: DOCKER_FACTS }));
        const f = new ContainerdFleet("b", { nodes, settings, maxUnavailable: "50%" }, { transformations: [recordDeps] });
        await new Promise(r => setTimeout(r, 300));
        const names = () => new Set(created.map(c => c.name));
        assert.ok(names().has(`b${batch - 1}`), `the first ${batch} nodes are built`);
        assert.ok(!names().has(`b${batch}`), "the next waits while a component of the first batch is not registered");
        assert.ok(!names().has("b-preflight-passed"), "the barrier waits for every node's plan");
        const limit = Error.stackTraceLimit;
        held.get("b7")!();
        held.clear();
        const table = await value(f.table);
        assert.ok(names().has(`b${batch}`), "built once it was registered");
        assert.strictEqual(table.length, batch + 1);
        assert.strictEqual(Object.keys(f.nodes).length, batch + 1);
        const order = created.map(c => c.name);
        assert.ok(order.indexOf("b-preflight-passed") > order.indexOf(`b${batch}`), "the barrier comes after every node");
        // The SDK's promise traces are left out while the nodes are built (components/promiseTraces.ts), and no longer.
        assert.strictEqual(limit, 0);
        await new Promise(r => setTimeout(r, 100));
        assert.ok(Error.stackTraceLimit > 0, `the limit is put back once every node is built (now ${Error.stackTraceLimit})`);
    });
    it("bad input of a node of a later batch fails at once, naming the node and the field", async () => {
        const { ContainerdFleet } = await import("../../components/fleet/fleet");
        created = [];
        const nodes = Array.from({ length: 101 }, (_, i) => ({ name: `v${i}`, connection: { ...conn(`h${i}`), port: i === 100 ? 70000 : 22 }, nodeFacts: DOCKER_FACTS }));
        assert.throws(() => new ContainerdFleet("v", { nodes, settings }),
            /node v100: invalid connection.port: expected an integer from 1 to 65535, got 70000/);
        await new Promise(r => setTimeout(r, 100));
        // A child waiting on the rest of the constructor would keep the program from ending.
        assert.deepStrictEqual(created.map(c => c.name).filter(n => n !== "v"), [], "nothing but the fleet itself was registered");
    });
    it("a failure budget without Kubernetes mode fails naming the field", async () => {
        const { ContainerdFleet } = await import("../../components/fleet/fleet");
        assert.throws(() => new ContainerdFleet("f10", { nodes: [{ name: "f10a", connection: conn("a"), nodeFacts: DOCKER_FACTS }], settings, failureBudget: 1 }),
            /invalid failureBudget: a budget above 0 needs kubernetes/);
    });
    it("a bad maxUnavailable fails naming the field", async () => {
        const { ContainerdFleet } = await import("../../components/fleet/fleet");
        assert.throws(() => new ContainerdFleet("f6", { nodes: [{ name: "f6a", connection: conn("a"), nodeFacts: DOCKER_FACTS }], settings, maxUnavailable: "0%" }),
            /invalid maxUnavailable: expected an integer ≥ 1 or a percentage/);
    });
});

describe("command steps (RemoteStep, LocalStep)", () => {
    /** What the engine would get for a resource: its inputs, and the options that reach it. */
    async function registered(make: (name: string, opts: pulumi.CustomResourceOptions) => pulumi.Resource) {
        created = [];
        let opts: pulumi.ResourceOptions = {};
        const r = make("eq", { transformations: [a => { opts = a.opts; return undefined; }] });
        await value(r.urn);
        await new Promise(res => setTimeout(res, 20));
        const c = created.find(x => x.name === "eq")!;
        const o = opts as pulumi.CustomResourceOptions;
        return { type: c.type, inputs: c.inputs, version: o.version, secret: o.additionalSecretOutputs ?? [], replaceOnChanges: o.replaceOnChanges ?? [] };
    }
    const connection = { host: "10.0.0.9", port: 2222, user: "admin", privateKey: pulumi.secret("KEY"), hostKey: "ssh-ed25519 AAAA", dialErrorLimit: 10, perDialTimeout: 15 };

    it("a RemoteStep reaches the engine exactly as @pulumi/command's remote.Command would", async () => {
        const { RemoteStep, secretConnection } = await import("../../components/commands");
        const command = await import("@pulumi/command");
        const create = pulumi.output("echo hi");
        // (A node makes its connection's secret once, for all its steps.)
        const ours = await registered((n, opts) => new RemoteStep(n, { connection: secretConnection(connection), create, triggers: ["t1"] }, opts));
        const theirs = await registered((n, opts) => new command.remote.Command(n, { connection, create, triggers: ["t1"], addPreviousOutputInEnv: false }, opts));
        assert.deepStrictEqual(ours, theirs);
        assert.strictEqual(ours.version, "1.2.1");
        assert.deepStrictEqual(ours.secret, ["connection"]);
        assert.deepStrictEqual(ours.replaceOnChanges, ["triggers[*]"]);
        // Without triggers the same but for the replace rule, which names only triggers (the state keeps the rule for each step).
        const bare = await registered((n, opts) => new RemoteStep(n, { connection: secretConnection(connection), create }, opts));
        const theirsBare = await registered((n, opts) => new command.remote.Command(n, { connection, create, addPreviousOutputInEnv: false }, opts));
        assert.deepStrictEqual({ ...bare, replaceOnChanges: theirsBare.replaceOnChanges }, theirsBare);
        assert.deepStrictEqual(bare.replaceOnChanges, []);
    });
    it("a LocalStep reaches the engine exactly as @pulumi/command's local.Command would", async () => {
        const { LocalStep } = await import("../../components/commands");
        const command = await import("@pulumi/command");
        const args = { create: "kubectl get nodes", interpreter: ["/bin/bash", "-c"], environment: { KUBECONFIG: "/tmp/k" }, triggers: [pulumi.output("m")] };
        const ours = await registered((n, opts) => new LocalStep(n, args, opts));
        const theirs = await registered((n, opts) => new command.local.Command(n, { ...args, addPreviousOutputInEnv: false }, opts));
        assert.deepStrictEqual(ours, theirs);
        assert.deepStrictEqual(ours.replaceOnChanges, ["triggers[*]"]);
    });
    it("a step is registered with no source position (the SDK's frames of this package's lines), the SDK's reader put back; other resources keep theirs", async () => {
        const { RemoteStep, LocalStep, CopyStep, secretConnection } = await import("../../components/commands");
        const sdk = pulumi.Resource as unknown as { stackTrace: (skip: number) => unknown[]; callsites: () => unknown[] };
        const stackTrace = sdk.stackTrace, callsites = sdk.callsites;
        const traces: unknown[][] = [];
        sdk.stackTrace = (skip: number) => { const t = stackTrace.call(sdk, skip); traces.push(t); return t; };
        try {
            const sent = secretConnection(connection);
            new RemoteStep("sp-r", { connection: sent, create: "true" });
            new LocalStep("sp-l", { create: "true" });
            new CopyStep("sp-c", { connection: sent, source: new pulumi.asset.FileAsset(__filename), remotePath: "/tmp/x" });
            assert.strictEqual(sdk.callsites, callsites, "the SDK's reader is back");
            new pulumi.ComponentResource("test:index:Other", "sp-other");
            // A step that fails to register (a bad option) puts the reader back too.
            assert.throws(() => new LocalStep("sp-bad", { create: "true" }, { parent: "not a resource" as any }));
            assert.strictEqual(sdk.callsites, callsites);
        } finally {
            sdk.stackTrace = stackTrace;
        }
        assert.deepStrictEqual(traces.slice(0, 3), [[], [], []], "the three steps: no frames");
        assert.ok(traces[3].length > 0, "another resource's frames are read as before");
        process.env.CN_STEP_SOURCE_POSITIONS = "1";
        try {
            sdk.stackTrace = (skip: number) => { const t = stackTrace.call(sdk, skip); traces.push(t); return t; };
            new LocalStep("sp-kept", { create: "true" });
            assert.ok(traces[traces.length - 1].length > 0, "CN_STEP_SOURCE_POSITIONS=1 keeps them");
        } finally {
            sdk.stackTrace = stackTrace;
            delete process.env.CN_STEP_SOURCE_POSITIONS;
        }
    });
    it("declares only the properties the package reads: stdout, not stderr or the inputs' echo", async () => {
        const { RemoteStep, secretConnection } = await import("../../components/commands");
        const step = new RemoteStep("lean", { connection: secretConnection(connection), create: "true" });
        assert.ok(pulumi.Output.isInstance(step.stdout));
        assert.strictEqual((step as any).stderr, undefined);
        assert.strictEqual((step as any).update, undefined);
        assert.strictEqual((step as any).triggers, undefined, "an input not given is not declared");
        assert.strictEqual(await value(step.stdout), "containerd://2.1.4");
    });
});
