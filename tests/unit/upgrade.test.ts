import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { ContainerdNodeArgs } from "../../components/args";
import { cgroupVerdicts, glibcVerdict, kubeletVerdict, parseCgroupFs, parseLibc } from "../../components/compat";
import { acknowledged, carryReport, CarryReport } from "../../components/upgrade/carry";
import { DEFAULTS_2 } from "../../components/upgrade/defaults2";
import { DEFAULTS_1_7, default17 } from "../../components/upgrade/defaults17";
import { deprecationFindings, parseCtrDeprecations } from "../../components/upgrade/deprecations";
import { drainDecision } from "../../components/upgrade/drain";
import { formatKey, leaves, parseKey, Table } from "../../components/toml/keys";
import { LiveConfig, readLiveConfig } from "../../components/upgrade/liveConfig";
import { byFile, carrierText, formatDeprecation, formatDropped, formatVerdict, refusals } from "../../components/upgrade/messages";
import { CRI, CRI_IMAGES, CRI_RUNTIME, toSchema3 } from "../../components/toml/schema3";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";
import * as pulumi from "@pulumi/pulumi";

const pulumiSecret = (v: string) => pulumi.secret(v);

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const MAIN = "/etc/containerd/config.toml";
const DROP_IN = "/etc/containerd/conf.d/50-local.toml";
const PASSWORD = "s3cr3t-PASSWORD-value";

const live17 = (text: string, dropIns: { [p: string]: string } = {}, running = "1.7.35") => readLiveConfig({ path: MAIN, text }, dropIns, ver(running));
const installer = () => live17(fixture("config-1.7-installer.toml"), { [DROP_IN]: fixture("50-local.toml") });
const value = (live: LiveConfig, key: string) => live.settings.find(s => s.key === key)?.value;
const cri = (k: string) => `plugins."${CRI}".${k}`;

function target(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        ...over,
    }));
}
const byKey = (r: CarryReport, key: string) => r.dropped.find(d => d.key === key);

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
    it("renames the plugins 2.0 renamed: their settings under the old ID in a version 3 or 4 file are ignored", () => {
        assert.deepStrictEqual(t(`plugins."io.containerd.internal.v1.restart".interval`), { kind: "moved", path: ["plugins", "io.containerd.monitor.container.v1.restart", "interval"] });
        assert.deepStrictEqual(t(`plugins."io.containerd.monitor.v1.cgroups".no_prometheus`), { kind: "moved", path: ["plugins", "io.containerd.monitor.task.v1.cgroups", "no_prometheus"] });
        assert.deepStrictEqual(t(`plugins."io.containerd.gc.v1.scheduler".pause_threshold`), { kind: "moved", path: ["plugins", "io.containerd.gc.v1.scheduler", "pause_threshold"] });
    });
    it("knows what 2.0 removed", () => {
        for (const k of [cri("systemd_cgroup"), cri("containerd.default_runtime.runtime_type"), cri("containerd.runtimes.runc.runtime_engine"),
            cri(`registry.configs."r".tls.ca_file`), cri("containerd.runtimes.x.options.CriuPath"), `plugins."io.containerd.runtime.v1.linux".shim`]) {
            assert.strictEqual(t(k).kind, "removed", k);
        }
    });
});

