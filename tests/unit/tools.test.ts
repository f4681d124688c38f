import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdNodeArgs } from "../../components/args";
import { partSteps } from "../../components/scripts/claim";
import { NODE_LIB } from "../../components/nodeFiles";
import { sq, stepValues } from "../../components/scripts/shell";
import { stepScript, toolsValues } from "../../components/scripts/steps";
import { BUILDKIT_SOCKET, renderBuildkitdToml, renderBuildkitUnit } from "../../components/render/buildkit";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { baseArgs } from "./helpers";

// The tools part (tools.buildkit, tools.crictl): its inputs, its renderers, and the node library's
// cn_tools run as on the node, against a node tree (CN_ROOT) with fake systemctl, buildctl and
// journalctl first on PATH, and real release-layout tarballs of fake binaries.

const SHA = "b".repeat(64);
const tools = (over: Partial<NonNullable<ContainerdNodeArgs["tools"]>> = {}): ContainerdNodeArgs["tools"] => ({
    buildkit: { version: "0.34.2", source: { url: "https://github.com/moby/buildkit/releases/download/v0.34.2/buildkit-v0.34.2.linux-amd64.tar.gz", sha256: SHA } },
    crictl: { version: "1.34.0", source: { path: "/srv/crictl-v1.34.0-linux-amd64.tar.gz", sha256: SHA } },
    ...over,
});

describe("tools: inputs", () => {
    it("resolves both tools with their versions and tarballs; none by default", () => {
        const spec = resolveSpec(baseArgs({ tools: tools() }));
        assert.deepStrictEqual(spec.tools.buildkit, { version: "0.34.2", tarball: { kind: "url", url: "https://github.com/moby/buildkit/releases/download/v0.34.2/buildkit-v0.34.2.linux-amd64.tar.gz", sha256: SHA } });
        assert.deepStrictEqual(spec.tools.crictl, { version: "1.34.0", tarball: { kind: "path", path: "/srv/crictl-v1.34.0-linux-amd64.tar.gz", sha256: SHA } });
        assert.deepStrictEqual(resolveSpec(baseArgs()).tools, {});
        assert.strictEqual(resolveSpec(baseArgs({ tools: tools({ buildkit: { version: "v0.34.2", source: { url: "https://x.example/b.tgz", sha256: SHA } } }) })).tools.buildkit!.version, "0.34.2");
    });
    const bad: [string, ContainerdNodeArgs["tools"], RegExp][] = [
        ["tools.buildkit.version", tools({ buildkit: { version: "0.34", source: { url: "https://x.example/b.tgz", sha256: SHA } } }), /full version like "0\.34\.2", got "0\.34"/],
        ["tools.buildkit.source.sha256", tools({ buildkit: { version: "0.34.2", source: { url: "https://x.example/b.tgz", sha256: "abc" } } }), /64 hexadecimal/],
        ["tools.buildkit.source.url", tools({ buildkit: { version: "0.34.2", source: { url: "http://x.example/b.tgz", sha256: SHA } } }), /https:\/\/ URL/],
        ["tools.crictl.source", tools({ crictl: { version: "1.34.0" } as never }), /\{ url, sha256 \} or \{ path, sha256 \}/],
    ];
    for (const [field, t, expected] of bad) {
        it(`refuses a bad ${field}, naming it`, () => {
            assert.throws(() => resolveSpec(baseArgs({ tools: t })), (e: unknown) =>
                e instanceof InvalidArgumentError && e.field === field && expected.test(e.message));
        });
    }
    it("is a part of its own after configure and migrate-images: in host mode in converge, in Kubernetes mode in the configure step, before the drain", () => {
        const host = resolveSpec(baseArgs({ tools: tools(), docker: { migrateImages: true } }));
        assert.deepStrictEqual(partSteps(host), [{ step: "converge", parts: ["configure", "migrate-images", "tools", "switch"] }]);
        const k8s = resolveSpec(baseArgs({ tools: tools(), kubernetes: { kubeconfig: "/k", nodeName: "n1" }, kubelet: { version: "1.30.4" } }));
        assert.deepStrictEqual(partSteps(k8s).map(s => [s.step, s.parts]), [["configure", ["configure", "tools"]], ["switch", ["switch"]]]);
        assert.ok(!partSteps(resolveSpec(baseArgs())).some(s => s.parts.includes("tools")), "no tools part without tools");
        assert.match(stepScript(host, "converge"), /\(\ncn_part tools\ncn_tools\n\)/);
    });
});

