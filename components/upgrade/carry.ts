/**
 * Which live settings the config this package renders for the target would not carry, and the
 * typed input that would. A setting is carried when the rendered config.toml holds its value at
 * the path the target reads (toml/schema3.ts), when the certs.d files hold it (mirrors, insecure
 * registries) or the unit does (oom_score), or when the rendered file leaves it to a 2.x target
 * whose own default it is (defaults2.ts), or when it comes from a drop-in the rendered file goes
 * on importing (imports.ts); it may be left out when it is containerd 1.x's default and the
 * rendered file does not set it (defaults17.ts), and a 1.x default that 2.0 changed is reported
 * as a warning. Anything else is refused by name unless `upgrade.acknowledgeDropped` lists it.
 */
import * as TOML from "@iarna/toml";
import { ProxyArgs, RegistryAuthArgs, RegistryTlsArgs, TomlValue } from "../args";
import { AUTH_KEYS, RegistryAuthValues } from "../render/registryAuth";
import { upstreamServer } from "../render/hostsToml";
import { renderConfigToml } from "../render/configToml";
import { NodeSpec } from "../spec";
import { isPrefix, KeyPath, leaves, parseKey, sameValue, Table } from "../toml/keys";
import { CRI, CRI_IMAGES, CRI_RUNTIME, toSchema3 } from "../toml/schema3";
import { SERVER_GRPC, toSchema4 } from "../toml/schema4";
import { isSecretKey, shownValue } from "../toml/secrets";
import { atLeast } from "../versions";
import { default17 } from "./defaults17";
import { isDefault2 } from "./defaults2";
import { keptDropIns } from "./imports";
import { LiveConfig, LiveSetting } from "./liveConfig";

export type TypedInput =
    | "config.systemdCgroup" | "config.sandboxImage" | "config.root" | "config.state"
    | "config.cniBinDir" | "config.cniConfDir" | "unit.oomScoreAdjust"
    | "kubelet.containerLogMaxSize" | "kubelet.containerLogMaxFiles";

/** The input that carries a setting into the rendered files; `shown` values are redacted like DroppedSetting's. */
export type Carrier =
    | { kind: "registryMirrors"; registry: string; endpoints: string[]; /** also plain HTTP to the registry itself */ insecure: boolean }
    | { kind: "insecureRegistries"; registry: string }
    | { kind: "registryTls"; registry: string; field: keyof RegistryTlsArgs; path: string }
    /** A secret: the message names the input, never the value. */
    | { kind: "registryAuth"; registry: string; field: keyof RegistryAuthArgs }
    | { kind: "runtime"; name: string; /** "runtimeType" or "options.<key>" */ field: string; shown: string }
    /** containerd's proxy environment; `shown` is Docker's value as its setting shows it (`secret`: never in full). */
    | { kind: "proxy"; field: keyof ProxyArgs; shown: string; secret: boolean }
    | { kind: "input"; input: TypedInput; shown: string }
    | { kind: "extraToml"; /** the path the target reads */ path: string[]; shown: string; /** what setting it costs, if anything */ caveat?: string }
    | { kind: "none"; reason: string };

export interface DroppedSetting {
    /** The live key, as its file spells it. */
    key: string;
    file: string;
    /** The value as messages show it; a secret's is `<secret, N chars>`. */
    shown: string;
    secret: boolean;
    carrier: Carrier;
    /** Refused unless `upgrade.acknowledgeDropped` lists the key or a table above it. */
    status: "refused" | "acknowledged";
}

/** A live setting at 1.x's default where 2.0 changed the default: not refused, but said. */
export interface ChangedDefault {
    key: string;
    file: string;
    shown: string;
    /** What 2.x (or the rendered file) does instead. */
    change: string;
    /** The input that keeps 1.x's value. */
    carrier: Carrier;
    /** "warning" unless `upgrade.acknowledgeDropped` lists the key. */
    status: "warning" | "acknowledged";
}

export interface CarryReport {
    /** Containerd version the config is rendered for. */
    target: string;
    /** Live settings the rendered files would not carry, in the live config's order. */
    dropped: DroppedSetting[];
    /** Live keys the rendered files carry (those of `imported` too). */
    carried: string[];
    /** Live keys of the drop-ins the rendered config goes on importing. */
    imported: string[];
    /** Live keys at containerd 1.x's default, which the target shares: nothing lost. */
    defaults: string[];
    /** Live settings at a 1.x default that 2.0 changed, which the rendered files do not hold. */
    changed: ChangedDefault[];
}

