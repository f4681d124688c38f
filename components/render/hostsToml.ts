import * as TOML from "@iarna/toml";
import { NodeSpec } from "../spec";

/** docker.io's images are served by registry-1.docker.io; every other registry by its own name. */
export function upstreamServer(registry: string): string {
    return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

/**
 * certs.d/<registry>/hosts.toml for every registry with mirrors or marked insecure, keyed by the
 * directory name. Mirrors are tried in order, then the registry itself (`server`). An insecure
 * registry is tried over HTTPS without verification, then over plain HTTP.
 */
export function renderHostsTomls(spec: NodeSpec): { [registry: string]: string } {
    const { registryMirrors, insecureRegistries } = spec.config;
    const registries = [...new Set([...Object.keys(registryMirrors), ...insecureRegistries])].sort();
    const out: { [registry: string]: string } = {};
    for (const registry of registries) {
        const insecure = insecureRegistries.includes(registry);
        const hosts: { [endpoint: string]: TOML.AnyJson } = {};
        for (const m of registryMirrors[registry] ?? []) {
            hosts[m] = { capabilities: ["pull", "resolve"], ...(insecure ? { skip_verify: true } : {}) };
        }
        if (insecure) {
            hosts[`https://${registry}`] = { capabilities: ["pull", "resolve", "push"], skip_verify: true };
            hosts[`http://${registry}`] = { capabilities: ["pull", "resolve", "push"] };
        }
        out[registry] = "# Managed by containerd-node (Pulumi).\n" +
            TOML.stringify({ server: upstreamServer(registry), host: hosts } as TOML.JsonMap);
    }
    return out;
}