describe("tools: BuildKit's files", () => {
    const spec = resolveSpec(baseArgs({ tools: tools() }));
    it("buildkitd.toml: the containerd worker on containerd's socket in k8s.io, the OCI worker off", () => {
        const toml = renderBuildkitdToml(spec);
        assert.match(toml, /\[worker\.oci\]\n {2}enabled = false\n/);
        assert.match(toml, /\[worker\.containerd\]\n {2}enabled = true\n {2}address = "\/run\/containerd\/containerd\.sock"\n {2}namespace = "k8s\.io"\n/);
        assert.match(toml, /\[grpc\]\n {2}address = \["unix:\/\/\/run\/buildkit\/buildkitd\.sock"\]\n/);
    });
    it("buildkit.service: after containerd, notify, its config", () => {
        const unit = renderBuildkitUnit();
        assert.match(unit, /^After=network\.target containerd\.service$/m);
        assert.match(unit, /^Type=notify$/m);
        assert.match(unit, /^ExecStart=\/usr\/local\/bin\/buildkitd --config \/etc\/buildkit\/buildkitd\.toml$/m);
        assert.match(unit, /^WantedBy=multi-user\.target$/m);
    });
});

interface Node { dir: string; root: string; state: string; bin: string; calls: string }

/** A node tree, a state dir, fakes on PATH, and the two tools' tarballs in the state's cache. */
function fakeNode(opts: { buildkitdVersion?: string; buildctlWorks?: boolean; crictlOnPath?: boolean } = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-tools-"));
    const n: Node = { dir, root: path.join(dir, "root"), state: path.join(dir, "state"), bin: path.join(dir, "bin"), calls: path.join(dir, "calls") };
    for (const d of [n.root, path.join(n.state, "cache"), path.join(n.state, "txn"), n.bin]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(n.calls, "");
    const active = path.join(dir, "buildkit.active");
    // systemctl: logs every call; buildkit is active once (re)started, until stopped.
    fs.writeFileSync(path.join(n.bin, "systemctl"), `#!/bin/sh
echo "systemctl $*" >>${sq(n.calls)}
case "$1 $2" in
  "is-active -q") [ -f ${sq(active)} ];;
  "is-active buildkit") if [ -f ${sq(active)} ]; then echo active; else echo inactive; exit 3; fi;;
  "is-enabled buildkit") echo disabled; exit 1;;
  "restart buildkit") touch ${sq(active)};;
  "stop buildkit") rm -f ${sq(active)};;
  *) exit 0;;
esac
`, { mode: 0o755 });
    fs.writeFileSync(path.join(n.bin, "journalctl"), "#!/bin/sh\necho 'fake journal'\n", { mode: 0o755 });
    if (opts.crictlOnPath) {
        fs.writeFileSync(path.join(n.bin, "crictl"), "#!/bin/sh\necho crictl version v1.20.0\n", { mode: 0o755 });
    }
    // buildctl as the tarball ships it: `debug workers --verbose` as BuildKit prints it (a
    // containerd worker in k8s.io) while buildkitd runs.
    const tree = (name: string, files: { [p: string]: string }) => {
        const t = path.join(dir, name);
        for (const [p, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(t, p)), { recursive: true });
            fs.writeFileSync(path.join(t, p), text, { mode: 0o755 });
        }
        const tgz = path.join(dir, `${name}.tgz`);
        assert.strictEqual(spawnSync("tar", ["-czf", tgz, "-C", t, "."]).status, 0);
        const sha = spawnSync("sha256sum", [tgz], { encoding: "utf8" }).stdout.slice(0, 64);
        fs.copyFileSync(tgz, path.join(n.state, "cache", `${name}-${sha.slice(0, 16)}`));
        return { path: tgz, sha256: sha };
    };
    const buildkit = tree("buildkit", {
        "bin/buildkitd": `#!/bin/sh\necho buildkitd github.com/moby/buildkit v${opts.buildkitdVersion ?? "0.34.2"} abc\n`,
        "bin/buildctl": `#!/bin/sh
echo "buildctl $*" >>${sq(n.calls)}
[ -f ${sq(active)} ] || { echo "connection refused" >&2; exit 1; }
${opts.buildctlWorks === false ? "exit 0" : `printf 'ID:\\t\\tq0r9\\nPlatforms:\\tlinux/amd64\\nLabels:\\n\\torg.mobyproject.buildkit.worker.containerd.namespace:\\tk8s.io\\n\\torg.mobyproject.buildkit.worker.executor:\\t\\tcontainerd\\n'`}
`,
    });
    const crictl = tree("crictl", { crictl: "#!/bin/sh\necho crictl version v1.34.0\n" });
    return { n, buildkit, crictl, active };
}

