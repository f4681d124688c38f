import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdNodeArgs, UpgradeDrainPolicy } from "../../components/args";
import { NodeFacts, UpgradeFacts } from "../../components/facts";
import { drainScript, verifyNodeScript } from "../../components/scripts/kubectl";
import { LOCAL_LIB, LOCAL_LIB_SOURCE } from "../../components/scripts/localLib";
import { gateScript } from "../../components/fleet/gate";
import { NODE_LIB } from "../../components/nodeFiles";
import { stepScript } from "../../components/scripts/steps";
import { partSteps } from "../../components/scripts/claim";

/** The text of the node's step that configures it (host mode: converge; Kubernetes mode: configure). */
const configureScript = (s: NodeSpec) => stepScript(s, partSteps(s)[0].step);
import { nodeFactsScript } from "../../components/scripts/upgradeFacts";
import { UPGRADE_DRAINS } from "../../components/scripts/lib";
import { NodeSpec, resolveSpec } from "../../components/spec";
import { drainDecision } from "../../components/upgrade/drain";
import { pathText, planNode } from "../../components/preflight/plan";
import { parseNodeFacts } from "../../components/preflight/readFacts";
import { TOP_OF_FILE } from "../../components/render/configToml";
import { renderCrictlYaml } from "../../components/render/crictl";
import { renderUnit } from "../../components/render/unit";
import { parseVersion, Version } from "../../components/versions";
import { afterBegin, baseArgs } from "./helpers";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "upgrade", name), "utf8");
const ver = (t: string) => parseVersion(t) as Version;
const PASSWORD = "s3cr3t-PASSWORD-value";
const DROP_IN = "/etc/containerd/conf.d/50-local.toml";

/** A containerd node's facts: `main` is the config text, the drop-in of the fixtures beside it. */
function containerdFacts(running: string, main: string, over: Partial<UpgradeFacts> = {}): NodeFacts {
    return {
        runtime: `containerd://${running}`,
        upgrade: {
            configPath: "/etc/containerd/config.toml", configSource: "unit", pid: 100,
            main: { path: "/etc/containerd/config.toml", text: main },
            files: [], dropIns: main.includes("conf.d") ? { [DROP_IN]: fixture("50-local.toml") } : {}, notes: [],
            containerdVersion: ver(running), libc: "glibc 2.36", cgroupFs: "cgroup2fs",
            kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" },
            ...over,
        },
    };
}

function spec(version: string, over: Partial<ContainerdNodeArgs> = {}) {
    return resolveSpec(baseArgs({
        containerd: { version, source: { kind: "tarball", url: `https://example.com/containerd-${version}-linux-amd64.tar.gz`, sha256: "a".repeat(64) } },
        kubelet: { version: "1.33.13" },
        ...over,
    }));
}

describe("upgrade plan: the path each node takes", () => {
    it("a kubelet on Docker is the seeds' conversion: nothing of the upgrade pre-flight applies", () => {
        const p = planNode("n1", { ...containerdFacts("1.6.20", fixture("config-1.7-installer.toml")), runtime: "docker://20.10.24" }, spec("2.3.7"));
        assert.deepStrictEqual(p.path, { kind: "docker", from: "docker://20.10.24" });
        assert.deepStrictEqual(p.refused, []);
        assert.deepStrictEqual(p.lines, ["n1: docker://20.10.24 → containerd"]);
    });
    it("1.7 → 2.3 under the default policy is drained; a patch move is not", () => {
        const own = TOP_OF_FILE + "version = 2\n";
        const major = planNode("n1", containerdFacts("1.7.35", own), spec("2.3.7"));
        assert.strictEqual(pathText(major.path), "containerd 1.7.35 → 2.3.7 (drained)");
        assert.match(major.lines[1], /^n1: drained first: containerd 1\.7\.35 → 2\.3\.7 changes the major version \(upgrade\.drain "major"\)$/);
        const patch = planNode("n1", containerdFacts("2.3.6", TOP_OF_FILE + "version = 3\n"), spec("2.3.7"));
        assert.strictEqual(pathText(patch.path), "containerd 2.3.6 → 2.3.7 (restarted in place)");
        const always = planNode("n1", containerdFacts("2.3.6", TOP_OF_FILE + "version = 3\n"), spec("2.3.7", { upgrade: { drain: "always" } }));
        assert.strictEqual(pathText(always.path), "containerd 2.3.6 → 2.3.7 (drained)");
    });
    it("a node at the declared version whose config this package wrote has nothing to judge", () => {
        const p = planNode("n1", containerdFacts("2.3.7", TOP_OF_FILE + "version = 3\n", { cgroupFs: "tmpfs" }), spec("2.3.7"));
        assert.deepStrictEqual(p.path, { kind: "current", version: ver("2.3.7") });
        assert.deepStrictEqual([p.refused, p.warnings], [[], []]);
    });
    it("no runtime in use: an install", () => {
        const p = planNode("n1", { ...containerdFacts("1.7.35", ""), runtime: "none" }, spec("2.3.7"));
        assert.strictEqual(pathText(p.path), "no runtime → containerd");
    });
});

