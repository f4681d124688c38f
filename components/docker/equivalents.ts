/**
 * What each of Docker's settings becomes under containerd, judged against the declared NodeSpec
 * (pure): carried by a typed input that holds it, not needed (Docker's own API, a default, or what
 * containerd does anyway), or lost unless a typed input is set or the loss acknowledged. The
 * equivalents: containerd's certs.d `hosts.toml` (containerd/docs/hosts.md) for mirrors, insecure
 * registries and TLS files; CRI's runtime handlers for `runtimes`; the kubelet's log rotation for
 * `log-opts`; containerd's proxy environment (`proxy`, a containerd.service.d drop-in) for
 * `proxies` and the proxy variables; containerd's config for the rest (containerd/docs/cri/config.md).
 */
import * as path from "path";
import { NodeSpec, quantityBytes } from "../spec";
import { isTable, sameValue, Table } from "../toml/keys";
import { CRI, CRI_IMAGES, CRI_RUNTIME } from "../toml/schema3";
import type { Carrier } from "../upgrade/carry";
import { atLeast } from "../versions";
import { ProxyArgs } from "../args";
import { ProxyValues } from "../render/proxy";
import { dockerSizeBytes, kubeletLogSize } from "./logSize";
import { sameNoProxy, sameProxyUrl } from "./proxy";
import { DockerSetting, JsonValue } from "./settings";

/** A setting judged: carried (`carriers` hold it), not needed (`info`), or lost unless set (`refused`, `carriers` would carry it). */
export interface Equivalent {
    status: "carried" | "info" | "refused";
    /** The inputs that hold it or would; one `none` carrier (with its reason) when there is no equivalent. */
    carriers: Carrier[];
}

const none = (reason: string): Carrier => ({ kind: "none", reason });
const info = (reason: string): Equivalent => ({ status: "info", carriers: [none(reason)] });
const refuse = (reason: string): Equivalent => ({ status: "refused", carriers: [none(reason)] });
const judged = (carried: boolean, carriers: Carrier[]): Equivalent => ({ status: carried ? "carried" : "refused", carriers });
const trimSlash = (s: string) => s.replace(/\/+$/, "");
const json = (v: JsonValue) => JSON.stringify(v);

/** Keys of Docker's own API, networks, daemon and swarm: pods use none of them (CNI networks them, the kubelet writes their resolv.conf). */
const DOCKER_ONLY = new Set([
    "hosts", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey", "features", "experimental", "debug", "log-level", "log-format",
    "raw-logs", "pidfile", "exec-root", "group", "containerd", "containerd-namespace", "containerd-plugins-namespace", "metrics-addr",
    "labels", "shutdown-timeout", "max-concurrent-uploads", "max-download-attempts", "bip", "bip6", "bridge", "iptables", "ip6tables",
    "ip-masq", "icc", "ip", "ipv6", "fixed-cidr", "fixed-cidr-v6", "default-gateway", "default-gateway-v6", "default-address-pools",
    "mtu", "userland-proxy", "userland-proxy-path", "dns", "dns-opts", "dns-search", "api-cors-header", "builder", "cgroup-parent",
    "swarm-default-advertise-addr", "cluster-store", "cluster-advertise", "cluster-store-opts", "node-generic-resources",
    "default-network-opts", "network-control-plane-mtu", "allow-nondistributable-artifacts", "validate", "rootless",
]);

/** Settings whose effect pods lose under containerd, and what the user can do instead. */
const PODS_LOSE: { [key: string]: string } = {
    "default-ulimits": "CRI gives containers containerd's own limits (its unit's LimitNOFILE: unit.limitNOFILE) or a base_runtime_spec's process.rlimits (config.extraToml)",
    "seccomp-profile": "pods get containerd's default profile with seccompProfile RuntimeDefault (the kubelet's seccompDefault makes it every pod's) or a Localhost profile of their own",
    "userns-remap": "pods opt in to user namespaces with hostUsers: false (containerd 2.0+, Linux 6.3+)",
    "authorization-plugins": "Docker's API goes with Docker: nothing stands in front of CRI's socket",
    "no-new-privileges": "a pod sets allowPrivilegeEscalation: false in its securityContext",
    "storage-opts": "a snapshotter's options do not map one to one: set them in config.extraToml",
};

