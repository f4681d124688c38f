import * as assert from "assert";
import { ContainerdNodeArgs } from "../../components/args";
import { dockerCarryReport, DockerCarryReport } from "../../components/docker/carry";
import { parseEnvFile, splitShown } from "../../components/docker/environment";
import { dockerSizeBytes, kubeletLogSize } from "../../components/docker/logSize";
import { dockerSettings } from "../../components/docker/settings";
import { DockerFacts } from "../../components/facts";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { planNode } from "../../components/preflight/plan";
import { baseArgs, DOCKER_FACTS } from "./helpers";

const STOCK = ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"];
const PROXY_CONF = "/etc/systemd/system/docker.service.d/http-proxy.conf";

/** A Docker node's facts: a running dockerd with the stock unit's arguments unless said otherwise. */
function docker(over: Partial<DockerFacts> & { json?: string } = {}): DockerFacts {
    const { json, ...rest } = over;
    const daemonJson: DockerFacts["daemonJson"] = json === undefined
        ? { path: "/etc/docker/daemon.json", status: "absent", named: "default" }
        : { path: "/etc/docker/daemon.json", status: "present", text: json, named: "default" };
    return { dockerd: "/usr/bin/dockerd", unitLoadState: "loaded", pid: 900, argv: { source: "process", args: STOCK }, environment: "", envFiles: [], dropIns: [], daemonJson, certsD: [], ...rest };
}

const spec = (over: Partial<ContainerdNodeArgs> = {}) => resolveSpec(baseArgs(over));
const report = (d: DockerFacts, over: Partial<ContainerdNodeArgs> = {}) => dockerCarryReport(d, spec(over));
const byKey = (r: DockerCarryReport, key: string) => r.findings.filter(f => f.setting.key === key);
const status = (r: DockerCarryReport) => Object.fromEntries(r.findings.map(f => [`${f.setting.key}=${f.setting.shown}`, f.status]));
const plan = (d: DockerFacts, over: Partial<ContainerdNodeArgs> = {}) => planNode("n1", { ...DOCKER_FACTS, docker: d }, spec(over));

