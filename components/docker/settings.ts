/**
 * Docker's settings on a node, from its facts (pure): daemon.json, dockerd's flags (those its
 * unit's environment files add through `$DOCKER_OPTS`/`$OPTIONS` too) and the proxy variables of
 * its environment, as one list keyed the way daemon.json names each setting. dockerd itself
 * refuses a key given both as a flag and in daemon.json (`runtimes` excepted: merged), and a
 * key it does not know (moby's `daemon/config/config.go`); daemon.json's `proxies` (Docker 23.0+)
 * beat the environment's variables.
 */
import { DockerFacts } from "../facts";
import { hasUserInfo } from "../spec";
import { formatKey } from "../toml/keys";
import { EnvVar, expandArgs, unitEnvironment } from "./environment";
import { parseFlags, ParsedFlag } from "./flags";

/** A JSON value, as daemon.json holds it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a setting was written. */
export type SettingSource =
    /** A key of daemon.json. */
    | { kind: "daemon.json"; file: string }
    /** A dockerd flag: `file` is where it was written (docker.service's ExecStart, an environment file's variable, or the running dockerd's command line). */
    | { kind: "flag"; flag: string; file: string }
    /** A variable of dockerd's environment (Environment= of the unit or a drop-in, or an environment file). */
    | { kind: "environment"; name: string; file: string }
    /** A registry's directory of TLS files, /etc/docker/certs.d/HOST/. */
    | { kind: "certs.d"; dir: string };

/** One of Docker's settings. */
export interface DockerSetting {
    /** The daemon.json key path: `["log-opts", "max-size"]`, `["runtimes", "nvidia"]`, `["registry-mirrors"]`. */
    path: string[];
    /** The path dotted (`log-opts.max-size`): the key messages name, after `docker:` in `upgrade.acknowledgeDropped`. */
    key: string;
    value: JsonValue;
    /** The value as messages show it: JSON, or `<secret, N chars>`. */
    shown: string;
    /** A credential: a proxy URL with a user name or password, or a key named like a credential. */
    secret: boolean;
    source: SettingSource;
}

/** Something that keeps the settings from being known exactly: refuses the node. */
export interface DockerProblem {
    /** The file or command line it is in. */
    file: string;
    what: string;
}

/** Docker's settings and what kept any of them from being read. */
export interface DockerSettings {
    settings: DockerSetting[];
    problems: DockerProblem[];
}

/** Keys split one level further: each entry of these tables is a setting of its own. */
const TABLES = new Set(["log-opts", "runtimes", "proxies", "default-ulimits"]);
/** Lists whose entries are settings of their own (each is carried or not on its own). */
const PER_ENTRY = new Set(["insecure-registries", "exec-opts"]);

const SECRET_NAME = /(password|passwd|secret|token|credential|api_?key|^auth$|authorization$)/i;

function isSecret(path: readonly string[], value: JsonValue): boolean {
    if (SECRET_NAME.test(path[path.length - 1] ?? "")) {
        return true;
    }
    if (typeof value === "string") {
        return hasUserInfo(value);
    }
    if (Array.isArray(value)) {
        return value.some(v => isSecret(path, v));
    }
    return value !== null && typeof value === "object" && Object.entries(value).some(([k, v]) => isSecret([...path, k], v));
}

/** A setting with its key, shown value and secrecy. */
export function setting(path: string[], value: JsonValue, source: SettingSource): DockerSetting {
    const secret = isSecret(path, value);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return { path, key: formatKey(path), value, shown: secret ? `<secret, ${text.length} chars>` : JSON.stringify(value), secret, source };
}

/** daemon.json's keys as settings; a problem when it is not a JSON object. */
function fileSettings(facts: DockerFacts, problems: DockerProblem[]): DockerSetting[] {
    const f = facts.daemonJson;
    if (f.status === "absent") {
        return [];
    }
    if (f.status === "error") {
        problems.push({ file: f.path, what: `not read: ${f.error}` });
        return [];
    }
    if (f.text.trim() === "") {
        return [];  // dockerd takes an empty file as no settings
    }
    let doc: unknown;
    try {
        doc = JSON.parse(f.text.replace(/^\uFEFF/, ""));
    } catch (e) {
        // Node's message quotes part of the text, which may hold a credential.
        problems.push({ file: f.path, what: `not valid JSON (dockerd does not start with it): ${(e as Error).message.replace(/,? ".*"(\.\.\.)? is not valid JSON$/s, "").replace(/".*"/gs, "…")}` });
        return [];
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        problems.push({ file: f.path, what: "not a JSON object (dockerd does not start with it)" });
        return [];
    }
    const source: SettingSource = { kind: "daemon.json", file: f.path };
    return Object.entries(doc as { [k: string]: JsonValue }).flatMap(([k, v]) => {
        if (TABLES.has(k) && v !== null && typeof v === "object" && !Array.isArray(v)) {
            return Object.entries(v).map(([sub, sv]) => setting([k, sub], sv, source));
        }
        if (PER_ENTRY.has(k) && Array.isArray(v)) {
            return v.map(e => setting([k], e, source));
        }
        return [setting([k], v, source)];
    });
}

