/**
 * Where containerd 2.x reads a setting that a 1.x (schema 2) file holds: the in-memory migration
 * of containerd 2.x (plugins/cri/images and plugins/cri/runtime ConfigMigration, checked at
 * v2.0.0–v2.3.0), and the keys 2.0 dropped from its config structs, which it ignores with a log
 * line. A setting written at its old path into a `version = 3` file is not migrated but ignored,
 * so the rendered file must hold it at the new one.
 */
import { Version, atLeast } from "../versions";
import { KeyPath, isPrefix } from "./keys";

export const CRI = "io.containerd.grpc.v1.cri";
export const CRI_RUNTIME = "io.containerd.cri.v1.runtime";
export const CRI_IMAGES = "io.containerd.cri.v1.images";

export type Schema3Path =
    | { kind: "moved"; path: string[]; /** bin_dir's single value becomes bin_dirs' list. */ asList?: boolean }
    | { kind: "removed"; reason: string };

/** CRI keys 2.x reads from io.containerd.cri.v1.images. */
const IMAGE_KEYS = new Set(["registry", "image_decryption", "max_concurrent_downloads", "image_pull_progress_timeout", "image_pull_with_sync_fs", "stats_collect_period"]);
/** Keys of CRI's `containerd` table that moved to io.containerd.cri.v1.images. */
const IMAGE_CONTAINERD_KEYS = new Set(["snapshotter", "disable_snapshot_annotations", "discard_unpacked_layers"]);
/** The stream server's keys, which stay in io.containerd.grpc.v1.cri. */
const SERVER_KEYS = new Set(["disable_tcp_service", "stream_server_address", "stream_server_port", "stream_idle_timeout", "enable_tls_streaming", "x509_key_pair_streaming"]);

const V1_ONLY = "it worked only with the io.containerd.runtime.v1.linux shim, which 2.0 removed";

/** Schema 2 keys (or key prefixes; `*` matches one segment) that containerd 2.0 removed, and why. */
const REMOVED: { path: string[]; reason: string }[] = [
    { path: ["plugins", "io.containerd.runtime.v1.linux"], reason: "2.0 removed the io.containerd.runtime.v1.linux runtime" },
    { path: ["plugins", "io.containerd.snapshotter.v1.aufs"], reason: "2.0 removed the aufs snapshotter" },
    { path: ["plugins", CRI, "systemd_cgroup"], reason: `${V1_ONLY}; runc's SystemdCgroup option is config.systemdCgroup` },
    { path: ["plugins", CRI, "disable_cgroup"], reason: "2.0 removed it" },
    { path: ["plugins", CRI, "containerd", "no_pivot"], reason: V1_ONLY },
    { path: ["plugins", CRI, "containerd", "default_runtime"], reason: "2.0 removed it: default_runtime_name names one of containerd.runtimes" },
    { path: ["plugins", CRI, "containerd", "untrusted_workload_runtime"], reason: "2.0 removed it: a handler named \"untrusted\" in containerd.runtimes replaces it" },
    { path: ["plugins", CRI, "containerd", "runtimes", "*", "runtime_engine"], reason: V1_ONLY },
    { path: ["plugins", CRI, "containerd", "runtimes", "*", "runtime_root"], reason: V1_ONLY },
    { path: ["plugins", CRI, "containerd", "runtimes", "*", "options", "CriuPath"], reason: "2.0 ignores it: runc finds criu in $PATH" },
    { path: ["plugins", CRI, "registry", "configs", "*", "tls"], reason: "2.0 removed registry.configs.*.tls: TLS settings live in certs.d/<host>/hosts.toml" },
];

/**
 * Plugins 2.0 renamed: a version 2 file's settings under the old ID are migrated to the new one,
 * but under the old ID in a version 3 or 4 file they are ignored (checked with containerd 2.2.9
 * and 2.3.6: `config dump` keeps the new plugin's default and lists the old ID apart).
 */
const RENAMED_IN_2: { [old: string]: string } = {
    "io.containerd.internal.v1.restart": "io.containerd.monitor.container.v1.restart",
    "io.containerd.monitor.v1.cgroups": "io.containerd.monitor.task.v1.cgroups",
};

function matches(pattern: string[], path: KeyPath): boolean {
    return pattern.length <= path.length && pattern.every((s, i) => s === "*" || path[i] === s);
}

/** Why containerd 2.x has no place for this schema 2 key, or undefined when it has one. */
export function removedIn2(path: KeyPath): string | undefined {
    return REMOVED.find(r => matches(r.path, path))?.reason;
}

/** The schema 3 path of a schema 2 key, for containerd `target` (2.x). */
export function toSchema3(path: KeyPath, target: Version): Schema3Path {
    const reason = removedIn2(path);
    if (reason !== undefined) {
        return { kind: "removed", reason };
    }
    if (path[0] === "plugins" && path.length > 1 && RENAMED_IN_2[path[1]] !== undefined) {
        return { kind: "moved", path: ["plugins", RENAMED_IN_2[path[1]], ...path.slice(2)] };
    }
    if (!isPrefix(["plugins", CRI], path) || path.length === 2) {
        return { kind: "moved", path: [...path] };
    }
    const [key, ...rest] = path.slice(2);
    if (key === "sandbox_image") {
        return { kind: "moved", path: ["plugins", CRI_IMAGES, "pinned_images", "sandbox"] };
    }
    if (IMAGE_KEYS.has(key)) {
        return { kind: "moved", path: ["plugins", CRI_IMAGES, key, ...rest] };
    }
    if (key === "containerd" && IMAGE_CONTAINERD_KEYS.has(rest[0])) {
        return { kind: "moved", path: ["plugins", CRI_IMAGES, ...rest] };
    }
    if (SERVER_KEYS.has(key)) {
        return { kind: "moved", path: [...path] };
    }
    if (key === "containerd" && rest[0] === "runtimes" && rest[2] === "sandbox_mode" && rest.length === 3) {
        return { kind: "moved", path: ["plugins", CRI_RUNTIME, "containerd", "runtimes", rest[1], "sandboxer"] };
    }
    // The renderer writes bin_dirs from 2.1 (bin_dir is deprecated there, and both together are refused).
    if (key === "cni" && rest[0] === "bin_dir" && rest.length === 1 && atLeast(target, 2, 1)) {
        return { kind: "moved", path: ["plugins", CRI_RUNTIME, "cni", "bin_dirs"], asList: true };
    }
    return { kind: "moved", path: ["plugins", CRI_RUNTIME, key, ...rest] };
}
