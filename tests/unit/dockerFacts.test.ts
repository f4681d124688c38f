import * as assert from "assert";
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDockerFacts } from "../../components/docker/facts";
import { UPGRADE_FACTS_FN } from "../../components/scripts/upgradeFacts";
import { sq } from "../../components/scripts/shell";

// These run the facts reader's docker_facts, the exact bash the facts read runs, against a fake
// node tree (CN_ROOT) with a fake systemctl first on PATH.

interface Fake { root: string; bin: string; tmp: string }

function fakeNode(): Fake {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-docker-"));
    const f = { root: path.join(dir, "root"), bin: path.join(dir, "bin"), tmp: path.join(dir, "tmp") };
    Object.values(f).forEach(d => fs.mkdirSync(d));
    return f;
}

function put(f: Fake, nodePath: string, content: string, mode = 0o644) {
    const p = path.join(f.root, nodePath);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode });
}

/**
 * `systemctl show -p PROP… docker`, as systemd prints it: `props` gives each property's lines.
 * Each call is logged to systemctl.calls beside the node's tree.
 */
function systemctl(f: Fake, props: { [prop: string]: string[] }) {
    const cases = Object.entries(props).map(([k, lines]) => `    ${k}) printf '%s\\n' ${lines.map(l => sq(`${k}=${l}`)).join(" ")} ;;`).join("\n");
    fs.writeFileSync(path.join(f.bin, "systemctl"), `#!/bin/sh
echo "$*" >>${sq(path.join(path.dirname(f.root), "systemctl.calls"))}
[ "$1" = show ] || { echo "fake systemctl: $*" >&2; exit 1; }
shift
unit=""
for a in "$@"; do unit=$a; done
[ "$unit" = docker ] || { echo "fake systemctl: $*" >&2; exit 1; }
while [ "$1" = -p ]; do
  case "$2" in
${cases}
    *) printf '%s=\\n' "$2" ;;
  esac
  shift 2
done
`, { mode: 0o755 });
}

/** How many times the reader ran systemctl. */
const systemctlCalls = (f: Fake) => fs.readFileSync(path.join(path.dirname(f.root), "systemctl.calls"), "utf8").trim().split("\n").length;

function snapshot(root: string): string {
    const h = createHash("sha256");
    const walk = (p: string) => {
        const st = fs.lstatSync(p);
        h.update(`${path.relative(root, p)} ${st.mode} ${st.size} ${st.mtimeMs}\n`);
        if (st.isDirectory()) fs.readdirSync(p).sort().forEach(e => walk(path.join(p, e)));
        else h.update(fs.readFileSync(p));
    };
    walk(root);
    return h.digest("hex");
}

