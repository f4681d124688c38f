import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { cgroupVerdicts, glibcVerdict, kubeletVerdict, parseCgroupFs, parseLibc } from "../../components/upgrade/compat";
import { drainDecision } from "../../components/upgrade/drain";
import { formatKey, leaves, parseKey } from "../../components/upgrade/keys";
import { LiveConfig, readLiveConfig } from "../../components/upgrade/liveConfig";
import { CRI, CRI_IMAGES, CRI_RUNTIME, toSchema3 } from "../../components/upgrade/schema3";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const MAIN = "/etc/containerd/config.toml";
const DROP_IN = "/etc/containerd/conf.d/50-local.toml";

const live17 = (text: string, dropIns: { [p: string]: string } = {}, running = "1.7.35") => readLiveConfig({ path: MAIN, text }, dropIns, ver(running));
const installer = () => live17(fixture("config-1.7-installer.toml"), { [DROP_IN]: fixture("50-local.toml") });
const value = (live: LiveConfig, key: string) => live.settings.find(s => s.key === key)?.value;
const cri = (k: string) => `plugins."${CRI}".${k}`;

describe("upgrade: dotted keys", () => {
    it("formats bare and quoted segments and parses them back, quotes of either kind and blanks included", () => {
        const p = ["plugins", CRI, "registry", "mirrors", "docker.io", "endpoint"];
        assert.strictEqual(formatKey(p), `plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io".endpoint`);
        assert.deepStrictEqual(parseKey(formatKey(p)), p);
        assert.deepStrictEqual(parseKey(`plugins . 'io.containerd.grpc.v1.cri'.registry`), ["plugins", CRI, "registry"]);
        for (const bad of ["a..b", `a."b`, "a b", "", "a.", "*"]) {
            assert.strictEqual(parseKey(bad), undefined, bad);
        }
    });
    it("a document's leaves: empty tables hold no setting", () => {
        assert.deepStrictEqual(leaves({ a: {}, b: { c: 1, d: [{ e: 2 }] } }), [{ path: ["b", "c"], value: 1 }, { path: ["b", "d"], value: [{ e: 2 }] }]);
    });
});

