/**
 * The live config's `imports` against the rendered config's, and the version of every drop-in
 * the rendered config goes on importing (pure). The rendered file replaces the main config only:
 * an import it no longer lists leaves its drop-ins on disk, unread (a GPU toolkit's runtime
 * handler, a cloud image's settings). containerd migrates each file from its own `version`
 * (cmd/containerd/server/config LoadConfig), so a drop-in older than the root is migrated and
 * kept; a newer one loses settings (containerd#12891: a version 3 drop-in over a version 2 root
 * leaves the root's sandbox_image unmigrated) or stops containerd: 2.3.0–2.3.4 exit on "drop-in
 * config version N higher than root config version M" (field reports kubernetes-sigs/kubespray#13285,
 * k0sproject/k0s#7689, from NVIDIA toolkit drop-ins; 2.3.6 loads it), and every version exits on a
 * file above the config version it reads.
 */
import { renderedImports } from "../render/configToml";
import { NodeSpec } from "../spec";
import { atLeast, maxConfigVersion, Version } from "../versions";
import { importMatches, LiveConfig } from "./liveConfig";

export interface ImportFinding {
    /** The live main config's entry, resolved as containerd resolves it. */
    entry: string;
    /** The live files it names or matches. */
    files: string[];
    /** "kept": the rendered config lists it; "refused" unless `upgrade.acknowledgeDropped` lists `imports`. */
    status: "kept" | "refused" | "acknowledged";
}

export interface DropInFinding {
    file: string;
    /** The version it declares; 0: none (read as version 1). */
    version: number;
    /** The version the rendered root declares. */
    root: number;
    status: "kept" | "refused";
    /** What the target containerd does with it. */
    detail: string;
    /** What to do, for a refused one. */
    todo?: string;
}

export interface ImportsReport {
    imports: ImportFinding[];
    /** Every live drop-in the rendered config goes on importing, in load order. */
    dropIns: DropInFinding[];
}

/**
 * The rendered config's imports and version, from the spec the renderer reads (the file declares
 * the config version of its schema; config.extraToml can set neither).
 */
function renderedRoot(spec: NodeSpec): { imports: string[]; version: number } {
    return { imports: renderedImports(spec.config), version: spec.config.schema };
}

/** The live drop-ins the config rendered from `spec` imports: matched by its imports, or imported by one it keeps. */
export function keptDropIns(live: LiveConfig, spec: NodeSpec): Set<string> {
    const { imports } = renderedRoot(spec);
    const kept = new Set<string>();
    for (const f of live.sources.slice(1)) {
        if (imports.some(e => importMatches(e, f.path)) || (f.importedBy !== undefined && kept.has(f.importedBy))) {
            kept.add(f.path);
        }
    }
    return kept;
}

const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** One drop-in's version against the rendered root's, on `target`. */
export function dropInVerdict(file: string, version: number, root: number, target: Version): DropInFinding {
    const max = maxConfigVersion(target);
    const shown = version !== 0 ? `version ${version}` : target.major < 2 ? "no version" : "no version (read as version 1)";
    const rewrite = `rewrite ${base(file)} at version ${Math.min(root, max)} or lower, or leave it out of config.imports`;
    const refused = (detail: string): DropInFinding => ({ file, version, root, status: "refused", detail, todo: rewrite });
    if (version > max) {
        return refused(target.major < 2
            ? `containerd ${target.text} reads version 2 at most: 1.6.32+ and 1.7.17+ exit ("containerd config version \`${version}\` is not supported, the max version is \`2\`")`
            : `containerd ${target.text} reads version ${max} at most and exits ("expected containerd config version equal to or less than \`${max}\`, got \`${version}\`")`);
    }
    if (version > root && atLeast(target, 2, 3) && !atLeast(target, 2, 3, 5)) {
        return refused(`containerd 2.3.0–2.3.4 exit on a drop-in newer than their root ("drop-in config version ${version} higher than root config version ${root}"; kubernetes-sigs/kubespray#13285)`);
    }
    if (version > root && !atLeast(target, 2, 3)) {
        return refused(`the root's settings that need migrating from version ${root} are no longer migrated, and ignored (containerd#12891: sandbox_image falls back to the default pause image)`);
    }
    if (version > root) {
        // Checked with 2.3.6: each file is migrated on its own, the newer drop-in loaded as it is.
        return { file, version, root, status: "kept", detail: `${shown} over the rendered version ${root} root: containerd ${target.text} loads it (2.3.0–2.3.4 would exit on it)` };
    }
    const detail = version === root ? `${shown}, as the rendered root`
        // 1.x decodes every file with the merged version: the root's.
        : target.major < 2 ? `${shown}: containerd ${target.text} reads it as version ${root}, the root's (full plugin names only)`
            : `${shown} under the rendered version ${root} root: containerd ${target.text} migrates it in memory at every start`;
    return { file, version, root, status: "kept", detail };
}

/** The live imports and the kept drop-ins' versions, for a move to the config rendered from `spec`. */
export function importsReport(live: LiveConfig, spec: NodeSpec): ImportsReport {
    const rendered = renderedRoot(spec);
    const main = live.sources[0];
    const imports: ImportFinding[] = (main?.imports ?? []).map(entry => {
        const files = live.sources.filter(f => f.importedBy === main.path && importMatches(entry, f.path)).map(f => f.path);
        const kept = rendered.imports.includes(entry) || (!entry.includes("*") && rendered.imports.some(e => importMatches(e, entry)));
        // (acknowledgeDropped holds keys respelled canonically: "imports" is the key itself.)
        const status = kept ? "kept" : spec.upgrade.acknowledgeDropped.includes("imports") ? "acknowledged" : "refused";
        return { entry, files, status };
    });
    const kept = keptDropIns(live, spec);
    const dropIns = live.sources.filter(f => kept.has(f.path))
        .map(f => dropInVerdict(f.path, f.version, rendered.version, spec.containerd.version));
    return { imports, dropIns };
}
