import * as TOML from "@iarna/toml";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { renderConfigToml, mergeToml } from "../../components/render/configToml";
import { renderCrictlYaml } from "../../components/render/crictl";
import { renderHostsTomls } from "../../components/render/hostsToml";
import { renderUnit } from "../../components/render/unit";
import { resolveSpec } from "../../components/spec";
import { baseArgs } from "./helpers";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", name), "utf8");

// The seed articles' settings: pause image from aliyun, docker.io and k8s.gcr.io mirrors,
// an insecure registry at 10.10.10.250 and SystemdCgroup = true.
const seedConfig = {
    sandboxImage: "registry.aliyuncs.com/k8sxio/pause:3.2",
    registryMirrors: { "docker.io": ["https://bqr1dr1n.mirror.aliyuncs.com"], "k8s.gcr.io": ["https://registry.aliyuncs.com/k8sxio"] },
    insecureRegistries: ["10.10.10.250"],
};
const v1 = resolveSpec(baseArgs({ containerd: { version: "1.6.20", source: { kind: "package" } }, config: seedConfig }));
const v2 = resolveSpec(baseArgs({ config: seedConfig }));

describe("config.toml", () => {
    it("renders the seed's settings in schema 2 for containerd 1.x (fixture)", () => {
        assert.strictEqual(renderConfigToml(v1), fixture("config-v2-seed.toml"));
    });
    it("puts every seed value at its schema 2 path", () => {
        const doc = TOML.parse(renderConfigToml(v1)) as any;
        assert.strictEqual(doc.version, 2);
        const cri = doc.plugins["io.containerd.grpc.v1.cri"];
        assert.strictEqual(cri.sandbox_image, "registry.aliyuncs.com/k8sxio/pause:3.2");
        assert.strictEqual(cri.containerd.runtimes.runc.runtime_type, "io.containerd.runc.v2");
        assert.strictEqual(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
        assert.strictEqual(cri.registry.config_path, "/etc/containerd/certs.d");
        assert.strictEqual(cri.registry.mirrors, undefined, "mirrors go to certs.d, not the deprecated registry.mirrors");
        assert.strictEqual(doc.disabled_plugins, undefined, "CRI is never disabled");
    });
    it("renders schema 3 for containerd 2.x (fixture and paths)", () => {
        const text = renderConfigToml(v2);
        assert.strictEqual(text, fixture("config-v3-seed.toml"));
        const doc = TOML.parse(text) as any;
        assert.strictEqual(doc.version, 3);
        assert.strictEqual(doc.plugins["io.containerd.cri.v1.images"].pinned_images.sandbox, "registry.aliyuncs.com/k8sxio/pause:3.2");
        assert.strictEqual(doc.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes.runc.options.SystemdCgroup, true);
        assert.strictEqual(doc.plugins["io.containerd.grpc.v1.cri"], undefined, "no schema 2 keys in a schema 3 file");
    });
    it("renders SystemdCgroup = false, root/state dirs and extra runtimes", () => {
        const s = resolveSpec(baseArgs({ config: { systemdCgroup: false, root: "/data/containerd", state: "/run/ctd", runtimes: { gvisor: { runtimeType: "io.containerd.runsc.v1", options: { TypeUrl: "io.containerd.runsc.v1.options" } } } } }));
        const doc = TOML.parse(renderConfigToml(s)) as any;
        assert.strictEqual(doc.root, "/data/containerd");
        assert.strictEqual(doc.state, "/run/ctd");
        const rt = doc.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes;
        assert.strictEqual(rt.runc.options.SystemdCgroup, false);
        assert.deepStrictEqual(rt.gvisor, { runtime_type: "io.containerd.runsc.v1", options: { TypeUrl: "io.containerd.runsc.v1.options" } });
    });
    it("CNI dirs: bin_dirs from 2.1, bin_dir for 2.0 and 1.x", () => {
        const cni = (version: string, schemaPlugin: string, plugin: string) => {
            const s = resolveSpec(baseArgs({ containerd: { version, source: { kind: "package" } }, config: { cniBinDir: "/usr/lib/cni" } }));
            return (TOML.parse(renderConfigToml(s)) as any).plugins[schemaPlugin][plugin] ?? (TOML.parse(renderConfigToml(s)) as any).plugins[schemaPlugin].cni;
        };
        assert.deepStrictEqual(cni("2.2.9", "io.containerd.cri.v1.runtime", "cni"), { bin_dirs: ["/usr/lib/cni"], conf_dir: "/etc/cni/net.d" });
        assert.deepStrictEqual(cni("2.0.6", "io.containerd.cri.v1.runtime", "cni"), { bin_dir: "/usr/lib/cni", conf_dir: "/etc/cni/net.d" });
        assert.deepStrictEqual(cni("1.7.20", "io.containerd.grpc.v1.cri", "cni"), { bin_dir: "/usr/lib/cni", conf_dir: "/etc/cni/net.d" });
    });
    it("deep-merges extraToml over the rendered file", () => {
        const s = resolveSpec(baseArgs({ config: { extraToml: { debug: { level: "debug" }, plugins: { "io.containerd.cri.v1.images": { max_concurrent_downloads: 5 } } } } }));
        const doc = TOML.parse(renderConfigToml(s)) as any;
        assert.strictEqual(doc.debug.level, "debug");
        assert.strictEqual(doc.plugins["io.containerd.cri.v1.images"].max_concurrent_downloads, 5);
        assert.strictEqual(doc.plugins["io.containerd.cri.v1.images"].pinned_images.sandbox, "registry.k8s.io/pause:3.10", "merge keeps sibling keys");
    });
    it("mergeToml replaces non-tables and merges tables", () => {
        assert.deepStrictEqual(mergeToml({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, d: { e: true } }), { a: { b: 1, c: [2] }, d: { e: true } });
    });
});

describe("certs.d hosts.toml", () => {
    const hosts = renderHostsTomls(v2);
    it("writes one file per registry with mirrors or marked insecure", () => {
        assert.deepStrictEqual(Object.keys(hosts), ["10.10.10.250", "docker.io", "k8s.gcr.io"]);
        for (const h of Object.keys(hosts)) {
            assert.strictEqual(hosts[h], fixture(`hosts-${h}.toml`), h);
        }
    });
    it("docker.io's upstream is registry-1.docker.io; mirrors pull and resolve", () => {
        const doc = TOML.parse(hosts["docker.io"]) as any;
        assert.strictEqual(doc.server, "https://registry-1.docker.io");
        assert.deepStrictEqual(doc.host["https://bqr1dr1n.mirror.aliyuncs.com"].capabilities, ["pull", "resolve"]);
    });
    it("an insecure registry is tried over https without verification, then http", () => {
        const doc = TOML.parse(hosts["10.10.10.250"]) as any;
        assert.deepStrictEqual(Object.keys(doc.host), ["https://10.10.10.250", "http://10.10.10.250"]);
        assert.strictEqual(doc.host["https://10.10.10.250"].skip_verify, true);
    });
    it("puts a host's TLS files on each of its endpoints: its own server at the top level, a mirror's entry", () => {
        const s = resolveSpec(baseArgs({ containerd: { version: "2.3.7", source: { kind: "package" } }, config: {
            registryMirrors: { "docker.io": ["https://mirror.corp"] },
            registryTls: {
                "registry.corp:5000": { caFile: "/etc/pki/corp-ca.pem", certFile: "/etc/pki/node.crt", keyFile: "/etc/pki/node.key" },
                "mirror.corp": { caFile: "/etc/pki/corp-ca.pem" },
                "registry-1.docker.io": { caFile: "/etc/pki/proxy-ca.pem" },
            },
        } }));
        const h = renderHostsTomls(s);
        assert.deepStrictEqual(Object.keys(h), ["docker.io", "mirror.corp", "registry.corp:5000"]);
        assert.deepStrictEqual(TOML.parse(h["registry.corp:5000"]), {
            server: "https://registry.corp:5000", ca: "/etc/pki/corp-ca.pem", client: [["/etc/pki/node.crt", "/etc/pki/node.key"]],
        });
        assert.deepStrictEqual(TOML.parse(h["docker.io"]), {
            server: "https://registry-1.docker.io", ca: "/etc/pki/proxy-ca.pem",
            host: { "https://mirror.corp": { capabilities: ["pull", "resolve"], ca: "/etc/pki/corp-ca.pem" } },
        });
        assert.deepStrictEqual(TOML.parse(h["mirror.corp"]), { server: "https://mirror.corp", ca: "/etc/pki/corp-ca.pem" });
    });
    it("writes nothing without mirrors", () => {
        assert.deepStrictEqual(renderHostsTomls(resolveSpec(baseArgs())), {});
    });
});

describe("containerd.service", () => {
    it("matches the fixture for a tarball install", () => {
        assert.strictEqual(renderUnit(v2), fixture("containerd-tarball.service"));
    });
    it("always has Delegate=yes and KillMode=process, and takes the limits", () => {
        const s = resolveSpec(baseArgs({ containerd: { version: "1.6", source: { kind: "docker" } }, unit: { limitNOFILE: "1048576", tasksMax: "8192", oomScoreAdjust: -500 } }));
        const u = renderUnit(s);
        for (const line of ["Delegate=yes", "KillMode=process", "Restart=always", "ExecStartPre=-/sbin/modprobe overlay",
            "LimitNOFILE=1048576", "TasksMax=8192", "OOMScoreAdjust=-500", "ExecStart=/usr/bin/containerd --config /etc/containerd/config.toml"]) {
            assert.ok(u.split("\n").includes(line), `missing ${line}`);
        }
    });
});

describe("crictl.yaml", () => {
    it("points crictl at containerd", () => {
        assert.strictEqual(renderCrictlYaml(v2), fixture("crictl.yaml"));
        assert.match(renderCrictlYaml(v2), /^runtime-endpoint: unix:\/\/\/run\/containerd\/containerd\.sock$/m);
    });
});
