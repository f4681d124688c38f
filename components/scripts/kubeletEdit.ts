/** The kubelet flag and config edits as node bash (the awk programs they run are in the node library). */
import { nodeLibConstant } from "../nodeFiles";
import { DOCKERSHIM_FLAGS, KubeletEditPlan } from "../render/kubeletFlags";
import { stepValues } from "./shell";

/** The node library's flag files (the default of its FLAG_FILES). */
const LIB_FLAG_FILES = nodeLibConstant("CN_KUBELET_FLAG_FILES");

function pairs(list: [string, string][]): string {
    return list.map(([k, v]) => `${k}=${v}`).join(" ");
}

/**
 * The plan as the values the node library's cn_kubelet_edit reads (components/node/lib.sh says
 * what each is); with the kubelet's config file. The library's own lists, the same on every node,
 * are named rather than spelled out (the state keeps a step's text twice): the dockershim flags
 * as REMOVE_DOCKERSHIM=1, and the flag files not at all unless they differ from its own.
 */
export function kubeletEditValues(plan: KubeletEditPlan, configPath: string): [string, string][] {
    const shim = DOCKERSHIM_FLAGS.every(f => plan.remove.includes(f));
    const flagFiles = plan.flagFiles.map(f => `${f.path}:${f.variable}`).join("\n");
    return [
        ["SET_FLAGS", pairs(plan.set)],
        ["IFSET_FLAGS", pairs(plan.setIfPresent)],
        ["REMOVE_FLAGS", plan.remove.filter(f => !(shim && DOCKERSHIM_FLAGS.includes(f))).join(" ")],
        ...(shim ? [["REMOVE_DOCKERSHIM", "1"] as [string, string]] : []),
        ["KUBELET_CONFIG", configPath],
        ["PRIMARY", plan.primary],
        ...(flagFiles === LIB_FLAG_FILES ? [] : [["FLAG_FILES", flagFiles] as [string, string]]),
        ["CONFIG_SET", [...plan.configSet.map(([k, v]) => `${k}\t${v}\t1`), ...plan.configSetIfPresent.map(([k, v]) => `${k}\t${v}\t0`)].join("\n")],
        ["CGROUP_SYSTEMD", plan.cgroupDriver === "systemd" ? "1" : "0"],
        // Only when set: a step that sets none keeps the text it had.
        ...(plan.logRotation.length > 0 ? [["LOG_ROTATION", plan.logRotation.map(r => r.join("\t")).join("\n")] as [string, string]] : []),
    ];
}

/**
 * Bash that applies the plan on the node (the library's cn_kubelet_edit, through `put`, so every
 * file is saved first).
 */
export function renderKubeletEdit(plan: KubeletEditPlan, configPath: string): string {
    return `${stepValues(kubeletEditValues(plan, configPath))}cn_kubelet_edit
`;
}
