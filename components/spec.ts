/**
 * Every default of ContainerdNodeArgs, resolved in one place, and every validation: the rest of the
 * package works on the resolved NodeSpec and never sees an undefined knob.
 */
import * as path from "path";
import {
    ArtifactSource, BuildkitArgs, ContainerdNodeArgs, CrictlArgs, ProxyArgs, RegistryAuthArgs, RegistryTlsArgs, DockerMode, InstallSource, KubeletFlagsLocation, TomlValue, UpgradeDrainPolicy,
} from "./args";
import { kubeletVerdict } from "./compat";
import { STATE_DIR_DEFAULT } from "./facts";
import { formatKey, leaves, parseKey, plainToml, Table } from "./toml/keys";
import { toSchema4 } from "./toml/schema4";
import { isSecretKey } from "./toml/secrets";
import { configSchemaVersion, kubeletCompatibilityProblem, parseVersion, Version } from "./versions";

/** A bad argument: `field` is the path of the offending input, e.g. "config.registryMirrors.docker.io[0]". */
export class InvalidArgumentError extends Error {
    constructor(public readonly field: string, expected: string) {
        super(`invalid ${field}: ${expected}`);
        this.name = "InvalidArgumentError";
    }
}

export const DEFAULTS = {
    port: 22,
    user: "root",
    dialErrorLimit: 10,
    perDialTimeout: 15,
    systemdCgroup: true,
    sandboxImage: "registry.k8s.io/pause:3.10",
    root: "/var/lib/containerd",
    state: "/run/containerd",
    cniBinDir: "/opt/cni/bin",
    cniConfDir: "/etc/cni/net.d",
    limitNOFILE: "infinity",
    tasksMax: "infinity",
    oomScoreAdjust: -999,
    flagsLocation: "auto" as KubeletFlagsLocation,
    kubeletConfigPath: "/var/lib/kubelet/config.yaml",
    kubeletKubeconfigPath: "/etc/kubernetes/kubelet.conf",
    kubectl: "kubectl",
    drainTimeoutSeconds: 300,
    gracePeriodSeconds: -1,
    deleteEmptyDirData: true,
    force: false,
    verifyTimeoutSeconds: 180,
    dockerMode: "disable" as DockerMode,
    upgradeDrain: "major" as UpgradeDrainPolicy,
    packageName: "containerd",
    minFreeDiskMiB: 1024,
    stateDir: STATE_DIR_DEFAULT,
    factReads: 16,
    /** The socket every client (kubelet, crictl, ctr) is pointed at. */
    socket: "/run/containerd/containerd.sock",
};

export type ResolvedArtifact = { kind: "url"; url: string; sha256: string } | { kind: "path"; path: string; sha256: string };

export interface NodeSpec {
    containerd: {
        version: Version;
        source: InstallSource;
        /** Where the containerd binary lives once installed. */
        binDir: string;
        runc?: ResolvedArtifact;
        cni?: ResolvedArtifact;
    };
    config: {
        schema: 2 | 3 | 4;
        systemdCgroup: boolean;
        sandboxImage: string;
        registryMirrors: { [registry: string]: string[] };
        insecureRegistries: string[];
        /** TLS files by endpoint host (config.registryTls), paths on the node; certFile and keyFile come together. */
        registryTls: { [host: string]: RegistryTlsArgs };
        /** Hosts with credentials (config.registryAuth; the values stay in the args, secrets). */
        registryAuth: string[];
        root: string;
        state: string;
        socket: string;
        cniBinDir: string;
        cniConfDir: string;
        runtimes: { [name: string]: { runtimeType: string; options: { [key: string]: TomlValue } } };
        /** Resolved imports the rendered file lists before its own (config.imports). */
        imports: string[];
        extraToml: { [key: string]: TomlValue };
    };
    unit: { limitNOFILE: string; tasksMax: string; oomScoreAdjust: number };
    /** The proxy variables set (proxy; the values stay in the args: they may be secrets). */
    proxy: (keyof ProxyArgs)[];
    kubelet?: {
        version: Version;
        flagsLocation: KubeletFlagsLocation;
        configPath: string;
        kubeconfigPath: string;
        /** A Kubernetes quantity, validated (quantityBytes). */
        containerLogMaxSize?: string;
        containerLogMaxFiles?: number;
    };
    kubernetes?: {
        /** How kubectl gets the kubeconfig (the content itself stays in the args: a secret Output). */
        kubeconfig: { kind: "path"; path: string } | { kind: "content" };
        nodeName: string;
        kubectl: string;
        drainTimeoutSeconds: number;
        gracePeriodSeconds: number;
        deleteEmptyDirData: boolean;
        force: boolean;
        verifyTimeoutSeconds: number;
    };
    docker: { mode: DockerMode; removeData: boolean; migrateImages: boolean };
    upgrade: {
        drain: UpgradeDrainPolicy;
        /** Dotted keys in canonical spelling (see toml/keys.ts), and deprecation ids. */
        acknowledgeDropped: string[];
    };
    minFreeDiskMiB: number;
    /** containerd-node's own directory on the node (stateDir). */
    stateDir: string;
    /** How many nodes' facts the program reads over SSH at once. */
    factReads: number;
    /** Tools installed beside containerd (tools): each with its version (X.Y.Z) and its release tarball. */
    tools: { buildkit?: ToolSpec; crictl?: ToolSpec };
}

