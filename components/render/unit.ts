import { fillNodeTemplate } from "../nodeFiles";
import { NodeSpec } from "../spec";

/**
 * The values of containerd.service's template (the node library's CN_UNIT_TEMPLATE, which says
 * why its lines are what they are), as the configure step sets them: the library writes the unit
 * from them on the node, so the step's text carries these lines and not the unit.
 */
export function unitValues(spec: NodeSpec): [string, string][] {
    const u = spec.unit;
    return [["BIN_DIR", spec.containerd.binDir], ["LIMIT_NOFILE", u.limitNOFILE], ["TASKS_MAX", u.tasksMax], ["OOM_SCORE_ADJUST", String(u.oomScoreAdjust)]];
}

/** containerd.service, as the node library writes it (its CN_UNIT_TEMPLATE says why each line is there). */
export function renderUnit(spec: NodeSpec): string {
    return fillNodeTemplate("CN_UNIT_TEMPLATE", Object.fromEntries(unitValues(spec)));
}
