/**
 * The settings a running containerd took from its config file and the files it imports, merged
 * the way that containerd version merges them (services/server/config at v1.7.x,
 * cmd/containerd/server/config at v2.x, checked against their source and tests):
 * - files load main first, then each file's `imports` in order (a glob's matches sorted, a
 *   relative path against the importing file's directory), a file loaded once;
 * - top-level settings of containerd's own (root, state, grpc, debug, oom_score, …) are replaced
 *   by a later file only with a non-zero value: `oom_score = 0` in a drop-in changes nothing;
 * - disabled_plugins, required_plugins and imports are appended (2.x skips duplicates);
 * - timeouts, proxy_plugins and stream_processors are replaced entry by entry;
 * - plugins: 1.x replaces a plugin's whole table with a later file's (containerd#5837: a drop-in
 *   that sets one CRI key wipes every other CRI key of the main file); 2.x merges them key by key
 *   (containerd#9982), a later value, zero or not, winning.
 * The result is flat: one entry per leaf, in the schema the running version reads (2 on 1.x,
 * 3 on 2.x, where a schema 2 file is migrated file by file as 2.x does).
 */
import * as path from "path";
import * as TOML from "@iarna/toml";
import { TomlValue } from "../args";
import { ConfigFile } from "../facts";
import { maxConfigVersion, Version } from "../versions";
import { toSchema4 } from "../toml/schema4";
import { formatKey, isPrefix, isTable, isZero, leaves, plainToml, Table } from "../toml/keys";
import { toSchema3 } from "../toml/schema3";

export interface LiveSetting {
    /** The key as the file spells it, e.g. `plugins.cri.sandbox_image` in a version 1 file. */
    key: string;
    /** The key's segments in the schema of `LiveConfig.schema`, with full plugin names. */
    path: string[];
    /** The value as read: secrets included, so print findings, never settings. */
    value: TomlValue;
    /** The file that set it. */
    file: string;
}

/** One file of the live config, as containerd loaded it. */
export interface LiveFile {
    path: string;
    /** The `version` the file itself declares; 0 when it declares none. */
    version: number;
    /** Its `imports`, each resolved as containerd resolves it (absolute, cleaned; a glob stays a glob). */
    imports: string[];
    /** The file whose imports named or matched it; undefined for the main config. */
    importedBy?: string;
}

export interface LiveConfig {
    /** Schema of every `path`: 2 on containerd 1.x, 3 on 2.x. */
    schema: 2 | 3;
    /** The `version` the files declare (the main file's on 2.x); 0 when none does. */
    version: number;
    /** The files in the order containerd loads them. */
    files: string[];
    /** The same files with their own versions and imports. */
    sources: LiveFile[];
    settings: LiveSetting[];
    /** What the reader assumed, e.g. a missing `version`. */
    notes: string[];
}

/** containerd 1.x's names for its plugins in a version 1 file (v1Migrate of 2.x, which 1.x matches by ID). */
const V1_PLUGIN_NAMES: { [id: string]: string } = {
    cri: "io.containerd.grpc.v1.cri", cgroups: "io.containerd.monitor.v1.cgroups", linux: "io.containerd.runtime.v1.linux",
    scheduler: "io.containerd.gc.v1.scheduler", bolt: "io.containerd.metadata.v1.bolt", task: "io.containerd.runtime.v2.task",
    opt: "io.containerd.internal.v1.opt", restart: "io.containerd.internal.v1.restart", tracing: "io.containerd.internal.v1.tracing",
    otlp: "io.containerd.tracing.processor.v1.otlp", aufs: "io.containerd.snapshotter.v1.aufs", btrfs: "io.containerd.snapshotter.v1.btrfs",
    devmapper: "io.containerd.snapshotter.v1.devmapper", native: "io.containerd.snapshotter.v1.native",
    overlayfs: "io.containerd.snapshotter.v1.overlayfs", zfs: "io.containerd.snapshotter.v1.zfs",
};

/**
 * runc's options as containerd names them (containerd/api types/runc/options, `toml` tags).
 * containerd 1.x's TOML decoder (github.com/BurntSushi/toml) matches a key to a field
 * case-insensitively, so 1.x configs in the field say `systemdCgroup` or `binaryName`: read here
 * as the canonical key, so that what is carried is written once, in containerd's spelling.
 */
