/**
 * A fleet's nodes found from the cluster instead of listed by hand: the Nodes of a label
 * selector, each reached at one of its addresses with a shared connection template and a host
 * key pinned from a known_hosts file or a map. One `kubectl get nodes` per run: the Kubernetes
 * provider has no list read, and a read resource per Node would put every Node into the state.
 * All but `discoverNodes` (which runs kubectl) is pure.
 */
import { execFile } from "child_process";
import { createHmac } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { KubeconfigInput, NodeConnectionArgs } from "../args";
import { InvalidArgumentError } from "../spec";
import type { FleetNodeArgs } from "./nodeArgs";

/** A Node's address types, as `status.addresses[].type` names them. */
export const NodeAddressType = {
    /** The Node's internal IP address. */
    InternalIP: "InternalIP",
    /** The Node's external IP address. */
    ExternalIP: "ExternalIP",
    /** The Node's host name. */
    Hostname: "Hostname",
    /** The Node's internal DNS name. */
    InternalDNS: "InternalDNS",
    /** The Node's external DNS name. */
    ExternalDNS: "ExternalDNS",
} as const;
/** A Node's address types, as `status.addresses[].type` names them. */
export type NodeAddressType = typeof NodeAddressType[keyof typeof NodeAddressType];

/** Where the host keys of discovered nodes come from. A node found in neither is refused, unless `allowUnpinned`. */
export interface DiscoveredHostKeysArgs {
    /**
     * Path of a known_hosts file on the machine running `pulumi up` (plain and hashed host names,
     * `[host]:port` entries; a `@revoked` key refuses its host).
     */
    knownHostsFile?: string;
    /** Host key per Node name (`ssh-ed25519 AAAA…`); wins over the file. */
    byNode?: { [nodeName: string]: string };
    /** Nodes without a pinned key are accepted (any host key then passes for them). Default false. */
    allowUnpinned?: boolean;
}

/** How a fleet finds its nodes in the cluster (`ContainerdFleet.fromCluster`). */
export interface DiscoveryArgs {
    /** Label selector of the Nodes to convert, as `kubectl get nodes -l` takes it. Default: every Node. */
    selector?: string;
    /** Which of a Node's `status.addresses` to connect to. Default "InternalIP". */
    addressType?: NodeAddressType;
    /** Connection settings every discovered node shares: the host is the Node's address, the host key comes from `hostKeys`. */
    connection: Omit<NodeConnectionArgs, "host" | "hostKey">;
    /** The nodes' host keys. */
    hostKeys?: DiscoveredHostKeysArgs;
}

/** What the fleet needs of a Node object. */
export interface ClusterNode {
    name: string;
    /** The chosen address, or undefined when the Node has none of that type. */
    address?: string;
    controlPlane: boolean;
}

const CONTROL_PLANE_LABELS = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];

/** Parses `kubectl get nodes -o json`, sorted by name (a stable order for the waves). */
export function parseNodeList(json: string, addressType: NodeAddressType): ClusterNode[] {
    const list = JSON.parse(json) as { items?: any[] };
    return (list.items ?? []).map(n => {
        const labels: { [k: string]: string } = n.metadata?.labels ?? {};
        const address = (n.status?.addresses ?? []).find((a: any) => a.type === addressType)?.address;
        return { name: String(n.metadata?.name ?? ""), address, controlPlane: CONTROL_PLANE_LABELS.some(l => l in labels) };
    }).sort((a, b) => a.name.localeCompare(b.name));
}

/** One usable line of a known_hosts file. */
export interface KnownHost {
    patterns: string[];
    /** `|1|salt|hash` entries: HMAC-SHA1 of the host name with the salt. */
    hashed?: { salt: Buffer; hash: string };
    key: string;
    revoked: boolean;
}

/** Parses known_hosts text; `@cert-authority` lines pin no key and are skipped. */
export function parseKnownHosts(text: string): KnownHost[] {
    const out: KnownHost[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        let fields = line.split(/\s+/);
        let revoked = false;
        if (fields[0].startsWith("@")) {
            if (fields[0] !== "@revoked") {
                continue;
            }
            revoked = true;
            fields = fields.slice(1);
        }
        if (fields.length < 3) {
            continue;
        }
        const key = `${fields[1]} ${fields[2]}`;
        const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(fields[0]);
        out.push(m ? { patterns: [], hashed: { salt: Buffer.from(m[1], "base64"), hash: m[2] }, key, revoked }
            : { patterns: fields[0].split(","), key, revoked });
    }
    return out;
}

/** The names a known_hosts entry uses for host:port (OpenSSH writes `[host]:port` when the port is not 22). */
const hostNames = (host: string, port: number) => port === 22 ? [host] : [`[${host}]:${port}`];

