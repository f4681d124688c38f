import * as assert from "assert";
import { planWaves, resolveFailureBudget, resolveMaxUnavailable } from "../../components/fleet/waves";
import { checkpointAdvice, LARGE_FLEET } from "../../components/fleet/checks";

const names = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `w${i + 1}` }));

describe("wave planning", () => {
    it("maxUnavailable: counts, percentages rounded down but at least 1", () => {
        assert.strictEqual(resolveMaxUnavailable(undefined, 10), 1);
        assert.strictEqual(resolveMaxUnavailable(3, 10), 3);
        assert.strictEqual(resolveMaxUnavailable("25%", 10), 2);
        assert.strictEqual(resolveMaxUnavailable("10%", 5), 1);
        assert.strictEqual(resolveMaxUnavailable("100%", 7), 7);
        assert.strictEqual(resolveMaxUnavailable("33.4%", 3), 1);
    });
    for (const bad of [0, -1, 1.5, "0%", "150%", "abc", "25"]) {
        it(`maxUnavailable ${JSON.stringify(bad)} is refused naming the field`, () => {
            assert.throws(() => resolveMaxUnavailable(bad as number | string, 10), /^InvalidArgumentError: invalid maxUnavailable: expected an integer ≥ 1 or a percentage/);
        });
    }
    it("waves of maxUnavailable workers, in the given order", () => {
        assert.deepStrictEqual(planWaves(names(5), { maxUnavailable: 2 }), [["w1", "w2"], ["w3", "w4"], ["w5"]]);
        assert.deepStrictEqual(planWaves(names(3)), [["w1"], ["w2"], ["w3"]]);
        assert.deepStrictEqual(planWaves(names(4), { maxUnavailable: "50%" }), [["w1", "w2"], ["w3", "w4"]]);
    });
    it("control-plane nodes one per wave, first by default or last", () => {
        const nodes = [{ name: "w1" }, { name: "cp1", controlPlane: true }, { name: "w2" }, { name: "cp2", controlPlane: true }, { name: "w3" }];
        assert.deepStrictEqual(planWaves(nodes, { maxUnavailable: 2 }), [["cp1"], ["cp2"], ["w1", "w2"], ["w3"]]);
        assert.deepStrictEqual(planWaves(nodes, { maxUnavailable: 2, controlPlane: "last" }), [["w1", "w2"], ["w3"], ["cp1"], ["cp2"]]);
    });
    it("explicit order sorts within a group; nodes without one follow in list order", () => {
        const nodes = [{ name: "a" }, { name: "b", order: 2 }, { name: "c" }, { name: "d", order: 1 }];
        assert.deepStrictEqual(planWaves(nodes, { maxUnavailable: 2 }), [["d", "b"], ["a", "c"]]);
    });
    it("percentages are of the whole fleet, control plane included", () => {
        const nodes = [{ name: "cp", controlPlane: true }, ...names(3)];
        assert.deepStrictEqual(planWaves(nodes, { maxUnavailable: "50%" }), [["cp"], ["w1", "w2"], ["w3"]]);
    });
    it("refuses duplicate names and an unknown control-plane order", () => {
        assert.throws(() => planWaves([{ name: "a" }, { name: "a" }]), /invalid nodes: expected unique node names, got "a" twice/);
        assert.throws(() => planWaves(names(2), { controlPlane: "middle" as never }), /invalid controlPlane: expected "first" or "last"/);
    });
    it("an empty fleet has no waves", () => assert.deepStrictEqual(planWaves([]), []));
    it("failure budget: counts, percentages of the fleet rounded down, default 0", () => {
        assert.strictEqual(resolveFailureBudget(undefined, 10, true), 0);
        assert.strictEqual(resolveFailureBudget(2, 10, true), 2);
        assert.strictEqual(resolveFailureBudget("25%", 10, true), 2);
        assert.strictEqual(resolveFailureBudget("5%", 10, false), 0, "0 needs no Kubernetes");
    });
    for (const bad of [-1, 1.5, "x", "120%", "-5%"]) {
        it(`failure budget ${JSON.stringify(bad)} is refused naming the field`, () => {
            assert.throws(() => resolveFailureBudget(bad, 10, true), /invalid failureBudget: expected a whole number ≥ 0 or a percentage/);
        });
    }
    it("a failure budget above 0 needs Kubernetes mode", () => {
        assert.throws(() => resolveFailureBudget(1, 10, false), /invalid failureBudget: a budget above 0 needs kubernetes/);
    });
});

describe("large fleets and checkpoints", () => {
    it("a fleet of LARGE_FLEET nodes or more is told to skip checkpoints, unless the setting is on", () => {
        assert.strictEqual(checkpointAdvice(LARGE_FLEET - 1, {}), undefined);
        const advice = checkpointAdvice(LARGE_FLEET, {});
        assert.match(advice ?? "", new RegExp(`^a fleet of ${LARGE_FLEET} nodes: .*PULUMI_SKIP_CHECKPOINTS=true`));
        assert.match(advice ?? "", /docs\/fleets\.md/);
        for (const on of ["true", "1", "TRUE", "yes"]) {
            assert.strictEqual(checkpointAdvice(5000, { PULUMI_SKIP_CHECKPOINTS: on }), undefined, on);
        }
        for (const off of ["false", "0", ""]) {
            assert.ok(checkpointAdvice(5000, { PULUMI_SKIP_CHECKPOINTS: off }), off);
        }
    });
});
