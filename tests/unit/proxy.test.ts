import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerdNodeArgs } from "../../components/args";
import { dockerCarryReport } from "../../components/docker/carry";
import { readNoProxy, readProxyUrl, sameNoProxy, sameProxyUrl } from "../../components/docker/proxy";
import { DockerFacts } from "../../components/facts";
import { planNode } from "../../components/preflight/plan";
import { proxyProblems } from "../../components/preflight/planOutputs";
import { environmentLine, PROXY_DROPIN, PROXY_DROPIN_HEAD, renderProxyDropIn } from "../../components/render/proxy";
import { nodeSteps } from "../../components/scripts/claim";
import { standalonePrelude } from "../../components/scripts/lib";
import { NODE_LIB } from "../../components/nodeFiles";
import { proxyScript, stepScript } from "../../components/scripts/steps";
import { InvalidArgumentError, resolveSpec } from "../../components/spec";
import { afterBegin, baseArgs, DOCKER_FACTS } from "./helpers";

const STOCK = ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"];
const DROPIN = "/etc/systemd/system/docker.service.d/http-proxy.conf";
const PASSWORD = "pr0xy-PASSWORD";
const SECRET_URL = `http://build:${PASSWORD}@proxy.corp:3128`;

/** A Docker node whose docker.service has a proxy drop-in as Docker's documentation writes one. */
function proxied(env: { [name: string]: string }, json?: string): DockerFacts {
    const assignments = Object.entries(env).map(([k, v]) => `"${k}=${v}"`);
    return {
        dockerd: "/usr/bin/dockerd", unitLoadState: "loaded", pid: 900, argv: { source: "process", args: STOCK },
        environment: assignments.join(" "), envFiles: [], certsD: [],
        dropIns: [{ path: DROPIN, status: "present", text: `[Service]\n${assignments.map(a => `Environment=${a}`).join("\n")}\n` }],
        daemonJson: json === undefined ? { path: "/etc/docker/daemon.json", status: "absent", named: "default" }
            : { path: "/etc/docker/daemon.json", status: "present", text: json, named: "default" },
    };
}

const spec = (over: Partial<ContainerdNodeArgs> = {}) => resolveSpec(baseArgs(over));
const plan = (d: DockerFacts, over: Partial<ContainerdNodeArgs> = {}, values = over.proxy as { [k: string]: string } | undefined) =>
    planNode("n1", { ...DOCKER_FACTS, docker: d }, spec(over), {}, values ?? {});
const proxyStatus = (d: DockerFacts, values: { [k: string]: string }) =>
    Object.fromEntries(dockerCarryReport(d, spec({ proxy: values }), values).findings.filter(f => f.setting.path[0] === "proxies").map(f => [f.setting.key, f.status]));