/** One tool of `tools`, resolved. */
export interface ToolSpec {
    /** X.Y.Z, without a "v". */
    version: string;
    tarball: ResolvedArtifact;
}

const SHA256_RE = /^[0-9a-f]{64}$/;
const LOOPBACK_RE = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const REGISTRY_HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;
const ABS_PATH_RE = /^\/[^\0\n]*$/;
const KUBE_NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function fail(field: string, expected: string): never {
    throw new InvalidArgumentError(field, expected);
}

/** Which kind of kubeconfig argument this is, checked at preview naming `field`. */
export function kubeconfigKind(field: string, kc: unknown): { kind: "path"; path: string } | { kind: "content" } {
    if (typeof kc === "string" && kc !== "") {
        return { kind: "path", path: kc };
    }
    if (typeof kc === "object" && kc !== null && (kc as { content?: unknown }).content != null) {
        return { kind: "content" };
    }
    return fail(field, "expected the path of a kubeconfig file, or { content } with the kubeconfig's text");
}

function version(field: string, text: unknown): Version {
    const v = typeof text === "string" ? parseVersion(text) : undefined;
    return v ?? fail(field, `expected a version like "2.1.4" or "1.6", got ${JSON.stringify(text)}`);
}

function sha256(field: string, text: unknown): string {
    return typeof text === "string" && SHA256_RE.test(text.toLowerCase())
        ? text.toLowerCase()
        : fail(field, `expected 64 hexadecimal characters (SHA-256), got ${JSON.stringify(text)}`);
}

/** https anywhere; plain http only to a loopback host (a local artifact server). */
function downloadUrl(field: string, text: unknown): string {
    let url: URL;
    try {
        url = new URL(String(text));
    } catch {
        return fail(field, `expected an https:// URL, got ${JSON.stringify(text)}`);
    }
    if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_RE.test(url.hostname))) {
        return url.toString();
    }
    return fail(field, `expected an https:// URL (http:// only for a loopback host), got ${JSON.stringify(text)}`);
}

function absPath(field: string, text: unknown): string {
    return typeof text === "string" && ABS_PATH_RE.test(text) ? text : fail(field, `expected an absolute path, got ${JSON.stringify(text)}`);
}

/**
 * An `imports` entry: an absolute path, cleaned as containerd cleans it (a glob's `*`, `?` and
 * `[…]` kept), one a TOML string can hold.
 */
function importPath(field: string, text: unknown): string {
    if (typeof text !== "string" || !text.startsWith("/") || /[\x00-\x1f\x7f]/.test(text)) {
        return fail(field, `expected an absolute path or glob such as "/etc/containerd/config.d/*.toml", got ${JSON.stringify(text)}`);
    }
    return path.posix.normalize(text).replace(/(.)\/+$/, "$1");
}

/** A directory for containerd-node's own files: absolute, plain characters, not "/" itself. */
function stateDir(field: string, text: unknown): string {
    return typeof text === "string" && /^(\/[A-Za-z0-9._-]+)+$/.test(text) && !/\/\.\.?(\/|$)/.test(text)
        ? text
        : fail(field, `expected an absolute directory path of letters, digits, ".", "_", "-" and "/" (no trailing "/", no "." or ".." parts), got ${JSON.stringify(text)}`);
}