/** Where each of dockerd's arguments was written, and the arguments themselves (argv[0] dropped). */
function dockerdArgs(facts: DockerFacts, env: EnvVar[]): { arg: string; file: string }[] {
    if (!facts.argv) {
        return [];
    }
    const words = facts.argv.args.slice(1);
    if (facts.argv.source === "process") {
        return words.map(arg => ({ arg, file: "dockerd's command line" }));
    }
    return expandArgs(words, env).map(a => ({ arg: a.arg, file: a.from ? `${a.from.file} ($${a.from.name})` : "docker.service ExecStart" }));
}

/** The flags as settings: list flags gathered into one list per file they come from, as daemon.json writes them. */
function flagSettings(parsed: ParsedFlag[], files: string[]): DockerSetting[] {
    const out: DockerSetting[] = [];
    for (const p of parsed) {
        const source: SettingSource = { kind: "flag", flag: p.text, file: files[p.index] };
        const key = formatKey(p.path);
        const prior = out.find(s => s.key === key && s.source.kind === "flag" && s.source.file === source.file);
        if (p.kind === "list" && !PER_ENTRY.has(p.path[0])) {
            if (prior && Array.isArray(prior.value)) {
                const merged = setting(p.path, [...prior.value, p.value as string], { ...source, flag: `${(prior.source as { flag: string }).flag} ${p.text}` });
                out.splice(out.indexOf(prior), 1, merged);
                continue;
            }
            out.push(setting(p.path, [p.value as string], source));
            continue;
        }
        out.push(setting(p.path, p.value as JsonValue, source));
    }
    return out;
}

/** The proxy variables dockerd reads (Go's net/http: the upper-case name first), as daemon.json's `proxies` keys. */
const PROXY_VARS: [string, string[]][] = [
    ["http-proxy", ["HTTP_PROXY", "http_proxy"]],
    ["https-proxy", ["HTTPS_PROXY", "https_proxy"]],
    ["no-proxy", ["NO_PROXY", "no_proxy"]],
];

/** Every setting of Docker on the node, and what kept any from being read. */
export function dockerSettings(facts: DockerFacts): DockerSettings {
    const problems: DockerProblem[] = [];
    const fromFile = fileSettings(facts, problems);
    const env = unitEnvironment(facts);
    const args = dockerdArgs(facts, env);
    const { flags, problems: flagProblems } = parseFlags(args.map(a => a.arg));
    problems.push(...flagProblems.map(p => ({ file: args.find(a => p.text.startsWith(a.arg))?.file ?? "dockerd's command line", what: `${p.text}: ${p.why}` })));
    const fromFlags = flagSettings(flags, args.map(a => a.file));
    const fileKeys = new Set(fromFile.map(s => s.path[0] === "proxies" ? s.key : s.path[0]));
    for (const s of fromFlags) {
        const k = s.path[0] === "proxies" ? s.key : s.path[0];
        if (k !== "runtimes" && fileKeys.has(k)) {
            const flag = s.source.kind === "flag" && !s.secret ? `${s.source.flag} sets` : "a flag sets";
            problems.push({ file: s.source.kind === "flag" ? s.source.file : "dockerd's command line", what: `${flag} ${k}, which ${facts.daemonJson.path} sets too: dockerd does not start with a setting given both as a flag and in its configuration file` });
        }
    }
    const set = [...fromFile, ...fromFlags];
    for (const [key, names] of PROXY_VARS) {
        const v = names.map(n => env.find(e => e.name === n)).find(e => e !== undefined && e.value !== "");
        if (v && !set.some(s => s.key === `proxies.${key}`)) {
            set.push(setting(["proxies", key], v.value, { kind: "environment", name: v.name, file: v.file }));
        }
    }
    for (const dir of facts.certsD) {
        set.push(setting(["certs.d", dir.host], dir.files, { kind: "certs.d", dir: `/etc/docker/certs.d/${dir.host}/` }));
    }
    return { settings: set, problems };
}
