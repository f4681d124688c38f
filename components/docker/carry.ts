/**
 * Which of Docker's settings a node converted from Docker keeps, and how (pure): each setting is
 * carried by a typed input that holds it, not needed under containerd (said, not refused), or
 * refused naming the input that would carry it unless `upgrade.acknowledgeDropped` lists it as
 * `docker:KEY` (a key also covers every key beneath it). What kept Docker's settings from being
 * read (a daemon.json that is not JSON, a flag given both ways) refuses the node outright.
 */
import { DockerFacts } from "../facts";
import { ProxyValues } from "../render/proxy";
import { DOCKER_ACK_PREFIX, NodeSpec } from "../spec";
import { isPrefix, parseKey } from "../toml/keys";
import type { Carrier } from "../upgrade/carry";
import { equivalent } from "./equivalents";
import { DockerProblem, DockerSetting, dockerSettings } from "./settings";

/** One of Docker's settings and what becomes of it. */
export interface DockerFinding {
    setting: DockerSetting;
    /**
     * "carried": `carriers` hold it; "info": not needed under containerd (`carriers` is one
     * `none` with the reason); "refused": `carriers` would carry it (or one `none`: no
     * equivalent); "acknowledged": refused but listed in `upgrade.acknowledgeDropped`.
     */
    status: "carried" | "info" | "refused" | "acknowledged";
    carriers: Carrier[];
}

/** What becomes of every setting of Docker's on one node. */
export interface DockerCarryReport {
    /** One finding per setting, in the order read: daemon.json, flags, environment, certs.d. */
    findings: DockerFinding[];
    /** What kept a setting from being read exactly: each refuses the node. */
    problems: DockerProblem[];
}

/** The acknowledgement key of a Docker setting: `docker:log-opts.max-size`. */
export const ackKey = (s: DockerSetting) => `${DOCKER_ACK_PREFIX}${s.key}`;

/** True when an entry of `upgrade.acknowledgeDropped` names the setting's `docker:` key or a key above it. */
export function dockerAcknowledged(acks: readonly string[], s: DockerSetting): boolean {
    return acks.some(a => {
        const p = a.startsWith(DOCKER_ACK_PREFIX) ? parseKey(a.slice(DOCKER_ACK_PREFIX.length)) : undefined;
        return p !== undefined && isPrefix(p, s.path);
    });
}

/**
 * What becomes of each of Docker's settings on a node converted to the containerd `spec` declares,
 * with the proxy input's values (`proxy`, resolved: they may be secrets).
 */
export function dockerCarryReport(facts: DockerFacts, spec: NodeSpec, proxy: ProxyValues = {}): DockerCarryReport {
    const { settings, problems } = dockerSettings(facts);
    const findings = settings.map((s): DockerFinding => {
        const e = equivalent(s, spec, proxy);
        const status = e.status === "refused" && dockerAcknowledged(spec.upgrade.acknowledgeDropped, s) ? "acknowledged" : e.status;
        return { setting: s, status, carriers: e.carriers };
    });
    return { findings, problems };
}