const V1_SHIMS = ["io.containerd.runtime.v1.linux", "io.containerd.runc.v1"];
const trimSlash = (s: string) => s.replace(/\/+$/, "");

/**
 * The registry's own server among a mirror list's endpoints: not a mirror (hosts.toml's
 * `server` reaches it; config.registryMirrors refuses an empty list). docker.io's is
 * registry-1.docker.io, which old configs also name by its index.docker.io alias.
 */
export function isOwnServer(registry: string, endpoint: string): boolean {
    const e = trimSlash(endpoint);
    return e === upstreamServer(registry) || (registry === "docker.io" && e === "https://index.docker.io");
}

/**
 * CRI image settings that containerd 2.1+ pulls cannot honour through the transfer service: with
 * one set, CRI falls back to local pulls and logs a warning (containerd's CRI config documentation,
 * "Configuration differences and automatic fallback to Local Mode").
 */
function transferCaveat(t: string[], value: TomlValue, target: NodeSpec["containerd"]["version"]): string | undefined {
    if (!(t.length === 3 && t[0] === "plugins" && t[1] === CRI_IMAGES) || target.major < 2 || !atLeast(target, 2, 1)) {
        return undefined;
    }
    const fallback = `containerd ${target.text} then pulls without the transfer service (it falls back to local pulls, use_local_image_pull, and logs a warning)`;
    switch (t[2]) {
        case "discard_unpacked_layers":
            return value === true ? `the transfer service can't discard unpacked layers: ${fallback}` : undefined;
        case "disable_snapshot_annotations":
            return value === false ? `the transfer service passes no snapshot annotations (a remote snapshotter takes them from its own exports): ${fallback}` : undefined;
        case "image_pull_with_sync_fs":
            return value === true ? `the transfer service has no sync_fs: ${fallback}` : undefined;
        case "max_concurrent_downloads":
            return value !== 3 ? `the transfer service reads plugins."io.containerd.transfer.v1.local".max_concurrent_downloads instead: set that to keep transfer pulls` : undefined;
        default:
            return undefined;
    }
}

/** True when an entry of `upgrade.acknowledgeDropped` names one of these keys or a table above it. */
export function acknowledged(acks: readonly string[], ...paths: KeyPath[]): boolean {
    return acks.some(a => {
        const ack = parseKey(a);
        return ack !== undefined && paths.some(p => isPrefix(ack, p));
    });
}

/** What the target reads at `t` and the typed input that sets it; undefined: none but extraToml. */
function typedCarrier(t: string[], shown: string, value: TomlValue, schema: 2 | 3 | 4): Carrier | undefined {
    const runtimePlugin = schema >= 3 ? CRI_RUNTIME : CRI;
    const at = (plugin: string, ...p: string[]) => t.length === p.length + 2 && t[0] === "plugins" && t[1] === plugin && p.every((s, i) => t[i + 2] === s);
    const input = (i: TypedInput): Carrier => ({ kind: "input", input: i, shown });
    if (t.length === 1 && (t[0] === "root" || t[0] === "state")) {
        return input(t[0] === "root" ? "config.root" : "config.state");
    }
    if (t.length === 1 && t[0] === "oom_score") {
        return input("unit.oomScoreAdjust");
    }
    if ((t.length === 2 && t[0] === "grpc" && t[1] === "address") || at(SERVER_GRPC, "address")) {
        return { kind: "none", reason: "the package points every client at /run/containerd/containerd.sock" };
    }
    if (schema >= 3 ? at(CRI_IMAGES, "pinned_images", "sandbox") : at(CRI, "sandbox_image")) {
        return input("config.sandboxImage");
    }
    if (at(runtimePlugin, "cni", "conf_dir")) {
        return input("config.cniConfDir");
    }
    if (at(runtimePlugin, "cni", "bin_dir") || (at(runtimePlugin, "cni", "bin_dirs") && Array.isArray(value) && value.length === 1)) {
        return { kind: "input", input: "config.cniBinDir", shown: JSON.stringify(Array.isArray(value) ? value[0] : value) };
    }
    if ((schema >= 3 ? at(CRI_IMAGES, "snapshotter") : at(CRI, "containerd", "snapshotter")) && value === "aufs") {
        return { kind: "none", reason: "2.0 removed the aufs snapshotter" };
    }
    if (!(t.length >= 6 && t[0] === "plugins" && t[1] === runtimePlugin && t[2] === "containerd" && t[3] === "runtimes")) {
        return undefined;
    }
    const [name, field, option] = [t[4], t[5], t[6]];
    if (field === "runtime_type" && typeof value === "string" && V1_SHIMS.includes(value) && schema >= 3) {
        return { kind: "none", reason: `2.0 removed the ${value} shim: use io.containerd.runc.v2` };
    }
    if (name === "runc") {
        return field === "options" && option === "SystemdCgroup" && t.length === 7 ? input("config.systemdCgroup") : undefined;
    }
    if (field === "runtime_type" && t.length === 6) {
        return { kind: "runtime", name, field: "runtimeType", shown };
    }
    return field === "options" && t.length === 7 ? { kind: "runtime", name, field: `options.${option}`, shown } : undefined;
}