describe("upgrade plan: what refuses a node", () => {
    const installer = fixture("config-1.7-installer.toml");

    it("an installer's hand-made settings refuse the run, each naming node, key and value; the password never shows", () => {
        const p = planNode("k8s-u1", containerdFacts("1.7.35", installer), spec("2.3.7"));
        const all = [...p.lines, ...p.refused, ...p.warnings].join("\n");
        assert.ok(!all.includes(PASSWORD), "the password is not printed");
        const line = (key: string) => p.refused.find(l => l.includes(key));
        assert.match(line(`registry.mirrors."docker.io".endpoint`) ?? "", /^k8s-u1: {3}plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.mirrors\."docker\.io"\.endpoint = \["https:\/\/mirror\.gcr\.io","https:\/\/registry-1\.docker\.io"\] would be dropped: set config\.registryMirrors\["docker\.io"\] = \["https:\/\/mirror\.gcr\.io"\]/);
        assert.match(line("runtimes.nvidia.options.BinaryName") ?? "", /set config\.runtimes\["nvidia"\]\.options\.BinaryName = "\/usr\/bin\/nvidia-container-runtime"/);
        assert.match(line("auth.password") ?? "", /auth\.password = <secret, 21 chars>/);
        assert.match(p.warnings.join("\n"), /^k8s-u1: warning: registry\.mirrors for "docker\.io" \(deprecated; removal planned for 2\.4\) .*io\.containerd\.deprecation\/cri-registry-mirrors/m);
        assert.match(p.lines[2], /^k8s-u1: config \/etc\/containerd\/config\.toml \(schema 2\) → schema 4 for containerd 2\.3\.7: \d+ settings carried, \d+ at 1\.x's default, 16 not carried$/);
        assert.strictEqual(pathText(p.path), "containerd 1.7.35 → 2.3.7 (drained)");
    });
    it("a 1.22 kubelet with a 2.x containerd is refused at preview, naming kubelet.version; 1.36 needs 2.2+", () => {
        assert.throws(() => spec("2.3.7", { kubelet: { version: "1.22.17" } }), /invalid kubelet\.version: kubelet 1\.22\.17 speaks only CRI v1alpha2/);
        assert.throws(() => spec("2.1.5", { kubelet: { version: "1.36.0" } }), /invalid kubelet\.version: kubelet 1\.36\.0 needs containerd 2\.3\.0\+, 2\.2\.0\+/);
        assert.doesNotThrow(() => spec("2.2.9", { kubelet: { version: "1.36.0" } }));
    });
    it("glibc older than the dynamic build needs: refused, naming the static tarball", () => {
        const own = TOP_OF_FILE + "version = 2\n";
        const p = planNode("n1", containerdFacts("1.7.35", own, { libc: "glibc 2.31" }), spec("2.3.7"));
        assert.match(p.refused.join("\n"), /glibc/);
        assert.match(p.refused.join("\n"), /static/);
    });
    it("a setting of a plugin 2.0 renamed is advised under its new name, and carried once set there", () => {
        const main = `version = 2\n[plugins."io.containerd.internal.v1.restart"]\n  interval = "20s"\n`;
        for (const v of ["2.2.9", "2.3.7"]) {
            const p = planNode("n1", containerdFacts("1.7.35", main), spec(v));
            assert.match(p.refused.join("\n"), /plugins\."io\.containerd\.internal\.v1\.restart"\.interval = "20s" would be dropped: set config\.extraToml with plugins\."io\.containerd\.monitor\.container\.v1\.restart"\.interval = "20s"/, v);
            const set = spec(v, { config: { extraToml: { plugins: { "io.containerd.monitor.container.v1.restart": { interval: "20s" } } } } });
            assert.deepStrictEqual(planNode("n1", containerdFacts("1.7.35", main), set).refused, [], `${v}: carried`);
        }
    });
    it("a config the pre-flight cannot read refuses nothing by itself but is an error the caller reports", () => {
        assert.throws(() => planNode("n1", containerdFacts("1.7.35", "version = 2\n[plugins\n"), spec("2.3.7")));
    });
});

describe("upgrade drain rule: the drain step's bash agrees with the preview's drainDecision", () => {
    const cases: [string, string][] = [["1.7.35", "2.3.7"], ["1.6.20", "2.2.9"], ["2.2.9", "2.3.7"], ["2.3.6", "2.3.7"], ["v1.7.35", "2.3.7"], ["2.0.0", "1.7.35"], ["1.7.35", "1.7.36"]];
    for (const policy of ["major", "always", "never"] as UpgradeDrainPolicy[]) {
        for (const [from, to] of cases) {
            it(`${from} → ${to}, upgrade.drain ${policy}`, () => {
                const r = spawnSync("bash", ["-c", `${UPGRADE_DRAINS}upgrade_drains "$1" "$2" "$3"`, "x", from, to, policy]);
                const ts = drainDecision(ver(from), ver(to), policy).action === "drain";
                assert.strictEqual(r.status === 0, ts);
            });
        }
    }
});

describe("the node facts reader over SSH", () => {
    it("prints the runtime line before the facts block; the parser reads both", () => {
        const out = spawnSync("bash", ["-c", nodeFactsScript()], { encoding: "utf8", env: { ...process.env, CN_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), "cnode-nf-")) } });
        assert.strictEqual(out.status, 0, out.stderr);
        const f = parseNodeFacts(out.stdout);
        assert.match(f.runtime, /^(none|docker:\/\/.*|containerd:\/\/.*)$/);
        assert.strictEqual(typeof f.upgrade.configPath, "string");
        assert.throws(() => parseNodeFacts("nothing"), /no runtime line/);
    });
});

