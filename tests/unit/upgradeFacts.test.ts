import { TOP_OF_FILE } from "../../components/render/configToml";
import * as assert from "assert";
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cgroupVerdicts, parseCgroupFs, parseLibc } from "../../components/compat";
import { UpgradeFacts } from "../../components/facts";
import { nodeFactsScript, upgradeFactsScript, UPGRADE_FACTS_FN, UPGRADE_FACTS_LIMITS } from "../../components/scripts/upgradeFacts";
import { parseNodeFacts } from "../../components/preflight/readFacts";
import { sq } from "../../components/scripts/shell";
import { parseCtrDeprecations } from "../../components/upgrade/deprecations";
import { ctrDeprecationsOutput, parseUpgradeFacts } from "../../components/upgrade/facts";
import { readLiveConfig } from "../../components/upgrade/liveConfig";
import { parseVersion, Version } from "../../components/versions";

// These run the exact bash the nodes would run, against a fake node tree (CN_ROOT) with fake
// systemctl, getconf, ldd and stat first on PATH; containerd and ctr are found inside the tree.

interface Fake {
    dir: string;
    root: string;
    bin: string;
    tmp: string;
}

function fakeNode(): Fake {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-facts-"));
    const f = { dir, root: path.join(dir, "root"), bin: path.join(dir, "bin"), tmp: path.join(dir, "tmp") };
    for (const d of [f.root, f.bin, f.tmp]) {
        fs.mkdirSync(d);
    }
    return f;
}

function put(f: Fake, nodePath: string, content: string | Buffer, mode = 0o644) {
    const p = path.join(f.root, nodePath);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode });
}

