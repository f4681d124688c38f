import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdNodeArgs } from "../../components/args";
import { DOCKERSHIM_FLAGS, KUBELET_FLAG_FILES, kubeletEditPlan } from "../../components/render/kubeletFlags";
import { renderKubeletEdit } from "../../components/scripts/kubeletEdit";
import { NODE_LIB_FILE, NODE_LIB_GZIP_BASE64, standalonePrelude as prelude } from "../../components/scripts/lib";
import { NODE_LIB, nodeLibConstant } from "../../components/nodeFiles";
import { detachedCommand, heredoc, scriptCommand, sq } from "../../components/scripts/shell";
import { KUBECONFIG_FROM_STDIN } from "../../components/kubeconfig";
import { resolveSpec } from "../../components/spec";
import { partSteps } from "../../components/scripts/claim";
import * as steps from "../../components/scripts/steps";
import { nodeFactsScript } from "../../components/scripts/upgradeFacts";
import { baseArgs } from "./helpers";

// These run the exact bash the nodes run, against files in a temp dir.
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "kubelet", name), "utf8");

function bash(script: string, dir: string) {
    const r = spawnSync("bash", ["-c", script], { env: { ...process.env, CN_DIR: path.join(dir, "state") }, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the kubelet edit with the flag files redirected into a temp dir; returns the files after. */
function runEdit(args: Partial<ContainerdNodeArgs>, files: { kubeadm?: string; default?: string; sysconfig?: string; config?: string }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kubelet-"));
    const plan = kubeletEditPlan(resolveSpec(baseArgs(args)))!;
    const map: { [p: string]: string } = {};
    const names = ["kubeadm", "default", "sysconfig"] as const;
    plan.flagFiles = plan.flagFiles.map((f, i) => {
        map[f.path] = path.join(dir, names[i]);
        return { ...f, path: map[f.path] };
    });
    plan.primary = map[plan.primary] ?? plan.primary;
    for (const n of names) {
        if (files[n] !== undefined) fs.writeFileSync(path.join(dir, n), files[n]!);
    }
    if (files.config !== undefined) fs.writeFileSync(path.join(dir, "config"), files.config);
    const r = bash(prelude("test") + renderKubeletEdit(plan, path.join(dir, "config")), dir);
    const read = (n: string) => fs.existsSync(path.join(dir, n)) ? fs.readFileSync(path.join(dir, n), "utf8") : undefined;
    return { ...r, kubeadm: read("kubeadm"), default: read("default"), sysconfig: read("sysconfig"), config: read("config") };
}

const k120 = { containerd: { version: "1.6.20", source: { kind: "package" as const } }, config: { systemdCgroup: false } };

describe("kubelet flags edit (bash + awk, as on the node)", () => {
    it("seed: kubeadm-flags.env of a 1.20 node gets the remote runtime flags", () => {
        const r = runEdit({ ...k120, kubelet: { version: "1.20.15" } }, { kubeadm: fixture("seed-kubeadm-1.20.in") });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, fixture("seed-kubeadm-1.20.out"));
    });
    it("seed: an empty KUBELET_EXTRA_ARGS in /etc/sysconfig/kubelet", () => {
        const r = runEdit({ ...k120, kubelet: { version: "1.20.15", flagsLocation: "sysconfig" } }, { sysconfig: fixture("seed-sysconfig-1.20.in") });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.sysconfig, fixture("seed-sysconfig-1.20.out"));
        assert.strictEqual(r.kubeadm, undefined, "no other file is created");
    });
    it("lab: 1.30 drops dockershim flags, keeps unrelated ones, matches the cgroup driver", () => {
        const r = runEdit({ kubelet: { version: "1.30.4" } }, { kubeadm: fixture("lab-1.30.in") });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, fixture("lab-1.30.out"));
    });
    it("is idempotent: a second run changes nothing", () => {
        const once = runEdit({ kubelet: { version: "1.30.4" } }, { kubeadm: fixture("lab-1.30.in") });
        const twice = runEdit({ kubelet: { version: "1.30.4" } }, { kubeadm: once.kubeadm });
        assert.strictEqual(twice.kubeadm, once.kubeadm);
        assert.doesNotMatch(twice.stderr, /wrote/);
    });
    it("KUBELET_EXTRA_ARGS wins over kubeadm flags, so stale runtime flags there are rewritten too", () => {
        const r = runEdit({ kubelet: { version: "1.30.4" } }, {
            kubeadm: 'KUBELET_KUBEADM_ARGS="--node-ip=10.0.0.5"\n',
            default: fixture("cri-dockerd-1.30.in"),
            config: fixture("config-1.30.in.yaml"),
        });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, 'KUBELET_KUBEADM_ARGS="--node-ip=10.0.0.5 --container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n');
        assert.strictEqual(r.default, fixture("cri-dockerd-1.30.out"));
        assert.strictEqual(r.config, fixture("config-1.30.out.yaml"));
    });
    it("flagsLocation config (1.27+): endpoint into KubeletConfiguration, flag removed", () => {
        const r = runEdit({ kubelet: { version: "1.31.0", flagsLocation: "config" } }, {
            kubeadm: 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/cri-dockerd.sock --node-ip=1.2.3.4"\n',
            config: "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
        });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, 'KUBELET_KUBEADM_ARGS="--node-ip=1.2.3.4"\n');
        assert.strictEqual(r.config, "kind: KubeletConfiguration\ncgroupDriver: systemd\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n");
    });
    it("adds --cgroup-driver=systemd when nothing sets the driver", () => {
        const r = runEdit({ kubelet: { version: "1.25.0" } }, { kubeadm: 'KUBELET_KUBEADM_ARGS=""\n' });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, 'KUBELET_KUBEADM_ARGS="--container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock --cgroup-driver=systemd"\n');
    });
    it("keeps --pod-infra-container-image out of 1.35 and --container-runtime out of 1.27+", () => {
        const c229 = { version: "2.2.9", source: { kind: "tarball" as const, url: "https://example.com/containerd-2.2.9-linux-amd64.tar.gz", sha256: "a".repeat(64) } };
        const r = runEdit({ containerd: c229, kubelet: { version: "1.35.0" } }, { kubeadm: 'KUBELET_KUBEADM_ARGS="--container-runtime=remote --pod-infra-container-image=registry.k8s.io/pause:3.9 --cgroup-driver=systemd"\n' });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kubeadm, 'KUBELET_KUBEADM_ARGS="--cgroup-driver=systemd --container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n');
    });
    it("container log rotation (kubelet.containerLogMaxSize/Files): into the config file when there is one, a flag already set rewritten; else as flags", () => {
        const rotation = { containerLogMaxSize: "100M", containerLogMaxFiles: 10 };
        const withConfig = runEdit({ kubelet: { version: "1.30.4", ...rotation } }, {
            kubeadm: 'KUBELET_KUBEADM_ARGS="--container-log-max-files=3 --node-ip=10.0.0.5"\n',
            config: "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\ncontainerLogMaxSize: 10Mi\n",
        });
        assert.strictEqual(withConfig.code, 0, withConfig.stderr);
        assert.strictEqual(withConfig.config, "kind: KubeletConfiguration\ncgroupDriver: systemd\ncontainerLogMaxSize: 100M\ncontainerLogMaxFiles: 10\n");
        assert.strictEqual(withConfig.kubeadm, 'KUBELET_KUBEADM_ARGS="--container-log-max-files=10 --node-ip=10.0.0.5 --container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n',
            "the flag, which would win over the file, says the same");
        const flagsOnly = runEdit({ ...k120, kubelet: { version: "1.20.15", ...rotation } }, { kubeadm: 'KUBELET_KUBEADM_ARGS="--node-ip=10.0.0.5"\n' });
        assert.strictEqual(flagsOnly.code, 0, flagsOnly.stderr);
        assert.strictEqual(flagsOnly.kubeadm, 'KUBELET_KUBEADM_ARGS="--node-ip=10.0.0.5 --container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock --container-log-max-size=100M --container-log-max-files=10"\n');
        const again = runEdit({ ...k120, kubelet: { version: "1.20.15", ...rotation } }, { kubeadm: flagsOnly.kubeadm });
        assert.strictEqual(again.kubeadm, flagsOnly.kubeadm, "idempotent");
        assert.doesNotMatch(again.stderr, /wrote/);
        // Neither set: the step's values are what they were (no LOG_ROTATION line).
        assert.doesNotMatch(renderKubeletEdit(kubeletEditPlan(resolveSpec(baseArgs({ kubelet: { version: "1.30.4" } })))!, "/c"), /LOG_ROTATION/);
    });
    it("names the library's lists (the flag files, the dockershim flags) rather than spelling them out", () => {
        const edit = (version: string) => renderKubeletEdit(kubeletEditPlan(resolveSpec(baseArgs({ kubelet: { version } })))!, "/c");
        // The library's flag files are the package's, in the same order: a step that uses them gives none.
        assert.strictEqual(nodeLibConstant("CN_KUBELET_FLAG_FILES"), KUBELET_FLAG_FILES.map(f => `${f.path}:${f.variable}`).join("\n"));
        assert.doesNotMatch(edit("1.30.4"), /FLAG_FILES/);
        // 1.24+: the dockershim flags by name, the rest listed; before 1.24 they stay.
        assert.match(edit("1.30.4"), /^REMOVE_DOCKERSHIM='1'$/m);
        assert.match(edit("1.30.4"), /^REMOVE_FLAGS='--image-service-endpoint --container-runtime --pod-infra-container-image'$/m);
        assert.doesNotMatch(edit("1.23.17"), /REMOVE_DOCKERSHIM|--network-plugin/);
        assert.ok(DOCKERSHIM_FLAGS.includes("--network-plugin") && DOCKERSHIM_FLAGS.length === 10, DOCKERSHIM_FLAGS.join(" "));
    });
    it("fails clearly when auto finds no flags file", () => {
        const r = runEdit({ kubelet: { version: "1.30.4" } }, {});
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /no kubelet flags file found .*set kubelet\.flagsLocation/);
    });
});

