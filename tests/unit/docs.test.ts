import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    ARGS_FILE, README_FILE, ROOT, DocCommentError, argsRows, checkReadme, renderTable, splitDefault, updateReadme,
} from "../../scripts/args-table";

const argsSource = () => fs.readFileSync(ARGS_FILE, "utf8");
const readme = () => fs.readFileSync(README_FILE, "utf8");

/** args.ts with one comment's text replaced; fails the test if `from` is not in it exactly once. */
function editArgs(from: string, to: string): string {
    const src = argsSource();
    assert.strictEqual(src.split(from).length, 2, `expected ${JSON.stringify(from)} once in components/args.ts`);
    return src.replace(from, to);
}

describe("docs: the README's Args reference table", () => {
    it("is what the doc comments of components/args.ts give (npm run docs:args regenerates it)", () => {
        assert.strictEqual(checkReadme(readme(), renderTable(argsRows())), undefined);
    });

    it("ts-node scripts/args-table.ts --check passes and writes nothing", function () {
        this.timeout(60_000);
        const before = readme();
        const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["scripts/args-table.ts", "--check"],
            { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /matches/);
        assert.strictEqual(readme(), before);
    });

    it("keeps the nested field paths and every field the table had", () => {
        const fields = argsRows().map(r => r.field);
        for (const f of [
            "connection.host", "connection.port", "connection.user", "connection.privateKey", "connection.password",
            "connection.agentSocketPath", "connection.privateKeyPassword", "connection.hostKey", "connection.dialErrorLimit",
            "connection.perDialTimeout", "kubernetes.kubeconfig", "kubernetes.nodeName", "kubernetes.kubectl",
            "kubernetes.drain.timeoutSeconds", "kubernetes.drain.gracePeriodSeconds", "kubernetes.drain.deleteEmptyDirData",
            "kubernetes.drain.force", "kubernetes.verifyTimeoutSeconds", "containerd.version", "containerd.source",
            "containerd.runc", "containerd.cni", "config.systemdCgroup", "config.sandboxImage", "config.registryMirrors",
            "config.insecureRegistries", "config.registryTls", "config.root", "config.state", "config.cniBinDir", "config.cniConfDir",
            "config.runtimes", "config.registryAuth", "config.extraToml", "unit.limitNOFILE", "unit.tasksMax",
            "unit.oomScoreAdjust", "kubelet.version", "kubelet.flagsLocation", "kubelet.configPath", "kubelet.kubeconfigPath",
            "docker.mode", "docker.removeData", "docker.migrateImages", "upgrade.drain", "upgrade.acknowledgeDropped",
            "nodeFacts", "minFreeDiskMiB",
        ]) {
            assert.ok(fields.includes(f), `no row for ${f}`);
        }
        const row = (f: string) => argsRows().find(r => r.field === f)!;
        assert.deepStrictEqual(row("connection.port"), { field: "connection.port", default: "22", meaning: "SSH port, 1–65535." });
        assert.strictEqual(row("connection.user").default, "`root`");
        assert.strictEqual(row("containerd.runc").default, "keep the node's");
        assert.strictEqual(row("connection.host").default, "—");
    });

    it("fails on a doc comment changed without regenerating, naming the first differing row", () => {
        const rows = argsRows(editArgs("/** SSH port, 1–65535. Default 22. */", "/** The SSH port, 1–65535. Default 22. */"));
        const diff = checkReadme(readme(), renderTable(rows));
        assert.ok(diff, "expected a difference");
        assert.match(diff, /at row \d+ \(connection\.port\):/);
        assert.match(diff, /README: {3}\| `connection\.port` \| 22 \| SSH port, 1–65535\. \|/);
        assert.match(diff, /comments: \| `connection\.port` \| 22 \| The SSH port, 1–65535\. \|/);
        assert.match(diff, /npm run docs:args/);
    });

    it("fails on a README row edited by hand, and on a missing or extra row", () => {
        const table = renderTable(argsRows());
        const edited = readme().replace("| `kubernetes.kubectl` | `kubectl` |", "| `kubernetes.kubectl` | `kubectl.exe` |");
        assert.match(checkReadme(edited, table) ?? "", /\(kubernetes\.kubectl\)/);
        const dropped = readme().split("\n").filter(l => !l.startsWith("| `docker.removeData` |")).join("\n");
        assert.match(checkReadme(dropped, table) ?? "", /\(docker\.removeData\)[\s\S]*README: {3}\| `docker\.migrateImages`/);
        const extra = readme().replace("<!-- args-table:end -->", "| `bogus` | — | x |\n<!-- args-table:end -->");
        assert.match(checkReadme(extra, table) ?? "", /\(bogus\)[\s\S]*comments: \(no row\)/);
    });

    it("regenerating replaces only what is between the markers", () => {
        const text = readme();
        const stale = text.replace("| `config.root` | `/var/lib/containerd` |", "| `config.root` | `/srv` |");
        assert.strictEqual(updateReadme(stale, renderTable(argsRows())), text);
        assert.throws(() => checkReadme("# no markers\n", renderTable(argsRows())), /args-table:begin/);
    });

    it("refuses an exported args field without a doc comment, naming it", () => {
        const src = editArgs("    /** Import Docker's tagged images into containerd's `k8s.io` namespace. Default false. */\n", "");
        assert.throws(() => argsRows(src), (e: unknown) =>
            e instanceof DocCommentError && /no doc comment on DockerArgs\.migrateImages/.test(e.message));
    });

    it("refuses a comment whose default disagrees with DEFAULTS (components/spec.ts)", () => {
        const src = editArgs("SSH port, 1–65535. Default 22.", "SSH port, 1–65535. Default 2222.");
        assert.throws(() => argsRows(src), /NodeConnectionArgs\.port: DEFAULTS\.port is 22, the comment says "Default 2222\."/);
        const none = editArgs("Seconds allowed for each dial. Default 15.", "Seconds allowed for each dial.");
        assert.throws(() => argsRows(none), /NodeConnectionArgs\.perDialTimeout: DEFAULTS\.perDialTimeout is 15, the comment says no "Default …" sentence/);
    });

    it("splits off the Default sentence, quotes and all", () => {
        assert.deepStrictEqual(splitDefault(`Sandbox (pause) image. Default "registry.k8s.io/pause:3.10".`, "x"),
            { meaning: "Sandbox (pause) image.", value: `"registry.k8s.io/pause:3.10"` });
        assert.deepStrictEqual(splitDefault("runc to install. Default: keep the node's. More.", "x"),
            { meaning: "runc to install. More.", value: "keep the node's" });
        assert.deepStrictEqual(splitDefault("Default -1.", "x"), { meaning: "", value: "-1" });
        assert.deepStrictEqual(splitDefault("No default here; Defaults aside.", "x"), { meaning: "No default here; Defaults aside." });
        assert.throws(() => splitDefault("Default 1. Default 2.", "A.b"), /A\.b: more than one/);
    });
    it("the API reference builds from the doc comments with no warning (npm run docs: TypeDoc, warnings as errors)", function () {
        this.timeout(120_000);
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-docs-"));
        const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "typedoc"), ["--out", out], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        assert.ok(fs.existsSync(path.join(out, "classes", "ContainerdFleet.html")), "ContainerdFleet has its page");
    });
});
