import { ContainerdNodeArgs } from "../../components/args";
import { NodeFacts } from "../../components/facts";

/** A node on Docker, as the pre-flight read reports it (unit tests read nothing over SSH). */
export const DOCKER_FACTS: NodeFacts = {
    runtime: "docker://20.10.24",
    upgrade: {
        configPath: "/etc/containerd/config.toml", configSource: "default", files: [], dropIns: {}, notes: [],
        kubeletConfig: { path: "/var/lib/kubelet/config.yaml", status: "present" },
    },
};

/** Minimal valid args; each test overrides what it is about. */
export function baseArgs(over: Partial<ContainerdNodeArgs> = {}): ContainerdNodeArgs {
    return {
        connection: { host: "10.0.0.1", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----" },
        containerd: {
            version: "2.1.4",
            source: { kind: "tarball", url: "https://github.com/containerd/containerd/releases/download/v2.1.4/containerd-2.1.4-linux-amd64.tar.gz", sha256: "a".repeat(64) },
        },
        nodeFacts: DOCKER_FACTS,
        ...over,
    };
}

/** A rendered node step's text after its prelude: from the line after its `cn_begin` on (its values, then its calls). */
export function afterBegin(text: string): string {
    return text.slice(text.indexOf("\n", text.search(/^cn_begin /m)) + 1);
}