describe("step transaction (bash, as on the node)", () => {
    it("a failure restores every saved file and removes created ones", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-txn-"));
        const a = path.join(dir, "a.conf"), b = path.join(dir, "sub", "b.conf");
        fs.writeFileSync(a, "old\n");
        const r = bash(`${prelude("test")}
txn_begin
phase "writing"
${heredoc(`put ${sq(a)} 0644`, "new\n")}
${heredoc(`put ${sq(b)} 0600`, "created\n")}
[ "$(cat ${sq(a)})" = new ] || exit 3
phase "breaking on purpose"
false
`, dir);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(fs.readFileSync(a, "utf8"), "old\n");
        assert.ok(!fs.existsSync(b), "a file the step created is removed again");
        assert.match(r.stderr, /step 'test' failed \(exit 1\) during 'breaking on purpose'; the node was put back/);
        assert.deepStrictEqual(fs.readdirSync(path.join(dir, "state", "txn")), [], "the transaction is cleaned up");
    });
    it("success keeps the new files, writes nothing when content is the same", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-txn-"));
        const a = path.join(dir, "a.conf");
        const script = `${prelude("test")}
txn_begin
${heredoc(`put ${sq(a)} 0644`, "v1\n")}
echo "changed:$CHANGED"`;
        const first = bash(script, dir);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.strictEqual(fs.readFileSync(a, "utf8"), "v1\n");
        assert.match(first.stdout, /changed: .*a\.conf/);
        const second = bash(script, dir);
        assert.strictEqual(second.stdout.trim(), "changed:");
    });
    it("the rollback hook runs last, after the files are back, and only on failure", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-txn-"));
        const a = path.join(dir, "a.conf");
        fs.writeFileSync(a, "old\n");
        const script = (fail: boolean) => `${prelude("test")}
hook() { echo "hook sees: $(cat ${sq(a)})" >&2; }
ON_ROLLBACK=hook
txn_begin
${heredoc(`put ${sq(a)} 0644`, "new\n")}
${fail ? "false" : "true"}`;
        const failed = bash(script(true), dir);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /hook sees: old\n/);
        const ok = bash(script(false), dir);
        assert.strictEqual(ok.code, 0);
        assert.doesNotMatch(ok.stderr, /hook sees/);
    });
    it("a Kubernetes-mode switch whose transaction can't begin still rolls back to its end (kubectl on the node): the Node marked, its cordon lifted, the step's failure said", () => {
        // Found at scale: the boot-recovery unit could not be saved (another run replaced it while
        // it was copied), and the rollback then stopped at an unset variable: no mark, no uncordon.
        // And with kubectl on the node every Node API call of a rollback failed: a bare `return` in
        // a trap handler returns the status the trap began with.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-txn-"));
        const calls = path.join(dir, "kubectl.calls");
        const node = { metadata: { name: "w1", annotations: { "containerd-node.pulumi.com/cordoned": "true" } },
            status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { containerRuntimeVersion: "docker://20.10.24" } } };
        fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/bash\necho "$*" >>${sq(calls)}\ncat <<'EOF'\n${JSON.stringify(node)}\nEOF\n`, { mode: 0o755 });
        // systemd answers for every unit (the node has a kubelet); nothing is started or stopped for real.
        fs.writeFileSync(path.join(dir, "systemctl"), "#!/bin/bash\nexit 0\n", { mode: 0o755 });
        fs.mkdirSync(path.join(dir, "run"));
        const r = bash(`${prelude("switch")}
PATH=${sq(dir)}:$PATH
CN_RUN_DIR=${sq(path.join(dir, "run"))}
cn_recover_unit() { echo "cp: skipping file, as it was replaced while being copied" >&2; return 1; }
NODE_NAME=w1 KUBECONFIG=/dev/null VERIFY_TIMEOUT=5 VERSION=2.2.9 DOCKER_MODE=disable
cn_switch`, dir);
        assert.strictEqual(r.code, 1, r.stdout);
        assert.doesNotMatch(r.stderr, /unbound variable/);
        assert.match(r.stderr, /node w1 uncordoned \(containerd-node had cordoned it\)/);
        assert.match(r.stderr, /step 'switch' failed \(exit 1\) during 'start'; the node was put back/);
        const log = fs.readFileSync(calls, "utf8");
        assert.match(log, /patch node w1 --type merge -p \{"metadata":\{"annotations":\{"containerd-node.pulumi.com\/rolled-back"/);
        assert.match(log, /patch node w1 --type merge -p \{"spec":\{"unschedulable":null\}/);
    });
    it("die names the step, the phase and the reason", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-txn-"));
        const r = bash(`${prelude("configure")}\nphase "checking containerd"\ndie "containerd did not start"`, dir);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /containerd-node: step 'configure' failed during 'checking containerd': containerd did not start/);
    });
});

// Real write failures: /dev/full answers every write with ENOSPC, as a full disk does.
describe("staging on a full disk (bash, as on the node)", () => {
    const run = (cmd: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-full-"));
        const partial = path.join(dir, "stage", "containerd-0123.tmp");
        fs.mkdirSync(partial, { recursive: true });
        fs.writeFileSync(path.join(partial, "half"), "x");
        fs.writeFileSync(path.join(dir, "blob"), Buffer.alloc(200_000, 7));
        const r = bash(`${prelude("configure")}\nphase "fetching containerd 2.3.6"\nstaged ${sq(partial)} ${cmd.replace(/BLOB/g, sq(path.join(dir, "blob")))} || die "could not unpack it"`, dir);
        return { ...r, partial, kept: fs.existsSync(partial) };
    };
    for (const [tool, cmd] of [["cp", "cp BLOB /dev/full"], ["curl", "curl -fsS -o /dev/full file://BLOB"]]) {
        it(`${tool} out of space: says so with the filesystem and what is free, removes the partial files`, () => {
            const r = run(cmd);
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /step 'configure' failed during 'fetching containerd 2\.3\.6': no space left on the filesystem of \S+\/stage \(\d+ MiB free there now\); nothing is live yet and the partial files were removed/);
            assert.strictEqual(r.kept, false, "the partial directory is gone");
        });
    }
    it("another failure passes its own message on, still removing the partial files", () => {
        const r = run("tar -xzf BLOB -C /nonexistent");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /tar: .*\n(.*\n)*.*failed during 'fetching containerd 2\.3\.6': could not unpack it/);
        assert.doesNotMatch(r.stderr, /no space left/);
        assert.strictEqual(r.kept, false);
    });
    it("success keeps what the command wrote", () => {
        const r = run("true");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.kept, true);
    });
});

describe("staging containerd (bash, as on the node)", () => {
    /**
     * A tarball in a temp dir's node cache, as a copy from this machine leaves it, holding `file`
     * (by default bin/containerd, as the release layout has it), a containerd that prints its
     * version as the real one does. Returns the dir, its node cache, the path the step is told the
     * tarball came from, and the tarball's SHA-256.
     */
    function cachedTarball(file = "bin/containerd") {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-stage-"));
        fs.mkdirSync(path.dirname(path.join(dir, "tree", file)), { recursive: true });
        fs.writeFileSync(path.join(dir, "tree", file), "#!/bin/sh\necho containerd github.com/containerd/containerd/v2 v2.2.9 0123abc\n", { mode: 0o755 });
        const sha = "ab".repeat(32);
        const cache = path.join(dir, "state", "cache");
        fs.mkdirSync(cache, { recursive: true });
        const tarball = path.join(cache, `containerd-${sha.slice(0, 16)}`);
        assert.strictEqual(spawnSync("tar", ["-czf", tarball, "-C", path.join(dir, "tree"), file.split("/")[0]]).status, 0);
        const real = spawnSync("sha256sum", [tarball], { encoding: "utf8" }).stdout.slice(0, 64);
        fs.renameSync(tarball, path.join(cache, `containerd-${real.slice(0, 16)}`));
        return { dir, cache, tarball, real };
    }
    it("unpacks the tarball once: a rerun finds it staged under its SHA-256 and neither fetches nor unpacks it again", () => {
        const { dir, cache, tarball, real } = cachedTarball();
        const stage = () => bash(`${prelude("configure")}\nSOURCE=file VERSION=2.2.9 CONTAINERD_FROM=path CONTAINERD_URL=${sq(tarball)} CONTAINERD_SHA256=${real}\ncn_stage`, dir);
        let r = stage();
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /staged containerd v2\.2\.9 in \S+\/stage\/containerd-/);
        // The cached tarball gone: a fetch would fail ("did not arrive"); the staged tree is used.
        fs.rmSync(path.join(cache, `containerd-${real.slice(0, 16)}`));
        r = stage();
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /containerd v2\.2\.9 already staged in /);
        // A different version declared: the staged tree is not taken for it.
        r = bash(`${prelude("configure")}\nSOURCE=file VERSION=2.3.7 CONTAINERD_FROM=path CONTAINERD_URL=x CONTAINERD_SHA256=${real}\ncn_stage`, dir);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /did not arrive/);
    });
    it("a tarball of another version than declared, or not of the release layout, is refused and nothing is staged", () => {
        const stage = (t: ReturnType<typeof cachedTarball>, version: string) =>
            bash(`${prelude("configure")}\nSOURCE=file VERSION=${version} CONTAINERD_FROM=path CONTAINERD_URL=${sq(t.tarball)} CONTAINERD_SHA256=${t.real}\ncn_stage`, t.dir);
        const other = cachedTarball();
        let r = stage(other, "2.3.7");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /failed during 'fetching containerd 2\.3\.7': the containerd tarball holds containerd v2\.2\.9, containerd\.version declares 2\.3\.7/);
        assert.deepStrictEqual(fs.readdirSync(path.join(other.dir, "state", "stage")), [], "not staged, and the refused tree not left behind");
        const flat = cachedTarball("containerd");
        r = stage(flat, "2.2.9");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /the containerd tarball has no bin\/containerd: expected the containerd-X\.Y\.Z-linux-ARCH\.tar\.gz release layout/);
        assert.deepStrictEqual(fs.readdirSync(path.join(flat.dir, "state", "stage")), []);
    });
});

describe("migrate-images (bash, as on the node, with docker, ctr and systemctl faked)", () => {
    function run(ctrFails: boolean) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-migrate-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const imported = path.join(dir, "imported");
        // ctr as containerd's prints an import: progress lines, then the image.
        fs.writeFileSync(path.join(bin, "ctr"), `#!/bin/sh
case "$*" in
  *"images import"*) read -r what; ${ctrFails ? 'echo "ctr: unexpected EOF in the archive" >&2; exit 1' : `echo "unpacking \${what#tar of }"; echo "Importing	elapsed: 0.1 s	total:   0.0 B	(0.0 B/s)"; echo "\${what#tar of }" >>${imported}`};;
  *"images ls -q"*) sed 's#^#docker.io/#' ${imported} 2>/dev/null;;
