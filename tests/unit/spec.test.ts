import * as assert from "assert";
import { ContainerdNodeArgs } from "../../components/args";
import { DEFAULTS, InvalidArgumentError, resolveSpec, validateConnection } from "../../components/spec";
import { baseArgs } from "./helpers";

function rejects(args: ContainerdNodeArgs, field: string, expected: RegExp) {
    assert.throws(() => resolveSpec(args), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${e}`);
        assert.strictEqual(e.field, field);
        assert.match(e.message, expected);
        assert.match(e.message, new RegExp(`^invalid ${field.replace(/[[\]().*"]/g, "\\$&")}: `));
        return true;
    });
}

describe("resolveSpec defaults", () => {
    it("fills every default in one place", () => {
        const s = resolveSpec(baseArgs());
        assert.strictEqual(s.config.systemdCgroup, true);
        assert.strictEqual(s.config.sandboxImage, DEFAULTS.sandboxImage);
        assert.strictEqual(s.config.root, "/var/lib/containerd");
        assert.strictEqual(s.config.state, "/run/containerd");
        assert.strictEqual(s.config.schema, 3);
        assert.strictEqual(s.containerd.binDir, "/usr/local/bin");
        assert.deepStrictEqual(s.unit, { limitNOFILE: "infinity", tasksMax: "infinity", oomScoreAdjust: -999 });
        assert.deepStrictEqual(s.docker, { mode: "disable", removeData: false, migrateImages: false });
        assert.strictEqual(s.kubelet, undefined);
        assert.strictEqual(s.kubernetes, undefined);
    });
    it("picks schema 2 for containerd 1.x and /usr/bin for packages", () => {
        const s = resolveSpec(baseArgs({ containerd: { version: "1.6", source: { kind: "package" } } }));
        assert.strictEqual(s.config.schema, 2);
        assert.strictEqual(s.containerd.binDir, "/usr/bin");
        assert.deepStrictEqual(s.containerd.source, { kind: "package", name: "containerd" });
    });
    it("resolves Kubernetes drain defaults", () => {
        const s = resolveSpec(baseArgs({ kubelet: { version: "1.30.4" }, kubernetes: { kubeconfig: "/k", nodeName: "node-1" } }));
        assert.deepStrictEqual(s.kubernetes, {
            kubeconfig: { kind: "path", path: "/k" }, nodeName: "node-1", kubectl: "kubectl", drainTimeoutSeconds: 300, gracePeriodSeconds: -1,
            deleteEmptyDirData: true, force: false, verifyTimeoutSeconds: 180,
        });
        assert.strictEqual(s.kubelet?.flagsLocation, "auto");
    });
    it("accepts http only for a loopback artifact server", () => {
        const s = resolveSpec(baseArgs({ containerd: { version: "2.1.4", source: { kind: "tarball", url: "http://127.0.0.1:18080/c.tar.gz", sha256: "B".repeat(64) } } }));
        assert.deepStrictEqual(s.containerd.source, { kind: "tarball", url: "http://127.0.0.1:18080/c.tar.gz", sha256: "b".repeat(64) });
    });
});

describe("resolveSpec validation (fails at preview, naming the field)", () => {
    const tarball = (url: string, sha256 = "a".repeat(64)) => baseArgs({ containerd: { version: "2.1.4", source: { kind: "tarball", url, sha256 } } });

    it("malformed containerd version", () => rejects(baseArgs({ containerd: { version: "latest", source: { kind: "package" } } }), "containerd.version", /expected a version like "2.1.4"/));
    it("tarball needs a full version", () => rejects(baseArgs({ containerd: { version: "2.1", source: { kind: "tarball", url: "https://x/y.tgz", sha256: "a".repeat(64) } } }), "containerd.version", /full version/));
    it("non-https URL", () => rejects(tarball("http://example.com/c.tar.gz"), "containerd.source.url", /expected an https:\/\/ URL/));
    it("unknown URL scheme", () => rejects(tarball("ftp://example.com/c.tar.gz"), "containerd.source.url", /https/));
    it("not a URL", () => rejects(tarball("containerd.tar.gz"), "containerd.source.url", /https/));
    it("sha256 too short", () => rejects(tarball("https://x/c.tgz", "abc"), "containerd.source.sha256", /64 hexadecimal/));
    it("sha256 not hex", () => rejects(tarball("https://x/c.tgz", "z".repeat(64)), "containerd.source.sha256", /64 hexadecimal/));
    it("runc artifact checked too", () => rejects(baseArgs({ containerd: { ...baseArgs().containerd, runc: { url: "https://x/runc", sha256: "1" } } }), "containerd.runc.sha256", /64 hexadecimal/));
    it("unknown source kind", () => rejects(baseArgs({ containerd: { version: "2.1.4", source: { kind: "brew" } as never } }), "containerd.source.kind", /"tarball", "file", "package" or "docker"/));
    it("mirror endpoint without scheme", () => rejects(baseArgs({ config: { registryMirrors: { "docker.io": ["mirror.example.com"] } } }), `config.registryMirrors["docker.io"][0]`, /with scheme/));
    it("mirror registry name", () => rejects(baseArgs({ config: { registryMirrors: { "bad host": ["https://m"] } } }), `config.registryMirrors["bad host"]`, /registry host/));
    it("empty mirror list", () => rejects(baseArgs({ config: { registryMirrors: { "docker.io": [] } } }), `config.registryMirrors["docker.io"]`, /non-empty/));
    it("registry TLS: a relative path, half a key pair, an unknown field, nothing", () => {
        rejects(baseArgs({ config: { registryTls: { "r.corp": { caFile: "ca.pem" } } } }), `config.registryTls["r.corp"].caFile`, /absolute path/);
        rejects(baseArgs({ config: { registryTls: { "r.corp": { certFile: "/c.pem" } } } }), `config.registryTls["r.corp"].keyFile`, /certFile and keyFile together/);
        rejects(baseArgs({ config: { registryTls: { "r.corp": { ca: "/c.pem" } as any } } }), `config.registryTls["r.corp"].ca`, /expected some of caFile, certFile, keyFile/);
        rejects(baseArgs({ config: { registryTls: { "r.corp": {} } } }), `config.registryTls["r.corp"]`, /expected some of/);
        rejects(baseArgs({ config: { registryTls: { "https://r.corp": { caFile: "/c.pem" } } } }), `config.registryTls["https://r.corp"]`, /registry host/);
    });
    it("insecure registry with scheme", () => rejects(baseArgs({ config: { insecureRegistries: ["http://10.0.0.5"] } }), "config.insecureRegistries[0]", /registry host/));
    it("stateDir: absolute, plain characters, no . or .. parts, not / itself", () => {
        assert.strictEqual(resolveSpec(baseArgs()).stateDir, "/var/lib/containerd-node");
        assert.strictEqual(resolveSpec(baseArgs({ stateDir: "/srv/cn_1/x.y" })).stateDir, "/srv/cn_1/x.y");
        for (const bad of ["var/lib/x", "/", "/var/lib/x/", "/var/../etc", "/var/./x", "/var/lib/a b", "/var/lib/it's", "/var/$HOME"]) {
            rejects(baseArgs({ stateDir: bad }), "stateDir", /expected an absolute directory path/);
        }
    });
    it("port out of range", () => rejects(baseArgs({ connection: { host: "h", port: 70000, privateKey: "k" } }), "connection.port", /1 to 65535/));
    it("port zero", () => rejects(baseArgs({ connection: { host: "h", port: 0, privateKey: "k" } }), "connection.port", /1 to 65535/));
    it("no auth method", () => rejects(baseArgs({ connection: { host: "h" } }), "connection", /privateKey, password, agentSocketPath or sshAgent/));
    it("sshAgent: the agent in SSH_AUTH_SOCK, refused without one or beside agentSocketPath", () => {
        const refused = (c: ContainerdNodeArgs["connection"], env: { SSH_AUTH_SOCK?: string }, expected: RegExp) =>
            assert.throws(() => validateConnection(c, env), (e: unknown) => e instanceof InvalidArgumentError
                && e.field === "connection.sshAgent" && expected.test(e.message));
        assert.doesNotThrow(() => validateConnection({ host: "h", sshAgent: true }, { SSH_AUTH_SOCK: "/run/user/0/agent.sock" }));
        refused({ host: "h", sshAgent: true }, {}, /expected SSH_AUTH_SOCK set in the environment of `pulumi`/);
        refused({ host: "h", sshAgent: true }, { SSH_AUTH_SOCK: "" }, /SSH_AUTH_SOCK .*unset/);
        refused({ host: "h", sshAgent: true, agentSocketPath: "/a.sock" }, { SSH_AUTH_SOCK: "/s" }, /either sshAgent .* or agentSocketPath, not both/);
        refused({ host: "h", sshAgent: true, privateKey: "k" }, { SSH_AUTH_SOCK: "/s" }, /either sshAgent .* or privateKey, not both/);
        refused({ host: "h", sshAgent: true, password: "p" }, { SSH_AUTH_SOCK: "/s" }, /either sshAgent .* or password, not both/);
        refused({ host: "h", sshAgent: "yes" as never, privateKey: "k" }, { SSH_AUTH_SOCK: "/s" }, /expected true or false, got "yes"/);
        // false is no auth method of its own.
        assert.throws(() => validateConnection({ host: "h", sshAgent: false }, { SSH_AUTH_SOCK: "/s" }), /invalid connection: expected one auth method/);
    });
    it("no host", () => rejects(baseArgs({ connection: { host: "", privateKey: "k" } }), "connection.host", /address/));
    it("unknown docker mode", () => rejects(baseArgs({ docker: { mode: "remove" as never } }), "docker.mode", /"keep", "stop", "disable", "purge"/));
    it("purge with docker's own containerd", () => rejects(baseArgs({ containerd: { version: "1.6", source: { kind: "docker" } }, docker: { mode: "purge" } }), "docker.mode", /also removes the containerd/));
    it("kubelet 1.22 on containerd 2.x", () => rejects(baseArgs({ kubelet: { version: "1.22.17" } }), "kubelet.version", /CRI v1alpha2, which containerd 2\.0 removed: upgrade the kubelet/));
    it("kubelet 1.35 on containerd 2.1.4: the support table", () => rejects(baseArgs({ kubelet: { version: "1.35.0" } }), "kubelet.version", /kubelet 1\.35\.0 needs containerd 2\.2\.0\+, 2\.1\.5\+, 1\.7\.28\+ \(containerd's support table\), got 2\.1\.4/));
    it("kubelet 1.26 on containerd 1.6.14", () => rejects(baseArgs({ containerd: { version: "1.6.14", source: { kind: "package" } }, kubelet: { version: "1.26.0" } }), "kubelet.version", /needs containerd 1\.6\.15/));
    it("kubelet 1.30 on a bare \"1.6\" asks for the full version", () => rejects(baseArgs({ containerd: { version: "1.6", source: { kind: "package" } }, kubelet: { version: "1.30.4" } }), "kubelet.version", /declare the full version/));
    it("malformed kubelet version", () => rejects(baseArgs({ kubelet: { version: "one.two" } }), "kubelet.version", /expected a version/));
    it("config location before 1.27", () => rejects(baseArgs({ kubelet: { version: "1.26.3", flagsLocation: "config" } }), "kubelet.flagsLocation", /1\.27\+/));
    it("unknown flags location", () => rejects(baseArgs({ kubelet: { version: "1.30.0", flagsLocation: "etc" as never } }), "kubelet.flagsLocation", /"auto", "kubeadm-flags"/));
    it("Kubernetes mode needs the kubelet", () => rejects(baseArgs({ kubernetes: { kubeconfig: "/k", nodeName: "n1" } }), "kubelet", /Kubernetes mode/));
    it("node name", () => rejects(baseArgs({ kubelet: { version: "1.30.0" }, kubernetes: { kubeconfig: "/k", nodeName: "Node_1" } }), "kubernetes.nodeName", /node name/));
    it("drain timeout", () => rejects(baseArgs({ kubelet: { version: "1.30.0" }, kubernetes: { kubeconfig: "/k", nodeName: "n", drain: { timeoutSeconds: 0 } } }), "kubernetes.drain.timeoutSeconds", /integer from 1/));
    it("relative root dir", () => rejects(baseArgs({ config: { root: "var/lib/containerd" } }), "config.root", /absolute path/));
    it("systemd limit", () => rejects(baseArgs({ unit: { limitNOFILE: "lots" } }), "unit.limitNOFILE", /number or "infinity"/));
    it("sandbox image", () => rejects(baseArgs({ config: { sandboxImage: "pause 3.9" } }), "config.sandboxImage", /image reference/));
    it("runtime handler type", () => rejects(baseArgs({ config: { runtimes: { gvisor: { runtimeType: "runsc" } } } }), `config.runtimes["gvisor"].runtimeType`, /io\.containerd\.runsc\.v1/));
    it("removeData with keep", () => rejects(baseArgs({ docker: { mode: "keep", removeData: true } }), "docker.removeData", /keep/));
});

describe("factReads", () => {
    it("defaults to 16 and takes an integer from 1 to 1000; anything else is refused naming the field", () => {
        assert.strictEqual(resolveSpec(baseArgs()).factReads, 16);
        assert.strictEqual(resolveSpec(baseArgs({ factReads: 200 })).factReads, 200);
        for (const bad of [0, 1001, 2.5, -1]) {
            rejects(baseArgs({ factReads: bad }), "factReads", /expected an integer from 1 to 1000/);
        }
    });
});
