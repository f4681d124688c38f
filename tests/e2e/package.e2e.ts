/**
 * End to end: the package as npm ships it. `npm pack` (its prepack compiles), the tarball
 * installed into a new project, and used from there as a consumer would: plain JavaScript
 * previewing a ContainerdNode with the real engine (nothing runs on a node at preview, so no lab
 * node), and TypeScript compiled by tsc and run by plain node (no ts-node).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packAndInstall, REPO } from "./lab";

const TSC = path.join(REPO, "node_modules", ".bin", "tsc");
// Random, so that finding it in the output can only mean the key leaked.
const KEY_MARK = crypto.randomBytes(24).toString("hex");
const FAKE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA${KEY_MARK}\n-----END OPENSSH PRIVATE KEY-----\n`;
const SHA256 = crypto.createHash("sha256").update("containerd-2.2.9").digest("hex");

/**
 * The consumer's stack program, driven as an Automation API inline program. Every require
 * resolves from the consumer's node_modules, so the SDK that runs the program is the one the
 * package registers its resources with. The private key is given as plain text: the component
 * must make it a secret by itself.
 */
const PREVIEW_JS = (state: string, out: string) => `
const fs = require("fs");
const { LocalWorkspace } = require("@pulumi/pulumi/automation");
const { ContainerdNode } = require("containerd-node");

async function program() {
    const node = new ContainerdNode("pkg-node", {
        connection: { host: "127.0.0.1", port: 2299, privateKey: ${JSON.stringify(FAKE_KEY)} },
        containerd: {
            version: "2.2.9",
            source: { kind: "tarball", url: "http://127.0.0.1:18080/containerd-2.2.9-linux-amd64.tar.gz", sha256: "${SHA256}" },
        },
        docker: { mode: "disable", migrateImages: true },
    });
    return { runtime: node.runtimeAfter };
}

(async () => {
    const stack = await LocalWorkspace.createStack({ stackName: "pkg", projectName: "consumer", program }, {
        workDir: __dirname,
        projectSettings: { name: "consumer", runtime: "nodejs", backend: { url: "file://${state}" } },
        envVars: { PULUMI_CONFIG_PASSPHRASE: "pkg", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const events = [];
    // diff: the preview prints the inputs of what it would create, so a key left in clear would show.
    const res = await stack.preview({ color: "never", diff: true, onEvent: e => events.push(e) });
    fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ changeSummary: res.changeSummary, stdout: res.stdout, stderr: res.stderr, events }));
})().catch(e => { console.error(e); process.exit(1); });
`;

/** A TypeScript consumer: the names, and a use of the declared args type. */
const MAIN_TS = `import { ContainerdFleet, ContainerdNode, ContainerdNodeArgs } from "containerd-node";

const args: ContainerdNodeArgs = {
    connection: { host: "127.0.0.1", port: 2299, privateKey: "key" },
    containerd: { version: "2.2.9", source: { kind: "tarball", url: "http://127.0.0.1:18080/c.tar.gz", sha256: "${SHA256}" } },
};
console.log(typeof ContainerdNode, typeof ContainerdFleet, args.containerd.version);
`;

/** The same but wrong (a port as text): the declarations must reject it, not type it as any. */
const BAD_TS = `import { ContainerdNodeArgs } from "containerd-node";

export const args: ContainerdNodeArgs = {
    connection: { host: "127.0.0.1", port: "2299" },
    containerd: { version: "2.2.9", source: { kind: "tarball", url: "http://127.0.0.1:18080/c.tar.gz", sha256: "${SHA256}" } },
};
`;

/** The tsc options of a consumer that resolves modules the old way (main/types) or the Node 16+ way (exports). */
const RESOLUTIONS: { [name: string]: string[] } = {
    node10: ["--module", "commonjs", "--moduleResolution", "node10"],
    node16: ["--module", "node16", "--moduleResolution", "node16"],
};

function tsc(cwd: string, args: string[]): { status: number | null; out: string } {
    const r = spawnSync(TSC, ["--strict", "--target", "es2020", ...args], { cwd, encoding: "utf8" });
    return { status: r.status, out: r.stdout + r.stderr };
}

