/**
 * What a run will do to one node, decided from the facts read off it before anything changes
 * (pure): which path it takes (Docker → containerd, an in-place move between containerd
 * versions, nothing), whether it is drained, and what refuses it. The preview prints the plan;
 * a refusal fails the preview, and at up keeps every step of the node from running.
 */
import { cgroupVerdicts, glibcVerdict, kubeletVerdict, parseCgroupFs, parseLibc, Verdict } from "../compat";
import { NodeFacts, UpgradeFacts } from "../facts";
import { TOP_OF_FILE } from "../render/configToml";
import { ProxyValues } from "../render/proxy";
import { RegistryAuthValues } from "../render/registryAuth";
import { NodeSpec } from "../spec";
import { compareVersions, parseVersion, Version } from "../versions";
import { dockerCarryReport } from "../docker/carry";
import { dockerLines, dockerRefusals } from "../docker/messages";
import { carryReport, CarryReport } from "../upgrade/carry";
import { ctrDeprecationsOutput } from "../upgrade/facts";
import { deprecationFindings, DeprecationFinding, parseCtrDeprecations } from "../upgrade/deprecations";
import { drainDecision, DrainDecision } from "../upgrade/drain";
import { importsReport, ImportsReport } from "../upgrade/imports";
import { readLiveConfig } from "../upgrade/liveConfig";
import { byFile, formatChanged, formatDeprecation, formatDropIn, formatDropped, formatImport, formatVerdict, refusals } from "../upgrade/messages";

export type NodePath =
    /** The kubelet (or nothing) runs on Docker: the seeds' conversion. */
    | { kind: "docker"; from: string }
    /** No runtime in use yet: containerd is installed. */
    | { kind: "install" }
    /** containerd is in use at another version: moved in place. */
    | { kind: "upgrade"; from: Version; to: Version; drain: DrainDecision }
    /** containerd is in use at the declared version. */
    | { kind: "current"; version: Version };

export interface NodePlan {
    path: NodePath;
    /** What the preview prints for the node, one line each: the move, the drain, the config. */
    lines: string[];
    /** Lines that refuse the run (each names the node, the key or check, the value). */
    refused: string[];
    /** Findings that do not refuse (printed as warnings). */
    warnings: string[];
}

const runningVersion = (runtime: string): Version | undefined =>
    runtime.startsWith("containerd://") ? parseVersion(runtime.slice("containerd://".length)) : undefined;

/** The path as the fleet table and the preview name it. */
export function pathText(p: NodePath): string {
    switch (p.kind) {
        case "docker":
            return `${p.from} → containerd`;
        case "install":
            return "no runtime → containerd";
        case "upgrade":
            return `containerd ${p.from.text} → ${p.to.text} (${p.drain.action === "drain" ? "drained" : "restarted in place"})`;
        case "current":
            return `already on containerd ${p.version.text}`;
        default: {
            const never: never = p;
            throw new Error(`unknown path ${JSON.stringify(never)}`);
        }
    }
}

function nodePath(facts: NodeFacts, spec: NodeSpec): NodePath {
    const target = spec.containerd.version;
    if (facts.runtime.startsWith("docker://")) {
        return { kind: "docker", from: facts.runtime };
    }
    const running = runningVersion(facts.runtime);
    if (!running) {
        return { kind: "install" };
    }
    const same = running.text === target.text || (target.patch === undefined && compareVersions(running, target) >= 0
        && running.major === target.major && running.minor === target.minor);
    return same ? { kind: "current", version: running }
        : { kind: "upgrade", from: running, to: target, drain: drainDecision(running, target, spec.upgrade.drain) };
}

/** The config a previous run of this package rendered: its settings are the typed inputs' own. */
const isOwnConfig = (facts: UpgradeFacts) => facts.main?.text.startsWith(TOP_OF_FILE) ?? false;

interface Findings {
    carry?: CarryReport;
    imports?: ImportsReport;
    /** The version the live config declares. */
    schema?: number;
    deprecations: DeprecationFinding[];
    verdicts: Verdict[];
}