esac
`, { mode: 0o755 });
        // docker and systemctl as functions (the prelude sets PATH); ctr is BIN_DIR's.
        const fakes = `systemctl() { return 0; }
docker() {
  case "$1" in
    images) printf '%s\\n' lab/busybox:1 k8s.gcr.io/pause:3.2 '<none>:<none>';;
    save) echo "tar of $2";;
  esac
}
`;
        const r = spawnSync("bash", ["-c", `${prelude("migrate-images")}\n${fakes}BIN_DIR=${sq(bin)} SOCKET=/run/containerd/containerd.sock\ncn_migrate_images`],
            { env: { ...process.env, CN_DIR: path.join(dir, "state") }, encoding: "utf8" });
        return { code: r.status, stderr: r.stderr };
    }
    it("imports every tagged image and says which, without ctr's progress lines (the step's stderr is kept in the state)", () => {
        const r = run(false);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /imported: k8s\.gcr\.io\/pause:3\.2 lab\/busybox:1/);
        assert.doesNotMatch(r.stderr, /Importing|unpacking/);
    });
    it("a failed import names the image and passes ctr's message on", () => {
        const r = run(true);
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stderr, /importing k8s\.gcr\.io\/pause:3\.2 failed: ctr: unexpected EOF in the archive/);
    });
});

describe("Node API helpers (bash, as on the node)", () => {
    it("node_status reads runtime and Ready from the API server's pretty-printed JSON", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-api-"));
        const node = {
            kind: "Node",
            metadata: { name: "w1", annotations: { "containerd-node.pulumi.com/cordoned": "true" } },
            status: {
                conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: "True", message: "kubelet is posting ready status" }],
                nodeInfo: { containerRuntimeVersion: "containerd://2.2.9", kubeletVersion: "v1.23.17" },
            },
        };
        fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(node, null, 2)}\nEOF\n`, { mode: 0o755 });
        const r = spawnSync("bash", ["-c", `${NODE_LIB}\nnode_status /dev/null w1`], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "containerd://2.2.9 True\n");
    });
});