describe("e2e: the npm package, installed from its tarball into a new project", function () {
    this.timeout(10 * 60 * 1000);
    let work: string;
    let app: string;
    let entries: string[];

    before(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-package-"));
        app = path.join(work, "app");
        const { tarball, packed } = packAndInstall(work);
        console.log(`      ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)`);
        // What is in the file itself, not what npm says it put there.
        entries = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).trim().split("\n")
            .map(e => e.replace(/^package\//, ""));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("the tarball holds the compiled components, their declarations, the README and its guides, nothing of the repo's development", () => {
        for (const f of ["package.json", "README.md", "bin/components/index.js", "bin/components/index.d.ts",
            "bin/components/containerdNode.js", "bin/components/fleet/fleet.d.ts", "components/node/lib.sh", "components/node/facts.sh"]) {
            assert.ok(entries.includes(f), `${f} is in the tarball`);
        }
        const dev = entries.filter(e => /^(tests|lab|bench|scripts|artifacts|components(?!\/node\/[^/]+\.sh$)|bin\/(tests|bench|scripts))\//.test(e)
            || /^(bin\/)?index\.|^tsconfig|^Pulumi\./.test(e));
        assert.deepStrictEqual(dev, [], "no tests, lab, benchmarks, scripts, sources or stack program (the node-side bash files are shipped)");
        const guides = fs.readdirSync(path.join(REPO, "docs")).filter(f => f.endsWith(".md")).map(f => `docs/${f}`);
        assert.deepStrictEqual(entries.filter(e => e.startsWith("docs/")).sort(), guides.sort(), "the guides the README links to, and nothing else of docs/");
        const other = entries.filter(e => !/^bin\/(components|provider)\/.*(?<!\.d)\.js$|^bin\/(components|provider)\/.*\.d\.ts$|^docs\/[^/]+\.md$/.test(e));
        assert.deepStrictEqual(other.sort(), ["README.md", "components/node/facts.sh", "components/node/kubectl.sh", "components/node/lib.sh", "package.json", "provider/pulumi-resource-containerd-node", "provider/schema.json"],
            "no source maps or .ts sources either; the provider plugin's entry and schema");
        for (const f of ["bin/provider/main.js", "bin/provider/provider.js", "bin/provider/convert.js"]) {
            assert.ok(entries.includes(f), `${f} (the provider plugin) is in the tarball`);
        }
    });

    it("the installed JavaScript refers to no source map (none is shipped)", () => {
        const dir = path.join(app, "node_modules", "containerd-node", "bin", "components");
        const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true })
            .flatMap(e => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
        const js = walk(dir).filter(f => f.endsWith(".js"));
        assert.ok(js.length >= 10, `the components' JavaScript is installed (${js.length} files)`);
        assert.deepStrictEqual(js.filter(f => fs.readFileSync(f, "utf8").includes("sourceMappingURL")), []);
    });

    /** preview.js (PREVIEW_JS) run by plain node in the consumer's project, with a state of its own. */
    const previewOnce = (tag: string, env: NodeJS.ProcessEnv = {}) => {
        const state = path.join(work, `state${tag}`);
        const out = path.join(work, `preview${tag}.json`);
        fs.mkdirSync(state);
        fs.writeFileSync(path.join(app, `preview${tag}.js`), PREVIEW_JS(state, out));
        const r = spawnSync("node", [`preview${tag}.js`], { cwd: app, encoding: "utf8", env: { ...process.env, ...env } });
        assert.strictEqual(r.status, 0, `node preview${tag}.js failed:\n${r.stdout}\n${r.stderr}`);
        return { r, res: JSON.parse(fs.readFileSync(out, "utf8")) };
    };

    it("a plain JavaScript program previews a ContainerdNode through the real engine, the key kept secret", () => {
        const { r, res } = previewOnce("");

        assert.strictEqual(res.changeSummary.create, 3, `the stack, the node and its one step: ${JSON.stringify(res.changeSummary)}`);
        const planned = res.events.filter((e: any) => e.resourcePreEvent).map((e: any) => e.resourcePreEvent.metadata);
        const ofType = (t: string) => planned.filter((m: any) => m.type === t && m.op === "create").map((m: any) => m.urn.split("::").pop()).sort();
        assert.deepStrictEqual(ofType("containerd-node:index:ContainerdNode"), ["pkg-node"]);
        assert.deepStrictEqual(ofType("command:remote:Command"), ["pkg-node-converge"]);
        assert.match(res.stdout, /command:remote:Command/);
        // The node library, found in the installed package: the facts read at up puts it on the
        // node; the step sources it by its hash, and holds none of its text.
        assert.deepStrictEqual(ofType("command:remote:CopyToRemote"), []);
        const lib = fs.readFileSync(path.join(app, "node_modules", "containerd-node", "components", "node", "lib.sh"), "utf8");
        const converge = planned.find((m: any) => m.urn.endsWith("::pkg-node-converge"));
        const stepInputs = JSON.stringify(converge.new.inputs);
        assert.ok(stepInputs.includes(`lib/node-${crypto.createHash("sha256").update(lib).digest("hex").slice(0, 16)}.sh`), `the library's hash: ${stepInputs.slice(0, 400)}`);
        assert.ok(!stepInputs.includes("txn_begin"), "not its text");

        // The preview shows the steps' inputs (the diff, and in full the events: the step's
        // script holds the tarball's sha256), the connection only as a secret...
        assert.match(res.stdout, /connection\s*: \[secret\]/);
        assert.ok(stepInputs.includes(SHA256), "the events carry the steps' inputs");
        // ...and the key nowhere: not in the display, the program's output or the engine's events,
        // their debug diagnostics included. The SDK's own debug messages about each registration
        // ("RegisterResource RPC finished: …, resp: …") print each response, secrets unwrapped; a
        // ContainerdNode does not send them (components/sdkDebugLogs.ts).
        const all = [res.stdout, res.stderr, JSON.stringify(res.events), r.stdout, r.stderr].join("\n");
        assert.ok(!all.includes(KEY_MARK), "the private key is not in the preview's output or any of its events");
        // (The stack's own are: it is registered before the program makes its ContainerdNode.)
        const sdkDebug = res.events.filter((e: any) => /^(Registering resource|RegisterResource RPC) .*pkg-node/.test(e.diagnosticEvent?.message ?? ""));
        assert.deepStrictEqual(sdkDebug, [], "none of the SDK's messages about the node's registrations was sent");
        // With them sent (CN_SDK_DEBUG_LOGS=1) the key is in those debug messages: what the above keeps out.
        const sent = previewOnce("-sdk-debug", { CN_SDK_DEBUG_LOGS: "1" }).res;
        const holding = sent.events.filter((e: any) => JSON.stringify(e).includes(KEY_MARK));
        assert.ok(holding.length > 0, "with CN_SDK_DEBUG_LOGS=1 the SDK's debug messages hold the key");
        assert.deepStrictEqual(holding.filter((e: any) => e.diagnosticEvent?.severity !== "debug"
            || !/^RegisterResource RPC finished: /.test(e.diagnosticEvent.message)).map((e: any) => JSON.stringify(e).slice(0, 300)), [],
            "only the SDK's own debug messages");
    });

    for (const [name, options] of Object.entries(RESOLUTIONS)) {
        it(`TypeScript (${name} resolution) imports ContainerdNode and ContainerdFleet, compiled by tsc and run by plain node`, () => {
            fs.writeFileSync(path.join(app, "main.ts"), MAIN_TS);
            const outDir = `out-${name}`;
            const built = tsc(app, [...options, "--outDir", outDir, "main.ts"]);
            assert.strictEqual(built.status, 0, `tsc failed:\n${built.out}`);
            const run = execFileSync("node", [path.join(outDir, "main.js")], { cwd: app, encoding: "utf8" });
            assert.strictEqual(run.trim(), "function function 2.2.9");

            fs.writeFileSync(path.join(app, "bad.ts"), BAD_TS);
            const bad = tsc(app, [...options, "--noEmit", "bad.ts"]);
            assert.notStrictEqual(bad.status, 0, "tsc accepted a port given as text");
            assert.match(bad.out, /bad\.ts\(4,.*TS2322: Type 'string' is not assignable to type 'number'/);
        });
    }
});