function findings(facts: NodeFacts, spec: NodeSpec, running: Version, auth: RegistryAuthValues): Findings {
    const u = facts.upgrade;
    const target = spec.containerd.version;
    const out: Findings = { deprecations: [], verdicts: [] };
    if (u.main && !isOwnConfig(u)) {
        if (u.light !== undefined) {
            // The reader judged otherwise (it reads the runtime and the file's first line itself).
            throw new Error(`the facts reader left out the config's imports and ctr's deprecations (${u.light}), but the plan judges ${u.configPath}`);
        }
        const live = readLiveConfig(u.main, u.dropIns, running);
        out.carry = carryReport(live, spec, auth);
        out.imports = importsReport(live, spec);
        out.schema = live.version;
        const ctr = ctrDeprecationsOutput(u);
        out.deprecations = deprecationFindings(live, "stdout" in ctr ? parseCtrDeprecations(ctr.stdout) : undefined, target, spec.upgrade.acknowledgeDropped,
            new Set([...out.carry.carried, ...out.carry.defaults]));
    }
    // A refused kubelet never gets here: the spec refuses it, naming kubelet.version.
    if (spec.kubelet) {
        out.verdicts.push(kubeletVerdict(spec.kubelet.version, target));
    }
    if (u.libc !== undefined) {
        out.verdicts.push(glibcVerdict(parseLibc(u.libc), target, spec.containerd.source));
    }
    if (u.cgroupFs !== undefined) {
        out.verdicts.push(...cgroupVerdicts(parseCgroupFs(u.cgroupFs), target, spec.kubelet?.version, u.failCgroupV1));
    }
    return out;
}

/**
 * The plan for a node. Hand-made settings, deprecations and compatibility are checked when the
 * node's containerd is in use and moves to another version, or when its config was not written
 * by this package (a first run on a containerd node): then the rendered file replaces it. A node
 * on Docker whose facts hold Docker's configuration gets what becomes of each of its settings
 * (docker/carry.ts): carried, not needed, acknowledged, or refused. `auth` and `proxy` are the
 * registry credentials' and the proxy's values, resolved (they may be secrets: the plan's lines
 * name them, never show them).
 */
export function planNode(node: string, facts: NodeFacts, spec: NodeSpec, auth: RegistryAuthValues = {}, proxy: ProxyValues = {}): NodePlan {
    const path = nodePath(facts, spec);
    const lines = [`${node}: ${pathText(path)}`];
    if (path.kind === "upgrade") {
        lines.push(`${node}: ${path.drain.action === "drain" ? "drained first" : "not drained"}: ${path.drain.reason}`);
    }
    if (path.kind === "docker" && facts.docker) {
        // Docker's own settings: carried by typed inputs, not needed, acknowledged, or refused.
        const report = dockerCarryReport(facts.docker, spec, proxy);
        return { path, lines: [...lines, ...dockerLines(node, report)], refused: dockerRefusals(node, report), warnings: [] };
    }
    const running = path.kind === "upgrade" ? path.from : path.kind === "current" ? path.version : undefined;
    // A node this package already manages at the declared version has nothing to judge.
    if (!running || (path.kind === "current" && isOwnConfig(facts.upgrade))) {
        return { path, lines, refused: [], warnings: [] };
    }
    const f = findings(facts, spec, running, auth);
    if (f.carry) {
        const c = f.carry;
        lines.push(`${node}: config ${facts.upgrade.configPath} (schema ${f.schema}) → schema ${spec.config.schema} for containerd ${c.target}: ` +
            `${c.carried.length} settings carried${c.imported.length > 0 ? ` (${c.imported.length} by the drop-ins it imports)` : ""}, ${c.defaults.length} at 1.x's default, ${c.dropped.length} not carried`);
        lines.push(...byFile(node, c.dropped.filter(d => d.status === "acknowledged"), formatDropped));
    }
    lines.push(...f.deprecations.filter(d => d.status === "acknowledged").map(d => formatDeprecation(node, d)));
    if (f.imports) {
        lines.push(...f.imports.imports.filter(i => i.status !== "refused").map(i => formatImport(node, i)));
        lines.push(...f.imports.dropIns.filter(d => d.status === "kept").map(d => formatDropIn(node, d)));
    }
    const refused = refusals(node, f.carry ?? { target: spec.containerd.version.text, dropped: [], carried: [], imported: [], defaults: [], changed: [] }, f.deprecations, f.verdicts, f.imports);
    const warnings = [
        ...byFile(node, (f.carry?.changed ?? []).filter(c => c.status === "warning"), formatChanged),
        ...f.deprecations.filter(d => d.status === "warning").map(d => formatDeprecation(node, d)),
        ...f.verdicts.filter(v => v.status === "warning").map(v => formatVerdict(node, v)),
    ];
    return { path, lines, refused, warnings };
}
