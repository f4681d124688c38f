/**
 * Dotted TOML keys (`plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io".endpoint`):
 * the names the upgrade pre-flight reports and `upgrade.acknowledgeDropped` takes, and the flat
 * view of a parsed TOML document they name.
 */
import { TomlValue } from "../args";

export type Table = { [key: string]: TomlValue };
export type KeyPath = readonly string[];

/** One leaf of a TOML document: a value that is not a table. */
export interface Leaf {
    path: string[];
    value: TomlValue;
}

const BARE = /^[A-Za-z0-9_-]+$/;

/** The key as TOML spells it: bare segments where allowed, the rest double-quoted. */
export function formatKey(path: KeyPath): string {
    return path.map(s => BARE.test(s) ? s : JSON.stringify(s)).join(".");
}

/**
 * Parses a dotted key (bare, "basic" and 'literal' segments, blanks around the dots);
 * undefined when it is not one.
 */
export function parseKey(text: string): string[] | undefined {
    const out: string[] = [];
    let i = 0;
    const blanks = () => { while (text[i] === " " || text[i] === "\t") { i++; } };
    for (;;) {
        blanks();
        const rest = text.slice(i);
        const m = /^"(?:[^"\\\n]|\\.)*"/.exec(rest) ?? /^'[^'\n]*'/.exec(rest) ?? /^[A-Za-z0-9_-]+/.exec(rest);
        if (!m) {
            return undefined;
        }
        try {
            out.push(m[0][0] === '"' ? JSON.parse(m[0]) : m[0][0] === "'" ? m[0].slice(1, -1) : m[0]);
        } catch {
            return undefined;
        }
        i += m[0].length;
        blanks();
        if (i === text.length) {
            return out;
        }
        if (text[i] !== ".") {
            return undefined;
        }
        i++;
    }
}

export function isPrefix(prefix: KeyPath, path: KeyPath): boolean {
    return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

export function isTable(v: unknown): v is Table {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The parser's values as plain TOML values: dates become their RFC 3339 text, big integers numbers. */
export function plainToml(v: unknown): TomlValue {
    if (v instanceof Date) {
        return v.toISOString();
    }
    if (typeof v === "bigint") {
        return Number(v);
    }
    if (Array.isArray(v)) {
        return v.map(plainToml);
    }
    if (isTable(v)) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainToml(x)]));
    }
    return v as TomlValue;
}

/** Every leaf, depth first in document order. Empty tables hold no setting and give none. */
export function leaves(t: Table, prefix: string[] = []): Leaf[] {
    const out: Leaf[] = [];
    for (const [k, v] of Object.entries(t)) {
        if (isTable(v)) {
            out.push(...leaves(v, [...prefix, k]));
        } else {
            out.push({ path: [...prefix, k], value: v });
        }
    }
    return out;
}

export function sameValue(a: TomlValue | undefined, b: TomlValue | undefined): boolean {
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: TomlValue | undefined): unknown {
    if (Array.isArray(v)) {
        return v.map(canonical);
    }
    if (isTable(v)) {
        return Object.keys(v).sort().map(k => [k, canonical(v[k])]);
    }
    return v;
}

/** Go's zero value: what containerd's config merge treats as "not set" in its own struct fields. */
export function isZero(v: TomlValue): boolean {
    return v === "" || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
}
