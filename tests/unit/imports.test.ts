import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { ContainerdNodeArgs } from "../../components/args";
import { NodeFacts } from "../../components/facts";
import { upgradeFactsScript } from "../../components/scripts/upgradeFacts";
import { parseUpgradeFacts } from "../../components/upgrade/facts";
import { renderConfigToml, renderedImports } from "../../components/render/configToml";
import { REGISTRY_AUTH_FILE } from "../../components/render/registryAuth";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { CRI } from "../../components/toml/schema3";
import { carryReport } from "../../components/upgrade/carry";
import { dropInVerdict, importsReport } from "../../components/upgrade/imports";
import { readLiveConfig } from "../../components/upgrade/liveConfig";
import { planNode } from "../../components/preflight/plan";
import { parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const MAIN = "/etc/containerd/config.toml";
const GLOB = "/etc/containerd/config.d/*.toml";
const NVIDIA = "/etc/containerd/config.d/99-nvidia.toml";
const cri = (k: string) => `plugins."${CRI}".${k}`;

function spec(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        ...over,
    }));
}
const keeping = (version: string, over: Partial<ContainerdNodeArgs> = {}) => spec(version, { config: { imports: [GLOB] }, ...over });

/** A containerd node running `running` with the EKS root config and these drop-ins. */
function eksNode(running: string, dropIns: { [path: string]: string } = {}): NodeFacts {
    return {
        runtime: `containerd://${running}`,
        upgrade: {
            configPath: MAIN, configSource: "unit", pid: 100, main: { path: MAIN, text: fixture("config-eks-al2.toml") },
            files: [], dropIns, notes: [], containerdVersion: ver(running), libc: "glibc 2.36", cgroupFs: "cgroup2fs",
            kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" },
        },
    };
}
const live = (running: string, dropIns: { [path: string]: string } = {}) =>
    readLiveConfig({ path: MAIN, text: fixture("config-eks-al2.toml") }, dropIns, ver(running));

describe("upgrade: the live config's imports", () => {
    it("a root config's imports glob the rendered file would not list refuses the run, naming it and the input", () => {
        const p = planNode("gpu-1", eksNode("1.7.35", { [NVIDIA]: fixture("99-nvidia-v2.toml") }), spec("2.3.7"));
        const line = p.refused.find(l => l.includes("imports"));
        assert.strictEqual(line, `gpu-1: imports "${GLOB}" (holding ${NVIDIA}) would no longer be imported: set config.imports including "${GLOB}", or list imports in upgrade.acknowledgeDropped`);
        const empty = planNode("eks-1", eksNode("1.7.35"), spec("2.3.7"));
        assert.ok(empty.refused.some(l => l.startsWith(`eks-1: imports "${GLOB}" (matching no file now) would no longer be imported`)),
            "a directory a GPU toolkit fills later is kept too: " + empty.refused.join("\n"));
    });
    it("config.imports keeps it: the rendered config imports the directory, before the credentials file", () => {
        const s = keeping("2.3.7", { config: { imports: [GLOB], registryAuth: { "r.example.com": { username: "u", password: "p" } } } });
        const doc = TOML.parse(renderConfigToml(s));
        assert.deepStrictEqual(doc.imports, [GLOB, REGISTRY_AUTH_FILE]);
        const p = planNode("eks-1", eksNode("1.7.35"), keeping("2.3.7"));
        assert.ok(!p.refused.some(l => l.includes("imports")), p.refused.join("\n"));
        assert.ok(p.lines.includes(`eks-1: imports "${GLOB}" (matching no file now) kept: config.imports lists it`), p.lines.join("\n"));
    });
    it("the pre-flight's rendered imports and version are the rendered file's own", () => {
        for (const [v, over] of [["1.7.35", {}], ["2.2.9", { config: { imports: [GLOB] } }], ["2.3.7", { config: { imports: [GLOB], registryAuth: { "r.example.com": { username: "u", password: "p" } } } }],
            ["2.3.7", { config: { registryAuth: { "r.example.com": { username: "u", password: "p" } } } }]] as [string, Partial<ContainerdNodeArgs>][]) {
            const s = spec(v, over);
            const doc = TOML.parse(renderConfigToml(s));
            assert.deepStrictEqual(doc.imports ?? [], renderedImports(s.config), v);
            assert.strictEqual(doc.version, s.config.schema, v);
        }
    });
    it("acknowledging `imports` drops it on purpose", () => {
        const r = importsReport(live("1.7.35"), spec("2.3.7", { upgrade: { acknowledgeDropped: ["imports"] } }));
        assert.deepStrictEqual(r.imports.map(i => [i.entry, i.status]), [[GLOB, "acknowledged"]]);
    });
    it("config.imports takes absolute paths and globs, once each; extraToml may not set imports", () => {
        assert.deepStrictEqual(spec("2.3.7", { config: { imports: ["/etc/containerd/conf.d//*.toml", "/etc/x/../y.toml"] } }).config.imports,
            ["/etc/containerd/conf.d/*.toml", "/etc/y.toml"]);
        const field = (over: ContainerdNodeArgs["config"]) => {
            try {
                spec("2.3.7", { config: over });
            } catch (e) {
                return e instanceof InvalidArgumentError ? e.field : String(e);
            }
            return undefined;
        };
        assert.strictEqual(field({ imports: ["conf.d/*.toml"] }), "config.imports[0]");
        assert.strictEqual(field({ imports: [GLOB, GLOB] }), "config.imports[1]");
        assert.strictEqual(field({ extraToml: { imports: [GLOB] } }), "config.extraToml.imports");
    });
});

