/** Version arithmetic and the version tables of containerd and the kubelet (containerd: https://containerd.io/releases/; the kubelet: https://kubernetes.io/releases/version-skew-policy/). */

export interface Version {
    major: number;
    minor: number;
    /** Undefined when only "X.Y" was given. */
    patch?: number;
    /** The text as given, without a leading "v". */
    text: string;
}

const VERSION_RE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~][0-9A-Za-z.+~-]*)?$/;

/** Parses "1.6", "v2.1.4", "1.6.20~ds1"; undefined when it is not a version. */
export function parseVersion(text: string): Version | undefined {
    const m = VERSION_RE.exec(text.trim());
    if (!m) {
        return undefined;
    }
    return {
        major: Number(m[1]),
        minor: Number(m[2]),
        patch: m[3] === undefined ? undefined : Number(m[3]),
        text: text.trim().replace(/^v/, ""),
    };
}

/** Compares major.minor.patch (a missing patch counts as 0). */
export function compareVersions(a: Version, b: Version): number {
    return a.major - b.major || a.minor - b.minor || (a.patch ?? 0) - (b.patch ?? 0);
}

export function atLeast(v: Version, major: number, minor: number, patch = 0): boolean {
    return compareVersions(v, { major, minor, patch, text: "" }) >= 0;
}

/**
 * The config.toml schema rendered for a containerd version: its own config version, as
 * kubespray and AKS render it (2 for 1.x, which refuses anything above; 3 for 2.0–2.2; 4 from
 * 2.3, which exits on a drop-in of a higher version than the root's, so a version 3 root can't
 * import the version 4 drop-ins written on 2.3 nodes). 2.0–2.2 exit on a version 4 file: a move
 * back below 2.3 needs its own version's file, which the rendered config is.
 */
export function configSchemaVersion(containerd: Version): 2 | 3 | 4 {
    return containerd.major < 2 ? 2 : atLeast(containerd, 2, 3) ? 4 : 3;
}

/**
 * The highest config version a containerd version reads (its `version.ConfigVersion`): 2 on 1.x
 * (1.6.32+ and 1.7.17+ exit on a higher one), 3 on 2.0–2.2, 4 from 2.3.
 */
export function maxConfigVersion(containerd: Version): number {
    return containerd.major < 2 ? 2 : atLeast(containerd, 2, 3) ? 4 : 3;
}

/**
 * Kubernetes 1.26+ needs CRI v1, served by containerd 1.6.15 and later: the rule below the
 * support table (compat.ts kubeletVerdict, which the spec checks first).
 */
export function kubeletCompatibilityProblem(kubelet: Version, containerd: Version): string | undefined {
    if (atLeast(kubelet, 1, 26) && !atLeast(containerd, 1, 6, 15)) {
        const hint = containerd.patch === undefined && containerd.major === 1 && containerd.minor === 6
            ? ` (declare the full version, e.g. "1.6.20", so that it can be checked)` : "";
        return `kubelet ${kubelet.text} needs containerd 1.6.15 or later, got ${containerd.text}${hint}`;
    }
    return undefined;
}

/**
 * True when the runtime version a node reports (`containerd://1.6.20~ds1`, `v2.1.4`) is the declared
 * one: equal, or the declared text followed by a separator ("1.6" matches "1.6.20").
 */
export function runtimeVersionMatches(reported: string, declared: string): boolean {
    const got = reported.replace(/^containerd:\/\//, "").replace(/^v/, "");
    const want = declared.replace(/^v/, "");
    return got === want || (got.startsWith(want) && /^[.~+-]/.test(got.slice(want.length)));
}

/** Whether kubeadm's `cri-socket` node annotation is still read (it moved to instance-config in 1.34). */
export function usesCriSocketAnnotation(kubelet: Version): boolean {
    return !atLeast(kubelet, 1, 34);
}
