/**
 * Whether the node can run the target containerd: its kubelet against containerd's support table,
 * its glibc against the dynamic release build, its cgroup version against containerd and the
 * kubelet (the table is containerd 2.3's RELEASES.md, "Kubernetes support":
 * https://github.com/containerd/containerd/blob/main/RELEASES.md).
 */
import * as path from "path";
import { InstallSource } from "./args";
import { atLeast, compareVersions, parseVersion, Version } from "./versions";

export type CompatCheck = "kubelet" | "glibc" | "cgroup";

export type Verdict =
    | { check: CompatCheck; status: "ok"; detail: string }
    | { check: CompatCheck; status: "warning"; warning: string }
    | { check: CompatCheck; status: "refused"; reason: string };

/** Per Kubernetes minor: the first supported release of each containerd minor branch. */
export const KUBERNETES_CONTAINERD: { readonly [kubernetes: string]: readonly string[] } = {
    "1.32": ["2.1.0", "2.0.1", "1.7.24", "1.6.36"],
    "1.33": ["2.1.0", "2.0.4", "1.7.24", "1.6.36"],
    "1.34": ["2.1.3", "2.0.6", "1.7.28", "1.6.39"],
    "1.35": ["2.2.0", "2.1.5", "1.7.28"],
    "1.36": ["2.3.0", "2.2.0"],
};

/**
 * containerd's release lines still supported in December 2026 and until when (RELEASES.md,
 * "Current State of containerd Releases"): 2.3 is the LTS line, 2.0 in extended support. 2.2
 * ended on 2026-11-06, 1.7's extended support in September 2026, 1.6 in August 2025.
 */
export const CONTAINERD_SUPPORTED_LINES: { readonly [line: string]: { readonly status: "LTS" | "extended"; readonly until: string } } = {
    "2.3": { status: "LTS", until: "2028-04-30" },
    "2.0": { status: "extended", until: "2027-03" },
};

const v = (text: string) => parseVersion(text) as Version;
const plus = (list: readonly string[]) => list.map(x => `${x}+`).join(", ");

/** The kubelet `kubelet` against containerd `target`. */
export function kubeletVerdict(kubelet: Version, target: Version): Verdict {
    const check = "kubelet";
    if (!atLeast(kubelet, 1, 23) && target.major >= 2) {
        return { check, status: "refused", reason: `kubelet ${kubelet.text} speaks only CRI v1alpha2, which containerd 2.0 removed: upgrade the kubelet (1.32+ for a pairing containerd supports) before containerd ${target.text}` };
    }
    const minors = Object.keys(KUBERNETES_CONTAINERD).map(v);
    const row = KUBERNETES_CONTAINERD[`${kubelet.major}.${kubelet.minor}`];
    if (!row) {
        const newer = compareVersions(kubelet, minors[minors.length - 1]) > 0;
        return { check, status: "warning", warning: `kubelet ${kubelet.text} is ${newer ? "newer" : "older"} than containerd's support table (Kubernetes ${minors[0].text}–${minors[minors.length - 1].text}): kubelet ${kubelet.text} with containerd ${target.text} is untested` };
    }
    const first = row.map(v).find(f => f.major === target.major && f.minor === target.minor);
    const needs = `kubelet ${kubelet.text} needs containerd ${plus(row)} (containerd's support table)`;
    if (first === undefined) {
        if (compareVersions(target, v(row[0])) <= 0) {
            return { check, status: "refused", reason: `${needs}, got ${target.text}` };
        }
        // A line the table lists for later Kubernetes releases (2.3 from 1.36) is in the table,
        // not newer than it: only this pairing is one containerd does not test.
        const line = `${target.major}.${target.minor}`;
        const from = Object.keys(KUBERNETES_CONTAINERD).find(k => KUBERNETES_CONTAINERD[k].some(x => x.startsWith(`${line}.`)));
        const support = CONTAINERD_SUPPORTED_LINES[line];
        const what = support ? `containerd ${line} (${support.status === "LTS" ? "the LTS line" : "in extended support"}, supported to ${support.until})` : `containerd ${line}`;
        return from
            ? { check, status: "warning", warning: `${what} is listed from Kubernetes ${from}; for kubelet ${kubelet.text} containerd's support table lists ${plus(row)}: a pairing containerd does not test (upgrade the kubelet to ${from}+ for a tested one)` }
            : { check, status: "warning", warning: `containerd ${target.text} is newer than containerd's support table lists for kubelet ${kubelet.text} (${plus(row)}): untested` };
    }
    if (target.patch === undefined && first.patch !== 0) {
        return { check, status: "refused", reason: `${needs}: declare the full containerd version (e.g. "${first.text}") so it can be checked` };
    }
    return compareVersions(target, first) >= 0
        ? { check, status: "ok", detail: `kubelet ${kubelet.text} with containerd ${target.text}: supported (${first.text}+)` }
        : { check, status: "refused", reason: `${needs}, got ${target.text}` };
}