/** 1.x's registry.configs."HOST".tls files → config.registryTls's fields. */
const TLS_KEYS = new Map<string, keyof RegistryTlsArgs>([["ca_file", "caFile"], ["cert_file", "certFile"], ["key_file", "keyFile"]]);

/** The certs.d side of a registry setting (`r`: its path below the registry table); undefined: none. */
function registryCarrier(r: string[], value: TomlValue, spec: NodeSpec, auth: RegistryAuthValues): { carrier: Carrier; carried: boolean } | undefined {
    const c = spec.config;
    const [table, host, ...rest] = r;
    if (table === "mirrors" && rest.length === 1 && rest[0] === "endpoint" && Array.isArray(value)) {
        if (host === "*") {
            return { carrier: { kind: "none", reason: `no typed input takes the "*" mirror (every registry; certs.d/_default)` }, carried: false };
        }
        const endpoints = value.map(String);
        // 1.x appends the registry itself after the endpoints, as hosts.toml's `server` does.
        const mirrors = endpoints.filter(e => !isOwnServer(host, e) && trimSlash(e) !== `http://${host}`);
        const insecure = endpoints.some(e => trimSlash(e) === `http://${host}`);
        const carried = (mirrors.length === 0 || sameValue(c.registryMirrors[host] ?? [], mirrors))
            && (!insecure || c.insecureRegistries.includes(host));
        const carrier: Carrier = mirrors.length === 0 && insecure ? { kind: "insecureRegistries", registry: host }
            : { kind: "registryMirrors", registry: host, endpoints: mirrors, insecure };
        return { carrier, carried };
    }
    if (table === "mirrors") {
        return { carrier: { kind: "none", reason: "certs.d's hosts.toml takes only a mirror's endpoints" }, carried: false };
    }
    if (table === "configs" && rest[0] === "tls" && rest[1] === "insecure_skip_verify" && value === true) {
        return { carrier: { kind: "insecureRegistries", registry: host }, carried: c.insecureRegistries.includes(host) };
    }
    if (table === "configs" && rest[0] === "auth" && rest.length === 2) {
        const field = (Object.keys(AUTH_KEYS) as (keyof RegistryAuthArgs)[]).find(k => AUTH_KEYS[k] === rest[1].toLowerCase());
        if (field) {
            return { carrier: { kind: "registryAuth", registry: host, field }, carried: auth[host]?.[field] === value };
        }
    }
    if (table === "configs" && rest[0] === "tls" && rest.length === 2 && typeof value === "string" && TLS_KEYS.has(rest[1])) {
        const field = TLS_KEYS.get(rest[1])!;
        return { carrier: { kind: "registryTls", registry: host, field, path: value }, carried: c.registryTls[host]?.[field] === value };
    }
    if (table === "configs" && rest[0] === "tls") {
        const reason = spec.config.schema >= 3 ? "2.0 removed registry.configs.*.tls" : "containerd 1.x refuses configs.tls next to the config_path the rendered file sets";
        return { carrier: { kind: "none", reason: `${reason}; certs.d's hosts.toml takes a host's CA and client files (config.registryTls) and skip_verify (config.insecureRegistries)` }, carried: false };
    }
    return undefined;
}

