/**
 * End to end: Docker's proxy carried to containerd (host mode). A real HTTP proxy (squid, from
 * Debian's package, lab/proxy-up.sh) on 127.0.0.1 that takes only the lab's user and password, a
 * plain-HTTP registry that only the proxy can name (squid's hosts_file: the node resolves no such
 * host), and a Docker node whose docker.service has a proxy drop-in pointing at it, credentials in
 * the URL (lab/node-up.sh DOCKER_PROXY). The pre-flight refuses the proxy until `proxy` carries it;
 * with it, containerd pulls through the proxy by CRI, and the password shows nowhere but in the two
 * drop-ins on the node (Docker's, the lab's "before", and containerd's, 0600); without it again,
 * containerd's drop-in goes.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import {
    ARTIFACT_PORT, CRICTL, inNode, labContainerd2, labNode, labStack, LAB_DIR, nodeDown, nodeUp, onNode, privateKey, REPO, stateText, upChangesNothing,
    upExpectingFailure,
} from "./lab";

const NODE = "px-1";
const USER = "labproxy";
const PASSWORD = "cn-proxy-Pa55-5e1f0a2b";
const PROXY_PORT = Number(process.env.PROXY_PORT ?? 13128);  // lab/lib.sh's default
const PROXY_URL = `http://${USER}:${PASSWORD}@127.0.0.1:${PROXY_PORT}`;
const NO_PROXY = "localhost,127.0.0.1,.svc";
/** lab/lib.sh's PROXIED_REGISTRY: a name only the proxy resolves, on REGISTRY_PORT. */
const REGISTRY = `proxied.lab.internal:${process.env.REGISTRY_PORT ?? 5443}`;
const IMAGE = `${REGISTRY}/lab/plain:1`;
const DOCKER_DROPIN = "/etc/systemd/system/docker.service.d/http-proxy.conf";
const CONTAINERD_DROPIN = "/etc/systemd/system/containerd.service.d/http-proxy.conf";

const lab = (script: string, ...args: string[]) => execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR } });
const accessLog = () => fs.readFileSync(path.join(LAB_DIR, "proxy", "access.log"), "utf8");

/** Every file the run may touch, with its checksum, and the services' states. */
const nodeState = () => onNode(NODE, `for p in /etc/containerd /etc/systemd/system /etc/crictl.yaml /usr/local/bin /usr/local/sbin /var/lib/kubelet; do
  if [ -e "$p" ]; then find "$p" -type f -exec sha256sum {} + | sort -k2; else echo "absent $p"; fi
done; for u in docker containerd; do echo "$u $(systemctl is-active $u) $(systemctl is-enabled $u)"; done`);

/** The files under DIR (host side) that hold the needle. */
function filesHolding(dir: string, needle: string): string[] {
    const r = spawnSync("grep", ["-rlIF", "-e", needle, dir], { encoding: "utf8", maxBuffer: 1 << 26 });
    return r.stdout.split("\n").filter(Boolean).map(f => f.slice(dir.length)).sort();
}

