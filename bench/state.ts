/**
 * State per node: what the engine keeps, and rewrites after every resource operation on a
 * self-managed backend, for each converted node. Reads a stack's checkpoint file as the file
 * backend wrote it (by default the lab stack of `bash scripts/up.sh`, two nodes in host mode) and
 * prints its size, the size per ContainerdNode, and each step's share (the average over nodes,
 * by step name), largest first, then the fleet's own steps' share (its barriers and, in Kubernetes
 * mode, each wave's step, which verifies the wave's nodes), divided by the nodes; the last line
 * compares the per-node figure, that share included, with the target.
 *
 *   bash scripts/up.sh && npm run bench:state [-- CHECKPOINT.json] [--target-kib 8]
 *
 * CHECKPOINT.json: a stack file of the file backend (`npm run bench:scale -- … --save-checkpoint
 * DIR` keeps its stacks' there).
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

const REPO = path.resolve(__dirname, "..");

interface Resource { urn: string; type: string; parent?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }

function main(argv: string[]): void {
    const at = argv.indexOf("--target-kib");
    const targetKiB = at >= 0 ? Number(argv[at + 1]) : 8;
    const given = argv.find((a, i) => !a.startsWith("--") && (at < 0 || i !== at + 1));
    const lab = process.env.LAB_DIR ?? path.join(REPO, ".lab");
    const file = given ?? path.join(lab, "state", ".pulumi", "stacks", "containerd-node", "lab.json");
    const candidates = [file, `${file}.gz`].filter(f => fs.existsSync(f));
    if (candidates.length === 0) {
        throw new Error(`no checkpoint at ${file}: run bash scripts/up.sh first, or name a checkpoint file`);
    }
    const raw = fs.readFileSync(candidates[0]);
    const text = candidates[0].endsWith(".gz") ? zlib.gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    const resources: Resource[] = JSON.parse(text).checkpoint?.latest?.resources ?? [];
    const nodes = resources.filter(r => r.type === "containerd-node:index:ContainerdNode");
    if (nodes.length === 0) {
        throw new Error(`${candidates[0]} holds no ContainerdNode`);
    }
    const nodeNames = new Set(nodes.map(n => n.urn.split("::").pop()!));
    const fleets = new Set(resources.filter(r => r.type === "containerd-node:index:ContainerdFleet").map(r => r.urn));
    // The fleet's own steps (barriers, wave steps): every node's share of them.
    let fleetSteps = 0;
    let fleetStepCount = 0;
    // A step is a child of its node, named NODE-STEP; its size is its JSON in the checkpoint.
    const byStep = new Map<string, number>();
    // Where the bytes are, over all steps: each field of inputs and outputs.
    const byField = new Map<string, number>();
    let perNodeTotal = 0;
    for (const r of resources) {
        const name = r.urn.split("::").pop()!;
        const node = r.parent?.split("::").pop();
        if (r.parent !== undefined && fleets.has(r.parent) && r.type !== "containerd-node:index:ContainerdNode") {
            fleetSteps += Buffer.byteLength(JSON.stringify(r));
            fleetStepCount++;
            continue;
        }
        if (node === undefined || !nodeNames.has(node)) {
            continue;
        }
        const bytes = Buffer.byteLength(JSON.stringify(r));
        const step = name.startsWith(`${node}-`) ? name.slice(node.length + 1) : name;
        byStep.set(step, (byStep.get(step) ?? 0) + bytes);
        perNodeTotal += bytes;
        let fields = 0;
        for (const side of ["inputs", "outputs"] as const) {
            for (const [k, v] of Object.entries(r[side] ?? {})) {
                const b = Buffer.byteLength(JSON.stringify(v));
                byField.set(`${side}.${k}`, (byField.get(`${side}.${k}`) ?? 0) + b);
                fields += b;
            }
        }
        byField.set("everything else (URNs, dependencies, metadata)", (byField.get("everything else (URNs, dependencies, metadata)") ?? 0) + bytes - fields);
    }
    for (const n of nodes) {
        perNodeTotal += Buffer.byteLength(JSON.stringify(n));
    }
    const kib = (b: number) => (b / 1024).toFixed(1);
    console.log(`checkpoint ${candidates[0]}: ${kib(raw.length)} KiB on disk, ${kib(Buffer.byteLength(text))} KiB of JSON, ${resources.length} resources, ${nodes.length} nodes`);
    console.log(`per node: ${kib(perNodeTotal / nodes.length)} KiB (each node's resources as the checkpoint holds them: the node and its steps)`);
    for (const [step, bytes] of [...byStep].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${step.padEnd(16)} ${kib(bytes / nodes.length).padStart(6)} KiB`);
    }
    const total = perNodeTotal + fleetSteps;
    console.log(`the fleet's own steps (${fleetStepCount}: barriers, wave steps): ${kib(fleetSteps / nodes.length)} KiB a node; with them ${kib(total / nodes.length)} KiB a node`);
    console.log("per node, by field (all steps):");
    for (const [field, bytes] of [...byField].sort((a, b) => b[1] - a[1]).filter(([, b]) => b / nodes.length >= 50)) {
        console.log(`  ${field.padEnd(48)} ${kib(bytes / nodes.length).padStart(6)} KiB`);
    }
    const ratio = total / nodes.length / 1024 / targetKiB;
    console.log(`state per node ${kib(total / nodes.length)} KiB (the fleet's steps' share included) against a target of ${targetKiB} KiB: ${ratio <= 1 ? "met" : `not met (${ratio.toFixed(2)}×)`}`);
}

main(process.argv.slice(2));
