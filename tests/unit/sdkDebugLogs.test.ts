import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { dropSdkDebugLogs, SDK_DEBUG_MESSAGE } from "../../components/sdkDebugLogs";

type Debug = typeof pulumi.log.debug;
const log = pulumi.log as { debug: Debug };

describe("the SDK's own debug messages in a program with a ContainerdNode", () => {
    const original = log.debug;
    let sent: string[] = [];
    beforeEach(() => {
        sent = [];
        log.debug = (msg: string) => { sent.push(msg); return Promise.resolve(); };
    });
    afterEach(() => { log.debug = original; delete process.env.CN_SDK_DEBUG_LOGS; });

    it("are not sent; the program's own debug messages are, once each however often it is wrapped", async () => {
        dropSdkDebugLogs();
        dropSdkDebugLogs();
        await pulumi.log.debug("Registering resource: t=command:remote:Command, name=n1-switch, custom=true, remote=false");
        await pulumi.log.debug("RegisterResource RPC prepared: t=command:remote:Command, name=n1-switch");
        await pulumi.log.debug("RegisterResource RPC finished: resource:n1-switch[command:remote:Command]; err: null, resp: urn");
        await pulumi.log.debug("RegisterResourceOutputs RPC prepared: urn=urn:pulumi:s::p::x::y");
        await pulumi.log.debug("Invoking function: tok=command:local:run asynchronously");
        await pulumi.log.debug("wave 3 of 10: registering its nodes");
        await pulumi.log.debug("the node's facts, read: Registering resource: is not at the start here");
        assert.deepStrictEqual(sent, ["wave 3 of 10: registering its nodes", "the node's facts, read: Registering resource: is not at the start here"]);
    });
    it("are all sent with CN_SDK_DEBUG_LOGS=1", async () => {
        process.env.CN_SDK_DEBUG_LOGS = "1";
        dropSdkDebugLogs();
        await pulumi.log.debug("Registering resource: t=x, name=y, custom=true, remote=false");
        assert.deepStrictEqual(sent, ["Registering resource: t=x, name=y, custom=true, remote=false"]);
    });
    it("match every per-resource debug message of the installed SDK's runtime", () => {
        // Each `log.debug(`…`)` of the SDK's runtime begins with a fixed text: all of them but the
        // once-per-package plugin registrations must be recognised, or the saving is silently lost.
        const runtime = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "runtime");
        const heads: string[] = [];
        for (const file of ["resource.js", "invoke.js", "rpc.js"]) {
            const text = fs.readFileSync(path.join(runtime, file), "utf8");
            heads.push(...[...text.matchAll(/log\.debug\(`([^`$]*)/g)].map(m => m[1]));
            // A file that logs `log.debug(label …)` (invoke.js): its labels are what it logs.
            if (/log\.debug\(label\b/.test(text)) {
                heads.push(...[...text.matchAll(/const label = `([^`$]*)/g)].map(m => m[1]));
            }
        }
        const perPackage = /^(registering |skip re-registering )/;
        const missed = heads.filter(h => !perPackage.test(h) && !SDK_DEBUG_MESSAGE.test(h));
        assert.ok(heads.filter(h => h.startsWith("Registering resource: ")).length === 1, `no "Registering resource" message found in ${runtime}`);
        assert.deepStrictEqual(missed, []);
    });
});
