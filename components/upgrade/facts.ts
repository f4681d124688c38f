/**
 * Parses what components/node/facts.sh prints on a node into the inputs of the pre-flight's pure
 * analysis: `main` and `dropIns` for readLiveConfig, `containerdVersion` as its running version,
 * the ctr output for parseCtrDeprecations, `libc` for parseLibc, `cgroupFs` for parseCgroupFs and
 * `failCgroupV1` for cgroupVerdicts.
 */
import { CommandRun, FactsFile, UPGRADE_FACTS_FORMAT, UPGRADE_FACTS_MAGIC, UpgradeFacts } from "../facts";
import { parseVersion } from "../versions";

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const YAML_TRUE = new Set(["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]);
const YAML_FALSE = new Set(["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]);

class FactsError extends Error {
    constructor(line: number, message: string) {
        super(`upgrade facts, line ${line}: ${message}`);
        this.name = "FactsError";
    }
}

/**
 * Parses the reader's output (the block between its begin and end lines; anything around it is
 * ignored). Throws naming the line for output that is cut short, garbled or of another format.
 */
export function parseUpgradeFacts(stdout: string): UpgradeFacts {
    const lines = stdout.split("\n");
    const begin = `${UPGRADE_FACTS_MAGIC} ${UPGRADE_FACTS_FORMAT} begin`;
    const end = `${UPGRADE_FACTS_MAGIC} ${UPGRADE_FACTS_FORMAT} end`;
    const start = lines.findIndex(l => l.replace(/\r$/, "") === begin);
    if (start < 0) {
        const other = lines.find(l => l.startsWith(`${UPGRADE_FACTS_MAGIC} `) && l.replace(/\r$/, "").endsWith(" begin"));
        throw new Error(other
            ? `upgrade facts: format "${other}" is not this package's (${begin}): the node ran another version of the reader`
            : `upgrade facts: no "${begin}" line in the output (${JSON.stringify(stdout.slice(0, 200))})`);
    }
    const bytes = (v: string, n: number, what: string): Buffer => {
        if (v === "-") {
            return Buffer.alloc(0);
        }
        if (v === "") {
            throw new FactsError(n, `${what}: an empty field (an empty value is "-"): was the line's end stripped?`);
        }
        if (v.length % 4 !== 0 || !B64.test(v)) {
            throw new FactsError(n, `${what}: not base64: ${JSON.stringify(v.slice(0, 80))}`);
        }
        return Buffer.from(v, "base64");
    };
    const str = (v: string, n: number, what: string) => bytes(v, n, what).toString("utf8");
    const int = (v: string, n: number, what: string) => {
        if (!/^\d+$/.test(v)) {
            throw new FactsError(n, `${what}: not a number: ${JSON.stringify(v)}`);
        }
        return Number(v);
    };

    let config: { path: string; source: UpgradeFacts["configSource"] } | undefined;
    let kubeletConfig: UpgradeFacts["kubeletConfig"] | undefined;
    const files: FactsFile[] = [];
    const notes: string[] = [];
    const bins: { [name: string]: string } = {};
    const runs: { [name: string]: { exit?: number; stdout?: string; stderr?: string } } = {};
    const once: { [key: string]: string } = {};
    const texts: { [kind: string]: string } = {};
    let pid: number | undefined;
    let failCgroupV1: boolean | undefined;
    let closed = false;

    for (let i = start + 1; i < lines.length; i++) {
        const n = i + 1;
        const line = lines[i].replace(/\r$/, "");
        if (line === end) {
            closed = true;
            break;
        }
        if (line === "" && i === lines.length - 1) {
            break; // what follows the last newline
        }
        const [kind, ...f] = line.split(" ");
        const arity = (...counts: number[]) => {
            if (!counts.includes(f.length)) {
                throw new FactsError(n, `"${kind}" takes ${counts.join(" or ")} fields, got ${f.length}: ${JSON.stringify(line.slice(0, 120))}`);
            }
        };
        const single = (key: string, value: string) => {
            if (key in once) {
                throw new FactsError(n, `a second "${key}" record`);
            }
            once[key] = value;
        };
        switch (kind) {
            case "config": {
                arity(2);
                if (!["process", "unit", "default"].includes(f[1])) {
                    throw new FactsError(n, `config: source must be process, unit or default, got ${JSON.stringify(f[1])}`);
                }
                single("config", f[0]);
                config = { path: str(f[0], n, "config path"), source: f[1] as UpgradeFacts["configSource"] };
                break;
            }
            case "pid":
                arity(1);
                single("pid", f[0]);
                pid = int(f[0], n, "pid");
                break;
            case "file": {
                arity(3, 4);
                const path = str(f[0], n, "file path");
                const by = str(f[1], n, "imported-by");
                const base = by === "" ? { path } : { path, importedBy: by };
                if (f[2] === "present" && f.length === 4) {
                    const b = bytes(f[3], n, `${path}: content`);
                    files.push({ ...base, status: "present", bytes: b, text: b.toString("utf8") });
                } else if (f[2] === "absent" && f.length === 3) {
                    files.push({ ...base, status: "absent" });
                } else if (f[2] === "error" && f.length === 4) {
                    files.push({ ...base, status: "error", error: str(f[3], n, `${path}: error`) });
                } else {
                    throw new FactsError(n, `file ${path}: expected "present B", "absent" or "error B", got ${JSON.stringify(f.slice(2).join(" ").slice(0, 80))}`);
                }
                if (files.filter(x => x.path === path).length > 1) {
                    throw new FactsError(n, `file ${path} a second time`);
                }
                break;
            }
            case "note":
                arity(1);
                notes.push(str(f[0], n, "note"));
                break;
            case "grpc-address":
            case "light":
            case "libc":
            case "cgroupfs":
                arity(1);
                single(kind, f[0]);
                texts[kind] = str(f[0], n, kind);
                break;
            case "bin":
            case "exit":
            case "stdout":
            case "stderr": {
                arity(2);
                const [name, v] = f;
                if (name !== "containerd" && name !== "ctr") {
                    throw new FactsError(n, `${kind}: unknown command ${JSON.stringify(name)}`);
                }
                single(`${kind} ${name}`, v);
                if (kind === "bin") {
                    bins[name] = str(v, n, `${name} binary`);
                } else {
                    const r = runs[name] ??= {};
                    if (kind === "exit") {
                        r.exit = int(v, n, `${name} exit`);
                    } else {
                        r[kind] = str(v, n, `${name} ${kind}`);
                    }
                }
                break;
            }
            case "kubelet-config":
                arity(2);
                if (!["present", "absent", "error"].includes(f[1])) {
                    throw new FactsError(n, `kubelet-config: status must be present, absent or error, got ${JSON.stringify(f[1])}`);
                }
                single(kind, f[0]);
                kubeletConfig = { path: str(f[0], n, "kubelet config path"), status: f[1] as UpgradeFacts["kubeletConfig"]["status"] };
                break;
            case "fail-cgroup-v1": {
                arity(1);
                single(kind, f[0]);
                const raw = str(f[0], n, kind).trim();
                if (YAML_TRUE.has(raw) || YAML_FALSE.has(raw)) {
                    failCgroupV1 = YAML_TRUE.has(raw);
                } else {
                    throw new FactsError(n, `the kubelet configuration's failCgroupV1 is ${JSON.stringify(raw)}, not a boolean`);
                }
                break;
            }
            default:
                throw new FactsError(n, `unknown record ${JSON.stringify(line.slice(0, 120))}`);
        }
    }
    if (!closed) {
        throw new Error(`upgrade facts: no "${end}" line: the output was cut short (${lines.length - start - 1} lines after the begin line)`);
    }
    if (!config) {
        throw new Error(`upgrade facts: no config record`);
    }
    if (!kubeletConfig) {
        throw new Error(`upgrade facts: no kubelet-config record`);
    }
    const first = files[0];
    if (!first || first.path !== config.path || first.importedBy !== undefined) {
        throw new Error(`upgrade facts: the first file record must be the main config ${config.path}, got ${first ? first.path : "none"}`);
    }
    const orphan = files.find(f => f.importedBy !== undefined && !files.some(g => g.path === f.importedBy && g.status === "present"));
    if (orphan) {
        throw new Error(`upgrade facts: ${orphan.path} is said to be imported by ${orphan.importedBy}, which was not read`);
    }
    const run = (name: string): CommandRun | undefined => {
        const r = runs[name];
        if (!r) {
            return undefined;
        }
        if (r.exit === undefined || r.stdout === undefined || r.stderr === undefined) {
            throw new Error(`upgrade facts: ${name}: exit, stdout and stderr records go together, got ${Object.keys(r).join(", ")}`);
        }
        if (!(name in bins)) {
            throw new Error(`upgrade facts: ${name} ran but no "bin ${name}" record says which`);
        }
        return { exitCode: r.exit, timedOut: r.exit === 124 || r.exit === 137, stdout: r.stdout, stderr: r.stderr };
    };
    const containerdVersionRun = run("containerd");
    const ctrDeprecations = run("ctr");
    const word = containerdVersionRun?.exitCode === 0 ? containerdVersionRun.stdout.split("\n")[0].trim().split(/\s+/)[2] : undefined;
    const dropIns: { [path: string]: string } = {};
    for (const f of files.slice(1)) {
        if (f.status === "present") {
            dropIns[f.path] = f.text;
        }
    }
    return {
        configPath: config.path,
        configSource: config.source,
        pid,
        main: first.status === "present" ? { path: first.path, text: first.text } : undefined,
        files,
        dropIns,
        notes,
        grpcAddress: texts["grpc-address"],
        ...(texts.light !== undefined ? { light: texts.light } : {}),
        containerdBinary: bins.containerd,
        containerdVersionRun,
        containerdVersion: word === undefined ? undefined : parseVersion(word),
        ctrBinary: bins.ctr,
        ctrDeprecations,
        libc: texts.libc,
        cgroupFs: texts.cgroupfs,
        kubeletConfig,
        failCgroupV1,
    };
}

/**
 * What to give parseCtrDeprecations, or why there is nothing: no ctr, a timeout, or ctr failing
 * (a ctr older than 1.7.9/1.6.25 has no `deprecations` command; a containerd not running or on
 * another socket refuses the connection). Empty output means no deprecation warnings.
 */
export function ctrDeprecationsOutput(facts: UpgradeFacts): { stdout: string } | { unavailable: string } {
    const r = facts.ctrDeprecations;
    if (!r) {
        return { unavailable: "no ctr binary on the node" };
    }
    if (r.timedOut) {
        return { unavailable: `ctr deprecations list timed out (exit ${r.exitCode})` };
    }
    if (r.exitCode !== 0) {
        const why = r.stderr.trim().split("\n")[0] ?? "";
        return { unavailable: `ctr deprecations list exited ${r.exitCode}${why ? `: ${why}` : ""}` };
    }
    return { stdout: r.stdout };
}