describe("e2e: Docker's proxy carried to containerd (host mode, a real proxy)", function () {
    this.timeout(20 * 60 * 1000);
    const settings = {
        nodes: [] as unknown[], privateKey: "",
        containerd: labContainerd2(),
        // The registry is plain HTTP: containerd tries it over HTTPS, then HTTP (hosts.toml).
        config: { insecureRegistries: [REGISTRY] },
        kubelet: { version: "1.30.4" }, docker: { mode: "disable" },
    };
    let stack: Stack;

    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
        lab("proxy-up.sh", USER, PASSWORD);
        nodeUp(NODE, 2521, undefined, { DOCKER_PROXY: PROXY_URL, DOCKER_NO_PROXY: NO_PROXY });
        // crictl, to pull through CRI (containerd's own environment, not a client's).
        execFileSync("install", ["-m", "0755", CRICTL, path.join(LAB_DIR, "nodes", NODE, "usr", "local", "bin", "crictl")]);
        Object.assign(settings, { nodes: [labNode(NODE)], privateKey: privateKey() });
    });
    after(() => {
        nodeDown(NODE);
        lab("proxy-down.sh");
    });

    it("the pre-flight refuses Docker's proxy variables while proxy does not carry them, naming node, key and value, the password never shown; nothing on the node changes", async () => {
        assert.match(onNode(NODE, "systemctl show docker -p Environment"), /HTTP_PROXY=/, "the lab's Docker runs with the proxy");
        const before = nodeState();
        const bare = await labStack("proxy-bare", settings);
        const refused = await bare.preview({ color: "never" }).then(() => "", e => String(e));
        const drop = DOCKER_DROPIN.replace(/[./]/g, "\\$&");
        assert.match(refused, new RegExp(`${NODE}: in ${drop}:`), refused.slice(-3000));
        assert.match(refused, new RegExp(`${NODE}:   docker:proxies\\.http-proxy = <secret, ${PROXY_URL.length} chars> \\(HTTP_PROXY\\) would be dropped: set proxy\\.httpProxy \\(the same URL, as a Pulumi secret\\), or list docker:proxies\\.http-proxy in upgrade\\.acknowledgeDropped`));
        assert.match(refused, new RegExp(`${NODE}:   docker:proxies\\.no-proxy = "${NO_PROXY.replace(/\./g, "\\.")}" \\(NO_PROXY\\) would be dropped: set proxy\\.noProxy = "${NO_PROXY.replace(/\./g, "\\.")}"`));
        const up = await upExpectingFailure(bare);
        assert.match(up, /the pre-flight refuses the run/);
        for (const text of [refused, up, stateText(bare)]) {
            assert.ok(!text.includes(PASSWORD), "the proxy's password is never shown");
        }
        assert.strictEqual(nodeState(), before, "no file or service on the node changed");
        assert.match(onNode(NODE, "systemctl is-active docker; test -e /etc/systemd/system/containerd.service.d || echo no-drop-in"), /^active\nno-drop-in\n$/);
    });

    it("with proxy given (the URL a secret), containerd pulls through the proxy by CRI; the password is in no preview, log, event or state, and on the node only in the two drop-ins", async () => {
        stack = await labStack("proxy", { ...settings, proxy: { httpProxy: PROXY_URL, noProxy: NO_PROXY } });
        const verbose = { color: "never" as const, logToStdErr: true, logVerbosity: 5, logFlow: true };
        const events: unknown[] = [];
        const preview = await stack.preview({ ...verbose, onEvent: e => events.push(e) });
        assert.match(preview.stdout, new RegExp(`${NODE}:   docker:proxies\\.http-proxy = <secret, ${PROXY_URL.length} chars> \\(HTTP_PROXY\\) carried: proxy\\.httpProxy \\(the same URL, as a Pulumi secret\\)`));
        assert.match(preview.stdout, /docker:proxies\.no-proxy = .* carried: proxy\.noProxy = /);
        const up = await stack.up({ ...verbose, onEvent: e => events.push(e) });
        assert.strictEqual(up.summary.result, "succeeded");
        assert.match(up.stderr, /"v":5\}/, "the CLI wrote its engine log");
        const texts: { [where: string]: string } = {
            "preview output and engine log": preview.stdout + preview.stderr,
            "up output and engine log": up.stdout + up.stderr,
            "engine events": JSON.stringify(events),
            "state as stored": stateText(stack),
        };
        for (const [where, text] of Object.entries(texts)) {
            assert.ok(!text.includes(PASSWORD), `no proxy password in the ${where}`);
        }
        assert.match(stateText(stack), /"stdin":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270"/, "the proxy step's text is stored as a secret");

        // containerd runs with the proxy environment, from its drop-in (0600, as the credentials file).
        assert.strictEqual(onNode(NODE, `stat -c '%a %U' ${CONTAINERD_DROPIN}`).trim(), "600 root");
        assert.match(onNode(NODE, "systemctl show containerd -p DropInPaths"), new RegExp(CONTAINERD_DROPIN.replace(/[./]/g, "\\$&")));
        assert.strictEqual(onNode(NODE, "tr '\\0' '\\n' </proc/$(systemctl show -p MainPID --value containerd)/environ | grep -c -e '^HTTP_PROXY=http://labproxy:' -e '^NO_PROXY=localhost,127.0.0.1,.svc$'").trim(), "2");
        // The node can't name the registry; through the proxy, CRI pulls from it.
        assert.notStrictEqual(spawnSync(path.join(REPO, "lab", "ssh.sh"), [NODE, `getent hosts ${REGISTRY.split(":")[0]}`], { env: { ...process.env, LAB_DIR } }).status, 0);
        const logBefore = accessLog().split("\n").length;
        assert.match(onNode(NODE, `crictl pull ${IMAGE} 2>&1`), /Image is up to date for sha256:/);
        const seen = accessLog().split("\n").slice(logBefore - 1).filter(l => l.includes(`http://${REGISTRY}/v2/lab/plain/manifests/1 ${USER} `));
        assert.ok(seen.length > 0, `the proxy's access log shows the pull, as ${USER}:\n${accessLog().slice(-2000)}`);

        // On the node: the password only in Docker's drop-in (the lab's "before") and containerd's.
        const tree = path.join(LAB_DIR, "nodes", NODE);
        assert.deepStrictEqual(filesHolding(tree, PASSWORD), [CONTAINERD_DROPIN, DOCKER_DROPIN].sort());
        assert.strictEqual(inNode(NODE, `grep -rlIF -e '${PASSWORD}' /run /tmp /dev/shm 2>/dev/null || true`).trim(), "", "nothing in the node's tmpfs mounts");
        assert.strictEqual(inNode(NODE, `journalctl -o cat --no-pager | grep -cF -e '${PASSWORD}' || true`).trim(), "0", "nothing in the node's journal");
    });

    it("a second pulumi up changes nothing", async () => {
        await upChangesNothing(stack);
    });

    it("the proxy step run again with the same values restarts nothing; a changed value restarts containerd on it", async () => {
        const pid = () => onNode(NODE, "systemctl show -p MainPID --value containerd").trim();
        const lastRun = () => onNode(NODE, "cat \"$(ls -dt /var/lib/containerd-node/runs/done/*-proxy-* | head -n 1)/err\"");
        const before = pid();
        const urn = (await stack.exportStack()).deployment.resources.find((r: { urn: string }) => r.urn.endsWith(`::${NODE}-proxy`)).urn;
        assert.strictEqual((await stack.up({ color: "never", replace: [urn] })).summary.result, "succeeded");
        assert.match(lastRun(), /http-proxy\.conf unchanged: no restart/);
        assert.strictEqual(pid(), before, "containerd not restarted");
        await stack.setConfig("containerd-node:proxy.noProxy", { value: `${NO_PROXY},.lab` }, true);
        assert.strictEqual((await stack.up({ color: "never" })).summary.result, "succeeded");
        assert.match(lastRun(), /restarting containerd for its proxy environment/);
        assert.notStrictEqual(pid(), before, "containerd restarted");
        assert.strictEqual(onNode(NODE, "tr '\\0' '\\n' </proc/$(systemctl show -p MainPID --value containerd)/environ | grep '^NO_PROXY='"), "NO_PROXY=localhost,127.0.0.1,.svc,.lab\n");
        await upChangesNothing(stack, "and then a second up changes nothing");
    });

    it("without proxy the drop-in goes and containerd restarts without it", async () => {
        await stack.removeConfig("containerd-node:proxy");
        const res = await stack.up({ color: "never" });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.strictEqual(onNode(NODE, `test -e ${CONTAINERD_DROPIN} && echo present || echo absent`).trim(), "absent");
        assert.strictEqual(onNode(NODE, "tr '\\0' '\\n' </proc/$(systemctl show -p MainPID --value containerd)/environ | grep -c PROXY || true").trim(), "0");
        onNode(NODE, `crictl rmi ${IMAGE} >/dev/null`);
        assert.match(onNode(NODE, `crictl pull ${IMAGE} 2>&1 || true`), /failed to pull|no such host|dial tcp/i);
    });
});
