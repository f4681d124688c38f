import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ContainerdNodeArgs } from "../../components/args";
import { NodeFacts } from "../../components/facts";
import { resolveSpec } from "../../components/spec";
import { CRI, CRI_IMAGES } from "../../components/toml/schema3";
import { carryReport, isOwnServer } from "../../components/upgrade/carry";
import { deprecationFindings } from "../../components/upgrade/deprecations";
import { readLiveConfig } from "../../components/upgrade/liveConfig";
import { carrierText } from "../../components/upgrade/messages";
import { planNode } from "../../components/preflight/plan";
import { parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";

// Advice a person can follow: no mirror list that names only the registry itself, no warning
// left once its input is declared, and the catch of a setting said with it.
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const MAIN = "/etc/containerd/config.toml";
const cri = (k: string) => `plugins."${CRI}".${k}`;
const MIRRORS = cri(`registry.mirrors."docker.io"`);

function spec(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        ...over,
    }));
}
function node(text: string, ctr?: object[]): NodeFacts {
    return {
        runtime: "containerd://1.7.35",
        upgrade: {
            configPath: MAIN, configSource: "unit", pid: 100, main: { path: MAIN, text }, files: [], dropIns: {}, notes: [],
            containerdVersion: ver("1.7.35"), libc: "glibc 2.36", cgroupFs: "cgroup2fs",
            kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" },
            ...(ctr ? { ctrBinary: "/usr/bin/ctr", ctrDeprecations: { exitCode: 0, timedOut: false, stdout: JSON.stringify(ctr), stderr: "" } } : {}),
        },
    };
}
const karpenter = fixture("config-karpenter-oci.toml");

describe("upgrade advice: a docker.io mirror list naming docker.io itself", () => {
    it("registry-1.docker.io and its index.docker.io alias are docker.io's own server, not mirrors", () => {
        for (const e of ["https://registry-1.docker.io", "https://registry-1.docker.io/", "https://index.docker.io"]) {
            assert.ok(isOwnServer("docker.io", e), e);
        }
        assert.ok(!isOwnServer("docker.io", "https://mirror.gcr.io"));
        assert.ok(!isOwnServer("quay.io", "https://index.docker.io"));
    });
    for (const server of ["https://registry-1.docker.io", "https://index.docker.io"]) {
        it(`[${server}] is carried as nothing: no input to set (registryMirrors refuses an empty list), no deprecation warning`, () => {
            const text = karpenter.replace("https://registry-1.docker.io", server);
            const r = carryReport(readLiveConfig({ path: MAIN, text }, {}, ver("1.7.35")), spec("2.3.7"));
            assert.ok(r.carried.includes(`${MIRRORS}.endpoint`), JSON.stringify(r.dropped.map(d => d.key)));
            const p = planNode("oci-1", node(text), spec("2.3.7"));
            assert.ok(![...p.refused, ...p.warnings].some(l => l.includes("mirrors")), [...p.refused, ...p.warnings].join("\n"));
        });
    }
});

describe("upgrade advice: a warning goes once its input is declared", () => {
    const installer = fixture("config-1.7-installer.toml");
    it("the registry.mirrors deprecation warning goes once config.registryMirrors carries the mirror", () => {
        const warned = planNode("n1", node(installer), spec("2.3.7"));
        assert.ok(warned.warnings.some(w => w.includes(`registry.mirrors for "docker.io"`)), warned.warnings.join("\n"));
        const declared = planNode("n1", node(installer), spec("2.3.7", { config: { registryMirrors: { "docker.io": ["https://mirror.gcr.io"] } } }));
        assert.ok(!declared.warnings.some(w => w.includes(`registry.mirrors for "docker.io"`)), declared.warnings.join("\n"));
        assert.ok(declared.warnings.some(w => w.includes(`registry.mirrors for "registry.internal:5000"`)), "the other registry's still warns");
    });
    it("a warning acknowledged by its id is said once among the plan's lines, not as a warning", () => {
        const ctr = [{ id: "io.containerd.deprecation/pull-schema-1-image", message: "Schema 1 images are deprecated", lastOccurrence: "2026-11-29T10:00:00Z" }];
        assert.ok(planNode("n1", node(karpenter, ctr), spec("2.3.7")).warnings.some(w => w.includes("pull-schema-1-image")));
        const acked = planNode("n1", node(karpenter, ctr), spec("2.3.7", { upgrade: { acknowledgeDropped: ["io.containerd.deprecation/pull-schema-1-image"] } }));
        assert.ok(!acked.warnings.some(w => w.includes("pull-schema-1-image")), acked.warnings.join("\n"));
        assert.ok(acked.lines.some(l => l.includes("pull-schema-1-image") && l.endsWith("(acknowledged)")));
    });
    it("deprecationFindings settles a registry table only when every setting under it is carried", () => {
        const live = readLiveConfig({ path: MAIN, text: installer }, {}, ver("1.7.35"));
        const f = (carried: string[]) => deprecationFindings(live, [], ver("2.3.7"), [], new Set(carried)).find(x => x.key === MIRRORS)?.status;
        assert.strictEqual(f([]), "warning");
        assert.strictEqual(f([`${MIRRORS}.endpoint`]), "settled");
    });
});

describe("upgrade advice: discard_unpacked_layers on 2.1+", () => {
    const eks = fixture("config-eks-al2.toml");
    const key = cri("containerd.discard_unpacked_layers");
    it("the EKS root's discard_unpacked_layers = true is advised with its catch: the transfer service can't, pulls fall back to local", () => {
        const r = carryReport(readLiveConfig({ path: MAIN, text: eks }, {}, ver("1.7.35")), spec("2.3.7"));
        const d = r.dropped.find(x => x.key === key)!;
        assert.strictEqual(carrierText(d.carrier), `config.extraToml with plugins."${CRI_IMAGES}".discard_unpacked_layers = true ` +
            "(but the transfer service can't discard unpacked layers: containerd 2.3.7 then pulls without the transfer service (it falls back to local pulls, use_local_image_pull, and logs a warning))");
    });
    it("2.0 pulls locally anyway: no catch to say", () => {
        const r = carryReport(readLiveConfig({ path: MAIN, text: eks }, {}, ver("1.7.35")), spec("2.0.6"));
        assert.deepStrictEqual(r.dropped.find(x => x.key === key)?.carrier, { kind: "extraToml", path: ["plugins", CRI_IMAGES, "discard_unpacked_layers"], shown: "true" });
    });
    it("max_concurrent_downloads other than 3 names the transfer service's own setting", () => {
        const text = `version = 2\n[plugins."${CRI}"]\nmax_concurrent_downloads = 10\n`;
        const d = carryReport(readLiveConfig({ path: MAIN, text }, {}, ver("1.7.35")), spec("2.3.7")).dropped[0];
        assert.match(carrierText(d.carrier), /plugins\."io\.containerd\.transfer\.v1\.local"\.max_concurrent_downloads instead/);
    });
});
