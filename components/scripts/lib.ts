/**
 * The node library (components/node/lib.sh), as the TypeScript side knows it: the file's path and
 * text, its name on the node (by content hash), the few of its functions that run elsewhere too
 * (the pre-flight, before the library is on the node; the drain step on the operator's machine;
 * the facts read at preview), and each step's prelude, which sources it.
 *
 * The library reaches the node once per version, as a file (the node's `lib` step, a CopyToRemote:
 * the state keeps its hash, not its text). So each step's command text, which `pulumi preview`
 * diffs and the engine keeps per resource, carries only what is that step's own.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * Where lib.sh is: beside this module's folder in the sources (components/scripts → components/node),
 * and from the compiled modules (bin/components/scripts) the package's own components/node, which
 * `npm pack` ships.
 */
function libPath(): string {
    const candidates = [path.join(__dirname, "..", "node", "lib.sh"), path.join(__dirname, "..", "..", "..", "components", "node", "lib.sh")];
    const found = candidates.find(p => fs.existsSync(p));
    if (!found) {
        throw new Error(`containerd-node: the node library is missing from the package (looked at ${candidates.join(", ")})`);
    }
    return found;
}

/** The node library's path on this machine (the `lib` step's FileAsset). */
export const NODE_LIB_PATH = libPath();

/** The node library's text. */
export const NODE_LIB = fs.readFileSync(NODE_LIB_PATH, "utf8");

/** The library's path on the node, relative to CN_DIR: named by content, so versions never mix. */
export const NODE_LIB_FILE = `lib/node-${createHash("sha256").update(NODE_LIB).digest("hex").slice(0, 16)}.sh`;

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

/** detect_runtime: the runtime the node uses now, printed as `docker://X`, `containerd://X` or `none`. */
export const DETECT_RUNTIME = libFunctions("detect_runtime");

// The variables the library reads (STEP, PHASE, TXN, CHANGED, ON_ROLLBACK) are set by each step's
// prelude: shellcheck sees the step without the library, hence the SC2034 directives.
function header(step: string): string {
    return `set -euo pipefail
umask 022
# containerd 1.7's ctr prints every deprecation on every call: the pre-flight reads them itself.
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS=1
# shellcheck disable=SC2034
STEP=${step}
CN_DIR=\${CN_DIR:-/var/lib/containerd-node}
`;
}

/** The variables every step's library functions read, as the step starts. */
const STEP_VARIABLES = `# shellcheck disable=SC2034
PHASE=start
# shellcheck disable=SC2034
CHANGED=""
# shellcheck disable=SC2034
TXN=""
# A command the rollback runs last, once files and services are back (e.g. lift a cordon).
# shellcheck disable=SC2034
ON_ROLLBACK=""
`;

/**
 * The step's variables, the per-node lock and the run claim. The lock is taken within seconds or
 * refused, naming its holder (CN_HOLDER: the stack, set by the runner's caller), the step and since
 * when: a second stack converting the same node is refused, not queued. The claim then refuses
 * another stack's run between this run's steps; it lapses for other stacks `seconds` after the
 * step, and `last` (the run's last node step) ends it when it succeeds.
 */
function held(claim: { seconds: number; last: boolean }): string {
    // The step's end (txn_end, once a transaction has begun) keeps or ends the claim.
    return `${STEP_VARIABLES}mkdir -p "$CN_DIR/txn" "$CN_DIR/cache"
exec 9>>"$CN_DIR/lock"
# A short wait, not none: another stack's step that is only being refused by the claim holds the
# lock for a moment, and must not make this run's own next step fail.
if ! flock -w 10 9; then
  echo "containerd-node: step '$STEP' refused: this node is busy with $(cat "$CN_DIR/lock.holder" 2>/dev/null || echo "another containerd-node step") (lock $CN_DIR/lock, waited 10 s); run again once it has finished" >&2
  exit 1
fi
echo "\${CN_HOLDER:-a run}, step $STEP, since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$CN_DIR/lock.holder"
# shellcheck disable=SC2034 # read by the library's cn_claim
CN_CLAIM_SECONDS=${claim.seconds} CN_CLAIM_LAST=${claim.last ? 1 : 0}
cn_claim
trap 'cn_claim_end $?' EXIT
`;
}

/** What a step whose library is missing says: how to bring it back. */
export function libMissing(step: string, lib: string): string {
    return `containerd-node: step '${step}': the node library ${lib} is missing, removed since the node's lib step copied it: pulumi up --replace that step's URN (NODE-lib)`;
}

/**
 * What every mutating step starts with: strict bash, the library (the file the node's lib step
 * copied), the per-node lock and the run claim (claim.ts).
 */
export function prelude(step: string, claim: { seconds: number; last: boolean }): string {
    return `${header(step)}CN_LIB=$CN_DIR/${NODE_LIB_FILE}
[ -f "$CN_LIB" ] || { echo "${libMissing(step, "$CN_LIB")}" >&2; exit 1; }
source "$CN_LIB"
${held(claim)}`;
}

/**
 * The pre-flight step's start. It runs before the library is on the node, so it carries the few
 * functions it uses (a few hundred bytes, not the library); and it takes no lock: it changes
 * nothing, and a rerun's pre-flight must not be refused while the step a lost session left
 * running still holds it. It makes containerd-node's own directories, where the next steps copy
 * the library and any artifact given by path; a deploy user that is not root (sudo) owns those two,
 * as it writes them over SFTP.
 */
export function preflightPrelude(): string {
    return `${header("preflight")}${libFunctions("log", "phase", "die", "free_mib", "version_matches", "detect_runtime")}${STEP_VARIABLES}mkdir -p "$CN_DIR/lib" "$CN_DIR/cache"
if [ -n "\${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then chown "$SUDO_USER" "$CN_DIR/lib" "$CN_DIR/cache"; fi
`;
}

/** The library inline, no file needed (tests): as `prelude`, a step that is not the run's last. */
export function standalonePrelude(step: string): string {
    return `${header(step)}${NODE_LIB}${held({ seconds: 900, last: false })}`;
}
