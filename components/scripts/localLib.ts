/**
 * The Kubernetes-side steps' library (components/node/kubectl.sh), as the TypeScript side knows it:
 * its text (with the node library's version_matches and upgrade_drains, which it calls), its file
 * name by content hash, and the lines a step's text starts it with.
 *
 * The drain, verify and gate steps run on the machine running `pulumi up`. Their command text is
 * their values and a call; the program writes the library into the run's own directory there
 * (components/kubeconfig.ts writeLocalLibrary), so its text is in no step's state (each step's
 * text used to carry it twice, as input and as the provider's echoed output). Reads (invokes: nothing
 * of them is kept) run the text inline.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import { libFunctions } from "./lib";
import { nodeFilePath } from "../nodeFiles";
import { ShellValue, stepValues } from "./shell";

/** The library's text: kubectl.sh, then the node library's functions it calls. */
export const LOCAL_LIB = `${fs.readFileSync(nodeFilePath("kubectl.sh"), "utf8")}
# From the node library (components/node/lib.sh):
${libFunctions("version_matches", "upgrade_drains")}`;

/** The library's file name: by content, so versions never mix and runs of one version share it. */
export const LOCAL_LIB_FILE = `kubectl-${createHash("sha256").update(LOCAL_LIB).digest("hex").slice(0, 16)}.sh`;

/**
 * bash: sources the library from the run's directory (the same one a kubeconfig given as content
 * is written to); a missing file ends the step with bash's own "…/kubectl-<hash>.sh: No such file
 * or directory" (one line: the command provider quotes a local step's whole text in its error, and
 * the state keeps the text twice). The text names no directory, so the same stack run from another
 * machine or user changes no step.
 */
export const LOCAL_LIB_SOURCE = `. "\${TMPDIR:-/tmp}/containerd-node-$(id -u)/${LOCAL_LIB_FILE}" || exit 1
`;

/** A value for the library: a string, a list (a bash array), or undefined (not set). */
export type LocalValue = ShellValue | undefined;

/** bash: the values block of a step, one assignment a line (shell.ts assignment), each quoted once. */
export function localValues(values: { [name: string]: LocalValue }): string {
    return stepValues(Object.entries(values).flatMap(([k, v]) => v === undefined ? [] : [[k, v] as [string, ShellValue]]));
}