/** A tool on PATH: a sh script. */
function tool(f: Fake, name: string, body: string) {
    fs.writeFileSync(path.join(f.bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/**
 * systemctl show -p PROP… containerd, as systemd prints it: one PROP=VALUE line each, in its own
 * order (here the reverse of the arguments').
 */
function systemctl(f: Fake, mainPid: number, execStart: string) {
    tool(f, "systemctl", `[ "$1" = show ] || { echo "fake systemctl: $*" >&2; exit 1; }
shift
out=""
while [ "$1" = -p ]; do
  case "$2" in
    MainPID) line=${sq(`MainPID=${mainPid}`)} ;;
    ExecStart) line=${sq(`ExecStart=${execStart}`)} ;;
    *) line="$2=" ;;
  esac
  out="$line
$out"
  shift 2
done
[ "$1" = containerd ] && [ $# -eq 1 ] || { echo "fake systemctl: $*" >&2; exit 1; }
printf '%s' "$out"`);
}

const execStart = (argv: string) => `{ path=${argv.split(" ")[0]} ; argv[]=${argv} ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }`;

/** Everything about the tree that a write would change: kind, mode, size, mtime, ctime, content or link. */
function snapshot(root: string): { [p: string]: string } {
    const out: { [p: string]: string } = {};
    const walk = (p: string) => {
        const st = fs.lstatSync(p);
        const rel = path.relative(root, p) || ".";
        const what = st.isSymbolicLink() ? `link ${fs.readlinkSync(p)}`
            : st.isDirectory() ? `dir ${fs.readdirSync(p).sort().join("/")}`
                : `file ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`;
        out[rel] = `${what} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ctime=${st.ctimeMs}`;
        if (st.isDirectory()) {
            for (const e of fs.readdirSync(p)) {
                walk(path.join(p, e));
            }
        }
    };
    walk(root);
    return out;
}

/** Runs the reader; asserts it changed nothing in the tree and left nothing in TMPDIR. */
function read(f: Fake, kubeletConfig?: string, env: { [k: string]: string } = {}, runtime?: string): { facts: UpgradeFacts; stdout: string; stderr: string } {
    const before = snapshot(f.root);
    const r = spawnSync("bash", ["-c", upgradeFactsScript(kubeletConfig, runtime)], {
        encoding: "utf8",
        env: { ...process.env, CN_ROOT: f.root, PATH: `${f.bin}:${process.env.PATH}`, TMPDIR: f.tmp, ...env },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(snapshot(f.root), before, "the reader changed the node's files");
    assert.deepStrictEqual(fs.readdirSync(f.tmp), [], "the reader left a temporary file");
    return { facts: parseUpgradeFacts(r.stdout), stdout: r.stdout, stderr: r.stderr };
}

const ver = (t: string) => parseVersion(t) as Version;
const disk = (f: Fake, p: string) => fs.readFileSync(path.join(f.root, p));
const CRI = "io.containerd.grpc.v1.cri";

const MAIN = `# An installer's 1.7 config, edited by hand
version = 2
root = "/var/lib/containerd" # a comment with ] and "
required_plugins = [
  "${CRI}",
]
imports = [
  "/etc/containerd/conf.d/*.toml", # drop-ins ], "/not/this.toml"
  'local/../local/extra.toml',
]

[grpc]
  address = "/run/k8s/containerd.sock"

[plugins."${CRI}"]
  sandbox_image = "registry.k8s.io/pause:3.9"
`;
// Quotes, "]" inside strings and comments, a backslash, UTF-8, no newline at the end.
const TRICKY = `# "quotes", ] brackets, [not a table] in a comment; grüße
[plugins."${CRI}".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example/]\\"q\\"", 'C:\\path']`;
const DEPRECATIONS = [{ id: "io.containerd.deprecation/cri-registry-mirrors", message: "The `mirrors` property of `[plugins.\"io.containerd.grpc.v1.cri\".registry]` is deprecated", lastOccurrence: "2026-11-02T10:00:00Z" }];

/** A 1.7 node as installers leave it: a running containerd on a config with drop-ins. */
function installerNode(ctrOut: string): Fake {
    const f = fakeNode();
    put(f, "/etc/containerd/custom.toml", MAIN);
    put(f, "/etc/containerd/conf.d/10-runtime.toml", `imports = ["../nested/*.toml"]
[plugins."${CRI}".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"
`);
    put(f, "/etc/containerd/conf.d/20-tricky.toml", TRICKY);
    put(f, "/etc/containerd/conf.d/.hidden.toml", "[debug]\n  level = \"debug\"\n");
    put(f, "/etc/containerd/conf.d/README", "not a toml: not matched\n");
    put(f, "/etc/containerd/local/extra.toml", "[debug]\n  level = \"info\"\n");
    // imports the main file and itself: each file is read once
    put(f, "/etc/containerd/nested/n.toml", "imports = [\"/etc/containerd/custom.toml\", \"n.toml\"]\noom_score = -999\n");
    put(f, "/etc/containerd/unit.toml", "version = 2\n");
    put(f, "/usr/local/bin/containerd", "#!/bin/sh\necho 'containerd github.com/containerd/containerd v1.7.35 0b3b6a3c6d4dc3a7e1c5c0b2a3ad6f8c0e7f0e52'\n", 0o755);
    put(f, "/usr/local/bin/ctr", `#!/bin/sh
echo "ctr called with: $*" >&2
[ "$*" = "--address /run/k8s/containerd.sock deprecations list --format json" ] || exit 3
printf '%s' ${sq(ctrOut)}
`, 0o755);
    put(f, "/proc/4242/cmdline", "/usr/local/bin/containerd\0--log-level\0info\0--config\0/etc/containerd/custom.toml\0");
    put(f, "/var/lib/kubelet/config.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailCgroupV1: false # KEP-5573\ncgroupDriver: systemd\n");
    fs.mkdirSync(path.join(f.root, "sys/fs/cgroup"), { recursive: true });
    // the unit on disk names another file: the running process's arguments win
    systemctl(f, 4242, execStart("/usr/bin/containerd --config /etc/containerd/unit.toml"));
    tool(f, "getconf", `[ "$1" = GNU_LIBC_VERSION ] && echo "glibc 2.36"`);
    tool(f, "stat", `if [ "$1 $2 $3" = "-fc %T $CN_ROOT/sys/fs/cgroup/" ]; then echo tmpfs; else exec /usr/bin/stat "$@"; fi`);
    return f;
}

describe("upgrade facts: the node-side reader (bash, as on the node) and its parser", () => {
    it("reads a running 1.7's config, its imports in containerd's load order, binaries, ctr, glibc, cgroup and the kubelet's failCgroupV1", () => {
        const f = installerNode(JSON.stringify(DEPRECATIONS));
        const { facts } = read(f);
        assert.strictEqual(facts.configPath, "/etc/containerd/custom.toml");
        assert.strictEqual(facts.configSource, "process");
        assert.strictEqual(facts.pid, 4242);
        const C = "/etc/containerd";
        assert.deepStrictEqual(facts.files.map(x => [x.path, x.importedBy, x.status]), [
            [`${C}/custom.toml`, undefined, "present"],
            // the glob's matches sorted by bytes, a dot file included (Go's filepath.Glob), README not
            [`${C}/conf.d/.hidden.toml`, `${C}/custom.toml`, "present"],
            [`${C}/conf.d/10-runtime.toml`, `${C}/custom.toml`, "present"],
            [`${C}/conf.d/20-tricky.toml`, `${C}/custom.toml`, "present"],
            // relative to the importing file's directory, cleaned
            [`${C}/local/extra.toml`, `${C}/custom.toml`, "present"],
            // a nested import, relative glob; its imports of the main file and itself are not read again
            [`${C}/nested/n.toml`, `${C}/conf.d/10-runtime.toml`, "present"],
        ]);
        for (const x of facts.files) {
            assert.ok(x.status === "present" && x.bytes.equals(disk(f, x.path)), `${x.path} byte for byte`);
        }
        assert.strictEqual(facts.dropIns[`${C}/conf.d/20-tricky.toml`], TRICKY);
        assert.deepStrictEqual(facts.dropIns, Object.fromEntries(facts.files.slice(1).map(x => [x.path, disk(f, x.path).toString("utf8")])),
            "every imported file's text, exactly");
        assert.deepStrictEqual(facts.main, { path: `${C}/custom.toml`, text: MAIN });
        assert.deepStrictEqual(facts.notes, []);
        assert.strictEqual(facts.grpcAddress, "/run/k8s/containerd.sock");

        assert.strictEqual(facts.containerdBinary, "/usr/local/bin/containerd");
        assert.strictEqual(facts.containerdVersion?.text, "1.7.35");
        assert.strictEqual(facts.ctrBinary, "/usr/local/bin/ctr");
        assert.strictEqual(facts.ctrDeprecations?.exitCode, 0);
        assert.strictEqual(facts.ctrDeprecations?.stderr, "ctr called with: --address /run/k8s/containerd.sock deprecations list --format json\n");

        // straight into the pure analysis
        const live = readLiveConfig(facts.main!, facts.dropIns, facts.containerdVersion!);
        assert.deepStrictEqual(live.files, facts.files.map(x => x.path), "bash and TypeScript agree on the load order");
        assert.deepStrictEqual(live.settings.find(s => s.key.endsWith(`mirrors."docker.io".endpoint`))?.value, ["https://mirror.example/]\"q\"", "C:\\path"]);
        assert.strictEqual(live.settings.find(s => s.key.endsWith("nvidia.runtime_type")), undefined,
            "1.x replaces the CRI table: 20-tricky.toml's wipes 10-runtime.toml's handler (containerd#5837)");
        assert.deepStrictEqual(live.settings.find(s => s.key === "oom_score"), { key: "oom_score", path: ["oom_score"], value: -999, file: `${C}/nested/n.toml` });
        assert.strictEqual(live.settings.find(s => s.key === "debug.level")?.value, "info", "extra.toml is loaded after the glob's files");
        const out = ctrDeprecationsOutput(facts);
        assert.ok("stdout" in out);
        assert.deepStrictEqual(parseCtrDeprecations(out.stdout), DEPRECATIONS);

        assert.strictEqual(facts.libc, "glibc 2.36");
        assert.strictEqual(parseLibc(facts.libc!).kind, "glibc");
        assert.strictEqual(facts.cgroupFs, "tmpfs");
        assert.deepStrictEqual(facts.kubeletConfig, { path: "/var/lib/kubelet/config.yaml", status: "present" });
        assert.strictEqual(facts.failCgroupV1, false);
        const verdicts = cgroupVerdicts(parseCgroupFs(facts.cgroupFs!), ver("2.3.7"), ver("1.35.0"), facts.failCgroupV1);
        assert.ok(!verdicts.some(v => v.status === "refused"), "failCgroupV1: false lets a 1.35 kubelet run on v1");
    });

    it("the whole read on a containerd node runs `containerd --version` once: the runtime line and the upgrade facts are read off that run", () => {
        const f = installerNode(JSON.stringify(DEPRECATIONS));
        const runs = path.join(f.dir, "runs");
        put(f, "/usr/local/bin/containerd", `#!/bin/sh\necho run >>${sq(runs)}\necho 'containerd github.com/containerd/containerd v1.7.35 0b3b6a3c'\n`, 0o755);
        // systemctl as before, and containerd.service active (the kubelet's flags name no runtime here)
        fs.renameSync(path.join(f.bin, "systemctl"), path.join(f.bin, "systemctl-show"));
        tool(f, "systemctl", `case "$1 $2 $3" in "is-active -q containerd") exit 0 ;; "is-active -q "*) exit 3 ;; esac\nexec ${sq(path.join(f.bin, "systemctl-show"))} "$@"`);
        // the containerd on PATH is the running one (/proc/4242/cmdline's), under CN_ROOT
        const script = nodeFactsScript({ stateDir: path.join(f.dir, "cn") }).replace(/^export LC_ALL=C PATH=.*$/m, "export LC_ALL=C");
        const before = snapshot(f.root);
        const r = spawnSync("bash", ["-c", script], {
            encoding: "utf8",
            env: { ...process.env, CN_ROOT: f.root, PATH: `${f.root}/usr/local/bin:${f.bin}:${process.env.PATH}`, TMPDIR: f.tmp },
        });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(snapshot(f.root), before, "the reader changed the node's files");
        const facts = parseNodeFacts(r.stdout);
        assert.strictEqual(facts.runtime, "containerd://1.7.35");
        assert.strictEqual(facts.upgrade.containerdVersion?.text, "1.7.35");
        assert.strictEqual(facts.upgrade.containerdBinary, "/usr/local/bin/containerd");
        assert.strictEqual(fs.readFileSync(runs, "utf8"), "run\n", "containerd --version ran once");
        // another containerd first on PATH than the running one: each is asked
        fs.writeFileSync(runs, "");
        const other = path.join(f.dir, "other");
        fs.mkdirSync(other);
        fs.writeFileSync(path.join(other, "containerd"), `#!/bin/sh\necho other >>${sq(runs)}\necho 'containerd github.com/containerd/containerd/v2 v2.2.9 x'\n`, { mode: 0o755 });
        const r2 = spawnSync("bash", ["-c", script], {
            encoding: "utf8",
            env: { ...process.env, CN_ROOT: f.root, PATH: `${other}:${f.root}/usr/local/bin:${f.bin}:${process.env.PATH}`, TMPDIR: f.tmp },
        });
        assert.strictEqual(r2.status, 0, r2.stderr);
        const facts2 = parseNodeFacts(r2.stdout);
        assert.strictEqual(facts2.runtime, "containerd://2.2.9", "the runtime line: the containerd on PATH");
        assert.strictEqual(facts2.upgrade.containerdVersion?.text, "1.7.35", "the upgrade facts: the running containerd");
        assert.strictEqual(fs.readFileSync(runs, "utf8"), "other\nrun\n");
    });

    it("at up, keeps what `containerd --version` and `kubelet --version` printed, per build of each binary: later reads (a preview's too) run neither while it is the same file", () => {
        const f = installerNode(JSON.stringify(DEPRECATIONS));
        const runs = path.join(f.dir, "runs");
        const containerd = (v: string, rc = 0) => put(f, "/usr/local/bin/containerd", `#!/bin/sh\necho containerd >>${sq(runs)}\necho 'containerd github.com/containerd/containerd ${v} 0b3b6a3c'\nexit ${rc}\n`, 0o755);
        containerd("v1.7.35");
        tool(f, "kubelet", `echo kubelet >>${sq(runs)}\necho 'Kubernetes v1.30.4'`);
        fs.renameSync(path.join(f.bin, "systemctl"), path.join(f.bin, "systemctl-show"));
        tool(f, "systemctl", `case "$1 $2 $3" in "is-active -q containerd") exit 0 ;; "is-active -q "*) exit 3 ;; esac\nexec ${sq(path.join(f.bin, "systemctl-show"))} "$@"`);
        const stateDir = path.join(f.dir, "cn");
        const env = { ...process.env, CN_ROOT: f.root, PATH: `${f.root}/usr/local/bin:${f.bin}:${process.env.PATH}`, TMPDIR: f.tmp };
        const script = (prepare: boolean) => nodeFactsScript({ stateDir, kubelet: true, prepare }).replace(/^export LC_ALL=C PATH=.*$/m, "export LC_ALL=C");
        const readNode = (prepare: boolean) => {
            fs.writeFileSync(runs, "");
            const r = spawnSync("bash", ["-c", script(prepare)], { encoding: "utf8", env });
            assert.strictEqual(r.status, 0, r.stderr);
            return { stdout: r.stdout, facts: parseNodeFacts(r.stdout), ran: fs.readFileSync(runs, "utf8") };
        };
        const memos = () => fs.existsSync(path.join(stateDir, "cache")) ? fs.readdirSync(path.join(stateDir, "cache")).sort() : [];

        const preview = readNode(false);
        assert.strictEqual(preview.ran, "containerd\nkubelet\n");
        assert.strictEqual(preview.facts.runtime, "containerd://1.7.35");
        assert.strictEqual(preview.facts.host?.kubeletVersion, "v1.30.4");
        assert.deepStrictEqual(memos(), [], "a preview's read writes nothing");
        const up = readNode(true);
        assert.strictEqual(up.ran, "containerd\nkubelet\n");
        assert.deepStrictEqual(memos(), ["memo-containerd", "memo-kubelet"]);
        // Every later read, at preview or at up, prints the same facts without running either binary.
        for (const prepare of [false, true]) {
            const again = readNode(prepare);
            assert.strictEqual(again.ran, "", `no binary run (prepare: ${prepare})`);
            // (The free space is the machine's, which anything else running may change between two reads.)
            const steady = (out: string) => out.replace(/^containerd-node-host free \d+ /m, "containerd-node-host free N ");
            assert.strictEqual(steady(again.stdout), steady(preview.stdout));
        }
        // Rewritten in place (same path, same inode): another build, asked again, at preview too.
        containerd("v1.7.36");
        const rewritten = readNode(false);
        assert.strictEqual(rewritten.ran, "containerd\n");
        assert.strictEqual(rewritten.facts.runtime, "containerd://1.7.36");
        assert.strictEqual(rewritten.facts.upgrade.containerdVersion?.text, "1.7.36");
        assert.strictEqual(readNode(true).ran, "containerd\n");
        assert.strictEqual(readNode(false).ran, "", "kept by the read at up");
        // A --version that fails is reported as it is and never kept: every read asks again.
        containerd("v1.7.36", 2);
        for (let i = 0; i < 2; i++) {
            const failing = readNode(true);
            assert.strictEqual(failing.ran, "containerd\n");
            assert.strictEqual(failing.facts.upgrade.containerdVersion, undefined);
        }
    });

    it("reads the imports and ctr's deprecations only where a hand-made config of a containerd in use is judged", () => {
        const full = read(installerNode(JSON.stringify(DEPRECATIONS)), undefined, {}, "containerd://1.7.35").facts;
        assert.strictEqual(full.light, undefined);
        assert.ok(full.files.length > 1, "imports followed");
        assert.ok(full.ctrDeprecations, "ctr run");
        // Docker in use (its own containerd underneath): only what the Docker path reads.
        const docker = read(installerNode(JSON.stringify(DEPRECATIONS)), undefined, {}, "docker://20.10.24").facts;
        assert.strictEqual(docker.light, "the runtime in use is docker://20.10.24");
        assert.deepStrictEqual(docker.files.map(x => x.path), ["/etc/containerd/custom.toml"], "the main config only");
        assert.strictEqual(docker.ctrDeprecations, undefined, "ctr not run");
        assert.strictEqual(docker.ctrBinary, "/usr/local/bin/ctr");
        assert.strictEqual(docker.containerdVersion?.text, "1.7.35", "containerd's version still read (containerd.source docker)");
        assert.strictEqual(docker.libc, "glibc 2.36");
        assert.strictEqual(docker.failCgroupV1, false);
        // A config this package wrote: its imports and deprecations are not judged either.
        const own = installerNode(JSON.stringify(DEPRECATIONS));
        put(own, "/etc/containerd/custom.toml", TOP_OF_FILE + MAIN);
        const mine = read(own, undefined, {}, "containerd://1.7.35").facts;
        assert.strictEqual(mine.light, "the config is containerd-node's own");
        assert.deepStrictEqual(mine.files.map(x => x.path), ["/etc/containerd/custom.toml"]);
        assert.strictEqual(mine.ctrDeprecations, undefined);
        assert.ok(mine.main?.text.startsWith(TOP_OF_FILE), "what planNode checks");
        // The first line alone, without its newline, is not the file's own: judged in full, as planNode would.
        put(own, "/etc/containerd/custom.toml", TOP_OF_FILE.trimEnd());
        assert.strictEqual(read(own, undefined, {}, "containerd://1.7.35").facts.light, undefined);
    });
    it("a containerd that is not running: the unit's -c names the config; ctr printing nothing means no deprecations", () => {
        const f = fakeNode();
        put(f, "/etc/containerd/from-unit.toml", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"pause:3.9\"\n");
        put(f, "/etc/containerd/config.toml", "version = 2\n# not the unit's file\n");
        put(f, "/usr/bin/containerd", "#!/bin/sh\necho 'containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da'\n", 0o755);
        put(f, "/usr/bin/ctr", "#!/bin/sh\necho \"ctr called with: $*\" >&2\n", 0o755);
        // a ctr elsewhere that the reader must not prefer over the one next to containerd
        put(f, "/usr/local/bin/ctr", "#!/bin/sh\necho wrong ctr; exit 9\n", 0o755);
        systemctl(f, 0, execStart("/usr/bin/containerd -c /etc/containerd/from-unit.toml"));
        put(f, "/etc/kubelet.yaml", "kind: KubeletConfiguration\n");
        const { facts } = read(f, "/etc/kubelet.yaml");
        assert.strictEqual(facts.pid, undefined);
        assert.strictEqual(facts.configSource, "unit");
        assert.strictEqual(facts.configPath, "/etc/containerd/from-unit.toml");
        assert.deepStrictEqual(facts.files.map(x => x.path), ["/etc/containerd/from-unit.toml"]);
        assert.deepStrictEqual(facts.dropIns, {});
        assert.strictEqual(facts.containerdBinary, "/usr/bin/containerd");
        assert.strictEqual(facts.containerdVersion?.text, "1.7.27", "docker's containerd.io says its version third too");
        assert.strictEqual(facts.ctrBinary, "/usr/bin/ctr");
        assert.strictEqual(facts.grpcAddress, undefined);
        assert.deepStrictEqual(facts.ctrDeprecations, { exitCode: 0, timedOut: false, stdout: "", stderr: "ctr called with: deprecations list --format json\n" });
        assert.deepStrictEqual(ctrDeprecationsOutput(facts), { stdout: "" });
        assert.deepStrictEqual(parseCtrDeprecations(facts.ctrDeprecations!.stdout), []);
        assert.deepStrictEqual(facts.kubeletConfig, { path: "/etc/kubelet.yaml", status: "present" });
        assert.strictEqual(facts.failCgroupV1, undefined, "not set: the kubelet's default");
    });

    it("a node without containerd: no config, no binaries, no unit; glibc from ldd, no cgroup answer", () => {
        const f = fakeNode();
        systemctl(f, 0, "");
        tool(f, "getconf", "exit 1");
        tool(f, "ldd", `[ "$1" = --version ] && printf 'ldd (Debian GLIBC 2.31-13+deb11u11) 2.31\\nCopyright (C) 2020 Free Software Foundation, Inc.\\n'`);
        tool(f, "stat", "exit 1");
        const { facts } = read(f);
        assert.strictEqual(facts.configSource, "default");
        assert.strictEqual(facts.configPath, "/etc/containerd/config.toml");
        assert.strictEqual(facts.main, undefined);
        assert.deepStrictEqual(facts.files, [{ path: "/etc/containerd/config.toml", status: "absent" }]);
        assert.deepStrictEqual(facts.dropIns, {});
        assert.strictEqual(facts.containerdBinary, undefined);
        assert.strictEqual(facts.containerdVersionRun, undefined);
        assert.strictEqual(facts.containerdVersion, undefined);
        assert.strictEqual(facts.ctrBinary, undefined);
        assert.deepStrictEqual(ctrDeprecationsOutput(facts), { unavailable: "no ctr binary on the node" });
        assert.strictEqual(facts.libc, "ldd (Debian GLIBC 2.31-13+deb11u11) 2.31");
        const libc = parseLibc(facts.libc!);
        assert.ok(libc.kind === "glibc" && libc.version.text === "2.31");
        assert.strictEqual(facts.cgroupFs, undefined);
        assert.deepStrictEqual(facts.kubeletConfig, { path: "/var/lib/kubelet/config.yaml", status: "absent" });
        assert.strictEqual(facts.failCgroupV1, undefined);
    });

    it("any bytes survive; a missing import is absent, a matched directory an error, an imports form it can't follow a note", () => {
        const f = fakeNode();
        const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from("\n]\"'\r\n[x]\n\0end")]);
        put(f, "/etc/containerd/config.toml", `imports = ["bad/*.bin", "/etc/containerd/missing.toml", "/etc/containerd/bad"]\n`);
        put(f, "/etc/containerd/bad/a.bin", binary);
        put(f, "/etc/containerd/bad/b.bin", "imports = [\"\\u002fetc/x.toml\"]\n");
        fs.mkdirSync(path.join(f.root, "etc/containerd/bad/c.bin"));
        put(f, "/etc/containerd/bad/d.bin", "");
        systemctl(f, 0, "");
        const { facts } = read(f);
        const C = "/etc/containerd";
        assert.deepStrictEqual(facts.files.map(x => [x.path, x.status]), [
            [`${C}/config.toml`, "present"], [`${C}/bad/a.bin`, "present"], [`${C}/bad/b.bin`, "present"],
            [`${C}/bad/c.bin`, "error"], [`${C}/bad/d.bin`, "present"], [`${C}/missing.toml`, "absent"], [`${C}/bad`, "error"],
        ]);
        const a = facts.files[1];
        assert.ok(a.status === "present" && a.bytes.equals(binary), "every byte value, NUL and CR included, no newline at the end");
        const d = facts.files[4];
        assert.ok(d.status === "present" && d.bytes.length === 0 && d.text === "", "an empty file is present and empty");
        const c = facts.files[3];
        assert.ok(c.status === "error" && c.error === "is a directory");
        assert.deepStrictEqual(facts.notes, [`${C}/bad/b.bin: its imports are written in a form this reader does not follow (awk exit 2): not read`]);
        assert.throws(() => readLiveConfig(facts.main!, facts.dropIns, ver("1.7.35")), /bad\/a\.bin: not valid TOML/);
        const { [`${C}/bad/a.bin`]: _a, [`${C}/bad/b.bin`]: _b, [`${C}/bad/d.bin`]: _d, ...rest } = facts.dropIns;
        assert.throws(() => readLiveConfig(facts.main!, rest, ver("1.7.35")), /missing\.toml is imported but was not read from the node/,
            "an import that is not there stops the live-config reader, naming it");
    });

    it("a ctr without the deprecations command and one that hangs: exit status and stderr, or the timeout", () => {
        const f = fakeNode();
        systemctl(f, 0, "");
        put(f, "/usr/local/bin/containerd", "#!/bin/sh\necho 'containerd github.com/containerd/containerd v1.6.20 2806fc1'\n", 0o755);
        put(f, "/usr/local/bin/ctr", "#!/bin/sh\necho \"No help topic for 'deprecations'\" >&2\nexit 3\n", 0o755);
        const old = read(f).facts;
        assert.strictEqual(old.containerdVersion?.text, "1.6.20");
        assert.deepStrictEqual(old.ctrDeprecations, { exitCode: 3, timedOut: false, stdout: "", stderr: "No help topic for 'deprecations'\n" });
        assert.deepStrictEqual(ctrDeprecationsOutput(old), { unavailable: "ctr deprecations list exited 3: No help topic for 'deprecations'" });

        const h = fakeNode();
        systemctl(h, 0, "");
        put(h, "/usr/bin/ctr", "#!/bin/sh\nprintf '[' ; exec sleep 30\n", 0o755);
        const t0 = Date.now();
        const hung = read(h, undefined, { CN_FACTS_TIMEOUT: "1" }).facts;
        assert.ok(Date.now() - t0 < 10000, "the timeout ended it");
        assert.strictEqual(hung.ctrBinary, "/usr/bin/ctr");
        assert.deepStrictEqual(hung.ctrDeprecations, { exitCode: 124, timedOut: true, stdout: "[", stderr: "" });
        assert.deepStrictEqual(ctrDeprecationsOutput(hung), { unavailable: "ctr deprecations list timed out (exit 124)" });
    });

    it("stops at its limits and says so: import depth, number of files", function () {
        // Some 80 files read by bash: seconds on an idle machine, more beside the e2e suite. What is
        // asserted is what the reader read, not how fast.
        this.timeout(120000);
        const deep = fakeNode();
        const depth = UPGRADE_FACTS_LIMITS.depth;
        put(deep, "/etc/containerd/config.toml", "imports = ['d/1.toml']\n");
        for (let i = 1; i <= depth + 2; i++) {
            put(deep, `/etc/containerd/d/${i}.toml`, `imports = ['${i + 1}.toml']\n`);
        }
        systemctl(deep, 0, "");
        const chain = read(deep).facts;
        assert.deepStrictEqual(chain.files.map(x => path.posix.basename(x.path)), ["config.toml", ...Array.from({ length: depth }, (_, i) => `${i + 1}.toml`)],
            `the main file and ${depth} nested levels`);
        assert.deepStrictEqual(chain.notes, [`/etc/containerd/d/${depth}.toml: imports nested deeper than ${depth} files: not read`]);

        const wide = fakeNode();
        const files = UPGRADE_FACTS_LIMITS.files;
        put(wide, "/etc/containerd/config.toml", "imports = ['many/*.toml']\n");
        for (let i = 0; i < files + 1; i++) {
            put(wide, `/etc/containerd/many/${String(i).padStart(3, "0")}.toml`, "");
        }
        systemctl(wide, 0, "");
        const many = read(wide).facts;
        assert.strictEqual(many.files.length, files);
        assert.deepStrictEqual(many.notes, [`more than ${files} config files: /etc/containerd/many/${String(files - 1).padStart(3, "0")}.toml and what follows it were not read`]);
    });

    it("the imports reader: one-line and multi-line arrays, literal and escaped strings, keys before it, nothing in tables", () => {
        const cases: [string, string[]][] = [
            [`imports = ["/a.toml", '/b c.toml', "/back\\\\slash.toml"]`, ["/a.toml", "/b c.toml", "/back\\slash.toml"]],
            [`\uFEFFversion = 2\nimports=[\n  # first\n  "/a\\"q.toml" ,\n\n  '/C:\\x.toml', ] # done\n`, ["/a\"q.toml", "/C:\\x.toml"]],
            [`root = "/x # not a comment"\nstate = """\nimports = ['/no.toml']\n"""\nimports = ["/yes.toml"]`, ["/yes.toml"]],
            [`list = [ [1, 2], ["]"] ]\n"imports" = ['/quoted-key.toml']`, ["/quoted-key.toml"]],
            [`[plugins.x]\nimports = ["/in-a-table.toml"]`, []],
            [`version = 2\n[debug]\n`, []],
        ];
        for (const [text, want] of cases) {
            const f = fakeNode();
            put(f, "/etc/containerd/config.toml", text);
            for (const p of want) {
                put(f, p, "");
            }
            systemctl(f, 0, "");
            const { facts } = read(f);
            assert.deepStrictEqual(facts.files.slice(1).map(x => x.path), want, text);
            assert.deepStrictEqual(facts.notes, [], text);
        }
    });

    it("encodes a string in bash as base64 does: every byte value but NUL, every length's padding", () => {
        const f = fakeNode();
        const every = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
        const strings = [every, Buffer.from(""), Buffer.from("a"), Buffer.from("ab"), Buffer.from("abc"), Buffer.from("abcd"),
            Buffer.from("\n"), Buffer.from("/etc/containerd/grüße.toml\n"), Buffer.from("' \" \\ $x `y`")];
        strings.forEach((s, i) => fs.writeFileSync(path.join(f.tmp, `s${i}`), s));
        // Each file's bytes into a variable (the x keeps trailing newlines), under the locale a user's shell may have.
        const r = spawnSync("bash", ["-c", `${UPGRADE_FACTS_FN}for f in "$@"; do s=$(cat "$f"; echo x); uf_sv o "\${s%x}"; printf "%s\\n" "\$o"; done`,
            "uf", ...strings.map((_, i) => path.join(f.tmp, `s${i}`))], { encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8" } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.split("\n").slice(0, -1), strings.map(s => s.length ? s.toString("base64") : "-"));
    });

    it("is shellcheck-clean", () => {
        assert.strictEqual(spawnSync("shellcheck", ["--version"]).status, 0, "shellcheck is missing: bash lab/install-deps.sh installs it");
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: upgradeFactsScript(), encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout);
    });
});

describe("upgrade facts: parser errors", () => {
    const b = (s: string) => Buffer.from(s).toString("base64");
    const ok = [
        "containerd-node-upgrade-facts 1 begin",
        `config ${b("/etc/containerd/config.toml")} default`,
        `file ${b("/etc/containerd/config.toml")} - present ${b("version = 2\n")}`,
        `kubelet-config ${b("/var/lib/kubelet/config.yaml")} absent`,
        "containerd-node-upgrade-facts 1 end",
    ];
    const parse = (lines: string[]) => parseUpgradeFacts(lines.join("\n") + "\n");
    const edit = (i: number, line: string | undefined) => ok.flatMap((l, j) => j !== i ? [l] : line === undefined ? [] : [line]);

    it("reads its block out of a step's other output", () => {
        const facts = parse(["[preflight] checking the node", ...ok, `{"runtime":"containerd://1.7.35"}`]);
        assert.strictEqual(facts.main?.text, "version = 2\n");
    });
    it("names what is wrong, and where", () => {
        assert.throws(() => parse(ok.slice(1)), /no "containerd-node-upgrade-facts 1 begin" line/);
        assert.throws(() => parse(edit(0, "containerd-node-upgrade-facts 2 begin")), /format "containerd-node-upgrade-facts 2 begin" is not this package's/);
        assert.throws(() => parse(edit(4, undefined)), /no "containerd-node-upgrade-facts 1 end" line: the output was cut short/);
        assert.throws(() => parse(edit(1, "config L2V0Yw=! default")), /line 2: config path: not base64/);
        assert.throws(() => parse(edit(2, `file ${b("/etc/containerd/config.toml")}  present ${b("x")}`)), /line 3: imported-by: an empty field \(an empty value is "-"\)/);
        assert.throws(() => parse(edit(1, `config ${b("/x")} guessed`)), /line 2: config: source must be process, unit or default/);
        assert.throws(() => parse(edit(2, `file ${b("/etc/containerd/config.toml")} - present`)), /line 3: file \/etc\/containerd\/config.toml: expected "present B", "absent" or "error B"/);
        assert.throws(() => parse(edit(3, "kubelet-config")), /line 4: "kubelet-config" takes 2 fields, got 0/);
        assert.throws(() => parse([...ok.slice(0, 4), "weather sunny", ok[4]]), /line 5: unknown record "weather sunny"/);
        assert.throws(() => parse([...ok.slice(0, 4), `fail-cgroup-v1 ${b('"false"')}`, ok[4]]), /failCgroupV1 is "\\"false\\"", not a boolean/);
        assert.throws(() => parse([...ok.slice(0, 4), `libc ${b("glibc 2.36")}`, `libc ${b("glibc 2.31")}`, ok[4]]), /line 6: a second "libc" record/);
        assert.throws(() => parse([...ok.slice(0, 4), "exit ctr 0", ok[4]]), /ctr: exit, stdout and stderr records go together/);
        assert.throws(() => parse(edit(2, `file ${b("/etc/other.toml")} - absent`)), /the first file record must be the main config \/etc\/containerd\/config.toml/);
        assert.throws(() => parse(edit(1, undefined)), /no config record/);
    });
});
