/**
 * End to end: the secrets audit (issue 14). A real conversion, with the lab's SSH key and a
 * registry password as Pulumi secrets, previewed and run with the CLI's verbose engine log
 * (`--logtostderr -v=N --logflow`). Neither secret may appear in the output, the state as stored,
 * or any file on the node, except the one file containerd reads the password from; nor in the
 * engine log, except where the engine itself dumps resource inputs (from -v=7: the engine's own
 * behaviour, which no program can change).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { agentWithLabKey, artifacts, ARTIFACT_PORT, changes, checkpointResources, inNode, labNode, labStack, LAB_DIR, nodeDown, nodeUp, privateKey, REPO, stateText, upChangesNothing } from "./lab";

const NODE = "s-audit";
const PASSWORD = "cn-audit-Pa55-7f3b2a91e4d0";
const AUTH_FILE = "/etc/containerd/containerd-node/registry-auth.toml";

/**
 * Pieces of the private key that only the private key holds: its body's third to fifth lines
 * (the first two are the format header and the public key, shared with any ed25519 key file).
 */
const keyPieces = () => privateKey().trim().split("\n").slice(3, 6).map(l => l.slice(8, 48));

/** The files under DIR (host side) that hold any of the needles. */
function filesHolding(dir: string, needles: string[]): string[] {
    const r = spawnSync("grep", ["-rlIF", ...needles.flatMap(n => ["-e", n]), dir], { encoding: "utf8", maxBuffer: 1 << 26 });
    return r.stdout.split("\n").filter(Boolean).map(f => f.slice(dir.length)).sort();
}

