import { NodeSpec } from "../spec";

/** /etc/crictl.yaml: crictl talks to containerd instead of probing the dockershim socket first. */
export function renderCrictlYaml(spec: NodeSpec): string {
    const endpoint = `unix://${spec.config.socket}`;
    return `# Managed by containerd-node (Pulumi).
runtime-endpoint: ${endpoint}
image-endpoint: ${endpoint}
timeout: 10
`;
}
