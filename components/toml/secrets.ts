/**
 * Secrets in a live config (registry credentials, tokens) are named in the pre-flight's messages
 * but their values never printed: a preview's output ends up in CI logs.
 */
import { TomlValue } from "../args";
import { KeyPath } from "./keys";

/** Leaf names that hold a credential wherever they appear. */
const SECRET_NAME = /(password|passwd|secret|token|credential|api_?key|^auth$|authorization)/i;

/**
 * True for every field of a registry's `auth` table (registry.configs.<host>.auth.*: username
 * too, which some registries use for a token) and of the deprecated registry.auths, and for any
 * key whose last segment is named like a credential.
 */
export function isSecretKey(path: KeyPath): boolean {
    const last = path[path.length - 1] ?? "";
    const r = path.lastIndexOf("registry");
    const underAuth = r >= 0 && ((path[r + 1] === "configs" && path[r + 3] === "auth") || path[r + 1] === "auths");
    return underAuth || SECRET_NAME.test(last);
}

/** The value as the messages show it: TOML-ish text, or `<secret, N chars>` for a secret. */
export function shownValue(path: KeyPath, value: TomlValue): string {
    if (isSecretKey(path)) {
        const text = typeof value === "string" ? value : JSON.stringify(value);
        return `<secret, ${text.length} chars>`;
    }
    return JSON.stringify(value);
}
