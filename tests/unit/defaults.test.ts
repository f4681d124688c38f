import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { ContainerdNodeArgs } from "../../components/args";
import { resolveSpec } from "../../components/spec";
import { formatKey, leaves, Table } from "../../components/toml/keys";
import { CRI, toSchema3 } from "../../components/toml/schema3";
import { carryReport } from "../../components/upgrade/carry";
import { DEFAULTS_1_7, default17 } from "../../components/upgrade/defaults17";
import { readLiveConfig } from "../../components/upgrade/liveConfig";
import { formatChanged } from "../../components/upgrade/messages";
import { parseVersion, Version } from "../../components/versions";
import { baseArgs } from "./helpers";

// The raw `containerd config default` of 1.7.35 (release tarball) and 1.6.20 (Debian bookworm),
// and 2.2.9's for what 2.x does: what nodes that copied the default dump run with.
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const DUMPS = [["1.7.35", fixture("config-default-1.7.35.toml")], ["1.6.20", fixture("config-default-1.6.20.toml")]] as const;
const dump22 = new Map(leaves(TOML.parse(fixture("config-default-2.2.9.toml")) as Table).map(l => [JSON.stringify(l.path), l.value]));
const MAIN = "/etc/containerd/config.toml";
const cri = (k: string) => `plugins."${CRI}".${k}`;
const GC = `plugins."io.containerd.gc.v1.scheduler"`;

function target(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        ...over,
    }));
}
const live = (running: string, text: string) => readLiveConfig({ path: MAIN, text }, {}, ver(running));
/** The cgroup driver the dump runs with (cgroupfs): declared, so that it is no finding. */
const cgroupfs = (over: ContainerdNodeArgs["config"] = {}) => target("2.3.7", { config: { systemdCgroup: false, ...over } });

