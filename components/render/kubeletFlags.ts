import { nodeLibConstant } from "../nodeFiles";
import { NodeSpec } from "../spec";
import { atLeast } from "../versions";

/**
 * What to change in the kubelet's flags and KubeletConfiguration so it runs on containerd.
 * Version-aware (dockershim removal, KEP-2221: https://github.com/kubernetes/enhancements/issues/2221): --network-plugin and the other dockershim flags are gone in 1.24,
 * --container-runtime in 1.27 (containerRuntimeEndpoint moved to the config), and
 * --pod-infra-container-image in 1.35 (dropped for every version: see below). Flags not named
 * here are kept exactly as they were.
 */
export interface KubeletEditPlan {
    /** Flag files, in "auto" detection order, each with the variable that holds the flags. */
    flagFiles: { path: string; variable: string }[];
    /** Path of the flags file to add `set` flags to; "auto" = the first of flagFiles that exists. */
    primary: string;
    /** Flags set in the primary file (added when missing). */
    set: [string, string][];
    /** Flags rewritten wherever they already appear, never added. */
    setIfPresent: [string, string][];
    /** Flags dropped from every flags file. */
    remove: string[];
    /** KubeletConfiguration keys set (added when missing) when the file exists. */
    configSet: [string, string][];
    /** KubeletConfiguration keys rewritten only where present. */
    configSetIfPresent: [string, string][];
    /** Add --cgroup-driver to the primary file when neither a flag nor the config file sets it. */
    cgroupDriver: "systemd" | "cgroupfs";
    /**
     * Container log rotation (kubelet.containerLogMaxSize/Files): [KubeletConfiguration key,
     * value, flag]. Set in the config file when it exists, else as the flag in the primary file.
     */
    logRotation: [string, string, string][];
}

/**
 * The kubelet's flag files, as the node library's CN_KUBELET_FLAG_FILES lists them (a unit test
 * holds the two equal; a step whose files differ gives its own), with the `kubelet.flagsLocation`
 * that names each.
 */
export const KUBELET_FLAG_FILES = [
    { path: "/var/lib/kubelet/kubeadm-flags.env", variable: "KUBELET_KUBEADM_ARGS", location: "kubeadm-flags" },
    { path: "/etc/default/kubelet", variable: "KUBELET_EXTRA_ARGS", location: "default" },
    { path: "/etc/sysconfig/kubelet", variable: "KUBELET_EXTRA_ARGS", location: "sysconfig" },
] as const;

/**
 * Flags only dockershim understood; a 1.24+ kubelet refuses to start with any of them. The node
 * library's list (CN_DOCKERSHIM_FLAGS), which a step names rather than spells out.
 */
export const DOCKERSHIM_FLAGS: readonly string[] = nodeLibConstant("CN_DOCKERSHIM_FLAGS").split(" ");

export function kubeletEditPlan(spec: NodeSpec): KubeletEditPlan | undefined {
    const k = spec.kubelet;
    if (!k) {
        return undefined;
    }
    const endpoint = `unix://${spec.config.socket}`;
    const cgroupDriver = spec.config.systemdCgroup ? "systemd" : "cgroupfs";
    const viaConfig = k.flagsLocation === "config";
    const set: [string, string][] = [];
    const remove = ["--image-service-endpoint"];
    const setIfPresent: [string, string][] = [["--cgroup-driver", cgroupDriver]];

    if (!atLeast(k.version, 1, 27)) {
        set.push(["--container-runtime", "remote"], ["--container-runtime-endpoint", endpoint]);
    } else {
        remove.push("--container-runtime");
        if (viaConfig) {
            remove.push("--container-runtime-endpoint");
        } else {
            set.push(["--container-runtime-endpoint", endpoint]);
        }
    }
    if (atLeast(k.version, 1, 24)) {
        remove.push(...DOCKERSHIM_FLAGS);
    }
    // The sandbox image is containerd's setting now (config.sandboxImage). The flag is gone in
    // 1.35 and only pins the image against GC before; a stale value there would just mislead, and
    // keeping it out lets a sandbox image change touch the config's lines alone.
    remove.push("--pod-infra-container-image");

    // Where Docker's json-file log-opts rotated container logs, the kubelet does under containerd.
    const logRotation: [string, string, string][] = [
        ...(k.containerLogMaxSize !== undefined ? [["containerLogMaxSize", k.containerLogMaxSize, "--container-log-max-size"] as [string, string, string]] : []),
        ...(k.containerLogMaxFiles !== undefined ? [["containerLogMaxFiles", String(k.containerLogMaxFiles), "--container-log-max-files"] as [string, string, string]] : []),
    ];
    // A flag wins over the config file: one already there is rewritten too.
    setIfPresent.push(...logRotation.map(([, v, flag]) => [flag, v] as [string, string]));

    const primaryFile = KUBELET_FLAG_FILES.find(f => f.location === k.flagsLocation);
    return {
        flagFiles: KUBELET_FLAG_FILES.map(f => ({ path: f.path, variable: f.variable })),
        primary: primaryFile ? primaryFile.path : viaConfig ? "none" : "auto",
        set,
        setIfPresent,
        remove,
        configSet: [["cgroupDriver", cgroupDriver], ...(viaConfig ? [["containerRuntimeEndpoint", endpoint] as [string, string]] : [])],
        configSetIfPresent: viaConfig ? [] : [["containerRuntimeEndpoint", endpoint]],
        cgroupDriver,
        logRotation,
    };
}
