/**
 * A whole cluster by discovery: the Nodes of a label selector, each reached at its InternalIP
 * with one connection template, host keys pinned from a known_hosts file. Converted in waves with
 * cordon, drain, verify and uncordon; a Node that joins later is converted at the next `up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { ContainerdFleet, FleetSettings } from "../../components"; // in your project: "containerd-node"

export = async function main() {
    const cfg = new pulumi.Config();
    const fleet = await ContainerdFleet.fromCluster("cluster", {
        kubernetes: { kubeconfig: { content: cfg.requireSecret("kubeconfig") }, kubectl: cfg.get("kubectl") },
        discover: {
            selector: cfg.get("selector"),
            connection: { user: cfg.get("user"), port: cfg.getNumber("sshPort"), privateKey: cfg.requireSecret("privateKey") },
            hostKeys: { knownHostsFile: cfg.require("knownHostsFile") },
        },
        settings: cfg.requireObject<FleetSettings>("settings"),
        maxUnavailable: cfg.get("maxUnavailable") ?? "25%",
    });
    return { table: fleet.table, waves: fleet.waves };
};
