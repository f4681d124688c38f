/**
 * Scale benchmark: `pulumi preview` of fleets of 100, 500 and 1000 nodes with the real engine and
 * the real command provider (commands don't run at preview, so no node is needed). Prints, per
 * size, the wall time of the preview and the peak memory of the whole process tree (this program's
 * language runtime, the CLI, the provider), sampled every 100 ms.
 *
 *   npm run bench:preview [-- SIZE…]     (default 100 500 1000)
 *
 * Compiled first and run as plain JavaScript, as a published component package runs (the program
 * of a TypeScript stack is compiled too). Under ts-node the same preview is about twice as slow:
 * the SDK takes a stack trace for every promise it makes, and ts-node source-maps each one.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdFleet } from "../components";

async function previewOne(size: number): Promise<void> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `cnode-bench-${size}-`));
    fs.mkdirSync(path.join(work, ".state"));
    const program = async () => {
        const fleet = new ContainerdFleet("fleet", {
            nodes: Array.from({ length: size }, (_, i) => ({
                name: `n${i}`,
                connection: { host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, privateKey: "not-used-at-preview" },
            })),
            settings: {
                containerd: {
                    version: "2.2.9",
                    source: { kind: "tarball", url: "https://example.com/containerd-2.2.9-linux-amd64.tar.gz", sha256: "a".repeat(64) },
                },
                kubelet: { version: "1.30.4" },
            },
            maxUnavailable: "10%",
        });
        return { waves: fleet.waves.length };
    };
    const stack = await LocalWorkspace.createStack({ stackName: `bench${size}`, projectName: "containerd-node-bench", program }, {
        workDir: work,
        projectSettings: { name: "containerd-node-bench", runtime: "nodejs", backend: { url: `file://${path.join(work, ".state")}` } },
        envVars: { PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const t0 = process.hrtime.bigint();
    const res = await stack.preview({ color: "never" });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const creates = res.changeSummary.create ?? 0;
    console.log(JSON.stringify({ size, seconds, creates }));
    fs.rmSync(work, { recursive: true, force: true });
}

/** Resident memory (bytes) of a process and all its descendants. */
function treeRss(root: number): number {
    const children = new Map<number, number[]>();
    const rss = new Map<number, number>();
    for (const p of fs.readdirSync("/proc").filter(d => /^\d+$/.test(d))) {
        try {
            const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
            const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
            rss.set(Number(p), Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
        } catch {
            // the process ended while being read
        }
    }
    let total = 0;
    const stack = [root];
    while (stack.length) {
        const p = stack.pop()!;
        total += rss.get(p) ?? 0;
        stack.push(...(children.get(p) ?? []));
    }
    return total;
}

async function measure(size: number): Promise<{ size: number; seconds: number; creates: number; peakMiB: number }> {
    // Compiled (bench/preview.js): run as plain JavaScript, as a published package is.
    const runner = __filename.endsWith(".js") ? [] : [require.resolve("ts-node/dist/bin"), "--transpile-only"];
    const child = spawn(process.execPath, [...runner, __filename, "--one", String(size)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", d => { out += d; });
    let peak = 0;
    const timer = setInterval(() => { peak = Math.max(peak, treeRss(child.pid!)); }, 100);
    const code: number = await new Promise(r => child.on("exit", c => r(c ?? 1)));
    clearInterval(timer);
    if (code !== 0) {
        throw new Error(`preview of ${size} nodes failed (exit ${code}): ${out}`);
    }
    const line = JSON.parse(out.trim().split("\n").pop()!);
    return { ...line, peakMiB: peak / 2 ** 20 };
}

async function main(): Promise<void> {
    const at = process.argv.indexOf("--one");
    if (at >= 0) {
        return previewOne(Number(process.argv[at + 1]));
    }
    const sizes = process.argv.slice(2).map(Number).filter(n => n > 0);
    const rows = [];
    for (const size of sizes.length ? sizes : [100, 500, 1000]) {
        const r = await measure(size);
        rows.push(r);
        console.log(`preview ${String(r.size).padStart(5)} nodes: ${r.seconds.toFixed(1).padStart(6)} s, peak ${r.peakMiB.toFixed(0).padStart(5)} MiB, ${r.creates} resources to create`);
    }
    const [first, last] = [rows[0], rows[rows.length - 1]];
    if (rows.length > 1) {
        console.log(`growth ${first.size}→${last.size} nodes (x${(last.size / first.size).toFixed(0)}): time x${(last.seconds / first.seconds).toFixed(1)}, memory x${(last.peakMiB / first.peakMiB).toFixed(1)}`);
    }
}

main().catch(e => { console.error(e); process.exit(1); });
