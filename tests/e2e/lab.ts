/**
 * Test helpers for the real thing: lab nodes (lab/*.sh), the artifact server, and stacks of the
 * repo's own index.ts driven through the Automation API against the real Pulumi engine.
 */
import * as assert from "assert";
import { LocalWorkspace, Stack, ConfigMap } from "@pulumi/pulumi/automation";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import main = require("../../index");
import { kubeconfigDir } from "../../components/kubeconfig";

export const REPO = path.resolve(__dirname, "..", "..");
export const LAB_DIR = process.env.LAB_DIR ?? path.join(REPO, ".lab");
const CACHE = process.env.CONTAINERD_NODE_CACHE ?? path.join(os.homedir(), ".cache", "containerd-node");
export const ARTIFACT_PORT = 18080;

/** kubectl of the lab cluster's control plane (scripts/kube/build.sh). */
export const KUBECTL = (() => {
    const env = fs.readFileSync(path.join(REPO, "scripts", "kube", "versions.env"), "utf8");
    const v = /^CONTROL_PLANE_VERSION=(\S+)/m.exec(env)![1];
    return path.join(CACHE, "kube", v, "kubectl");
})();

/** crictl of the lab (scripts/kube/build.sh), for nodes that have none. */
export const CRICTL = (() => {
    const env = fs.readFileSync(path.join(REPO, "scripts", "kube", "versions.env"), "utf8");
    return path.join(CACHE, "kube", `crictl-${/^CRICTL_VERSION=(\S+)/m.exec(env)![1]}`, "crictl");
})();

export function artifacts(): { [k: string]: string } {
    const text = fs.readFileSync(path.join(CACHE, "artifacts", "artifacts.env"), "utf8");
    return Object.fromEntries(text.trim().split("\n").map(l => l.split("=", 2) as [string, string]));
}

/** containerd 2.x and runc from the lab's artifact server, as a node's `containerd` input. */
export function labContainerd2() {
    const A = artifacts();
    return {
        version: A.CONTAINERD2_VERSION,
        source: { kind: "tarball" as const, url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.CONTAINERD2_FILE}`, sha256: A.CONTAINERD2_SHA256 },
        runc: { url: `http://127.0.0.1:${ARTIFACT_PORT}/${A.RUNC_FILE}`, sha256: A.RUNC_SHA256 },
    };
}

/**
 * BuildKit and crictl from the lab's artifact server (artifacts/build.sh), as a node's `tools`
 * input: found by their checksum files, so an artifacts.env another checkout rewrote does not
 * hide them.
 */
export function labTools() {
    const dir = path.join(CACHE, "artifacts");
    const tool = (re: RegExp) => {
        const sum = fs.readdirSync(dir).find(f => re.test(f));
        if (sum === undefined) {
            throw new Error(`no ${re} in ${dir}: run bash artifacts/build.sh`);
        }
        const file = sum.replace(/\.sha256sum$/, "");
        return { version: re.exec(sum)![1], source: { url: `http://127.0.0.1:${ARTIFACT_PORT}/${file}`, sha256: fs.readFileSync(path.join(dir, sum), "utf8").slice(0, 64) } };
    };
    return {
        buildkit: tool(/^buildkit-v(\d+\.\d+\.\d+)\.linux-amd64\.tar\.gz\.sha256sum$/),
        crictl: tool(/^crictl-v(\d+\.\d+\.\d+)-linux-amd64\.tar\.gz\.sha256sum$/),
    };
}

/** Runs a command on a lab node; returns stdout (throws with stderr on failure unless allowFail). */
export function onNode(node: string, script: string, allowFail = false): string {
    const r = spawnSync(path.join(REPO, "lab", "ssh.sh"), [node, script], { encoding: "utf8", env: { ...process.env, LAB_DIR } });
    if (r.status !== 0 && !allowFail) {
        throw new Error(`on ${node}: ${script}\nexit ${r.status}\n${r.stdout}\n${r.stderr}`);
    }
    return r.stdout;
}

/** Runs a command inside a lab node's namespaces from the host: no SSH session, so none in its sshd log. */
export function inNode(node: string, cmd: string): string {
    const pid = fs.readFileSync(path.join(LAB_DIR, `${node}.pid`), "utf8").trim();
    return execFileSync("bash", ["-c", 'init=$(pgrep -P "$1" | head -n 1); nsenter -t "$init" -a -- /bin/bash -c "$2"', "_", pid, cmd], { encoding: "utf8" });
}

