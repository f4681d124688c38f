/**
 * Fleet-scale harness: fleets of many nodes with no more than a few machines. Every fleet node is
 * one of a few real lab nodes (systemd-nspawn, sshd) under a name of its own and with a
 * `stateDir` of its own on that machine (so each has its own library copy, lock, claim and run
 * records, and the steps of two fleet nodes never take each other for a rerun). The lab nodes
 * are converted first by a fleet of their own, so every fleet node's steps run for real (SSH,
 * the node library, each step's checks) and find the machine as declared: what is measured is
 * what Pulumi and the package cost per node, not containerd's install.
 *
 * For each size, and each checkpoint mode (after every operation, the engine's default; skipped:
 * `PULUMI_SKIP_CHECKPOINTS=true`, written once at the end), on the file
 * backend, through the real CLI and command provider:
 *   - `pulumi preview` of the new fleet, as a person runs it (the CLI, the program served from
 *     this process, no Automation API event stream): wall time and peak memory of the whole
 *     process tree, the nodes' facts read over SSH as a person's preview reads them;
 *   - `pulumi up`: wall time against the ideal ⌈N / maxUnavailable⌉ × one fleet node's time
 *     (a fleet of one, measured first), resource operations, and the engine's cost per operation
 *     (CPU seconds of the `pulumi` process, the engine and its checkpoint writes, divided by the
 *     operations);
 *   - the state per node (the stack's checkpoint divided by N);
 *   - a second `pulumi up`: its wall time; it must change nothing (checked).
 *
 *   npm run bench:scale [-- SIZE…] [--hosts K] [--checkpoints every|skipped|both] [--max-unavailable N|N%] [--parallel P] [--preview-only] [--answering] [--inline] [--facts lab,answering,given] [--baseline REF] [--rounds K] [--kubernetes] [--away] [--stack-size S] [--ssh-agent | --key-passphrase PW] [--keep] [--save-checkpoint DIR]
 *
 * `--preview-only` measures only the previews, each twice: with the facts read over SSH, and with
 * every node's facts given (`nodeFacts`, what `bench:preview` measures), so the reads' share shows
 * as the difference; the CPU seconds of the program's process and of the CLI are printed apart.
 * Each of those previews runs its program as `pulumi preview` does under the Node.js language
 * host: bench/fleetMain.ts in a process of its own, started by @pulumi/pulumi's runner (cmd/run)
 * under Pulumi.yaml's Node.js options, TypeScript through ts-node, the package as `npm pack`
 * ships it (compiled first: bench/cli.ts runnerPreview, with this process standing in for the
 * language host). The memory figure is the peak of the CLI's tree (the CLI, its providers) and
 * the program's process together. `--inline` also runs each preview with the program inline, as
 * the Automation API runs one (in a process of its own, the package's sources under ts-node):
 * what an inline program of the Automation API pays. Before them: the reads alone (as many as the
 * largest size, as a preview makes them, in this process), and what one read's reader costs a
 * converted machine, run there without SSH: its wall time, CPU and the processes and threads it
 * starts (the machine's PID counter, the reader itself included; medians of 5 runs).
 * `--facts LIST` (with `--preview-only`) runs only some of those previews: `lab` (read from the
 * lab machines, and the reads alone), `answering` (with `--answering`, below) and `given`; all
 * by default. `--baseline REF` runs each of them with the package as it was at the git commit REF
 * too (compiled in a worktree of its own, removed after), the two in turn, and `--rounds K` each
 * pair K times: a change's previews against the code before it in one run, compared as ratios
 * whatever the machine's speed that hour.
 * `--answering` with `--preview-only` also reads and previews each size against bench/ssh-answer,
 * an SSH endpoint that answers every read with what the reader printed on the first machine: the
 * program's side of each read is real (key exchange, the pinned host key, the key's signature, the
 * reader sent, its output back and parsed), the node's side (an OpenSSH login and the reader's run,
 * which on a real fleet happen on each node, here on the program's own two cores) is not there.
 * So the row says what a preview with the reads costs the program and the engine themselves.
 * With an `up` (either mode), after the no-op `up` each machine's sshd is stopped and the endpoint
 * stands on its port with its host key, answering as the reader at up does there, and the no-op
 * `up` runs once more (the last column; it too must change nothing).
 * With `--kubernetes` the fleets are in Kubernetes mode on the lab cluster (lab/cluster-up.sh):
 * every fleet node is also a Node object of the API server (no kubelet stands behind it: a Node
 * object needs none), so the fleet's reads of the cluster (its Nodes' retry marks, the pods that
 * mount docker.sock) cover them all, and each node has the Kubernetes steps (configure, drain,
 * switch, verify, which runs the fleet's health gate). With `--preview-only` each preview runs
 * with the facts read over SSH and with them given (the converted machine's, with a kubelet
 * added). Without it (the `up`), the facts are read over SSH and every Node object is
 * Ready on the declared containerd, as a converted node's kubelet reports it (the cluster then
 * runs no node lifecycle controller, which would mark a Node with no kubelet Unknown); each
 * machine's kubelet credentials (/etc/kubernetes/kubelet.conf, with which the switch reads its
 * Node) are the lab's admin kubeconfig. So every step runs for real (the drain finds the node on
 * containerd already and cordons nothing; the switch and the verify with its gate read the Node
 * and pass), and what is measured is again the engine's and the package's cost per node.
 * `--away` (one size) runs a fleet of that many nodes plus one on a machine of its own, which is
 * taken down once the second wave starts: the run must fail naming that node, and no node of a
 * later wave may have any step (checked against the state).
 *
 * `--stack-size S` (host mode): each fleet split into stacks of at most S nodes, run as one
 * rollout by upFleetStacks (components/fleet/stacks.ts): every stack previewed (two at a time,
 * through the Automation API), then each stack's up in turn under the fleet's maxUnavailable.
 * Printed: the run's time, the engine's CPU per operation over every stack's up, the state per
 * node (every stack's file), and the time of a second run, in which every stack must be unchanged
 * (previews only, no up: checked).
 * `--ssh-agent`: the fleet nodes' connection is `sshAgent` (an ssh-agent this script starts holds
 * the lab's key) instead of the key as a secret: the state keeps no key.
 * `--key-passphrase PW`: the fleet nodes' key is a copy of the lab's encrypted with PW as ssh-keygen
 * encrypts one (bcrypt, 16 rounds), given with `connection.privateKeyPassword`; the bench's own
 * reads use it too.
 * `--parallel` is `pulumi up --parallel` (default: the CLI's own, 8 in CLI 3.248).
 * `--keep` leaves the lab machines up at the end (lab/node-down.sh scale-hN takes them down).
 * `--save-checkpoint DIR` keeps each converted stack's checkpoint in DIR (see stateBytes).
 */
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cliPreview, nodeArgs, runnerPreview, timeCli } from "./cli";
import { FleetDescription, fleetProgram } from "./fleetProgram";
import { treeRss } from "./proc";
import * as pkg from "../components";
import { automationStack, FleetStack, upFleetStacks } from "../components";
import { changedCount } from "../components/fleet/stacks";
import { NodeFacts } from "../components/facts";
import { readNodeFacts } from "../components/preflight/readFacts";
import { nodeFactsScript } from "../components/scripts/upgradeFacts";
import { DEFAULTS } from "../components/spec";
import { readFactsLimited } from "../components/preflight/planOutputs";
import { resolveMaxUnavailable } from "../components/fleet/waves";
import { ADMIN_KUBECONFIG, agentWithLabKey, ARTIFACT_PORT, changes, failedRun, inNode, KUBECTL, LAB_DIR, labContainerd2, labNode, labStack, nodeDown, nodeUp, onNode, privateKey, REPO } from "../tests/e2e/lab";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";