describe("upgrade: `containerd config default` written to disk", () => {
    for (const [running, text] of DUMPS) {
        it(`${running}'s whole dump refuses nothing: every stock value is 1.x's default or carried`, () => {
            const r = carryReport(live(running, text), cgroupfs());
            assert.deepStrictEqual(r.dropped.map(d => d.key), []);
            assert.ok(r.defaults.length > 100, `${r.defaults.length} defaults`);
            assert.ok(r.defaults.includes(`${GC}.pause_threshold`) && r.defaults.includes(`plugins."io.containerd.runtime.v1.linux".shim`));
        });
        it(`${running}'s dump plus one edit is refused for the edit only`, () => {
            const edited = text.replace("pause_threshold = 0.02", "pause_threshold = 0.05");
            assert.notStrictEqual(edited, text);
            const r = carryReport(live(running, edited), cgroupfs());
            assert.deepStrictEqual(r.dropped.map(d => [d.key, d.shown, d.carrier.kind, d.status]), [[`${GC}.pause_threshold`, "0.05", "extraToml", "refused"]]);
        });
        it(`${running}'s defaults that 2.0 changed are warnings naming the input that keeps them`, () => {
            const r = carryReport(live(running, text), cgroupfs());
            const expected = [cri("enable_unprivileged_icmp"), cri("enable_unprivileged_ports"), cri("sandbox_image"),
                ...(running.startsWith("1.7") ? [cri("enable_cdi"), `plugins."io.containerd.nri.v1.nri".disable`] : [])];
            assert.deepStrictEqual(r.changed.map(c => c.key).sort(), expected.sort());
            assert.ok(r.changed.every(c => c.status === "warning"));
        });
    }
    it("the usual one edit, SystemdCgroup = true, is carried by the default config.systemdCgroup", () => {
        const text = DUMPS[0][1].replace("SystemdCgroup = false", "SystemdCgroup = true");
        assert.deepStrictEqual(carryReport(live("1.7.35", text), target("2.3.7")).dropped, []);
    });
    it("devmapper, btrfs and zfs of 1.6's dump, aufs and the v1 linux runtime: stock values, no finding", () => {
        const r = carryReport(live("1.6.20", DUMPS[1][1]), cgroupfs());
        for (const k of [`plugins."io.containerd.snapshotter.v1.devmapper".pool_name`, `plugins."io.containerd.snapshotter.v1.zfs".root_path`,
            `plugins."io.containerd.snapshotter.v1.aufs".root_path`, `plugins."io.containerd.runtime.v1.linux".runtime`]) {
            assert.ok(r.defaults.includes(k), k);
        }
        const pool = DUMPS[1][1].replace(`pool_name = ""`, `pool_name = "containerd-pool"`);
        assert.deepStrictEqual(carryReport(live("1.6.20", pool), cgroupfs()).dropped.map(d => d.key), [`plugins."io.containerd.snapshotter.v1.devmapper".pool_name`]);
    });
    it("a changed default's warning says what 2.x does and goes once the value is declared or acknowledged", () => {
        const text = DUMPS[0][1];
        const cdi = carryReport(live("1.7.35", text), cgroupfs()).changed.find(c => c.key === cri("enable_cdi"))!;
        assert.strictEqual(formatChanged("n1", cdi), `n1: warning: ${cri("enable_cdi")} = false is 1.x's default, which 2.x changes: ` +
            `2.0's default is true: CDI devices named by annotations or the device plugin API are injected; ` +
            `to keep 1.x's value set config.extraToml with plugins."io.containerd.cri.v1.runtime".enable_cdi = false, or list the key in upgrade.acknowledgeDropped`);
        const declared = carryReport(live("1.7.35", text), cgroupfs({ extraToml: { plugins: { "io.containerd.cri.v1.runtime": { enable_cdi: false } } } }));
        assert.ok(!declared.changed.some(c => c.key === cri("enable_cdi")) && declared.carried.includes(cri("enable_cdi")));
        const pinned = carryReport(live("1.7.35", text), cgroupfs({ sandboxImage: "registry.k8s.io/pause:3.8" }));
        assert.ok(!pinned.changed.some(c => c.key === cri("sandbox_image")));
        const acked = carryReport(live("1.7.35", text), target("2.3.7", { config: { systemdCgroup: false }, upgrade: { acknowledgeDropped: [cri("enable_cdi")] } }));
        assert.strictEqual(acked.changed.find(c => c.key === cri("enable_cdi"))?.status, "acknowledged");
    });
});

describe("upgrade: the 1.x defaults table against the real dumps", () => {
    const at = (dump: ReturnType<typeof leaves>, p: string[]) => dump.find(l => l.path.length === p.length && p.every((s, i) => l.path[i] === s));
    it("every entry is what 1.7.35's or 1.6.20's `containerd config default` prints, where it prints the key", () => {
        let checked = 0;
        for (const [running, text] of DUMPS) {
            const dump = leaves(TOML.parse(text) as Table);
            for (const d of DEFAULTS_1_7) {
                const l = at(dump, d.path.map(s => s === "*" ? "runc" : s));
                if (l) {
                    assert.ok(default17(l.path, l.value), `${running}: ${formatKey(d.path)} prints ${JSON.stringify(l.value)}`);
                    checked++;
                }
            }
        }
        assert.ok(checked > 200, `${checked} checked`);
    });
    it("every unchanged entry is 2.2.9's default too, under the plugin 2.0 renamed it to (toSchema3's path), or 2.0 removed it", () => {
        let checked = 0;
        for (const d of DEFAULTS_1_7) {
            const m = toSchema3(d.path.map(s => s === "*" ? "runc" : s), ver("2.2.9"));
            if (d.changedIn2 || m.kind === "removed" || d.value === null) {
                continue;
            }
            const v22 = dump22.get(JSON.stringify(m.path));
            if (v22 !== undefined) {
                assert.deepStrictEqual(v22, m.asList ? [d.value] : d.value, formatKey(d.path));
                checked++;
            }
        }
        assert.ok(checked > 30, `${checked} checked`);
    });
});
