/**
 * The provider's inputs (provider/args.ts, as the engine hands them to `construct`) turned into the
 * args of the TypeScript components: the plain equivalents of the unions made back into them, every
 * mistake an InvalidArgumentError naming the input and what was expected (the component's own
 * checks, in components/spec.ts, then see the result). Pure: no resource is made here.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    ArtifactSource, ContainerdConfigArgs, ContainerdNodeArgs, InstallSource, KubeconfigInput, TomlValue, ToolsArgs,
} from "../components/args";
import { ClusterFleetArgs, ContainerdFleetArgs } from "../components/fleet/fleet";
import { FleetNodeArgs, FleetSettings } from "../components/fleet/nodeArgs";
import { InvalidArgumentError } from "../components/spec";
import {
    ArtifactInputs, ConfigInputs, ContainerdFleetInputs, ContainerdNodeInputs, FleetSettingsInputs, SourceInputs, ToolsInputs,
} from "./args";

/** The fields each source kind takes (besides `kind`). */
const SOURCE_FIELDS: { [kind: string]: (keyof SourceInputs)[] } = {
    tarball: ["url", "sha256"],
    file: ["path", "sha256"],
    package: ["name"],
    docker: [],
};

/**
 * An object input as an object. The engine gives a secret or computed object as one Output; the
 * components need to see an object's fields when they are built (which steps a node has), so only
 * its fields may be secrets or computed.
 */
function object<T>(value: T | undefined, field: string): T | undefined {
    if (value === undefined || value === null) {
        return undefined;
    }
    if (pulumi.Output.isInstance(value)) {
        throw new InvalidArgumentError(field, "an object whose fields are known when the program runs, not a secret or computed object as a whole (make its fields secrets instead)");
    }
    if (typeof value !== "object" || Array.isArray(value)) {
        throw new InvalidArgumentError(field, `an object, got ${JSON.stringify(value)}`);
    }
    return value;
}

/** `containerd.source`: the one object made back into the union of its kinds. */
export function installSource(s: SourceInputs | undefined, field: string): InstallSource {
    const source = object(s, field);
    if (!source) {
        throw new InvalidArgumentError(field, "a source: { kind: tarball | file | package | docker, … }");
    }
    const fields = SOURCE_FIELDS[source.kind as string];
    if (!fields) {
        throw new InvalidArgumentError(`${field}.kind`, `one of ${Object.keys(SOURCE_FIELDS).join(", ")}, got ${JSON.stringify(source.kind)}`);
    }
    for (const [k, v] of Object.entries(source)) {
        if (k !== "kind" && v !== undefined && !fields.includes(k as keyof SourceInputs)) {
            throw new InvalidArgumentError(`${field}.${k}`, `not set for kind "${source.kind}", which takes ${fields.length ? fields.join(", ") : "no other field"}`);
        }
    }
    const picked = Object.fromEntries(fields.filter(f => source[f] !== undefined).map(f => [f, source[f]]));
    return { kind: source.kind, ...picked } as InstallSource;
}

/** `containerd.runc` and `containerd.cni`: `{ url, sha256 }` or `{ path, sha256 }`. */
export function artifact(a: ArtifactInputs | undefined, field: string): ArtifactSource | undefined {
    const value = object(a, field);
    if (!value) {
        return undefined;
    }
    if ((value.url === undefined) === (value.path === undefined)) {
        throw new InvalidArgumentError(field, "exactly one of url or path, with sha256");
    }
    return value.url !== undefined ? { url: value.url, sha256: value.sha256 } : { path: value.path!, sha256: value.sha256 };
}

/** A kubeconfig given as `kubeconfig` (a path) or `kubeconfigContent` (text, a secret). */
export function kubeconfig(k: { kubeconfig?: string; kubeconfigContent?: pulumi.Input<string> }, field: string): KubeconfigInput {
    if ((k.kubeconfig === undefined) === (k.kubeconfigContent === undefined)) {
        throw new InvalidArgumentError(field, "exactly one of kubeconfig (a file's path) or kubeconfigContent (its text)");
    }
    return k.kubeconfig ?? { content: k.kubeconfigContent! };
}

function config(c: ConfigInputs | undefined, field: string): ContainerdConfigArgs | undefined {
    const value = object(c, field);
    if (!value) {
        return undefined;
    }
    const { runtimes, extraToml, ...rest } = value;
    return {
        ...rest,
        runtimes: object(runtimes, `${field}.runtimes`) as ContainerdConfigArgs["runtimes"],
        extraToml: object(extraToml, `${field}.extraToml`) as { [key: string]: TomlValue } | undefined,
    };
}

/** `tools`: each tool's tarball made back into `{ url, sha256 }` or `{ path, sha256 }`. */
function tools(t: ToolsInputs | undefined, field: string): ToolsArgs | undefined {
    const value = object(t, field);
    if (!value) {
        return undefined;
    }
    const tool = (x: { version: string; source: ArtifactInputs } | undefined, name: string) => {
        const v = object(x, `${field}.${name}`);
        if (!v) {
            return undefined;
        }
        const source = artifact(v.source, `${field}.${name}.source`);
        if (!source) {
            throw new InvalidArgumentError(`${field}.${name}.source`, "{ url or path, sha256 } (required)");
        }
        return { version: v.version, source };
    };
    return defined({ buildkit: tool(value.buildkit, "buildkit"), crictl: tool(value.crictl, "crictl") });
}