const SETTINGS = {
    containerd: labContainerd2(),
    docker: { mode: "disable" as const },
};
/** The kubelet version a Kubernetes-mode fleet declares (and its Node objects report). */
const KUBELET_VERSION = "1.23.17";
/** A fleet stack's description (FleetDescription) in its directory. */
const FLEET_FILE = "fleet.json";
/** Where each fleet node keeps its own files on its machine. */
const SCALE_DIR = "/var/lib/containerd-node-scale";

function arg(name: string, fallback: string): string {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Sampled<T> {
    result: T;
    seconds: number;
    /** Peak resident memory of this process and its children (the CLI, the providers), MiB. */
    peakMiB: number;
    /** CPU seconds by program name, over the call. */
    cpu: Map<string, number>;
}

/**
 * Runs `f`, sampling the process trees of `roots` (default: this process) every 100 ms for memory
 * (their sum) and CPU.
 */
async function sampled<T>(f: () => Promise<T>, roots: () => number[] = () => [process.pid]): Promise<Sampled<T>> {
    const before = new Map<number, { name: string; seconds: number }>();
    roots().forEach(r => treeRss(r, before));
    const cpuByPid = new Map<number, { name: string; seconds: number }>();
    let peak = 0;
    const sample = () => {
        const rss = roots().flatMap(r => [...treeRss(r, cpuByPid).values()]);
        peak = Math.max(peak, rss.reduce((a, b) => a + b, 0));
    };
    const timer = setInterval(sample, 100);
    const t0 = Date.now();
    try {
        const result = await f();
        return {
            result,
            seconds: (Date.now() - t0) / 1000,
            peakMiB: peak / 2 ** 20,
            cpu: [...cpuByPid].reduce((m, [pid, p]) => m.set(p.name, (m.get(p.name) ?? 0) + p.seconds - (before.get(pid)?.seconds ?? 0)), new Map<string, number>()),
        };
    } finally {
        clearInterval(timer);
        sample();
    }
}

/**
 * One preview (`--preview-child ARGS…`, see previewChild) in a child process of this script
 * (under the Node.js options Pulumi.yaml gives a program), its tree (the program's process, the
 * CLI, the providers) sampled.
 */
async function sampledChild(args: string[]): Promise<Sampled<void>> {
    const runner = __filename.endsWith(".js") ? [] : [require.resolve("ts-node/dist/bin"), "--transpile-only"];
    const child = spawn(process.execPath, [...nodeArgs(), ...runner, __filename, "--preview-child", ...args], { stdio: ["ignore", "inherit", "inherit"] });
    const ended = new Promise<void>((resolve, reject) => child.on("exit", code => code === 0 ? resolve() : reject(new Error(`the preview child ${args.join(" ")} exited ${code}`))));
    return sampled(() => ended, () => [child.pid!]);
}

/**
 * `pulumi preview` of a new fleet of `n` nodes on `hosts` (`given`: every node's facts given; else
 * read over SSH), its program bench/fleetMain.ts run by the SDK's runner in a process of its own
 * as the Node.js language host runs a program (bench/cli.ts runnerPreview), with the package as
 * compiled for npm (CN_BENCH_PACKAGE). Sampled: the CLI's tree (the CLI, its providers) and the
 * program's process; not this process, which stands in for the language host.
 */
async function sampledRunner(n: number, given: NodeFacts | undefined, kubernetes: boolean, maxUnavailable: string | number, parallel: number | undefined, hosts: string[]): Promise<Sampled<number>> {
    const stack = await fleetStack(`scale-p${n}${given ? "g" : "r"}`, fleetNodes(n, hosts, "one"), maxUnavailable, true, given, kubernetes);
    const ws = stack.workspace as LocalWorkspace;
    const pids: number[] = [];
    try {
        const pre = await sampled(() => runnerPreview(stack.name, ws.workDir, path.join(__dirname, "fleetMain.ts"),
            { ...process.env, ...ws.envVars, CN_BENCH_FLEET: path.join(ws.workDir, FLEET_FILE) }, parallel ? ["--parallel", String(parallel)] : [],
            started => pids.push("cli" in started ? started.cli : started.program)), () => pids);
        // Every node is at least its component and a step: a program that built nothing fails here.
        if (pre.result < 2 * n) {
            throw new Error(`the preview of ${n} nodes plans ${pre.result} resources to create`);
        }
        return pre;
    } finally {
        await stack.workspace.removeStack(stack.name, { force: true });
    }
}

/**
 * The package as `npm pack` ships it (its prepack: tsc -p tsconfig.package.json into bin/), for
 * the programs runnerPreview runs; sets CN_BENCH_PACKAGE to it.
 */
function compilePackage(): void {
    process.env.CN_BENCH_PACKAGE = compiledAt(REPO);
}

/** The package of the tree at `dir` compiled as its prepack does (bin/ there); its entry point. */
function compiledAt(dir: string): string {
    for (const d of ["bin/components", "bin/provider"]) {
        fs.rmSync(path.join(dir, d), { recursive: true, force: true });
    }
    execFileSync(require.resolve("typescript/bin/tsc"), ["-p", "tsconfig.package.json"], { cwd: dir, stdio: "inherit" });
    return path.join(dir, "bin", "components");
}

/**
 * `--baseline REF`: the package as it was at the git commit REF, compiled in a worktree of its
 * own (removed at exit), so each preview row runs with both packages in turn, in one run, and the
 * two compare as ratios whatever the machine's speed that hour. The program (bench/fleetProgram.ts)
 * is this tree's, the package's API being the same.
 */
function baselinePackage(ref: string): { label: string; entry: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-baseline-"));
    const git = (...a: string[]) => execFileSync("git", a, { cwd: REPO, encoding: "utf8" }).trim();
    const commit = git("rev-parse", "--short", `${ref}^{commit}`);
    git("worktree", "add", "--detach", "--quiet", dir, commit);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    const remove = () => { git("worktree", "remove", "--force", dir); };
    try {
        return { label: commit, entry: compiledAt(dir), remove };
    } catch (e) {
        remove();
        throw e;
    }
}

/**
 * The child's side: `pulumi preview` of a new fleet of N nodes on the first HOST_COUNT machines
 * ("given": every node's facts are FACTS_FILE's; "read": read over SSH), in host or Kubernetes
 * mode; its stack removed after.
 */
async function previewChild([n, facts, mode, factsFile, maxUnavailable, parallel, hostList]: string[]): Promise<void> {
    const hosts = hostList.split(",");
    const kubernetes = mode === "kubernetes";
    const given: NodeFacts | undefined = facts === "given" ? JSON.parse(fs.readFileSync(factsFile, "utf8")) : undefined;
    const stack = await fleetStack(`scale-p${n}${given ? "g" : "r"}`, fleetNodes(Number(n), hosts, "one"), /^\d+$/.test(maxUnavailable) ? Number(maxUnavailable) : maxUnavailable, true, given, kubernetes);
    try {
        await preview(stack, Number(parallel) || undefined);
    } finally {
        await stack.workspace.removeStack(stack.name, { force: true });
    }
}

/**
 * Makes each fleet node's stateDir on its machine, its saved original state, artifact cache and
 * staging directory links to the machine's own (made when the machine was converted): the
 * library finds the originals saved and containerd and runc staged, and copies neither (about
 * 220 MB a fleet node otherwise: 1,000 of them fill this machine's disk). Everything else a step
 * keeps (the library, lock, claim, run records, transactions) stays the fleet node's own.
 */
function seedStateDirs(nodes: ReturnType<typeof fleetNodes>, hosts: string[]): void {
    for (const h of hosts) {
        const port = labNode(h).port;
        const dirs = nodes.filter(n => n.port === port).map(n => n.overrides.stateDir);
        // One SSH session per machine, the names in a heredoc of its script.
        onNode(h, `while read -r d; do mkdir -p "$d" && for x in original cache stage; do ln -sfn /var/lib/containerd-node/$x "$d/$x"; done; done <<'EOF'
${dirs.join("\n")}
EOF`);
    }
}

/**
 * Runs `body` on `host` without SSH (inside its namespaces) with the facts reader for a fleet node
 * with `stateDir` saved in the file "$f" (removed after); returns its stdout.
 */
function withReader(host: string, stateDir: string, prepare: boolean, body: string, kubernetes = false): string {
    // (A Kubernetes-mode fleet declares a kubelet: its reads ask for the kubelet's version and config too.)
    const kubelet = kubernetes ? { kubelet: true, kubeletConfig: DEFAULTS.kubeletConfigPath } : {};
    const script = Buffer.from(nodeFactsScript({ stateDir, freePaths: ["/var/lib/containerd"], prepare, ...kubelet })).toString("base64");
    return inNode(host, `f=$(mktemp); echo ${script} | base64 -d >"$f"; ${body}; rm -f "$f"`);
}

/**
 * What the facts reader costs a machine, run there without SSH (inside its namespaces), as a
 * preview runs it for a fleet node with that `stateDir`: medians of 5 runs of its wall time, its
 * CPU (its children's included) and the processes and threads it starts (the machine's PID
 * counter, which counts a Go binary's threads too; the reader itself included).
 */
function readerCost(host: string, stateDir: string): string {
    const runs = withReader(host, stateDir, false, `TIMEFORMAT='%R %U %S'
for i in 1 2 3 4 5; do a=$(cat /proc/sys/kernel/ns_last_pid); t=$( { time bash "$f" >/dev/null; } 2>&1 ); b=$(cat /proc/sys/kernel/ns_last_pid); echo "$t $((b - a - 2))"; done`)
        .trim().split("\n").map(l => l.split(" ").map(Number));
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1];
    const wall = median(runs.map(r => r[0])), cpu = median(runs.map(r => r[1] + r[2])), tasks = median(runs.map(r => r[3]));
    return `the facts reader on a converted machine (no SSH): ${(wall * 1000).toFixed(0)} ms, ${(cpu * 1000).toFixed(0)} ms of CPU, ${tasks} processes and threads started (medians of 5)`;
}

