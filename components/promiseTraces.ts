/**
 * Without the SDK's promise stack traces while a fleet builds its resources.
 *
 * The Pulumi Node.js SDK keeps a stack trace with every promise it makes (`debuggablePromise` in
 * @pulumi/pulumi's runtime/debuggable.ts: `new Error().stack`, read back only to report leaked
 * promises, in full with PULUMI_DEBUG_PROMISE_LEAKS). A resource makes about fifty of them, and
 * under a program's source-map support (ts-node's, or the one `pulumi` registers) every trace is
 * source-mapped frame by frame when it is made: at 1,000 nodes that was a third of a preview's
 * CPU and over a hundred MiB of the program's memory. With `Error.stackTraceLimit` at 0 those
 * traces are one word. A resource's own source position is unaffected: the SDK's
 * `Resource.callsites` sets the limit itself while it reads it.
 *
 * The limit is lowered while at least one holder is open and put back as the last one closes.
 * Errors made meanwhile anywhere in the program have no stack frames (their messages are whole);
 * with PULUMI_DEBUG_PROMISE_LEAKS set nothing is lowered.
 */
let holders = 0;
let saved = Error.stackTraceLimit;

/** Lowers the limit until `until` settles; returns `until`'s settling. */
export function withoutPromiseTraces(until: Promise<unknown>): Promise<void> {
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) {
        return until.then(() => undefined, () => undefined);
    }
    if (holders++ === 0) {
        saved = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
    }
    return until.then(() => undefined, () => undefined).then(() => {
        if (--holders === 0) {
            Error.stackTraceLimit = saved;
        }
    });
}