const RUNC_OPTIONS = ["NoPivotRoot", "NoNewKeyring", "ShimCgroup", "IoUid", "IoGid", "BinaryName", "Root", "CriuPath",
    "SystemdCgroup", "CriuImagePath", "CriuWorkPath", "TaskApiAddress", "TaskApiVersion"];
const RUNC_OPTION_BY_LOWER = new Map(RUNC_OPTIONS.map(k => [k.toLowerCase(), k]));

/** `p` with a runtime option spelled in another case as its canonical key (`…options.systemdCgroup` → `SystemdCgroup`). */
export function canonicalPath(p: string[]): string[] {
    if (p.length === 7 && p[0] === "plugins" && p[2] === "containerd" && p[3] === "runtimes" && p[5] === "options") {
        const canonical = RUNC_OPTION_BY_LOWER.get(p[6].toLowerCase());
        if (canonical && canonical !== p[6]) {
            return [...p.slice(0, 6), canonical];
        }
    }
    return p;
}

const OWN_FIELDS = new Set(["version", "root", "state", "temp", "plugin_dir", "grpc", "ttrpc", "debug", "metrics", "oom_score", "cgroup"]);
const LISTS = new Set(["disabled_plugins", "required_plugins", "imports"]);
const ENTRY_MAPS = new Set(["timeouts", "proxy_plugins", "stream_processors"]);

/** Go's filepath.Match: `*` and `?` stop at "/", `[…]` is a class. */
function globRegExp(glob: string): RegExp {
    let re = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        const end = c === "[" ? glob.indexOf("]", i + 2) : -1;
        if (c === "*" || c === "?") {
            re += c === "*" ? "[^/]*" : "[^/]";
        } else if (end > 0) {
            re += `[${glob.slice(i + 1, end)}]`;
            i = end;
        } else {
            const lit = c === "\\" && i + 1 < glob.length ? glob[++i] : c;
            re += lit.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
        }
    }
    return new RegExp(`^${re}$`);
}

function parseFile(f: ConfigFile): Table {
    try {
        return plainToml(TOML.parse(f.text)) as Table;
    } catch (e) {
        throw new Error(`${f.path}: not valid TOML: ${(e as Error).message.split("\n")[0]}`);
    }
}

/** True when the absolute path `file` is what the resolved import `entry` names or matches. */
export function importMatches(entry: string, file: string): boolean {
    // containerd globs only a path with "*" in it (and then "?" and "[…]" too).
    return entry.includes("*") ? globRegExp(entry).test(file) : entry === file;
}

/** An `imports` entry as containerd resolves it: cleaned, relative to the importing file's directory. */
export const resolveImport = (importer: string, entry: string) => path.posix.resolve(path.posix.dirname(importer), entry);

interface Loaded {
    file: string;
    doc: Table;
    imports: string[];
    importedBy?: string;
}

/** The files in containerd's load order, each parsed. */
function loadOrder(main: ConfigFile, dropIns: { [path: string]: string }): Loaded[] {
    const loaded = new Map<string, Loaded>();
    const pending: { p: string; by?: string }[] = [{ p: main.path }];
    while (pending.length > 0) {
        const { p, by } = pending.shift()!;
        if (loaded.has(p)) {
            continue;
        }
        const text = p === main.path ? main.text : dropIns[p];
        if (text === undefined) {
            throw new Error(`${p} is imported but was not read from the node`);
        }
        const doc = parseFile({ path: p, text });
        const imports = (Array.isArray(doc.imports) ? doc.imports.map(String) : []).map(imp => resolveImport(p, imp));
        loaded.set(p, { file: p, doc, imports, importedBy: by });
        for (const abs of imports) {
            const found = abs.includes("*") ? Object.keys(dropIns).filter(k => importMatches(abs, k)).sort() : [abs];
            pending.push(...found.map(f => ({ p: f, by: p })));
        }
    }
    return [...loaded.values()];
}

function declaredVersion(doc: Table, file: string): number {
    const v = doc.version ?? 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        throw new Error(`${file}: version must be an integer, got ${JSON.stringify(v)}`);
    }
    return v;
}

/**
 * Reads the effective settings of a containerd `running` on the node from its main config and
 * the imported files' texts (path → text: every file the imports name or match; the globs are
 * resolved here against these paths).
 */
