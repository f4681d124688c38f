/**
 * How kubectl on the machine running `pulumi up` gets its kubeconfig: by path, or by content (a
 * cluster's kubeconfig output, a secret).
 *
 * Content never goes into command text or an environment variable. A read (an invoke: nothing of
 * it is kept) gets it on stdin, and its script puts it in a private file it removes when it exits.
 * A step (a resource: the state keeps its inputs and outputs, and the command provider echoes
 * every input into the outputs) gets only the name of a file the program writes at up, in a
 * directory of the user's own (0700) under `$TMPDIR` (os.tmpdir()), 0600, and removes once the
 * node's last local step has run, or when the program exits. The steps' library
 * (components/node/kubectl.sh) goes to the same directory. So the state holds the kubeconfig
 * once, as the secret input of the program (not twice in each node's drain and verify steps), and
 * a kubeconfig whose content changes (a rotated certificate or token) changes no step: it used to
 * run every node's drain again.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { KubeconfigContent, KubeconfigInput } from "./args";
import { LOCAL_LIB, LOCAL_LIB_FILE } from "./scripts/localLib";
import { InvalidArgumentError, kubeconfigKind } from "./spec";

/**
 * POSIX sh (local steps run under bash, reads under sh): the kubeconfig from stdin into a 0600 file
 * of its own, removed when the script exits however it exits.
 */
export const KUBECONFIG_FROM_STDIN = `KUBECONFIG=$(umask 077 && mktemp "\${TMPDIR:-/tmp}/containerd-node-kubeconfig.XXXXXX") || exit 1
export KUBECONFIG
trap 'rm -f "$KUBECONFIG"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
cat >"$KUBECONFIG"
`;

/** The environment variable that names a step's kubeconfig file (its slot), not the file's path. */
export const SLOT_VARIABLE = "CN_KUBECONFIG_SLOT";

/** The directory the program's kubeconfig files go to: the user's own, 0700, made when missing. */
export function kubeconfigDir(tmp = os.tmpdir()): string {
    const uid = process.getuid!();
    const dir = path.join(tmp, `containerd-node-${uid}`);
    try {
        fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
            throw e;
        }
    }
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
        throw new Error(`${dir} is not a directory of this user's alone (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}, ` +
            `${st.isSymbolicLink() ? "a symbolic link" : st.isDirectory() ? "a directory" : "not a directory"}): ` +
            "no kubeconfig is written there; remove it, or set TMPDIR elsewhere");
    }
    return dir;
}

/** The files this process wrote: removed when their node's local steps have run, and at exit. */
const written = new Map<string, string>();
let cleanupOnExit = false;

/** Writes (replaces) the kubeconfig of `slot`, 0600, in kubeconfigDir(); returns its path. */
export function writeKubeconfig(slot: string, content: string, tmp?: string): string {
    const file = path.join(kubeconfigDir(tmp), `kubeconfig-${slot}`);
    const part = `${file}.${process.pid}`;
    fs.writeFileSync(part, content, { mode: 0o600 });
    fs.renameSync(part, file);
    written.set(slot, file);
    if (!cleanupOnExit) {
        cleanupOnExit = true;
        process.once("exit", () => [...written.keys()].forEach(removeKubeconfig));
    }
    return file;
}

/** Removes the kubeconfig this process wrote for `slot`, if any. */
export function removeKubeconfig(slot: string): void {
    const file = written.get(slot);
    if (file !== undefined) {
        written.delete(slot);
        fs.rmSync(file, { force: true });
    }
}

/**
 * Writes the steps' library (components/scripts/localLib.ts) into kubeconfigDir(), once per process, unless
 * it is there already; returns its path. Called at up only (at a preview no step runs). It stays:
 * named by its content, it is the same for every run of this version, and a concurrent run of
 * another stack may be using it.
 */
export function writeLocalLibrary(tmp?: string): string {
    const file = path.join(kubeconfigDir(tmp), LOCAL_LIB_FILE);
    if (!libraryWritten.has(file)) {
        const there = fs.existsSync(file) && fs.readFileSync(file, "utf8") === LOCAL_LIB;
        if (!there) {
            const part = `${file}.${process.pid}`;
            fs.writeFileSync(part, LOCAL_LIB, { mode: 0o644 });
            fs.renameSync(part, file);
        }
        libraryWritten.add(file);
    }
    return file;
}
const libraryWritten = new Set<string>();

/**
 * A step's slot: the same for a node in every run of a stack, from any machine; different for
 * every node (each node's file is removed when its own steps are done).
 */
export function kubeconfigSlot(owner: string): string {
    return createHash("sha256").update(`${pulumi.getProject()}\0${pulumi.getStack()}\0${owner}`).digest("hex").slice(0, 16);
}

/** What a local command needs to reach the cluster. */
export interface KubeconfigUse {
    environment?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/** What a read needs: its environment or stdin, and the text before its script. */
export interface KubeconfigRead extends KubeconfigUse {
    stdin?: pulumi.Output<string>;
    /** Put before the command's own script. */
    prologue: string;
}

/** How reads and steps get the kubeconfig. */
export interface KubeconfigWiring {
    /** For reads (invokes, nothing kept): content on stdin. */
    read: KubeconfigRead;
    /**
     * For the steps of `owner` (resources): content as a file the program writes at up (not at a
     * preview, where no step runs), which the steps' library (components/node/kubectl.sh) finds by
     * the slot in their environment. `release` is called when the owner's last local step is done.
     */
    steps(owner: string): KubeconfigUse & { release: () => void };
}

/** Checks the argument (at preview, naming `field`) and says how reads and steps get it. */
export function kubeconfigWiring(field: string, k: KubeconfigInput | undefined): KubeconfigWiring {
    const kind = kubeconfigKind(field, k);
    switch (kind.kind) {
        case "path": {
            const environment = { KUBECONFIG: kind.path };
            return { read: { environment, prologue: "" }, steps: () => ({ environment, release: () => undefined }) };
        }
        case "content": {
            const content = pulumi.secret(pulumi.output((k as KubeconfigContent).content).apply(text => {
                if (typeof text !== "string" || text.trim() === "") {
                    throw new InvalidArgumentError(`${field}.content`, `expected the kubeconfig's text, got ${typeof text === "string" ? "an empty string" : typeof text}`);
                }
                return text;
            }));
            return {
                read: { stdin: content, prologue: KUBECONFIG_FROM_STDIN },
                steps: owner => {
                    const slot = kubeconfigSlot(owner);
                    // The slot is not a secret; the file is written before a step that names it is registered.
                    const named = pulumi.unsecret(content.apply(text => {
                        if (!pulumi.runtime.isDryRun()) {
                            writeKubeconfig(slot, text);
                        }
                        return slot;
                    }));
                    return { environment: { [SLOT_VARIABLE]: named }, release: () => removeKubeconfig(slot) };
                },
            };
        }
        default: {
            const never: never = kind;
            throw new Error(`unknown kubeconfig kind ${JSON.stringify(never)}`);
        }
    }
}
