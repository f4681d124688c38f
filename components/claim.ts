/**
 * A run's claim on a node as the pre-flight reads it off the node (what the claim is, and the
 * node-side functions that take and end it: components/scripts/claim.ts): the claim file's fields, their
 * parser, and what another stack's claim means for this run.
 */

/** The claim file as the facts read finds it (the same fields cn_claim writes). */
export interface NodeClaim {
    holder: string;
    step: string;
    /** "running", or "finished at <UTC>". */
    state: string;
    /** When the holder's run took the node (UTC). */
    since: string;
    /** Epoch second it lapses at for other holders. */
    until: number;
}

/** The claim file's one line; undefined when there is none or it can't be read. */
export function parseClaim(text: string): NodeClaim | undefined {
    const [holder, step, state, since, until] = text.replace(/\n$/, "").split("\t");
    if (!holder || !/^\d+$/.test(until ?? "")) {
        return undefined;
    }
    return { holder, step, state, since, until: Number(until) };
}

/**
 * What the pre-flight makes of another stack's claim on the node, read before the run: the run's
 * steps there would be refused, so it is refused before any node changes (at preview: said).
 * Undefined when the node is free, the claim is this stack's own, or it has lapsed.
 */
export function claimConflict(node: string, claim: NodeClaim | undefined, holder: string, nowSeconds: number): string | undefined {
    if (!claim || claim.holder === holder || claim.until <= nowSeconds) {
        return undefined;
    }
    const until = new Date(claim.until * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    return `${node}: the node is being converted by ${claim.holder} (its run has had the node since ${claim.since}; its step ${claim.step} ${claim.state}): ` +
        `run again once that run is over (its last node step releases the node; if that run died, or its last step had nothing to run, the claim lapses at ${until})`;
}
