/**
 * The files of components/node as the TypeScript side reads them: the node library (lib.sh),
 * which reaches every node as a file, and the Kubernetes-side steps' library (kubectl.sh). The
 * node library also keeps the templates of the files every node writes the same but for a few of
 * its values (the containerd unit, /etc/crictl.yaml): the renderers (render/unit.ts,
 * render/crictl.ts) fill the very text the library's cn_fill fills on the node, so a step's text
 * carries those values and not the files.
 */
import * as fs from "fs";
import * as path from "path";

/**
 * Where a file of components/node is: beside this module in the sources (components), and from
 * the compiled modules (bin/components) the package's own components/node, which `npm pack` ships.
 */
export function nodeFilePath(name: string): string {
    const candidates = [path.join(__dirname, "node", name), path.join(__dirname, "..", "..", "components", "node", name)];
    const found = candidates.find(p => fs.existsSync(p));
    if (!found) {
        throw new Error(`containerd-node: components/node/${name} is missing from the package (looked at ${candidates.join(", ")})`);
    }
    return found;
}

/** The node library's path on this machine (the `lib` step's FileAsset). */
export const NODE_LIB_PATH = nodeFilePath("lib.sh");

/** The node library's text. */
export const NODE_LIB = fs.readFileSync(NODE_LIB_PATH, "utf8");

/**
 * The node library's constant `name`, as it assigns it at the top level (`NAME='…'`, one or more
 * lines, no quote inside): the templates, and lists every node uses alike.
 */
export function nodeLibConstant(name: string): string {
    const m = new RegExp(`^${name}='([^']*)'$`, "m").exec(NODE_LIB);
    if (!m) {
        throw new Error(`the node library has no constant ${name}`);
    }
    return m[1];
}

/**
 * The node library's template `name` (its constant `NAME='…'`) with each `@VALUE@` replaced by
 * `values[VALUE]`, in one pass, as the library's cn_fill does with the step's values. Throws
 * naming a value the template reads and `values` lacks.
 */
export function fillNodeTemplate(name: string, values: { [value: string]: string }): string {
    return nodeLibConstant(name).replace(/@([A-Z_]+)@/g, (_, v: string) => {
        if (!(v in values)) {
            throw new Error(`the node library's template ${name} reads ${v}, which was not given`);
        }
        return values[v];
    });
}
