import * as assert from "assert";
import * as net from "net";
import { ParsedKey, Server, utils } from "ssh2";
import { readNodeFacts, sshKey } from "../../components/preflight/readFacts";
import { limitedRead, readsWaitingAtMost } from "../../components/preflight/planOutputs";

describe("the facts read over SSH: dials", function () {
    this.timeout(20_000);
    it("a connection closed before the key exchange (sshd past its MaxStartups) is dialed again, up to 3 times", async () => {
        let dials = 0;
        // What sshd does to a connection beyond MaxStartups: accepts it and closes it at once.
        const server = net.createServer(s => { dials++; s.destroy(); });
        await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as net.AddressInfo).port;
        try {
            await assert.rejects(readNodeFacts({ host: "127.0.0.1", port, user: "root", password: "x", dialErrorLimit: 10, perDialTimeout: 5 }),
                new RegExp(`^Error: reading root@127\\.0\\.0\\.1:${port}: Connection lost before handshake`));
            assert.strictEqual(dials, 3);
            dials = 0;
            await assert.rejects(readNodeFacts({ host: "127.0.0.1", port, user: "root", password: "x", dialErrorLimit: 1, perDialTimeout: 5 }));
            assert.strictEqual(dials, 1, "dialErrorLimit bounds the dials");
        } finally {
            server.close();
        }
    });
});

/**
 * An ed25519 key pair from ssh2's generator that ssh2 can parse. About 1 in 256 of the pairs it
 * generates has a public key starting with a zero byte, which its encoder drops, and then neither
 * half parses ("Malformed OpenSSH private key": mscdex/ssh2#1390); such a pair is generated again.
 */
function ed25519(opts?: { passphrase: string; cipher: string; rounds: number }): { private: string; public: string } {
    for (;;) {
        const k = utils.generateKeyPairSync("ed25519", opts);
        if (!(utils.parseKey(k.public) instanceof Error) && !(utils.parseKey(k.private, opts?.passphrase) instanceof Error)) {
            return k;
        }
    }
}

describe("the facts read over SSH: a private key with a passphrase", function () {
    this.timeout(20_000);
    const key = ed25519({ passphrase: "pw", cipher: "aes256-ctr", rounds: 2 });

    it("is decrypted once for every read with it, not once a read", () => {
        const parsed = sshKey(key.private, "pw");
        assert.notStrictEqual(typeof parsed, "string", "parsed");
        assert.strictEqual(sshKey(key.private, "pw"), parsed, "the same parsed key the second time");
        assert.strictEqual(sshKey(key.private, "wrong"), key.private, "a wrong passphrase: the text back, for ssh2's own error");
        const other = ed25519();
        assert.notStrictEqual(sshKey(other.private, undefined), parsed, "another key is parsed on its own");
    });

    it("the parsed key logs in: each read reaches the node's reader", async () => {
        const allowed = utils.parseKey(key.public) as ParsedKey;
        let logins = 0;
        const server = new Server({ hostKeys: [ed25519().private] }, client => {
            client.on("authentication", ctx => {
                // (The client asks whether the key would do, then signs with it.)
                if (ctx.method === "publickey" && ctx.key.data.equals(allowed.getPublicSSH())
                    && (ctx.signature === undefined || allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true)) {
                    logins += ctx.signature === undefined ? 0 : 1;
                    return ctx.accept();
                }
                ctx.reject(["publickey"]);
            }).on("ready", () => client.on("session", accept => accept().once("exec", acceptExec => {
                const stream = acceptExec();
                stream.stderr.write("the reader ran\n");
                stream.exit(1);
                stream.end();
            }))).on("error", () => undefined);
        });
        await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as net.AddressInfo).port;
        try {
            for (let i = 0; i < 2; i++) {
                await assert.rejects(readNodeFacts({ host: "127.0.0.1", port, user: "root", privateKey: key.private, privateKeyPassword: "pw", dialErrorLimit: 1, perDialTimeout: 5 }),
                    /the facts reader exited 1: the reader ran/);
            }
            assert.strictEqual(logins, 2);
            await assert.rejects(readNodeFacts({ host: "127.0.0.1", port, user: "root", privateKey: key.private, privateKeyPassword: "wrong", dialErrorLimit: 1, perDialTimeout: 5 }),
                /Cannot parse privateKey: .*bad passphrase/);
        } finally {
            server.close();
        }
    });
});

describe("the facts reads at once (factReads)", () => {
    it("no more than the limit are under way at a time; every read runs", async () => {
        for (const limit of [1, 5, 64]) {
            let now = 0, most = 0;
            const results = await Promise.all(Array.from({ length: 40 }, (_, i) => limitedRead(limit, async () => {
                most = Math.max(most, ++now);
                await new Promise(r => setTimeout(r, 2));
                now--;
                return i;
            })));
            assert.deepStrictEqual(results, Array.from({ length: 40 }, (_, i) => i));
            assert.strictEqual(most, Math.min(limit, 40), `limit ${limit}`);
        }
    });
    it("a read that fails lets the next one go", async () => {
        const failed = limitedRead(1, async () => { throw new Error("down"); });
        const next = limitedRead(1, async () => "read");
        await assert.rejects(failed, /down/);
        assert.strictEqual(await next, "read");
    });
    it("readsWaitingAtMost (a fleet's next batch of nodes) resolves once that few reads wait for their turn, at once when so already", async () => {
        await readsWaitingAtMost(0);
        // Five reads, two at a time: three wait. Each read ends when told.
        const ends: (() => void)[] = [];
        const reads = Array.from({ length: 5 }, () => limitedRead(2, () => new Promise<void>(r => ends.push(r))));
        await new Promise(r => setImmediate(r));
        let atMostOne = false, atMostThree = false;
        void readsWaitingAtMost(1).then(() => { atMostOne = true; });
        void readsWaitingAtMost(3).then(() => { atMostThree = true; });
        await new Promise(r => setImmediate(r));
        assert.deepStrictEqual([atMostOne, atMostThree, ends.length], [false, true, 2]);
        ends.shift()!();
        await new Promise(r => setImmediate(r));
        assert.strictEqual(atMostOne, false, "two still wait");
        ends.shift()!();
        await new Promise(r => setImmediate(r));
        assert.strictEqual(atMostOne, true, "one waits");
        for (let i = 0; i < 3; i++) {
            ends.shift()!();
            await new Promise(r => setImmediate(r));
        }
        await Promise.all(reads);
    });
});
