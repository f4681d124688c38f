import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { discoveredNodes, discoverNodes, knownHostKey, parseKnownHosts, parseNodeList } from "../../components/fleet/discover";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEWgsk7/mttFS72GYfeQ1sfOIciGAJsirHLgnciWQrmw";
const ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBdTXwGo8s8Hq6FOrpzJtaNZf1S0Bd3p6VZLNHhcBRvW";
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";

const node = (name: string, addresses: { [type: string]: string }, labels: { [k: string]: string } = {}) => ({
    metadata: { name, labels },
    status: { addresses: Object.entries(addresses).map(([type, address]) => ({ type, address })) },
});
const LIST = JSON.stringify({
    items: [
        node("w2", { InternalIP: "10.0.0.12", Hostname: "w2" }),
        node("cp1", { InternalIP: "10.0.0.2", ExternalIP: "203.0.113.2" }, { "node-role.kubernetes.io/control-plane": "" }),
        node("w1", { InternalIP: "10.0.0.11" }),
    ],
});
const conn = { user: "root", privateKey: "KEY" };

describe("node discovery: the cluster's Nodes", () => {
    it("reads names, the chosen address type and the control-plane role; sorted by name", () => {
        assert.deepStrictEqual(parseNodeList(LIST, "InternalIP"), [
            { name: "cp1", address: "10.0.0.2", controlPlane: true },
            { name: "w1", address: "10.0.0.11", controlPlane: false },
            { name: "w2", address: "10.0.0.12", controlPlane: false },
        ]);
        assert.deepStrictEqual(parseNodeList(LIST, "ExternalIP").map(n => n.address), ["203.0.113.2", undefined, undefined]);
    });
});

describe("node discovery: known_hosts", () => {
    it("plain names, [host]:port for other ports, ed25519 preferred, @cert-authority skipped, @revoked refuses", () => {
        const kh = parseKnownHosts([
            "# a comment", "",
            `10.0.0.11,w1 ${RSA} w1-rsa`,
            `10.0.0.11 ${ED} w1`,
            `[10.0.0.12]:2222 ${ED2}`,
            `@cert-authority *.example ${ED}`,
            `@revoked 10.0.0.13 ${ED}`,
        ].join("\n"));
        assert.strictEqual(knownHostKey(kh, "10.0.0.11", 22), ED);
        assert.strictEqual(knownHostKey(kh, "w1", 22), RSA);
        assert.strictEqual(knownHostKey(kh, "10.0.0.12", 2222), ED2);
        assert.strictEqual(knownHostKey(kh, "10.0.0.12", 22), undefined, "the port is part of the name");
        assert.strictEqual(knownHostKey(kh, "10.0.0.13", 22), "revoked");
        assert.strictEqual(knownHostKey(kh, "x.example", 22), undefined);
    });
    it("hashed names, as ssh-keygen -H writes them", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kh-"));
        const file = path.join(dir, "known_hosts");
        fs.writeFileSync(file, `10.0.0.11 ${ED}\n[10.0.0.12]:2222 ${ED2}\n`);
        execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
        const text = fs.readFileSync(file, "utf8");
        assert.doesNotMatch(text, /10\.0\.0/, "the names are hashed");
        const kh = parseKnownHosts(text);
        assert.strictEqual(knownHostKey(kh, "10.0.0.11", 22), ED);
        assert.strictEqual(knownHostKey(kh, "10.0.0.12", 2222), ED2);
        assert.strictEqual(knownHostKey(kh, "10.0.0.99", 22), undefined);
    });
});

