import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { allOf, applyAll, outputOf } from "../../components/outputs";

/** An Output as the SDK makes one for a resource's property: a value, and the resources it comes from. */
function made<T>(value: T, opts: { known?: boolean; secret?: boolean; from?: string[] } = {}): pulumi.Output<T> {
    const from = new Set((opts.from ?? []).map(name => ({ name }) as unknown as pulumi.Resource));
    const Impl = pulumi.Output as unknown as new (...a: unknown[]) => pulumi.Output<T>;
    return new Impl(from, Promise.resolve(value), Promise.resolve(opts.known ?? true), Promise.resolve(opts.secret ?? false), Promise.resolve(from));
}

/** What an Output carries besides its value: known, secret, and the names of the resources it depends on. */
async function carried(o: pulumi.Output<unknown>): Promise<{ value: unknown; known: boolean; secret: boolean; from: string[] }> {
    const impl = o as unknown as { promise(withUnknowns?: boolean): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean>; allResources(): Promise<Set<{ name: string }>> };
    return {
        value: await impl.promise(), known: await impl.isKnown, secret: await impl.isSecret,
        from: [...await impl.allResources()].map(r => r.name).sort(),
    };
}

describe("combining Outputs (components/outputs.ts)", () => {
    const cases: [string, () => unknown[]][] = [
        ["known values, plain values among them", () => [made("a", { from: ["r1"] }), 2, made({ x: 1 }, { from: ["r2"] }), undefined]],
        ["a secret among them", () => [made("a", { from: ["r1"] }), made("b", { secret: true, from: ["r2"] })]],
        ["an unknown among them", () => [made("a", { from: ["r1"] }), made(undefined, { known: false, from: ["r2"] }), made("c")]],
        ["no Output at all", () => ["a", 1]],
    ];
    for (const [what, values] of cases) {
        it(`applyAll carries what pulumi.all(...).apply carries: ${what}`, async () => {
            const calls: unknown[][] = [];
            const ours = applyAll(values(), vs => { calls.push(vs); return JSON.stringify(vs); });
            const sdks = pulumi.all(values()).apply(vs => JSON.stringify(vs));
            assert.deepStrictEqual(await carried(ours), await carried(sdks));
            assert.strictEqual(calls.length, (await carried(sdks)).known ? 1 : 0, "the function runs once, and not for an unknown value");
        });
    }
    it("applyAll: an unknown value after a secret one is unknown and secret, as with pulumi.all", async () => {
        const values = () => [made("s", { secret: true }), made(undefined, { known: false })];
        assert.deepStrictEqual(await carried(applyAll(values(), () => "x")), await carried(pulumi.all(values()).apply(() => "x")));
        assert.deepStrictEqual((await carried(applyAll(values(), () => "x"))).secret, true);
    });
    it("applyAll lifts an Output the function returns, as an apply does", async () => {
        const o = applyAll([made("a", { from: ["r1"] })], ([a]) => made(`${a}!`, { secret: true, from: ["r3"] }));
        assert.deepStrictEqual(await carried(o), { value: "a!", known: true, secret: true, from: ["r1", "r3"] });
    });
    const lists: [string, () => pulumi.Output<unknown>[]][] = [
        ["known values", () => [made("a", { from: ["r1"] }), made({ x: 1 }, { from: ["r2"] }), made(undefined)]],
        ["a secret among them", () => [made("a", { from: ["r1"] }), made("b", { secret: true, from: ["r2"] }), made("c")]],
        ["an unknown among them", () => [made("a", { from: ["r1"] }), made(undefined, { known: false, from: ["r2"] }), made("c")]],
        ["an unknown after a secret", () => [made("s", { secret: true }), made(undefined, { known: false })]],
        ["one", () => [made("only", { from: ["r1"] })]],
        ["none", () => []],
    ];
    for (const [what, outputs] of lists) {
        it(`allOf carries what pulumi.all carries: ${what}`, async () => {
            assert.deepStrictEqual(await carried(allOf(outputs())), await carried(pulumi.all(outputs())));
        });
    }
    it("allOf keeps the order of a thousand values", async () => {
        const outputs = Array.from({ length: 1000 }, (_, i) => made(999 - i, { from: [`r${i % 3}`] }));
        const got = await carried(allOf(outputs));
        assert.deepStrictEqual({ ...got, from: [...new Set(got.from)] }, { value: Array.from({ length: 1000 }, (_, i) => 999 - i), known: true, secret: false, from: ["r0", "r1", "r2"] });
        assert.strictEqual(got.from.length, 1000, "every value's resource");
    });
    it("outputOf carries what pulumi.output carries, for a promise of an Output or of a value", async () => {
        for (const inner of [made("v", { secret: true, from: ["r1"] }), made(undefined, { known: false, from: ["r2"] }), "plain", undefined]) {
            assert.deepStrictEqual(await carried(outputOf(Promise.resolve(inner))), await carried(pulumi.output(Promise.resolve(inner))));
        }
    });
    it("an Output made by outputOf fails as the promise does", async () => {
        const failed = outputOf(Promise.reject(new Error("the node could not be built")));
        await assert.rejects((failed as unknown as { promise(): Promise<unknown> }).promise(), /could not be built/);
    });
});
