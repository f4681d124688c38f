/**
 * End to end: the repo's stack program through the real Pulumi engine and providers, against
 * real systemd nodes (systemd-nspawn) reached over SSH, starting from the seeds' "before" state:
 * Debian's docker.io with a running container and dockershim-era kubelet flags.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { addSudoUser, artifacts, ARTIFACT_PORT, changes, checkpointResources, stateText, labNode, labStack, nodeDown, nodeUp, onNode, privateKey, REPO, upExpectingFailure,
} from "./lab";
import { Stack } from "@pulumi/pulumi/automation";

const A = artifacts();
const url = (file: string) => `http://127.0.0.1:${ARTIFACT_PORT}/${file}`;
const BAD_TOML = { grpc: { max_recv_message_size: "not-a-number" } };
const KEY_BODY = () => privateKey().split("\n")[1];

function serve(arg: string) {
    execFileSync(path.join(REPO, "artifacts", "serve.sh"), [arg], { stdio: "inherit" });
}

/** Every operation other than "same", by resource name, from a preview's or up's events. */
function opsOf(events: any[]): string[] {
    return events.filter(e => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same")
        .map(e => `${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.urn.split("::").pop()}`);
}


const common = {
    privateKey: undefined as unknown,
    kubelet: { version: "1.30.4" },
};

describe("e2e: Docker → containerd 2.x from the release tarball, logged in as a sudo user", function () {
    this.timeout(20 * 60 * 1000);
    const NODE = "e2e-tar";
    // Not root: every step goes through `sudo -n`, its script on the standard input.
    const USER = "ops";
    let stack: Stack;
    const containerd = {
        version: A.CONTAINERD2_VERSION,
        source: { kind: "tarball", url: url(A.CONTAINERD2_FILE), sha256: A.CONTAINERD2_SHA256 },
        runc: { url: url(A.RUNC_FILE), sha256: A.RUNC_SHA256 },
    };
    const config = {
        sandboxImage: "registry.k8s.io/pause:3.10",
        registryMirrors: { "docker.io": ["https://mirror.lab.example"] },
        insecureRegistries: ["127.0.0.1:5000"],
    };
    let dockerImagesBefore = "";

    before(async () => {
        serve(String(ARTIFACT_PORT));
        nodeUp(NODE, 2231);
        addSudoUser(NODE, USER);
        dockerImagesBefore = onNode(NODE, "docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort");
        stack = await labStack("tarball", {
            nodes: [{ ...labNode(NODE), user: USER }], privateKey: privateKey(), containerd, config,
            kubelet: common.kubelet, docker: { mode: "disable", migrateImages: true },
        });
    });
    after(() => nodeDown(NODE));

    it("pulumi up converts the node", async () => {
        const events: any[] = [];
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.doesNotMatch(res.stdout + res.stderr, new RegExp(KEY_BODY().slice(0, 40).replace(/[+/]/g, "\\$&")), "the SSH key is never printed");
        // The backend's files as stored (exportStack would decrypt: it passes --show-secrets).
        const state = stateText(stack);
        assert.ok(!state.includes(KEY_BODY().slice(0, 40)), "the SSH key is only in the state encrypted");
        assert.match(state, /"connection":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270"/, "the connection is stored as a secret");
        // A step's state holds no source position (this package's lines), nor does a node the
        // fleet made (the SDK found none: the fleet builds it in a promise callback); the fleet's
        // names the program's line.
        const resources = checkpointResources(stack);
        const positionless = resources.filter(r => r.type.startsWith("command:") || r.type === "containerd-node:index:ContainerdNode");
        assert.ok(positionless.some(r => r.type === "containerd-node:index:ContainerdNode") && positionless.some(r => r.type.startsWith("command:")));
        for (const r of positionless) {
            assert.ok(!("sourcePosition" in r) && !("stackTrace" in r), `${r.urn} has no source position`);
        }
        assert.match(resources.find(r => r.type === "containerd-node:index:ContainerdFleet")!.sourcePosition!, /^project:\/\/\/.*index\.ts#\d+,\d+$/);
        const out = res.outputs.runtimes.value;
        assert.deepStrictEqual(out[NODE], { before: "docker://20.10.24+dfsg1", after: `containerd://${A.CONTAINERD2_VERSION}` });

        assert.strictEqual(onNode(NODE, "systemctl is-active containerd; systemctl is-enabled containerd"), "active\nenabled\n");
        assert.match(onNode(NODE, "ctr plugins ls"), /io\.containerd\.grpc\.v1\s+cri\s+.*ok/);
        assert.match(onNode(NODE, "containerd --version"), new RegExp(`v${A.CONTAINERD2_VERSION.replace(/\./g, "\\.")}`));
        assert.strictEqual(onNode(NODE, "readlink -f $(command -v runc)").trim(), "/usr/local/sbin/runc");

        const toml = onNode(NODE, "cat /etc/containerd/config.toml");
        assert.match(toml, /^version = 3$/m);
        assert.match(toml, /\[plugins\."io\.containerd\.cri\.v1\.images"\.pinned_images\]\nsandbox = "registry\.k8s\.io\/pause:3\.10"/);
        assert.match(toml, /SystemdCgroup = true/);
        assert.match(toml, /config_path = "\/etc\/containerd\/certs\.d"/);
        assert.match(onNode(NODE, "cat /etc/containerd/certs.d/docker.io/hosts.toml"), /\[host\."https:\/\/mirror\.lab\.example"\]/);
        assert.match(onNode(NODE, "cat /etc/containerd/certs.d/127.0.0.1:5000/hosts.toml"), /skip_verify = true/);
        // containerd itself reads the rendered file: the sandbox image is what CRI reports.
        assert.match(onNode(NODE, "containerd config dump"), /sandbox = 'registry\.k8s\.io\/pause:3\.10'|sandbox = "registry\.k8s\.io\/pause:3\.10"/);

        const unit = onNode(NODE, "systemctl cat containerd");
        assert.match(unit, /^Delegate=yes$/m);
        assert.match(unit, /^KillMode=process$/m);
        assert.match(unit, /^ExecStart=\/usr\/local\/bin\/containerd /m);
        assert.strictEqual(onNode(NODE, "systemctl show -p Delegate -p KillMode containerd"), "Delegate=yes\nKillMode=process\n");

        assert.strictEqual(onNode(NODE, "systemctl is-active docker", true).trim(), "inactive");
        assert.strictEqual(onNode(NODE, "systemctl is-enabled docker", true).trim(), "disabled");

        assert.strictEqual(onNode(NODE, "cat /var/lib/kubelet/kubeadm-flags.env"),
            'KUBELET_KUBEADM_ARGS="--cgroup-driver=systemd --container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n');
        assert.match(onNode(NODE, "cat /etc/crictl.yaml"), /^runtime-endpoint: unix:\/\/\/run\/containerd\/containerd\.sock$/m);

        // Nothing lost: Docker's data untouched, its image imported into containerd's k8s.io.
        assert.match(onNode(NODE, "ls /var/lib/docker/image/overlay2/imagedb/content/sha256 | wc -l"), /^[1-9]/);
        assert.match(onNode(NODE, "ctr -n k8s.io images ls -q"), /lab\/busybox:1/);
        assert.match(onNode(NODE, "cat /var/lib/containerd-node/original/manifest"), /^present \/var\/lib\/kubelet\/kubeadm-flags\.env$/m);
        assert.match(dockerImagesBefore, /lab\/busybox:1/);
        // The run logged in as the sudo user, and became root only through sudo.
        assert.match(onNode(NODE, "journalctl -q --no-pager -u ssh"), new RegExp(`Accepted publickey for ${USER} `));
        assert.match(onNode(NODE, "journalctl -q --no-pager _COMM=sudo"), new RegExp(`${USER} : .*USER=root ; COMMAND=/usr/bin/bash -c`));
        assert.strictEqual(onNode(NODE, "find /tmp -maxdepth 1 -name 'containerd-node.*' | wc -l").trim(), "0", "no script left in /tmp");
    });

    it("a second pulumi up changes nothing", async () => {
        const events: any[] = [];
        const res = await stack.up({ color: "never", onEvent: e => events.push(e) });
        assert.deepStrictEqual(changes(res.summary.resourceChanges as any), {});
        assert.deepStrictEqual(opsOf(events), []);
    });

    it("changing the sandbox image previews as an update of the node's one step, its config lines; a running task survives the restart", async () => {
        onNode(NODE, "ctr -n k8s.io run -d docker.io/lab/busybox:1 survivor /bin/busybox sleep 100000 >/dev/null");
        const pid = onNode(NODE, "ctr -n k8s.io task ls | awk '$1==\"survivor\"{print $2}'").trim();
        const daemonPid = onNode(NODE, "systemctl show -p MainPID --value containerd").trim();
        assert.match(pid, /^\d+$/);
        await stack.setConfig("containerd-node:config", { value: JSON.stringify({ ...config, sandboxImage: "registry.k8s.io/pause:3.9" }) });

        const pe: any[] = [];
        const preview = await stack.preview({ color: "never", diff: true, onEvent: e => pe.push(e) });
        assert.deepStrictEqual(opsOf(pe), [`update ${NODE}-converge`]);
        assert.match(preview.stdout, /-\s*sandbox = "registry\.k8s\.io\/pause:3\.10"/);
        assert.match(preview.stdout, /\+\s*sandbox = "registry\.k8s\.io\/pause:3\.9"/);

        const ue: any[] = [];
        await stack.up({ color: "never", onEvent: e => ue.push(e) });
        assert.deepStrictEqual(opsOf(ue), [`update ${NODE}-converge`]);
        assert.match(onNode(NODE, "cat /etc/containerd/config.toml"), /sandbox = "registry\.k8s\.io\/pause:3\.9"/);
        assert.notStrictEqual(onNode(NODE, "systemctl show -p MainPID --value containerd").trim(), daemonPid, "containerd was restarted");
        const after = onNode(NODE, "ctr -n k8s.io task ls | awk '$1==\"survivor\"{print $2, $3}'").trim();
        assert.strictEqual(after, `${pid} RUNNING`, "KillMode=process: the task lives through the restart");
    });

    it("a config that makes containerd fail is rolled back and the error says what failed", async () => {
        const before = onNode(NODE, "sha256sum /etc/containerd/config.toml");
        await stack.setConfig("containerd-node:config", { value: JSON.stringify({ ...config, sandboxImage: "registry.k8s.io/pause:3.9", extraToml: BAD_TOML }) });
        const err = await upExpectingFailure(stack);
        assert.match(err, /step 'configure' failed during 'starting containerd': containerd did not start/);
        assert.match(err, /rolling back step 'configure'/);
        // The error quotes the step's short command, not its script (the script is its stdin).
        assert.match(err, /Process exited with status 1: running "sudo -n bash -c 'CN_DIR=[^\n]*cn_run converge' /);
        assert.doesNotMatch(err, /cn_begin converge/, "no line of the step's script in the error");
        assert.strictEqual(onNode(NODE, "sha256sum /etc/containerd/config.toml"), before, "config.toml restored");
        assert.strictEqual(onNode(NODE, "systemctl is-active containerd").trim(), "active");
        assert.match(onNode(NODE, "ctr -n k8s.io task ls"), /survivor\s+\d+\s+RUNNING/);
        await stack.setConfig("containerd-node:config", { value: JSON.stringify({ ...config, sandboxImage: "registry.k8s.io/pause:3.9" }) });
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
    });

    it("pulumi destroy forgets the node and leaves it converted", async () => {
        await stack.destroy({ color: "never" });
        assert.strictEqual(onNode(NODE, "systemctl is-active containerd").trim(), "active");
        assert.strictEqual(onNode(NODE, "systemctl is-active docker", true).trim(), "inactive");
        assert.match(onNode(NODE, "cat /var/lib/kubelet/kubeadm-flags.env"), /containerd\.sock/);
        assert.match(onNode(NODE, "ctr -n k8s.io task ls"), /survivor\s+\d+\s+RUNNING/);
        assert.match(onNode(NODE, "test -x /var/lib/containerd-node/original/revert.sh && echo ok"), /ok/);
    });
});

describe("e2e: a failed first conversion, then Debian's containerd package (schema 2)", function () {
    this.timeout(20 * 60 * 1000);
    const NODE = "e2e-pkg";
    let stack: Stack;
    // Names, types, modes, sizes, link targets and contents (directory mtimes change when a file is put back).
    const files = "sha256sum /var/lib/kubelet/kubeadm-flags.env /etc/containerd/config.toml; " +
        "find /etc/containerd /etc/systemd/system /usr/local/bin -mindepth 1 -maxdepth 1 -printf '%y %p %m %s %l\\n' | sort";

    before(async () => {
        nodeUp(NODE, 2232);
        stack = await labStack("package", {
            nodes: [labNode(NODE)], privateKey: privateKey(),
            containerd: { version: "1.6.20", source: { kind: "package" } },
            config: { extraToml: BAD_TOML },
            kubelet: common.kubelet, docker: { mode: "disable" },
        });
    });
    after(() => nodeDown(NODE));

    it("a broken config leaves Docker, its container and every file as they were", async () => {
        const before = onNode(NODE, files);
        const sleeperBefore = onNode(NODE, "docker inspect -f '{{.State.Pid}} {{.State.Status}}' sleeper");
        const err = await upExpectingFailure(stack);
        assert.match(err, /step 'configure' failed during 'starting containerd': containerd did not start/);
        assert.match(err, /cannot|toml|unmarshal|decode/i, "containerd's own complaint is in the message");
        assert.strictEqual(onNode(NODE, files), before, "files restored");
        assert.strictEqual(onNode(NODE, "systemctl is-active docker containerd"), "active\nactive\n");
        assert.strictEqual(onNode(NODE, "docker inspect -f '{{.State.Pid}} {{.State.Status}}' sleeper"), sleeperBefore, "the container kept running");
    });

    it("with the config fixed, the package path converts the node with a schema 2 config", async () => {
        await stack.removeConfig("containerd-node:config");
        const res = await stack.up({ color: "never" });
        assert.match(res.outputs.runtimes.value[NODE].after, /^containerd:\/\/1\.6\./);
        assert.match(onNode(NODE, "cat /etc/containerd/config.toml"), /^version = 2$/m);
        assert.match(onNode(NODE, "cat /etc/containerd/config.toml"), /\[plugins\."io\.containerd\.grpc\.v1\.cri"\]\nsandbox_image = "registry\.k8s\.io\/pause:3\.10"/);
        assert.match(onNode(NODE, "ctr plugins ls"), /io\.containerd\.grpc\.v1\s+cri\s+.*ok/);
        assert.match(onNode(NODE, "systemctl cat containerd"), /^ExecStart=\/usr\/bin\/containerd /m);
        assert.strictEqual(onNode(NODE, "systemctl is-active docker", true).trim(), "inactive");
        const again = await stack.up({ color: "never" });
        assert.deepStrictEqual(changes(again.summary.resourceChanges as any), {});
    });
});

describe("e2e: reusing Docker's own containerd, Docker stopped", function () {
    this.timeout(20 * 60 * 1000);
    const NODE = "e2e-dkr";
    let stack: Stack;
    before(async () => {
        nodeUp(NODE, 2233);
        stack = await labStack("docker", {
            nodes: [labNode(NODE)], privateKey: privateKey(),
            containerd: { version: "1.6.20", source: { kind: "docker" } },
            config: { systemdCgroup: false }, kubelet: common.kubelet, docker: { mode: "stop" },
        });
    });
    // The artifact server stays up: other files running beside this one fetch from it (the test
    // command stops it at the end).
    after(() => nodeDown(NODE));

    it("replaces the CRI-less config and stops (not disables) Docker", async () => {
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.match(onNode(NODE, "ctr plugins ls"), /io\.containerd\.grpc\.v1\s+cri\s+.*ok/);
        assert.doesNotMatch(onNode(NODE, "cat /etc/containerd/config.toml"), /disabled_plugins/);
        assert.match(onNode(NODE, "cat /etc/containerd/config.toml"), /SystemdCgroup = false/);
        assert.strictEqual(onNode(NODE, "systemctl is-active docker", true).trim(), "inactive");
        assert.strictEqual(onNode(NODE, "systemctl is-enabled docker", true).trim(), "enabled");
        assert.match(onNode(NODE, "cat /var/lib/kubelet/kubeadm-flags.env"), /--cgroup-driver=cgroupfs/);
    });
});
