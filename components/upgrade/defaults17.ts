/**
 * containerd 1.x's defaults for the settings a live config may hold without anyone having chosen
 * them (installers and many nodes run with the whole `containerd config default` dump, edited in
 * one place): such a setting is no loss when 2.x's default is the same, or 2.x dropped a key whose
 * default did nothing; a default 2.0 changed (enable_unprivileged_ports, enable_unprivileged_icmp,
 * enable_cdi: false → true; the pause image; NRI's disable) is not refused either, but reported
 * with the input that keeps 1.x's value. CRI's defaults here, every other plugin's in
 * defaultsPlugins1x.ts. Checked against `containerd config default` of 1.7.35 and 1.6.20 (their
 * real output) and 1.7.30, 2.2.7 and 2.2.9 (tests/fixtures/upgrade; the unit tests hold the table
 * to them), and internal/cri/config at v2.0.0 and v2.3.0.
 */
import { TomlValue } from "../args";
import { isZero, KeyPath, sameValue } from "../toml/keys";
import { CRI } from "../toml/schema3";
import { PLUGIN_DEFAULTS_1X } from "./defaultsPlugins1x";

export interface Default17 {
    /** Schema 2 path; "*" matches any one segment (a runtime handler's name). */
    path: string[];
    /** null: any Go zero value ("", 0, false, []), which is what an unset field holds. */
    value: TomlValue | null;
    /**
     * Left out even where the rendered file sets the key to another value: that value is the
     * package's own and loses nothing this default did. Otherwise a rendered value decides.
     */
    overridden?: true;
    /** Other values that are the default too: 1.6's, another architecture's. */
    also?: TomlValue[];
    /**
     * For a default 2.0 changed: what 2.x (or the rendered file) does instead. The live value is
     * then reported as a warning naming the input that keeps it, unless the rendered file holds it.
     */
    changedIn2?: string;
}

const cri = (...p: string[]) => ["plugins", CRI, ...p];
const runtime = (...p: string[]) => cri("containerd", "runtimes", "*", ...p);

/** The image decryption stream processors containerd registers by default. */
function decoder(kind: string, accepts: string, returns: string): Default17[] {
    const p = ["stream_processors", `io.containerd.ocicrypt.decoder.v1.${kind}`];
    return [
        { path: [...p, "accepts"], value: [accepts] },
        { path: [...p, "returns"], value: returns },
        { path: [...p, "path"], value: "ctd-decoder" },
        { path: [...p, "args"], value: ["--decryption-keys-path", "/etc/containerd/ocicrypt/keys"] },
        { path: [...p, "env"], value: ["OCICRYPT_KEYPROVIDER_CONFIG=/etc/containerd/ocicrypt/ocicrypt_keyprovider.conf"] },
    ];
}

