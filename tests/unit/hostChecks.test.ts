import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostFacts, NodeFacts } from "../../components/facts";
import { hostRefusals, tarballArch } from "../../components/preflight/hostChecks";
import { parseHostFacts, parseNodeFacts } from "../../components/preflight/readFacts";
import { HOST_FACTS } from "../../components/scripts/lib";
import { NODE_LIB } from "../../components/nodeFiles";
import { nodeFactsScript } from "../../components/scripts/upgradeFacts";
import { resolveSpec } from "../../components/spec";
import { baseArgs, DOCKER_FACTS } from "./helpers";

const HOST: HostFacts = { arch: "amd64", systemd: true, freeMiB: { "/var/lib/containerd": 5000, "/var/lib/containerd-node": 5000 }, runc: true };

describe("the pre-flight's checks of the machine", () => {
    const spec = resolveSpec(baseArgs({ kubelet: { version: "1.31.4" } }));
    const refusals = (host: Partial<HostFacts>, facts: NodeFacts = DOCKER_FACTS, s = spec, moves = true) =>
        hostRefusals("n1", s, facts, { ...HOST, ...host }, moves);

    it("a machine with what a conversion needs is refused nothing", () => {
        assert.deepStrictEqual(refusals({ kubeletVersion: "v1.31.4" }), []);
    });
    it("each missing need is named with the node, what was found and the input it is about", () => {
        assert.deepStrictEqual(refusals({ systemd: false }), ["n1: systemd is required: the node has no systemctl"]);
        assert.deepStrictEqual(refusals({ arch: "arm64" }), ["n1: containerd.source.url is a linux-amd64 tarball, the node is arm64"]);
        assert.deepStrictEqual(refusals({ freeMiB: { "/var/lib/containerd": 5000, "/var/lib/containerd-node": 100 } }),
            ["n1: only 100 MiB free on the filesystem of /var/lib/containerd-node, need 1024 MiB (minFreeDiskMiB)"]);
        assert.deepStrictEqual(refusals({ runc: false }), ["n1: the containerd tarball brings no runc and the node has none: set containerd.runc"]);
        assert.deepStrictEqual(refusals({ kubeletVersion: "v1.30.2" }), ["n1: the node's kubelet is v1.30.2, kubelet.version declares 1.31.4"]);
    });
    it("the free space is checked only when the run installs or moves containerd", () => {
        const full = { freeMiB: { "/var/lib/containerd": 10 } };
        assert.strictEqual(refusals(full).length, 1);
        assert.deepStrictEqual(refusals(full, DOCKER_FACTS, spec, false), [], "a converted node that filled up since is not refused a run");
    });
    it("a declared runc, a package or Docker's own containerd: checked for what each needs", () => {
        const withRunc = resolveSpec(baseArgs({ containerd: { ...baseArgs().containerd, runc: { url: "https://example.com/runc.amd64", sha256: "b".repeat(64) } } }));
        assert.deepStrictEqual(refusals({ runc: false }, DOCKER_FACTS, withRunc), []);
        const pkg = resolveSpec(baseArgs({ containerd: { version: "1.7", source: { kind: "package" } } }));
        assert.deepStrictEqual(refusals({ runc: false }, DOCKER_FACTS, pkg), ["n1: containerd.source is package but the node has no apt-get, dnf or yum"]);
        assert.deepStrictEqual(refusals({ packageManager: "apt-get" }, DOCKER_FACTS, pkg), []);
        const docker = resolveSpec(baseArgs({ containerd: { version: "1.6", source: { kind: "docker" } } }));
        assert.deepStrictEqual(refusals({}, DOCKER_FACTS, docker), ["n1: containerd.source is docker but no containerd binary is installed"]);
        const bundled = (v: string): NodeFacts => ({ ...DOCKER_FACTS, upgrade: { ...DOCKER_FACTS.upgrade, containerdBinary: "/usr/bin/containerd", containerdVersion: { major: 1, minor: Number(v.split(".")[1]), patch: 0, text: v } } });
        assert.deepStrictEqual(refusals({}, bundled("1.6.0"), docker), []);
        assert.deepStrictEqual(refusals({}, bundled("1.7.0"), docker), ["n1: Docker's containerd is 1.7.0, containerd.version declares 1.6"]);
    });
    it("the tarball's architecture comes from its URL", () => {
        assert.strictEqual(tarballArch("https://x/containerd-2.1.4-linux-arm64.tar.gz"), "arm64");
        assert.strictEqual(tarballArch("https://x/containerd.tgz"), undefined);
    });
});

