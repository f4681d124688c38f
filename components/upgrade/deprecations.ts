/**
 * What containerd 2.x removes or ignores that a 1.x node uses: `ctr deprecations list --format
 * json` (1.7.9+; kept in memory since the last restart, usage warnings only once a feature was
 * used) and a scan of the live config itself, which also finds what ctr never reports
 * (disable_cgroup, a missing version, mirrors next to config_path). IDs and conditions as in
 * pkg/deprecation and pkg/cri/config ValidatePluginConfig at v1.7.30.
 */
import { Version, atLeast } from "../versions";
import { formatKey, isPrefix, isZero, KeyPath, parseKey } from "../toml/keys";
import { CRI, CRI_IMAGES, CRI_RUNTIME } from "../toml/schema3";
import { acknowledged } from "./carry";
import { LiveConfig, LiveSetting } from "./liveConfig";

export interface CtrDeprecation {
    id: string;
    message: string;
    lastOccurrence: string;
}

export interface DeprecationFinding {
    /** containerd's id, e.g. "io.containerd.deprecation/runtime-v1"; none for what ctr never reports. */
    id?: string;
    /** The live key (or table) the finding is about, for one found in the config. */
    key?: string;
    what: string;
    todo: string;
    /**
     * "refused" unless `upgrade.acknowledgeDropped` lists the key or the id; a warning it lists
     * is "acknowledged" too; "settled": the rendered files carry every setting of the table
     * (a registry's mirrors, configs or auths), so the deprecated form goes with the old file.
     */
    status: "refused" | "acknowledged" | "warning" | "settled";
    source: "config" | "ctr" | "config+ctr";
    /** When the feature was last used (ctr's lastOccurrence). */
    lastOccurrence?: string;
}

const ID = "io.containerd.deprecation/";
const RESTART = "then restart containerd 1.x, which clears this record, or acknowledge the id";

/** What to do about each id, and whether the run is refused until it is done or acknowledged. */
function policy(name: string, target: Version): { refused: boolean; todo: string } | undefined {
    const p: { [name: string]: [boolean, string] } = {
        "pull-schema-1-image": [false, "re-push those images as Docker schema 2 or OCI: 2.x cannot pull schema 1 (images already pulled stay)"],
        "go-plugin-library": [atLeast(target, 2, 1), `2.1 removed Go plugins: build it as a proxy plugin or remove it; ${RESTART}`],
        "cri-registry-mirrors": [false, "the rendered config moves mirrors to certs.d: carry them with config.registryMirrors"],
        "cri-registry-configs": [false, "TLS goes to certs.d (config.registryTls, config.insecureRegistries); auth can be carried with config.registryAuth (kept secret) until 2.4, or moved to imagePullSecrets"],
        "cri-registry-auths": [false, "move them to imagePullSecrets (or registry.configs.<host>.auth through config.extraToml)"],
        "cri-api-v1alpha2": [true, `a CRI client (a kubelet ≤ 1.22, an old crictl) used CRI v1alpha2, which 2.0 removed: update it; ${RESTART}`],
        "cri-systemd-cgroup-v1": [true, "2.x ignores systemd_cgroup: set runc's SystemdCgroup (config.systemdCgroup) and drop systemd_cgroup"],
        "cri-untrusted-workload-runtime": [true, `2.x ignores it: define a handler named "untrusted" (config.runtimes["untrusted"])`],
        "cri-default-runtime": [true, "2.x ignores default_runtime and falls back to plain runc (SystemdCgroup unset): define the handler in config.runtimes and name it with default_runtime_name (config.extraToml)"],
        "cri-runtime-engine": [true, "runtime_engine worked only with the v1 shim: use io.containerd.runc.v2 and its options (BinaryName)"],
        "cri-runtime-root": [true, "runtime_root worked only with the v1 shim: use io.containerd.runc.v2 and options.Root"],
        "cri-criu-path": [false, "2.x ignores CriuPath: put criu in $PATH"],
        "aufs-snapshotter": [true, `2.0 removed aufs: move the node to overlayfs on 1.x first (images are pulled again); ${RESTART}`],
        "runtime-v1": [true, `2.0 removed io.containerd.runtime.v1.linux: its pods fail to start and its tasks are not taken over; move the handler to io.containerd.runc.v2 and recreate its pods on 1.x; ${RESTART}`],
        "runtime-runc-v1": [true, `2.0 removed io.containerd.runc.v1: its pods fail to start and its tasks are not taken over; move the handler to io.containerd.runc.v2 and recreate its pods on 1.x; ${RESTART}`],
        "restart-logpath": [false, "2.0 removed the containerd.io/restart.logpath label: use containerd.io/restart.loguri"],
        "tracing-processor-config": [false, "2.0 ignores the otlp plugin's config: use the OTEL_* environment variables"],
        "tracing-service-config": [false, "2.0 ignores the tracing plugin's config: use the OTEL_* environment variables"],
    };
    const e = p[name];
    return e && { refused: e[0], todo: e[1] };
}