/**
 * On the node: waits until a step's run reports `phase`, then kills every SSH session but its
 * own (the step's session among them): the cut the issue measured. (Anchored: the pattern is in
 * this script's own command line too.)
 */
export function cutAt(node: string, step: string, phase: string): ChildProcess {
    const script = `for i in $(seq 1 1200); do
  if grep -qxF ${JSON.stringify(phase)} /var/lib/containerd-node/runs/${step}-*/phases 2>/dev/null; then
    for p in $(pgrep -f '^sshd: root@notty'); do [ "$p" = "$PPID" ] || kill -KILL "$p"; done; echo cut; exit 0
  fi
  sleep 0.05
done; echo never; exit 1`;
    return spawn(path.join(REPO, "lab", "ssh.sh"), [node, script], { env: { ...process.env, LAB_DIR }, stdio: ["ignore", "pipe", "inherit"] });
}

/** Waits until no containerd-node step runs on the node (the cut step finishes on its own). */
export function settled(node: string): void {
    onNode(node, "for i in $(seq 1 120); do systemctl list-units --no-legend 'containerd-node-*' | grep -q running || exit 0; sleep 1; done; exit 1");
}

/**
 * Boots a lab node (lab/node-up.sh); `address`: a loopback address of its own for its sshd (and its
 * Node's InternalIP once joined); `env`: node-up.sh's options (e.g. DOCKER_PROXY).
 */
export function nodeUp(name: string, port: number, address?: string, env: { [name: string]: string } = {}): void {
    execFileSync(path.join(REPO, "lab", "node-up.sh"), [name, String(port)], { stdio: "inherit", env: { ...process.env, LAB_DIR, ...(address ? { NODE_ADDRESS: address } : {}), ...env } });
}

export function nodeDown(name: string): void {
    spawnSync(path.join(REPO, "lab", "node-down.sh"), [name], { stdio: "inherit", env: { ...process.env, LAB_DIR } });
}

/**
 * Adds a login that is not root to a lab node, as many fleets have: the lab's key, password-less
 * sudo (what `connection.user` asks of a user other than root). Root's own login stays, for the
 * tests' checks (onNode).
 */
export function addSudoUser(node: string, user: string): void {
    onNode(node, `set -e; useradd -m -s /bin/bash ${user}
install -d -m 700 -o ${user} -g ${user} /home/${user}/.ssh
install -m 600 -o ${user} -g ${user} /root/.ssh/authorized_keys /home/${user}/.ssh/authorized_keys
echo '${user} ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/${user}; chmod 440 /etc/sudoers.d/${user}`);
}

export function labNode(name: string) {
    return {
        name,
        host: fs.existsSync(path.join(LAB_DIR, `${name}.address`)) ? fs.readFileSync(path.join(LAB_DIR, `${name}.address`), "utf8").trim() : "127.0.0.1",
        port: Number(fs.readFileSync(path.join(LAB_DIR, `${name}.port`), "utf8").trim()),
        hostKey: fs.readFileSync(path.join(LAB_DIR, `${name}.hostkey`), "utf8").trim(),
    };
}

/**
 * A stack of the repo's own stack program (index.ts, as scripts/stack.ts runs it: an inline
 * program driven through the real CLI), with a file:// backend in a temp dir and its config set
 * from `config` (each value JSON; `privateKey` a secret; `registryAuth` one secret per credential;
 * `proxy` its URLs secrets, its noProxy not).
 */
export async function labStack(name: string, config: { [key: string]: unknown }): Promise<Stack> {
    const plain = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "registryAuth" && k !== "proxy"));
    const stack = await inlineStack("containerd-node", name, main, plain, k => k === "privateKey" || k === "kubeconfigContent");
    // As index.ts's header tells users to (`pulumi config set --secret --path 'registryAuth["HOST"].password'`):
    // each credential its own secret.
    const auth = (config.registryAuth ?? {}) as { [host: string]: { [field: string]: string } };
    const leaves: ConfigMap = {};
    for (const [host, fields] of Object.entries(auth)) {
        for (const [f, v] of Object.entries(fields)) {
            leaves[`containerd-node:registryAuth["${host}"].${f}`] = { value: v, secret: f !== "username" };
        }
    }
    // As index.ts's header says: `pulumi config set --secret --path proxy.httpProxy …`.
    for (const [f, v] of Object.entries((config.proxy ?? {}) as { [field: string]: string })) {
        leaves[`containerd-node:proxy.${f}`] = { value: v, secret: f !== "noProxy" };
    }
    if (Object.keys(leaves).length) {
        await stack.setAllConfig(leaves, true);
    }
    return stack;
}

