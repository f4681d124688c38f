/**
 * containerd 2.x's own defaults for the settings whose default 2.0 changed from 1.7's
 * (`enable_cdi`, `enable_unprivileged_ports`, `enable_unprivileged_icmp`: false → true; the
 * runtime plugin's defaults in internal/cri/config at v2.0.0, and what `containerd config
 * default` of 2.2.7 prints, tests/fixtures/upgrade/config-default-2.2.7.toml, which the unit tests
 * hold this table to). A live 1.x value equal to the target's default is carried by the target
 * itself: the rendered file need not set it, and nothing is lost.
 */
import { TomlValue } from "../args";
import { KeyPath, sameValue } from "../toml/keys";
import { CRI_RUNTIME } from "../toml/schema3";

export interface Default2 {
    /** Schema 3 path. */
    path: string[];
    value: TomlValue;
}

export const DEFAULTS_2: readonly Default2[] = ["enable_cdi", "enable_unprivileged_ports", "enable_unprivileged_icmp"]
    .map(k => ({ path: ["plugins", CRI_RUNTIME, k], value: true }));

/** True when `value` at schema 3 path `t` is what every containerd 2.x does without being told. */
export function isDefault2(t: KeyPath, value: TomlValue): boolean {
    return DEFAULTS_2.some(d => d.path.length === t.length && d.path.every((s, i) => s === t[i]) && sameValue(d.value, value));
}