describe("e2e: secrets audit (state, output, verbose engine log, files on the node)", function () {
    this.timeout(20 * 60 * 1000);
    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        nodeUp(NODE, 2289);
    });
    after(() => nodeDown(NODE));
    let stack: Stack;

    it("neither the SSH key nor a registry password shows anywhere but the one file containerd reads", async () => {
        const A = artifacts();
        const url = (file: string) => `http://127.0.0.1:${ARTIFACT_PORT}/${file}`;
        stack = await labStack(NODE, {
            nodes: [labNode(NODE)], privateKey: privateKey(),
            containerd: {
                version: A.CONTAINERD2_VERSION,
                source: { kind: "tarball", url: url(A.CONTAINERD2_FILE), sha256: A.CONTAINERD2_SHA256 },
                runc: { url: url(A.RUNC_FILE), sha256: A.RUNC_SHA256 },
            },
            kubelet: { version: "1.30.4" }, docker: { mode: "disable" },
            registryAuth: { "registry.audit.internal": { username: "audit", password: PASSWORD } },
        });
        const verbose = (v: number) => ({ color: "never" as const, logToStdErr: true, logVerbosity: v, logFlow: true });
        const preview = await stack.preview(verbose(5));
        const up = await stack.up(verbose(9));
        assert.strictEqual(up.summary.result, "succeeded");
        // The verbose log was really captured: the engine's own lines (JSON), down to -v=9, about
        // the command provider's resources.
        assert.match(up.stderr, /"msg":"ResourceMonitor\.RegisterResource received: t=command:remote:Command, name=s-audit-registry-auth,/, "the CLI wrote its verbose engine log");
        assert.match(up.stderr, /"v":9\}/);

        const secrets = [PASSWORD, ...keyPieces()];
        const mask = (line: string) => secrets.reduce((l, s) => l.split(s).join("***"), line).slice(0, 400);
        const holding = (text: string) => text.split("\n").filter(l => secrets.some(s => l.includes(s)));
        const texts: { [where: string]: string } = {
            "preview output and its engine log at -v=5": preview.stdout + preview.stderr,
            "up output": up.stdout,
            "state as stored (file backend)": stateText(stack),
        };
        for (const [where, text] of Object.entries(texts)) {
            assert.deepStrictEqual(holding(text).map(mask), [], `no secret in the ${where}`);
        }
        // From -v=7 up the engine (3.248) dumps every resource input it receives and sends, secrets
        // in plain text; none of the secrets may be anywhere else in that log (the package's own
        // messages, the provider's, the steps' output).
        const dumps = holding(up.stderr);
        const ENGINE_DUMP = /^\{"time":"[^"]+","level":"INFO","msg":"((Un)?[Mm]arshaling property for RPC\[|Planner decided to (create|update|replace) )/;
        assert.deepStrictEqual(dumps.filter(l => !ENGINE_DUMP.test(l)).map(mask), [], "secrets in the -v=9 log only in the engine's dumps of resource inputs");
        console.log(`      -v=9 engine log: ${up.stderr.split("\n").length} lines, ${dumps.length} of them the engine's input dumps holding a secret; -v=5: none`);

        // The node's tree as the host sees it (every disk file), and its tmpfs mounts and journal.
        const tree = path.join(LAB_DIR, "nodes", NODE);
        assert.deepStrictEqual(filesHolding(tree, secrets), [AUTH_FILE], "the password only in the file containerd reads it from, the key nowhere");
        assert.strictEqual(inNode(NODE, `stat -c '%a %U' ${AUTH_FILE}`).trim(), "600 root");
        assert.deepStrictEqual(filesHolding(tree, keyPieces()), [], "the SSH private key is on no node file");
        const volatile = inNode(NODE, `grep -rlIF ${secrets.map(s => `-e '${s}'`).join(" ")} /run /tmp /dev/shm 2>/dev/null || true`);
        assert.strictEqual(volatile.trim(), "", "nothing in the node's tmpfs mounts");
        const journal = inNode(NODE, `journalctl -o cat --no-pager | grep -cF ${secrets.map(s => `-e '${s}'`).join(" ")} || true`);
        assert.strictEqual(journal.trim(), "0", "nothing in the node's journal");
        // The searches can find what they look for: the lab's key file, on the host.
        assert.deepStrictEqual(filesHolding(LAB_DIR, keyPieces()).filter(f => f === "/id_ed25519"), ["/id_ed25519"]);
    });

    it("with sshAgent the state holds no key at all, and another agent socket changes nothing", async () => {
        const connectionOf = async () => {
            const state = await stack.exportStack();
            const converge = state.deployment.resources.find((r: any) => r.urn.endsWith("::s-audit-converge"));
            return { converge, state: JSON.stringify(state.deployment) };
        };
        // The step as the backend's file holds it (the connection's ciphertext, not its plaintext).
        const sizeOf = () => Buffer.byteLength(JSON.stringify(checkpointResources(stack).find(r => r.urn.endsWith("::s-audit-converge"))));
        const before = { ...(await connectionOf()), bytes: sizeOf() };
        assert.ok(keyPieces().every(p => before.state.includes(p)), "the key is in the (decrypted) state while privateKey is given");
        const saved = process.env.SSH_AUTH_SOCK;
        const first = await agentWithLabKey();
        try {
            await stack.removeConfig("containerd-node:privateKey");
            await stack.setConfig("containerd-node:sshAgent", { value: "true" });
            // Without an agent the preview is refused, naming the field.
            delete process.env.SSH_AUTH_SOCK;
            await assert.rejects(stack.preview({ color: "never" }), /invalid connection\.sshAgent: expected SSH_AUTH_SOCK set/);

            process.env.SSH_AUTH_SOCK = first.sock;
            const up = await stack.up({ color: "never" });
            // Each remote step (this node's registry-auth and converge) updated once: its connection.
            const remoteSteps = checkpointResources(stack).filter(r => r.type === "command:remote:Command").length;
            assert.ok(remoteSteps >= 2);
            assert.deepStrictEqual(changes(up.summary.resourceChanges as { [op: string]: number }), { update: remoteSteps }, "each remote step's connection, once");
            const after = { ...(await connectionOf()), bytes: sizeOf() };
            const conn = after.converge.inputs.connection;
            assert.deepStrictEqual(Object.keys(conn.plaintext ? JSON.parse(conn.plaintext) : conn).sort(),
                ["dialErrorLimit", "host", "hostKey", "perDialTimeout", "port", "user"], "the connection: no key, no agent path");
            assert.deepStrictEqual(keyPieces().filter(p => after.state.includes(p)), [], "no piece of the key in the decrypted state");
            console.log(`      the converge step as the backend's file holds it: ${before.bytes} bytes with privateKey, ${after.bytes} with sshAgent`);
            assert.ok(before.bytes - after.bytes >= 1000, `the step's state ${before.bytes - after.bytes} bytes smaller (two copies of the key's ciphertext)`);

            // Another agent at another socket (a new login, a new shell): nothing to change.
            first.stop();
            const second = await agentWithLabKey();
            try {
                assert.notStrictEqual(second.sock, first.sock);
                process.env.SSH_AUTH_SOCK = second.sock;
                await upChangesNothing(stack, "with another agent socket pulumi up changes nothing");
            } finally {
                second.stop();
            }
        } finally {
            first.stop();
            if (saved === undefined) {
                delete process.env.SSH_AUTH_SOCK;
            } else {
                process.env.SSH_AUTH_SOCK = saved;
            }
        }
    });
});
