import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    ARGS_FILE, ARGS_DOC, ROOT, DocCommentError, argsRows, checkDoc, renderTable, splitDefault, updateDoc,
} from "../../scripts/args-table";

const argsSource = () => fs.readFileSync(ARGS_FILE, "utf8");
const argsDoc = () => fs.readFileSync(ARGS_DOC, "utf8");

/** args.ts with one comment's text replaced; fails the test if `from` is not in it exactly once. */
function editArgs(from: string, to: string): string {
    const src = argsSource();
    assert.strictEqual(src.split(from).length, 2, `expected ${JSON.stringify(from)} once in components/args.ts`);
    return src.replace(from, to);
}

describe("docs: the Args reference table (docs/args.md)", () => {
    it("is what the doc comments of components/args.ts give (npm run docs:args regenerates it)", () => {
        assert.strictEqual(checkDoc(argsDoc(), renderTable(argsRows())), undefined);
    });

    it("ts-node scripts/args-table.ts --check passes and writes nothing", function () {
        this.timeout(60_000);
        const before = argsDoc();
        const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["scripts/args-table.ts", "--check"],
            { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /matches/);
        assert.strictEqual(argsDoc(), before);
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
            "nodeFacts", "minFreeDiskMiB", "stateDir",
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
        const diff = checkDoc(argsDoc(), renderTable(rows));
        assert.ok(diff, "expected a difference");
        assert.match(diff, /at row \d+ \(connection\.port\):/);
        assert.match(diff, /doc: {6}\| `connection\.port` \| 22 \| SSH port, 1–65535\. \|/);
        assert.match(diff, /comments: \| `connection\.port` \| 22 \| The SSH port, 1–65535\. \|/);
        assert.match(diff, /npm run docs:args/);
    });

    it("fails on a row edited by hand, and on a missing or extra row", () => {
        const table = renderTable(argsRows());
        const edited = argsDoc().replace("| `kubernetes.kubectl` | `kubectl` |", "| `kubernetes.kubectl` | `kubectl.exe` |");
        assert.match(checkDoc(edited, table) ?? "", /\(kubernetes\.kubectl\)/);
        const dropped = argsDoc().split("\n").filter(l => !l.startsWith("| `docker.removeData` |")).join("\n");
        assert.match(checkDoc(dropped, table) ?? "", /\(docker\.removeData\)[\s\S]*doc: {6}\| `docker\.migrateImages`/);
        const extra = argsDoc().replace("<!-- args-table:end -->", "| `bogus` | — | x |\n<!-- args-table:end -->");
        assert.match(checkDoc(extra, table) ?? "", /\(bogus\)[\s\S]*comments: \(no row\)/);
    });

    it("regenerating replaces only what is between the markers", () => {
        const text = argsDoc();
        const stale = text.replace("| `config.root` | `/var/lib/containerd` |", "| `config.root` | `/srv` |");
        assert.strictEqual(updateDoc(stale, renderTable(argsRows())), text);
        assert.throws(() => checkDoc("# no markers\n", renderTable(argsRows())), /args-table:begin/);
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

/** The repository's text files a reader or a comment may cite paths in (tracked or new, not ignored). */
function textFiles(): string[] {
    return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .filter(f => /\.(ts|sh|md|go|py|json|yaml|env)$/.test(f) && !f.startsWith("tests/fixtures/") && f !== "package-lock.json")
        .filter(f => fs.existsSync(path.join(ROOT, f)));
}

/** The Markdown files: the README, CONTRIBUTING.md, docs/ and the examples' READMEs. */
const markdownFiles = () => textFiles().filter(f => f.endsWith(".md"));

/** Relative links of a Markdown text (`[text](target)`), resolved against its file, that name no path of the tree. */
export function brokenLinks(file: string, text: string, exists = (p: string) => fs.existsSync(path.join(ROOT, p))): string[] {
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].replace(/#.*$/, "");
        if (target === "" || /^[a-z]+:/.test(target)) continue;  // an anchor, https:, mailto:
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
        if (resolved.startsWith("..") || !exists(resolved)) broken.push(`${file}: (${m[1]})`);
    }
    return broken;
}

/** Generated paths a doc may cite although they are not in the tree. */
const GENERATED = /^(docs\/api|bin|\.lab)(\/|$)/;

/**
 * Paths of the tree a text cites in passing (`components/spec.ts`, in a comment or a doc) that do
 * not exist. A word in capitals is a placeholder (`examples/DIR`); `lab/busybox:1` is an image.
 */
export function missingPaths(file: string, text: string, exists = (p: string) => fs.existsSync(path.join(ROOT, p))): string[] {
    const missing: string[] = [];
    text.split("\n").forEach((line, i) => {
        for (const m of line.matchAll(/(?<![\w./-])((?:components|tests|lab|scripts|bench|artifacts|examples|docs)\/[\w./-]*[\w/])(?![\w/-]|:\d)/g)) {
            const p = m[1];
            if (GENERATED.test(p) || /(^|\/)[A-Z]{3,}(\/|\.|$)/.test(p)) continue;
            if (!exists(p)) missing.push(`${file}:${i + 1}: ${p}`);
        }
    });
    return missing;
}

describe("docs: the README and the guides", () => {
    it("the README stays short: at most 250 lines", () => {
        const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length;
        assert.ok(lines <= 250, `README.md has ${lines} lines; the rest belongs in docs/`);
    });
    it("every relative link of every Markdown file names a path of the repository", () => {
        const files = markdownFiles();
        assert.ok(files.includes("README.md") && files.includes("docs/how-it-works.md"), files.join(" "));
        assert.deepStrictEqual(files.flatMap(f => brokenLinks(f, fs.readFileSync(path.join(ROOT, f), "utf8"))), []);
    });
    it("every path of the tree a comment or a doc cites exists", () => {
        const files = textFiles().filter(f => f !== "tests/unit/docs.test.ts");  // its own examples below
        assert.deepStrictEqual(files.flatMap(f => missingPaths(f, fs.readFileSync(path.join(ROOT, f), "utf8"))), []);
    });
    it("nothing points outside the repository, and figures are dated, not numbered by work session", () => {
        const bad = textFiles().filter(f => f !== "tests/unit/docs.test.ts").flatMap(f =>
            fs.readFileSync(path.join(ROOT, f), "utf8").split("\n").flatMap((line, i) =>
                /\.\.\/shared\b|\bDESIGN\.md\b|\bfacts\/[\w-]+\.md\b|\bsession \d+|\bthis session\b/i.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : []));
        assert.deepStrictEqual(bad, []);
    });
    it("the checks find what they look for: a broken link, a missing path, and not a placeholder, an image or a URL", () => {
        const text = "See [a](docs/nope.md), [b](../outside.md), [c](https://example.com/x), [d](#anchor) and [e](fleets.md#waves).\n"
            + "It is in components/nope.ts, not examples/DIR, lab/busybox:1 or components/spec.ts.\n";
        assert.deepStrictEqual(brokenLinks("docs/x.md", text), ["docs/x.md: (docs/nope.md)", "docs/x.md: (../outside.md)"]);
        assert.deepStrictEqual(missingPaths("a.ts", text), ["a.ts:1: docs/nope.md", "a.ts:2: components/nope.ts"]);
    });
});
