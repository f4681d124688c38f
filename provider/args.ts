/**
 * The inputs of the provider plugin: what Python, Go, .NET, Java and YAML programs give
 * ContainerdNode and ContainerdFleet. The schema (provider/schema.json, `npm run schema`) is
 * generated from these declarations and their doc comments by the analyzer of
 * `@pulumi/pulumi/provider/experimental`, which takes interfaces, `Input<T>`, arrays, string maps
 * and enums (a constant object with a type of the same name), but no union of other types.
 *
 * Where components/args.ts has a type the schema can express, it is used as is (its doc comments
 * are the schema's). Where it has a union (`containerd.source`, `runc`, `cni`, a kubeconfig that is
 * a path or `{ content }`, `maxUnavailable` as a count or a percentage, TOML values), this file has
 * a plain equivalent, which provider/convert.ts turns into the component's args. A field this
 * file declares again has the doc comment components/args.ts gives it, word for word
 * (tests/unit/provider.test.ts holds them equal, and names the fields whose types differ). Left out:
 * `startAfter` (resources or a promise of them: use the resource option `dependsOn`), `nodeFacts`
 * (facts read by the caller), `rollbackMark`, `softFailures` and `fleetWave` (a fleet's own wiring of
 * its nodes).
 */
import * as pulumi from "@pulumi/pulumi";
import {
    DockerArgs, DrainArgs, KubeletArgs, NodeConnectionArgs, ProxyArgs, RegistryAuthArgs, RegistryTlsArgs, SystemdUnitArgs, UpgradeArgs,
} from "../components/args";
import { DiscoveredHostKeysArgs, NodeAddressType } from "../components/fleet/discover";
import { HealthGateArgs } from "../components/fleet/fleet";
import { ControlPlaneOrder } from "../components/fleet/waves";

/** Which kind of containerd source `containerd.source` is. */
export const SourceKind = {
    /** The containerd release tarball, downloaded by the node (`url`, `sha256`). */
    tarball: "tarball",
    /** A release tarball on the machine running `pulumi up`, copied to the node (`path`, `sha256`). */
    file: "file",
    /** The distribution package (apt or dnf/yum), `name` optional. */
    package: "package",
    /** The containerd that Docker installed; its CRI-less config is replaced. */
    docker: "docker",
} as const;
/** Which kind of containerd source `containerd.source` is. */
export type SourceKind = typeof SourceKind[keyof typeof SourceKind];

/**
 * Where containerd comes from, one object for the four kinds: `kind` selects which, and only that
 * kind's fields may be set.
 */
export interface SourceInputs {
    /** "tarball" (`url`, `sha256`), "file" (`path`, `sha256`), "package" (`name`) or "docker". Required. */
    kind: SourceKind;
    /**
     * kind "tarball": `https://…/containerd-X.Y.Z-linux-ARCH.tar.gz`, downloaded by the node. Plain
     * `http://` only for a loopback host.
     */
    url?: string;
    /** kind "file": local path of `containerd-X.Y.Z-linux-ARCH.tar.gz` on the machine running `pulumi up`. */
    path?: string;
    /** kinds "tarball" and "file": SHA-256 of the tarball, 64 hex characters. */
    sha256?: string;
    /** kind "package": the package name ("containerd", or "containerd.io" for Docker's repository). Default "containerd". */
    name?: string;
}

/** A single binary or tarball: either `url` (downloaded by the node) or `path` (copied from this machine), with `sha256`. */
export interface ArtifactInputs {
    /** `https://` URL of the file, downloaded by the node. Plain `http://` only for a loopback host. One of `url` or `path`. */
    url?: string;
    /** Local path of the file on the machine running `pulumi up`; it is copied to the node. One of `url` or `path`. */
    path?: string;
    /** SHA-256 of the file, 64 hex characters. Required. */
    sha256: string;
}

