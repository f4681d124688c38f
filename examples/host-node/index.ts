/**
 * One node in host mode: containerd installed and configured, Docker's containers and images
 * kept, the kubelet's flags pointed at containerd for when it starts. What a provisioning stack
 * does to a machine before the machine joins a cluster (no cordon, drain or API check: there is
 * no Node yet).
 */
import * as pulumi from "@pulumi/pulumi";
import { ContainerdNode, ContainerdNodeArgs } from "../../components"; // in your project: "containerd-node"

export = async function main() {
    const cfg = new pulumi.Config();
    const node = new ContainerdNode("node", {
        connection: {
            host: cfg.require("host"),
            port: cfg.getNumber("port"),
            privateKey: cfg.requireSecret("privateKey"),
            hostKey: cfg.require("hostKey"),
        },
        containerd: cfg.requireObject<ContainerdNodeArgs["containerd"]>("containerd"),
        kubelet: cfg.getObject<ContainerdNodeArgs["kubelet"]>("kubelet"),
        docker: { mode: "disable" },
    });
    return { runtimeBefore: node.runtimeBefore, runtimeAfter: node.runtimeAfter, path: node.path };
};
