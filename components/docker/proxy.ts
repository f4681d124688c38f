/**
 * Proxy settings as Go reads them (pure): golang.org/x/net/http/httpproxy, behind net/http's
 * ProxyFromEnvironment, which both dockerd and containerd pull through. Two values that Go reads
 * the same are the same setting: `proxy.corp:3128` is `http://proxy.corp:3128` (a value without a
 * scheme is read as http://), `http://proxy.corp` is `http://proxy.corp:80` (the scheme's port),
 * and `localhost, .corp` is `.corp,LOCALHOST` (NO_PROXY's entries are trimmed, case-folded and
 * unordered; `*.corp` is `.corp`).
 */

/** A proxy URL as Go's transport uses it: the scheme, the credentials it sends, the address it dials. */
export interface ProxyAddress {
    scheme: string;
    user: string;
    password: string;
    host: string;
    port: string;
}

/** The port Go's transport dials when the proxy URL names none (net/http's canonicalAddr). */
const DEFAULT_PORTS: { [scheme: string]: string } = { http: "80", https: "443", socks5: "1080", socks5h: "1080" };

const parse = (text: string): URL | undefined => {
    try {
        return new URL(text);
    } catch {
        return undefined;
    }
};

const decoded = (s: string): string => {
    try {
        return decodeURIComponent(s);
    } catch {
        return s;
    }
};

/**
 * The address a proxy value names, as httpproxy's parseProxy reads it: the URL, or, when that
 * has no scheme or host, "http://" and the value; undefined when neither parses.
 */
export function readProxyUrl(text: string): ProxyAddress | undefined {
    let u = parse(text.trim());
    if (u === undefined || u.host === "") {
        u = parse(`http://${text.trim()}`);
    }
    if (u === undefined || u.host === "") {
        return undefined;
    }
    const scheme = u.protocol.replace(/:$/, "").toLowerCase();
    return { scheme, user: decoded(u.username), password: decoded(u.password), host: u.hostname.toLowerCase(), port: u.port || DEFAULT_PORTS[scheme] || "" };
}

/** True when Go reads both as the same proxy (and sends it the same credentials). */
export function sameProxyUrl(a: string, b: string): boolean {
    const [x, y] = [readProxyUrl(a), readProxyUrl(b)];
    return x !== undefined && y !== undefined && (Object.keys(x) as (keyof ProxyAddress)[]).every(k => x[k] === y[k]);
}

/** NO_PROXY's entries as httpproxy takes them: trimmed, lower-case, `*.` as `.`, empty ones skipped; `*` alone covers all. */
export function readNoProxy(text: string): string[] {
    const entries = text.split(",").map(e => e.trim().toLowerCase()).filter(e => e !== "");
    if (entries.includes("*")) {
        return ["*"];
    }
    return [...new Set(entries.map(e => e.startsWith("*.") ? e.slice(1) : e))].sort();
}

/** True when Go exempts the same hosts from the proxy with either list. */
export function sameNoProxy(a: string, b: string): boolean {
    const [x, y] = [readNoProxy(a), readNoProxy(b)];
    return x.length === y.length && x.every((e, i) => e === y[i]);
}
