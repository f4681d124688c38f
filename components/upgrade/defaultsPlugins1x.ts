/**
 * containerd 1.6's and 1.7's defaults for every plugin other than CRI, as `containerd config
 * default` prints them: what a node that runs with the whole default dump holds without anyone
 * having chosen it. Taken from the real output of containerd 1.7.35 (release tarball) and 1.6.20
 * (Debian bookworm's package, which also builds btrfs, devmapper and zfs):
 * tests/fixtures/upgrade/config-default-1.7.35.toml and config-default-1.6.20.toml, to which the
 * unit tests hold this table; and against 2.2.9's (config-default-2.2.9.toml): 2.x has the same
 * default, under the same plugin or the one 2.0 renamed it to (internal.v1.restart →
 * monitor.container.v1.restart, monitor.v1.cgroups → monitor.task.v1.cgroups), or 2.0 removed the
 * plugin (the v1 linux runtime, aufs) and its default did nothing. NRI's `disable` is the one
 * default 2.0 changed (NRI is on from 2.0).
 */
import { TomlValue } from "../args";

/** An entry of the 1.x defaults table (defaults17.ts's Default17, which re-exports this list). */
export interface PluginDefault {
    path: string[];
    /** null: any Go zero value. */
    value: TomlValue | null;
    /** Other values that are the default too: another architecture's. */
    also?: TomlValue[];
    /** What 2.x does instead, for a default 2.0 changed. */
    changedIn2?: string;
}

/** What `platforms.DefaultString()` prints on the architectures containerd releases for. */
const PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/ppc64le", "linux/s390x", "linux/riscv64"];

const plugin = (id: string, settings: { [key: string]: TomlValue | null }, changed: { [key: string]: string } = {}): PluginDefault[] =>
    Object.entries(settings).map(([k, value]) => ({
        path: ["plugins", `io.containerd.${id}`, k], value, ...(changed[k] ? { changedIn2: changed[k] } : {}),
    }));

const perPlatform = (path: string[], f: (platform: string) => TomlValue): PluginDefault =>
    ({ path, value: f(PLATFORMS[0]), also: PLATFORMS.slice(1).map(f) });

export const PLUGIN_DEFAULTS_1X: readonly PluginDefault[] = [
    ...plugin("gc.v1.scheduler", { deletion_threshold: 0, mutation_threshold: 100, pause_threshold: 0.02, schedule_delay: "0s", startup_delay: "100ms" }),
    ...plugin("internal.v1.opt", { path: "/opt/containerd" }),
    ...plugin("internal.v1.restart", { interval: "10s" }),
    ...plugin("metadata.v1.bolt", { content_sharing_policy: "shared" }),
    ...plugin("monitor.v1.cgroups", { no_prometheus: null }),
    ...plugin("nri.v1.nri", {
        disable: true, disable_connections: null, plugin_config_path: "/etc/nri/conf.d", plugin_path: "/opt/nri/plugins",
        plugin_registration_timeout: "5s", plugin_request_timeout: "2s", socket_path: "/var/run/nri/nri.sock",
    }, { disable: "2.0 turns NRI on by default (disable = false): NRI plugins dropped in /opt/nri/plugins or connecting to /var/run/nri/nri.sock start adjusting containers" }),
    ...plugin("runtime.v1.linux", { no_shim: null, runtime: "runc", runtime_root: null, shim: "containerd-shim", shim_debug: null }),
    perPlatform(["plugins", "io.containerd.runtime.v2.task", "platforms"], p => [p]),
    ...plugin("runtime.v2.task", { sched_core: null }),
    ...plugin("service.v1.diff-service", { default: ["walking"], sync_fs: null }),
    ...plugin("service.v1.tasks-service", { blockio_config_file: null, rdt_config_file: null }),
    ...plugin("snapshotter.v1.aufs", { root_path: null }),
    ...plugin("snapshotter.v1.blockfile", { fs_type: null, mount_options: null, root_path: null, scratch_file: null }),
    ...plugin("snapshotter.v1.btrfs", { root_path: null }),
    ...plugin("snapshotter.v1.devmapper", {
        async_remove: null, base_image_size: null, discard_blocks: null, fs_options: null, fs_type: null, pool_name: null, root_path: null,
    }),
    ...plugin("snapshotter.v1.native", { root_path: null }),
    ...plugin("snapshotter.v1.overlayfs", { mount_options: null, root_path: null, sync_remove: null, upperdir_label: null }),
    ...plugin("snapshotter.v1.zfs", { root_path: null }),
    ...plugin("transfer.v1.local", { config_path: null, max_concurrent_downloads: 3, max_concurrent_uploaded_layers: 3 }),
    // 2.x computes the same unpack platform (the host's, overlayfs, walking) when none is set.
    perPlatform(["plugins", "io.containerd.transfer.v1.local", "unpack_config"], p => [{ differ: "walking", platform: p, snapshotter: "overlayfs" }]),
];