/** The key of the bench's fleet nodes and its own reads: the lab's, or with `--key-passphrase` its copy encrypted with it. */
function benchKey(): { privateKey: string; privateKeyPassword?: string } {
    const file = process.env.CN_BENCH_KEY_FILE;
    return file === undefined ? { privateKey: privateKey() } : { privateKey: fs.readFileSync(file, "utf8"), privateKeyPassword: process.env.CN_BENCH_KEY_PASSPHRASE };
}

/**
 * `--key-passphrase PW`: a copy of the lab's key encrypted with PW as ssh-keygen encrypts one
 * (bcrypt, its default 16 rounds), for the fleet nodes (connection.privateKeyPassword) and this
 * process's reads; set in the environment, which the preview children inherit.
 */
function encryptedKey(passphrase: string): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-key-"));
    const file = path.join(dir, "id_ed25519");
    fs.copyFileSync(path.join(LAB_DIR, "id_ed25519"), file);
    fs.chmodSync(file, 0o600);
    execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", passphrase, "-f", file]);
    process.env.CN_BENCH_KEY_FILE = file;
    process.env.CN_BENCH_KEY_PASSPHRASE = passphrase;
}

/** Every node's facts read over SSH, as a preview reads them (FACT_READS at a time), in this process. */
async function readsAlone(all: ReturnType<typeof fleetNodes>): Promise<{ reads: number; seconds: number; cpuMs: number }> {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await Promise.all(all.map(o => readFactsLimited({
        host: o.host, port: o.port, user: "root", ...benchKey(), hostKey: o.hostKey, dialErrorLimit: 3, perDialTimeout: 15,
    }, { stateDir: o.overrides.stateDir, freePaths: ["/var/lib/containerd"] }).then(f => { if ("error" in f) { throw new Error(f.error); } })));
    const used = process.cpuUsage(cpu0);
    return { reads: all.length, seconds: (Date.now() - t0) / 1000, cpuMs: (used.user + used.system) / 1000 / all.length };
}

/** The answering SSH endpoint (`--answering`), as a lab machine of its own name for fleetNodes. */
interface Answering { name: string; answerBytes: number; stop: () => void }

