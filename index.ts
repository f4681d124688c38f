/**
 * The stack program: reads the nodes and the desired containerd settings from stack config and
 * converts the nodes one after another (each starts when the previous one is verified).
 *
 *   containerd-node:nodes        [{ name, host, port?, user?, hostKey?, nodeName? }, …]
 *   containerd-node:privateKey   (secret) SSH private key text, or
 *   containerd-node:privateKeyPath  path of the key file on this machine
 *   containerd-node:containerd   { version, source, runc?, cni? }       (ContainerdNodeArgs.containerd)
 *   containerd-node:config       ContainerdConfigArgs (optional)
 *   containerd-node:unit         SystemdUnitArgs (optional)
 *   containerd-node:kubelet      KubeletArgs (optional; required with kubeconfig)
 *   containerd-node:docker       DockerArgs (optional)
 *   containerd-node:kubeconfig   path; enables cordon/drain/verify/uncordon (optional)
 *   containerd-node:kubectl      kubectl binary on this machine (optional; default "kubectl" on PATH)
 *   containerd-node:drain        DrainArgs (optional)
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import {
    ContainerdConfigArgs, ContainerdNode, ContainerdNodeArgs, DockerArgs, DrainArgs, KubeletArgs, SystemdUnitArgs,
} from "./components";

interface NodeEntry {
    name: string;
    host: string;
    port?: number;
    user?: string;
    hostKey?: string;
    /** Kubernetes Node name; defaults to `name`. */
    nodeName?: string;
}

/**
 * The program as a function, so that it runs both as a plain `pulumi up` project (the Node.js
 * language host calls an exported function and uses its result as the stack outputs) and as an
 * Automation API inline program (scripts/stack.ts, tests/e2e), which needs no language host.
 */
export = async function main(): Promise<{ runtimes: pulumi.Output<{ [node: string]: { before: string; after: string } }> }> {
    const cfg = new pulumi.Config();
    const nodes = cfg.requireObject<NodeEntry[]>("nodes");
    const keyPath = cfg.get("privateKeyPath");
    const privateKey = cfg.getSecret("privateKey")
        ?? (keyPath ? pulumi.secret(fs.readFileSync(keyPath, "utf8")) : undefined);
    const kubeconfig = cfg.get("kubeconfig");
    const kubeletArgs = cfg.getObject<KubeletArgs>("kubelet");
    const verifyTimeoutSeconds = cfg.getNumber("verifyTimeoutSeconds");

    let previous: pulumi.Resource | undefined;
    const converted: ContainerdNode[] = [];
    for (const n of nodes) {
        const args: ContainerdNodeArgs = {
            connection: { host: n.host, port: n.port, user: n.user, hostKey: n.hostKey, privateKey },
            containerd: cfg.requireObject<ContainerdNodeArgs["containerd"]>("containerd"),
            config: cfg.getObject<ContainerdConfigArgs>("config"),
            unit: cfg.getObject<SystemdUnitArgs>("unit"),
            kubelet: kubeletArgs,
            docker: cfg.getObject<DockerArgs>("docker"),
            kubernetes: kubeconfig ? {
                kubeconfig,
                kubectl: cfg.get("kubectl"),
                nodeName: n.nodeName ?? n.name,
                drain: cfg.getObject<DrainArgs>("drain"),
                verifyTimeoutSeconds,
            } : undefined,
        };
        const node: ContainerdNode = new ContainerdNode(n.name, args, { dependsOn: previous ? [previous] : [] });
        previous = node.done;
        converted.push(node);
    }

    const runtimes = pulumi.all(converted.map(n => pulumi.all([n.runtimeBefore, n.runtimeAfter])))
        .apply(list => Object.fromEntries(list.map(([before, after], i) => [nodes[i].name, { before, after }])));
    return { runtimes };
};
