import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { ContainerdNodeArgs } from "../../components/args";
import { renderConfigToml } from "../../components/render/configToml";
import { renderRegistryAuthToml } from "../../components/render/registryAuth";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { CRI_IMAGES } from "../../components/toml/schema3";
import { SERVER_GRPC, toSchema4 } from "../../components/toml/schema4";
import { carryReport } from "../../components/upgrade/carry";
import { readLiveConfig } from "../../components/upgrade/liveConfig";
import { configSchemaVersion, parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";

// Config version 4 for 2.3+ (as kubespray and AKS render it), 3 for 2.0–2.2: version 4 moves the
// servers' top-level settings into server plugins (cmd/containerd/server/config, serviceMigrate).
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const MAIN = "/etc/containerd/config.toml";
function spec(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        ...over,
    }));
}

describe("config version 4 for containerd 2.3+", () => {
    it("the rendered version: 2 for 1.x, 3 for 2.0–2.2, 4 from 2.3", () => {
        assert.deepStrictEqual(["1.7.35", "2.0.6", "2.2.9", "2.3.0", "2.3.7", "2.4.0"].map(v => configSchemaVersion(ver(v))), [2, 3, 3, 4, 4, 4]);
    });
    it("a 2.3 file holds the socket in the gRPC server plugin, no top-level [grpc]; CRI as in version 3", () => {
        const doc = TOML.parse(renderConfigToml(spec("2.3.7"))) as any;
        assert.strictEqual(doc.version, 4);
        assert.strictEqual(doc.grpc, undefined, "a version 4 file's top-level grpc is ignored");
        assert.deepStrictEqual(doc.plugins[SERVER_GRPC], { address: "/run/containerd/containerd.sock" });
        assert.strictEqual(doc.plugins[CRI_IMAGES].pinned_images.sandbox, "registry.k8s.io/pause:3.10");
        const v3 = TOML.parse(renderConfigToml(spec("2.2.9"))) as any;
        assert.strictEqual(v3.version, 3);
        assert.deepStrictEqual(v3.grpc, { address: "/run/containerd/containerd.sock" });
        assert.strictEqual(v3.plugins[SERVER_GRPC], undefined);
    });
    it("the credentials file declares the root's version", () => {
        const s = spec("2.3.7", { config: { registryAuth: { "r.example.com": { username: "u", password: "p" } } } });
        const doc = TOML.parse(renderRegistryAuthToml(s, { "r.example.com": { username: "u", password: "p" } })) as any;
        assert.strictEqual(doc.version, 4);
        assert.ok(doc.plugins[CRI_IMAGES].registry.configs["r.example.com"].auth);
    });
    it("maps the servers' settings as serviceMigrate does; debug.level stays", () => {
        const t = (...p: string[]) => toSchema4(p).join(" ");
        assert.strictEqual(t("grpc", "address"), `plugins ${SERVER_GRPC} address`);
        assert.strictEqual(t("grpc", "tcp_address"), "plugins io.containerd.server.v1.grpc-tcp address");
        assert.strictEqual(t("grpc", "tcp_tls_cert"), "plugins io.containerd.server.v1.grpc-tcp tls_cert");
        assert.strictEqual(t("ttrpc", "uid"), "plugins io.containerd.server.v1.ttrpc uid");
        assert.strictEqual(t("debug", "address"), "plugins io.containerd.server.v1.debug address");
        assert.strictEqual(t("metrics", "address"), "plugins io.containerd.server.v1.metrics address");
        assert.strictEqual(t("metrics", "grpc_histogram"), "plugins io.containerd.metrics.v1.grpc-prometheus grpc_histogram");
        assert.strictEqual(t("debug", "level"), "debug level");
        assert.strictEqual(t("plugins", "x", "y"), "plugins x y");
    });
    it("a 1.7 config's [grpc] address is carried by the server plugin; [metrics] is advised at its version 4 place", () => {
        const live = readLiveConfig({ path: MAIN, text: fixture("config-karpenter-oci.toml").replace("[grpc]", `[grpc]\n  address = "/run/containerd/containerd.sock"`) }, {}, ver("1.7.35"));
        const r = carryReport(live, spec("2.3.7"));
        assert.ok(r.carried.includes("grpc.address"));
        assert.ok(r.defaults.includes("grpc.max_recv_message_size"));
        const at = (k: string) => r.dropped.find(d => d.key === k)?.carrier;
        assert.deepStrictEqual(at("metrics.address"), { kind: "extraToml", path: ["plugins", "io.containerd.server.v1.metrics", "address"], shown: `"127.0.0.1:1338"` });
        assert.deepStrictEqual(at("metrics.grpc_histogram"), { kind: "extraToml", path: ["plugins", "io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram"], shown: "true" });
        assert.deepStrictEqual(carryReport(live, spec("2.2.9")).dropped.find(d => d.key === "metrics.address")?.carrier,
            { kind: "extraToml", path: ["metrics", "address"], shown: `"127.0.0.1:1338"` }, "2.2 reads it at the top level");
    });
    it("config.extraToml: top-level server settings are refused for 2.3 (ignored there), naming where they go; version is the package's", () => {
        const field = (version: string, extraToml: { [k: string]: any }) => {
            try {
                spec(version, { config: { extraToml } });
            } catch (e) {
                return e instanceof InvalidArgumentError ? e.message : String(e);
            }
            return undefined;
        };
        assert.match(field("2.3.7", { metrics: { address: "127.0.0.1:1338" } }) ?? "",
            /invalid config\.extraToml\.metrics\.address: .*set plugins\."io\.containerd\.server\.v1\.metrics"\.address/);
        assert.strictEqual(field("2.2.9", { metrics: { address: "127.0.0.1:1338" } }), undefined);
        assert.strictEqual(field("2.3.7", { debug: { level: "info" } }), undefined, "debug.level stays top-level");
        assert.match(field("2.3.7", { version: 3 }) ?? "", /invalid config\.extraToml\.version/);
    });
    it("reads a live version 4 file on 2.3, ignoring top-level server settings as 2.3 does", () => {
        const text = `version = 4\n[grpc]\naddress = "/x.sock"\n[plugins."${SERVER_GRPC}"]\naddress = "/run/containerd/containerd.sock"\n`;
        const live = readLiveConfig({ path: MAIN, text }, {}, ver("2.3.6"));
        assert.deepStrictEqual(live.settings.map(s => s.key), [`plugins."${SERVER_GRPC}".address`]);
        assert.ok(live.notes.some(n => n.includes("grpc.address") && n.includes("ignored")));
        assert.throws(() => readLiveConfig({ path: MAIN, text }, {}, ver("2.2.9")), /config version 4 is not read by this pre-flight on containerd 2\.2\.9/);
    });
});