export function readLiveConfig(main: ConfigFile, dropIns: { [path: string]: string }, running: Version): LiveConfig {
    const files = loadOrder(main, dropIns);
    const notes: string[] = [];
    const is2 = running.major >= 2;
    const versions = files.map(f => declaredVersion(f.doc, f.file));
    const max = maxConfigVersion(running);
    if (versions[0] > max) {
        throw new Error(`${files[0].file}: config version ${versions[0]} is not read by this pre-flight on containerd ${running.text}`);
    }
    // A drop-in of a version the running containerd does not read (written since its last
    // start: 1.7.17+ refuses to start on a version 3 file) gives no live setting; the drop-in
    // check (imports.ts) judges it against the target.
    const unread = new Set(files.filter((f, i) => i > 0 && versions[i] > max).map(f => f.file));
    unread.forEach(f => notes.push(`${f} declares version ${versions[files.findIndex(x => x.file === f)]}, which containerd ${running.text} does not read: none of its settings is live`));
    // 1.x decodes with the merged version (a later non-zero one wins); 2.x migrates each file.
    const merged = versions.filter((_, i) => !unread.has(files[i].file)).reduce((a, v) => v || a, 0);
    const out = new Map<string, LiveSetting>();

    files.forEach(({ file, doc }, i) => {
        if (unread.has(file)) {
            return;
        }
        const version = is2 ? versions[i] : merged;
        if (version < 2 && (is2 || i === 0)) {
            notes.push(`${is2 ? file : "the config"} has no version: containerd reads it as version 1 (short plugin names such as "cri"); read here as version 2 with the full names`);
        }
        const entries = leaves(doc).flatMap(({ path: written, value }) => {
            let p = written;
            if (version < 2 && p[0] === "plugins" && V1_PLUGIN_NAMES[p[1]]) {
                p = ["plugins", V1_PLUGIN_NAMES[p[1]], ...p.slice(2)];
            }
            // A version 4 file's top-level server settings are not migrated: containerd ignores them.
            if (version >= 4 && toSchema4(p).length !== p.length) {
                notes.push(`${formatKey(written)} (${file}) is ignored by containerd ${running.text}: a version 4 file holds it in a server plugin`);
                return [];
            }
            const canonical = canonicalPath(p);
            if (canonical !== p) {
                notes.push(`${formatKey(written)} (${file}) is read as ${formatKey(canonical.slice(4))}: containerd matches these keys case-insensitively`);
                p = canonical;
            }
            if (is2 && version < 3) {
                const m = toSchema3(p, running);
                if (m.kind === "removed") {
                    notes.push(`${formatKey(written)} (${file}) is ignored by containerd ${running.text}: ${m.reason}`);
                    return [];
                }
                p = m.path;
                value = m.asList ? [value] : value;
            }
            return [{ key: formatKey(written), path: p, value, file }];
        });
        // A file's table for one of these, even an empty one, replaces the earlier files' whole.
        const tables = (top: string) => Object.keys(isTable(doc[top]) ? doc[top] : {});
        const replaced = new Set([
            ...[...ENTRY_MAPS].flatMap(top => tables(top).map(k => [top, k])),
            ...(is2 ? [] : tables("plugins").map(k => ["plugins", version < 2 ? V1_PLUGIN_NAMES[k] ?? k : k])),
        ].map(p => JSON.stringify(p)));
        for (const [k, s] of out) {
            if (replaced.has(JSON.stringify(s.path.slice(0, 2)))) {
                out.delete(k);
            }
        }
        for (const e of entries) {
            const top = e.path[0];
            if (top === "version" || ((OWN_FIELDS.has(top) || LISTS.has(top)) && isZero(e.value))) {
                continue;
            }
            const id = JSON.stringify(e.path);
            const before = out.get(id);
            if (LISTS.has(top) && before && Array.isArray(before.value) && Array.isArray(e.value)) {
                const added = is2 ? e.value.filter(x => !(before.value as TomlValue[]).some(y => JSON.stringify(y) === JSON.stringify(x))) : e.value;
                out.set(id, { ...before, value: [...before.value, ...added], file: e.file });
                continue;
            }
            for (const [k, s] of out) {
                if (k !== id && (isPrefix(s.path, e.path) || isPrefix(e.path, s.path))) {
                    out.delete(k);
                }
            }
            out.set(id, e);
        }
    });
    const sources = files.map((f, i): LiveFile => ({ path: f.file, version: versions[i], imports: f.imports, ...(f.importedBy ? { importedBy: f.importedBy } : {}) }));
    return { schema: is2 ? 3 : 2, version: is2 ? versions[0] : merged, files: files.map(f => f.file), sources, settings: [...out.values()], notes };
}
