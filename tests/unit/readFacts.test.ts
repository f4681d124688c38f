import * as assert from "assert";
import * as net from "net";
import { readNodeFacts } from "../../components/preflight/readFacts";

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