describe("upgrade: drop-in versions", () => {
    it("a version 2 drop-in (nvidia-ctk's) under the rendered root (version 4 for 2.3, 3 for 2.2) is kept, its settings carried by the import", () => {
        const dropIns = { [NVIDIA]: fixture("99-nvidia-v2.toml") };
        const r = importsReport(live("1.7.35", dropIns), keeping("2.3.7"));
        assert.deepStrictEqual(r.dropIns.map(d => [d.file, d.version, d.status]), [[NVIDIA, 2, "kept"]]);
        const carry = carryReport(live("1.7.35", dropIns), keeping("2.3.7"));
        for (const k of ["runtime_type", "options.BinaryName"]) {
            assert.ok(carry.imported.includes(cri(`containerd.runtimes.nvidia.${k}`)), k);
        }
        assert.ok(!carry.dropped.some(d => d.file === NVIDIA), JSON.stringify(carry.dropped));
        const p = planNode("gpu-1", eksNode("1.7.35", dropIns), keeping("2.3.7"));
        assert.ok(p.lines.includes(`gpu-1: drop-in ${NVIDIA} kept: version 2 under the rendered version 4 root: containerd 2.3.7 migrates it in memory at every start`), p.lines.join("\n"));
        const on22 = planNode("gpu-1", eksNode("1.7.35", dropIns), keeping("2.2.9"));
        assert.ok(on22.lines.includes(`gpu-1: drop-in ${NVIDIA} kept: version 2 under the rendered version 3 root: containerd 2.2.9 migrates it in memory at every start`), on22.lines.join("\n"));
        assert.match(p.lines.join("\n"), /settings carried \(\d+ by the drop-ins it imports\)/);
    });
    it("without the import, the drop-in's settings are each reported too", () => {
        const carry = carryReport(live("1.7.35", { [NVIDIA]: fixture("99-nvidia-v2.toml") }), spec("2.3.7"));
        assert.ok(carry.dropped.some(d => d.key === cri("containerd.runtimes.nvidia.options.BinaryName") && d.file === NVIDIA));
    });
    it("a version 4 drop-in (written from 2.3's config dump) is kept under 2.3's version 4 root, refused where containerd would not start, naming node, file, version and what to do", () => {
        const dropIns = { [NVIDIA]: fixture("99-nvidia-v4.toml") };
        const l = live("1.7.35", dropIns);
        assert.ok(l.notes.some(n => n.includes(`${NVIDIA} declares version 4`)), "1.7 never read it: no live setting");
        assert.deepStrictEqual(importsReport(l, keeping("2.3.7")).dropIns.map(d => [d.version, d.root, d.status]), [[4, 4, "kept"]]);
        const p = planNode("gpu-1", eksNode("1.7.35", dropIns), keeping("2.2.7"));
        assert.ok(p.refused.includes(`gpu-1: drop-in ${NVIDIA} declares version 4, the rendered root version 3: containerd 2.2.7 reads version 3 at most and exits ("expected containerd config version equal to or less than \`3\`, got \`4\`"): rewrite 99-nvidia.toml at version 3 or lower, or leave it out of config.imports`),
            p.refused.join("\n"));
    });
    it("a drop-in newer than the root: 2.3.0–2.3.4 exit, 2.3.5+ load it, earlier 2.x lose the root's migrated settings (containerd#12891)", () => {
        const on23 = dropInVerdict(NVIDIA, 4, 3, ver("2.3.2"));
        assert.strictEqual(on23.status, "refused");
        assert.match(on23.detail, /containerd 2\.3\.0–2\.3\.4 exit on a drop-in newer than their root \("drop-in config version 4 higher than root config version 3"/);
        assert.strictEqual(dropInVerdict(NVIDIA, 4, 3, ver("2.3.6")).status, "kept", "the check is gone from 2.3.5 on (checked with 2.3.6)");
        const on21 = dropInVerdict(NVIDIA, 3, 2, ver("2.1.5"));
        assert.strictEqual(on21.status, "refused");
        assert.match(on21.detail, /containerd#12891/);
        assert.strictEqual(dropInVerdict(NVIDIA, 0, 3, ver("2.3.7")).status, "kept", "no version: migrated from version 1");
        assert.strictEqual(dropInVerdict(NVIDIA, 3, 3, ver("2.3.7")).detail, "version 3, as the rendered root");
        assert.strictEqual(dropInVerdict(NVIDIA, 0, 2, ver("1.7.35")).detail, "no version: containerd 1.7.35 reads it as version 2, the root's (full plugin names only)");
    });
    it("a version 3 drop-in where the target is containerd 1.x: refused (1.7.17+ exits)", () => {
        const v3 = fixture("99-nvidia-v4.toml").replace("version = 4", "version = 3");
        const r = importsReport(live("1.7.20", { [NVIDIA]: v3 }), keeping("1.7.35"));
        assert.deepStrictEqual(r.dropIns.map(d => [d.version, d.status]), [[3, "refused"]]);
        assert.match(r.dropIns[0].detail, /reads version 2 at most: 1\.6\.32\+ and 1\.7\.17\+ exit/);
    });
});

describe("upgrade: drop-ins as the node-side reader finds them", () => {
    it("the reader (bash, run on a fake node tree) reads the glob's drop-ins with their text; the plan judges each", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-imports-"));
        const root = path.join(dir, "root"), bin = path.join(dir, "bin");
        const put = (p: string, text: string, mode = 0o644) => {
            fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
            fs.writeFileSync(path.join(root, p), text, { mode });
        };
        put(MAIN, fixture("config-eks-al2.toml"));
        put(NVIDIA, fixture("99-nvidia-v4.toml"));
        put("/etc/containerd/config.d/README", "not matched by *.toml\n");
        put("/usr/bin/containerd", "#!/bin/sh\necho 'containerd github.com/containerd/containerd v1.7.35 0b3b6a3'\n", 0o755);
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "systemctl"), "#!/bin/sh\necho \"$3=\"\n", { mode: 0o755 });
        try {
            const r = spawnSync("bash", ["-c", upgradeFactsScript()], { encoding: "utf8", env: { ...process.env, CN_ROOT: root, PATH: `${bin}:${process.env.PATH}` } });
            assert.strictEqual(r.status, 0, r.stderr);
            const u = parseUpgradeFacts(r.stdout);
            assert.deepStrictEqual(u.files.map(f => [f.path, f.importedBy ?? "", f.status]), [[MAIN, "", "present"], [NVIDIA, MAIN, "present"]]);
            assert.strictEqual(u.dropIns[NVIDIA], fixture("99-nvidia-v4.toml"));
            const node: NodeFacts = { runtime: "containerd://1.7.35", upgrade: u };
            const p = planNode("gpu-1", node, keeping("2.2.9"));
            assert.ok(p.refused.some(l => l.startsWith(`gpu-1: drop-in ${NVIDIA} declares version 4, the rendered root version 3`)), p.refused.join("\n"));
            assert.ok(planNode("gpu-1", node, keeping("2.3.7")).lines.includes(`gpu-1: drop-in ${NVIDIA} kept: version 4, as the rendered root`));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