/** bench/ssh-answer, built with Go into `dir`. */
function buildAnswering(dir: string): string {
    const bin = path.join(dir, "ssh-answer");
    execFileSync("bash", ["-c", `source scripts/go-env.sh && cd bench/ssh-answer && CGO_ENABLED=0 go build -trimpath -o "$1" .`, "_", bin], { cwd: REPO, stdio: "inherit" });
    fs.writeFileSync(path.join(dir, "lab.pub"), execFileSync("ssh-keygen", ["-y", "-f", path.join(LAB_DIR, "id_ed25519")]));
    return bin;
}

/** What the facts reader prints on `host` for a fleet node with `stateDir` (run there without SSH), into `file`. */
function recordAnswer(host: string, stateDir: string, prepare: boolean, file: string, kubernetes = false): number {
    const answer = withReader(host, stateDir, prepare, `bash "$f"`, kubernetes);
    fs.writeFileSync(file, answer);
    return Buffer.byteLength(answer);
}

/** Starts `bin` on 127.0.0.1:`port` answering with `answerFile` (host key `hostKey`, else a new one written to DIR/hostkey-PORT). */
async function startAnswering(bin: string, port: number, answerFile: string, hostKey?: string): Promise<ChildProcess> {
    const dir = path.dirname(bin);
    const child = spawn(bin, ["-listen", `127.0.0.1:${port}`, "-authorized", path.join(dir, "lab.pub"), "-answer", answerFile,
        ...(hostKey ? ["-hostkey", hostKey] : ["-hostkey-out", path.join(dir, `hostkey-${port}`)])], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.once("data", () => resolve());
        child.once("exit", code => reject(new Error(`ssh-answer on port ${port} exited ${code}`)));
    });
    return child;
}

/**
 * Starts bench/ssh-answer (built here with Go) answering every read with what the facts reader
 * printed on `host` for a fleet node with `stateDir` (run there without SSH), on 127.0.0.1:2299
 * and as the lab machine "scale-answer" (LAB_DIR/scale-answer.port and .hostkey), for the lab's
 * key only. The reads of it are real SSH sessions of the program (key exchange, the pinned host
 * key, the key's signature, the reader sent, its output back); only the node's side (an OpenSSH
 * login, the reader's run) is not there.
 */