/** Parses `ctr deprecations list --format json`: nothing printed (no warnings) is []. */
export function parseCtrDeprecations(stdout: string): CtrDeprecation[] {
    const text = stdout.trim();
    let parsed: unknown;
    try {
        parsed = text === "" ? [] : JSON.parse(text);
    } catch {
        throw new Error(`ctr deprecations list --format json: expected a JSON array, got ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (parsed === null) {
        return [];
    }
    if (!Array.isArray(parsed)) {
        throw new Error(`ctr deprecations list --format json: expected a JSON array, got ${JSON.stringify(text.slice(0, 200))}`);
    }
    return parsed.map((d, i) => {
        if (typeof d?.id !== "string" || typeof d?.message !== "string" || typeof d?.lastOccurrence !== "string") {
            throw new Error(`ctr deprecations list --format json: entry ${i} lacks a string id, message or lastOccurrence: ${JSON.stringify(d)}`);
        }
        return { id: d.id, message: d.message, lastOccurrence: d.lastOccurrence };
    });
}

const under = (plugins: string[], ...rest: string[]) => (p: KeyPath) =>
    p.length === rest.length + 2 && p[0] === "plugins" && plugins.includes(p[1]) && rest.every((s, i) => s === "*" || p[i + 2] === s);
const RUNTIME = [CRI, CRI_RUNTIME];
const IMAGES = [CRI, CRI_IMAGES];

type Found = { id?: string; key: string; what: string; todo?: string; refused?: boolean };

/** One live setting's deprecations. */
function scanSetting(s: LiveSetting): Found[] {
    const p = s.path, v = s.value, key = s.key;
    const found: Found[] = [];
    const name = p[4];
    const holder = p[3] === "runtimes" ? `handler "${name}"` : p[3];
    if (typeof v === "string" && p[p.length - 1] === "runtime_type" && ["io.containerd.runtime.v1.linux", "io.containerd.runc.v1"].includes(v)
        && (under(RUNTIME, "containerd", "runtimes", "*", "runtime_type")(p) || under([CRI], "containerd", "*", "runtime_type")(p))) {
        found.push({ id: ID + (v === "io.containerd.runc.v1" ? "runtime-runc-v1" : "runtime-v1"), key, what: `${holder} uses the ${v} shim` });
    }
    if (v === "aufs" && (under(IMAGES, "snapshotter")(p) || under([CRI], "containerd", "snapshotter")(p) || under(RUNTIME, "containerd", "runtimes", "*", "snapshotter")(p))) {
        found.push({ id: ID + "aufs-snapshotter", key, what: "the aufs snapshotter is configured" });
    }
    const cri = (...rest: string[]) => under([CRI], ...rest)(p);
    if (cri("systemd_cgroup") && v === true) {
        found.push({ id: ID + "cri-systemd-cgroup-v1", key, what: "systemd_cgroup = true (the v1 shim's systemd cgroup switch)" });
    }
    if (cri("containerd", "default_runtime", "runtime_type") && !isZero(v)) {
        found.push({ id: ID + "cri-default-runtime", key, what: "default_runtime defines the default handler" });
    }
    if (cri("containerd", "untrusted_workload_runtime", "runtime_type") && !isZero(v)) {
        found.push({ id: ID + "cri-untrusted-workload-runtime", key, what: "untrusted_workload_runtime defines the untrusted handler" });
    }
    for (const [field, id] of [["runtime_engine", "cri-runtime-engine"], ["runtime_root", "cri-runtime-root"]]) {
        if ((cri("containerd", "runtimes", "*", field) || cri("containerd", "default_runtime", field)) && !isZero(v)) {
            found.push({ id: ID + id, key, what: `${field} is set` });
        }
    }
    if (under(RUNTIME, "containerd", "runtimes", "*", "options", "CriuPath")(p) && !isZero(v)) {
        found.push({ id: ID + "cri-criu-path", key, what: `handler "${name}" sets CriuPath` });
    }
    if (cri("disable_cgroup") && v === true) {
        found.push({ key, what: "disable_cgroup = true, which 2.x ignores: containers get cgroups again", refused: true,
            todo: "make sure the node can give containers cgroups, then acknowledge the key" });
    }
    return found;
}

/** The registry tables' deprecations: one finding per registry host and table. */
function scanRegistry(settings: LiveSetting[]): Found[] {
    const found: Found[] = [];
    const seen = new Set<string>();
    const configPath = settings.find(s => under(IMAGES, "registry", "config_path")(s.path) && !isZero(s.value));
    for (const s of settings) {
        const p = s.path;
        if (!(p[0] === "plugins" && IMAGES.includes(p[1]) && p[2] === "registry" && ["mirrors", "configs", "auths"].includes(p[3]) && p.length > 4)) {
            continue;
        }
        const table = parseKey(s.key)?.slice(0, 5) ?? p.slice(0, 5);
        const tableKey = formatKey(table);
        if (seen.has(tableKey)) {
            continue;
        }
        seen.add(tableKey);
        found.push({ id: ID + `cri-registry-${p[3]}`, key: tableKey, what: `registry.${p[3]} for "${p[4]}" (deprecated; removal planned for 2.4)` });
        if (p[3] === "mirrors" && configPath && !found.some(f => f.key === configPath.key)) {
            found.push({ key: configPath.key, what: `registry.mirrors next to config_path = ${JSON.stringify(configPath.value)}: the CRI plugin fails to load`, refused: true,
                todo: "carry the mirrors with config.registryMirrors (certs.d) and drop registry.mirrors" });
        }
    }
    return found;
}

/**
 * The deprecations of a live config and of `ctr deprecations list` (undefined where ctr has no
 * such command: before 1.7.9/1.6.25), for a move to `target`. A config finding and ctr's entry
 * with the same id are one finding. `carried`: the live keys the rendered files carry or leave
 * at a shared default (carry.ts), which settle a registry table's finding.
 */
export function deprecationFindings(live: LiveConfig, ctr: CtrDeprecation[] | undefined, target: Version, acks: readonly string[],
    carried?: ReadonlySet<string>): DeprecationFinding[] {
    const found: Found[] = [...live.settings.flatMap(scanSetting), ...scanRegistry(live.settings)];
    if (live.version < 2) {
        found.push({ key: "version", what: "the config has no version (version 1): 2.x migrates it in memory at every start", refused: false,
            todo: "nothing: the rendered config declares its version" });
    }
    const findings: DeprecationFinding[] = found.map(f => {
        const pol = f.id ? policy(f.id.slice(ID.length), target) : undefined;
        const refused = f.refused ?? pol?.refused ?? false;
        const settled = carried !== undefined && f.id?.startsWith(ID + "cri-registry-") && tableCarried(live, f.key, carried);
        return { id: f.id, key: f.key, what: f.what, todo: f.todo ?? pol?.todo ?? "", status: settled ? "settled" : status(refused, acks, f.id, f.key), source: "config" };
    });
    for (const d of ctr ?? []) {
        const same = findings.filter(f => f.id === d.id);
        if (same.length > 0) {
            same.forEach(f => { f.source = "config+ctr"; f.lastOccurrence = d.lastOccurrence; });
            continue;
        }
        const pol = d.id.startsWith(ID) ? policy(d.id.slice(ID.length), target) : undefined;
        findings.push({
            id: d.id, what: d.message, todo: pol?.todo ?? "see containerd's message",
            status: status(pol?.refused ?? false, acks, d.id), source: "ctr", lastOccurrence: d.lastOccurrence,
        });
    }
    return findings;
}

function status(refused: boolean, acks: readonly string[], id?: string, key?: string): DeprecationFinding["status"] {
    const byKey = key !== undefined && acknowledged(acks, parseKey(key) ?? []);
    return (id !== undefined && acks.includes(id)) || byKey ? "acknowledged" : refused ? "refused" : "warning";
}

/** True when every live setting under the table `key` is carried. */
function tableCarried(live: LiveConfig, key: string, carried: ReadonlySet<string>): boolean {
    const table = parseKey(key) ?? [];
    const under = live.settings.filter(s => isPrefix(table, parseKey(s.key) ?? []));
    return under.length > 0 && under.every(s => carried.has(s.key));
}