/** The containerd to install and run. */
export interface ContainerdInputs {
    /** Version to install and expect, e.g. "2.1.4" or "1.6"; a tarball or file source needs X.Y.Z. Required. */
    version: string;
    /**
     * Where containerd comes from: `{ kind: "tarball", url, sha256 }` (https; plain http
     * only to a loopback host), `{ kind: "file", path, sha256 }` (air-gapped sites),
     * `{ kind: "package", name? }` or `{ kind: "docker" }` (reuse Docker's containerd; its
     * CRI-less config is replaced). Required.
     */
    source: SourceInputs;
    /**
     * runc to install (tarball sources of 2.x do not bring one): `{ url, sha256 }` or
     * `{ path, sha256 }`. Default: keep the node's.
     */
    runc?: ArtifactInputs;
    /**
     * CNI plugins tarball, extracted into `config.cniBinDir` (default /opt/cni/bin): `{ url, sha256 }` or `{ path, sha256 }`.
     * Default: keep the node's.
     */
    cni?: ArtifactInputs;
}

/** BuildKit on the node (buildkitd with containerd's worker in `k8s.io`, and buildctl), for image builds after Docker. */
export interface BuildkitInputs {
    /** BuildKit's version, e.g. "0.34.2": the tarball's buildkitd must report it. Required. */
    version: string;
    /**
     * BuildKit's release tarball, `buildkit-vX.Y.Z.linux-ARCH.tar.gz` (its `bin/buildkitd` and
     * `bin/buildctl` are installed): `{ url, sha256 }` or `{ path, sha256 }`. Required.
     */
    source: ArtifactInputs;
}

/** crictl, installed where the node has none (or where this package installed it). */
export interface CrictlInputs {
    /** crictl's version, e.g. "1.34.0": the tarball's crictl must report it. Required. */
    version: string;
    /**
     * cri-tools' release tarball, `crictl-vX.Y.Z-linux-ARCH.tar.gz` (`crictl` at its top):
     * `{ url, sha256 }` or `{ path, sha256 }`. Required.
     */
    source: ArtifactInputs;
}

/** Tools for what Docker did on the node, each opt-in; one removed later is left installed. */
export interface ToolsInputs {
    /** BuildKit (buildkitd + buildctl) with containerd's worker in `k8s.io`. Default: not installed. */
    buildkit?: BuildkitInputs;
    /** crictl where the node has none. Default: not installed. */
    crictl?: CrictlInputs;
}

/** Extra CRI runtime handler (e.g. gVisor's runsc, kata). */
export interface RuntimeHandlerInputs {
    /** e.g. "io.containerd.runsc.v1". Required. */
    runtimeType: string;
    /** Free-form `options` table of the handler: TOML values (strings, numbers, booleans, lists, tables). */
    options?: { [key: string]: any };
}

