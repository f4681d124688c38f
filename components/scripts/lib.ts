/**
 * The node library (components/node/lib.sh), as the TypeScript side knows it: the file's path and
 * text, its name on the node (by content hash), the few of its functions that run elsewhere too
 * (the pre-flight's facts read, before the library is on the node; the drain step on the
 * operator's machine), and each step's prelude, which sources it.
 *
 * The library reaches the node once per version, as a file: the facts read at up puts it there
 * when it is missing (NODE_LIB_GZIP_BASE64), or, when the caller gave the node's facts, the
 * node's `lib` step (a CopyToRemote: the state keeps its hash, not its text). Neither leaves its
 * text in the state, so each step's command text, which `pulumi preview` diffs and the engine
 * keeps per resource, carries only what is that step's own; and the steps name the file by its
 * hash, so a new library is a change of every step.
 */
import { createHash } from "crypto";
import * as zlib from "zlib";
import { STATE_DIR_DEFAULT } from "../facts";
import { NODE_LIB } from "../nodeFiles";
import { cnDirAssignment } from "./shell";

/** The library's SHA-256, in hex. */
export const NODE_LIB_SHA256 = createHash("sha256").update(NODE_LIB).digest("hex");

/** The library's path on the node, relative to CN_DIR: named by content, so versions never mix. */
export const NODE_LIB_FILE = `lib/node-${NODE_LIB_SHA256.slice(0, 16)}.sh`;

/**
 * The library as the facts read at up sends it (facts.sh nf_prepare, which puts it at
 * `$CN_DIR/NODE_LIB_FILE` when no file is there): its text gzipped, in base64 lines (a third of
 * its size), checked on the node against NODE_LIB_SHA256 before it is moved in place.
 */
export const NODE_LIB_GZIP_BASE64 = zlib.gzipSync(NODE_LIB, { level: 9 }).toString("base64").replace(/.{76}/g, "$&\n").trim();

/**
 * Functions of the library by name, as text, each with the comment lines right above it that
 * begin with its name: for scripts that run where the library is not (yet).
 */
export function libFunctions(...names: string[]): string {
    const lines = NODE_LIB.split("\n");
    return names.map(name => {
        const at = lines.findIndex(l => l.startsWith(`${name}() {`));
        if (at < 0) {
            throw new Error(`the node library has no function ${name}`);
        }
        let from = at;
        while (from > 0 && lines[from - 1].startsWith(`# ${name} `)) {
            from--;
        }
        // A one-line function ends on its own line; a longer one at the first line that is just "}".
        const to = /\}\s*(#.*)?$/.test(lines[at]) ? at : lines.indexOf("}", at);
        if (to < 0) {
            throw new Error(`the node library's function ${name} has no end`);
        }
        return lines.slice(from, to + 1).join("\n") + "\n";
    }).join("");
}

/** version_matches REPORTED DECLARED (versions.ts runtimeVersionMatches, in bash). */
export const VERSION_MATCHES = libFunctions("version_matches");

/**
 * upgrade_drains RUNNING TARGET POLICY: whether moving containerd from RUNNING to TARGET drains
 * the node under `upgrade.drain` POLICY: the rule of upgrade/drain.ts (drainDecision), which the
 * preview reports; the drain step decides with this one at run time, from the version the Node
 * reports.
 */
export const UPGRADE_DRAINS = libFunctions("upgrade_drains");

/**
 * host_facts KUBELET PATH…, with cn_arch and original_runtime: the machine's facts the pre-flight
 * checks (HostFacts). It reads the kubelet's version with cn_bin_memo (BIN_MEMO).
 */
export const HOST_FACTS = libFunctions("cn_arch", "original_runtime", "host_facts");

/** cn_bin_memo NAME BIN CMD…: a binary's `--version` read once per build of it (the facts reader's). */
export const BIN_MEMO = libFunctions("cn_bin_memo");

/**
 * detect_runtime: the runtime the node uses now, printed as `docker://X`, `containerd://X` or
 * `none`; with its parts, cn_runtime_kind and cn_runtime_of, which the facts read calls apart (so
 * that it runs `containerd --version` once), and cn_containerd_version.
 */
export const DETECT_RUNTIME = libFunctions("detect_runtime", "cn_runtime_kind", "cn_runtime_of", "cn_containerd_version");

/**
 * What the node library's runner (cn_run_head) puts before a step's text when it saves the run's
 * script: strict bash and the library it was sourced from, the file the create command named
 * (detachedCommand checked it is there; CN_DIR, `stateDir`, comes from the runner). Here for
 * running a step's text without the runner (tests); a unit test holds the two equal. `libPath`
 * is plain characters, as `stateDir` is.
 */
export function runHead(libPath: string): string {
    return `set -euo pipefail
source ${libPath}
`;
}

/**
 * What every mutating step's text starts with: cn_begin, which sets the step's environment
 * (umask, locale, NODE_PATH), takes the per-node lock and the run claim (claim.ts), which holds
 * for other stacks `claim.seconds` after the step; the run's `last` node step ends it. Strict mode
 * and the library come from the runner (runHead): the state keeps a step's text twice, and the
 * library's name is in the step's command already.
 */
export function prelude(step: string, claim: { seconds: number; last: boolean }): string {
    return `cn_begin ${step} ${claim.seconds} ${claim.last ? 1 : 0}
`;
}

/** The library inline, no file needed (tests): as `prelude` after the runner's head, a step that is not the run's last. */
export function standalonePrelude(step: string): string {
    return `set -euo pipefail
${cnDirAssignment(STATE_DIR_DEFAULT)}
${NODE_LIB}cn_begin ${step} 900 0
`;
}
