/**
 * Part of a cluster provisioning stack: the cluster's kubeconfig comes in as an Output (a secret),
 * a Kubernetes provider is made with it, workloads are deployed with @pulumi/kubernetes (a
 * Deployment guarded by a PodDisruptionBudget, a DaemonSet), and the nodes under them are moved to
 * containerd by a ContainerdFleet that depends on those workloads: the budget is in place before
 * the first drain, and the drains move real pods.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerdFleet, FleetSettings } from "../../components"; // in your project: "containerd-node"

interface NodeConfig {
    name: string;
    host: string;
    port?: number;
    hostKey: string;
}

export = async function main() {
    const cfg = new pulumi.Config();
    // As the program that made the cluster has it; from another stack:
    // new pulumi.StackReference("org/cluster/prod").requireOutput("kubeconfig").
    const kubeconfig = cfg.requireSecret("kubeconfig");
    const provider = new k8s.Provider("cluster", { kubeconfig });

    const image = cfg.get("image") ?? "registry.k8s.io/pause:3.10";
    const command = cfg.getObject<string[]>("command");
    // Extra pod settings a particular cluster needs (the lab: host networking).
    const podExtras = cfg.getObject<Partial<k8s.types.input.core.v1.PodSpec>>("podSpec") ?? {};
    const container = { name: "main", image, command, imagePullPolicy: cfg.get("imagePullPolicy") ?? "IfNotPresent" };

    const ns = new k8s.core.v1.Namespace("apps", { metadata: { name: "apps" } }, { provider });
    const web = { app: "web" };
    const deployment = new k8s.apps.v1.Deployment("web", {
        metadata: { name: "web", namespace: ns.metadata.name },
        spec: {
            replicas: 2,
            selector: { matchLabels: web },
            template: { metadata: { labels: web }, spec: { ...podExtras, terminationGracePeriodSeconds: 1, containers: [container] } },
        },
    }, { provider });
    const budget = new k8s.policy.v1.PodDisruptionBudget("web", {
        metadata: { name: "web", namespace: ns.metadata.name },
        spec: { minAvailable: 1, selector: { matchLabels: web } },
    }, { provider });
    const agent = { app: "agent" };
    const daemonSet = new k8s.apps.v1.DaemonSet("agent", {
        metadata: { name: "agent", namespace: ns.metadata.name },
        spec: {
            selector: { matchLabels: agent },
            template: { metadata: { labels: agent }, spec: { ...podExtras, terminationGracePeriodSeconds: 1, containers: [container] } },
        },
    }, { provider });

    const fleet = new ContainerdFleet("nodes", {
        nodes: cfg.requireObject<NodeConfig[]>("nodes").map(n => ({
            name: n.name,
            connection: { host: n.host, port: n.port, hostKey: n.hostKey, privateKey: cfg.requireSecret("privateKey") },
        })),
        settings: cfg.requireObject<FleetSettings>("settings"),
        kubernetes: { kubeconfig: { content: kubeconfig }, kubectl: cfg.get("kubectl") },
        maxUnavailable: 1,
    }, { dependsOn: [deployment, budget, daemonSet] });

    return { table: fleet.table };
};