describe("shell helpers", () => {
    it("scriptCommand runs the script on its stdin with bash, from a file (a command in it can't read the rest), and returns its exit code", () => {
        const script = "echo \"$BASH_VERSION\" | grep -q . && echo in-bash\ncat\necho after-cat; exit 7\n";
        const r = spawnSync("sh", ["-c", scriptCommand("root")], { input: script, encoding: "utf8" });
        assert.strictEqual(r.status, 7);
        assert.strictEqual(r.stdout, "in-bash\nafter-cat\n");
        assert.ok(scriptCommand("root").length < 200 && !scriptCommand("root").includes("in-bash"), "the command holds no script");
    });
    it("stateDir reaches every step (its command; the runner passes it on) and the facts reader; at the default a step's command reads as it did before stateDir", () => {
        const texts = (args: Partial<ContainerdNodeArgs>) => {
            const spec = resolveSpec(baseArgs(args));
            return partSteps(spec).map(({ step }) => ({ text: steps.stepScript(spec, step), command: detachedCommand(step, "root", "stack p/s", NODE_LIB_FILE, spec.stateDir) }));
        };
        for (const { text, command } of texts({})) {
            assert.match(command, /^bash -c 'CN_DIR=\$\{CN_DIR:-\/var\/lib\/containerd-node\}; /);
            assert.doesNotMatch(text, /CN_DIR=/, "the step's text takes CN_DIR from the runner");
        }
        for (const { text, command } of texts({ stateDir: "/srv/cn" })) {
            assert.match(command, /^bash -c 'CN_DIR='\\''\/srv\/cn'\\''; /);
            assert.doesNotMatch(text, /var\/lib\/containerd-node|CN_DIR=/);
        }
        assert.strictEqual(steps.uploadPath(resolveSpec(baseArgs({ stateDir: "/srv/cn" })), "runc", "ab".repeat(32)), "/srv/cn/cache/runc-abababababababab");
        // The facts reader finds the claim under the stateDir it is given.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-statedir-"));
        fs.writeFileSync(path.join(dir, "claim"), "x");
        const r = spawnSync("bash", ["-c", nodeFactsScript({ stateDir: dir })], { encoding: "utf8", env: { ...process.env, CN_ROOT: dir } });
        assert.match(r.stdout, new RegExp(`^containerd-node-claim ${Buffer.from("x").toString("base64")}$`, "m"));
    });
    it("the facts read at up puts the node library in place when this version is missing, byte for byte; at preview, and when it is there, it writes nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-libinstall-"));
        const file = path.join(dir, NODE_LIB_FILE);
        const read = (prepare: boolean) => spawnSync("bash", ["-c", nodeFactsScript({ stateDir: dir, prepare })], { encoding: "utf8", env: { ...process.env, CN_ROOT: dir } });
        assert.strictEqual(read(false).status, 0);
        assert.ok(!fs.existsSync(file), "not at preview");
        const r = read(true);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(file, "utf8"), NODE_LIB);
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o644);
        fs.utimesSync(file, 1000, 1000);
        assert.strictEqual(read(true).status, 0);
        assert.strictEqual(fs.statSync(file).mtimeMs, 1000 * 1000, "left as it was");
        assert.ok(NODE_LIB_GZIP_BASE64.length < NODE_LIB.length / 2, "sent compressed");
        fs.rmSync(dir, { recursive: true });
    });
    it("a library that arrives damaged (its gzip broken, or not its SHA-256) is refused: nothing at its place, no temp file left", () => {
        const script = nodeFactsScript({ prepare: true });
        const b64 = NODE_LIB_GZIP_BASE64.split("\n");
        const mid = Math.floor(b64.length / 2);
        const flipped = b64.map((l, i) => i === mid ? l.replace(/^./, c => c === "A" ? "B" : "A") : l).join("\n");
        for (const [what, text] of [
            ["gzip broken", script.replace(NODE_LIB_GZIP_BASE64, flipped)],
            ["another SHA-256", script.replace(/^NF_LIB_SHA256='[0-9a-f]{64}'$/m, `NF_LIB_SHA256='${"0".repeat(64)}'`)],
        ] as const) {
            assert.notStrictEqual(text, script, what);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-libbad-"));
            const r = spawnSync("bash", ["-c", text], { encoding: "utf8", env: { ...process.env, CN_ROOT: dir, CN_DIR: dir } });
            assert.strictEqual(r.status, 1, what);
            assert.match(r.stderr, /containerd-node: the node library did not arrive whole at /, what);
            assert.doesNotMatch(r.stdout, /containerd-node-runtime/, `${what}: no facts`);
            assert.deepStrictEqual(fs.readdirSync(path.join(dir, "lib")), [], `${what}: nothing left in lib/`);
            fs.rmSync(dir, { recursive: true });
        }
    });
    it("sq quotes single quotes", () => {
        const r = spawnSync("bash", ["-c", `printf %s ${sq("it's $HOME")}`], { encoding: "utf8" });
        assert.strictEqual(r.stdout, "it's $HOME");
    });
    it("heredoc refuses content that would end it early", () => {
        assert.throws(() => heredoc("cat", "a\nCNODE_EOF\nb"), /contains the line CNODE_EOF/);
    });
});