export const DEFAULTS_1_7: readonly Default17[] = [
    { path: ["grpc", "max_recv_message_size"], value: 16777216 },
    { path: ["grpc", "max_send_message_size"], value: 16777216 },
    ...Object.entries({ "bolt.open": "0s", "metrics.shimstats": "2s", "shim.cleanup": "5s", "shim.load": "5s", "shim.shutdown": "3s", "task.state": "2s" })
        .map(([k, v]) => ({ path: ["timeouts", `io.containerd.timeout.${k}`], value: v })),
    ...decoder("tar", "application/vnd.oci.image.layer.v1.tar+encrypted", "application/vnd.oci.image.layer.v1.tar"),
    ...decoder("tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "application/vnd.oci.image.layer.v1.tar+gzip"),
    { path: cri("enable_cdi"), value: false, changedIn2: "2.0's default is true: CDI devices named by annotations or the device plugin API are injected" },
    { path: cri("enable_unprivileged_ports"), value: false, changedIn2: "2.0's default is true: every pod may bind ports below 1024 (net.ipv4.ip_unprivileged_port_start = 0)" },
    { path: cri("enable_unprivileged_icmp"), value: false, changedIn2: "2.0's default is true: every pod may ping (net.ipv4.ping_group_range covers every group)" },
    {
        path: cri("sandbox_image"), value: "registry.k8s.io/pause:3.8", also: ["registry.k8s.io/pause:3.6"],
        changedIn2: "the rendered config pins config.sandboxImage instead: an air-gapped node needs that image present",
    },
    { path: cri("max_container_log_line_size"), value: 16384 },
    { path: cri("max_concurrent_downloads"), value: 3 },
    { path: cri("stats_collect_period"), value: 10 },
    { path: cri("tolerate_missing_hugetlb_controller"), value: true },
    { path: cri("disable_hugetlb_controller"), value: true },
    { path: cri("selinux_category_range"), value: 1024 },
    { path: cri("cdi_spec_dirs"), value: ["/etc/cdi", "/var/run/cdi"] },
    { path: cri("image_pull_progress_timeout"), value: "5m0s" },
    { path: cri("drain_exec_sync_io_timeout"), value: "0s" },
    { path: cri("disable_tcp_service"), value: true },
    { path: cri("stream_server_address"), value: "127.0.0.1" },
    { path: cri("stream_server_port"), value: "0" },
    { path: cri("stream_idle_timeout"), value: "4h0m0s" },
    { path: cri("image_decryption", "key_model"), value: "node" },
    ...["disable_proc_mount", "ignore_image_defined_volumes", "enable_selinux", "disable_apparmor", "restrict_oom_score_adj",
        "unset_seccomp_profile", "device_ownership_from_security_context", "netns_mounts_under_state_dir", "image_pull_with_sync_fs",
        "enable_tls_streaming", "ignore_deprecation_warnings", "systemd_cgroup", "disable_cgroup"]
        .map(k => ({ path: cri(k), value: null })),
    { path: cri("x509_key_pair_streaming", "tls_cert_file"), value: null },
    { path: cri("x509_key_pair_streaming", "tls_key_file"), value: null },
    // The rendered config_path points at the certs.d this package writes; a registry without a
    // directory there is reached as with no config_path at all.
    { path: cri("registry", "config_path"), value: null, overridden: true },
    { path: cri("registry", "configs", "*", "tls", "insecure_skip_verify"), value: null },
    { path: cri("cni", "max_conf_num"), value: 1 },
    { path: cri("cni", "setup_serially"), value: null },
    { path: cri("cni", "conf_template"), value: null },
    { path: cri("cni", "ip_pref"), value: null },
    { path: cri("containerd", "snapshotter"), value: "overlayfs" },
    { path: cri("containerd", "disable_snapshot_annotations"), value: true },
    ...["discard_unpacked_layers", "no_pivot", "ignore_blockio_not_enabled_errors", "ignore_rdt_not_enabled_errors"]
        .map(k => ({ path: cri("containerd", k), value: null })),
    // Present, empty, in every `containerd config default` of 1.7; removed in 2.0.
    ...["runtime_type", "runtime_engine", "runtime_root", "runtime_path", "base_runtime_spec", "cni_conf_dir", "cni_max_conf_num",
        "privileged_without_host_devices", "privileged_without_host_devices_all_devices_allowed", "snapshotter",
        "container_annotations", "pod_annotations", "sandbox_mode"]
        .flatMap(k => [{ path: cri("containerd", "default_runtime", k), value: null }, { path: cri("containerd", "untrusted_workload_runtime", k), value: null }]),
    ...["runtime_engine", "runtime_root", "runtime_path", "base_runtime_spec", "cni_conf_dir", "cni_max_conf_num", "snapshotter",
        "privileged_without_host_devices", "privileged_without_host_devices_all_devices_allowed", "container_annotations", "pod_annotations"]
        .map(k => ({ path: runtime(k), value: null })),
    { path: runtime("sandbox_mode"), value: "podsandbox" },
    // runc's options as `containerd config default` of 1.7 lists them. The rendered runc handler
    // sets SystemdCgroup, so a live `false` there is still compared with it.
    ...["NoPivotRoot", "NoNewKeyring", "ShimCgroup", "IoUid", "IoGid", "BinaryName", "Root", "CriuPath", "CriuImagePath", "CriuWorkPath", "SystemdCgroup"]
        .map(k => ({ path: runtime("options", k), value: null })),
    ...PLUGIN_DEFAULTS_1X,
];

/** The table entry saying `value` at schema 2 `path` is containerd 1.x's default, if there is one. */
export function default17(path: KeyPath, value: TomlValue): Default17 | undefined {
    return DEFAULTS_1_7.find(d => d.path.length === path.length && d.path.every((s, i) => s === "*" || s === path[i])
        && (d.value === null ? isZero(value) : sameValue(d.value, value) || (d.also ?? []).some(a => sameValue(a, value))));
}