describe("upgrade: reading the live config", () => {
    it("merges an installer's 1.7 config and its drop-in the way 1.7 does", () => {
        const live = installer();
        assert.strictEqual(live.schema, 2);
        assert.deepStrictEqual(live.files, [MAIN, DROP_IN]);
        assert.strictEqual(value(live, "debug.level"), "info", "a later file's non-zero value wins");
        assert.strictEqual(value(live, "oom_score"), -999, "a drop-in's oom_score = 0 changes nothing");
        assert.strictEqual(value(live, "grpc.uid"), undefined, "a zero value of containerd's own settings is no setting");
        assert.strictEqual(value(live, `plugins."io.containerd.gc.v1.scheduler".pause_threshold`), 0.05);
        assert.strictEqual(live.settings.find(s => s.key === "debug.level")?.file, DROP_IN);
        assert.deepStrictEqual(value(live, cri(`registry.mirrors."docker.io".endpoint`)), ["https://mirror.gcr.io", "https://registry-1.docker.io"]);
    });
    it("1.x replaces a plugin's whole table with a drop-in's; 2.x merges them key by key", () => {
        const main = `version = 2\nimports = ["conf.d/*.toml"]\n[plugins."${CRI}"]\nsandbox_image = "p:1"\n[plugins."${CRI}".registry]\nconfig_path = "/a"\n`;
        const dropIn = { "/etc/containerd/conf.d/r.toml": `[plugins."${CRI}".registry]\nconfig_path = "/b"\n` };
        const on17 = live17(main, dropIn);
        assert.strictEqual(value(on17, cri("registry.config_path")), "/b");
        assert.strictEqual(value(on17, cri("sandbox_image")), undefined, "1.7 lost the main file's CRI keys (containerd#5837)");
        const emptied = live17(main, { "/etc/containerd/conf.d/r.toml": `[plugins."${CRI}"]\n` });
        assert.deepStrictEqual(emptied.settings.map(x => x.key), ["imports"], "an empty table replaces too");
        const v3 = (t: string) => t.replace("version = 2", "version = 3").split(CRI).join(CRI_IMAGES);
        const on22 = readLiveConfig({ path: MAIN, text: v3(main) }, { "/etc/containerd/conf.d/r.toml": v3(dropIn["/etc/containerd/conf.d/r.toml"]) }, ver("2.2.7"));
        assert.strictEqual(value(on22, `plugins."${CRI_IMAGES}".registry.config_path`), "/b");
        assert.strictEqual(value(on22, `plugins."${CRI_IMAGES}".sandbox_image`), "p:1", "2.x keeps the other keys");
    });
    it("appends lists (2.x without duplicates) and replaces timeouts entry by entry", () => {
        const main = `version = 2\nimports = ["/d/x.toml"]\ndisabled_plugins = ["a"]\n[timeouts]\n"t.one" = "1s"\n"t.two" = "2s"\n`;
        const dropIns = { "/d/x.toml": `disabled_plugins = ["a", "b"]\n[timeouts]\n"t.two" = "9s"\n` };
        assert.deepStrictEqual(value(live17(main, dropIns), "disabled_plugins"), ["a", "a", "b"]);
        assert.deepStrictEqual(value(live17(main.replace("version = 2", "version = 3"), dropIns, "2.1.4"), "disabled_plugins"), ["a", "b"]);
        const t = live17(main, dropIns);
        assert.strictEqual(value(t, `timeouts."t.one"`), "1s");
        assert.strictEqual(value(t, `timeouts."t.two"`), "9s");
    });
    it("loads imports in containerd's order: globs sorted, relative to the importing file, each file once", () => {
        const main = `version = 2\nimports = ["conf.d/*.toml", "/etc/other.toml"]\n`;
        const dropIns = {
            "/etc/containerd/conf.d/20-b.toml": `imports = ["../config.toml"]\n[debug]\nlevel = "b"\n`,
            "/etc/containerd/conf.d/10-a.toml": `[debug]\nlevel = "a"\n`,
            "/etc/containerd/conf.d/sub/30-c.toml": `[debug]\nlevel = "not matched: * stops at /"\n`,
            "/etc/other.toml": `[debug]\nformat = "json"\n`,
        };
        const live = live17(main, dropIns);
        assert.deepStrictEqual(live.files, [MAIN, "/etc/containerd/conf.d/10-a.toml", "/etc/containerd/conf.d/20-b.toml", "/etc/other.toml"]);
        assert.strictEqual(value(live, "debug.level"), "b");
        assert.throws(() => live17(`imports = ["/etc/missing.toml"]\n`), /\/etc\/missing\.toml is imported but was not read/);
    });
    it("reads a file without a version as 1.x does (short plugin names) and says so", () => {
        const live = live17(`[plugins.cri]\nsandbox_image = "p:1"\n[plugins.cri.containerd]\nsnapshotter = "native"\n`);
        const s = live.settings.find(x => x.key === "plugins.cri.sandbox_image");
        assert.deepStrictEqual(s?.path, ["plugins", CRI, "sandbox_image"]);
        assert.strictEqual(live.version, 0);
        assert.match(live.notes.join("\n"), /has no version: containerd reads it as version 1 .*read here as version 2/);
    });
    it("on 2.x migrates a version 2 file as 2.x does, leaving out what 2.x ignores", () => {
        const live = readLiveConfig({ path: MAIN, text: `version = 2\n[plugins."${CRI}"]\nsandbox_image = "p:1"\nsystemd_cgroup = true\n` }, {}, ver("2.1.4"));
        assert.strictEqual(live.schema, 3);
        assert.strictEqual(value(live, cri("sandbox_image")), "p:1");
        assert.deepStrictEqual(live.settings[0].path, ["plugins", CRI_IMAGES, "pinned_images", "sandbox"]);
        assert.strictEqual(value(live, cri("systemd_cgroup")), undefined);
        assert.match(live.notes.join("\n"), /systemd_cgroup.*is ignored by containerd 2\.1\.4/);
    });
    it("refuses what the running version can't have read, and bad TOML, naming the file", () => {
        assert.throws(() => live17("version = 3\n"), /config version 3 is not read by this pre-flight on containerd 1\.7\.35/);
        assert.throws(() => live17("version = 2\n[plugins\n"), /\/etc\/containerd\/config\.toml: not valid TOML/);
    });
});

