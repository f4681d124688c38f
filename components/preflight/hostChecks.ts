/**
 * The pre-flight's checks of the machine itself (pure): what a conversion needs there, judged from
 * the facts read at preview and at up (HostFacts), each refusal naming the node, what it found and
 * the input it is about. They run with the rest of the plan, before any step: a refused node gets
 * no step run at all.
 */
import { HostFacts, NodeFacts } from "../facts";
import { NodeSpec } from "../spec";
import { runtimeVersionMatches } from "../versions";

/** The architecture a containerd release tarball is built for, from its URL (`…-linux-amd64.tar.gz`). */
export function tarballArch(url: string): string | undefined {
    return /linux-(amd64|arm64|ppc64le|s390x|riscv64)/.exec(url)?.[1];
}

/**
 * What refuses the node, one line each. `moves`: whether the run stages or installs containerd on
 * the node (not a node already on the declared version): only then is the free space checked, so
 * that a converted node that has filled up since is not refused a run that changes no binary.
 */
export function hostRefusals(label: string, spec: NodeSpec, facts: NodeFacts, host: HostFacts, moves: boolean): string[] {
    const refused: string[] = [];
    const say = (text: string) => refused.push(`${label}: ${text}`);
    const c = spec.containerd;
    if (!host.systemd) {
        say("systemd is required: the node has no systemctl");
    }
    const arch = c.source.kind === "tarball" ? tarballArch(c.source.url) : undefined;
    if (arch && host.arch !== arch) {
        say(`containerd.source.url is a linux-${arch} tarball, the node is ${host.arch}`);
    }
    if (moves) {
        for (const [path, free] of Object.entries(host.freeMiB)) {
            if (free < spec.minFreeDiskMiB) {
                say(`only ${free} MiB free on the filesystem of ${path}, need ${spec.minFreeDiskMiB} MiB (minFreeDiskMiB)`);
            }
        }
    }
    switch (c.source.kind) {
        case "docker": {
            const v = facts.upgrade.containerdVersion;
            if (facts.upgrade.containerdBinary === undefined) {
                say("containerd.source is docker but no containerd binary is installed");
            } else if (v && !runtimeVersionMatches(v.text, c.version.text)) {
                say(`Docker's containerd is ${v.text}, containerd.version declares ${c.version.text}`);
            }
            break;
        }
        case "package":
            if (host.packageManager === undefined) {
                say("containerd.source is package but the node has no apt-get, dnf or yum");
            }
            break;
        case "tarball":
        case "file":
            if (!c.runc && !host.runc) {
                say("the containerd tarball brings no runc and the node has none: set containerd.runc");
            }
            break;
        default: {
            const never: never = c.source;
            throw new Error(`unknown containerd.source ${JSON.stringify(never)}`);
        }
    }
    const k = spec.kubelet;
    if (k && host.kubeletVersion && !runtimeVersionMatches(host.kubeletVersion, `${k.version.major}.${k.version.minor}`)) {
        say(`the node's kubelet is ${host.kubeletVersion}, kubelet.version declares ${k.version.text}`);
    }
    return refused;
}
