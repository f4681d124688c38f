/** The kubelet flag and config edits as node bash (the awk programs they run are in the node library). */
import { KubeletEditPlan } from "../render/kubeletFlags";
import { stepValues } from "./shell";

function pairs(list: [string, string][]): string {
    return list.map(([k, v]) => `${k}=${v}`).join(" ");
}

/**
 * The plan as the values the node library's cn_kubelet_edit reads (components/node/lib.sh says
 * what each is); with the kubelet's config file.
 */
export function kubeletEditValues(plan: KubeletEditPlan, configPath: string): [string, string][] {
    return [
        ["SET_FLAGS", pairs(plan.set)],
        ["IFSET_FLAGS", pairs(plan.setIfPresent)],
        ["REMOVE_FLAGS", plan.remove.join(" ")],
        ["KUBELET_CONFIG", configPath],
        ["PRIMARY", plan.primary],
        ["FLAG_FILES", plan.flagFiles.map(f => `${f.path}:${f.variable}`).join("\n")],
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
