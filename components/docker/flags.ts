/**
 * dockerd's command-line flags and the daemon.json keys they set (pure). A flag is named as its
 * key (`--data-root` → `data-root`) unless the table below says otherwise: a list flag given once
 * per value (`--registry-mirror` → `registry-mirrors`), a `k=v` map (`--log-opt max-size=100m` →
 * `log-opts`), a runtime (`--add-runtime nvidia=/usr/bin/nvidia-container-runtime` → `runtimes`),
 * or a flag that takes no value (`--live-restore`). The keys are the `json` names of moby's
 * `daemon/config/config.go`; a flag is given there as `--NAME`, or `-NAME` as Go's flag packages take it.
 */

/** How a flag's values go into daemon.json. */
export type FlagKind = "value" | "bool" | "list" | "map" | "runtime";

interface FlagSpec {
    key: string;
    kind: FlagKind;
}

const f = (key: string, kind: FlagKind): FlagSpec => ({ key, kind });

/** Flags whose key or form is not just their own name with a value. */
const FLAGS: { [flag: string]: FlagSpec } = {
    "registry-mirror": f("registry-mirrors", "list"),
    "insecure-registry": f("insecure-registries", "list"),
    "exec-opt": f("exec-opts", "list"),
    "log-opt": f("log-opts", "map"),
    "storage-opt": f("storage-opts", "list"),
    "add-runtime": f("runtimes", "runtime"),
    "dns": f("dns", "list"),
    "dns-opt": f("dns-opts", "list"),
    "dns-search": f("dns-search", "list"),
    "label": f("labels", "list"),
    "default-ulimit": f("default-ulimits", "map"),
    "authorization-plugin": f("authorization-plugins", "list"),
    "host": f("hosts", "list"),
    "H": f("hosts", "list"),
    "graph": f("data-root", "value"),
    "g": f("data-root", "value"),
    "s": f("storage-driver", "value"),
    "debug": f("debug", "bool"),
    "D": f("debug", "bool"),
    "l": f("log-level", "value"),
    "G": f("group", "value"),
    "b": f("bridge", "value"),
    "p": f("pidfile", "value"),
    "cdi-spec-dir": f("cdi-spec-dirs", "list"),
    "default-address-pool": f("default-address-pools", "list"),
    "node-generic-resource": f("node-generic-resources", "list"),
    "allow-nondistributable-artifacts": f("allow-nondistributable-artifacts", "list"),
    "feature": f("features", "map"),
    "http-proxy": f("proxies.http-proxy", "value"),
    "https-proxy": f("proxies.https-proxy", "value"),
    "no-proxy": f("proxies.no-proxy", "value"),
    "tls": f("tls", "bool"),
    "tlsverify": f("tlsverify", "bool"),
    "live-restore": f("live-restore", "bool"),
    "selinux-enabled": f("selinux-enabled", "bool"),
    "icc": f("icc", "bool"),
    "iptables": f("iptables", "bool"),
    "ip6tables": f("ip6tables", "bool"),
    "ip-forward": f("ip-forward", "bool"),
    "ip-masq": f("ip-masq", "bool"),
    "userland-proxy": f("userland-proxy", "bool"),
    "ipv6": f("ipv6", "bool"),
    "experimental": f("experimental", "bool"),
    "no-new-privileges": f("no-new-privileges", "bool"),
    "raw-logs": f("raw-logs", "bool"),
    "init": f("init", "bool"),
    "rootless": f("rootless", "bool"),
    "validate": f("validate", "bool"),
};

/** Flags that are not settings of the daemon: the file's own name. */
const NOT_SETTINGS = new Set(["config-file"]);

/** One flag as given: its daemon.json key path, the value it adds, and the flag text. */
export interface ParsedFlag {
    /** The daemon.json key path: `["log-opts", "max-size"]`, `["runtimes", "nvidia"]`, `["registry-mirrors"]`. */
    path: string[];
    kind: FlagKind;
    /** The value this occurrence gives (one element of a list flag). */
    value: string | boolean | { path: string };
    /** The flag as written, e.g. `--log-opt max-size=100m`. */
    text: string;
    /** The argument's index in the list given. */
    index: number;
}

/** A flag parsed wrong: its text and why. */
export interface FlagProblem {
    text: string;
    why: string;
}

/** dockerd's flags (argv without argv[0]) → one ParsedFlag per occurrence, in order. */
export function parseFlags(args: readonly string[]): { flags: ParsedFlag[]; problems: FlagProblem[] } {
    const flags: ParsedFlag[] = [];
    const problems: FlagProblem[] = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        const m = /^--?([A-Za-z0-9][A-Za-z0-9.-]*)(=(.*))?$/s.exec(a);
        if (!m) {
            problems.push({ text: a, why: "not a flag (dockerd takes no arguments)" });
            continue;
        }
        const name = m[1];
        const spec = FLAGS[name] ?? f(name, "value");
        let value: string | undefined = m[3];
        let text = a;
        if (spec.kind === "bool") {
            if (value !== undefined && value !== "true" && value !== "false") {
                problems.push({ text: a, why: `--${name} takes true or false` });
                continue;
            }
        } else if (value === undefined) {
            if (i + 1 >= args.length) {
                problems.push({ text: a, why: "no value follows it" });
                continue;
            }
            value = args[++i];
            text = `${a} ${value}`;
        }
        if (NOT_SETTINGS.has(name)) {
            continue;
        }
        const base = spec.key.split(".");
        switch (spec.kind) {
            case "bool":
                flags.push({ path: base, kind: "bool", value: value !== "false", text, index: i });
                break;
            case "value":
            case "list":
                flags.push({ path: base, kind: spec.kind, value: value!, text, index: i });
                break;
            case "map":
            case "runtime": {
                const at = value!.indexOf("=");
                if (at <= 0) {
                    problems.push({ text, why: `expected NAME=${spec.kind === "runtime" ? "PATH" : "VALUE"}` });
                    break;
                }
                const v = value!.slice(at + 1);
                flags.push({ path: [...base, value!.slice(0, at)], kind: spec.kind, value: spec.kind === "runtime" ? { path: v } : v, text, index: i });
                break;
            }
            default: {
                const never: never = spec.kind;
                throw new Error(`unknown flag kind ${JSON.stringify(never)}`);
            }
        }
    }
    return { flags, problems };
}