describe("proxy: the input", () => {
    it("takes http(s) URLs of a host and port, with credentials, and a NO_PROXY list; the spec knows which are set, not their values", () => {
        const s = spec({ proxy: { httpProxy: SECRET_URL, httpsProxy: "https://[fd00::1]:8443/", noProxy: "localhost, 127.0.0.1,10.0.0.0/8,.corp,*.svc,api.corp:6443,[::1]:80" } });
        assert.deepStrictEqual(s.proxy, ["httpProxy", "httpsProxy", "noProxy"]);
        assert.doesNotMatch(JSON.stringify(s), new RegExp(PASSWORD));
        assert.deepStrictEqual(spec().proxy, []);
    });
    it("refuses a value that is not http(s)://host[:port] or a host list, naming the field; a URL with credentials is never shown", () => {
        const bad: [Partial<ContainerdNodeArgs>["proxy"], RegExp][] = [
            [{ httpProxy: "proxy.corp:3128" }, /^invalid proxy\.httpProxy: expected the proxy's URL, http:\/\/host:port or https:\/\/host:port \(with user:password@ if it asks for one\), got "proxy\.corp:3128"$/],
            [{ httpsProxy: "socks5://proxy.corp:1080" }, /^invalid proxy\.httpsProxy: .*got "socks5:\/\/proxy\.corp:1080"$/],
            [{ httpProxy: "http://proxy.corp:3128/path" }, /^invalid proxy\.httpProxy: /],
            [{ httpProxy: "http://proxy.corp:99999" }, /^invalid proxy\.httpProxy: /],
            [{ httpProxy: `http://build:${PASSWORD}@proxy corp:3128` }, /^invalid proxy\.httpProxy: .*got <secret, 43 chars>$/],
            [{ noProxy: "localhost, a b" }, /^invalid proxy\.noProxy: expected comma-separated hosts, .*got "localhost, a b" \("a b" is none of these\)$/],
            [{ noProxy: " , " }, /^invalid proxy\.noProxy: /],
            [{}, /^invalid proxy: expected some of httpProxy, httpsProxy, noProxy$/],
            [{ ftpProxy: "http://p:1" } as never, /^invalid proxy\.ftpProxy: expected some of httpProxy, httpsProxy, noProxy$/],
        ];
        for (const [proxy, re] of bad) {
            assert.throws(() => spec({ proxy }), (e: Error) => e instanceof InvalidArgumentError && re.test(e.message) && !e.message.includes(PASSWORD), JSON.stringify(proxy));
        }
    });
    it("a value given as an Output is checked once resolved, by the pre-flight, never shown: it may be a secret", () => {
        const s = spec({ proxy: { httpProxy: Promise.resolve("x") as never, noProxy: ".corp" } });
        assert.deepStrictEqual(proxyProblems("n1", s, { httpProxy: `ftp://u:${PASSWORD}@p:1`, noProxy: ".corp" }),
            [`n1: invalid proxy.httpProxy: expected the proxy's URL, http://host:port or https://host:port (with user:password@ if it asks for one), got <secret, ${`ftp://u:${PASSWORD}@p:1`.length} chars>`]);
        assert.deepStrictEqual(proxyProblems("n1", s, { httpProxy: "plain.example", noProxy: "a b" }).map(l => l.replace(/.*got /, "")), ["<secret, 13 chars>", "<secret, 3 chars>"]);
        assert.deepStrictEqual(proxyProblems("n1", s, { httpProxy: SECRET_URL, noProxy: ".corp" }), []);
    });
});

describe("proxy: the drop-in", () => {
    it("one Environment= per variable, quoted as systemd reads a unit file: % doubled, \\ and \" escaped", () => {
        assert.strictEqual(renderProxyDropIn({ httpProxy: "http://u:p%40ss@proxy.corp:3128", noProxy: "localhost,.corp" }),
            "# Managed by containerd-node (Pulumi): containerd's proxy environment (proxy).\n[Service]\n" +
            "Environment=\"HTTP_PROXY=http://u:p%%40ss@proxy.corp:3128\"\nEnvironment=\"NO_PROXY=localhost,.corp\"\n");
        assert.strictEqual(environmentLine("X", 'a"b\\c'), 'Environment="X=a\\"b\\\\c"');
    });
    it("systemd takes the lines without a complaint (systemd-analyze verify, when there; an undoubled % is a bad specifier to it)", function () {
        const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
        if (probe.status !== 0) {
            this.skip();
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cn-proxy-"));
        const value = "http://u:p%40ss\"w\\rd@proxy.corp:3128";
        fs.writeFileSync(path.join(dir, "t.service"), `[Service]\nType=oneshot\nExecStart=/bin/true\n${renderProxyDropIn({ httpProxy: value }).split("\n").slice(2).join("\n")}`);
        const r = spawnSync("systemd-analyze", ["verify", "--man=no", path.join(dir, "t.service")], { encoding: "utf8" });
        assert.doesNotMatch(r.stderr, /t\.service:.*(Invalid|Failed|Ignoring)/i, r.stderr);
    });
    it("its own step, after registry-auth and before the step that writes the config; the configure part keeps or removes the drop-in", () => {
        const s = spec({ proxy: { httpProxy: SECRET_URL }, config: { registryAuth: { "r.example.com": { password: "p" } } } });
        assert.deepStrictEqual(nodeSteps(s), ["registry-auth", "proxy", "converge"]);
        assert.deepStrictEqual(nodeSteps(spec({ proxy: { noProxy: ".corp" }, kubelet: { version: "1.30.4" }, kubernetes: { kubeconfig: "/k", nodeName: "w1" } })),
            ["proxy", "configure", "switch"]);
        const script = proxyScript(s, { httpProxy: SECRET_URL });
        assert.match(script, /^cn_begin proxy 900 0$/m);
        assert.doesNotMatch(script, /PROXY_DROPIN/, "the drop-in's path is the library's");
        assert.match(script, /^PROXY_TEXT='# Managed by containerd-node \(Pulumi\): containerd'\\''s proxy environment \(proxy\)\.\n\[Service\]\nEnvironment="HTTP_PROXY=http:\/\/build:pr0xy-PASSWORD@proxy\.corp:3128"\n'\ncn_proxy$/m);
        assert.match(stepScript(s, "converge"), /^PROXY='1'$/m);
        assert.match(stepScript(spec(), "converge"), /^PROXY='0'$/m);
        assert.doesNotMatch(stepScript(s, "converge"), new RegExp(PASSWORD));
    });
    it("the node library names the drop-in and its first line as the renderer does (the configure part removes only a drop-in marked so)", () => {
        assert.match(NODE_LIB, new RegExp(`^PROXY_DROPIN=\\$\\{PROXY_DROPIN:-${PROXY_DROPIN}\\}$`, "m"));
        const head = /^PROXY_DROPIN_HEAD="(.*)"$/m.exec(NODE_LIB);
        assert.ok(head, "PROXY_DROPIN_HEAD in the library");
        assert.strictEqual(renderProxyDropIn({ noProxy: ".corp" }).split("\n")[0], head![1]);
        assert.strictEqual(head![1], PROXY_DROPIN_HEAD);
    });
    it("only the values the spec names are written (an Output resolved to more is not)", () => {
        const s = spec({ proxy: { noProxy: ".corp" } });
        assert.doesNotMatch(proxyScript(s, { noProxy: ".corp", httpProxy: "http://stray:1" }), /stray/);
    });
    it("the rendered step is shellcheck-clean", () => {
        const script = proxyScript(spec({ proxy: { httpProxy: SECRET_URL, noProxy: ".corp" } }), { httpProxy: SECRET_URL, noProxy: ".corp" });
        // SC2016: a value holding a backtick, single-quoted on purpose (values are data); SC1091: the library is on the node;
        // SC2034: the values are read by it.
        const r = spawnSync("shellcheck", ["-s", "bash", "-e", "SC2016,SC1091,SC2034", "-"], { input: script, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout);
    });
});

describe("proxy: the step's bash (the node library's cn_proxy, run here with systemctl faked)", () => {
    /** The rendered step's values and call, its drop-in redirected into `dir` (by the environment); systemctl a function that logs. */
    function run(dir: string, values: { [k: string]: string }): { code: number | null; stderr: string; systemctl: string[] } {
        const s = spec({ proxy: values });
        const script = proxyScript(s, values);
        const body = afterBegin(script);
        const log = path.join(dir, "systemctl.log");
        fs.writeFileSync(log, "");
        const r = spawnSync("bash", ["-c", `${standalonePrelude("proxy")}systemctl() { echo "$*" >>${JSON.stringify(log)}; [ "$1" != is-active ]; }
${body}`],
            { env: { ...process.env, CN_DIR: path.join(dir, "state"), PROXY_DROPIN: path.join(dir, "http-proxy.conf") }, encoding: "utf8" });
        return { code: r.status, stderr: r.stderr, systemctl: fs.readFileSync(log, "utf8").split("\n").filter(l => /^(daemon-reload|restart)/.test(l)) };
    }
    it("writes the drop-in 0600 and reloads systemd only when its content changed; containerd not on this package's config is left to configure", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cn-proxy-step-"));
        const dropIn = path.join(dir, "http-proxy.conf");
        let r = run(dir, { httpProxy: SECRET_URL, noProxy: ".corp" });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(dropIn, "utf8"), renderProxyDropIn({ httpProxy: SECRET_URL, noProxy: ".corp" }));
        assert.strictEqual(fs.statSync(dropIn).mode & 0o777, 0o600);
        assert.deepStrictEqual(r.systemctl, ["daemon-reload"]);
        assert.match(r.stderr, /containerd starts with it once the configure step has made its config live/);
        assert.doesNotMatch(r.stderr, new RegExp(PASSWORD), "the step's log never holds a value");
        r = run(dir, { httpProxy: SECRET_URL, noProxy: ".corp" });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(r.systemctl, [], "unchanged: nothing reloaded or restarted");
        assert.match(r.stderr, /http-proxy\.conf unchanged: no restart/);
        r = run(dir, { httpProxy: SECRET_URL, noProxy: ".corp,.lab" });
        assert.deepStrictEqual(r.systemctl, ["daemon-reload"]);
        assert.match(fs.readFileSync(dropIn, "utf8"), /NO_PROXY=\.corp,\.lab/);
    });
});

describe("proxy: values as Go reads them (golang.org/x/net/http/httpproxy)", () => {
    it("a URL without a scheme is http://; the scheme's port is implied; scheme and host are case-folded; a trailing / is no path", () => {
        assert.ok(sameProxyUrl("proxy.corp:3128", "http://proxy.corp:3128"));
        assert.ok(sameProxyUrl("http://PROXY.corp", "http://proxy.corp:80/"));
        assert.ok(sameProxyUrl("HTTPS://proxy.corp", "https://proxy.corp:443"));
        assert.ok(sameProxyUrl("http://u%40corp:p@proxy.corp:3128", "http://u%40corp:p@proxy.corp:3128/"));
        assert.ok(!sameProxyUrl("http://proxy.corp:3128", "https://proxy.corp:3128"));
        assert.ok(!sameProxyUrl("http://u:p@proxy.corp:3128", "http://proxy.corp:3128"), "the credentials it sends differ");
        assert.ok(!sameProxyUrl("http://u:p@proxy.corp:3128", "http://u:q@proxy.corp:3128"));
        assert.deepStrictEqual(readProxyUrl("socks5://p"), { scheme: "socks5", user: "", password: "", host: "p", port: "1080" });
        assert.strictEqual(readProxyUrl("::"), undefined);
    });
    it("NO_PROXY: entries trimmed, case-folded, unordered; *.x is .x; empty ones skipped; * is everything", () => {
        assert.deepStrictEqual(readNoProxy(" LOCALHOST,,*.corp , 10.0.0.0/8"), [".corp", "10.0.0.0/8", "localhost"]);
        assert.ok(sameNoProxy("localhost,.corp", ".CORP, localhost,"));
        assert.ok(sameNoProxy("*", "a,*"));
        assert.ok(!sameNoProxy("corp", ".corp"), "corp also matches corp itself; .corp only its subdomains");
    });
});

describe("proxy: Docker's settings carried by it", () => {
    const env = { HTTP_PROXY: SECRET_URL, NO_PROXY: "localhost,127.0.0.1,.corp" };
    it("not set: each proxy variable refused naming the input, a secret URL named by its length only", () => {
        const p = plan(proxied(env));
        assert.deepStrictEqual(p.refused, [
            `n1: in ${DROPIN}:`,
            `n1:   docker:proxies.http-proxy = <secret, ${SECRET_URL.length} chars> (HTTP_PROXY) would be dropped: set proxy.httpProxy (the same URL, as a Pulumi secret), or list docker:proxies.http-proxy in upgrade.acknowledgeDropped`,
            `n1:   docker:proxies.no-proxy = "localhost,127.0.0.1,.corp" (NO_PROXY) would be dropped: set proxy.noProxy = "localhost,127.0.0.1,.corp", or list docker:proxies.no-proxy in upgrade.acknowledgeDropped`,
        ]);
    });
    it("carried when the input holds what Go reads the same; the lines never show the secret", () => {
        const values = { httpProxy: SECRET_URL.replace("3128", "3128/"), noProxy: ".corp, localhost,127.0.0.1" };
        const p = plan(proxied(env), { proxy: values });
        assert.deepStrictEqual(p.refused, []);
        assert.ok(p.lines.includes(`n1:   docker:proxies.http-proxy = <secret, ${SECRET_URL.length} chars> (HTTP_PROXY) carried: proxy.httpProxy (the same URL, as a Pulumi secret)`), p.lines.join("\n"));
        assert.ok(p.lines.includes(`n1:   docker:proxies.no-proxy = "localhost,127.0.0.1,.corp" (NO_PROXY) carried: proxy.noProxy = "localhost,127.0.0.1,.corp"`));
        assert.match(p.lines[1], /2 carried, .* 0 not carried$/);
        assert.doesNotMatch(p.lines.join("\n"), new RegExp(PASSWORD));
    });
    it("another value is refused, showing Docker's value, never the input's", () => {
        const other = "http://build:OTHER-PASSWORD@proxy.corp:3128";
        const p = plan(proxied(env), { proxy: { httpProxy: other, noProxy: "localhost" } });
        assert.strictEqual(p.refused.length, 3);
        assert.doesNotMatch(p.refused.join("\n"), /OTHER-PASSWORD|pr0xy/);
        assert.match(p.refused[2], /docker:proxies\.no-proxy = "localhost,127\.0\.0\.1,\.corp" \(NO_PROXY\) would be dropped: set proxy\.noProxy = "localhost,127\.0\.0\.1,\.corp"/);
    });
    it("lower-case variables, daemon.json's proxies (which beat the environment) and dockerd's flags map to the same inputs", () => {
        assert.deepStrictEqual(proxyStatus(proxied({ https_proxy: "proxy.corp:3129" }), { httpsProxy: "http://proxy.corp:3129" }), { "proxies.https-proxy": "carried" });
        const json = `{"proxies": {"http-proxy": "http://proxy2.corp:3128", "no-proxy": "*.svc"}}`;
        assert.deepStrictEqual(proxyStatus(proxied(env, json), { httpProxy: "http://proxy2.corp:3128", noProxy: ".svc" }),
            { "proxies.http-proxy": "carried", "proxies.no-proxy": "carried" });
        assert.deepStrictEqual(proxyStatus(proxied(env, json), { httpProxy: SECRET_URL, noProxy: "localhost,127.0.0.1,.corp" }),
            { "proxies.http-proxy": "refused", "proxies.no-proxy": "refused" });
        const flags = { ...proxied({}), argv: { source: "process" as const, args: [...STOCK, "--http-proxy=http://p:1"] } };
        assert.deepStrictEqual(proxyStatus(flags, { httpProxy: "http://p:1" }), { "proxies.http-proxy": "carried" });
    });
    it("acknowledged without the input, as before", () => {
        assert.deepStrictEqual(plan(proxied(env), { upgrade: { acknowledgeDropped: ["docker:proxies"] } }).refused, []);
    });
});