/** What goes into /etc/containerd/config.toml and /etc/containerd/certs.d. */
export interface ConfigInputs {
    /** runc's `SystemdCgroup`; the kubelet's cgroup driver is switched to match. Default true. */
    systemdCgroup?: boolean;
    /** Sandbox (pause) image. Default "registry.k8s.io/pause:3.10". */
    sandboxImage?: string;
    /**
     * Registry mirrors: registry host → mirror endpoints (with scheme), tried in order before the
     * registry itself. Written as `certs.d/<host>/hosts.toml`, read per pull (no restart).
     * e.g. `{ "docker.io": ["https://mirror.example.com"] }`. Default none.
     */
    registryMirrors?: { [registry: string]: string[] };
    /**
     * Registries (`host` or `host:port`) reached without TLS verification: tried over HTTPS
     * without verification, then over plain HTTP (in `certs.d/<host>/hosts.toml`). Default none.
     */
    insecureRegistries?: string[];
    /**
     * TLS files by registry host (`host` or `host:port`, as an endpoint names it):
     * `{ "HOST": { caFile?, certFile?, keyFile? } }` (CRI `registry.configs."HOST".tls`), written into
     * `certs.d` hosts.toml wherever containerd reaches that host: as its own registry's server
     * and as a mirror of another (`registry-1.docker.io` is docker.io's server). Absolute paths on
     * the node; the configure step fails, changing nothing, while a file is missing.
     * e.g. `{ "registry.example.com": { caFile: "/etc/pki/registry-ca.pem" } }`. Default none.
     */
    registryTls?: { [host: string]: RegistryTlsArgs };
    /**
     * Credentials containerd pulls with, by registry host:
     * `{ "HOST": { username?, password?, auth?, identityToken? } }` (CRI
     * `registry.configs."HOST".auth`, what an old config's auth carries over to). Every value
     * stays a Pulumi secret: a step of its own (`registry-auth`, shown as [secret] in a preview)
     * writes them to a 0600 file that the rendered config imports. containerd deprecates this for
     * imagePullSecrets (removal planned for 2.4). Default none.
     */
    registryAuth?: { [registry: string]: RegistryAuthArgs };
    /** containerd's persistent root. Default "/var/lib/containerd". */
    root?: string;
    /** containerd's state directory. Default "/run/containerd". */
    state?: string;
    /** Where CRI finds CNI plugins; Debian's package uses "/usr/lib/cni". Default "/opt/cni/bin". */
    cniBinDir?: string;
    /** Where CRI reads CNI network configs. Default "/etc/cni/net.d". */
    cniConfDir?: string;
    /**
     * Extra runtime handlers by name, next to the default "runc":
     * `{ name: { runtimeType, options } }`. Default none.
     */
    runtimes?: { [name: string]: RuntimeHandlerInputs };
    /**
     * Files the rendered config imports (containerd's top-level `imports`): absolute paths, or
     * globs (`*`, `?`, `[…]`) matched at every start, such as the drop-in directory a cloud node
     * image or a GPU toolkit writes to. Keep the live config's imports here: the rendered file
     * replaces it, and an import it no longer lists refuses an upgrade. Each drop-in must declare
     * a config version no higher than the rendered file's. e.g.
     * `["/etc/containerd/config.d/*.toml"]`. Default none.
     */
    imports?: string[];
    /**
     * Typed escape hatch: a TOML table deep-merged over the rendered file (its keys win). Use keys
     * of the schema the installed version reads (version 2 for 1.x, 3 for 2.0–2.2, 4 for 2.3+, where
     * the servers' settings live in plugins such as `io.containerd.server.v1.grpc`). Credentials are
     * refused here: the config's text is shown by `pulumi preview` and kept in the state as plain
     * text (use `registryAuth`, whose values stay secrets). Default none.
     */
    extraToml?: { [key: string]: any };
}

/** Kubernetes mode: given a kubeconfig, the node is cordoned, drained, verified and uncordoned. */
export interface KubernetesInputs {
    /** Path of a kubeconfig file on the machine running `pulumi up`. One of `kubeconfig` or `kubeconfigContent`. */
    kubeconfig?: string;
    /**
     * The kubeconfig's text (YAML or JSON), e.g. the output of the program that made the cluster:
     * kept a secret, read by kubectl from 0600 files removed after use. One of `kubeconfig` or
     * `kubeconfigContent`.
     */
    kubeconfigContent?: pulumi.Input<string>;
    /** The Node object's name. Required. */
    nodeName: string;
    /** kubectl binary on the machine running `pulumi up`. Default "kubectl". */
    kubectl?: string;
    /** How the node is drained before its runtime is switched. */
    drain?: DrainArgs;
    /** Seconds (10–3600) the node has to become Ready on containerd before it is rolled back. Default 180. */
    verifyTimeoutSeconds?: number;
}

/** The settings a node is converted to, which a fleet's nodes share. */
export interface FleetSettingsInputs {
    /** The containerd to install and run. Required. */
    containerd: ContainerdInputs;
    /** What goes into /etc/containerd/config.toml and /etc/containerd/certs.d. */
    config?: ConfigInputs;
    /** The containerd systemd unit (Delegate=yes and KillMode=process are always set). */
    unit?: SystemdUnitArgs;
    /**
     * containerd's proxy environment: `{ httpProxy?, httpsProxy?, noProxy? }`, each a string or a
     * Pulumi secret, written as a containerd.service.d drop-in; removing it removes the drop-in.
     * Carries Docker's `proxies` and HTTP_PROXY/HTTPS_PROXY/NO_PROXY when it holds the same values.
     * Default none.
     */
    proxy?: ProxyArgs;
    /** The kubelet switched to containerd. Required in Kubernetes mode; omit in host mode when there is no kubelet to switch. */
    kubelet?: KubeletArgs;
    /** What happens to Docker. */
    docker?: DockerArgs;
    /**
     * Tools for what Docker did on the node, each opt-in: BuildKit for image builds into
     * containerd's `k8s.io` namespace, crictl where the node has none. Removing one later leaves it
     * installed.
     */
    tools?: ToolsInputs;
    /** Moving a node that already runs containerd to the declared version. */
    upgrade?: UpgradeArgs;
    /**
     * Pre-flight disk check: refuse a run that installs or moves containerd when less than this
     * much is free under containerd's root, or under `stateDir` where artifacts are staged (MiB).
     * Default 1024.
     */
    minFreeDiskMiB?: number;
    /**
     * containerd-node's own directory on the node: the node library, the lock and the run claim
     * that keep two runs off the same node, the steps' run records, staged artifacts. Two stacks
     * that name one machine with different directories are not kept apart: keep the default
     * unless the machine is shared on purpose (as a benchmark that stands many fleet nodes on one
     * machine does). Default "/var/lib/containerd-node".
     */
    stateDir?: string;
}

