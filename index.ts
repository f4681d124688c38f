/**
 * The stack program: reads the nodes and the desired containerd settings from stack config and
 * converts the nodes in waves (ContainerdFleet): every node is checked first, a wave starts when
 * the previous one passed its health gates, and the first failure stops the rollout.
 *
 *   containerd-node:nodes        [{ name, host, port?, user?, hostKey?, nodeName?, controlPlane?, order?, overrides? }, …]
 *   containerd-node:privateKey   (secret) SSH private key text, or
 *   containerd-node:privateKeyPath  path of the key file on this machine, or
 *   containerd-node:sshAgent     true: the ssh-agent in SSH_AUTH_SOCK holds the key (nothing of it in the state)
 *   containerd-node:containerd   { version, source, runc?, cni? }       (ContainerdNodeArgs.containerd)
 *   containerd-node:config       ContainerdConfigArgs (optional; registryAuth goes in the key below)
 *   containerd-node:registryAuth (secret) { HOST: { username?, password?, auth?, identityToken? } } (optional)
 *   containerd-node:proxy        (secret) { httpProxy?, httpsProxy?, noProxy? }: containerd's proxy environment (optional)
 *   containerd-node:upgrade      UpgradeArgs: { drain?, acknowledgeDropped? } (optional)
 *   containerd-node:unit         SystemdUnitArgs (optional)
 *   containerd-node:kubelet      KubeletArgs (optional; required with kubeconfig)
 *   containerd-node:docker       DockerArgs (optional)
 *   containerd-node:tools        ToolsArgs: { buildkit?: { version, source }, crictl?: { version, source } } (optional)
 *   containerd-node:discover     instead of nodes: { selector?, addressType?, user?, port?, knownHostsFile?,
 *                                hostKeys?: { NODE: key }, allowUnpinned? } (needs a kubeconfig)
 *   containerd-node:kubeconfig   path; enables cordon/drain/verify/uncordon (optional)
 *   containerd-node:kubeconfigContent (secret) the kubeconfig's text instead of a path (optional)
 *   containerd-node:kubectl      kubectl binary on this machine (optional; default "kubectl" on PATH)
 *   containerd-node:drain        DrainArgs (optional)
 *   containerd-node:verifyTimeoutSeconds  (optional)
 *   containerd-node:maxUnavailable  count or "N%" (optional; default 1)
 *   containerd-node:failureBudget   count or "N%" of nodes that may fail before the rollout stops (optional; default 0)
 *   containerd-node:absorbFailures  true: a failed node is counted even with no budget left (optional; upFleetStacks sets it)
 *   containerd-node:controlPlane "first" | "last" (optional)
 *   containerd-node:healthGate   { probes?, timeoutSeconds?, pauseSecondsBetweenWaves? } (optional)
 *   containerd-node:acknowledgeDockerSocketPods  true to convert although pods mount docker.sock
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { ContainerdConfigArgs, ContainerdFleet, ContainerdFleetArgs, FleetNodeArgs, FleetSettings, HealthGateArgs, NodeAddressType, ProxyArgs, RegistryAuthArgs } from "./components";

interface NodeEntry {
    name: string;
    host: string;
    port?: number;
    user?: string;
    hostKey?: string;
    /** Kubernetes Node name; defaults to `name`. */
    nodeName?: string;
    controlPlane?: boolean;
    order?: number;
    overrides?: Partial<FleetSettings>;
}

/** `discover` in stack config: the fleet's nodes found from the cluster (see DiscoveryArgs). */
interface DiscoverConfig {
    selector?: string;
    addressType?: NodeAddressType;
    user?: string;
    port?: number;
    knownHostsFile?: string;
    /** Host key per Node name. */
    hostKeys?: { [node: string]: string };
    allowUnpinned?: boolean;
}

/**
 * `registryAuth` from stack config (`pulumi config set --secret --path 'registryAuth["HOST"].password' …`),
 * every value a secret Output. Which hosts and fields are set is read from the raw config (not a
 * secret), so the component knows its steps when it is built.
 */
function registryAuth(cfg: pulumi.Config): ContainerdConfigArgs["registryAuth"] {
    const raw = pulumi.runtime.getConfig(`${cfg.name}:registryAuth`);
    if (raw === undefined) {
        return undefined;
    }
    const shape = JSON.parse(raw) as { [host: string]: { [field: string]: unknown } };
    const values = cfg.requireSecretObject<typeof shape>("registryAuth");
    return Object.fromEntries(Object.entries(shape).map(([host, fields]) => [host,
        Object.fromEntries(Object.keys(fields ?? {}).map(f => [f, values.apply(v => String(v[host][f]))])) as RegistryAuthArgs]));
}