/**
 * A stack of one of examples/DIR as its own project (the name in its Pulumi.yaml), its program run
 * inline like labStack's; `config` as values of that project's namespace, the keys in `secrets`
 * as secrets.
 */
export async function exampleStack(dir: string, name: string, config: { [key: string]: unknown }, secrets: string[]): Promise<Stack> {
    const project = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(REPO, "examples", dir, "Pulumi.yaml"), "utf8"))![1];
    return inlineStack(project, name, require(path.join(REPO, "examples", dir)), config, k => secrets.includes(k));
}

/** A stack of PROJECT running `program` inline, with a file:// backend in a temp dir and `config` set (each value JSON). */
async function inlineStack(project: string, name: string, program: () => Promise<any>, config: { [key: string]: unknown }, secret: (key: string) => boolean): Promise<Stack> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cnode-${name}-`));
    fs.mkdirSync(path.join(work, ".state"));
    const stack = await LocalWorkspace.createStack({ stackName: name, projectName: project, program }, {
        workDir: work,
        projectSettings: { name: project, runtime: "nodejs", backend: { url: `file://${path.join(work, ".state")}` } },
        envVars: { PULUMI_CONFIG_PASSPHRASE: "lab", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const cfg: ConfigMap = {};
    for (const [k, v] of Object.entries(config).filter(([, v]) => v !== undefined)) {
        cfg[`${project}:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v), secret: secret(k) };
    }
    await stack.setAllConfig(cfg);
    return stack;
}

/**
 * Seconds each resource's operation took in an update (from the engine's events, keyed by the
 * resource name), plus `total` from the first to the last event.
 */
export function durations(events: any[]): { [name: string]: number } {
    const start: { [urn: string]: number } = {};
    const out: { [name: string]: number } = {};
    for (const e of events) {
        const pre = e.resourcePreEvent?.metadata;
        const done = e.resOutputsEvent?.metadata;
        if (pre) {
            start[pre.urn] = e.timestamp;
        } else if (done && start[done.urn] !== undefined) {
            out[done.urn.split("::").pop()] = e.timestamp - start[done.urn];
        }
    }
    out.total = events.length ? events[events.length - 1].timestamp - events[0].timestamp : 0;
    return out;
}

/** The stack's latest checkpoint's resources, as the file backend keeps them. */
export function checkpointResources(stack: Stack): { urn: string; type: string; inputs?: any; outputs?: any; sourcePosition?: string }[] {
    const stacks = path.join(stack.workspace.workDir, ".state", ".pulumi", "stacks");
    const file = fs.readdirSync(stacks, { recursive: true, encoding: "utf8" }).find(f => path.basename(f) === `${stack.name}.json`);
    if (file === undefined) {
        throw new Error(`no checkpoint of ${stack.name} under ${stacks}`);
    }
    return JSON.parse(fs.readFileSync(path.join(stacks, file), "utf8")).checkpoint.latest.resources;
}

/** Every file of a lab stack's file:// backend, as stored. */
export function stateText(stack: Stack): string {
    const dir = path.join(stack.workspace.workDir, ".state");
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true })
        .flatMap(e => e.isDirectory() ? walk(path.join(d, e.name)) : [fs.readFileSync(path.join(d, e.name), "utf8")]);
    return walk(dir).join("\n");
}

/**
 * What `kubectl drain` printed in a run's drain of NODE: the drain's log in the run's directory on
 * this machine (components/node/kubectl.sh cn_drain), which the step's output names instead of
 * holding kubectl's lines.
 */
export function drainLog(node: string): string {
    return fs.readFileSync(path.join(kubeconfigDir(), `drain-${node}.log`), "utf8");
}

/** Counts of each operation in a preview/up summary, without "same". */
export function changes(summary: { [op: string]: number } | undefined): { [op: string]: number } {
    return Object.fromEntries(Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && n > 0));
}

/** Runs `pulumi up`, which must change nothing; the assertion names each resource it changed, and how. */
export async function upChangesNothing(stack: Stack, what = "a second pulumi up changes nothing"): Promise<void> {
    const changed: string[] = [];
    const res = await stack.up({
        color: "never", onEvent: e => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.op !== "same" && m.op !== "read") {
                changed.push(`${m.urn.split("::").pop()} ${m.op} [${(m.diffs ?? []).join(",")}]`);
            }
        },
    });
    assert.deepStrictEqual(changes(res.summary.resourceChanges as { [op: string]: number }), {}, `${what}: ${changed.join("; ")}`);
}

/**
 * `npm pack` of the repository into `dest` (its prepack compiles bin/ afresh), then the tarball
 * installed into a new project `dest/app`, as a consumer would; returns the tarball's path and
 * npm's record of it. Under a lock: two files packing at once would each remove the other's bin/.
 */
export function packAndInstall(dest: string): { tarball: string; packed: { filename: string; entryCount: number; size: number; unpackedSize: number } } {
    fs.mkdirSync(path.join(REPO, ".lab"), { recursive: true });
    const packed = JSON.parse(execFileSync("flock", [path.join(REPO, ".lab", "npm-pack.lock"), "npm", "pack", "--json", "--pack-destination", dest], {
        cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
    }))[0];
    const tarball = path.join(dest, packed.filename);
    const app = path.join(dest, "app");
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    // --ignore-scripts: @pulumi/command's install script runs `pulumi plugin install`; the
    // engine's plugins are scripts/engine's business, not a package install's.
    execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", tarball], {
        cwd: app, stdio: ["ignore", "inherit", "inherit"],
    });
    return { tarball, packed };
}

export const privateKey = () => fs.readFileSync(path.join(LAB_DIR, "id_ed25519"), "utf8");

/** An ssh-agent holding the lab's key, listening at a new socket; stop() ends it. */
export async function agentWithLabKey(): Promise<{ sock: string; stop: () => void }> {
    const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cn-agent-")), "agent.sock");
    const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) {
        await new Promise(r => setTimeout(r, 50));
    }
    execFileSync("ssh-add", ["-q", path.join(LAB_DIR, "id_ed25519")], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "pipe" });
    return { sock, stop: () => { agent.kill(); } };
}

/** The lab cluster's admin kubeconfig (lab/cluster-up.sh). */
export const ADMIN_KUBECONFIG = path.join(LAB_DIR, "cluster", "admin.conf");

/**
 * Stack settings that convert lab/node-up.sh nodes joined to the lab cluster (Docker and
 * dockershim, kubelet 1.23) to the lab's containerd 2.x, in Kubernetes mode.
 */
/**
 * What of the lab kubelets' Docker settings (lab/kubelet-join.sh) the lab's conversion drops: Docker's
 * default runtime, lab-runc, a runc that leaves OOM scores alone in systemd-nspawn; under
 * containerd restrict_oom_score_adj does that, and pods that want lab-runc name its RuntimeClass.
 */
export const LAB_DOCKER_DROPPED = ["docker:default-runtime"];
/** The lab cluster's plain-HTTP registry with basic auth (lab/cluster-up.sh; lab/lib.sh PLAIN_REGISTRY): an insecure registry of the Docker nodes. */
export const LAB_PLAIN_REGISTRY = `plain.lab.internal:${Number(process.env.REGISTRY_PORT ?? 5443) + 100}`;
/** The lab Docker's second runtime (daemon.json `runtimes`), carried as a CRI runtime handler. */
export const LAB_DOCKER_RUNTIMES = { "lab-runc": { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/local/bin/lab-runc", SystemdCgroup: false } } };
/** The lab kubelets' kubelet settings: the container log rotation their Docker had (json-file, 1m × 3). */
export const LAB_KUBELET = { version: "1.23.17", containerLogMaxSize: "1M", containerLogMaxFiles: 3 };

export function clusterSettings(over: { [k: string]: unknown } = {}) {
    return {
        privateKey: privateKey(),
        kubeconfig: ADMIN_KUBECONFIG,
        kubectl: KUBECTL,
        containerd: labContainerd2(),
        // The lab's kubelets use cgroupfs (as Docker does) and the locally made pause image; nothing
        // on this machine may lower an OOM score (no CAP_SYS_RESOURCE), hence restrict_oom_score_adj.
        config: {
            systemdCgroup: false,
            sandboxImage: "k8s.gcr.io/pause:3.2",
            extraToml: { plugins: { "io.containerd.cri.v1.runtime": { restrict_oom_score_adj: true } } },
            runtimes: LAB_DOCKER_RUNTIMES,
            // The Docker nodes' registry-mirrors and insecure-registries (lab/kubelet-join.sh).
            registryMirrors: { "docker.io": [LAB17_MIRROR] },
            insecureRegistries: [LAB_PLAIN_REGISTRY],
        },
        kubelet: LAB_KUBELET,
        docker: { mode: "disable", migrateImages: true },
        upgrade: { acknowledgeDropped: [...LAB_DOCKER_DROPPED] },
        drain: { timeoutSeconds: 120, gracePeriodSeconds: 1 },
        verifyTimeoutSeconds: 120,
        ...over,
    };
}

/** lab/node-17.sh's registry password (its default; the tests pass it, to know what must never show). */
export const LAB17_REGISTRY_PASSWORD = "lab-registry-s3cret";
/** lab/node-17.sh's docker.io mirror. */
export const LAB17_MIRROR = "https://mirror.lab.internal";

/** The lab registry (lab/cluster-up.sh, on REGISTRY_PORT): mutual TLS, its CA and client files on lab/node-17.sh's nodes. */
export const LAB_TLS_REGISTRY = `tls.lab.internal:${process.env.REGISTRY_PORT ?? 5443}`;
/** The image it serves. */
export const LAB_TLS_IMAGE = `${LAB_TLS_REGISTRY}/lab/tls:1`;
/** The typed inputs that carry everything lab/node-17.sh's schema 2 config sets (credentials apart: `registryAuth`). */
export const LAB17_CARRIED = {
    systemdCgroup: false,
    sandboxImage: "registry.k8s.io/pause:3.9",
    registryMirrors: { "docker.io": [LAB17_MIRROR] },
    registryTls: { [LAB_TLS_REGISTRY]: { caFile: "/etc/containerd/lab-tls/ca.pem", certFile: "/etc/containerd/lab-tls/node.crt", keyFile: "/etc/containerd/lab-tls/node.key" } },
    runtimes: { "runc-alt": { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/local/bin/lab-runc", SystemdCgroup: false } } },
    extraToml: { plugins: { "io.containerd.cri.v1.runtime": { restrict_oom_score_adj: true } } },
};

/**
 * Runs `pulumi up`, which must fail; returns the error with the CLI's stdout and stderr, its
 * Diagnostics section (what failed and why) also first: an assertion on it that fails shows the
 * cause at the top of its message, not a screen of the resources the run began.
 */
export async function upExpectingFailure(stack: Stack): Promise<string> {
    try {
        await stack.up({ color: "never" });
    } catch (e) {
        const { text, diagnostics } = failedRun(e);
        return diagnostics === undefined ? text : `${diagnostics}\n---\n${text}`;
    }
    throw new Error("pulumi up succeeded, expected it to fail");
}

/**
 * A failed Automation API run's message with the CLI's stdout and stderr, and its Diagnostics
 * section (at most 4,000 characters) when it has one: only the resources that have an error
 * there, when some do (a large fleet's run also has a message for every node).
 */
export function failedRun(e: unknown): { text: string; diagnostics?: string } {
    const err = e as { message?: string; commandResult?: { stdout?: string; stderr?: string } };
    const text = `${err.message ?? String(e)}\n${err.commandResult?.stdout ?? ""}\n${err.commandResult?.stderr ?? ""}`;
    const at = text.indexOf("Diagnostics:");
    if (at < 0) {
        return { text };
    }
    // The section's blocks, one per resource ("  TYPE (NAME):" and its indented lines), up to the next section.
    const section = text.slice(at).split(/\n(?=\S)/)[0];
    const blocks = section.split(/\n(?=  \S)/).slice(1);
    const errors = blocks.filter(b => /^\s+error:/m.test(b));
    return { text, diagnostics: (errors.length > 0 ? `Diagnostics (the ${errors.length} of ${blocks.length} resources with an error):\n${errors.join("\n")}` : section).slice(0, 4000) };
}
