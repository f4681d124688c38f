/**
 * One line per pre-flight finding, naming the node, the key, its value (a secret's redacted) and
 * the input to use: what a refused preview prints. Findings about settings are grouped by the
 * file that set them, the file named once on a line of its own (byFile).
 */
import { Verdict } from "../compat";
import { formatKey } from "../toml/keys";
import { Carrier, CarryReport, ChangedDefault, DroppedSetting } from "./carry";
import { DeprecationFinding } from "./deprecations";
import { DropInFinding, ImportFinding, ImportsReport } from "./imports";

const q = (s: string) => JSON.stringify(s);

/** The typed input that would carry a setting, as a person writes it in the program. */
export function carrierText(c: Carrier): string {
    switch (c.kind) {
        case "registryMirrors": {
            const parts = c.endpoints.length > 0 ? [`config.registryMirrors[${q(c.registry)}] = ${JSON.stringify(c.endpoints)}`] : [];
            return [...parts, ...(c.insecure ? [`config.insecureRegistries including ${q(c.registry)}`] : [])].join(" and ");
        }
        case "insecureRegistries":
            return `config.insecureRegistries including ${q(c.registry)}`;
        case "registryTls":
            return `config.registryTls[${q(c.registry)}].${c.field} = ${q(c.path)}`;
        case "registryAuth":
            return `config.registryAuth[${q(c.registry)}].${c.field} (a secret)`;
        case "runtime":
            return `config.runtimes[${q(c.name)}].${c.field} = ${c.shown}`;
        case "proxy":
            return c.secret ? `proxy.${c.field} (the same URL, as a Pulumi secret)` : `proxy.${c.field} = ${c.shown}`;
        case "input":
            return `${c.input} = ${c.shown}`;
        case "extraToml":
            return `config.extraToml with ${formatKey(c.path)} = ${c.shown}${c.caveat ? ` (but ${c.caveat})` : ""}`;
        case "none":
            return `nothing: ${c.reason}`;
        default: {
            const never: never = c;
            throw new Error(`unknown carrier ${JSON.stringify(never)}`);
        }
    }
}

/**
 * Lines for findings of one or more files: `NODE: in FILE:` once per file, in the findings'
 * order, then each finding's line (`format`'s, which starts with `NODE: `) indented beneath it.
 */
export function byFile<T extends { file: string }>(node: string, items: readonly T[], format: (node: string, item: T) => string): string[] {
    const files = [...new Set(items.map(i => i.file))];
    return files.flatMap(f => [`${node}: in ${f}:`,
        ...items.filter(i => i.file === f).map(i => `${node}:   ${format(node, i).slice(node.length + 2)}`)]);
}

/** A setting the rendered config would not carry (or drops, as acknowledged), without its file: see byFile. */
export function formatDropped(node: string, d: DroppedSetting): string {
    const what = `${node}: ${d.key} = ${d.shown}`;
    if (d.status === "acknowledged") {
        return `${what} is dropped, as upgrade.acknowledgeDropped says`;
    }
    return d.carrier.kind === "none"
        ? `${what} would be dropped: no equivalent in the rendered config (${d.carrier.reason}); list it in upgrade.acknowledgeDropped to drop it`
        : `${what} would be dropped: set ${carrierText(d.carrier)}, or list it in upgrade.acknowledgeDropped`;
}

export function formatChanged(node: string, c: ChangedDefault): string {
    return `${node}: warning: ${c.key} = ${c.shown} is 1.x's default, which 2.x changes: ${c.change}; ` +
        `to keep 1.x's value set ${carrierText(c.carrier)}, or list the key in upgrade.acknowledgeDropped`;
}

export function formatDeprecation(node: string, f: DeprecationFinding): string {
    const about = [f.key, f.id].filter(x => x !== undefined).join(", ");
    const tail = f.status === "acknowledged" ? " (acknowledged)" : f.status === "refused" ? "; or list it in upgrade.acknowledgeDropped" : "";
    return `${node}: ${f.status === "warning" ? "warning" : "deprecated"}: ${f.what} [${about}]: ${f.todo}${tail}`;
}

export function formatImport(node: string, f: ImportFinding): string {
    const holds = f.files.length === 0 ? "matching no file now" : `holding ${f.files.join(", ")}`;
    switch (f.status) {
        case "kept":
            return `${node}: imports ${q(f.entry)} (${holds}) kept: config.imports lists it`;
        case "acknowledged":
            return `${node}: imports ${q(f.entry)} (${holds}) is no longer imported, as upgrade.acknowledgeDropped says`;
        case "refused":
            return `${node}: imports ${q(f.entry)} (${holds}) would no longer be imported: set config.imports including ${q(f.entry)}, or list imports in upgrade.acknowledgeDropped`;
        default: {
            const never: never = f.status;
            throw new Error(`unknown status ${JSON.stringify(never)}`);
        }
    }
}

export function formatDropIn(node: string, d: DropInFinding): string {
    return d.status === "kept"
        ? `${node}: drop-in ${d.file} kept: ${d.detail}`
        : `${node}: drop-in ${d.file} declares ${d.version === 0 ? "no version" : `version ${d.version}`}, the rendered root version ${d.root}: ${d.detail}: ${d.todo}`;
}

export function formatVerdict(node: string, v: Verdict): string {
    switch (v.status) {
        case "ok":
            return `${node}: ${v.check}: ${v.detail}`;
        case "warning":
            return `${node}: ${v.check}: warning: ${v.warning}`;
        case "refused":
            return `${node}: ${v.check}: refused: ${v.reason}`;
        default: {
            const never: never = v;
            throw new Error(`unknown verdict ${JSON.stringify(never)}`);
        }
    }
}

/** The lines that refuse the run; none: the node may go ahead. */
export function refusals(node: string, carry: CarryReport, deprecations: DeprecationFinding[], verdicts: Verdict[], imports?: ImportsReport): string[] {
    return [
        ...(imports?.imports ?? []).filter(f => f.status === "refused").map(f => formatImport(node, f)),
        ...(imports?.dropIns ?? []).filter(d => d.status === "refused").map(d => formatDropIn(node, d)),
        ...byFile(node, carry.dropped.filter(d => d.status === "refused"), formatDropped),
        ...deprecations.filter(f => f.status === "refused").map(f => formatDeprecation(node, f)),
        ...verdicts.filter(v => v.status === "refused").map(v => formatVerdict(node, v)),
    ];
}
