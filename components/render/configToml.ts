import * as TOML from "@iarna/toml";
import { NodeSpec } from "../spec";
import { isTable, Table } from "../toml/keys";
import { SERVER_GRPC } from "../toml/schema4";
import { atLeast } from "../versions";
import { REGISTRY_AUTH_FILE } from "./registryAuth";

/** Deep-merges `over` into `base` (tables merge, everything else is replaced). Pure. */
export function mergeToml(base: Table, over: Table): Table {
    const out: Table = { ...base };
    for (const [k, v] of Object.entries(over)) {
        const b = out[k];
        out[k] = isTable(b) && isTable(v) ? mergeToml(b, v) : v;
    }
    return out;
}

/** The rendered file's first line: how the pre-flight tells its own config from a hand-made one. */
export const TOP_OF_FILE = "# Managed by containerd-node (Pulumi). Local edits are overwritten on the next `pulumi up`.\n";

function runtimesTable(c: NodeSpec["config"]): Table {
    const runtimes: Table = {
        runc: {
            runtime_type: "io.containerd.runc.v2",
            options: { SystemdCgroup: c.systemdCgroup },
        },
    };
    for (const [name, r] of Object.entries(c.runtimes)) {
        runtimes[name] = { runtime_type: r.runtimeType, options: r.options };
    }
    return runtimes;
}

/**
 * The rendered file's `imports`: config.imports, then the credentials file (last, so that it
 * wins). config.extraToml can't set them (spec.ts refuses it), so this is the whole list.
 */
export function renderedImports(c: NodeSpec["config"]): string[] {
    return [...c.imports, ...(c.registryAuth.length > 0 ? [REGISTRY_AUTH_FILE] : [])];
}

/**
 * /etc/containerd/config.toml for the installed version: schema 2 (containerd 1.x, plugin
 * "io.containerd.grpc.v1.cri"), schema 3 (2.0–2.2, "io.containerd.cri.v1.images"/"…runtime") or
 * schema 4 (2.3+: schema 3 with the socket in the "io.containerd.server.v1.grpc" plugin).
 * Written whole from the spec, never by editing `containerd config default`, so a key can't be
 * missed silently. Mirrors go to certs.d (config_path), not to the deprecated registry.mirrors.
 * `imports` lists config.imports (the node's drop-in directories) and the credentials file.
 */
export function renderConfigToml(spec: NodeSpec): string {
    const c = spec.config;
    const containerd = { default_runtime_name: "runc", runtimes: runtimesTable(c) };
    // 2.1 replaced bin_dir with bin_dirs (a list); 1.x and 2.0 only know bin_dir.
    const cni: Table = spec.containerd.version.major >= 2 && atLeast(spec.containerd.version, 2, 1)
        ? { bin_dirs: [c.cniBinDir], conf_dir: c.cniConfDir }
        : { bin_dir: c.cniBinDir, conf_dir: c.cniConfDir };
    let doc: Table;
    if (c.schema === 2) {
        doc = {
            version: 2,
            root: c.root,
            state: c.state,
            grpc: { address: c.socket },
            plugins: {
                "io.containerd.grpc.v1.cri": {
                    sandbox_image: c.sandboxImage,
                    containerd,
                    cni,
                    registry: { config_path: "/etc/containerd/certs.d" },
                },
            },
        };
    } else {
        // Version 4 (2.3+) holds the socket in the gRPC server plugin: a top-level [grpc] is ignored there.
        doc = {
            version: c.schema,
            root: c.root,
            state: c.state,
            ...(c.schema === 4 ? {} : { grpc: { address: c.socket } }),
            plugins: {
                ...(c.schema === 4 ? { [SERVER_GRPC]: { address: c.socket } } : {}),
                "io.containerd.cri.v1.images": {
                    pinned_images: { sandbox: c.sandboxImage },
                    registry: { config_path: "/etc/containerd/certs.d" },
                },
                "io.containerd.cri.v1.runtime": { containerd, cni },
            },
        };
    }
    const imports = renderedImports(c);
    if (imports.length > 0) {
        doc = { imports, ...doc };
    }
    return TOP_OF_FILE + TOML.stringify(mergeToml(doc, c.extraToml) as TOML.JsonMap);
}