/** The inputs of ContainerdNode: one node, how to reach it, and the containerd it is converted to and kept in. */
export interface ContainerdNodeInputs extends FleetSettingsInputs {
    /** How the component reaches the node over SSH. Required. */
    connection: NodeConnectionArgs;
    /**
     * Kubernetes mode: the node is cordoned, drained, verified Ready through the API and
     * uncordoned. Omit for host mode (no cordon/drain/verify through the API).
     */
    kubernetes?: KubernetesInputs;
    /**
     * How many nodes' facts the program reads over SSH at once, at preview and at up (each read
     * waits while this many are under way). A fleet of real machines waits on each read's round
     * trips more than on its CPU (3–4 ms of the program's a read): more at once shortens a
     * large fleet's preview, up to what the machine running `pulumi` and its network can take.
     * ContainerdFleet passes its own to every node. Default 16.
     */
    factReads?: number;
}

/** One node of a fleet. */
export interface FleetNodeInputs {
    /** Resource name prefix of the node's steps; also the Kubernetes Node name unless `nodeName`. Required. */
    name: string;
    /** How the node is reached over SSH. Required. */
    connection: NodeConnectionArgs;
    /** Kubernetes Node name. Default `name`. */
    nodeName?: string;
    /** Control-plane nodes are converted one per wave, first or last (see `controlPlane`). */
    controlPlane?: boolean;
    /** Explicit position: lower first; nodes without one follow, in list order. */
    order?: number;
    /** Deep-merged over the fleet's `settings` for this node (e.g. a different kubelet version or mirror). */
    overrides?: Partial<FleetSettingsInputs>;
}

/** The SSH settings every discovered node shares: the host is the Node's address, its host key comes from `hostKeys`. */
export interface DiscoveredConnectionInputs {
    /** SSH port, 1–65535. Default 22. */
    port?: number;
    /** Login user; it must be root or have password-less sudo. Default "root". */
    user?: string;
    /**
     * PEM/OpenSSH private key text (not a path), kept a Pulumi secret. One of
     * `privateKey`, `password`, `agentSocketPath` or `sshAgent` is required.
     */
    privateKey?: pulumi.Input<string>;
    /** Passphrase of `privateKey`, kept a Pulumi secret. */
    privateKeyPassword?: pulumi.Input<string>;
    /**
     * Login password, kept a Pulumi secret. One of `privateKey`, `password`, `agentSocketPath`
     * or `sshAgent` is required.
     */
    password?: pulumi.Input<string>;
    /**
     * Path of an ssh-agent socket on the machine running `pulumi up`, kept in the state: another
     * path is an update of every step of the node (each runs again). One of `privateKey`,
     * `password`, `agentSocketPath` or `sshAgent` is required.
     */
    agentSocketPath?: string;
    /**
     * `true`: authenticate with the SSH agent the `pulumi` process finds in `SSH_AUTH_SOCK`, as
     * `ssh` does. Nothing of the agent or its keys is kept in the state: a new agent socket or
     * another key in the agent changes nothing, and a node's state is about 1.1 KiB smaller than
     * with `privateKey` (the connection, a secret, is kept twice by each step). Refused at preview
     * when `SSH_AUTH_SOCK` is unset, or beside `privateKey`, `password` or `agentSocketPath`. One
     * of `privateKey`, `password`, `agentSocketPath` or `sshAgent` is required.
     */
    sshAgent?: boolean;
}