describe("upgrade: schema 2 → 3 paths", () => {
    const t = (p: string, v = "2.3.7") => toSchema3(parseKey(p) as string[], ver(v));
    it("moves CRI keys to the images, runtime or server plugin as 2.x's migration does", () => {
        assert.deepStrictEqual(t(cri("sandbox_image")), { kind: "moved", path: ["plugins", CRI_IMAGES, "pinned_images", "sandbox"] });
        assert.deepStrictEqual(t(cri(`registry.mirrors."docker.io".endpoint`)), { kind: "moved", path: ["plugins", CRI_IMAGES, "registry", "mirrors", "docker.io", "endpoint"] });
        assert.deepStrictEqual(t(cri("containerd.snapshotter")), { kind: "moved", path: ["plugins", CRI_IMAGES, "snapshotter"] });
        assert.deepStrictEqual(t(cri("stream_server_port")), { kind: "moved", path: ["plugins", CRI, "stream_server_port"] });
        assert.deepStrictEqual(t(cri("max_container_log_line_size")), { kind: "moved", path: ["plugins", CRI_RUNTIME, "max_container_log_line_size"] });
        assert.deepStrictEqual(t(cri("containerd.runtimes.kata.sandbox_mode")), { kind: "moved", path: ["plugins", CRI_RUNTIME, "containerd", "runtimes", "kata", "sandboxer"] });
        assert.deepStrictEqual(t("oom_score"), { kind: "moved", path: ["oom_score"] });
    });
    it("cni.bin_dir becomes bin_dirs from 2.1, as rendered", () => {
        assert.deepStrictEqual(t(cri("cni.bin_dir")), { kind: "moved", path: ["plugins", CRI_RUNTIME, "cni", "bin_dirs"], asList: true });
        assert.deepStrictEqual(t(cri("cni.bin_dir"), "2.0.6"), { kind: "moved", path: ["plugins", CRI_RUNTIME, "cni", "bin_dir"] });
    });
    it("knows what 2.0 removed", () => {
        for (const k of [cri("systemd_cgroup"), cri("containerd.default_runtime.runtime_type"), cri("containerd.runtimes.runc.runtime_engine"),
            cri(`registry.configs."r".tls.ca_file`), cri("containerd.runtimes.x.options.CriuPath"), `plugins."io.containerd.runtime.v1.linux".shim`]) {
            assert.strictEqual(t(k).kind, "removed", k);
        }
    });
});

describe("upgrade: acknowledgeDropped and drain in resolveSpec", () => {
    it("defaults: drain \"major\", nothing acknowledged", () => {
        assert.deepStrictEqual(resolveSpec(baseArgs()).upgrade, { drain: "major", acknowledgeDropped: [] });
    });
    it("respells keys canonically and keeps deprecation ids", () => {
        const s = resolveSpec(baseArgs({ upgrade: { acknowledgeDropped: [`plugins.'io.containerd.grpc.v1.cri'.sandbox_image`, "io.containerd.deprecation/pull-schema-1-image"] } }));
        assert.deepStrictEqual(s.upgrade.acknowledgeDropped, [cri("sandbox_image"), "io.containerd.deprecation/pull-schema-1-image"]);
    });
    it("rejects a malformed key and an unknown policy, naming the field", () => {
        assert.throws(() => resolveSpec(baseArgs({ upgrade: { acknowledgeDropped: ["ok", "plugins..x"] } })),
            (e: unknown) => e instanceof InvalidArgumentError && e.field === "upgrade.acknowledgeDropped[1]" && /dotted TOML key/.test(e.message));
        assert.throws(() => resolveSpec(baseArgs({ upgrade: { drain: "sometimes" as never } })),
            (e: unknown) => e instanceof InvalidArgumentError && e.field === "upgrade.drain" && /"major", "always", "never"/.test(e.message));
    });
});

