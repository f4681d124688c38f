/**
 * Scale benchmark: `pulumi preview` of fleets of 100, 500 and 1000 nodes with the real engine and
 * the real command provider (commands don't run at preview, so no node is needed). Prints, per
 * size, the wall time of the preview, the peak memory of the whole process tree (sampled every
 * 100 ms) and each program's own peak memory and CPU seconds (the program, the CLI, the provider,
 * the language host).
 *
 *   npm run bench:preview [-- SIZE…] [--cli-only|--automation-only] [--inline]
 *
 * Two ways:
 * - "cli": `pulumi preview` as a person runs it. With the Node.js language host on PATH
 *   (`pulumi-language-nodejs`), exactly that: this repository's stack program (index.ts, run by
 *   the language host under ts-node with Pulumi.yaml's options) given N nodes in its stack
 *   config. Without one, the CLI calls the program's language server in a child process instead
 *   (the Automation API's inline server; the program compiled to JavaScript, as a published
 *   package runs, and without the language host's source-mapped stack traces): the line says so.
 *   `--inline` takes that way even with a language host, to compare.
 * - "automation": Stack.preview(), which also streams every engine event back into the program.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdFleet } from "../components";
import { cliPreview, nodeArgs, spawnPreview } from "./cli";
import { treeRss } from "./proc";
import type { NodeFacts } from "../components/facts";


type Via = "cli" | "automation";

const REPO = path.resolve(__dirname, __filename.endsWith(".js") ? "../.." : "..");

/** The Node.js language host on PATH, if there is one (the CLI runs the program through it). */
const LANGUAGE_HOST = (process.env.PATH ?? "").split(":").map(d => path.join(d, "pulumi-language-nodejs")).find(f => {
    try {
        fs.accessSync(f, fs.constants.X_OK);
        return true;
    } catch {
        return false;
    }
});

/** The fleet the benchmark plans: every node alike (host mode), waves of 10%. */
const SETTINGS = {
    containerd: {
        version: "2.2.9",
        source: { kind: "tarball" as const, url: "https://example.com/containerd-2.2.9-linux-amd64.tar.gz", sha256: "a".repeat(64) },
    },
    kubelet: { version: "1.30.4" },
};
const MAX_UNAVAILABLE = "10%";
/**
 * Every node's facts as the pre-flight read would report a Docker node: the benchmark's hosts do
 * not exist, and it measures the program and the engine, not SSH (a real preview reads each node,
 * 16 at a time).
 */
