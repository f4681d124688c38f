/** Shell text helpers: quoting and heredocs, so rendered content reaches the node byte for byte. */
import { STATE_DIR_DEFAULT } from "../facts";

/** The PATH every node-side script runs with, whatever the login's or sudo's is. */
export const NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Single-quotes a value for bash. */
export function sq(value: string | number): string {
    return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/**
 * How a node-side script sets CN_DIR, the directory the node library works in (`stateDir`). At
 * the default it keeps a CN_DIR the script was started with (the node library's runner passes its
 * own on), so the steps of a stack made before `stateDir` existed read the same.
 */
export function cnDirAssignment(stateDir: string): string {
    return stateDir === STATE_DIR_DEFAULT ? `CN_DIR=\${CN_DIR:-${STATE_DIR_DEFAULT}}` : `CN_DIR=${sq(stateDir)}`;
}

/** A value of a step: a string or number, or a list (a bash array). */
export type ShellValue = string | number | string[];

/** One value as bash assigns it, quoted once: `NAME='value'`, a list `NAME=('a' 'b')`. */
export function assignment(name: string, value: ShellValue): string {
    return `${name}=${Array.isArray(value) ? `(${value.map(sq).join(" ")})` : sq(value)}`;
}

/**
 * A step's values, one assignment a line, each its own statement (a change of one value is a
 * change of one line in a preview's diff), each quoted once; the node library's functions read
 * them (so shellcheck, which sees the step's text without the library, is told SC2034 by the
 * tests). The node steps' values and the kubectl steps' (localLib.ts localValues).
 */
export function stepValues(pairs: [string, ShellValue][]): string {
    return pairs.map(([k, v]) => `${assignment(k, v)}\n`).join("");
}

const HEREDOC_END = "CNODE_EOF";

/** `cmd <<'CNODE_EOF'` + content + terminator; the content can't end the heredoc early. */
export function heredoc(command: string, content: string): string {
    const text = content.endsWith("\n") ? content : content + "\n";
    if (text.split("\n").includes(HEREDOC_END)) {
        throw new Error(`content for "${command}" contains the line ${HEREDOC_END}`);
    }
    return `${command} <<'${HEREDOC_END}'\n${text}${HEREDOC_END}`;
}

/**
 * How every script reaches a node: as the standard input of a short fixed command, which saves it
 * to a temp file and runs that as root under bash whatever the login shell is (from a file, so
 * commands inside it can't swallow the rest of the script from stdin). The command provider
 * quotes only the command in a failed step's error, so the error is its few lines and the
 * script's own output, not the script; the preview diffs the script as the step's `stdin`.
 */
const SAVE_STDIN = `f=$(mktemp /tmp/containerd-node.XXXXXX) || exit 1
cat >"$f" || { rm -f "$f"; exit 1; }`;

/** The command that runs the script on its standard input (the pre-flight's, the facts reader's). */
export function scriptCommand(user: string): string {
    const run = user === "root" ? `bash "$f"` : `sudo -n bash "$f"`;
    return `${SAVE_STDIN}
${run} </dev/null; rc=$?; rm -f "$f"; exit $rc`;
}

/**
 * The command of a mutating step: the script on its standard input runs on the node as a
 * transient systemd unit (the node library's cn_run, components/node/lib.sh, which saves it to a
 * file first), which this SSH session only follows; a lost session leaves it running, and the next
 * run of the same step finds it. `holder` names the run in the node's lock (e.g. the stack).
 * `libFile` is the node library, relative to CN_DIR, which is `stateDir`; a node without it
 * fails the step with bash's "…/lib/node-<hash>.sh: No such file or directory" (docs/operations.md
 * says how it comes back). One line: the state keeps it twice per step (the command provider's
 * outputs repeat its inputs).
 */
export function detachedCommand(step: string, user: string, holder: string, libFile: string, stateDir: string): string {
    const run = `${cnDirAssignment(stateDir)}; . "$CN_DIR/${libFile}" && CN_HOLDER=$0 cn_run ${step}`;
    return `${user === "root" ? "bash" : "sudo -n bash"} -c ${sq(run)} ${sq(holder)}`;
}