describe("upgrade: compatibility", () => {
    const k = (kubelet: string, containerd: string) => kubeletVerdict(ver(kubelet), ver(containerd));
    it("follows containerd's Kubernetes table", () => {
        assert.strictEqual(k("1.22.17", "2.1.4").status, "refused");
        assert.match((k("1.22.17", "2.1.4") as { reason: string }).reason, /only CRI v1alpha2/);
        assert.strictEqual(k("1.36.0", "2.1.5").status, "refused");
        assert.match((k("1.36.0", "2.1.5") as { reason: string }).reason, /needs containerd 2\.3\.0\+, 2\.2\.0\+/);
        assert.strictEqual(k("1.36.1", "2.2.0").status, "ok");
        assert.strictEqual(k("1.36.1", "2.3.7").status, "ok");
        assert.strictEqual(k("1.35.0", "2.1.4").status, "refused");
        assert.strictEqual(k("1.35.0", "2.1.5").status, "ok");
        assert.strictEqual(k("1.35.0", "2.2.0").status, "ok");
        assert.strictEqual(k("1.35.0", "2.0.6").status, "refused");
        assert.strictEqual(k("1.34.2", "1.7.27").status, "refused");
        assert.strictEqual(k("1.33.5", "2.3.7").status, "warning", "newer than the table lists for 1.33: untested");
        assert.strictEqual(k("1.28.0", "2.1.4").status, "warning", "older than the table");
        assert.strictEqual(k("1.35.0", "2.1").status, "refused", "a bare minor can't be checked against 2.1.5");
    });
    it("glibc: the dynamic build's floor, else the static tarball", () => {
        const tarball = (v: string, name = `containerd-${v}-linux-amd64.tar.gz`) => ({ kind: "tarball" as const, url: `https://x/${name}`, sha256: "a".repeat(64) });
        const g = glibcVerdict(parseLibc("ldd (Debian GLIBC 2.31-13+deb11u11) 2.31"), ver("2.3.7"), tarball("2.3.7"));
        assert.strictEqual(g.status, "refused");
        assert.match((g as { reason: string }).reason, /needs glibc 2\.35\+, the node has glibc 2\.31: install the static build containerd-static-2\.3\.7-linux-amd64\.tar\.gz/);
        assert.strictEqual(glibcVerdict(parseLibc("glibc 2.36"), ver("2.3.7"), tarball("2.3.7")).status, "ok");
        assert.strictEqual(glibcVerdict(parseLibc("glibc 2.31"), ver("2.0.6"), tarball("2.0.6")).status, "ok");
        assert.strictEqual(glibcVerdict(parseLibc("glibc 2.28"), ver("1.7.30"), tarball("1.7.30")).status, "refused");
        assert.strictEqual(glibcVerdict(parseLibc("glibc 2.31"), ver("2.3.7"), tarball("2.3.7", "containerd-static-2.3.7-linux-amd64.tar.gz")).status, "ok");
        assert.strictEqual(glibcVerdict(parseLibc("musl libc (x86_64)\nVersion 1.2.4"), ver("2.3.7"), tarball("2.3.7")).status, "refused");
        assert.strictEqual(glibcVerdict(parseLibc("glibc 2.17"), ver("2.3.7"), { kind: "package" }).status, "ok");
    });
    it("cgroup: reported; a 1.35+ kubelet on v1 is refused unless failCgroupV1 is false; 2.2+ on v1 warns", () => {
        assert.strictEqual(parseCgroupFs("cgroup2fs\n"), "v2");
        assert.strictEqual(parseCgroupFs("tmpfs"), "v1");
        assert.throws(() => parseCgroupFs("ext4"), /expected "cgroup2fs" or "tmpfs", got "ext4"/);
        assert.deepStrictEqual(cgroupVerdicts("v2", ver("2.3.7"), ver("1.35.0")).map(v => v.status), ["ok"]);
        assert.deepStrictEqual(cgroupVerdicts("v1", ver("2.3.7"), ver("1.35.0")).map(v => v.status), ["ok", "refused", "warning"]);
        assert.deepStrictEqual(cgroupVerdicts("v1", ver("2.3.7"), ver("1.35.0"), false).map(v => v.status), ["ok", "warning"]);
        assert.deepStrictEqual(cgroupVerdicts("v1", ver("2.1.5"), ver("1.34.2")).map(v => v.status), ["ok"]);
    });
});

describe("upgrade: drain policy", () => {
    it("\"major\" drains 1.x → 2.x and restarts in place within a major version", () => {
        assert.strictEqual(drainDecision(ver("1.7.35"), ver("2.3.7"), "major").action, "drain");
        assert.strictEqual(drainDecision(ver("2.2.7"), ver("2.3.7"), "major").action, "restart-in-place");
        assert.strictEqual(drainDecision(ver("2.3.6"), ver("2.3.7"), "major").action, "restart-in-place");
    });
    it("\"always\" and \"never\" ignore the versions", () => {
        assert.strictEqual(drainDecision(ver("2.3.6"), ver("2.3.7"), "always").action, "drain");
        assert.strictEqual(drainDecision(ver("1.7.35"), ver("2.3.7"), "never").action, "restart-in-place");
        assert.match(drainDecision(ver("1.7.35"), ver("2.3.7"), "never").reason, /1\.7\.35 → 2\.3\.7: upgrade\.drain is "never"/);
    });
});
