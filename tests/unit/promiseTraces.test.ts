import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
// The SDK's own wrapper of every promise it makes (not in its public typings).
const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise<T>(p: Promise<T>, ctx: string): Promise<T> };
import { withoutPromiseTraces } from "../../components/promiseTraces";

describe("promise traces while a fleet builds", () => {
    const before = Error.stackTraceLimit;
    afterEach(() => { Error.stackTraceLimit = before; delete process.env.PULUMI_DEBUG_PROMISE_LEAKS; });

    it("lowers the limit while a holder is open and puts it back once the last one settles", async () => {
        let first!: () => void;
        let second!: (e: Error) => void;
        const a = withoutPromiseTraces(new Promise<void>(r => first = r));
        const b = withoutPromiseTraces(new Promise<void>((_, rej) => second = rej));
        assert.strictEqual(Error.stackTraceLimit, 0);
        assert.strictEqual(new Error("x").stack, "Error: x");
        first();
        await a;
        assert.strictEqual(Error.stackTraceLimit, 0, "still held by the second");
        second(new Error("failed"));
        await b;
        assert.strictEqual(Error.stackTraceLimit, before);
        assert.match(new Error("x").stack ?? "", /\n\s+at /);
    });
    it("an SDK promise made meanwhile carries no trace, one made after does; a resource's source position is still read", async () => {
        let done!: () => void;
        const held = withoutPromiseTraces(new Promise<void>(r => done = r));
        const traced = (): { _debugStackTrace?: string } => {
            const p = Promise.resolve(1);
            void debuggablePromise(p, "test");
            return p as { _debugStackTrace?: string };
        };
        const during = traced();
        // The SDK's callsites read raise the limit themselves.
        const sites = (pulumi.Resource as unknown as { callsites(): { file?: string }[] }).callsites();
        done();
        await held;
        assert.strictEqual(during._debugStackTrace, "Error");
        assert.match(traced()._debugStackTrace ?? "", /\n\s+at /);
        assert.ok(sites.some(s => s.file?.endsWith("promiseTraces.test.ts")), "the resource's source position is found");
    });
    it("nothing is lowered with PULUMI_DEBUG_PROMISE_LEAKS", async () => {
        process.env.PULUMI_DEBUG_PROMISE_LEAKS = "true";
        const held = withoutPromiseTraces(Promise.resolve());
        assert.strictEqual(Error.stackTraceLimit, before);
        await held;
    });
});
