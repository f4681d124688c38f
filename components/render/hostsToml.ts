import * as TOML from "@iarna/toml";
import { RegistryTlsArgs } from "../args";
import { NodeSpec, REGISTRY_TLS_FIELDS } from "../spec";

/** docker.io's images are served by registry-1.docker.io; every other registry by its own name. */
export function upstreamServer(registry: string): string {
    return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

/** The registry whose own server an endpoint host is (the certs.d directory that names it). */
function registryOfHost(host: string): string {
    return host === "registry-1.docker.io" ? "docker.io" : host;
}

/** hosts.toml's TLS keys for one endpoint: `ca`, and `client` as [certificate, key] pairs. */
function tlsKeys(tls: RegistryTlsArgs | undefined): TOML.JsonMap {
    return {
        ...(tls?.caFile ? { ca: tls.caFile } : {}),
        ...(tls?.certFile && tls.keyFile ? { client: [[tls.certFile, tls.keyFile]] } : {}),
    };
}

/**
 * certs.d/<registry>/hosts.toml for every registry with mirrors, marked insecure or reached with
 * TLS files, keyed by the directory name. Mirrors are tried in order, then the registry itself
 * (`server`). An insecure registry is tried over HTTPS without verification, then over plain
 * HTTP. TLS files go on every endpoint of their host, as 1.x's registry.configs applied them to
 * every connection to it; at the top level they are the server's.
 */
export function renderHostsTomls(spec: NodeSpec): { [registry: string]: string } {
    const { registryMirrors, insecureRegistries, registryTls } = spec.config;
    const registries = [...new Set([...Object.keys(registryMirrors), ...insecureRegistries, ...Object.keys(registryTls).map(registryOfHost)])].sort();
    const tlsOf = (endpoint: string) => tlsKeys(registryTls[new URL(endpoint).host]);
    const out: { [registry: string]: string } = {};
    for (const registry of registries) {
        const insecure = insecureRegistries.includes(registry);
        const server = upstreamServer(registry);
        const hosts: { [endpoint: string]: TOML.AnyJson } = {};
        for (const m of registryMirrors[registry] ?? []) {
            hosts[m] = { capabilities: ["pull", "resolve"], ...(insecure ? { skip_verify: true } : {}), ...tlsOf(m) };
        }
        if (insecure) {
            hosts[`https://${registry}`] = { capabilities: ["pull", "resolve", "push"], skip_verify: true, ...tlsOf(`https://${registry}`) };
            hosts[`http://${registry}`] = { capabilities: ["pull", "resolve", "push"] };
        }
        const doc: TOML.JsonMap = { server, ...tlsOf(server), ...(Object.keys(hosts).length ? { host: hosts } : {}) };
        out[registry] = "# Managed by containerd-node (Pulumi).\n" + TOML.stringify(doc);
    }
    return out;
}

/** Every TLS file the hosts.toml files name, with the input that names it: the configure step checks them. */
export function registryTlsFiles(spec: NodeSpec): { field: string; path: string }[] {
    return Object.entries(spec.config.registryTls).flatMap(([host, t]) =>
        REGISTRY_TLS_FIELDS.flatMap(k => t[k] ? [{ field: `config.registryTls["${host}"].${k}`, path: t[k]! }] : []));
}