async function answeringEndpoint(host: string, stateDir: string): Promise<Answering> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-answer-"));
    const bin = buildAnswering(dir);
    const answerBytes = recordAnswer(host, stateDir, false, path.join(dir, "answer"));
    const port = 2299;
    const child = await startAnswering(bin, port, path.join(dir, "answer"));
    const name = "scale-answer";
    fs.writeFileSync(path.join(LAB_DIR, `${name}.port`), `${port}\n`);
    fs.writeFileSync(path.join(LAB_DIR, `${name}.hostkey`), fs.readFileSync(path.join(dir, `hostkey-${port}`), "utf8").trim().split(/\s+/).slice(0, 2).join(" ") + "\n");
    return {
        name, answerBytes, stop: () => {
            child.kill();
            for (const ext of ["port", "hostkey"]) {
                fs.rmSync(path.join(LAB_DIR, `${name}.${ext}`), { force: true });
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * `--answering` with an `up`: each machine's sshd stopped and bench/ssh-answer on its port with its
 * own host key, answering every read as the facts reader at up answers for its first fleet node
 * (recorded there first), so a no-op `up` of the converted fleet runs as before (the same
 * connections, the same facts: nothing to change, checked) with no OpenSSH login or reader run on
 * these cores. Returns what puts the machines' sshd back.
 */
async function answerInPlace(hosts: string[], nodes: ReturnType<typeof fleetNodes>, kubernetes: boolean): Promise<() => Promise<void>> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-answer-"));
    const bin = buildAnswering(dir);
    const children: ChildProcess[] = [];
    const stopped: string[] = [];
    // Each endpoint gone (its port free again) before the machine's sshd starts on it.
    const restore = async () => {
        await Promise.all(children.map(c => new Promise<void>(r => {
            if (c.exitCode !== null || c.signalCode !== null) {
                return r();
            }
            c.once("exit", () => r());
            c.kill();
        })));
        // (A start can fail before sshd runs, 219/CGROUP while the lab's machines shared one cgroup
        // tree, and the unit's Restart= starts it again: what counts is sshd running within a few tries.)
        stopped.forEach(h => inNode(h, "for i in 1 2 3 4 5; do systemctl start ssh && exit 0; sleep 1; done; systemctl is-active ssh"));
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        for (const h of hosts) {
            const { port } = labNode(h);
            const first = nodes.find(n => n.port === port);
            if (first === undefined) {
                continue;
            }
            recordAnswer(h, first.overrides.stateDir, true, path.join(dir, `answer-${h}`), kubernetes);
            inNode(h, "systemctl stop ssh");
            stopped.push(h);
            children.push(await startAnswering(bin, port, path.join(dir, `answer-${h}`), path.join(LAB_DIR, "nodes", h, "etc", "ssh", "ssh_host_ed25519_key")));
        }
    } catch (e) {
        // (What failed first is what the run fails with, whether or not the machines' sshd comes back.)
        await restore().catch(r => console.error(`putting the machines' sshd back failed too: ${r}`));
        throw e;
    }
    return restore;
}

/** A fleet of `n` nodes on the given machines, round robin, each with its own stateDir. */
function fleetNodes(n: number, hosts: string[], tag: string) {
    return Array.from({ length: n }, (_, i) => {
        const name = `${tag}-${String(i).padStart(5, "0")}`;
        return { ...labNode(hosts[i % hosts.length]), name, overrides: { stateDir: `${SCALE_DIR}/${name}` } };
    });
}

/** Each stack's inline program, for its CLI preview. */
const programs = new WeakMap<Stack, () => Promise<unknown>>();

/**
 * `pulumi preview` as a person runs it: the CLI, the program served from this process, and no
 * Automation API event stream (Stack.preview() would also send every engine event, each
 * resource's inputs included, back into this process). Returns the resources it plans to create.
 */
function preview(stack: Stack, parallel?: number): Promise<number> {
    const ws = stack.workspace as LocalWorkspace;
    return cliPreview(stack.name, ws.workDir, programs.get(stack)!, { ...process.env, ...ws.envVars }, parallel ? ["--parallel", String(parallel)] : []);
}

/**
 * A stack whose inline program is one ContainerdFleet of `nodes` (built here, not passed through
 * stack config: a thousand nodes' config is more than one command-line argument may hold). Its
 * description is also in the stack's directory (FLEET_FILE), for bench/fleetMain.ts.
 */
async function fleetStack(name: string, nodes: ReturnType<typeof fleetNodes>, maxUnavailable: string | number, skipCheckpoints: boolean, facts?: NodeFacts, kubernetes = false, exportTable = false): Promise<Stack> {
    const description: FleetDescription = {
        nodes: nodes.map(n => ({ name: n.name, host: n.host, port: n.port, hostKey: n.hostKey, overrides: n.overrides })),
        settings: kubernetes ? { ...SETTINGS, kubelet: { version: KUBELET_VERSION } } : SETTINGS,
        ...(kubernetes ? { kubernetes: { kubeconfig: ADMIN_KUBECONFIG, kubectl: KUBECTL } } : {}),
        maxUnavailable, facts, exportTable,
        // --ssh-agent: the connection names no key (the agent in SSH_AUTH_SOCK holds it; main starts it).
        keyFile: process.env.CN_BENCH_SSH_AGENT === "1" ? undefined : process.env.CN_BENCH_KEY_FILE ?? path.join(LAB_DIR, "id_ed25519"),
        keyPassphrase: process.env.CN_BENCH_KEY_PASSPHRASE,
    };
    const program = fleetProgram(description, pkg);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cnode-${name}-`));
    fs.mkdirSync(path.join(work, ".state"));
    fs.writeFileSync(path.join(work, FLEET_FILE), JSON.stringify(description));
    const stack = await LocalWorkspace.createStack({ stackName: name, projectName: "containerd-node", program }, {
        workDir: work,
        projectSettings: { name: "containerd-node", runtime: "nodejs", backend: { url: `file://${path.join(work, ".state")}` } },
        envVars: {
            PULUMI_CONFIG_PASSPHRASE: "lab", PULUMI_SKIP_UPDATE_CHECK: "true",
            ...(skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
        },
    });
    programs.set(stack, program);
    return stack;
}

const lab = (script: string, env: NodeJS.ProcessEnv = {}) => execFileSync(path.join(REPO, "lab", script), [], { stdio: "inherit", env: { ...process.env, LAB_DIR, ...env } });

/**
 * The lab cluster, with a Node object for each fleet node (one apply of a List): what the fleet's
 * reads of the cluster find. No kubelet stands behind them. Given `containerd`, they are Ready
 * on it (see addNodes) and the cluster runs no node lifecycle controller, which would mark them
 * Unknown for want of a kubelet's heartbeat.
 */
function startCluster(nodes: ReturnType<typeof fleetNodes>, containerd?: string): void {
    lab("cluster-up.sh", containerd ? { LAB_NODE_LIFECYCLE: "off" } : {});
    addNodes(nodes, containerd);
}

/**
 * A Node object for each fleet node; given `containerd` (a version), each is also Ready on it, as
 * its kubelet would report once converted (the status subresource, one server-side apply).
 */
function addNodes(nodes: ReturnType<typeof fleetNodes>, containerd?: string): void {
    const t0 = Date.now();
    const apply = (items: object[], subresource?: string) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN_KUBECONFIG, "apply", "--server-side", "--field-manager", "scale-bench",
        ...(subresource ? [`--subresource=${subresource}`] : []), "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items }), stdio: ["pipe", "ignore", "inherit"] });
    apply(nodes.map(n => ({ apiVersion: "v1", kind: "Node", metadata: { name: n.name, labels: { "containerd-node.test/scale": "yes" } } })));
    if (containerd) {
        const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        apply(nodes.map(n => ({
            apiVersion: "v1", kind: "Node", metadata: { name: n.name },
            status: {
                conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "scale bench", lastHeartbeatTime: now, lastTransitionTime: now }],
                nodeInfo: {
                    containerRuntimeVersion: `containerd://${containerd}`, kubeletVersion: `v${KUBELET_VERSION}`, kubeProxyVersion: "",
                    machineID: "", systemUUID: "", bootID: "", kernelVersion: "", osImage: "", operatingSystem: "linux", architecture: "amd64",
                },
            },
        })), "status");
    }
    console.log(`${nodes.length} Node objects in the lab API server${containerd ? `, Ready on containerd ${containerd}` : ""} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/** Removes the fleet nodes' Node objects. */
function removeNodes(nodes: ReturnType<typeof fleetNodes>): void {
    execFileSync(KUBECTL, ["--kubeconfig", ADMIN_KUBECONFIG, "delete", "node", "--wait=false", ...nodes.map(n => n.name)], { stdio: ["ignore", "ignore", "inherit"] });
}

/**
 * Kubernetes mode's `up`: each machine's kubelet credentials (the file a kubeadm node has; here
 * the lab's admin kubeconfig), with which the switch reads its Node. The machines have no kubelet.
 */
function kubeletCredentials(hosts: string[]): void {
    const kc = fs.readFileSync(ADMIN_KUBECONFIG, "utf8");
    hosts.forEach(h => onNode(h, `mkdir -p /etc/kubernetes && umask 077 && cat >/etc/kubernetes/kubelet.conf <<'EOF'\n${kc}EOF`));
}

/**
 * The stack's checkpoint, the file the file backend writes (secrets in it encrypted, as stored;
 * an export would decrypt them), in bytes. With `--save-checkpoint DIR` the file is also copied
 * to DIR/STACK.json, for `npm run bench:state -- DIR/STACK.json` to break down.
 */
function stateBytes(stack: Stack): number {
    const file = path.join((stack.workspace as LocalWorkspace).workDir, ".state", ".pulumi", "stacks", "containerd-node", `${stack.name}.json`);
    const at = process.argv.indexOf("--save-checkpoint");
    if (at >= 0) {
        fs.mkdirSync(process.argv[at + 1], { recursive: true });
        fs.copyFileSync(file, path.join(process.argv[at + 1], `${stack.name}.json`));
    }
    return fs.statSync(file).size;
}

/** A fleet node's steps, by the suffix of their resource names. */
const NODE_STEP = /-(lib|registry-auth|converge|configure|switch|docker-cleanup)$/;

/**
 * A node that goes away mid-wave: `n` fleet nodes and one more on a machine of its own, second in
 * the second wave, taken down once that wave's first step starts. Prints what the run did.
 */
async function awayMidWave(n: number, hosts: string[], maxUnavailable: string | number, parallel?: number): Promise<void> {
    const away = "scale-away";
    nodeUp(away, 2279);
    const nodes = fleetNodes(n, hosts, "aw");
    const perWave = resolveMaxUnavailable(maxUnavailable, n + 1);
    seedStateDirs(nodes, hosts);
    nodes.splice(perWave + 1, 0, { ...labNode(away), name: "aw-away", overrides: { stateDir: `${SCALE_DIR}/aw-away` } });
    const waveOf = new Map(nodes.map((node, i) => [node.name, Math.floor(i / perWave) + 1]));
    const stack = await fleetStack("scale-away", nodes, maxUnavailable, true);
    let downAt: number | undefined;
    const t0 = Date.now();
    let error = "";
    try {
        await stack.up({
            color: "never", parallel, onEvent: e => {
                const name = e.resourcePreEvent?.metadata.urn.split("::").pop() ?? "";
                if (downAt === undefined && NODE_STEP.test(name) && waveOf.get(name.replace(NODE_STEP, "")) === 2) {
                    downAt = (Date.now() - t0) / 1000;
                    nodeDown(away);
                }
            },
        });
    } catch (e) {
        error = (e as Error).message;
    }
    const seconds = (Date.now() - t0) / 1000;
    const state = await stack.exportStack();
    const stepsAfter = new Map<number, number>();
    const switched = new Map<number, number>();
    for (const r of (state.deployment.resources ?? []) as { urn: string }[]) {
        const name = r.urn.split("::").pop()!;
        if (NODE_STEP.test(name)) {
            const wave = waveOf.get(name.replace(NODE_STEP, "")) ?? 0;
            stepsAfter.set(wave, (stepsAfter.get(wave) ?? 0) + 1);
            if (name.endsWith("-converge")) {
                switched.set(wave, (switched.get(wave) ?? 0) + 1);
            }
        }
    }
    const waves = Math.ceil(nodes.length / perWave);
    console.log(`${nodes.length} nodes, ${waves} waves of ${perWave}; aw-away (wave 2) taken down at ${downAt?.toFixed(1)} s; the up ended after ${seconds.toFixed(1)} s`);
    // The diagnostics name the failed resource on one line and give its error on the next.
    const lines = error.split("\n").map(l => l.trim());
    const at = lines.findIndex(l => /\(aw-away-[a-z-]+\):$/.test(l));
    console.log(`the error: ${at >= 0 ? `${lines[at]} ${lines[at + 1].slice(0, 300)}` : "(none naming aw-away)"}`);
    for (let w = 1; w <= waves; w++) {
        console.log(`wave ${w}: ${switched.get(w) ?? 0} nodes switched, ${stepsAfter.get(w) ?? 0} steps in the state`);
    }
    const later = [...stepsAfter].filter(([w]) => w > 2).reduce((a, [, c]) => a + c, 0);
    const ok = at >= 0 && later === 0 && (switched.get(1) ?? 0) === perWave;
    console.log(ok ? "as it should: the run failed naming the node, wave 1 done, no node of a later wave touched"
        : "NOT as it should (see above)");
    await stack.workspace.removeStack(stack.name, { force: true });
    hosts.forEach(h => onNode(h, `rm -rf ${SCALE_DIR}/aw-*`));
    nodeDown(away);
    if (!ok) {
        process.exitCode = 1;
    }
}

/**
 * A fleet of `n` nodes in stacks of at most `size` nodes, run by upFleetStacks twice (see
 * `--stack-size` above). Returns the table's row.
 */
async function acrossStacks(n: number, size: number, hosts: string[], skip: boolean, maxUnavailable: string | number, parallel: number | undefined, nodeSeconds: number): Promise<string> {
    const tag = `t${n}${skip ? "k" : "c"}`;
    const nodes = fleetNodes(n, hosts, tag);
    seedStateDirs(nodes, hosts);
    const perWave = resolveMaxUnavailable(maxUnavailable, n);
    const parts: Stack[] = [];
    for (let i = 0; i < n; i += size) {
        parts.push(await fleetStack(`scale-${tag}-${parts.length + 1}`, nodes.slice(i, i + size), perWave, skip, undefined, false, true));
    }
    let cpu = 0;
    let ops = 0;
    // The Automation API's stacks, each up sampled for the engine's CPU and counted.
    const measured = parts.map((s): FleetStack => ({
        ...automationStack(s, { parallel }),
        up: async () => {
            const up = await sampled(() => s.up({ color: "never", parallel }));
            cpu += up.cpu.get("pulumi") ?? 0;
            ops += changedCount(up.result.summary.resourceChanges ?? {});
            return undefined;
        },
    }));
    try {
        const t0 = Date.now();
        const first = await upFleetStacks({ stacks: measured, maxUnavailable: perWave });
        const seconds = (Date.now() - t0) / 1000;
        if (!first.ok || first.table.length !== n) {
            throw new Error(`${n} nodes in ${parts.length} stacks: ${JSON.stringify(first.stacks)}`);
        }
        const kib = parts.reduce((a, s) => a + stateBytes(s), 0) / 1024 / n;
        const t1 = Date.now();
        const again = await upFleetStacks({ stacks: measured, maxUnavailable: perWave });
        const noop = (Date.now() - t1) / 1000;
        if (!again.ok || again.stacks.some(r => r.outcome !== "unchanged")) {
            throw new Error(`${n} nodes in ${parts.length} stacks: the second run was not all unchanged: ${JSON.stringify(again.stacks)}`);
        }
        return [n, `${parts.length} × ${Math.min(size, n)}`, skip ? "skipped" : "every op", seconds.toFixed(1),
            (Math.ceil(n / perWave) * nodeSeconds).toFixed(0), ops, (1000 * cpu / ops).toFixed(1), kib.toFixed(1), noop.toFixed(1)].join(" | ");
    } finally {
        for (const s of parts) {
            await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
        }
        hosts.forEach(h => onNode(h, `rm -rf ${SCALE_DIR}/${tag}-*`));
    }
}

async function main(): Promise<void> {
    if (process.argv[2] === "--preview-child") {
        return previewChild(process.argv.slice(3));
    }
    const sizes = process.argv.slice(2).filter((a, i, all) => /^\d+$/.test(a) && !/^--/.test(all[i - 1] ?? "")).map(Number);
    const hostCount = Number(arg("--hosts", "2"));
    const modes = { every: [false], skipped: [true], both: [false, true] }[arg("--checkpoints", "both") as "every" | "skipped" | "both"];
    const given = arg("--max-unavailable", "10%");
    const maxUnavailable = /^\d+$/.test(given) ? Number(given) : given;
    const parallel = process.argv.includes("--parallel") ? Number(arg("--parallel", "")) : undefined;
    if (!modes) {
        throw new Error("--checkpoints: expected every, skipped or both");
    }
    const kubernetes = process.argv.includes("--kubernetes");
    const previewOnly = process.argv.includes("--preview-only");
    const previewFlag = ["--facts", "--baseline", "--rounds"].find(f => process.argv.includes(f));
    if (previewFlag !== undefined && !previewOnly) {
        throw new Error(`${previewFlag} runs with --preview-only only`);
    }
    if (!/^[1-9]\d*$/.test(arg("--rounds", "1"))) {
        throw new Error(`--rounds: expected a whole number above 0, not ${JSON.stringify(arg("--rounds", "1"))}`);
    }
    if (kubernetes && process.argv.includes("--away")) {
        throw new Error("--away runs in host mode only");
    }
    // A Kubernetes-mode up: its fleets' Node objects Ready on the declared containerd.
    const k8sUp = kubernetes && !previewOnly;
    const containerd = labContainerd2().version;
    spawnSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
    const hosts = Array.from({ length: hostCount }, (_, i) => `scale-h${i + 1}`);
    hosts.forEach((h, i) => nodeUp(h, 2271 + i));
    // Hundreds of fleet nodes dial each machine at once (every facts read starts together), where
    // a real fleet has one sshd per node: past sshd's MaxStartups (10 unauthenticated connections
    // by default) it drops new ones.
    // (A restart: sshd is listening again when it returns; after a reload it refuses for a moment.)
    hosts.forEach(h => onNode(h, "echo 'MaxStartups 4000' >/etc/ssh/sshd_config.d/scale.conf && systemctl restart ssh"));
    const stacks: Stack[] = [];
    let answering: Answering | undefined;
    // --ssh-agent: every fleet node authenticates through an ssh-agent holding the lab's key
    // (connection.sshAgent), so its state keeps no key; the preview children inherit both settings.
    const agent = process.argv.includes("--ssh-agent") ? await agentWithLabKey() : undefined;
    if (agent) {
        process.env.SSH_AUTH_SOCK = agent.sock;
        process.env.CN_BENCH_SSH_AGENT = "1";
    }
    if (process.argv.includes("--key-passphrase")) {
        const passphrase = arg("--key-passphrase", "");
        if (agent || !passphrase || passphrase.startsWith("--")) {
            throw new Error("--key-passphrase: expected a passphrase, and no --ssh-agent (the agent holds the key unencrypted)");
        }
        encryptedKey(passphrase);
    }
    try {
        // The machines themselves, converted once: every fleet node then finds its machine as declared.
        const warm = await labStack("scale-machines", { nodes: hosts.map(labNode), privateKey: privateKey(), maxUnavailable: hostCount, ...SETTINGS });
        stacks.push(warm);
        const w = await warm.up({ color: "never" });
        if (w.summary.result !== "succeeded") {
            throw new Error(`converting the lab machines: ${w.summary.result}`);
        }
        if (k8sUp) {
            startCluster(fleetNodes(1, hosts, "one"), containerd);
            kubeletCredentials(hosts);
        }
        // One fleet node's time: a fleet of one on a converted machine.
        const one = await fleetStack("scale-one", fleetNodes(1, hosts, "one"), 1, false, undefined, k8sUp);
        stacks.push(one);
        const oneCli = timeCli(one);
        await one.up({ color: "never" });
        const nodeSeconds = oneCli.up;
        console.log(`one fleet node on a converted machine: pulumi up ${nodeSeconds.toFixed(1)} s`);
        console.log(`maxUnavailable ${maxUnavailable}, --parallel ${parallel ?? "(the CLI's default)"}, ${hostCount} machines; engine ms/op: CPU of the pulumi process per resource operation`);
        if (process.argv.includes("--away")) {
            await awayMidWave(sizes[0], hosts, maxUnavailable, parallel);
            return;
        }
        if (previewOnly) {
            // --facts: which previews (default all): read from the lab machines, from the answering endpoint, given.
            const kinds = arg("--facts", "lab,answering,given").split(",");
            const unknownKind = kinds.find(k => !["lab", "answering", "given"].includes(k));
            if (unknownKind !== undefined) {
                throw new Error(`--facts: expected a list of lab, answering and given, not ${JSON.stringify(unknownKind)}`);
            }
            compilePackage();
            // What a converted fleet node's facts read as: given to every node of the second preview.
            const o = fleetNodes(1, hosts, "one")[0];
            const facts = await readNodeFacts({
                host: o.host, port: o.port, user: "root", ...benchKey(), hostKey: o.hostKey, dialErrorLimit: 3, perDialTimeout: 15,
            }, { stateDir: o.overrides.stateDir, freePaths: ["/var/lib/containerd"] });
            if (kinds.includes("lab")) {
                console.log(readerCost(hosts[0], o.overrides.stateDir));
                // The reads alone, as a preview makes them (FACT_READS at a time), in this process.
                const r = await readsAlone(fleetNodes(Math.max(...sizes), hosts, "one"));
                console.log(`${r.reads} facts reads alone: ${r.seconds.toFixed(1)} s, this process's CPU ${r.cpuMs.toFixed(1)} ms a read`);
            }
            if (process.argv.includes("--answering") && kinds.includes("answering")) {
                answering = await answeringEndpoint(hosts[0], o.overrides.stateDir);
                const a = await readsAlone(fleetNodes(Math.max(...sizes), [answering.name], "one"));
                console.log(`${a.reads} facts reads alone of the answering endpoint (${answering.answerBytes} bytes an answer, recorded on ${hosts[0]}): ${a.seconds.toFixed(1)} s, this process's CPU ${a.cpuMs.toFixed(1)} ms a read`);
            }
            if (kubernetes) {
                startCluster(fleetNodes(Math.max(...sizes), hosts, "one"));
                // As the machine would be with its kubelet: the plan checks the kubelet's version.
                facts.host = { ...facts.host!, kubeletVersion: `v${KUBELET_VERSION}` };
                facts.upgrade = { ...facts.upgrade, kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" } };
            }
            console.log(`${kubernetes ? "Kubernetes mode (Node objects in the lab API server)" : "host mode"}; nodes | facts | preview s | preview MiB | program CPU s | CLI CPU s`);
            let first: number | undefined;
            const factsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cnode-scale-facts-")), "facts.json");
            fs.writeFileSync(factsFile, JSON.stringify(facts));
            const row = (n: number, what: string, pre: Sampled<unknown>, ratio = "") => console.log([n, what, pre.seconds.toFixed(1) + ratio, pre.peakMiB.toFixed(0),
                (pre.cpu.get("node") ?? 0).toFixed(1), (pre.cpu.get("pulumi") ?? 0).toFixed(1)].join(" | "));
            const inline = process.argv.includes("--inline");
            // The package at --baseline REF, then this tree's, in turn for each row, --rounds times.
            const current: { label: string; entry: string; remove?: () => void } = { label: "", entry: process.env.CN_BENCH_PACKAGE! };
            const packages = process.argv.includes("--baseline") ? [baselinePackage(arg("--baseline", "")), current] : [current];
            const rounds = Number(arg("--rounds", "1"));
            const runner = async (what: string, n: number, f: () => Promise<Sampled<number>>, ratio?: (s: number) => string) => {
                for (let round = 0; round < rounds; round++) {
                    for (const p of packages) {
                        process.env.CN_BENCH_PACKAGE = p.entry;
                        const pre = await f();
                        row(n, `${what}${packages.length > 1 ? ` (package at ${p.label || "this tree"})` : ""}`, pre, ratio?.(pre.seconds) ?? "");
                    }
                }
                process.env.CN_BENCH_PACKAGE = current.entry;
            };
            try {
                for (const n of sizes) {
                    for (const given of [false, true]) {
                        // Each preview's program in a process of its own, as `pulumi preview` runs it:
                        // this one's heap (the reads above, the previews before) is not counted.
                        if (!given && kinds.includes("lab")) {
                            await runner("read over SSH", n, () => sampledRunner(n, undefined, kubernetes, maxUnavailable, parallel, hosts), seconds => {
                                const ratio = first === undefined ? "" : ` (x${(seconds / first).toFixed(2)} the first size's)`;
                                first = first ?? seconds;
                                return ratio;
                            });
                        }
                        if (given && kinds.includes("given")) {
                            await runner("given", n, () => sampledRunner(n, facts, kubernetes, maxUnavailable, parallel, hosts));
                        }
                        if (answering && !given && kinds.includes("answering")) {
                            await runner("read over SSH (answering endpoint)", n, () => sampledRunner(n, undefined, kubernetes, maxUnavailable, parallel, [answering!.name]));
                        }
                        if (inline) {
                            // The same preview with the program inline in a process of the Automation API (--inline).
                            row(n, `${given ? "given" : "read over SSH"}, inline (Automation API)`,
                                await sampledChild([String(n), given ? "given" : "read", kubernetes ? "kubernetes" : "host", factsFile, String(maxUnavailable), String(parallel ?? 0), hosts.join(",")]));
                            if (answering && !given) {
                                row(n, "read over SSH (answering endpoint), inline (Automation API)",
                                    await sampledChild([String(n), "read", kubernetes ? "kubernetes" : "host", factsFile, String(maxUnavailable), String(parallel ?? 0), answering.name]));
                            }
                        }
                    }
                }
            } finally {
                packages.forEach(p => p.remove?.());
            }
            fs.rmSync(path.dirname(factsFile), { recursive: true, force: true });
            return;
        }
        console.log(`${kubernetes ? "Kubernetes mode (Node objects in the lab API server, Ready on containerd; no kubelet)" : "host mode"}; the facts read over SSH`);
        if (process.argv.includes("--stack-size")) {
            if (kubernetes) {
                throw new Error("--stack-size runs in host mode only");
            }
            const size = Number(arg("--stack-size", ""));
            console.log("nodes | stacks × nodes | checkpoints | run s | ideal s | ops | engine ms/op | state KiB/node | no-op run s");
            for (const n of sizes) {
                for (const skip of modes) {
                    console.log(await acrossStacks(n, size, hosts, skip, maxUnavailable, parallel, nodeSeconds));
                }
            }
            return;
        }
        const answeringUp = process.argv.includes("--answering");
        console.log(`nodes | checkpoints | preview s | preview MiB | up s | ideal s | ops | engine ms/op | state KiB/node | no-op up s${answeringUp ? " | no-op up s (answering endpoints)" : ""}`);
        for (const n of sizes) {
            for (const skip of modes) {
                const tag = `s${n}${skip ? "k" : "c"}`;
                const nodes = fleetNodes(n, hosts, tag);
                seedStateDirs(nodes, hosts);
                if (kubernetes) {
                    addNodes(nodes, containerd);
                }
                const stack = await fleetStack(`scale-${tag}`, nodes, maxUnavailable, skip, undefined, kubernetes);
                stacks.push(stack);
                const cli = timeCli(stack);
                const pre = await sampled(() => preview(stack, parallel));
                const up = await sampled(() => stack.up({ color: "never", parallel }));
                if (up.result.summary.result !== "succeeded") {
                    throw new Error(`${n} nodes: up ${up.result.summary.result}`);
                }
                const upSeconds = cli.up;
                const rc = up.result.summary.resourceChanges ?? {};
                const ops = changedCount(rc);
                const engineMs = 1000 * (up.cpu.get("pulumi") ?? 0) / ops;
                const kib = stateBytes(stack) / 1024 / n;
                const again = await stack.up({ color: "never", parallel });
                const changed = changes(again.summary.resourceChanges as any);
                if (Object.keys(changed).length > 0) {
                    throw new Error(`${n} nodes: the second up changed ${JSON.stringify(changed)}`);
                }
                const noop = cli.up;
                // The same no-op up with the machines' side of each read answered at once (--answering).
                let answered: number | undefined;
                if (answeringUp) {
                    const restore = await answerInPlace(hosts, nodes, kubernetes);
                    try {
                        const third = await stack.up({ color: "never", parallel });
                        const changed3 = changes(third.summary.resourceChanges as any);
                        if (Object.keys(changed3).length > 0) {
                            throw new Error(`${n} nodes: the no-op up answered by bench/ssh-answer changed ${JSON.stringify(changed3)}`);
                        }
                        answered = cli.up;
                    } finally {
                        await restore();
                    }
                }
                const row = [n, skip ? "skipped" : "every op", pre.seconds.toFixed(1), pre.peakMiB.toFixed(0), upSeconds.toFixed(1),
                    (Math.ceil(n / resolveMaxUnavailable(maxUnavailable, n)) * nodeSeconds).toFixed(0), ops, engineMs.toFixed(1), kib.toFixed(1), noop.toFixed(1),
                    ...(answered === undefined ? [] : [answered.toFixed(1)])].join(" | ");
                console.log(row);
                await stack.workspace.removeStack(stack.name, { force: true });
                stacks.pop();
                hosts.forEach(h => onNode(h, `rm -rf ${SCALE_DIR}/${tag}-*`));
                if (kubernetes) {
                    removeNodes(nodes);
                }
            }
        }
    } finally {
        for (const s of stacks) {
            await s.workspace.removeStack(s.name, { force: true }).catch(() => undefined);
        }
        agent?.stop();
        answering?.stop();
        if (!process.argv.includes("--keep")) {
            hosts.forEach(nodeDown);
            if (kubernetes) {
                lab("cluster-down.sh");
            }
        }
    }
}

// A failed run: what failed and why (its Diagnostics section), not the megabytes of a large run's progress lines.
main().catch(e => {
    const { text, diagnostics } = failedRun(e);
    console.error(diagnostics ?? text.slice(-8000));
    process.exit(1);
});