export type Libc = { kind: "glibc"; version: Version } | { kind: "other"; text: string };

/** Parses `getconf GNU_LIBC_VERSION` ("glibc 2.36") or the first line of `ldd --version`. */
export function parseLibc(text: string): Libc {
    const first = text.trim().split("\n")[0] ?? "";
    const m = /^glibc (\d+\.\d+)/i.exec(first) ?? (/glibc|gnu libc/i.test(first) ? /(\d+\.\d+)\s*$/.exec(first) : null);
    const version = m ? parseVersion(m[1]) : undefined;
    return version ? { kind: "glibc", version } : { kind: "other", text: first };
}

/**
 * The release tarball's glibc floor: 2.31 for 1.7 and 2.0, 2.35 from 2.1 (the releases' notes,
 * "Which file should I download?"; built on Ubuntu 22.04 since containerd/containerd#11685).
 */
export function glibcNeeded(target: Version): Version | undefined {
    if (!atLeast(target, 1, 7)) {
        return undefined;
    }
    return atLeast(target, 2, 1) ? v("2.35") : v("2.31");
}

/** The node's libc against the containerd build `source` installs. */
export function glibcVerdict(libc: Libc, target: Version, source: InstallSource): Verdict {
    const check = "glibc";
    if (source.kind === "package" || source.kind === "docker") {
        return { check, status: "ok", detail: "a distribution package, built for the node's own libc" };
    }
    const file = source.kind === "tarball" ? source.url : source.path;
    const need = glibcNeeded(target);
    if (/(^|\/)containerd-static-[^/]*$/.test(file) || need === undefined) {
        return { check, status: "ok", detail: need ? "the static build needs no glibc" : `no glibc floor is known for containerd ${target.text}` };
    }
    const has = libc.kind === "glibc" ? `glibc ${libc.version.text}` : `no glibc (${JSON.stringify(libc.text)})`;
    if (libc.kind === "glibc" && compareVersions(libc.version, need) >= 0) {
        return { check, status: "ok", detail: `${has} ≥ ${need.text}` };
    }
    const base = path.posix.basename(file);
    const staticName = base.startsWith("containerd-") ? base.replace(/^containerd-/, "containerd-static-") : `containerd-static-${target.text}-linux-<arch>.tar.gz`;
    return { check, status: "refused", reason: `containerd ${target.text}'s dynamic build needs glibc ${need.text}+, the node has ${has}: install the static build ${staticName} (its own sha256)` };
}

export type CgroupVersion = "v1" | "v2";

/** Parses `stat -fc %T /sys/fs/cgroup/`: cgroup2fs is v2, tmpfs v1 or hybrid. */
export function parseCgroupFs(stdout: string): CgroupVersion {
    const fs = stdout.trim();
    if (fs === "cgroup2fs" || fs === "tmpfs") {
        return fs === "cgroup2fs" ? "v2" : "v1";
    }
    throw new Error(`stat -fc %T /sys/fs/cgroup/: expected "cgroup2fs" or "tmpfs", got ${JSON.stringify(fs)}`);
}

/**
 * The cgroup version reported, then what it means for the target and the kubelet.
 * `failCgroupV1` is the kubelet configuration's value as the caller knows it (unset: true).
 */
export function cgroupVerdicts(cgroup: CgroupVersion, target: Version, kubelet?: Version, failCgroupV1?: boolean): Verdict[] {
    const check = "cgroup";
    if (cgroup === "v2") {
        return [{ check, status: "ok", detail: "cgroup v2 (cgroup2fs)" }];
    }
    const out: Verdict[] = [{ check, status: "ok", detail: "cgroup v1 or hybrid (tmpfs)" }];
    if (kubelet && atLeast(kubelet, 1, 35) && failCgroupV1 !== false) {
        out.push({ check, status: "refused", reason: `kubelet ${kubelet.text} refuses a cgroup v1 host unless its KubeletConfiguration sets failCgroupV1: false (KEP-5573); it is restarted after the swap` });
    }
    if (atLeast(target, 2, 2)) {
        out.push({ check, status: "warning", warning: `containerd ${target.text} deprecates cgroup v1 (removal no later than May 2029): plan the move to cgroup v2` });
    }
    return out;
}