describe("the facts reader's machine facts (host_facts), run here", () => {
    const run = (script: string, cnDir: string) => spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, CN_DIR: cnDir, CN_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), "cnode-root-")) } });
    it("reads the architecture, free space of each path asked about, runc, Docker; writes nothing unless asked to prepare", () => {
        const cn = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-host-"));
        const dir = path.join(cn, "state");
        // A tmpfs, whose free space nothing else in the suite changes (the disk's moves while e2e files run).
        const shm = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
        const r = run(nodeFactsScript({ stateDir: dir, freePaths: [shm] }), dir);
        assert.strictEqual(r.status, 0, r.stderr);
        const host = parseNodeFacts(r.stdout).host!;
        const uname = spawnSync("uname", ["-m"], { encoding: "utf8" }).stdout.trim();
        assert.strictEqual(host.arch, uname === "x86_64" ? "amd64" : uname === "aarch64" ? "arm64" : uname);
        assert.deepStrictEqual(Object.keys(host.freeMiB), [shm, dir]);
        const df = Number(spawnSync("df", ["-Pm", shm], { encoding: "utf8" }).stdout.split("\n")[1].split(/\s+/)[3]);
        assert.ok(Math.abs(host.freeMiB[shm] - df) < 64, `${host.freeMiB[shm]} MiB against df's ${df}`);
        assert.ok(host.freeMiB[dir] > 0, "the state directory's filesystem, found from its nearest existing parent");
        assert.strictEqual(host.runc, spawnSync("bash", ["-c", "command -v runc"]).status === 0);
        assert.strictEqual(host.kubeletVersion, undefined, "not asked for");
        assert.strictEqual(host.runtimeBefore, undefined, "nothing recorded yet");
        assert.ok(!fs.existsSync(dir), "the read wrote nothing");
        const p = run(nodeFactsScript({ stateDir: dir, prepare: true }), dir);
        assert.strictEqual(p.status, 0, p.stderr);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["cache", "lib"], "at up: containerd-node's own directories, nothing else");
    });
    it("names the architecture as release files do, with the library's own cn_arch in the read's text", () => {
        const r = spawnSync("bash", ["-c", `${HOST_FACTS}for h in x86_64 aarch64 riscv64; do HOSTTYPE=$h; cn_arch; done`], { encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "amd64\narm64\nriscv64\n");
    });
    it("the runtime before the first run: as the library recorded it with the original state, or told from an older library's record", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-host-"));
        // cn_backup records what detect_runtime says before any change.
        const b = spawnSync("bash", ["-c", `set -euo pipefail\n${NODE_LIB}\nSTEP=t PHASE=x KUBELET_CONFIG=/nonexistent\ncn_backup\ndetect_runtime`], { encoding: "utf8", env: { ...process.env, CN_DIR: dir } });
        assert.strictEqual(b.status, 0, b.stderr);
        const recorded = fs.readFileSync(path.join(dir, "original", "runtime"), "utf8").trim();
        assert.strictEqual(recorded, b.stdout.trim());
        fs.writeFileSync(path.join(dir, "original", "runtime"), "docker://20.10.24\n");
        assert.strictEqual(parseHostFacts(run(nodeFactsScript({ stateDir: dir }), dir).stdout)!.runtimeBefore, "docker://20.10.24");
        // Saved by a library that did not record it: containerd was active, its binary is in the saved files.
        fs.rmSync(path.join(dir, "original", "runtime"));
        fs.writeFileSync(path.join(dir, "original", "services"), "containerd active enabled\ndocker inactive disabled\n");
        fs.mkdirSync(path.join(dir, "original", "files", "usr", "local", "bin"), { recursive: true });
        fs.writeFileSync(path.join(dir, "original", "files", "usr", "local", "bin", "containerd"), "#!/bin/sh\necho containerd github.com/containerd/containerd v1.7.35 abc\n", { mode: 0o755 });
        assert.strictEqual(parseHostFacts(run(nodeFactsScript({ stateDir: dir }), dir).stdout)!.runtimeBefore, "containerd://1.7.35");
        assert.ok(!fs.existsSync(path.join(dir, "original", "runtime")), "a preview's read writes nothing");
        // At up, recorded once, so later reads need not tell it again.
        assert.strictEqual(parseHostFacts(run(nodeFactsScript({ stateDir: dir, prepare: true }), dir).stdout)!.runtimeBefore, "containerd://1.7.35");
        assert.strictEqual(fs.readFileSync(path.join(dir, "original", "runtime"), "utf8"), "containerd://1.7.35\n");
    });
    it("facts without machine lines (an older reader's) parse without them: nothing is checked", () => {
        assert.strictEqual(parseHostFacts("containerd-node-runtime none\n"), undefined);
    });
});