function posInt(field: string, n: unknown, min: number, max: number): number {
    return Number.isInteger(n) && (n as number) >= min && (n as number) <= max
        ? n as number
        : fail(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(n)}`);
}

const QUANTITY_UNITS: { [suffix: string]: number } = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/**
 * The bytes of a Kubernetes quantity as the kubelet's containerLogMaxSize takes it ("100M",
 * "10Mi", "512"); undefined for anything else (a fraction, "m" (milli), an unknown suffix).
 */
export function quantityBytes(text: string): number | undefined {
    const m = /^([1-9][0-9]*)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
    return m ? Number(m[1]) * QUANTITY_UNITS[m[2] ?? ""] : undefined;
}

function logSize(field: string, text: unknown): string {
    return typeof text === "string" && quantityBytes(text) !== undefined
        ? text
        : fail(field, `expected a Kubernetes quantity of bytes such as "100M" (10^8) or "10Mi" (10 × 2^20), got ${JSON.stringify(text)}` +
            (typeof text === "string" && /^[0-9]+m$/.test(text) ? ` (a lowercase m is milli in a quantity: Docker's ${JSON.stringify(text)} is the kubelet's ${JSON.stringify(text.replace(/m$/, "M"))})` : ""));
}

/** `{ [key]: value }`, or nothing when value is undefined (a spec has no undefined members). */
function withDefined<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
    return value === undefined ? {} : { [key]: value } as { [k in K]?: V };
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
    return allowed.includes(value as T) ? value as T : fail(field, `expected one of ${allowed.map(a => `"${a}"`).join(", ")}, got ${JSON.stringify(value)}`);
}

export const REGISTRY_AUTH_FIELDS: readonly (keyof RegistryAuthArgs)[] = ["username", "password", "auth", "identityToken"];

export const REGISTRY_TLS_FIELDS: readonly (keyof RegistryTlsArgs)[] = ["caFile", "certFile", "keyFile"];

/** One host's config.registryTls, checked: absolute paths, certFile and keyFile together. */
function registryTls(host: string, t: RegistryTlsArgs | undefined): RegistryTlsArgs {
    const field = `config.registryTls["${host}"]`;
    registryHost(field, host);
    const given = Object.entries(t ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
    const unknown = given.filter(k => !REGISTRY_TLS_FIELDS.includes(k as keyof RegistryTlsArgs));
    if (unknown.length > 0 || given.length === 0) {
        fail(`${field}${unknown.length ? `.${unknown[0]}` : ""}`, `expected some of ${REGISTRY_TLS_FIELDS.join(", ")}`);
    }
    const path = (k: keyof RegistryTlsArgs) => t![k] === undefined ? undefined : absPath(`${field}.${k}`, t![k]);
    const [caFile, certFile, keyFile] = [path("caFile"), path("certFile"), path("keyFile")];
    if ((certFile === undefined) !== (keyFile === undefined)) {
        fail(`${field}.${certFile === undefined ? "certFile" : "keyFile"}`, "expected certFile and keyFile together (a client certificate and its key)");
    }
    return { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
}

function registryHost(field: string, text: unknown): string {
    return typeof text === "string" && REGISTRY_HOST_RE.test(text) ? text : fail(field, `expected a registry host like "docker.io" or "10.0.0.5:5000", got ${JSON.stringify(text)}`);
}

export const PROXY_FIELDS: readonly (keyof ProxyArgs)[] = ["httpProxy", "httpsProxy", "noProxy"];

/** A URL with a user name or password in it (`http://user:pass@proxy:3128`, or without the scheme): never shown. */
export const hasUserInfo = (text: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(text) || /^[^/@\s:]+:[^/@\s]*@/.test(text);

/** How a message shows a proxy value: in full, unless it holds credentials or may be a secret (`hide`). */
export const shownProxyValue = (text: string, hide: boolean) =>
    hide || hasUserInfo(text) ? `<secret, ${text.length} chars>` : JSON.stringify(text);

/**
 * http(s)://[user[:password]@]host[:port][/]: what HTTP_PROXY and HTTPS_PROXY take here (Go's
 * net/http/httpproxy also takes a bare host:port, or socks5://; a URL says what it is).
 */
const PROXY_URL_RE = /^https?:\/\/(?:[^\s/@:]*(?::[^\s/@]*)?@)?(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?\/?$/i;
/** One NO_PROXY entry: a host or domain (`.example.com`, `*.example.com`), an IP address or CIDR, with an optional port; or `*`. */
const NO_PROXY_ENTRY_RE = /^(\*|(\*?\.)?[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?(:\d{1,5})?|[0-9a-f:.]+(\/\d{1,3})?|\[[0-9a-f:.]+\](:\d{1,5})?)$/i;

/**
 * One proxy value, checked: `proxy.httpProxy`/`httpsProxy` an http(s) URL of a host and port,
 * `proxy.noProxy` a comma-separated list of hosts. `hide`: the value may be a secret (it came as
 * an Output), so a message gives its length only; a URL with credentials is never shown either.
 */
export function checkProxyValue(field: keyof ProxyArgs, text: unknown, hide = false): string {
    const name = `proxy.${field}`;
    if (typeof text !== "string") {
        return fail(name, `expected a string, got ${typeof text}`);
    }
    const shown = shownProxyValue(text, hide);
    if (field === "noProxy") {
        const entries = text.split(",").map(e => e.trim()).filter(e => e !== "");
        const bad = entries.findIndex(e => !NO_PROXY_ENTRY_RE.test(e));
        if (/[\x00-\x1f\x7f]/.test(text) || entries.length === 0 || bad >= 0) {
            fail(name, `expected comma-separated hosts, domains (".example.com"), IP addresses or CIDRs, each with an optional port, or "*", got ${shown}` +
                (bad >= 0 && !hide ? ` (${JSON.stringify(entries[bad])} is none of these)` : ""));
        }
        return text;
    }
    const m = PROXY_URL_RE.exec(text);
    if (!m || (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535))) {
        fail(name, `expected the proxy's URL, http://host:port or https://host:port (with user:password@ if it asks for one), got ${shown}`);
    }
    return text;
}

function mirrorEndpoint(field: string, text: unknown): string {
    const m = typeof text === "string" ? /^(https?):\/\/([^/\s]+)(\/\S*)?$/.exec(text) : null;
    return m ? text as string : fail(field, `expected an endpoint with scheme like "https://mirror.example.com", got ${JSON.stringify(text)}`);
}

/** `limitNOFILE`/`tasksMax` values systemd accepts: a number or "infinity". */
function systemdLimit(field: string, text: unknown): string {
    return typeof text === "string" && /^(infinity|\d+)$/.test(text) ? text : fail(field, `expected a number or "infinity", got ${JSON.stringify(text)}`);
}

function imageRef(field: string, text: unknown): string {
    return typeof text === "string" && /^[a-z0-9][a-z0-9._\-\/:@]*[a-z0-9]$/i.test(text) && !/\s/.test(text)
        ? text : fail(field, `expected an image reference like "registry.k8s.io/pause:3.10", got ${JSON.stringify(text)}`);
}

const DEPRECATION_ID_RE = /^io\.containerd\.deprecation\/[a-z0-9-]+$/;

/**
 * How `upgrade.acknowledgeDropped` names one of Docker's settings: `docker:` and its daemon.json
 * key, dotted below a table (`docker:log-opts.max-size`, `docker:runtimes.nvidia`,
 * `docker:proxies.http-proxy`, `docker:"certs.d"."r.example.com:5000"`).
 */
export const DOCKER_ACK_PREFIX = "docker:";

/**
 * A dotted TOML key, respelled canonically so it compares with the keys the pre-flight names; a
 * deprecation id; or `docker:` and a Docker setting's dotted key, respelled the same way.
 */
function droppedKey(field: string, text: unknown): string {
    if (typeof text === "string" && DEPRECATION_ID_RE.test(text)) {
        return text;
    }
    if (typeof text === "string" && text.startsWith(DOCKER_ACK_PREFIX)) {
        const path = parseKey(text.slice(DOCKER_ACK_PREFIX.length));
        return path ? DOCKER_ACK_PREFIX + formatKey(path) : fail(field, `expected "docker:" and a daemon.json key like "docker:log-opts.max-size" or "docker:runtimes.nvidia", got ${JSON.stringify(text)}`);
    }
    const path = typeof text === "string" ? parseKey(text) : undefined;
    return path ? formatKey(path) : fail(field, `expected a dotted TOML key like 'plugins."io.containerd.grpc.v1.cri".registry.mirrors', a deprecation id like "io.containerd.deprecation/pull-schema-1-image" or a Docker setting like "docker:log-opts", got ${JSON.stringify(text)}`);
}

function artifact(field: string, a: ArtifactSource | undefined): ResolvedArtifact | undefined {
    if (a === undefined) {
        return undefined;
    }
    if ("url" in a) {
        return { kind: "url", url: downloadUrl(`${field}.url`, a.url), sha256: sha256(`${field}.sha256`, a.sha256) };
    }
    if ("path" in a) {
        return { kind: "path", path: String(a.path), sha256: sha256(`${field}.sha256`, a.sha256) };
    }
    return fail(field, "expected { url, sha256 } or { path, sha256 }");
}

/** A tool of `tools`: a full version and its release tarball. */
function tool(field: string, t: BuildkitArgs | CrictlArgs | undefined, example: string): ToolSpec | undefined {
    if (t === undefined) {
        return undefined;
    }
    if (t === null || typeof t !== "object") {
        return fail(field, "expected { version, source: { url, sha256 } | { path, sha256 } }");
    }
    const v = typeof t.version === "string" ? /^v?(\d+\.\d+\.\d+)$/.exec(t.version) : null;
    if (!v) {
        fail(`${field}.version`, `expected a full version like "${example}", got ${JSON.stringify(t.version)}`);
    }
    if (t.source === undefined || t.source === null || typeof t.source !== "object") {
        fail(`${field}.source`, "expected { url, sha256 } or { path, sha256 }");
    }
    return { version: v![1], tarball: artifact(`${field}.source`, t.source)! };
}

function source(field: string, s: InstallSource, v: Version): InstallSource {
    if (s === undefined || s === null || typeof s !== "object") {
        return fail(field, `expected { kind: "tarball" | "file" | "package" | "docker", … }`);
    }
    switch (s.kind) {
        case "tarball":
            if (v.patch === undefined) {
                fail("containerd.version", `a tarball install needs a full version like "2.1.4", got "${v.text}"`);
            }
            return { kind: "tarball", url: downloadUrl(`${field}.url`, s.url), sha256: sha256(`${field}.sha256`, s.sha256) };
        case "file":
            if (v.patch === undefined) {
                fail("containerd.version", `a file install needs a full version like "2.1.4", got "${v.text}"`);
            }
            if (typeof s.path !== "string" || s.path === "") {
                fail(`${field}.path`, "expected the local path of a containerd release tarball");
            }
            return { kind: "file", path: s.path, sha256: sha256(`${field}.sha256`, s.sha256) };
        case "package":
            return { kind: "package", name: s.name ?? DEFAULTS.packageName };
        case "docker":
            return { kind: "docker" };
        default: {
            const never: never = s;
            return fail(`${field}.kind`, `expected "tarball", "file", "package" or "docker", got ${JSON.stringify((never as { kind: unknown }).kind)}`);
        }
    }
}

/**
 * Validates connection fields that are known at preview; Output values are checked by the
 * provider. `env`: where `sshAgent` looks for its agent (the process's environment).
 */
export function validateConnection(c: ContainerdNodeArgs["connection"], env: { SSH_AUTH_SOCK?: string } = process.env): void {
    if (!c || c.host === undefined || c.host === "") {
        fail("connection.host", "expected the node's address");
    }
    if (c.port !== undefined) {
        posInt("connection.port", c.port, 1, 65535);
    }
    if (c.sshAgent !== undefined && typeof c.sshAgent !== "boolean") {
        fail("connection.sshAgent", `expected true or false, got ${JSON.stringify(c.sshAgent)}`);
    }
    // The provider would use a key or password first, and keep it in the state.
    const other = (["agentSocketPath", "privateKey", "password"] as const).find(k => c[k] !== undefined);
    if (c.sshAgent && other) {
        fail("connection.sshAgent", `expected either sshAgent (the agent in SSH_AUTH_SOCK) or ${other}, not both`);
    }
    if (c.sshAgent && !env.SSH_AUTH_SOCK) {
        fail("connection.sshAgent", "expected SSH_AUTH_SOCK set in the environment of `pulumi` (an ssh-agent holding the node's key); it is unset");
    }
    if (c.privateKey === undefined && c.password === undefined && c.agentSocketPath === undefined && !c.sshAgent) {
        fail("connection", "expected one auth method: privateKey, password, agentSocketPath or sshAgent");
    }
    if (c.user !== undefined && !/^[a-z_][a-z0-9_.-]*$/i.test(c.user)) {
        fail("connection.user", `expected a user name, got ${JSON.stringify(c.user)}`);
    }
}

/** Resolves every default and rejects bad input, naming the field and what was expected. */
export function resolveSpec(args: ContainerdNodeArgs): NodeSpec {
    if (!args || !args.containerd) {
        fail("containerd", "expected { version, source }");
    }
    validateConnection(args.connection);
    const cv = version("containerd.version", args.containerd.version);
    const src = source("containerd.source", args.containerd.source, cv);
    const cfg = args.config ?? {};

    const registryMirrors: { [registry: string]: string[] } = {};
    for (const [host, endpoints] of Object.entries(cfg.registryMirrors ?? {})) {
        registryHost(`config.registryMirrors["${host}"]`, host);
        if (!Array.isArray(endpoints) || endpoints.length === 0) {
            fail(`config.registryMirrors["${host}"]`, "expected a non-empty list of mirror endpoints");
        }
        registryMirrors[host] = endpoints.map((e, i) => mirrorEndpoint(`config.registryMirrors["${host}"][${i}]`, e));
    }
    const insecureRegistries = (cfg.insecureRegistries ?? []).map((h, i) => registryHost(`config.insecureRegistries[${i}]`, h));
    const registryTlsByHost = Object.fromEntries(Object.entries(cfg.registryTls ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
        .map(([host, t]) => [host, registryTls(host, t)]));
    const registryAuth = Object.entries(cfg.registryAuth ?? {}).map(([host, a]) => {
        registryHost(`config.registryAuth["${host}"]`, host);
        const given = Object.entries(a ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
        const unknown = given.filter(k => !REGISTRY_AUTH_FIELDS.includes(k as keyof RegistryAuthArgs));
        if (unknown.length > 0 || given.length === 0) {
            fail(`config.registryAuth["${host}"]${unknown.length ? `.${unknown[0]}` : ""}`, `expected some of ${REGISTRY_AUTH_FIELDS.join(", ")}`);
        }
        return host;
    }).sort();

    const runtimes: NodeSpec["config"]["runtimes"] = {};
    for (const [name, r] of Object.entries(cfg.runtimes ?? {})) {
        if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name) || name === "runc") {
            fail(`config.runtimes["${name}"]`, "expected a handler name other than \"runc\" (letters, digits, - and _)");
        }
        if (typeof r?.runtimeType !== "string" || !/^io\.containerd\.[a-z0-9_.-]+\.v\d+$/i.test(r.runtimeType)) {
            fail(`config.runtimes["${name}"].runtimeType`, `expected a runtime type like "io.containerd.runsc.v1", got ${JSON.stringify(r?.runtimeType)}`);
        }
        runtimes[name] = { runtimeType: r.runtimeType, options: r.options ?? {} };
    }
    if (cfg.extraToml !== undefined && (typeof cfg.extraToml !== "object" || Array.isArray(cfg.extraToml))) {
        fail("config.extraToml", "expected a TOML table (an object)");
    }
    if (cfg.extraToml !== undefined && "version" in cfg.extraToml) {
        fail("config.extraToml.version", "the rendered file declares the config version its containerd reads (2 for 1.x, 3 for 2.0–2.2, 4 for 2.3+)");
    }
    if (cfg.extraToml !== undefined && "imports" in cfg.extraToml) {
        fail("config.extraToml.imports", "use config.imports: the rendered imports list is its own (the registry credentials file is imported too)");
    }
    // containerd 2.3+ (version 4) ignores the servers' top-level settings: they live in plugins.
    const moved = configSchemaVersion(cv) === 4 ? leaves(plainToml(cfg.extraToml ?? {}) as Table).find(l => toSchema4(l.path).length !== l.path.length) : undefined;
    if (moved) {
        fail(`config.extraToml.${formatKey(moved.path)}`, `containerd ${cv.text} reads config version 4, which ignores it at the top level: set ${formatKey(toSchema4(moved.path))}`);
    }
    const imports = (cfg.imports ?? []).map((p, i) => importPath(`config.imports[${i}]`, p));
    const dupImport = imports.find((p, i) => imports.indexOf(p) !== i);
    if (dupImport !== undefined) {
        fail(`config.imports[${imports.lastIndexOf(dupImport)}]`, `${JSON.stringify(dupImport)} is listed twice`);
    }
    // extraToml is part of the configure step's command text, which a preview shows in full.
    const credential = leaves(plainToml(cfg.extraToml ?? {}) as Table).find(l => isSecretKey(l.path));
    if (credential) {
        fail(`config.extraToml.${formatKey(credential.path)}`, "no credentials here: the config's text is shown by pulumi preview and kept in the state as plain text; use config.registryAuth, whose values stay secrets");
    }

    let kubelet: NodeSpec["kubelet"];
    if (args.kubelet) {
        const kv = version("kubelet.version", args.kubelet.version);
        const verdict = kubeletVerdict(kv, cv);
        const problem = verdict.status === "refused" ? verdict.reason : kubeletCompatibilityProblem(kv, cv);
        if (problem) {
            fail("kubelet.version", problem);
        }
        const flagsLocation = oneOf("kubelet.flagsLocation", args.kubelet.flagsLocation ?? DEFAULTS.flagsLocation,
            ["auto", "kubeadm-flags", "default", "sysconfig", "config"] as const);
        if (flagsLocation === "config" && kv.minor < 27 && kv.major === 1) {
            fail("kubelet.flagsLocation", `"config" (containerRuntimeEndpoint in KubeletConfiguration) needs kubelet 1.27+, got ${kv.text}`);
        }
        kubelet = {
            version: kv,
            flagsLocation,
            configPath: absPath("kubelet.configPath", args.kubelet.configPath ?? DEFAULTS.kubeletConfigPath),
            kubeconfigPath: absPath("kubelet.kubeconfigPath", args.kubelet.kubeconfigPath ?? DEFAULTS.kubeletKubeconfigPath),
            ...(args.kubelet.containerLogMaxSize === undefined ? {} : { containerLogMaxSize: logSize("kubelet.containerLogMaxSize", args.kubelet.containerLogMaxSize) }),
            ...(args.kubelet.containerLogMaxFiles === undefined ? {} : { containerLogMaxFiles: posInt("kubelet.containerLogMaxFiles", args.kubelet.containerLogMaxFiles, 2, 1000) }),
        };
    }

    let kubernetes: NodeSpec["kubernetes"];
    if (args.kubernetes) {
        const k = args.kubernetes;
        const kubeconfig = kubeconfigKind("kubernetes.kubeconfig", k.kubeconfig);
        if (typeof k.nodeName !== "string" || !KUBE_NAME_RE.test(k.nodeName)) {
            fail("kubernetes.nodeName", `expected a Kubernetes node name, got ${JSON.stringify(k.nodeName)}`);
        }
        if (!kubelet) {
            fail("kubelet", "expected { version } in Kubernetes mode: the kubelet is switched to containerd");
        }
        const d = k.drain ?? {};
        kubernetes = {
            kubeconfig,
            nodeName: k.nodeName,
            kubectl: k.kubectl ?? DEFAULTS.kubectl,
            drainTimeoutSeconds: posInt("kubernetes.drain.timeoutSeconds", d.timeoutSeconds ?? DEFAULTS.drainTimeoutSeconds, 1, 86400),
            gracePeriodSeconds: posInt("kubernetes.drain.gracePeriodSeconds", d.gracePeriodSeconds ?? DEFAULTS.gracePeriodSeconds, -1, 86400),
            deleteEmptyDirData: d.deleteEmptyDirData ?? DEFAULTS.deleteEmptyDirData,
            force: d.force ?? DEFAULTS.force,
            verifyTimeoutSeconds: posInt("kubernetes.verifyTimeoutSeconds", k.verifyTimeoutSeconds ?? DEFAULTS.verifyTimeoutSeconds, 10, 3600),
        };
    }

    const dockerMode = oneOf("docker.mode", args.docker?.mode ?? DEFAULTS.dockerMode, ["keep", "stop", "disable", "purge"] as const);
    if (dockerMode === "purge" && src.kind === "docker") {
        fail("docker.mode", `"purge" removes Docker's packages, which also removes the containerd that containerd.source { kind: "docker" } reuses: use "disable"`);
    }
    if (args.docker?.removeData && dockerMode === "keep") {
        fail("docker.removeData", `Docker's data can't be removed while docker.mode is "keep"`);
    }

    // Plain values are checked here; an Output's once it resolves, by the pre-flight (planOutputs).
    const proxyGiven = Object.entries(args.proxy ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (args.proxy !== undefined) {
        const unknown = proxyGiven.filter(k => !PROXY_FIELDS.includes(k as keyof ProxyArgs));
        if (typeof args.proxy !== "object" || unknown.length > 0 || proxyGiven.length === 0) {
            fail(`proxy${unknown.length ? `.${unknown[0]}` : ""}`, `expected some of ${PROXY_FIELDS.join(", ")}`);
        }
        for (const k of proxyGiven) {
            const v = (args.proxy as { [k: string]: unknown })[k];
            if (typeof v === "string" || typeof v !== "object") {
                checkProxyValue(k as keyof ProxyArgs, v);
            }
        }
    }
    const proxy = PROXY_FIELDS.filter(f => proxyGiven.includes(f));

    const acks = args.upgrade?.acknowledgeDropped ?? [];
    if (!Array.isArray(acks)) {
        fail("upgrade.acknowledgeDropped", "expected a list of dotted TOML keys");
    }

    return {
        containerd: {
            version: cv,
            source: src,
            binDir: src.kind === "tarball" || src.kind === "file" ? "/usr/local/bin" : "/usr/bin",
            runc: artifact("containerd.runc", args.containerd.runc),
            cni: artifact("containerd.cni", args.containerd.cni),
        },
        config: {
            schema: configSchemaVersion(cv),
            systemdCgroup: cfg.systemdCgroup ?? DEFAULTS.systemdCgroup,
            sandboxImage: imageRef("config.sandboxImage", cfg.sandboxImage ?? DEFAULTS.sandboxImage),
            registryMirrors,
            insecureRegistries,
            registryTls: registryTlsByHost,
            registryAuth,
            root: absPath("config.root", cfg.root ?? DEFAULTS.root),
            state: absPath("config.state", cfg.state ?? DEFAULTS.state),
            socket: DEFAULTS.socket,
            cniBinDir: absPath("config.cniBinDir", cfg.cniBinDir ?? DEFAULTS.cniBinDir),
            cniConfDir: absPath("config.cniConfDir", cfg.cniConfDir ?? DEFAULTS.cniConfDir),
            runtimes,
            imports,
            extraToml: cfg.extraToml ?? {},
        },
        unit: {
            limitNOFILE: systemdLimit("unit.limitNOFILE", args.unit?.limitNOFILE ?? DEFAULTS.limitNOFILE),
            tasksMax: systemdLimit("unit.tasksMax", args.unit?.tasksMax ?? DEFAULTS.tasksMax),
            oomScoreAdjust: posInt("unit.oomScoreAdjust", args.unit?.oomScoreAdjust ?? DEFAULTS.oomScoreAdjust, -1000, 1000),
        },
        proxy,
        kubelet,
        kubernetes,
        docker: {
            mode: dockerMode,
            removeData: args.docker?.removeData ?? false,
            migrateImages: args.docker?.migrateImages ?? false,
        },
        upgrade: {
            drain: oneOf("upgrade.drain", args.upgrade?.drain ?? DEFAULTS.upgradeDrain, ["major", "always", "never"] as const),
            acknowledgeDropped: acks.map((a, i) => droppedKey(`upgrade.acknowledgeDropped[${i}]`, a)),
        },
        minFreeDiskMiB: posInt("minFreeDiskMiB", args.minFreeDiskMiB ?? DEFAULTS.minFreeDiskMiB, 0, 10_000_000),
        stateDir: stateDir("stateDir", args.stateDir ?? DEFAULTS.stateDir),
        factReads: posInt("factReads", args.factReads ?? DEFAULTS.factReads, 1, 1000),
        tools: {
            ...withDefined("buildkit", tool("tools.buildkit", args.tools?.buildkit, "0.34.2")),
            ...withDefined("crictl", tool("tools.crictl", args.tools?.crictl, "1.34.0")),
        },
    };
}