/** Lists every live setting the config rendered from `spec` would not carry. */
export function carryReport(live: LiveConfig, spec: NodeSpec, auth: RegistryAuthValues = {}): CarryReport {
    const schema = spec.config.schema;
    if (live.schema > schema) {
        throw new Error(`the live config is schema ${live.schema}, the target containerd ${spec.containerd.version.text} reads ${schema}: going back is not an upgrade`);
    }
    const rendered = new Map(leaves(TOML.parse(renderConfigToml(spec)) as Table).map(l => [JSON.stringify(l.path), l.value]));
    const report: CarryReport = { target: spec.containerd.version.text, dropped: [], carried: [], imported: [], defaults: [], changed: [] };
    const kept = keptDropIns(live, spec);
    const acks = spec.upgrade.acknowledgeDropped;

    for (const s of live.settings) {
        if (s.path[0] === "imports" || s.path[0] === "version") {
            continue;  // the imported files' settings are listed one by one
        }
        const m3 = live.schema === 2 && schema >= 3 ? toSchema3(s.path, spec.containerd.version) : { kind: "moved" as const, path: s.path };
        // Version 4 moves the servers' top-level settings into server plugins.
        const m = m3.kind === "moved" && schema === 4 ? { ...m3, path: toSchema4(m3.path) } : m3;
        const t = m.kind === "moved" ? m.path : [];
        const value = m.kind === "moved" && m.asList ? [s.value] : s.value;
        const atTarget = rendered.get(JSON.stringify(t));
        // registry.configs.*.tls has no schema 3 path (2.0 removed it): look at the live one.
        const registry = isPrefix(["plugins", schema >= 3 ? CRI_IMAGES : CRI, "registry"], t) ? t.slice(3)
            : isPrefix(["plugins", CRI, "registry", "configs"], s.path) && s.path[5] === "tls" ? s.path.slice(3) : undefined;
        const reg = registry && registryCarrier(registry, value, spec, auth);

        if ((m.kind === "moved" && atTarget !== undefined && sameValue(atTarget, value)) || reg?.carried
            || (t.length === 1 && t[0] === "oom_score" && value === spec.unit.oomScoreAdjust)
            || (m.kind === "moved" && schema >= 3 && atTarget === undefined && isDefault2(t, value))) {
            report.carried.push(s.key);
            continue;
        }
        // containerd migrates the drop-in from its own version; what it ignores is reported below.
        if (m.kind === "moved" && kept.has(s.file)) {
            report.carried.push(s.key);
            report.imported.push(s.key);
            continue;
        }
        const d17 = live.schema === 2 ? default17(s.path, s.value) : undefined;
        if (d17 && !d17.changedIn2 && (atTarget === undefined || d17.overridden)) {
            report.defaults.push(s.key);
            continue;
        }
        const shown = shownValue(s.path, value);
        const carrier: Carrier = reg?.carrier
            ?? (m.kind === "removed" ? { kind: "none", reason: m.reason } : undefined)
            ?? typedCarrier(t, shown, value, schema)
            ?? (isSecretKey(t) ? { kind: "none", reason: "a credential: config.extraToml would show it in the preview's command text, and refuses it" } : undefined)
            ?? extraToml(t, shown, value, spec);
        const acked = acknowledged(acks, parseKey(s.key) ?? [], s.path, t);
        if (d17?.changedIn2) {
            report.changed.push({ key: s.key, file: s.file, shown, change: d17.changedIn2, carrier, status: acked ? "acknowledged" : "warning" });
            continue;
        }
        report.dropped.push(dropped(s, carrier, acked ? "acknowledged" : "refused"));
    }
    return report;
}

function extraToml(t: string[], shown: string, value: TomlValue, spec: NodeSpec): Carrier {
    const caveat = transferCaveat(t, value, spec.containerd.version);
    return caveat === undefined ? { kind: "extraToml", path: t, shown } : { kind: "extraToml", path: t, shown, caveat };
}

function dropped(s: LiveSetting, carrier: Carrier, status: DroppedSetting["status"]): DroppedSetting {
    return { key: s.key, file: s.file, shown: shownValue(s.path, s.value), secret: isSecretKey(s.path), carrier, status };
}