/** Docker's storage drivers → containerd's snapshotters (containerd's builtins). */
const SNAPSHOTTERS: { [driver: string]: string } = { btrfs: "btrfs", zfs: "zfs", vfs: "native", devicemapper: "devmapper", "fuse-overlayfs": "fuse-overlayfs" };

/** The value config.extraToml holds at `p`, if any. */
function extraAt(spec: NodeSpec, p: string[]): JsonValue | undefined {
    let t: unknown = spec.config.extraToml;
    for (const s of p) {
        t = isTable(t) ? (t as Table)[s] : undefined;
    }
    return t as JsonValue | undefined;
}

/** An extraToml carrier for a value at `p`, carried when config.extraToml holds it. */
function viaExtra(spec: NodeSpec, p: string[], value: JsonValue, caveat?: string): Equivalent {
    const at = extraAt(spec, p);
    return judged(at !== undefined && sameValue(at as never, value as never), [{ kind: "extraToml", path: p, shown: json(value), ...(caveat ? { caveat } : {}) }]);
}

const runtimePlugin = (spec: NodeSpec) => spec.config.schema >= 3 ? CRI_RUNTIME : CRI;
const imagesPath = (spec: NodeSpec, key: string) => spec.config.schema >= 3 ? ["plugins", CRI_IMAGES, key] : ["plugins", CRI, key];

/** A runtime's binary as CRI's runc shim would run it: the same path, or a bare name Docker looks up on PATH and an absolute path ending in it. */
const sameBinary = (declared: unknown, docker: string) =>
    typeof declared === "string" && (declared === docker || (!docker.includes("/") && declared.endsWith(`/${docker}`)));

function runtime(name: string, v: JsonValue, spec: NodeSpec): Equivalent {
    if (!isTable(v)) {
        return refuse(`a runtime is { path } or { runtimeType, options }`);
    }
    const declared = spec.config.runtimes[name];
    if (typeof v.runtimeType === "string") {
        const options = isTable(v.options) ? v.options as Table : {};
        return judged(declared?.runtimeType === v.runtimeType && sameValue(declared.options, options), [
            { kind: "runtime", name, field: "runtimeType", shown: json(v.runtimeType) },
            ...Object.entries(options).map(([k, o]): Carrier => ({ kind: "runtime", name, field: `options.${k}`, shown: json(o as JsonValue) })),
        ]);
    }
    if (Array.isArray(v.runtimeArgs) && v.runtimeArgs.length > 0) {
        return refuse(`CRI's runtime handlers take no arguments for the binary (runtimeArgs ${json(v.runtimeArgs as JsonValue)}): wrap the binary in a script of your own and name it in config.runtimes`);
    }
    if (typeof v.path !== "string") {
        return refuse("a runtime without a path");
    }
    return judged(declared?.runtimeType === "io.containerd.runc.v2" && sameBinary(declared.options.BinaryName, v.path), [
        { kind: "runtime", name, field: "runtimeType", shown: json("io.containerd.runc.v2") },
        { kind: "runtime", name, field: "options.BinaryName", shown: json(v.path) },
    ]);
}

