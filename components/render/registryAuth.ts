/**
 * The registry credentials file (pure): `registry.configs."HOST".auth` in the schema of the
 * installed containerd, imported by the rendered config.toml. Its own file, written by its own
 * step, so the credentials never enter a command text that a preview shows.
 */
import * as TOML from "@iarna/toml";
import { RegistryAuthArgs } from "../args";
import { NodeSpec } from "../spec";
import { CRI, CRI_IMAGES } from "../toml/schema3";
import { Table } from "../toml/keys";

/**
 * Outside /etc/containerd/conf.d and the like: an old config's `imports` glob must never pick up a
 * file of the newer schema (containerd 1.7.17+ refuses to start on a version 3 file).
 */
export const REGISTRY_AUTH_FILE = "/etc/containerd/containerd-node/registry-auth.toml";

/** The credentials with every secret resolved: only ever inside an apply, never printed. */
export type RegistryAuthValues = { [registry: string]: { [K in keyof RegistryAuthArgs]?: string } };

/** CRI AuthConfig's TOML names. */
export const AUTH_KEYS: { [K in keyof RegistryAuthArgs]-?: string } = { username: "username", password: "password", auth: "auth", identityToken: "identitytoken" };

/** The plugin table whose registry.configs the installed containerd reads. */
export const authPlugin = (spec: NodeSpec) => spec.config.schema >= 3 ? CRI_IMAGES : CRI;

export function renderRegistryAuthToml(spec: NodeSpec, values: RegistryAuthValues): string {
    const configs: Table = {};
    for (const host of spec.config.registryAuth) {
        const auth: Table = {};
        for (const [k, v] of Object.entries(values[host] ?? {})) {
            if (v !== undefined) {
                auth[AUTH_KEYS[k as keyof RegistryAuthArgs]] = v;
            }
        }
        configs[host] = { auth };
    }
    const doc: Table = { version: spec.config.schema, plugins: { [authPlugin(spec)]: { registry: { configs } } } };
    return "# Managed by containerd-node (Pulumi): registry credentials (config.registryAuth).\n" + TOML.stringify(doc as TOML.JsonMap);
}