describe("node discovery: the fleet's nodes", () => {
    const nodes = parseNodeList(LIST, "InternalIP");
    const kh = parseKnownHosts(`10.0.0.2 ${ED}\n10.0.0.11 ${ED}\n10.0.0.12 ${ED}\n`);
    it("each node its address, its pinned key, the shared connection; control plane marked", () => {
        const got = discoveredNodes(nodes, { connection: conn, hostKeys: { knownHostsFile: "/k", byNode: { w2: ED2 } } }, kh);
        assert.deepStrictEqual(got, [
            { name: "cp1", nodeName: "cp1", controlPlane: true, connection: { ...conn, host: "10.0.0.2", hostKey: ED } },
            { name: "w1", nodeName: "w1", controlPlane: undefined, connection: { ...conn, host: "10.0.0.11", hostKey: ED } },
            { name: "w2", nodeName: "w2", controlPlane: undefined, connection: { ...conn, host: "10.0.0.12", hostKey: ED2 } },
        ]);
    });
    it("a node without a pinned key is refused, naming it, unless allowed", () => {
        assert.throws(() => discoveredNodes(nodes, { connection: conn, hostKeys: { knownHostsFile: "/k" } }, kh.slice(0, 2)),
            /invalid discover\.hostKeys: no host key for node w2 \(10\.0\.0\.12:22\) in \/k or byNode; pin it, or set allowUnpinned: true/);
        const got = discoveredNodes(nodes, { connection: conn, hostKeys: { allowUnpinned: true } }, []);
        assert.deepStrictEqual(got.map(n => n.connection.hostKey), [undefined, undefined, undefined]);
    });
    it("a revoked key refuses its node; a node without the address type is refused naming the field", () => {
        assert.throws(() => discoveredNodes(nodes, { connection: conn, hostKeys: { knownHostsFile: "/k" } }, parseKnownHosts(`@revoked 10.0.0.2 ${ED}`)),
            /invalid discover\.hostKeys: node cp1 \(10\.0\.0\.2\): its key in \/k is marked @revoked/);
        assert.throws(() => discoveredNodes(parseNodeList(LIST, "ExternalIP"), { connection: conn, addressType: "ExternalIP", hostKeys: { allowUnpinned: true } }, []),
            /invalid discover\.addressType: node w1 has no ExternalIP address/);
    });
});

describe("node discovery: the read (a stand-in kubectl)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-disc-"));
    const kubectl = path.join(dir, "kubectl");
    // Records its arguments and what it found at KUBECONFIG, then prints the Node list.
    fs.writeFileSync(kubectl, `#!/bin/bash\necho "$*" >${dir}/args\nstat -c %a "$KUBECONFIG" >${dir}/mode\ncat "$KUBECONFIG" >${dir}/seen\necho "$KUBECONFIG" >${dir}/path\ncat ${dir}/list.json\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "list.json"), LIST);
    const known = path.join(dir, "known_hosts");
    fs.writeFileSync(known, `10.0.0.2 ${ED}\n10.0.0.11 ${ED}\n10.0.0.12 ${ED}\n`);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8").trim();

    it("content: kubectl reads it from a 0600 file, removed afterwards; the selector is passed", async () => {
        const nodes = await discoverNodes({ kubeconfig: { content: pulumi.secret("apiVersion: v1\nkind: Config\n") }, kubectl },
            { selector: "pool=workers", connection: conn, hostKeys: { knownHostsFile: known } });
        assert.deepStrictEqual(nodes!.map(n => n.name), ["cp1", "w1", "w2"]);
        assert.strictEqual(read("args"), "get nodes -l pool=workers -o json");
        assert.strictEqual(read("mode"), "600");
        assert.strictEqual(read("seen"), "apiVersion: v1\nkind: Config");
        assert.strictEqual(fs.existsSync(read("path")), false, "the file is gone");
    });
    it("a path is given to kubectl as it is", async () => {
        const kc = path.join(dir, "admin.conf");
        fs.writeFileSync(kc, "x");
        await discoverNodes({ kubeconfig: kc, kubectl }, { connection: conn, hostKeys: { knownHostsFile: known } });
        assert.strictEqual(read("path"), kc);
        assert.strictEqual(read("args"), "get nodes -o json");
    });
    it("content not known yet (the cluster is still to be made): no nodes, kubectl not run", async () => {
        fs.rmSync(path.join(dir, "args"), { force: true });
        const unknown = pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>;
        assert.strictEqual(await discoverNodes({ kubeconfig: { content: unknown }, kubectl }, { connection: conn }), undefined);
        assert.strictEqual(fs.existsSync(path.join(dir, "args")), false);
    });
    it("kubectl failing is an error with its message", async () => {
        await assert.rejects(discoverNodes({ kubeconfig: "/nonexistent", kubectl: "/bin/false" }, { connection: conn }), /\/bin\/false get nodes -o json: /);
    });
});
