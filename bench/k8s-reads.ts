/**
 * What typed reads of Node objects through the Kubernetes provider would cost a preview, before
 * the package uses them: `pulumi preview` of N `k8s.core.v1.Node.get` reads (one per node, the
 * per-node path) against the lab cluster, beside one `kubectl get nodes -o json` (what node
 * discovery does) and an empty program. Prints wall time and the peak memory of the preview's
 * whole process tree (program, CLI, providers), sampled every 100 ms.
 *
 *   npm run bench:k8s-reads [-- N]      (default 1000; starts and stops the lab cluster)
 */
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { treeRss } from "./proc";

const REPO = path.resolve(__dirname, "..");
const LAB_DIR = process.env.LAB_DIR ?? path.join(REPO, ".lab");
const ADMIN = path.join(LAB_DIR, "cluster", "admin.conf");
const CACHE = process.env.CONTAINERD_NODE_CACHE ?? path.join(os.homedir(), ".cache", "containerd-node");
const KUBECTL = path.join(CACHE, "kube", /^CONTROL_PLANE_VERSION=(\S+)/m.exec(fs.readFileSync(path.join(REPO, "scripts", "kube", "versions.env"), "utf8"))![1], "kubectl");
const NODE = "bench-node";

type Variant = "empty" | "one kubectl read" | "provider reads";

function program(variant: Variant, n: number): () => Promise<Record<string, unknown>> {
    return async () => {
        if (variant === "provider reads") {
            const provider = new k8s.Provider("cluster", { kubeconfig: fs.readFileSync(ADMIN, "utf8") });
            const reads = Array.from({ length: n }, (_, i) => k8s.core.v1.Node.get(`node-${i}`, NODE, { provider }));
            return { read: reads.length };
        }
        if (variant === "one kubectl read") {
            const out = command.local.runOutput({ command: `${KUBECTL} get nodes -o json`, environment: { KUBECONFIG: ADMIN }, logging: "none" });
            return { nodes: out.stdout.apply(s => (JSON.parse(s).items as unknown[]).length) };
        }
        return {};
    };
}

/** In a child process (so its memory is its own): one preview; prints its seconds. */
async function one(variant: Variant, n: number): Promise<void> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-k8sreads-"));
    const stack = await LocalWorkspace.createStack({ stackName: "reads", projectName: "k8s-reads", program: program(variant, n) }, {
        workDir: work,
        projectSettings: { name: "k8s-reads", runtime: "nodejs", backend: { url: `file://${work}` } },
        envVars: { PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const t0 = process.hrtime.bigint();
    await stack.preview({ color: "never" });
    console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    fs.rmSync(work, { recursive: true, force: true });
}

function measure(variant: Variant, n: number): Promise<{ seconds: number; peakMiB: number }> {
    const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", __filename, "--one", variant, String(n)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", d => { out += d; });
    let peak = 0;
    const cpu = new Map<number, { name: string; seconds: number }>();
    const timer = setInterval(() => { peak = Math.max(peak, [...treeRss(child.pid!, cpu).values()].reduce((a, b) => a + b, 0)); }, 100);
    return new Promise((resolve, reject) => child.on("exit", code => {
        clearInterval(timer);
        code === 0 ? resolve({ seconds: JSON.parse(out.trim().split("\n").pop()!).seconds, peakMiB: peak / 2 ** 20 }) : reject(new Error(`${variant}: exit ${code}: ${out}`));
    }));
}

async function main(): Promise<void> {
    const n = Number(process.argv.slice(2).find(a => /^\d+$/.test(a)) ?? 1000);
    const lab = (script: string) => execFileSync("bash", [path.join(REPO, "lab", script)], { stdio: "inherit", env: { ...process.env, LAB_DIR } });
    lab("cluster-up.sh");
    try {
        // A Node object is all a read needs (no kubelet behind it).
        execFileSync(KUBECTL, ["--kubeconfig", ADMIN, "apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: NODE } }), stdio: ["pipe", "inherit", "inherit"] });
        console.log(`N = ${n} | variant | preview time | peak memory (process tree)`);
        const rows: { [v: string]: { seconds: number; peakMiB: number } } = {};
        for (const v of ["empty", "one kubectl read", "provider reads"] as Variant[]) {
            rows[v] = await measure(v, n);
            console.log(`${n} | ${v}${v === "provider reads" ? ` (${n} Node.get)` : ""} | ${rows[v].seconds.toFixed(1)} s | ${rows[v].peakMiB.toFixed(0)} MiB`);
        }
        const r = rows["provider reads"], e = rows.empty;
        console.log(`provider reads over the empty program: +${(r.seconds - e.seconds).toFixed(1)} s, +${(r.peakMiB - e.peakMiB).toFixed(0)} MiB for ${n} reads`);
    } finally {
        lab("cluster-down.sh");
    }
}

if (process.argv[2] === "--one") {
    one(process.argv[3] as Variant, Number(process.argv[4])).catch(e => { console.error(e); process.exit(1); });
} else {
    main().catch(e => { console.error(e); process.exit(1); });
}