/**
 * `proxy` from stack config (`pulumi config set --secret --path proxy.httpProxy …`), each value a
 * secret Output as registryAuth's are (a proxy URL may hold a user and password); which fields are
 * set is read from the raw config, so the component knows its steps when it is built.
 */
function proxy(cfg: pulumi.Config): ProxyArgs | undefined {
    const raw = pulumi.runtime.getConfig(`${cfg.name}:proxy`);
    if (raw === undefined) {
        return undefined;
    }
    const shape = JSON.parse(raw) as { [field: string]: unknown };
    const values = cfg.requireSecretObject<typeof shape>("proxy");
    return Object.fromEntries(Object.keys(shape).map(f => [f, values.apply(v => String(v[f]))])) as ProxyArgs;
}

const withRegistryAuth = (config: ContainerdConfigArgs | undefined, auth: ContainerdConfigArgs["registryAuth"]) =>
    auth === undefined ? config : { ...config, registryAuth: auth };

/**
 * The program as a function, so that it runs both as a plain `pulumi up` project (the Node.js
 * language host calls an exported function and uses its result as the stack outputs) and as an
 * Automation API inline program (scripts/stack.ts, tests/e2e), which needs no language host.
 */
export = async function main() {
    const cfg = new pulumi.Config();
    const discover = cfg.getObject<DiscoverConfig>("discover");
    const nodes = discover ? [] : cfg.requireObject<NodeEntry[]>("nodes");
    const keyPath = cfg.get("privateKeyPath");
    const privateKey = cfg.getSecret("privateKey")
        ?? (keyPath ? pulumi.secret(fs.readFileSync(keyPath, "utf8")) : undefined);
    const sshAgent = cfg.getBoolean("sshAgent");
    const kubeconfigContent = cfg.getSecret("kubeconfigContent");
    const kubeconfig = kubeconfigContent ? { content: kubeconfigContent } : cfg.get("kubeconfig");
    const maxUnavailable = cfg.get("maxUnavailable");
    const failureBudget = cfg.get("failureBudget");
    const countOrPercent = (v: string | undefined) => v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v;

    const shared: Omit<ContainerdFleetArgs, "nodes"> = {
        settings: {
            containerd: cfg.requireObject<FleetSettings["containerd"]>("containerd"),
            config: withRegistryAuth(cfg.getObject("config"), registryAuth(cfg)),
            proxy: proxy(cfg),
            upgrade: cfg.getObject("upgrade"),
            unit: cfg.getObject("unit"),
            kubelet: cfg.getObject("kubelet"),
            docker: cfg.getObject("docker"),
            tools: cfg.getObject("tools"),
        },
        kubernetes: kubeconfig ? {
            kubeconfig,
            kubectl: cfg.get("kubectl"),
            drain: cfg.getObject("drain"),
            verifyTimeoutSeconds: cfg.getNumber("verifyTimeoutSeconds"),
        } : undefined,
        // A number in config arrives as text: "2" is a count, "25%" a percentage.
        maxUnavailable: countOrPercent(maxUnavailable),
        failureBudget: countOrPercent(failureBudget),
        absorbFailures: cfg.getBoolean("absorbFailures"),
        controlPlane: cfg.get("controlPlane") as "first" | "last" | undefined,
        healthGate: cfg.getObject<HealthGateArgs>("healthGate"),
        acknowledgeDockerSocketPods: cfg.getBoolean("acknowledgeDockerSocketPods"),
    };
    if (discover && !shared.kubernetes) {
        throw new pulumi.RunError("containerd-node:discover needs containerd-node:kubeconfig or kubeconfigContent: the nodes are found in the cluster");
    }
    const fleet = discover
        ? await ContainerdFleet.fromCluster("fleet", {
            ...shared,
            kubernetes: shared.kubernetes!,
            discover: {
                selector: discover.selector,
                addressType: discover.addressType,
                connection: { user: discover.user, port: discover.port, privateKey, sshAgent },
                hostKeys: { knownHostsFile: discover.knownHostsFile, byNode: discover.hostKeys, allowUnpinned: discover.allowUnpinned },
            },
        })
        : new ContainerdFleet("fleet", {
            ...shared,
            nodes: nodes.map((n): FleetNodeArgs => ({
                name: n.name,
                nodeName: n.nodeName,
                controlPlane: n.controlPlane,
                order: n.order,
                overrides: n.overrides,
                connection: { host: n.host, port: n.port, user: n.user, hostKey: n.hostKey, privateKey, sshAgent },
            })),
        });

    const runtimes = fleet.table.apply(rows => Object.fromEntries(rows.map(r => [r.node, { before: r.runtimeBefore, after: r.runtimeAfter }])));
    const paths = fleet.table.apply(rows => Object.fromEntries(rows.map(r => [r.node, r.path])));
    return { runtimes, paths, waves: fleet.waves, table: fleet.table, dockerSocketPods: fleet.dockerSocketPods };
};
