/**
 * Helpers of the Kubernetes files (k8s.e2e.ts, k8s-budget.e2e.ts): the lab cluster (lab/*.sh,
 * kubectl with its admin kubeconfig), the ports of their nodes, the stack settings, and the
 * workloads the nodes carry while they are converted.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { clusterSettings, KUBECTL, LAB_DIR, onNode, REPO } from "./lab";

export const ADMIN = path.join(LAB_DIR, "cluster", "admin.conf");
export const SSH_PORT: { [n: string]: number } = { "k8s-a": 2241, "k8s-b": 2242, "k8s-c": 2243, "k8s-d": 2244, "k8s-e": 2245, "k8s-f": 2246 };
export const KUBELET_PORT: { [n: string]: number } = { "k8s-a": 10350, "k8s-b": 10352, "k8s-c": 10354, "k8s-d": 10356, "k8s-e": 10358, "k8s-f": 10360 };

export const kubectl = (...args: string[]) => execFileSync(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });
export const kubectlAsync = (...args: string[]) => promisify(execFile)(KUBECTL, ["--kubeconfig", ADMIN, ...args], { encoding: "utf8" });
export const jp = (node: string, path: string) => kubectl("get", "node", node, "-o", `jsonpath={${path}}`);
export const lab = (script: string, ...args: string[]) =>
    execFileSync(path.join(REPO, "lab", script), args, { stdio: "inherit", env: { ...process.env, LAB_DIR } });

export const settings = clusterSettings;

/** The node's kubeadm-flags.env, which the switch edits and a rollback restores. */
export const kubeadmFlags = (n: string) => onNode(n, "cat /var/lib/kubelet/kubeadm-flags.env");

/** Kubeconfig files on the machine running pulumi: the reads' (made and removed by each) and the steps' (written by the program at up). */
export const kubeconfigFiles = () => {
    const own = path.join(os.tmpdir(), `containerd-node-${process.getuid!()}`);
    return [
        ...fs.readdirSync(os.tmpdir()).filter(f => f.startsWith("containerd-node-kubeconfig.")),
        ...(fs.existsSync(own) ? fs.readdirSync(own).filter(f => f.startsWith("kubeconfig-")).map(f => path.join(path.basename(own), f)) : []),
    ].sort();
};

export function podsOn(node: string, selector: string): string[] {
    return kubectl("get", "pods", "-A", "-l", selector, "--field-selector", `spec.nodeName=${node}`, "-o", "jsonpath={.items[*].metadata.name}")
        .split(/\s+/).filter(Boolean);
}

/** The workloads' namespace. */
export const NAMESPACE = `
apiVersion: v1
kind: Namespace
metadata: {name: apps}
`;

/** Two web pods behind a PodDisruptionBudget that lets one go at a time. */
export const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      containers:
      - {name: web, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"],
         volumeMounts: [{name: scratch, mountPath: /scratch}]}
      volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: apps}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
`;

/** A pod on every node: a drain leaves it, and the health gate waits for it to run again on containerd. */
export const AGENT = `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: apps}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 1
      containers:
      - {name: agent, image: "lab/busybox:1", imagePullPolicy: Never, command: ["/bin/busybox", "sleep", "1000000"]}
`;

export const WORKLOADS = [NAMESPACE, WEB, AGENT].join("---");

export function apply(yaml: string): void {
    execFileSync(KUBECTL, ["--kubeconfig", ADMIN, "apply", "-f", "-"], { input: yaml, stdio: ["pipe", "inherit", "inherit"] });
}
