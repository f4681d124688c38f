/**
 * Outputs combined with fewer Outputs made. The SDK's `pulumi.all([a, b, c])`, like
 * `pulumi.output` of an Output or of a promise of one, wraps every Output it is given in two new
 * ones before making the one it returns (`outputRec` in @pulumi/pulumi's output.ts), and each
 * Output is four promises and a dozen closures, held until it resolves. A fleet combines a node's
 * Outputs a few times a node, so at a thousand nodes that is most of what its preview allocates.
 * The same combinations made of nested applies: one Output an input, and the same value, known-ness,
 * secretness and resources (an apply lifts the Output its function returns).
 */
import * as pulumi from "@pulumi/pulumi";

/** The value of an Output; a plain value as it is. */
type Unwrapped<X> = X extends pulumi.Output<infer U> ? U : X;

/**
 * `pulumi.all(values).apply(f)`, one Output made an Output given (the applies nested); each value
 * an Output, or a plain value with no Output inside it. One difference: where a value is unknown
 * (at preview), the result is unknown and secret only if a value before it is, so a value that
 * may be a secret goes before one that may be unknown.
 */
export function applyAll<V extends unknown[], R>(values: [...V], f: (values: { [K in keyof V]: Unwrapped<V[K]> }) => pulumi.Input<R>): pulumi.Output<R> {
    const list = values as unknown[];
    const at = (i: number, done: unknown[]): pulumi.Input<R> => {
        if (i === list.length) {
            return f(done as { [K in keyof V]: Unwrapped<V[K]> });
        }
        const v = list[i];
        return pulumi.Output.isInstance(v) ? v.apply(x => at(i + 1, [...done, x])) as pulumi.Output<R> : at(i + 1, [...done, v]);
    };
    const result = at(0, []);
    return (pulumi.Output.isInstance(result) ? result : pulumi.output(result)) as pulumi.Output<R>;
}

/**
 * `pulumi.all(outputs)` for a list of Outputs (a fleet's nodes' refusals, its table's rows): one
 * Output made an Output, where `pulumi.all` makes three; as `applyAll`, the applies nested, with
 * the same difference where a value is unknown (the list is unknown, and secret only if an Output
 * before that one is).
 */
export function allOf<T>(outputs: pulumi.Output<T>[]): pulumi.Output<T[]> {
    const got: T[] = [];
    // (Each apply's function runs once, after the one before it: the values go into one array.)
    const at = (i: number): pulumi.Output<T[]> => outputs[i].apply((x): pulumi.Input<T[]> => {
        got[i] = x;
        return i + 1 === outputs.length ? got : at(i + 1);
    }) as pulumi.Output<T[]>;
    return outputs.length === 0 ? pulumi.output([]) as pulumi.Output<T[]> : at(0);
}

/**
 * `pulumi.output(promise)` for a promise of an Output or of a plain value (no Outputs inside it):
 * two Outputs made, not three.
 */
export function outputOf<T>(promise: Promise<pulumi.Output<T>>): pulumi.Output<T>;
export function outputOf<T>(promise: Promise<T>): pulumi.Output<T>;
export function outputOf<T>(promise: Promise<pulumi.Input<T>>): pulumi.Output<T> {
    // The SDK makes an Output of a promise of a plain value without wrapping it again, and the
    // apply lifts the Output the promise resolves to.
    return pulumi.output(promise.then(() => undefined)).apply(() => promise as Promise<T>);
}