/** Runs docker_facts under strict bash; asserts it wrote nothing in the tree or TMPDIR. */
function run(f: Fake, withSystemctl = true): string {
    const before = snapshot(f.root);
    let PATH = `${f.bin}:${process.env.PATH}`;
    if (!withSystemctl) {
        // only the text tools: no systemctl
        const tools = path.join(f.tmp, "..", "tools");
        fs.mkdirSync(tools, { recursive: true });
        for (const t of ["base64", "tr", "sed", "head", "wc", "grep"]) {
            const at = spawnSync("/bin/sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).stdout.trim();
            fs.symlinkSync(at, path.join(tools, t));
        }
        PATH = tools;
    }
    const r = spawnSync("/bin/bash", ["-c", `set -euo pipefail\nexport LC_ALL=C\n${UPGRADE_FACTS_FN}docker_facts`], {
        encoding: "utf8", env: { ...process.env, CN_ROOT: f.root, PATH, TMPDIR: f.tmp },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(snapshot(f.root), before, "docker_facts changed the node's files");
    assert.deepStrictEqual(fs.readdirSync(f.tmp), [], "docker_facts left a temporary file");
    return r.stdout;
}

const STOCK_EXEC = "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }";

describe("docker_facts (the facts reader's Docker reader, run by bash)", () => {
    it("prints nothing at all without a dockerd or a docker.service unit", () => {
        const f = fakeNode();
        systemctl(f, { LoadState: ["not-found"] });
        assert.strictEqual(run(f), "");
        assert.strictEqual(parseDockerFacts(""), undefined);
    });

    it("a running dockerd: its command line names the config file; drop-ins, environment files, certs.d names", () => {
        const f = fakeNode();
        put(f, "/usr/bin/dockerd", "#!/bin/sh\n", 0o755);
        put(f, "/proc/777/cmdline", "/usr/bin/dockerd\0-H\0fd://\0--config-file\0/etc/docker/custom.json\0--log-opt\0max-size=10m\0");
        put(f, "/etc/docker/custom.json", `{"registry-mirrors": ["https://mirror.example.com"]}\n`);
        put(f, "/etc/docker/daemon.json", `{"not": "this one"}`);
        put(f, "/etc/systemd/system/docker.service.d/http-proxy.conf", "[Service]\nEnvironment=\"HTTP_PROXY=http://user:pw@proxy:3128\"\n");
        put(f, "/etc/default/docker", "DOCKER_OPTS=\"--dns 8.8.8.8\"\n");
        put(f, "/etc/docker/certs.d/registry.example.com:5000/ca.crt", "CA");
        put(f, "/etc/docker/certs.d/registry.example.com:5000/client.key", "SECRET KEY MATERIAL");
        fs.mkdirSync(path.join(f.root, "etc/docker/certs.d/empty"), { recursive: true });
        systemctl(f, {
            LoadState: ["loaded"], MainPID: ["777"], ExecStart: [STOCK_EXEC],
            Environment: ["\"HTTP_PROXY=http://user:pw@proxy:3128\" LANG=C"],
            EnvironmentFiles: ["/etc/default/docker (ignore_errors=yes)", "/etc/sysconfig/docker (ignore_errors=yes)"],
            DropInPaths: ["/etc/systemd/system/docker.service.d/http-proxy.conf /etc/systemd/system/docker.service.d/missing.conf"],
        });
        const out = run(f);
        assert.doesNotMatch(out, /SECRET KEY MATERIAL|U0VDUkVUIEtFWSBNQVRFUklBTA/, "certs.d's files are named, not read");
        const d = parseDockerFacts(`other output\n${out}more\n`)!;
        assert.strictEqual(d.dockerd, "/usr/bin/dockerd");
        assert.strictEqual(d.unitLoadState, "loaded");
        assert.strictEqual(d.pid, 777);
        assert.deepStrictEqual(d.argv, { source: "process", args: ["/usr/bin/dockerd", "-H", "fd://", "--config-file", "/etc/docker/custom.json", "--log-opt", "max-size=10m"] });
        assert.deepStrictEqual(d.daemonJson, { path: "/etc/docker/custom.json", status: "present", text: `{"registry-mirrors": ["https://mirror.example.com"]}\n`, named: "flag" });
        assert.strictEqual(d.environment, "\"HTTP_PROXY=http://user:pw@proxy:3128\" LANG=C");
        assert.deepStrictEqual(d.envFiles, [
            { path: "/etc/default/docker", status: "present", text: "DOCKER_OPTS=\"--dns 8.8.8.8\"\n" },
            { path: "/etc/sysconfig/docker", status: "absent" },
        ]);
        assert.deepStrictEqual(d.dropIns.map(x => [x.path, x.status]), [
            ["/etc/systemd/system/docker.service.d/http-proxy.conf", "present"], ["/etc/systemd/system/docker.service.d/missing.conf", "absent"],
        ]);
        assert.deepStrictEqual(d.certsD, [{ host: "registry.example.com:5000", files: ["ca.crt", "client.key"] }]);
        assert.strictEqual(systemctlCalls(f), 1, "docker.service's properties in one call");
    });

    it("a stopped Docker: the unit's ExecStart argv[], $DOCKER_OPTS as written; no daemon.json", () => {
        const f = fakeNode();
        systemctl(f, {
            LoadState: ["loaded"], MainPID: ["0"],
            ExecStart: ["{ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }"],
            Environment: [""], EnvironmentFiles: ["/etc/default/docker (ignore_errors=yes)"],
        });
        put(f, "/etc/default/docker", "# Docker Upstart and SysVinit configuration file\nDOCKER_OPTS=\"--registry-mirror=https://m.example --data-root /srv/docker\"\n");
        fs.mkdirSync(path.join(f.root, "etc/docker/daemon.json"), { recursive: true });
        const d = parseDockerFacts(run(f))!;
        assert.strictEqual(d.dockerd, undefined, "no binary: the unit alone says Docker is installed");
        assert.strictEqual(d.pid, undefined);
        assert.deepStrictEqual(d.argv, { source: "unit", args: ["/usr/sbin/dockerd", "-H", "fd://", "$DOCKER_OPTS"] });
        assert.strictEqual(d.environment, "");
        assert.deepStrictEqual(d.daemonJson, { path: "/etc/docker/daemon.json", status: "error", error: "is a directory", named: "default" });
        assert.deepStrictEqual(d.dropIns, []);
        assert.deepStrictEqual(d.certsD, []);
    });

    it("a dockerd binary without systemd: the default daemon.json, no unit records", () => {
        const f = fakeNode();
        put(f, "/usr/local/bin/dockerd", "#!/bin/sh\n", 0o755);
        const d = parseDockerFacts(run(f, false))!;
        assert.strictEqual(d.dockerd, "/usr/local/bin/dockerd");
        assert.strictEqual(d.unitLoadState, undefined);
        assert.strictEqual(d.argv, undefined);
        assert.deepStrictEqual(d.daemonJson, { path: "/etc/docker/daemon.json", status: "absent", named: "default" });
    });

    it("is shellcheck-clean as the facts read runs it", () => {
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: `set -euo pipefail\n${UPGRADE_FACTS_FN}docker_facts\n`, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout);
    });
});

describe("Docker facts: parser errors", () => {
    const b = (s: string) => Buffer.from(s).toString("base64");
    const ok = ["containerd-node-docker-facts 1 begin", `unit ${b("loaded")}`, "environment -", `daemon-json ${b("/etc/docker/daemon.json")} default absent`, "containerd-node-docker-facts 1 end"];
    const edit = (i: number, line?: string) => ok.flatMap((l, j) => j !== i ? [l] : line === undefined ? [] : [line]).join("\n");
    it("names what is wrong, and where", () => {
        assert.ok(parseDockerFacts(ok.join("\n")));
        assert.throws(() => parseDockerFacts(edit(4)), /no "containerd-node-docker-facts 1 end" line: the output was cut short/);
        assert.throws(() => parseDockerFacts(edit(0, "containerd-node-docker-facts 2 begin")), /format "containerd-node-docker-facts 2 begin" is not this package's/);
        assert.throws(() => parseDockerFacts(edit(3)), /no daemon-json record/);
        assert.throws(() => parseDockerFacts(edit(3, `daemon-json ${b("/x")} guessed absent`)), /line 4: daemon-json: expected flag or default/);
        assert.throws(() => parseDockerFacts(edit(1, "unit L2V0Yw=!")), /line 2: unit: not base64/);
        assert.throws(() => parseDockerFacts(edit(2, "weather sunny")), /line 3: unknown record "weather sunny"/);
        assert.throws(() => parseDockerFacts(edit(2, "pid x")), /line 3: pid: not a number/);
    });
});