function insecureRegistry(v: JsonValue, spec: NodeSpec): Equivalent {
    const host = trimSlash(String(v).replace(/^https?:\/\//i, ""));
    if (host === "127.0.0.0/8") {
        return info("Docker's own default; containerd reaches a loopback registry over plain HTTP by itself");
    }
    if (/^[0-9a-f.:]+\/\d+$/i.test(host)) {
        return refuse(`containerd's hosts.toml names hosts, not networks: a CIDR has no equivalent; list each registry host in it in config.insecureRegistries`);
    }
    return judged(spec.config.insecureRegistries.includes(host), [{ kind: "insecureRegistries", registry: host }]);
}

function certsDir(host: string, v: JsonValue, spec: NodeSpec): Equivalent {
    const files = Array.isArray(v) ? v.map(String) : [];
    const dir = `/etc/docker/certs.d/${host}`;
    const want: Carrier[] = [];
    const add = (field: "caFile" | "certFile" | "keyFile", suffix: string) => {
        const f = files.find(n => n.endsWith(suffix));
        if (f) {
            want.push({ kind: "registryTls", registry: host, field, path: `${dir}/${f}` });
        }
    };
    add("caFile", ".crt");
    add("certFile", ".cert");
    add("keyFile", ".key");
    if (want.length === 0) {
        return info(`Docker reads only *.crt, *.cert and *.key there`);
    }
    const declared = spec.config.registryTls[host] ?? {};
    return judged(want.every(c => c.kind === "registryTls" && declared[c.field] !== undefined), want);
}

/** daemon.json's `proxies` keys (and the variables they stand for: settings.ts) → the input that carries each. */
const PROXY_INPUTS: { [key: string]: keyof ProxyArgs } = { "http-proxy": "httpProxy", "https-proxy": "httpsProxy", "no-proxy": "noProxy" };

/**
 * A proxy setting: carried when `proxy` (the input's values, resolved) holds what Go would read
 * the same (proxy.ts); the carrier shows Docker's value as the setting does (a secret's never).
 */
function proxySetting(s: DockerSetting, sub: string, proxy: ProxyValues): Equivalent {
    const field = PROXY_INPUTS[sub];
    if (field === undefined || typeof s.value !== "string") {
        return refuse(`Docker's proxies are http-proxy, https-proxy and no-proxy, each a string`);
    }
    const declared = proxy[field];
    const same = declared !== undefined && (field === "noProxy" ? sameNoProxy(declared, s.value) : sameProxyUrl(declared, s.value));
    return judged(same, [{ kind: "proxy", field, shown: s.shown, secret: s.secret }]);
}

/**
 * What one of Docker's settings becomes under containerd, judged against `spec` and the proxy
 * input's values (`proxy`: resolved, as they may be secrets; the spec knows only which are set).
 */
export function equivalent(s: DockerSetting, spec: NodeSpec, proxy: ProxyValues = {}): Equivalent {
    const [key, sub] = s.path;
    const v = s.value;
    const c = spec.config;
    switch (key) {
        case "registry-mirrors": {
            const mirrors = (Array.isArray(v) ? v : [v]).map(m => trimSlash(String(m)));
            const declared = (c.registryMirrors["docker.io"] ?? []).map(trimSlash);
            return judged(mirrors.every(m => declared.includes(m)), [{ kind: "registryMirrors", registry: "docker.io", endpoints: mirrors, insecure: false }]);
        }
        case "insecure-registries":
            return insecureRegistry(v, spec);
        case "certs.d":
            return certsDir(sub, v, spec);
        case "exec-opts": {
            const m = /^native\.cgroupdriver=(systemd|cgroupfs)$/i.exec(String(v));
            if (!m) {
                return refuse(`this package does not know what Docker's exec-opt ${json(v)} does to pods`);
            }
            const systemd = m[1].toLowerCase() === "systemd";
            return judged(c.systemdCgroup === systemd, [{ kind: "input", input: "config.systemdCgroup", shown: String(systemd) }]);
        }
        case "data-root":
        case "graph": {
            const root = trimSlash(String(v));
            if (root === "/var/lib/docker") {
                return info("Docker's default");
            }
            const parent = path.posix.dirname(root);
            return judged(c.root.startsWith(`${parent === "/" ? "" : parent}/`),
                [{ kind: "input", input: "config.root", shown: json(path.posix.join(parent, "containerd")) }]);
        }
        case "storage-driver": {
            if (v === "overlay2" || v === "overlay") {
                return info("containerd's default snapshotter, overlayfs, keeps images the same way");
            }
            const snap = SNAPSHOTTERS[String(v)];
            const p = spec.config.schema >= 3 ? imagesPath(spec, "snapshotter") : ["plugins", CRI, "containerd", "snapshotter"];
            return snap ? viaExtra(spec, p, snap, snap === "devmapper" ? "devmapper needs its pool configured in its own plugin" : undefined)
                : refuse(`containerd has no snapshotter for Docker's ${json(v)}`);
        }
        case "log-driver":
            return v === "json-file" || v === "local"
                ? info("CRI writes container logs as files under /var/log/pods, which the kubelet rotates")
                : refuse(`CRI writes container logs only as files under /var/log/pods: collect them from there with a log agent`);
        case "log-opts": {
            // Under CRI the kubelet rotates container logs (kubernetes/kubernetes#59902).
            const k = spec.kubelet;
            if (sub === "max-size") {
                const bytes = dockerSizeBytes(String(v));
                const size = kubeletLogSize(String(v));
                if (!k || bytes === undefined) {
                    return refuse(!k ? "without a kubelet nothing rotates container logs under containerd" : `Docker would not read ${json(v)} as a size`);
                }
                const declared = k.containerLogMaxSize === undefined ? undefined : quantityBytes(k.containerLogMaxSize);
                return judged(declared === bytes, [{ kind: "input", input: "kubelet.containerLogMaxSize", shown: json(size!) }]);
            }
            if (sub === "max-file") {
                if (!k) {
                    return refuse("without a kubelet nothing rotates container logs under containerd");
                }
                // The kubelet keeps at least 2 files (its validation); Docker's 1 is kept as 2.
                const files = Math.max(2, Number(v) || 0);
                return judged(k.containerLogMaxFiles === files, [{ kind: "input", input: "kubelet.containerLogMaxFiles", shown: String(files) }]);
            }
            return refuse("CRI's log files take no options");
        }
        case "runtimes":
            return runtime(sub, v, spec);
        case "default-runtime":
            if (v === "runc") {
                return info("CRI's default runtime is runc too");
            }
            return viaExtra(spec, ["plugins", runtimePlugin(spec), "containerd", "default_runtime_name"], v,
                `a RuntimeClass with handler ${json(v)}, named by the pods that need it, keeps runc every other pod's default`);
        case "live-restore":
            return info("containerd's shims keep containers running across a containerd restart (its unit's KillMode=process): nothing to carry");
        case "ip-forward":
            return info("Docker turns net.ipv4.ip_forward on when it starts; pods' networking needs it on: keep it in /etc/sysctl.d");
        case "max-concurrent-downloads":
            return viaExtra(spec, imagesPath(spec, "max_concurrent_downloads"), Number(v),
                atLeast(spec.containerd.version, 2, 1) ? "pulls through the transfer service read plugins.\"io.containerd.transfer.v1.local\".max_concurrent_downloads" : undefined);
        case "selinux-enabled":
            return v === true ? viaExtra(spec, ["plugins", runtimePlugin(spec), "enable_selinux"], true) : info("Docker's default");
        case "cdi-spec-dirs":
            return viaExtra(spec, ["plugins", runtimePlugin(spec), "cdi_spec_dirs"], v);
        case "proxies":
            return proxySetting(s, sub, proxy);
        default:
            if (DOCKER_ONLY.has(key)) {
                return info("Docker's own API, networks or daemon: pods do not use it");
            }
            if (key in PODS_LOSE) {
                return refuse(PODS_LOSE[key]);
            }
            return refuse(`this package does not know what Docker's ${json(key)} does to pods: check it`);
    }
}