describe("upgrade: containerd 1.7's defaults", () => {
    const dump17 = leaves(TOML.parse(fixture("config-default-1.7.30.toml")) as Table);
    const dump22 = new Map(leaves(TOML.parse(fixture("config-default-2.2.7.toml")) as Table).map(l => [JSON.stringify(l.path), l.value]));
    const at17 = (p: string[]) => dump17.find(l => l.path.length === p.length && p.every((s, i) => s === "*" ? true : l.path[i] === s));

    it("every entry is what `containerd config default` of 1.7.30 says, or missing from it", () => {
        for (const d of DEFAULTS_1_7) {
            const l = at17(d.path.map(s => s === "*" ? "runc" : s));
            if (l) {
                assert.ok(default17(l.path, l.value), `${formatKey(d.path)}: 1.7.30 says ${JSON.stringify(l.value)}`);
            }
        }
        assert.ok(DEFAULTS_1_7.filter(d => at17(d.path.map(s => s === "*" ? "runc" : s))).length > 60, "the table was checked against the dump");
    });
    it("every entry is 2.2.7's default at the new path too, or a key 2.0 removed", () => {
        for (const l of dump17) {
            const m = toSchema3(l.path, ver("2.2.7"));
            if (!default17(l.path, l.value) || default17(l.path, l.value)?.changedIn2 || m.kind === "removed" || l.path.join(".").endsWith("NoPivotRoot") || l.path.join(".").endsWith("config_path")) {
                continue;
            }
            assert.deepStrictEqual(dump22.get(JSON.stringify(m.path)), m.asList ? [l.value] : l.value, formatKey(l.path));
        }
    });
    it("marks the defaults 2.0 changed, and knows no value other than the default", () => {
        for (const k of ["enable_unprivileged_ports", "enable_unprivileged_icmp", "enable_cdi"]) {
            assert.match(default17(["plugins", CRI, k], false)?.changedIn2 ?? "", /2\.0's default is true/, k);
            assert.strictEqual(default17(["plugins", CRI, k], true), undefined, k);
        }
        assert.ok(default17(["plugins", CRI, "sandbox_image"], "registry.k8s.io/pause:3.8")?.changedIn2);
        assert.ok(default17(["plugins", CRI, "sandbox_image"], "registry.k8s.io/pause:3.6"), "1.6's");
        assert.strictEqual(default17(["plugins", CRI, "sandbox_image"], "registry.k8s.io/pause:3.9"), undefined);
        assert.ok(default17(["plugins", CRI, "max_container_log_line_size"], 16384));
        assert.strictEqual(default17(["plugins", CRI, "max_container_log_line_size"], -1), undefined);
    });
    it("2.x's own defaults (defaults2.ts) are what `containerd config default` of 2.2.7 prints", () => {
        for (const d of DEFAULTS_2) {
            assert.deepStrictEqual(dump22.get(JSON.stringify(d.path)), d.value, formatKey(d.path));
        }
    });
    it("a 1.7 setting equal to 2.x's own default is carried; 1.7's default of it is a warning, not a refusal", () => {
        const text = `version = 2\n[plugins."${CRI}"]\nenable_cdi = true\nenable_unprivileged_ports = true\nenable_unprivileged_icmp = true\n`;
        const r = carryReport(live17(text), target("2.3.7"));
        assert.deepStrictEqual(r.dropped, []);
        assert.deepStrictEqual(r.carried.sort(), [cri("enable_cdi"), cri("enable_unprivileged_icmp"), cri("enable_unprivileged_ports")]);
        const off = carryReport(live17(`version = 2\n[plugins."${CRI}"]\nenable_cdi = false\n`), target("2.3.7"));
        assert.deepStrictEqual(off.dropped, []);
        assert.deepStrictEqual(off.changed.map(d => [d.key, d.status, d.carrier.kind]), [[cri("enable_cdi"), "warning", "extraToml"]]);
    });
    it("a runc option spelled in another case (systemdCgroup, binaryName) is read as its canonical key, and carried as such", () => {
        const rt = `plugins."${CRI}".containerd.runtimes`;
        const live = live17(`version = 2\n[${rt}.runc.options]\nsystemdCgroup = true\n[${rt}.alt]\nruntime_type = "io.containerd.runc.v2"\n[${rt}.alt.options]\nbinaryName = "/usr/local/bin/crun"\n`);
        assert.deepStrictEqual(live.settings.map(s => s.path.slice(4).join(".")),
            ["runc.options.SystemdCgroup", "alt.runtime_type", "alt.options.BinaryName"]);
        assert.ok(live.notes.some(n => n.includes("systemdCgroup") && n.includes("runc.options.SystemdCgroup") && n.includes("case-insensitively")), live.notes.join("\n"));
        const r = carryReport(live, target("2.3.7"));
        assert.ok(r.carried.includes(`${rt}.runc.options.systemdCgroup`), "carried by config.systemdCgroup (true by default)");
        const alt = r.dropped.find(d => d.key === `${rt}.alt.options.binaryName`);
        assert.deepStrictEqual(alt?.carrier, { kind: "runtime", name: "alt", field: "options.BinaryName", shown: `"/usr/local/bin/crun"` });
        const carried = carryReport(live, target("2.3.7", { config: { runtimes: { alt: { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/local/bin/crun" } } } } }));
        assert.deepStrictEqual(carried.dropped, []);
    });
    it("a copied 1.7 default config with SystemdCgroup flipped refuses nothing; the defaults 2.0 changed are warnings", () => {
        const text = fixture("config-default-1.7.30.toml").replace("SystemdCgroup = false", "SystemdCgroup = true");
        const r = carryReport(live17(text), target("2.3.7"));
        assert.deepStrictEqual(r.dropped, []);
        assert.deepStrictEqual(r.changed.map(d => d.key).sort(), [
            cri("enable_cdi"), cri("enable_unprivileged_icmp"), cri("enable_unprivileged_ports"), cri("sandbox_image"),
        ]);
    });
});

describe("upgrade: what the rendered config would not carry", () => {
    const r = carryReport(installer(), target("2.3.7"));

    it("names each hand-made setting with the typed input that carries it", () => {
        assert.deepStrictEqual(byKey(r, cri(`registry.mirrors."docker.io".endpoint`))?.carrier,
            { kind: "registryMirrors", registry: "docker.io", endpoints: ["https://mirror.gcr.io"], insecure: false });
        assert.deepStrictEqual(byKey(r, cri(`registry.mirrors."registry.internal:5000".endpoint`))?.carrier, { kind: "insecureRegistries", registry: "registry.internal:5000" });
        assert.deepStrictEqual(byKey(r, cri(`registry.configs."registry.internal:5000".tls.insecure_skip_verify`))?.carrier, { kind: "insecureRegistries", registry: "registry.internal:5000" });
        assert.deepStrictEqual(byKey(r, cri("containerd.runtimes.nvidia.options.BinaryName"))?.carrier,
            { kind: "runtime", name: "nvidia", field: "options.BinaryName", shown: `"/usr/bin/nvidia-container-runtime"` });
        assert.deepStrictEqual(byKey(r, cri("containerd.runtimes.nvidia.runtime_type"))?.carrier, { kind: "runtime", name: "nvidia", field: "runtimeType", shown: `"io.containerd.runc.v2"` });
        assert.deepStrictEqual(byKey(r, cri("sandbox_image"))?.carrier, { kind: "input", input: "config.sandboxImage", shown: `"registry.k8s.io/pause:3.9"` });
        assert.deepStrictEqual(byKey(r, cri("max_container_log_line_size"))?.carrier, { kind: "extraToml", path: ["plugins", CRI_RUNTIME, "max_container_log_line_size"], shown: "-1" });
        assert.deepStrictEqual(byKey(r, cri("containerd.discard_unpacked_layers"))?.carrier, { kind: "extraToml", path: ["plugins", CRI_IMAGES, "discard_unpacked_layers"], shown: "true",
            caveat: "the transfer service can't discard unpacked layers: containerd 2.3.7 then pulls without the transfer service (it falls back to local pulls, use_local_image_pull, and logs a warning)" });
        assert.deepStrictEqual(byKey(r, `plugins."io.containerd.gc.v1.scheduler".pause_threshold`)?.carrier?.kind, "extraToml");
        const ca = byKey(r, cri(`registry.configs."registry.example.com".tls.ca_file`))?.carrier;
        assert.deepStrictEqual(ca, { kind: "registryTls", registry: "registry.example.com", field: "caFile", path: "/etc/containerd/certs/example-ca.pem" });
        assert.strictEqual(carrierText(ca!), `config.registryTls["registry.example.com"].caFile = "/etc/containerd/certs/example-ca.pem"`);
        for (const k of ["disable_apparmor", "device_ownership_from_security_context"]) {
            assert.strictEqual(byKey(r, cri(k))?.carrier.kind, "extraToml", k);
        }
        assert.strictEqual(r.changed.find(c => c.key === cri("enable_unprivileged_ports"))?.carrier.kind, "extraToml", "1.7's default: a warning");
        assert.ok(r.dropped.every(d => d.status === "refused"));
    });
    it("counts what the rendered files carry and the 1.7 defaults 2.x shares as nothing lost", () => {
        for (const k of ["root", "state", "oom_score", "grpc.address", cri("containerd.runtimes.runc.options.SystemdCgroup"), cri("cni.bin_dir"), cri("cni.conf_dir")]) {
            assert.ok(r.carried.includes(k), k);
        }
        for (const k of [cri("max_concurrent_downloads"), cri("containerd.snapshotter"), cri("systemd_cgroup"), cri("registry.config_path"),
            cri("containerd.runtimes.nvidia.privileged_without_host_devices"), "grpc.max_recv_message_size"]) {
            assert.ok(r.defaults.includes(k), k);
        }
        assert.ok(!r.dropped.some(d => d.key === "imports" || d.key === "version"));
    });
    it("registry credentials are carried by config.registryAuth, named as a secret input; a different value is not carried", () => {
        const carrier = byKey(r, cri(`registry.configs."registry.example.com".auth.password`))?.carrier;
        assert.deepStrictEqual(carrier, { kind: "registryAuth", registry: "registry.example.com", field: "password" });
        assert.strictEqual(carrierText(carrier!), `config.registryAuth["registry.example.com"].password (a secret)`);
        const s = target("2.3.7", { config: { registryAuth: { "registry.example.com": { username: "robot$ci", password: "x" } } } });
        const other = carryReport(installer(), s, { "registry.example.com": { username: "robot$ci", password: "another" } });
        assert.strictEqual(byKey(other, cri(`registry.configs."registry.example.com".auth.password`))?.status, "refused");
        assert.ok(other.carried.includes(cri(`registry.configs."registry.example.com".auth.username`)));
    });
    it("config.extraToml refuses credentials: its text is shown by the preview", () => {
        assert.throws(() => target("2.3.7", { config: { extraToml: { plugins: { [CRI_IMAGES]: { registry: { configs: { r: { auth: { password: "p" } } } } } } } } }),
            /invalid config\.extraToml\.plugins\."io\.containerd\.cri\.v1\.images"\.registry\.configs\.r\.auth\.password: no credentials here.*config\.registryAuth/);
    });
    it("never prints a secret: named, with its length", () => {
        const pw = byKey(r, cri(`registry.configs."registry.example.com".auth.password`));
        assert.strictEqual(pw?.shown, `<secret, ${PASSWORD.length} chars>`);
        assert.strictEqual(pw?.secret, true);
        assert.strictEqual(byKey(r, cri(`registry.configs."registry.example.com".auth.username`))?.shown, "<secret, 8 chars>");
        assert.ok(!JSON.stringify(r).includes(PASSWORD), "no copy of the password in the report");
        assert.ok(!r.dropped.map(d => formatDropped("node-1", d)).join("\n").includes(PASSWORD));
    });
    it("carries everything once the typed inputs say it, and drops only what is acknowledged", () => {
        const config: ContainerdNodeArgs["config"] = {
            sandboxImage: "registry.k8s.io/pause:3.9",
            registryMirrors: { "docker.io": ["https://mirror.gcr.io"] },
            insecureRegistries: ["registry.internal:5000"],
            registryAuth: { "registry.example.com": { username: "robot$ci", password: pulumiSecret(PASSWORD) } },
            runtimes: { nvidia: { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/bin/nvidia-container-runtime", SystemdCgroup: true } } },
            extraToml: {
                debug: { level: "info" },
                plugins: {
                    [CRI_RUNTIME]: { max_container_log_line_size: -1, disable_apparmor: true, device_ownership_from_security_context: true, enable_unprivileged_ports: false },
                    [CRI_IMAGES]: { discard_unpacked_layers: true },
                    "io.containerd.gc.v1.scheduler": { pause_threshold: 0.05 },
                },
            },
        };
        const full = target("2.3.7", { config, upgrade: { acknowledgeDropped: [cri(`registry.configs."registry.example.com".tls`)] } });
        const auth = { "registry.example.com": { username: "robot$ci", password: PASSWORD } };
        const done = carryReport(installer(), full, auth);
        assert.deepStrictEqual(done.dropped.map(d => [d.key, d.status]), [[cri(`registry.configs."registry.example.com".tls.ca_file`), "acknowledged"]]);
        // Or carried: config.registryTls names the same file (another file is not the same setting).
        const tls = (caFile: string) => target("2.3.7", { config: { ...config, registryTls: { "registry.example.com": { caFile } } } });
        assert.deepStrictEqual(carryReport(installer(), tls("/etc/containerd/certs/example-ca.pem"), auth).dropped, []);
        assert.deepStrictEqual(carryReport(installer(), tls("/etc/pki/other.pem"), auth).dropped.map(d => [d.key, d.status]),
            [[cri(`registry.configs."registry.example.com".tls.ca_file`), "refused"]]);
    });
    it("a value at its old path in extraToml is not carried: a version 3 file ignores it", () => {
        const s = target("2.3.7", { config: { extraToml: { plugins: { [CRI]: { max_container_log_line_size: -1 } } } } });
        assert.strictEqual(byKey(carryReport(installer(), s), cri("max_container_log_line_size"))?.status, "refused");
    });
    it("a rendered value other than the live default is reported, with the input to use", () => {
        const live = live17(`version = 2\n[plugins."${CRI}".containerd.runtimes.runc.options]\nSystemdCgroup = false\n`);
        assert.ok(default17(live.settings[0].path, false), "false is 1.7's default, yet the rendered true would change it");
        const d = carryReport(live, target("2.3.7")).dropped;
        assert.deepStrictEqual(d.map(x => x.carrier), [{ kind: "input", input: "config.systemdCgroup", shown: "false" }]);
        assert.deepStrictEqual(carryReport(live, target("2.3.7", { config: { systemdCgroup: false } })).dropped, []);
    });
    it("removed keys and shims have no equivalent: acknowledge them", () => {
        const live = live17(`version = 2\n[plugins."${CRI}"]\ndisable_cgroup = true\n[plugins."${CRI}".containerd.runtimes.old]\nruntime_type = "io.containerd.runc.v1"\n[plugins."${CRI}".containerd]\nsnapshotter = "aufs"\n`);
        const d = carryReport(live, target("2.3.7")).dropped;
        assert.deepStrictEqual(d.map(x => x.carrier.kind), ["none", "none", "none"]);
        assert.match(formatDropped("n1", d[1]), /^n1: plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.old\.runtime_type = "io\.containerd\.runc\.v1" would be dropped: no equivalent .*removed the io\.containerd\.runc\.v1 shim.*acknowledgeDropped to drop it$/);
    });
    it("an acknowledgement covers the key and every key beneath it, in any spelling", () => {
        assert.ok(acknowledged([`plugins.'io.containerd.grpc.v1.cri'.registry`], ["plugins", CRI, "registry", "mirrors", "x", "endpoint"]));
        assert.ok(!acknowledged([cri("registry.mirrors")], ["plugins", CRI, "registry", "configs"]));
        assert.ok(!acknowledged(["io.containerd.deprecation/runtime-v1"], ["plugins"]));
    });
    it("prints one line per finding: node, key, value and the input to use", () => {
        const line = formatDropped("node-1", byKey(r, cri(`registry.mirrors."docker.io".endpoint`))!);
        assert.strictEqual(line, `node-1: ${cri(`registry.mirrors."docker.io".endpoint`)} = ["https://mirror.gcr.io","https://registry-1.docker.io"] would be dropped: set config.registryMirrors["docker.io"] = ["https://mirror.gcr.io"], or list it in upgrade.acknowledgeDropped`);
        assert.match(formatDropped("node-1", byKey(r, `plugins."io.containerd.gc.v1.scheduler".pause_threshold`)!), /pause_threshold = 0\.05 would be dropped: set config\.extraToml with plugins\."io\.containerd\.gc\.v1\.scheduler"\.pause_threshold = 0\.05/);
    });
    it("names each file once, its findings beneath it", () => {
        const lines = byFile("node-1", r.dropped, formatDropped);
        assert.deepStrictEqual(lines.filter(l => l.startsWith("node-1: in ")).sort(), [`node-1: in ${DROP_IN}:`, `node-1: in ${MAIN}:`]);
        assert.strictEqual(lines.length, r.dropped.length + 2);
        const at = lines.indexOf(`node-1: in ${DROP_IN}:`);
        assert.match(lines.slice(at + 1).join("\n"), /^node-1: {3}plugins\."io\.containerd\.gc\.v1\.scheduler"\.pause_threshold = 0\.05 would be dropped/m);
        assert.ok(!lines.some(l => l.includes(`(${MAIN})`) || l.includes(`(${DROP_IN})`)), "no file on a finding's line");
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

describe("upgrade: deprecations", () => {
    const legacy = live17(`version = 2
[plugins."${CRI}"]
systemd_cgroup = true
disable_cgroup = true
[plugins."${CRI}".containerd]
snapshotter = "aufs"
[plugins."${CRI}".containerd.default_runtime]
runtime_type = "io.containerd.runtime.v1.linux"
runtime_engine = "/usr/bin/runc"
[plugins."${CRI}".containerd.runtimes.runc.options]
CriuPath = "/usr/sbin/criu"
[plugins."${CRI}".registry]
config_path = "/etc/containerd/certs.d"
[plugins."${CRI}".registry.mirrors."docker.io"]
endpoint = ["https://m"]
[plugins."${CRI}".registry.mirrors."quay.io"]
endpoint = ["https://q"]
`);
    const ctr = parseCtrDeprecations(JSON.stringify([
        { id: "io.containerd.deprecation/runtime-v1", message: "The `io.containerd.runtime.v1.linux` runtime is deprecated", lastOccurrence: "2026-11-30T10:00:00Z" },
        { id: "io.containerd.deprecation/pull-schema-1-image", message: "Schema 1 images are deprecated", lastOccurrence: "2026-11-29T10:00:00Z" },
    ], null, 4));

    it("parses ctr's JSON; nothing printed is no warning; anything else is a clear error", () => {
        assert.strictEqual(ctr.length, 2);
        assert.deepStrictEqual(parseCtrDeprecations(""), []);
        assert.deepStrictEqual(parseCtrDeprecations("  \n"), []);
        assert.throws(() => parseCtrDeprecations("ctr: unknown command deprecations"), /expected a JSON array, got "ctr: unknown/);
        assert.throws(() => parseCtrDeprecations(`{"id":"x"}`), /expected a JSON array/);
        assert.throws(() => parseCtrDeprecations(`[{"id":"x","message":"m"}]`), /entry 0 lacks a string id, message or lastOccurrence/);
    });
    it("finds what 2.x removes or ignores in the config, with what to do", () => {
        const f = deprecationFindings(legacy, undefined, ver("2.3.7"), []);
        const ids = f.map(x => x.id ?? `(${x.key})`);
        for (const id of ["cri-systemd-cgroup-v1", "aufs-snapshotter", "cri-default-runtime", "runtime-v1", "cri-runtime-engine", "cri-criu-path", "cri-registry-mirrors"]) {
            assert.ok(ids.includes(`io.containerd.deprecation/${id}`), id);
        }
        assert.ok(ids.includes(`(${cri("disable_cgroup")})`), "disable_cgroup, which ctr never reports");
        assert.strictEqual(f.filter(x => x.key === cri("registry.config_path")).length, 1, "one conflict for two mirrors");
        const conflict = f.find(x => x.key === cri("registry.config_path"));
        assert.match(conflict?.what ?? "", /mirrors next to config_path.*CRI plugin fails to load/);
        assert.strictEqual(conflict?.status, "refused");
        assert.strictEqual(f.find(x => x.id?.endsWith("/cri-registry-mirrors"))?.status, "warning");
        assert.strictEqual(f.find(x => x.id?.endsWith("/runtime-v1"))?.status, "refused");
        assert.ok(f.every(x => x.todo !== ""), "every finding says what to do");
    });
    it("a zero value of a removed key is no finding, nor a missing one", () => {
        assert.deepStrictEqual(deprecationFindings(installer(), [], ver("2.3.7"), []).filter(x => x.status !== "warning"), []);
    });
    it("a config finding and ctr's entry with the same id are one", () => {
        const f = deprecationFindings(legacy, ctr, ver("2.3.7"), []);
        const v1 = f.filter(x => x.id === "io.containerd.deprecation/runtime-v1");
        assert.strictEqual(v1.length, 1);
        assert.strictEqual(v1[0].source, "config+ctr");
        assert.strictEqual(v1[0].lastOccurrence, "2026-11-30T10:00:00Z");
        const s1 = f.find(x => x.id === "io.containerd.deprecation/pull-schema-1-image");
        assert.strictEqual(s1?.source, "ctr");
        assert.strictEqual(s1?.status, "warning");
    });
    it("acknowledging by key or by id lifts the refusal", () => {
        const f = deprecationFindings(legacy, ctr, ver("2.3.7"), [cri("disable_cgroup"), "io.containerd.deprecation/runtime-v1"]);
        assert.strictEqual(f.find(x => x.key === cri("disable_cgroup"))?.status, "acknowledged");
        assert.strictEqual(f.find(x => x.id === "io.containerd.deprecation/runtime-v1")?.status, "acknowledged");
        assert.strictEqual(f.find(x => x.id === "io.containerd.deprecation/aufs-snapshotter")?.status, "refused");
    });
    it("prints node, what, key, id and what to do", () => {
        const f = deprecationFindings(legacy, ctr, ver("2.3.7"), []).find(x => x.id === "io.containerd.deprecation/cri-systemd-cgroup-v1")!;
        assert.strictEqual(formatDeprecation("node-2", f), `node-2: deprecated: systemd_cgroup = true (the v1 shim's systemd cgroup switch) [${cri("systemd_cgroup")}, io.containerd.deprecation/cri-systemd-cgroup-v1]: 2.x ignores systemd_cgroup: set runc's SystemdCgroup (config.systemdCgroup) and drop systemd_cgroup; or list it in upgrade.acknowledgeDropped`);
    });
    it("a missing version is reported as a warning", () => {
        const f = deprecationFindings(live17(`[plugins.cri]\nsandbox_image = "p"\n`), undefined, ver("2.3.7"), []);
        assert.deepStrictEqual(f.map(x => [x.key, x.status]), [["version", "warning"]]);
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
        assert.strictEqual(k("1.33.5", "2.3.7").status, "warning", "2.3 is listed from 1.36: the pairing is untested");
        const w = (k("1.33.5", "2.3.7") as { warning: string }).warning;
        assert.strictEqual(w, "containerd 2.3 (the LTS line, supported to 2028-04-30) is listed from Kubernetes 1.36; for kubelet 1.33.5 containerd's support table lists " +
            "2.1.0+, 2.0.4+, 1.7.24+, 1.6.36+: a pairing containerd does not test (upgrade the kubelet to 1.36+ for a tested one)");
        assert.ok(!w.includes("newer than"), "2.3 is in the table, not newer than it");
        assert.match((k("1.33.5", "2.4.0") as { warning: string }).warning, /containerd 2\.4\.0 is newer than containerd's support table lists for kubelet 1\.33\.5/);
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
        assert.match(formatVerdict("n", cgroupVerdicts("v1", ver("2.3.7"), ver("1.35.0"))[1]), /^n: cgroup: refused: kubelet 1\.35\.0 refuses a cgroup v1 host unless .*failCgroupV1: false/);
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

describe("upgrade: refusals", () => {
    it("lists only what refuses the run", () => {
        const carry = carryReport(installer(), target("2.3.7"));
        const lines = refusals("node-1", carry, deprecationFindings(installer(), [], ver("2.3.7"), []), [kubeletVerdict(ver("1.36.0"), ver("2.3.7")), kubeletVerdict(ver("1.22.0"), ver("2.3.7"))]);
        assert.strictEqual(lines.length, carry.dropped.length + 2 + 1, "the dropped settings under their two files, and the kubelet");
        assert.ok(lines.every(l => l.startsWith("node-1: ")));
        assert.match(lines[lines.length - 1], /kubelet: refused: kubelet 1\.22\.0/);
    });
});