/** How a fleet finds its nodes in the cluster, read at every preview and update (ContainerdFleet.fromCluster in TypeScript). */
export interface DiscoverInputs {
    /** Label selector of the Nodes to convert, as `kubectl get nodes -l` takes it. Default: every Node. */
    selector?: string;
    /** Which of a Node's `status.addresses` to connect to. Default "InternalIP". */
    addressType?: NodeAddressType;
    /** SSH settings every discovered node shares. Required. */
    connection: DiscoveredConnectionInputs;
    /** The nodes' host keys. A node found in none is refused, unless `allowUnpinned`. */
    hostKeys?: DiscoveredHostKeysArgs;
}

/** Kubernetes mode for every node of a fleet. */
export interface FleetKubernetesInputs {
    /** Path of a kubeconfig file on the machine running `pulumi up`. One of `kubeconfig` or `kubeconfigContent`. */
    kubeconfig?: string;
    /** The kubeconfig's text, kept a secret. One of `kubeconfig` or `kubeconfigContent`. */
    kubeconfigContent?: pulumi.Input<string>;
    /** kubectl binary on the machine running `pulumi up`. Default "kubectl". */
    kubectl?: string;
    /** How each node is drained before its runtime is switched. */
    drain?: DrainArgs;
    /** Seconds (10–3600) each node has to become Ready on containerd before it is rolled back. Default 180. */
    verifyTimeoutSeconds?: number;
}

/** The inputs of ContainerdFleet: nodes listed, or found in the cluster (`discover`), converted in waves. */
export interface ContainerdFleetInputs {
    /** The nodes, listed. One of `nodes` or `discover`. */
    nodes?: FleetNodeInputs[];
    /** The nodes found in the cluster (needs `kubernetes`). One of `nodes` or `discover`. */
    discover?: DiscoverInputs;
    /** Settings every node shares. Required. */
    settings: FleetSettingsInputs;
    /** Kubernetes mode for every node (cordon/drain/verify/uncordon, health gates on the API). */
    kubernetes?: FleetKubernetesInputs;
    /** Nodes converted at once: a count ("2") or a percentage of the fleet ("25%"). Default "1". */
    maxUnavailable?: string;
    /**
     * Nodes that may fail before the rollout stops: a count ("2") or a percentage of the fleet
     * ("10%"), rounded down. Kubernetes mode only. Default "0": the first failure stops it.
     */
    failureBudget?: string;
    /**
     * True: a failing node is put back and counted against `failureBudget` even when the budget
     * is 0 (the run then stops after its wave): for a fleet that is one of several stacks of a
     * rollout with a budget, so its steps stay the same whatever the others used. Kubernetes mode
     * only. Default: `failureBudget` above 0.
     */
    absorbFailures?: boolean;
    /** Control-plane nodes first (default) or last. */
    controlPlane?: ControlPlaneOrder;
    /** The health gate each node must pass before the next wave starts. */
    healthGate?: HealthGateArgs;
    /** Convert although pods mount docker.sock or dockershim.sock (they break when Docker goes). Default false. */
    acknowledgeDockerSocketPods?: boolean;
    /** How many nodes' facts are read over SSH at once. Default 16. */
    factReads?: number;
}

/** The time each step took, seconds (absent when it did not run). */
export interface StepDurationsOutputs {
    /** The drain step. */
    drain?: number;
    /** The switch step. */
    switch?: number;
    /** The verify step. */
    verify?: number;
}

/** A row of a fleet's progress table. */
export interface FleetRowOutputs {
    /** The node's name. */
    node: string;
    /** Its wave, from 1. */
    wave: number;
    /** The runtime it had, e.g. "docker://20.10.24". */
    runtimeBefore: string;
    /** The runtime it has, e.g. "containerd://2.2.9". */
    runtimeAfter: string;
    /** The path it took, e.g. "docker://20.10.24 → containerd". */
    path: string;
    /** The time its steps took. */
    durations: StepDurationsOutputs;
    /** "converted", "already on containerd" or "failed". */
    result: string;
    /** Within a failure budget: the step that failed and when. */
    failure?: string;
}