const DOCKER_NODE: NodeFacts = {
    runtime: "docker://20.10.24",
    upgrade: { configPath: "/etc/containerd/config.toml", configSource: "default", files: [], dropIns: {}, notes: [], kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" } },
};
const host = (i: number) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** The fleet of `size` nodes the preview plans (host mode; commands don't run at preview). */
function fleetProgram(size: number) {
    return async () => {
        const fleet = new ContainerdFleet("fleet", {
            nodes: Array.from({ length: size }, (_, i) => ({ name: `n${i}`, connection: { host: host(i), privateKey: "not-used-at-preview" }, nodeFacts: DOCKER_NODE })),
            settings: SETTINGS,
            maxUnavailable: MAX_UNAVAILABLE,
        });
        return { waves: fleet.waves.length };
    };
}

/**
 * `pulumi preview` of one fleet, in this process (the program's side) and the CLI's processes.
 * "cli": the CLI run as a person runs it, talking to the program's language server in this
 * process (what the Node.js language host would start); "automation": Stack.preview(), which also
 * streams every engine event, inputs included, back into this process.
 */
async function previewOne(size: number, via: Via): Promise<void> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cnode-bench-${size}-`));
    fs.mkdirSync(path.join(work, ".state"));
    const program = fleetProgram(size);
    const stack = await LocalWorkspace.createStack({ stackName: `bench${size}`, projectName: "containerd-node-bench", program }, {
        workDir: work,
        projectSettings: { name: "containerd-node-bench", runtime: "nodejs", backend: { url: `file://${path.join(work, ".state")}` } },
        envVars: { PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const t0 = process.hrtime.bigint();
    let creates: number;
    if (via === "automation") {
        const res = await stack.preview({ color: "never" });
        creates = res.changeSummary.create ?? 0;
    } else {
        creates = await cliPreview(stack.name, work, program, { ...process.env, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true" });
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ size, seconds, creates }));
    fs.rmSync(work, { recursive: true, force: true });
}

interface Row { size: number; via: string; seconds: number; creates: number; peakMiB: number; peakByProgram: string; cpuByProgram: string }

/** A preview under way: the root of its process tree, and what it reports when it ends. */
interface Run { pid: number; result: Promise<{ seconds: number; creates: number }>; via: string; cleanup?: () => void }

/** "automation", or "cli" without a language host: this script in a child process (`--one`). */
function inChild(size: number, via: Via): Run {
    // Compiled (bin/bench/preview.js): run as plain JavaScript, as a published package is.
    const runner = __filename.endsWith(".js") ? [] : [require.resolve("ts-node/dist/bin"), "--transpile-only"];
    const child = spawn(process.execPath, [...nodeArgs(), ...runner, __filename, "--one", String(size), via], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", d => { out += d; });
    const result = new Promise<{ seconds: number; creates: number }>((resolve, reject) => child.on("exit", code => code === 0
        ? resolve(JSON.parse(out.trim().split("\n").pop()!))
        : reject(new Error(`preview of ${size} nodes failed (exit ${code}): ${out}`))));
    return { pid: child.pid!, result, via: via === "cli" ? "cli (inline program: no language host)" : via };
}

/**
 * `pulumi preview` of index.ts in this repository through the Node.js language host, as a person
 * runs it: a stack of `size` nodes in a file backend of its own (its config file, gitignored, is
 * removed with the stack). Setting the stack up is not timed.
 */
function throughLanguageHost(size: number): Run {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cnode-bench-${size}-`));
    const stack = `bench-${size}-${process.pid}`;
    const env = {
        ...process.env, PULUMI_BACKEND_URL: `file://${work}`, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const pulumi = (args: string[]) => {
        const r = spawnSync("pulumi", [...args, "--stack", stack, "--non-interactive"], { cwd: REPO, env, encoding: "utf8" });
        if (r.status !== 0) {
            throw new Error(`pulumi ${args[0]} ${args[1] ?? ""} failed: ${r.stderr}${r.stdout}`);
        }
    };
    fs.writeFileSync(path.join(work, "key"), "not-used-at-preview\n");
    pulumi(["stack", "init"]);
    const cleanup = () => {
        spawnSync("pulumi", ["stack", "rm", "--force", "--yes", "--stack", stack], { cwd: REPO, env });
        fs.rmSync(path.join(REPO, `Pulumi.${stack}.yaml`), { force: true });
        fs.rmSync(work, { recursive: true, force: true });
    };
    try {
        const nodes = Array.from({ length: size }, (_, i) => ({ name: `n${i}`, host: host(i) }));
        for (const [key, value] of [["nodes", JSON.stringify(nodes)], ["privateKeyPath", path.join(work, "key")],
            ["containerd", JSON.stringify(SETTINGS.containerd)], ["kubelet", JSON.stringify(SETTINGS.kubelet)], ["maxUnavailable", MAX_UNAVAILABLE]]) {
            pulumi(["config", "set", key, value]);
        }
    } catch (e) {
        cleanup();
        throw e;
    }
    const t0 = process.hrtime.bigint();
    const { pid, creates } = spawnPreview(stack, [], REPO, env);
    const result = creates.then(n => ({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, creates: n }),
        e => { throw new Error(`preview of ${size} nodes: ${e.message}`); });
    return { pid, result, via: "cli (language host)", cleanup };
}

async function measure(size: number, via: Via): Promise<Row> {
    const run = via === "cli" && LANGUAGE_HOST && !process.argv.includes("--inline") ? throughLanguageHost(size) : inChild(size, via);
    let peak = 0;
    const peakBy = new Map<string, number>();
    const cpuByPid = new Map<number, { name: string; seconds: number }>();
    const timer = setInterval(() => {
        const rss = treeRss(run.pid, cpuByPid);
        peak = Math.max(peak, [...rss.values()].reduce((a, b) => a + b, 0));
        rss.forEach((v, k) => peakBy.set(k, Math.max(v, peakBy.get(k) ?? 0)));
    }, 100);
    try {
        const { seconds, creates } = await run.result;
        const mib = (b: number) => (b / 2 ** 20).toFixed(0);
        const peakByProgram = [...peakBy].map(([k, v]) => `${k} ${mib(v)}`).join(", ");
        const cpuBy = new Map<string, number>();
        cpuByPid.forEach(({ name, seconds: s }) => cpuBy.set(name, (cpuBy.get(name) ?? 0) + s));
        const cpuByProgram = [...cpuBy].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ");
        return { size, seconds, creates, via: run.via, peakMiB: peak / 2 ** 20, peakByProgram, cpuByProgram };
    } finally {
        clearInterval(timer);
        run.cleanup?.();
    }
}

async function main(): Promise<void> {
    const at = process.argv.indexOf("--one");
    if (at >= 0) {
        return previewOne(Number(process.argv[at + 1]), process.argv[at + 2] as Via);
    }
    const sizes = process.argv.slice(2).map(Number).filter(n => n > 0);
    const vias: Via[] = process.argv.includes("--automation-only") ? ["automation"] : process.argv.includes("--cli-only") ? ["cli"] : ["cli", "automation"];
    console.log(`program's Node.js options: ${nodeArgs().join(" ") || "(none)"}`);
    for (const via of vias) {
        const rows: Row[] = [];
        for (const size of sizes.length ? sizes : [100, 500, 1000]) {
            const r = await measure(size, via);
            rows.push(r);
            console.log(`preview via ${r.via} ${String(r.size).padStart(5)} nodes: ${r.seconds.toFixed(1).padStart(6)} s, peak ${r.peakMiB.toFixed(0).padStart(5)} MiB, ${r.creates} resources to create (each program's peak MiB: ${r.peakByProgram}; CPU s: ${r.cpuByProgram})`);
        }
        const big = rows.find(r => r.size === 1000);
        if (big) {
            const met = (ok: boolean) => ok ? "met" : "NOT met";
            console.log(`target via ${big.via}, 1000 nodes: ${big.seconds.toFixed(1)} s (< 30 s: ${met(big.seconds < 30)}), ` +
                `${big.peakMiB.toFixed(0)} MiB (< 1 GiB: ${met(big.peakMiB < 1024)})`);
        }
        const [first, last] = [rows[0], rows[rows.length - 1]];
        if (rows.length > 1) {
            console.log(`growth via ${first.via} ${first.size}→${last.size} nodes (x${(last.size / first.size).toFixed(0)}): time x${(last.seconds / first.seconds).toFixed(1)}, memory x${(last.peakMiB / first.peakMiB).toFixed(1)}`);
        }
    }
}

main().catch(e => { console.error(e); process.exit(1); });
