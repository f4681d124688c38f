/**
 * Without the SDK's own per-resource debug messages in a program with a ContainerdNode.
 *
 * The Pulumi Node.js SDK logs three debug messages for every resource it registers ("Registering
 * resource: …", "RegisterResource RPC prepared: …", "… finished: …"; @pulumi/pulumi's
 * runtime/resource.ts), each one a Log RPC to the engine, sent one after another (each waits for
 * the one before), which the CLI then turns into an event that it shows only under `--debug`. A
 * fleet of 1,000 nodes registers thousands of resources: those messages were a third of the
 * program's and the CLI's work at preview (`npm run bench:preview -- 1000 --cli-only`: 13.0–13.8 s
 * with them, 8.3–8.6 s without, docs/benchmarks.md). And the "finished" one prints the engine's
 * response with its secrets unwrapped (the SSH key of a step's connection) into a debug event.
 *
 * `dropSdkDebugLogs()` wraps the SDK's `log.debug` so that the SDK runtime's own messages about
 * registering, reading, invoking and serializing (recognised by how they begin) are not sent; a
 * program's own `pulumi.log.debug` messages still are, and so are every info, warning and error.
 * CN_SDK_DEBUG_LOGS=1 keeps them all (for `pulumi up --debug` while looking into the SDK itself;
 * what such a run prints then holds the secrets).
 * If the SDK words its messages otherwise one day, they are simply sent again.
 */
import * as pulumi from "@pulumi/pulumi";

/** How the SDK runtime's own debug messages begin (runtime/resource.ts, invoke.ts, rpc.ts). */
export const SDK_DEBUG_MESSAGE = new RegExp("^(" + [
    "Registering resource: ", "RegisterResource RPC ", "RegisterResourceOutputs RPC ",
    "Resource RPC serialization requested: ", "Reading resource: ", "ReadResource RPC ",
    "Getting resource: ", "getResource Invoke RPC ", "Invoking function: ", "Invoke RPC ",
    "Calling function: ", "Call RPC ", "Serialize property \\[",
].join("|") + ")");

type Debug = typeof pulumi.log.debug;
const WRAPPED = Symbol.for("containerd-node.sdkDebugLogs");

/** Wraps the SDK's `log.debug` once per process (a second call changes nothing). */
export function dropSdkDebugLogs(): void {
    if (process.env.CN_SDK_DEBUG_LOGS === "1") {
        return;
    }
    const log = pulumi.log as { debug: Debug & { [WRAPPED]?: true } };
    if (log.debug[WRAPPED]) {
        return;
    }
    const original = log.debug;
    const filtered: Debug & { [WRAPPED]?: true } = (msg, resource, streamId, ephemeral) =>
        SDK_DEBUG_MESSAGE.test(msg) ? Promise.resolve() : original(msg, resource, streamId, ephemeral);
    filtered[WRAPPED] = true;
    log.debug = filtered;
}
