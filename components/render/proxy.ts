/**
 * containerd's proxy environment (pure): a `containerd.service.d` drop-in with an `Environment=`
 * line per variable, the way Docker's and containerd's documentation write one. Its own file,
 * written by its own step (`proxy`), so that a value given as a secret never enters a command
 * text that a preview shows.
 */
import { ProxyArgs } from "../args";

/** The drop-in: the name both projects' documentation use, so a hand-made one is taken over. */
export const PROXY_DROPIN = "/etc/systemd/system/containerd.service.d/http-proxy.conf";

/** Its first line: what marks the file as this package's (a hand-made one is never removed). */
export const PROXY_DROPIN_HEAD = "# Managed by containerd-node (Pulumi): containerd's proxy environment (proxy).";

/** The proxy values with every secret resolved: only ever inside an apply, never printed. */
export type ProxyValues = { [K in keyof ProxyArgs]?: string };

/** Each input and the variable it sets, in the order the drop-in lists them. */
export const PROXY_VARIABLES: readonly [keyof ProxyArgs, string][] = [
    ["httpProxy", "HTTP_PROXY"],
    ["httpsProxy", "HTTPS_PROXY"],
    ["noProxy", "NO_PROXY"],
];

/**
 * One assignment as systemd reads `Environment=` in a unit file (systemd.exec(5), systemd.syntax(7)):
 * the whole `NAME=value` in double quotes, where `\` and `"` are escaped, and `%` is doubled
 * (specifiers are expanded there; a percent-encoded password holds `%`). `$` has no meaning there.
 */
export function environmentLine(name: string, value: string): string {
    const quoted = value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/%/g, "%%");
    return `Environment="${name}=${quoted}"`;
}

/** The drop-in's text for the given values (spec.ts has checked them: no line breaks). */
export function renderProxyDropIn(values: ProxyValues): string {
    const lines = PROXY_VARIABLES.filter(([field]) => values[field] !== undefined && values[field] !== "")
        .map(([field, name]) => environmentLine(name, values[field]!));
    return `${PROXY_DROPIN_HEAD}\n[Service]\n${lines.join("\n")}\n`;
}
