/**
 * Docker's log size (`log-opts` `max-size`) as the kubelet's `containerLogMaxSize` takes it (pure).
 * Docker reads the size with go-units' FromHumanSize: decimal units, case-insensitive, an
 * optional `i` and `b` after the unit ignored, so `100m` is 10^8 bytes. The kubelet reads a
 * Kubernetes quantity, where `100M` is 10^8 bytes and `100Mi` 100 × 2^20: the same size is `100M`.
 */

const UNITS: [string, number][] = [["P", 1e15], ["T", 1e12], ["G", 1e9], ["M", 1e6], ["k", 1e3]];

/** The bytes of a Docker size (`"100m"` → 100000000); undefined when Docker would not read it. */
export function dockerSizeBytes(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text.trim());
    if (!m) {
        return undefined;
    }
    const unit = m[2] ? UNITS.find(([u]) => u.toLowerCase() === m[2].toLowerCase())![1] : 1;
    return Math.trunc(Number(m[1]) * unit);
}

/**
 * A Docker size as a Kubernetes quantity of the same bytes, in the largest decimal unit that
 * divides it (`"100m"` → `"100M"`, `"1.5g"` → `"1500M"`, `"512"` → `"512"`); undefined when
 * Docker would not read it.
 */
export function kubeletLogSize(dockerSize: string): string | undefined {
    const bytes = dockerSizeBytes(dockerSize);
    if (bytes === undefined) {
        return undefined;
    }
    const unit = UNITS.find(([, n]) => bytes >= n && bytes % n === 0);
    return unit ? `${bytes / unit[1]}${unit[0]}` : String(bytes);
}