describe("kubeconfig content on stdin (as local steps and reads run it)", () => {
    for (const shell of ["bash", "sh"]) {
        it(`${shell}: kubectl's file is 0600, holds the content, and is gone when the step ends, failed or not`, () => {
            const r = spawnSync(shell, ["-c", `${KUBECONFIG_FROM_STDIN}stat -c %a "$KUBECONFIG"; cat "$KUBECONFIG"; echo "$KUBECONFIG" >&2; exit 3`],
                { input: "apiVersion: v1\nkind: Config\n", encoding: "utf8" });
            assert.strictEqual(r.status, 3);
            assert.strictEqual(r.stdout, "600\napiVersion: v1\nkind: Config\n");
            assert.strictEqual(fs.existsSync(r.stderr.trim()), false, "removed");
        });
    }
    it("a step killed (TERM) still removes the file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kc-"));
        const r = spawnSync("bash", ["-c", `${KUBECONFIG_FROM_STDIN}echo "$KUBECONFIG" >${dir}/path; kill -TERM $$; sleep 5`],
            { input: "x", encoding: "utf8", env: { ...process.env, TMPDIR: dir } });
        assert.strictEqual(r.status, 143);
        const file = fs.readFileSync(path.join(dir, "path"), "utf8").trim();
        assert.ok(file.startsWith(dir));
        assert.strictEqual(fs.existsSync(file), false);
    });
});
