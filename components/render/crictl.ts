import { fillNodeTemplate } from "../nodeFiles";
import { NodeSpec } from "../spec";

/** The values of /etc/crictl.yaml's template (the node library's CN_CRICTL_TEMPLATE), as the configure step sets them. */
export function crictlValues(spec: NodeSpec): [string, string][] {
    return [["SOCKET", spec.config.socket]];
}

/**
 * /etc/crictl.yaml, as the node library writes it: crictl talks to containerd instead of probing
 * the dockershim socket first.
 */
export function renderCrictlYaml(spec: NodeSpec): string {
    return fillNodeTemplate("CN_CRICTL_TEMPLATE", Object.fromEntries(crictlValues(spec)));
}
