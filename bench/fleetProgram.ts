/**
 * The scale benchmark's fleet program: one ContainerdFleet, as a FleetDescription (a JSON file)
 * says. The same function is a stack's inline program (the Automation API, in the benchmark's
 * process) and, through bench/fleetMain.ts, a program of its own run by @pulumi/pulumi's runner
 * (cmd/run) as the Node.js language host runs a user's program (bench/cli.ts runnerPreview).
 * There the package is loaded as `npm pack` ships it (compiled JavaScript, CN_BENCH_PACKAGE), and
 * only the program's own files go through ts-node.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import type * as Package from "../components";
import type { NodeFacts } from "../components/facts";

/** A fleet of the benchmark: what its program builds. */
export interface FleetDescription {
    /** Each fleet node: its name, where its machine answers SSH, and its own state directory there. */
    nodes: { name: string; host: string; port: number; hostKey: string; overrides: { stateDir: string } }[];
    /** The fleet's `settings`. */
    settings: Package.ContainerdFleetArgs["settings"];
    /** Kubernetes mode: the cluster's kubeconfig file and kubectl. */
    kubernetes?: { kubeconfig: string; kubectl: string };
    /** The fleet's `maxUnavailable` (stack config `maxUnavailable`, set by upFleetStacks, wins). */
    maxUnavailable: string | number;
    /** Every node's facts, given (no read over SSH). */
    facts?: NodeFacts;
    /** The lab's private key file, sent as a secret; absent: the connection is `sshAgent`. */
    keyFile?: string;
    /** `keyFile`'s passphrase (connection.privateKeyPassword, a secret), when it has one. */
    keyPassphrase?: string;
    /** The fleet's table as a stack output (besides the number of nodes). */
    exportTable: boolean;
}

/** The program that builds `d` with `pkg` (this package: its sources, or as compiled for npm). */
export function fleetProgram(d: FleetDescription, pkg: typeof Package): () => Promise<Record<string, unknown>> {
    return async () => {
        const auth = d.keyFile === undefined ? { sshAgent: true } : {
            privateKey: pulumi.secret(fs.readFileSync(d.keyFile, "utf8")),
            ...(d.keyPassphrase === undefined ? {} : { privateKeyPassword: pulumi.secret(d.keyPassphrase) }),
        };
        // Set by upFleetStacks (--stack-size), as the package's stack program takes it.
        const limit = new pulumi.Config().get("maxUnavailable");
        const fleet = new pkg.ContainerdFleet("fleet", {
            nodes: d.nodes.map(n => ({
                name: n.name, connection: { host: n.host, port: n.port, hostKey: n.hostKey, ...auth },
                overrides: n.overrides, ...(d.facts ? { nodeFacts: d.facts } : {}),
            })),
            settings: d.settings,
            ...(d.kubernetes ? { kubernetes: d.kubernetes } : {}),
            maxUnavailable: limit === undefined ? d.maxUnavailable : Number(limit),
        });
        return { nodes: fleet.table.apply(t => t.length), ...(d.exportTable ? { table: fleet.table } : {}) };
    };
}
