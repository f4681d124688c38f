/**
 * How kubectl on the machine running `pulumi up` gets its kubeconfig: by path, or by content (a
 * cluster's kubeconfig output, a secret). Content reaches each local step and each read on its
 * stdin, a Pulumi secret (`[secret]` in a preview, encrypted in the state), and kubectl reads it
 * from a private file the step makes and removes: never command text, never an environment
 * variable, never a file left behind.
 */
import * as pulumi from "@pulumi/pulumi";
import { KubeconfigContent, KubeconfigInput } from "./args";
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

/** What a local step or read needs to reach the cluster: its environment or stdin, and the text before its script. */
export interface KubeconfigWiring {
    environment?: { KUBECONFIG: string };
    stdin?: pulumi.Output<string>;
    /** Put before the step's own script. */
    prologue: string;
}

/** Checks the argument (at preview, naming `field`) and says how steps get it. */
export function kubeconfigWiring(field: string, k: KubeconfigInput | undefined): KubeconfigWiring {
    const kind = kubeconfigKind(field, k);
    switch (kind.kind) {
        case "path":
            return { environment: { KUBECONFIG: kind.path }, prologue: "" };
        case "content": {
            const content = pulumi.secret(pulumi.output((k as KubeconfigContent).content).apply(text => {
                if (typeof text !== "string" || text.trim() === "") {
                    throw new InvalidArgumentError(`${field}.content`, `expected the kubeconfig's text, got ${typeof text === "string" ? "an empty string" : typeof text}`);
                }
                return text;
            }));
            return { stdin: content, prologue: KUBECONFIG_FROM_STDIN };
        }
        default: {
            const never: never = kind;
            throw new Error(`unknown kubeconfig kind ${JSON.stringify(never)}`);
        }
    }
}