/** cn_tools with the values the tools part renders (tarballs given by path), as on the node. */
function runTools(f: ReturnType<typeof fakeNode>, which: { buildkit?: boolean; crictl?: boolean } = { buildkit: true, crictl: true }) {
    const spec = resolveSpec(baseArgs({
        tools: {
            ...(which.buildkit ? { buildkit: { version: "0.34.2", source: f.buildkit } } : {}),
            ...(which.crictl ? { crictl: { version: "1.34.0", source: f.crictl } } : {}),
        },
    }));
    const script = `set -euo pipefail
export PATH=${sq(`${f.n.bin}:/usr/sbin:/usr/bin:/sbin:/bin`)}
${NODE_LIB}
STEP=tools PHASE=start CHANGED="" TXN="" ON_ROLLBACK=""
${stepValues(toolsValues(spec))}cn_tools
`;
    fs.writeFileSync(f.n.calls, "");
    const r = spawnSync("bash", ["-c", script], { env: { ...process.env, CN_DIR: f.n.state, CN_ROOT: f.n.root, BUILDKIT_WAIT: "2" }, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: fs.readFileSync(f.n.calls, "utf8") };
}

const inRoot = (f: ReturnType<typeof fakeNode>, p: string) => path.join(f.n.root, p);

describe("tools: cn_tools (bash, as on the node)", () => {
    it("installs BuildKit and crictl, writes the config and unit, starts buildkit and checks its containerd worker in k8s.io", () => {
        const f = fakeNode();
        const r = runTools(f);
        assert.strictEqual(r.code, 0, r.stderr);
        for (const b of ["buildkitd", "buildctl", "crictl"]) {
            assert.ok(fs.statSync(inRoot(f, `usr/local/bin/${b}`)).mode & 0o100, `${b} installed, executable`);
        }
        assert.strictEqual(fs.readFileSync(inRoot(f, "etc/buildkit/buildkitd.toml"), "utf8"), renderBuildkitdToml(resolveSpec(baseArgs())));
        assert.strictEqual(fs.readFileSync(inRoot(f, "etc/systemd/system/buildkit.service"), "utf8"), renderBuildkitUnit());
        assert.match(r.calls, /^systemctl daemon-reload$/m);
        assert.match(r.calls, /^systemctl enable buildkit$/m);
        assert.match(r.calls, /^systemctl restart buildkit$/m);
        assert.match(r.calls, new RegExp(`^buildctl --addr unix://${BUILDKIT_SOCKET} debug workers --verbose$`, "m"));
        assert.match(r.stderr, /BuildKit v0\.34\.2 is running with containerd's worker in k8s\.io/);
        assert.match(r.stderr, /crictl 1\.34\.0 in \/usr\/local\/bin/);
        assert.strictEqual(fs.readFileSync(path.join(f.n.state, "tools", "crictl"), "utf8"), "1.34.0\n", "the crictl it installed is marked as its own");
    });
    it("a second run changes nothing and restarts nothing; a changed config restarts buildkit", () => {
        const f = fakeNode();
        assert.strictEqual(runTools(f).code, 0);
        const again = runTools(f);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.doesNotMatch(again.calls, /restart|daemon-reload/);
        assert.match(again.stderr, /BuildKit unchanged: no restart/);
        assert.match(again.stderr, /buildkitd v0\.34\.2 already staged in \S+\/stage\/buildkit-/, "its tarball neither fetched nor unpacked again");
        assert.doesNotMatch(again.stderr, /wrote|installed \//);
        // Stopped meanwhile: started again, though nothing changed.
        fs.rmSync(f.active);
        assert.match(runTools(f).calls, /^systemctl restart buildkit$/m);
        fs.writeFileSync(inRoot(f, "etc/buildkit/buildkitd.toml"), "# edited by hand\n");
        const edited = runTools(f);
        assert.match(edited.stderr, /wrote \S+\/etc\/buildkit\/buildkitd\.toml/);
        assert.match(edited.calls, /^systemctl restart buildkit$/m);
        assert.doesNotMatch(edited.calls, /daemon-reload/, "the unit did not change");
    });
    it("a buildkitd that never serves a containerd worker: the install is rolled back, files and the enable link gone, buildkit stopped", () => {
        const f = fakeNode({ buildctlWorks: false });
        const r = runTools(f);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /step 'tools' failed during 'checking BuildKit': buildkitd does not answer on unix:\/\/\/run\/buildkit\/buildkitd\.sock with a containerd worker in k8s\.io/);
        assert.match(r.stderr, /the node was put back as it was before this step/);
        for (const p of ["usr/local/bin/buildkitd", "usr/local/bin/buildctl", "usr/local/bin/crictl", "etc/buildkit/buildkitd.toml", "etc/systemd/system/buildkit.service",
            "etc/systemd/system/multi-user.target.wants/buildkit.service"]) {
            assert.ok(!fs.existsSync(inRoot(f, p)), `${p} removed`);
        }
        assert.ok(!fs.existsSync(path.join(f.n.state, "tools", "crictl")), "no crictl mark");
        assert.match(r.calls, /^systemctl stop buildkit$/m);
    });
    it("a tarball of another version is refused before anything is installed", () => {
        const f = fakeNode({ buildkitdVersion: "0.33.0" });
        const r = runTools(f);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /failed during 'fetching BuildKit 0\.34\.2': the buildkit tarball holds buildkitd v0\.33\.0, tools\.buildkit\.version declares 0\.34\.2/);
        assert.ok(!fs.existsSync(inRoot(f, "usr/local/bin")), "nothing installed");
        assert.doesNotMatch(r.calls, /systemctl/);
    });
    it("a tarball whose binary does not run here (another architecture) is refused, saying so", () => {
        const f = fakeNode({ buildkitdVersion: "" });
        fs.writeFileSync(path.join(f.n.dir, "buildkit", "bin", "buildkitd"), "\x7fELF not for this machine", { mode: 0o755 });
        const tgz = path.join(f.n.dir, "buildkit.tgz");
        assert.strictEqual(spawnSync("tar", ["-czf", tgz, "-C", path.join(f.n.dir, "buildkit"), "."]).status, 0);
        f.buildkit.sha256 = spawnSync("sha256sum", [tgz], { encoding: "utf8" }).stdout.slice(0, 64);
        fs.copyFileSync(tgz, path.join(f.n.state, "cache", `buildkit-${f.buildkit.sha256.slice(0, 16)}`));
        const r = runTools(f, { buildkit: true });
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /the buildkit tarball's bin\/buildkitd does not run on this node \(x86_64\): expected the linux-amd64 release/);
        assert.ok(!fs.existsSync(inRoot(f, "usr/local/bin")), "nothing installed");
    });
    it("crictl: a crictl the node has of its own is left as it is", () => {
        const f = fakeNode({ crictlOnPath: true });
        const r = runTools(f, { crictl: true });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /the node has crictl at \S+\/bin\/crictl \(v1\.20\.0\), not installed by containerd-node: left as it is/);
        assert.ok(!fs.existsSync(inRoot(f, "usr/local/bin/crictl")));
        assert.doesNotMatch(r.calls, /buildkit/, "no BuildKit without tools.buildkit");
    });
});