const NVIDIA = `{
    "runtimes": {
        "nvidia": {
            "path": "nvidia-container-runtime",
            "runtimeArgs": []
        }
    }
}
`;
const NVIDIA_DEFAULT = `{
    "default-runtime": "nvidia",
    "runtimes": {
        "nvidia": {
            "path": "nvidia-container-runtime",
            "runtimeArgs": []
        }
    }
}
`;
const KUBEADM = `{
  "exec-opts": ["native.cgroupdriver=systemd"],
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "100m"
  },
  "storage-driver": "overlay2"
}
`;
const NVIDIA_RUNTIME = { runtimes: { nvidia: { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/bin/nvidia-container-runtime" } } } };

describe("Docker settings: docker-ce's defaults", () => {
    it("no daemon.json and the stock unit: nothing refused, the unit's flags not needed", () => {
        const r = report(docker());
        assert.deepStrictEqual(status(r), { 'hosts=["fd://"]': "info", 'containerd="/run/containerd/containerd.sock"': "info" });
        assert.deepStrictEqual(r.problems, []);
        const p = plan(docker());
        assert.deepStrictEqual(p.refused, []);
        assert.deepStrictEqual(p.lines.slice(0, 3), [
            "n1: docker://20.10.24 → containerd",
            "n1: Docker's settings: 0 carried, 2 not needed under containerd, 0 dropped as acknowledged, 0 not carried",
            "n1: in dockerd's command line:",
        ]);
    });
    it("an empty daemon.json is no settings, as dockerd takes it", () => {
        assert.deepStrictEqual(dockerSettings(docker({ json: "\n" })).settings.map(s => s.key), ["hosts", "containerd"]);
    });
    it("facts from a reader without Docker facts plan as before", () => {
        assert.deepStrictEqual(planNode("n1", DOCKER_FACTS, spec()).lines, ["n1: docker://20.10.24 → containerd"]);
    });
});

describe("Docker settings: nvidia-docker2", () => {
    it("its runtime is refused naming the handler to declare, and carried once declared (a bare name matches an absolute BinaryName)", () => {
        const refused = plan(docker({ json: NVIDIA }));
        assert.deepStrictEqual(refused.refused, [
            "n1: in /etc/docker/daemon.json:",
            'n1:   docker:runtimes.nvidia = {"path":"nvidia-container-runtime","runtimeArgs":[]} would be dropped: set config.runtimes["nvidia"].runtimeType = "io.containerd.runc.v2" and config.runtimes["nvidia"].options.BinaryName = "nvidia-container-runtime", or list docker:runtimes.nvidia in upgrade.acknowledgeDropped',
        ]);
        const carried = plan(docker({ json: NVIDIA }), { config: NVIDIA_RUNTIME });
        assert.deepStrictEqual(carried.refused, []);
        assert.ok(carried.lines.some(l => l.includes('docker:runtimes.nvidia = {"path":"nvidia-container-runtime","runtimeArgs":[]} carried: config.runtimes["nvidia"]')), carried.lines.join("\n"));
        const other = report(docker({ json: NVIDIA }), { config: { runtimes: { nvidia: { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/opt/other-runtime" } } } } });
        assert.strictEqual(byKey(other, "runtimes.nvidia")[0].status, "refused", "another binary is not the same runtime");
    });
    it("default-runtime nvidia: CRI's default_runtime_name in config.extraToml carries it", () => {
        const r = report(docker({ json: NVIDIA_DEFAULT }), { config: NVIDIA_RUNTIME });
        const d = byKey(r, "default-runtime")[0];
        assert.strictEqual(d.status, "refused");
        assert.deepStrictEqual(d.carriers, [{ kind: "extraToml", path: ["plugins", "io.containerd.cri.v1.runtime", "containerd", "default_runtime_name"], shown: '"nvidia"', caveat: 'a RuntimeClass with handler "nvidia", named by the pods that need it, keeps runc every other pod\'s default' }]);
        const withDefault = report(docker({ json: NVIDIA_DEFAULT }), { config: { ...NVIDIA_RUNTIME, extraToml: { plugins: { "io.containerd.cri.v1.runtime": { containerd: { default_runtime_name: "nvidia" } } } } } });
        assert.deepStrictEqual(withDefault.findings.filter(f => f.status === "refused"), []);
        const runtimeArgs = report(docker({ json: `{"runtimes":{"nvidia":{"path":"nvidia-container-runtime","runtimeArgs":["--debug"]}}}` }), { config: NVIDIA_RUNTIME });
        assert.match(JSON.stringify(byKey(runtimeArgs, "runtimes.nvidia")[0].carriers), /take no arguments/, "runtimeArgs have no equivalent");
    });
});

describe("Docker settings: kubeadm's documented daemon.json", () => {
    const kubelet = (rotation: { containerLogMaxSize?: string; containerLogMaxFiles?: number } = {}) => ({ kubelet: { version: "1.30.4", ...rotation } });
    it("systemd cgroups carried by config.systemdCgroup; json-file and overlay2 not needed; max-size refused naming the kubelet's size", () => {
        const r = report(docker({ json: KUBEADM }), kubelet());
        assert.deepStrictEqual(status(r), {
            'exec-opts="native.cgroupdriver=systemd"': "carried", 'log-driver="json-file"': "info", 'log-opts.max-size="100m"': "refused",
            'storage-driver="overlay2"': "info", 'hosts=["fd://"]': "info", 'containerd="/run/containerd/containerd.sock"': "info",
        });
        const p = plan(docker({ json: KUBEADM }), kubelet());
        assert.deepStrictEqual(p.refused, [
            "n1: in /etc/docker/daemon.json:",
            'n1:   docker:log-opts.max-size = "100m" would be dropped: set kubelet.containerLogMaxSize = "100M", or list docker:log-opts.max-size in upgrade.acknowledgeDropped',
        ]);
        assert.ok(p.lines.includes('n1:   docker:exec-opts = "native.cgroupdriver=systemd" carried: config.systemdCgroup = true'), p.lines.join("\n"));
    });
    it("log-opts carried by kubelet.containerLogMaxSize/Files of the same bytes and count; Docker's 100m is not the kubelet's 100Mi", () => {
        const json = `{"log-driver":"json-file","log-opts":{"max-size":"100m","max-file":"3"}}`;
        const carried = report(docker({ json }), kubelet({ containerLogMaxSize: "100M", containerLogMaxFiles: 3 }));
        assert.strictEqual(byKey(carried, "log-opts.max-size")[0].status, "carried");
        assert.strictEqual(byKey(carried, "log-opts.max-file")[0].status, "carried");
        assert.ok(plan(docker({ json }), kubelet({ containerLogMaxSize: "100M", containerLogMaxFiles: 3 })).lines
            .includes('n1:   docker:log-opts.max-size = "100m" carried: kubelet.containerLogMaxSize = "100M"'));
        const mebi = report(docker({ json }), kubelet({ containerLogMaxSize: "100Mi", containerLogMaxFiles: 5 }));
        assert.strictEqual(byKey(mebi, "log-opts.max-size")[0].status, "refused", "100Mi is 104857600 bytes, not 10^8");
        assert.strictEqual(byKey(mebi, "log-opts.max-file")[0].status, "refused");
        // Docker keeps 1 file if told; the kubelet at least 2: 2 carries it.
        assert.strictEqual(byKey(report(docker({ json: `{"log-opts":{"max-file":"1"}}` }), kubelet({ containerLogMaxFiles: 2 })), "log-opts.max-file")[0].status, "carried");
        // No kubelet: nothing rotates them under containerd.
        assert.match(plan(docker({ json })).refused.join("\n"), /max-size = "100m" would be dropped: no equivalent under containerd \(without a kubelet nothing rotates container logs under containerd\)/);
    });
    it("kubelet.containerLogMaxSize must be a quantity of bytes, containerLogMaxFiles 2 to 1000: refused naming the field", () => {
        assert.throws(() => spec(kubelet({ containerLogMaxSize: "100m" })),
            /invalid kubelet\.containerLogMaxSize: expected a Kubernetes quantity of bytes such as "100M" \(10\^8\) or "10Mi" \(10 × 2\^20\), got "100m" \(a lowercase m is milli in a quantity: Docker's "100m" is the kubelet's "100M"\)/);
        assert.throws(() => spec(kubelet({ containerLogMaxSize: "1.5Gi" })), /invalid kubelet\.containerLogMaxSize/);
        assert.throws(() => spec(kubelet({ containerLogMaxFiles: 1 })), /invalid kubelet\.containerLogMaxFiles: expected an integer from 2 to 1000, got 1/);
        assert.strictEqual(spec(kubelet({ containerLogMaxSize: "10Mi", containerLogMaxFiles: 4 })).kubelet?.containerLogMaxSize, "10Mi");
    });
    it("cgroupfs against config.systemdCgroup true is refused naming the input", () => {
        const r = report(docker({ json: `{"exec-opts":["native.cgroupdriver=cgroupfs"]}` }));
        assert.strictEqual(byKey(r, "exec-opts")[0].status, "refused");
        assert.strictEqual(byKey(report(docker({ json: `{"exec-opts":["native.cgroupdriver=cgroupfs"]}` }), { config: { systemdCgroup: false } }), "exec-opts")[0].status, "carried");
    });
    it("acknowledged as docker:log-opts (a table covers its keys): the plan says so and refuses nothing", () => {
        const p = plan(docker({ json: KUBEADM }), { upgrade: { acknowledgeDropped: ["docker:log-opts"] } });
        assert.deepStrictEqual(p.refused, []);
        assert.ok(p.lines.includes('n1:   docker:log-opts.max-size = "100m" is dropped, as upgrade.acknowledgeDropped says'), p.lines.join("\n"));
        assert.notDeepStrictEqual(plan(docker({ json: KUBEADM }), { upgrade: { acknowledgeDropped: ["docker:log-driver"] } }).refused, [], "another key acknowledges nothing here");
    });
});

describe("Docker settings: registries", () => {
    const JSON_ = `{"registry-mirrors": ["https://mirror.gcr.io/"], "insecure-registries": ["registry.local:5000", "10.0.0.0/8"]}`;
    it("mirrors and an insecure host are carried once declared; a CIDR never is", () => {
        const before = report(docker({ json: JSON_ }));
        assert.deepStrictEqual(before.findings.slice(0, 3).map(f => f.status), ["refused", "refused", "refused"]);
        const after = report(docker({ json: JSON_ }), { config: { registryMirrors: { "docker.io": ["https://mirror.gcr.io"] }, insecureRegistries: ["registry.local:5000"] } });
        assert.deepStrictEqual(after.findings.slice(0, 3).map(f => [f.setting.shown, f.status]), [
            ['["https://mirror.gcr.io/"]', "carried"], ['"registry.local:5000"', "carried"], ['"10.0.0.0/8"', "refused"],
        ]);
        const lines = plan(docker({ json: JSON_ })).refused.join("\n");
        assert.match(lines, /docker:registry-mirrors = \["https:\/\/mirror.gcr.io\/"\] would be dropped: set config.registryMirrors\["docker.io"\] = \["https:\/\/mirror.gcr.io"\]/);
        assert.match(lines, /docker:insecure-registries = "registry.local:5000" would be dropped: set config.insecureRegistries including "registry.local:5000"/);
        assert.match(lines, /docker:insecure-registries = "10.0.0.0\/8" would be dropped: no equivalent under containerd \(containerd's hosts.toml names hosts, not networks/);
    });
    it("certs.d: a CA and a client pair map to config.registryTls, carried once it names files for the host", () => {
        const d = docker({ certsD: [{ host: "r.corp:5000", files: ["ca.crt", "client.cert", "client.key"] }] });
        const f = byKey(report(d), '"certs.d"."r.corp:5000"')[0];
        assert.strictEqual(f.status, "refused");
        assert.deepStrictEqual(f.carriers.map(c => c.kind === "registryTls" ? `${c.field}=${c.path}` : c.kind),
            ["caFile=/etc/docker/certs.d/r.corp:5000/ca.crt", "certFile=/etc/docker/certs.d/r.corp:5000/client.cert", "keyFile=/etc/docker/certs.d/r.corp:5000/client.key"]);
        const tls = { "r.corp:5000": { caFile: "/etc/pki/ca.crt", certFile: "/etc/pki/c.cert", keyFile: "/etc/pki/c.key" } };
        assert.strictEqual(byKey(report(d, { config: { registryTls: tls } }), '"certs.d"."r.corp:5000"')[0].status, "carried");
    });
});

describe("Docker settings: the environment", () => {
    const PASSWORD = "pr0xy-PASSWORD";
    const proxied = docker({
        environment: `"HTTP_PROXY=http://build:${PASSWORD}@proxy.corp:3128" "NO_PROXY=localhost,127.0.0.1,.corp"`,
        dropIns: [{ path: PROXY_CONF, status: "present", text: `[Service]\nEnvironment="HTTP_PROXY=http://build:${PASSWORD}@proxy.corp:3128"\nEnvironment="NO_PROXY=localhost,127.0.0.1,.corp"\n` }],
    });
    it("a proxy drop-in with credentials: refused naming the proxy input, attributed to the drop-in, the URL never shown", () => {
        const p = plan(proxied);
        const all = [...p.lines, ...p.refused].join("\n");
        assert.doesNotMatch(all, new RegExp(PASSWORD));
        assert.doesNotMatch(all, /build:/);
        const secretUrl = `http://build:${PASSWORD}@proxy.corp:3128`;
        assert.deepStrictEqual(p.refused.slice(0, 2), [
            `n1: in ${PROXY_CONF}:`,
            `n1:   docker:proxies.http-proxy = <secret, ${secretUrl.length} chars> (HTTP_PROXY) would be dropped: set proxy.httpProxy (the same URL, as a Pulumi secret), or list docker:proxies.http-proxy in upgrade.acknowledgeDropped`,
        ]);
        assert.match(p.refused[2], /docker:proxies.no-proxy = "localhost,127.0.0.1,.corp" \(NO_PROXY\) would be dropped/);
    });
    it("daemon.json's proxies beat the environment's; a flag's secret is not shown either", () => {
        const d = { ...proxied, daemonJson: { path: "/etc/docker/daemon.json", status: "present" as const, text: `{"proxies":{"http-proxy":"http://proxy2.corp:3128"}}`, named: "default" as const } };
        const s = dockerSettings(d).settings.filter(x => x.key === "proxies.http-proxy");
        assert.deepStrictEqual(s.map(x => [x.shown, x.source.kind]), [['"http://proxy2.corp:3128"', "daemon.json"]]);
        const flag = plan(docker({ argv: { source: "process", args: [...STOCK, `--https-proxy=http://u:${PASSWORD}@p:1`] } }));
        assert.doesNotMatch([...flag.lines, ...flag.refused].join("\n"), new RegExp(PASSWORD));
    });
    it("Debian's docker.io: $DOCKER_OPTS from /etc/default/docker, split on blanks as systemd expands it", () => {
        const d = docker({
            pid: undefined,
            argv: { source: "unit", args: ["/usr/sbin/dockerd", "-H", "fd://", "$DOCKER_OPTS"] },
            envFiles: [{ path: "/etc/default/docker", status: "present", text: `# Docker Upstart and SysVinit configuration file\n#DOCKER_OPTS="--dns 8.8.8.8"\nDOCKER_OPTS="--dns 8.8.8.8 --registry-mirror https://m.example --registry-mirror=https://m2.example -g /srv/docker --live-restore"\n` }],
        });
        const s = dockerSettings(d).settings;
        assert.deepStrictEqual(s.map(x => [x.key, x.shown, x.source.kind === "flag" ? x.source.file : ""]), [
            ["hosts", '["fd://"]', "docker.service ExecStart"],
            ["dns", '["8.8.8.8"]', "/etc/default/docker ($DOCKER_OPTS)"],
            ["registry-mirrors", '["https://m.example","https://m2.example"]', "/etc/default/docker ($DOCKER_OPTS)"],
            ["data-root", '"/srv/docker"', "/etc/default/docker ($DOCKER_OPTS)"],
            ["live-restore", "true", "/etc/default/docker ($DOCKER_OPTS)"],
        ]);
        const r = report(d, { config: { root: "/srv/containerd" } });
        assert.deepStrictEqual(status(r), {
            'hosts=["fd://"]': "info", 'dns=["8.8.8.8"]': "info", 'registry-mirrors=["https://m.example","https://m2.example"]': "refused",
            'data-root="/srv/docker"': "carried", "live-restore=true": "info",
        });
        assert.strictEqual(byKey(report(d), "data-root")[0].status, "refused", "/var/lib/containerd is not on /srv");
    });
    it("systemd's quoting and environment files as systemd reads them", () => {
        assert.deepStrictEqual(splitShown(`A=1 "B=two words" C=x\\ty`), ["A=1", "B=two words", "C=x\ty"]);
        assert.deepStrictEqual(parseEnvFile(`# c\n; c\nOPTIONS='--selinux-enabled --log-driver=journald'\nX=a b # c\nY="q\\"q"\n`),
            [["OPTIONS", "--selinux-enabled --log-driver=journald"], ["X", "a b"], ["Y", 'q"q']]);
    });
});

describe("Docker settings: what refuses outright, and what is unknown", () => {
    it("a key given both as a flag and in daemon.json, and a daemon.json that is not JSON (its text not quoted)", () => {
        const both = dockerSettings(docker({ json: `{"data-root":"/a"}`, argv: { source: "process", args: [...STOCK, "--data-root", "/b"] } }));
        assert.deepStrictEqual(both.problems, [{ file: "dockerd's command line", what: "--data-root /b sets data-root, which /etc/docker/daemon.json sets too: dockerd does not start with a setting given both as a flag and in its configuration file" }]);
        const bad = plan(docker({ json: `{"proxies": {"http-proxy": http://u:hunter2@p:1}}` }));
        assert.match(bad.refused[0], /^n1: Docker's settings in \/etc\/docker\/daemon.json: not valid JSON/);
        assert.doesNotMatch(bad.refused.join("\n"), /hunter2/);
    });
    it("a key this package does not know, and one whose effect pods lose: refused, saying what to do", () => {
        const r = report(docker({ json: `{"default-shm-size":"128M","no-new-privileges":true,"live-restore":true}` }));
        assert.deepStrictEqual(status(r), {
            'default-shm-size="128M"': "refused", "no-new-privileges=true": "refused", "live-restore=true": "info",
            'hosts=["fd://"]': "info", 'containerd="/run/containerd/containerd.sock"': "info",
        });
        assert.match(JSON.stringify(byKey(r, "no-new-privileges")[0].carriers), /allowPrivilegeEscalation: false/);
    });
});

describe("Docker log sizes → the kubelet's containerLogMaxSize", () => {
    it("Docker's units are decimal: 100m is 10^8 bytes, the kubelet's 100M (not 100Mi)", () => {
        assert.strictEqual(dockerSizeBytes("100m"), 1e8);
        assert.strictEqual(kubeletLogSize("100m"), "100M");
        assert.strictEqual(kubeletLogSize("10MB"), "10M");
        assert.strictEqual(kubeletLogSize("1.5g"), "1500M");
        assert.strictEqual(kubeletLogSize("2k"), "2k");
        assert.strictEqual(kubeletLogSize("512"), "512");
        assert.strictEqual(kubeletLogSize("1000000"), "1M");
        assert.strictEqual(kubeletLogSize("ten"), undefined);
    });
});

describe("upgrade.acknowledgeDropped: Docker's keys", () => {
    it("docker:KEY is respelled canonically; a malformed one is refused naming the entry", () => {
        assert.deepStrictEqual(spec({ upgrade: { acknowledgeDropped: ["docker:runtimes . nvidia", 'docker:"certs.d"."r:5000"'] } }).upgrade.acknowledgeDropped,
            ["docker:runtimes.nvidia", 'docker:"certs.d"."r:5000"']);
        assert.throws(() => spec({ upgrade: { acknowledgeDropped: ["docker:runtimes.nvidia", "docker:"] } }),
            (e: Error) => e instanceof InvalidArgumentError && e.field === "upgrade.acknowledgeDropped[1]" && /"docker:" and a daemon.json key/.test(e.message));
    });
});