/** A step's block of values, as rendered: from the line after its cn_begin to the library call (or first part) after it. */
function valuesOf(text: string): string {
    const after = afterBegin(text);
    const to = after.search(/\n(cn_|\()/);
    assert.ok(to > 0, "the step has a block of values, then a call");
    return after.slice(0, to);
}

describe("configure: registry TLS files", () => {
    it("refuses the step, naming the input, while a file config.registryTls names is not on the node; goes on once it is", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-tls-"));
        const s = spec("2.3.7", { config: { registryTls: { "r.corp": { caFile: `${dir}/ca.pem`, certFile: `${dir}/node.crt`, keyFile: `${dir}/node.key` } } } });
        // The step's values as rendered, and the library's check, run by bash.
        const checks = valuesOf(configureScript(s));
        assert.match(checks, /^TLS_FILES='/m);
        const run = () => spawnSync("bash", ["-c", `${NODE_LIB}\nSTEP=configure PHASE=start\n${checks}\ncn_check_tls\necho checked`], { encoding: "utf8" });
        fs.writeFileSync(`${dir}/ca.pem`, "x");
        fs.writeFileSync(`${dir}/node.crt`, "x");
        let r = run();
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, new RegExp(`step 'configure' failed during 'checking the registry TLS files': config\\.registryTls\\["r\\.corp"\\]\\.keyFile: ${dir}/node\\.key is not a file on the node`));
        fs.writeFileSync(`${dir}/node.key`, "x");
        r = run();
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /checked/);
        assert.match(configureScript(spec("2.3.7")), /^TLS_FILES=''$/m, "no file to check");
    });
});