/** The settings a node is converted to (a fleet's shared settings, or one node's). */
function settings(s: Partial<FleetSettingsInputs> | undefined, field: string): Partial<FleetSettings> {
    const value = object(s, field.replace(/\.$/, "") || "args") ?? {};
    const out: Partial<FleetSettings> = {
        config: config(value.config, `${field}config`),
        unit: object(value.unit, `${field}unit`),
        kubelet: object(value.kubelet, `${field}kubelet`),
        docker: object(value.docker, `${field}docker`),
        proxy: object(value.proxy, `${field}proxy`),
        tools: tools(value.tools, `${field}tools`),
        upgrade: object(value.upgrade, `${field}upgrade`),
        minFreeDiskMiB: value.minFreeDiskMiB,
        stateDir: value.stateDir,
    };
    const c = object(value.containerd, `${field}containerd`);
    if (c) {
        out.containerd = defined({
            version: c.version,
            source: installSource(c.source, `${field}containerd.source`),
            runc: artifact(c.runc, `${field}containerd.runc`),
            cni: artifact(c.cni, `${field}containerd.cni`),
        }) as FleetSettings["containerd"];
    }
    return defined(out);
}

/** `o` without its undefined fields: absent stays absent, as a fleet node's overrides are merged over the shared settings. */
function defined<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** ContainerdNode's args from the provider's inputs. */
export function nodeArgs(inputs: ContainerdNodeInputs): ContainerdNodeArgs {
    const s = settings(inputs, "");
    if (!s.containerd) {
        throw new InvalidArgumentError("containerd", "{ version, source } (required)");
    }
    const connection = object(inputs.connection, "connection");
    if (!connection) {
        throw new InvalidArgumentError("connection", "{ host, … } (required)");
    }
    const k8s = object(inputs.kubernetes, "kubernetes");
    return {
        ...s,
        containerd: s.containerd,
        connection,
        kubernetes: k8s ? {
            kubeconfig: kubeconfig(k8s, "kubernetes.kubeconfig"),
            nodeName: k8s.nodeName,
            kubectl: k8s.kubectl,
            drain: object(k8s.drain, "kubernetes.drain"),
            verifyTimeoutSeconds: k8s.verifyTimeoutSeconds,
        } : undefined,
        factReads: inputs.factReads,
    };
}

/** "2" is a count, "25%" a percentage (what ContainerdFleetArgs takes as a number or a string). */
export function countOrPercent(v: string | number | undefined): string | number | undefined {
    return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
}

/** ContainerdFleet's args from the provider's inputs: a listed fleet, or one found in the cluster. */
export function fleetArgs(inputs: ContainerdFleetInputs):
    { discover: false; args: ContainerdFleetArgs } | { discover: true; args: ClusterFleetArgs } {
    const s = settings(inputs.settings, "settings.");
    if (!s.containerd) {
        throw new InvalidArgumentError("settings.containerd", "{ version, source } (required)");
    }
    const k8s = object(inputs.kubernetes, "kubernetes");
    const shared: Omit<ContainerdFleetArgs, "nodes"> = {
        settings: { ...s, containerd: s.containerd },
        kubernetes: k8s ? {
            kubeconfig: kubeconfig(k8s, "kubernetes.kubeconfig"),
            kubectl: k8s.kubectl,
            drain: object(k8s.drain, "kubernetes.drain"),
            verifyTimeoutSeconds: k8s.verifyTimeoutSeconds,
        } : undefined,
        maxUnavailable: countOrPercent(inputs.maxUnavailable),
        failureBudget: countOrPercent(inputs.failureBudget),
        absorbFailures: inputs.absorbFailures,
        controlPlane: inputs.controlPlane,
        healthGate: object(inputs.healthGate, "healthGate"),
        acknowledgeDockerSocketPods: inputs.acknowledgeDockerSocketPods,
        factReads: inputs.factReads,
    };
    const discover = object(inputs.discover, "discover");
    if ((inputs.nodes === undefined) === (discover === undefined)) {
        throw new InvalidArgumentError("nodes", "exactly one of nodes (a list) or discover (the cluster's Nodes)");
    }
    if (discover) {
        if (!shared.kubernetes) {
            throw new InvalidArgumentError("discover", "kubernetes as well: the nodes are found in the cluster");
        }
        const connection = object(discover.connection, "discover.connection");
        if (!connection) {
            throw new InvalidArgumentError("discover.connection", "{ user?, port?, privateKey?, … } (required)");
        }
        return {
            discover: true,
            args: {
                ...shared,
                kubernetes: shared.kubernetes,
                discover: {
                    selector: discover.selector,
                    addressType: discover.addressType,
                    connection,
                    hostKeys: object(discover.hostKeys, "discover.hostKeys"),
                },
            },
        };
    }
    if (pulumi.Output.isInstance(inputs.nodes) || !Array.isArray(inputs.nodes)) {
        throw new InvalidArgumentError("nodes", "a list of nodes known when the program runs");
    }
    const nodes = inputs.nodes.map((n, i): FleetNodeArgs => {
        const node = object(n, `nodes[${i}]`)!;
        const connection = object(node.connection, `nodes[${i}].connection`);
        if (!connection) {
            throw new InvalidArgumentError(`nodes[${i}].connection`, "{ host, … } (required)");
        }
        return {
            name: node.name,
            connection,
            nodeName: node.nodeName,
            controlPlane: node.controlPlane,
            order: node.order,
            overrides: node.overrides === undefined ? undefined : settings(node.overrides, `nodes[${i}].overrides.`),
        };
    });
    return { discover: false, args: { ...shared, nodes } };
}
