import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { claimConflict, parseClaim } from "../../components/claim";
import { NODE_LIB_FILE, prelude, runHead } from "../../components/scripts/lib";
import { NODE_LIB } from "../../components/nodeFiles";
import { nodeFactsScript } from "../../components/scripts/upgradeFacts";
import { parseNodeFacts } from "../../components/preflight/readFacts";

// The run claim (claim.ts), as the steps run it on a node: the real step preludes (a last step's
// among them, which releases the node), with the library where the lib step copies it, in a
// temp CN_DIR.

function node() {
    const cn = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-claim-"));
    fs.mkdirSync(path.dirname(path.join(cn, NODE_LIB_FILE)), { recursive: true });
    fs.writeFileSync(path.join(cn, NODE_LIB_FILE), NODE_LIB);
    const run = (holder: string, script: string) => {
        const r = spawnSync("bash", ["-c", script], { env: { ...process.env, CN_DIR: cn, CN_HOLDER: holder }, encoding: "utf8" });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const claim = () => fs.existsSync(path.join(cn, "claim")) ? fs.readFileSync(path.join(cn, "claim"), "utf8").trimEnd().split("\t") : undefined;
    return { cn, run, claim };
}

/** A step that records that it ran, in a file named after it; `last`: the node's last step. */
const step = (name: string, body = "", seconds = 900, last = false) => `${runHead(`"$CN_DIR/${NODE_LIB_FILE}"`)}${prelude(name, { seconds, last })}${body}\ntouch "$CN_DIR/ran-${name}"\n`;
const lastStep = (name: string, body = "") => step(name, body, 900, true);
const A = "stack p/a", B = "stack p/b";

describe("the run claim: another stack is refused between this run's steps", function () {
    this.timeout(10000);
    it("a step of several parts (host mode's converge): each part is a transaction of its own; a failed part puts back only its own changes, and the step fails and releases the node", () => {
        const n = node();
        const parts = (last: string) => lastStep("converge", `(\ncn_part configure\ntxn_begin\necho new | put "$CN_DIR/conf" 0644\nsleep 3\n)\n(\ncn_part switch\ntxn_begin\necho x | put "$CN_DIR/flags" 0644\necho "[$STEP] seconds $SECONDS" >&2\n${last}\n)`);
        const failed = n.run(A, parts(`die "it broke"`));
        assert.strictEqual(failed.code, 1);
        // (bash counts whole seconds of the clock: 0 to 2 here however loaded the machine, not the step's 3 or more)
        assert.match(failed.stderr, /\[switch\] seconds [012]\n/, "a part counts its own seconds");
        assert.match(failed.stderr, /containerd-node: step 'switch' failed during 'start': it broke\ncontainerd-node: rolling back step 'switch'\n  removed .*\/flags \(did not exist\)/);
        assert.doesNotMatch(failed.stderr, /rolling back step 'configure'/);
        assert.strictEqual(fs.readFileSync(path.join(n.cn, "conf"), "utf8"), "new\n", "the finished part stands");
        assert.ok(!fs.existsSync(path.join(n.cn, "flags")), "the failed part is put back");
        assert.ok(!fs.existsSync(path.join(n.cn, "ran-converge")), "the step stopped at the failed part");
        assert.strictEqual(n.claim(), undefined, "the failed run released the node");
        const ok = n.run(A, parts("true"));
        assert.strictEqual(ok.code, 0, ok.stderr);
        assert.ok(fs.existsSync(path.join(n.cn, "flags")) && fs.existsSync(path.join(n.cn, "ran-converge")));
        assert.deepStrictEqual(fs.readdirSync(path.join(n.cn, "txn")), [], "every part's transaction ended");
        assert.strictEqual(n.claim(), undefined, "the node's last step released it");
    });
    it("a finished step keeps the node claimed: another stack's step is refused naming the holder, its step and since when, and changes nothing", () => {
        const n = node();
        assert.strictEqual(n.run(A, step("configure")).code, 0);
        const [holder, stepName, state, since, until] = n.claim()!;
        assert.deepStrictEqual([holder, stepName], [A, "configure"]);
        assert.match(state, /^finished at 20\d\d-\d\d-\d\dT[\d:]+Z$/);
        assert.match(since, /^20\d\d-\d\d-\d\dT[\d:]+Z$/);
        assert.ok(Number(until) > Date.now() / 1000 + 800, `holds for the claim's seconds: ${until}`);
        const before = fs.readFileSync(path.join(n.cn, "claim"), "utf8");
        const b = n.run(B, step("switch"));
        assert.strictEqual(b.code, 1);
        assert.match(b.stderr, new RegExp(`step 'switch' refused: this node is being converted by stack p/a \\(its run has had the node since ${since}; its step configure finished at 20\\d\\d-[^)]+\\)\\. Run again once that run is over: its last node step releases the node; if that run died, or its last step had nothing to run, the claim lapses at 20\\d\\d-`));
        assert.ok(!fs.existsSync(path.join(n.cn, "ran-switch")), "the refused step did not run");
        assert.strictEqual(fs.readFileSync(path.join(n.cn, "claim"), "utf8"), before, "the claim is untouched");
    });

    it("the holder's next step goes on with its claim and keeps the run's start; its last step ends it and the other stack may go", () => {
        const n = node();
        assert.strictEqual(n.run(A, step("configure")).code, 0);
        const since = n.claim()![3];
        spawnSync("sleep", ["1.1"]);
        assert.strictEqual(n.run(A, step("migrate-images")).code, 0);
        assert.deepStrictEqual(n.claim()!.slice(0, 2), [A, "migrate-images"]);
        assert.strictEqual(n.claim()![3], since, "since: the start of the holder's run");
        const rel = n.run(A, lastStep("switch"));
        assert.strictEqual(rel.code, 0, rel.stderr);
        assert.match(rel.stderr, new RegExp(`\\[switch\\] released the node \\(claimed since ${since}\\)`));
        assert.strictEqual(n.claim(), undefined);
        assert.strictEqual(n.run(B, step("configure")).code, 0);
        assert.strictEqual(n.claim()![0], B);
    });

    it("a step that fails ends the claim (it was rolled back; the run stops there), with or without a transaction", () => {
        const n = node();
        const r = n.run(A, step("configure", "exit 3"));
        assert.strictEqual(r.code, 3);
        assert.strictEqual(n.claim(), undefined);
        const t = n.run(A, step("switch", `txn_begin\necho x | put "$CN_DIR/f" 0644\ndie "it broke"`));
        assert.strictEqual(t.code, 1);
        assert.match(t.stderr, /the node was put back as it was/);
        assert.strictEqual(n.claim(), undefined);
        assert.ok(!fs.existsSync(path.join(n.cn, "f")), "rolled back");
        // Within a fleet's failure budget the step ends with 0 but failed: the claim goes too.
        const soft = n.run(A, `ABSORB_FAILURE=1\n${step("switch", `txn_begin\ndie "it broke"`)}`);
        assert.strictEqual(soft.code, 0);
        assert.match(soft.stdout, /"failed":"switch"/);
        assert.strictEqual(n.claim(), undefined);
        assert.strictEqual(n.run(B, step("configure")).code, 0);
    });

    it("a claim whose run died lapses for other stacks after its seconds; the next stack takes over, saying whose it was", () => {
        const n = node();
        // The claim's until is whole seconds of the clock (the step's end + its seconds): 5 of them
        // leave B's refusal at least 4 s to start in, however loaded the machine; then wait out the
        // until the file holds, not a guess of it.
        assert.strictEqual(n.run(A, step("configure", "", 5)).code, 0);
        const until = Number(n.claim()![4]);
        const held = n.run(B, step("configure"));
        assert.strictEqual(held.code, 1, `still held (until ${until}, now ${Date.now() / 1000}): ${held.stderr}`);
        spawnSync("sleep", [String(Math.max(0, until - Date.now() / 1000) + 0.2)]);
        const b = n.run(B, step("configure"));
        assert.strictEqual(b.code, 0, b.stderr);
        assert.match(b.stderr, /\[configure\] the claim of stack p\/a \(since 20[^,]+, step configure finished at [^)]+\) lapsed at 20[\d-]+T[\d:]+Z: this run takes the node over/);
        assert.strictEqual(n.claim()![0], B);
        assert.notStrictEqual(n.claim()![3], undefined);
        // a's late step is refused now: the node is b's.
        assert.strictEqual(n.run(A, lastStep("switch")).code, 1);
        assert.strictEqual(n.claim()![0], B);
    });

    it("a claim file that can't be parsed holds nothing (an until of 0) and is replaced", () => {
        const n = node();
        fs.writeFileSync(path.join(n.cn, "claim"), "stack p/a\tconfigure\n");
        const b = n.run(B, step("configure"));
        assert.strictEqual(b.code, 0, b.stderr);
        assert.match(b.stderr, /the claim of stack p\/a .* lapsed at 1970-01-01T00:00:00Z/);
        assert.strictEqual(n.claim()![0], B);
    });

    it("the facts read (at preview and before an up) finds another stack's claim: said at preview, refused at up before any node changes", () => {
        const n = node();
        const facts = () => {
            const r = spawnSync("bash", ["-c", nodeFactsScript()], { encoding: "utf8", env: { ...process.env, CN_DIR: n.cn, CN_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), "cnode-nf-")) } });
            assert.strictEqual(r.status, 0, r.stderr);
            return parseNodeFacts(r.stdout);
        };
        assert.strictEqual(facts().claim, undefined, "no claim file: none");
        assert.strictEqual(n.run(A, step("configure")).code, 0);
        const claim = facts().claim!;
        assert.deepStrictEqual([claim.holder, claim.step], [A, "configure"]);
        const now = Date.now() / 1000;
        assert.match(claimConflict("n1", claim, B, now)!, new RegExp(`^n1: the node is being converted by stack p/a \\(its run has had the node since ${claim.since}; its step configure finished at 20[^)]+\\): run again once that run is over \\(its last node step releases the node; if that run died, or its last step had nothing to run, the claim lapses at 20[\\d-]+T[\\d:]+Z\\)$`));
        assert.strictEqual(claimConflict("n1", claim, A, now), undefined, "the stack's own claim: its run goes on");
        assert.strictEqual(claimConflict("n1", claim, B, claim.until), undefined, "lapsed");
        assert.strictEqual(parseClaim("garbage"), undefined);
    });
});