describe("configure: CNI plugins", () => {
    it("go where CRI looks for them (config.cniBinDir), staged first when the move is deferred", () => {
        const s = spec("2.3.7", { config: { cniBinDir: "/usr/lib/cni" }, containerd: { version: "2.3.7", source: { kind: "tarball", url: "https://example.com/containerd-2.3.7-linux-amd64.tar.gz", sha256: "a".repeat(64) }, cni: { url: "https://example.com/cni.tgz", sha256: "b".repeat(64) } } });
        const text = configureScript(s);
        assert.doesNotMatch(text, /\/opt\/cni\/bin/);
        // The library installs what the step's values name: here a staged plugin, under R (a deferred move).
        const cn = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-cni-"));
        fs.mkdirSync(`${cn}/stage/cni-${"b".repeat(16)}`, { recursive: true });
        fs.writeFileSync(`${cn}/stage/cni-${"b".repeat(16)}/bridge`, "plugin");
        const r = spawnSync("bash", ["-c", `${NODE_LIB}\nSTEP=configure PHASE=start TXN= CHANGED=\n${valuesOf(text)}\nR=${cn}/pending\ncn_install_binaries`], { encoding: "utf8", env: { ...process.env, CN_DIR: cn } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(`${cn}/pending/usr/lib/cni/bridge`, "utf8"), "plugin");
        assert.ok(!fs.existsSync("/usr/lib/cni/bridge") || fs.readFileSync("/usr/lib/cni/bridge", "utf8") !== "plugin", "nothing live");
    });
});

describe("configure: the containerd unit and crictl.yaml, from the library's templates", () => {
    it("the step's values fill them on the node exactly as the renderers render them (renderUnit, renderCrictlYaml); neither file is in the step's text", () => {
        const given = spec("2.3.7", { unit: { limitNOFILE: "1048576", tasksMax: "4096", oomScoreAdjust: -500 } });
        // The binaries' directory and the socket are the package's, not inputs: odd ones here show the filling is literal.
        const s: NodeSpec = { ...given, containerd: { ...given.containerd, binDir: "/opt/a&b/bin" }, config: { ...given.config, socket: "/run/c @SOCKET@/containerd.sock" } };
        const text = configureScript(s);
        assert.doesNotMatch(text, /^\[Service\]$|^runtime-endpoint:/m, "the files are the library's, filled from values");
        assert.match(text, /^LIMIT_NOFILE='1048576'$/m);
        const fill = (template: string) => spawnSync("bash", ["-c", `set -u\n${NODE_LIB}\n${valuesOf(text)}\nunit=$(cn_fill "$${template}") && printf '%s\\n' "$unit"`], { encoding: "utf8" });
        const unit = fill("CN_UNIT_TEMPLATE");
        assert.strictEqual(unit.status, 0, unit.stderr);
        assert.strictEqual(unit.stdout, renderUnit(s));
        assert.match(unit.stdout, /^ExecStart=\/opt\/a&b\/bin\/containerd --config/m, "a value's & is itself, not the match");
        assert.match(unit.stdout, /^LimitNOFILE=1048576\nTasksMax=4096\nOOMScoreAdjust=-500$/m);
        const crictl = fill("CN_CRICTL_TEMPLATE");
        assert.strictEqual(crictl.status, 0, crictl.stderr);
        assert.strictEqual(crictl.stdout, renderCrictlYaml(s));
        assert.match(crictl.stdout, /^runtime-endpoint: unix:\/\/\/run\/c @SOCKET@\/containerd\.sock$/m, "a value is not filled again");
        // A value the step did not set fails the step, naming it, rather than writing an empty one.
        const r = spawnSync("bash", ["-c", `set -eu\n${NODE_LIB}\nSTEP=configure PHASE="writing the containerd unit" BIN_DIR=/b LIMIT_NOFILE=1 TASKS_MAX=1\nunit=$(cn_fill "$CN_UNIT_TEMPLATE")\necho wrote`], { encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.match(r.stderr, /step 'configure' failed during 'writing the containerd unit': the template reads OOM_SCORE_ADJUST, which the step does not set/);
    });
});

describe("node-side scripts are shellcheck-clean", () => {
    for (const lib of ["lib.sh", "facts.sh", "kubectl.sh"]) {
        const source = path.join(__dirname, "..", "..", "components", "node", lib);
        it(`the node library, at its source (components/node/${lib}, with no option given)`, () => {
            const r = spawnSync("shellcheck", [source], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        });
        it(`no pipe in components/node/${lib} whose reader may quit before its writer has written (grep -q, an awk exit before END): under pipefail the writer's broken pipe fails the step, at random`, () => {
            const text = fs.readFileSync(source, "utf8");
            const early = text.split("\n").map((l, i) => [i + 1, l] as const)
                .filter(([, l]) => !/^\s*#/.test(l) && /\|\s*(grep\s+-[A-Za-z]*q|awk\s+'(?:(?!END)[^'])*\bexit\b)/.test(l) && !/\|\|\s*true\s*;?\s*}?\s*$/.test(l));
            assert.deepStrictEqual(early.map(([n, l]) => `${n}: ${l.trim()}`), []);
        });
    }
    const k8s = { kubeconfig: "/k/admin.conf", nodeName: "n1" };
    const specs = {
        "host mode, tarball, registry TLS files": spec("2.3.7", { kubelet: undefined, config: { registryTls: { "r.corp:5000": { caFile: "/etc/pki/ca.pem", certFile: "/etc/pki/n.crt", keyFile: "/etc/pki/n.key" } } } }),
        "Kubernetes mode, kubelet 1.33, failure budget": spec("2.3.7", { kubernetes: k8s }),
        "Docker's containerd; a tarball with purge": resolveSpec(baseArgs({ containerd: { version: "1.6.20", source: { kind: "docker" } }, kubelet: { version: "1.23.17" }, docker: { mode: "disable", migrateImages: true } })),
        "purge and remove Docker's data": spec("2.3.7", { docker: { mode: "purge", removeData: true } }),
        "package": resolveSpec(baseArgs({ containerd: { version: "1.7", source: { kind: "package" } }, kubelet: { version: "1.30.4" }, kubernetes: k8s })),
    };
    for (const [name, s] of Object.entries(specs)) {
        it(name, () => {
            assert.strictEqual(spawnSync("shellcheck", ["--version"]).status, 0, "shellcheck is missing: bash lab/install-deps.sh installs it");
            const scripts: { [step: string]: string } = {
                ...Object.fromEntries(partSteps(s).map(({ step }) => [step, stepScript(s, step)])),
                "facts reader": nodeFactsScript({ stateDir: s.stateDir, freePaths: [s.config.root], kubelet: s.kubelet !== undefined, prepare: true }),
            };
            if (s.kubernetes) {
                // The local steps with their library (components/node/kubectl.sh) in place of its sourcing.
                const inline = (t: string) => t.replace(LOCAL_LIB_SOURCE, LOCAL_LIB);
                Object.assign(scripts, {
                    drain: inline(drainScript(s)), verify: inline(verifyNodeScript(s)), "verify, within a budget": inline(verifyNodeScript(s, { planned: "" })),
                    gate: inline(gateScript({ node: "n1", kubernetes: { kubectl: "kubectl", containerdVersion: "2.3.7" }, probes: ["true"], timeoutSeconds: 9, pauseSeconds: 0, planned: "" })),
                    "switch, within a budget": stepScript(s, "switch", { planned: "" }),
                });
            }
            for (const [step, text] of Object.entries(scripts)) {
                // SC1090/SC1091/SC2154: the library is sourced from a path known on the node only;
                // SC2034: the step's values are read by it.
                const r = spawnSync("shellcheck", ["-s", "bash", "-e", "SC1090,SC1091,SC2154,SC2034", "-"], { input: text, encoding: "utf8" });
                assert.strictEqual(r.status, 0, `${step}:\n${r.stdout}`);
            }
        });
    }
});