/** The pinned key known_hosts gives host:port: a key, "revoked", or undefined when it has none. */
export function knownHostKey(entries: KnownHost[], host: string, port: number): string | "revoked" | undefined {
    const names = hostNames(host, port);
    const matching = entries.filter(e => e.hashed
        ? names.some(n => createHmac("sha1", e.hashed!.salt).update(n).digest("base64") === e.hashed!.hash)
        : names.some(n => e.patterns.includes(n)));
    if (matching.some(e => e.revoked)) {
        return "revoked";
    }
    // Prefer the ed25519 key when a host has several (what OpenSSH offers first).
    const keys = matching.map(e => e.key);
    return keys.find(k => k.startsWith("ssh-ed25519 ")) ?? keys[0];
}

/**
 * The fleet's nodes from the cluster's: each with its address and pinned host key. A Node without
 * the address, or without a key (unless allowed), or with a revoked one, is refused naming it.
 */
export function discoveredNodes(nodes: ClusterNode[], args: DiscoveryArgs, knownHosts: KnownHost[]): FleetNodeArgs[] {
    const type = args.addressType ?? "InternalIP";
    const port = args.connection.port ?? 22;
    const keys = args.hostKeys ?? {};
    return nodes.map(n => {
        if (!n.address) {
            throw new InvalidArgumentError("discover.addressType", `node ${n.name} has no ${type} address; choose another address type`);
        }
        const fromFile = knownHostKey(knownHosts, n.address, port);
        if (fromFile === "revoked" && keys.byNode?.[n.name] === undefined) {
            throw new InvalidArgumentError("discover.hostKeys", `node ${n.name} (${n.address}): its key in ${keys.knownHostsFile} is marked @revoked`);
        }
        const hostKey = keys.byNode?.[n.name] ?? (fromFile === "revoked" ? undefined : fromFile);
        if (hostKey === undefined && !keys.allowUnpinned) {
            throw new InvalidArgumentError("discover.hostKeys",
                `no host key for node ${n.name} (${n.address}:${port}) in ${keys.knownHostsFile ? `${keys.knownHostsFile} or ` : ""}byNode; pin it, or set allowUnpinned: true to accept any key for it`);
        }
        return {
            name: n.name,
            nodeName: n.name,
            controlPlane: n.controlPlane || undefined,
            connection: { ...args.connection, host: n.address, hostKey },
        };
    });
}

/** The value of an Input, or undefined when it is unknown (a preview before the cluster exists). */
async function known<T>(v: pulumi.Input<T>): Promise<T | undefined> {
    if (!pulumi.Output.isInstance(v)) {
        return await v;
    }
    // The SDK keeps whether an Output is known on the instance; an unknown one never runs an apply.
    if (!await (v as unknown as { isKnown: Promise<boolean> }).isKnown) {
        return undefined;
    }
    return new Promise<T>(resolve => (v as pulumi.Output<T>).apply(x => { resolve(x); return x; }));
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => execFile(file, args, { env, maxBuffer: 1 << 28 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${file} ${args.join(" ")}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
}

/**
 * Reads the cluster's Nodes (one `kubectl get nodes -l SELECTOR -o json`) and makes the fleet's
 * nodes of them. A kubeconfig given as content goes to kubectl in a 0600 file removed at once.
 * Resolves to undefined when the kubeconfig is not known yet (a preview of the program that
 * makes the cluster).
 */
export async function discoverNodes(kubernetes: { kubeconfig: KubeconfigInput; kubectl?: string }, args: DiscoveryArgs): Promise<FleetNodeArgs[] | undefined> {
    const kc = kubernetes.kubeconfig;
    let dir: string | undefined;
    let kubeconfigPath: string;
    if (typeof kc === "string") {
        kubeconfigPath = kc;
    } else {
        const content = await known(kc.content);
        if (content === undefined) {
            return undefined;
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerd-node-discover-"));
        kubeconfigPath = path.join(dir, "kubeconfig");
        fs.writeFileSync(kubeconfigPath, content, { mode: 0o600 });
    }
    try {
        const selector = args.selector ? ["-l", args.selector] : [];
        const json = await run(kubernetes.kubectl ?? "kubectl", ["get", "nodes", ...selector, "-o", "json"], { ...process.env, KUBECONFIG: kubeconfigPath });
        const file = args.hostKeys?.knownHostsFile;
        const knownHosts = file ? parseKnownHosts(fs.readFileSync(file, "utf8")) : [];
        return discoveredNodes(parseNodeList(json, args.addressType ?? "InternalIP"), args, knownHosts);
    } finally {
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
}
