/** Whether moving a node's containerd from one version to another drains it (`upgrade.drain`). */
import { UpgradeDrainPolicy } from "../args";
import { Version } from "../versions";

export interface DrainDecision {
    /** "restart-in-place": containerd is swapped under running containers (KillMode=process). */
    action: "drain" | "restart-in-place";
    reason: string;
}

export function drainDecision(from: Version, to: Version, policy: UpgradeDrainPolicy): DrainDecision {
    const move = `containerd ${from.text} → ${to.text}`;
    switch (policy) {
        case "major":
            // A major move changes the shims, the config schema and the metadata database; within a
            // major version 2.x takes over its own shims' tasks.
            return from.major !== to.major
                ? { action: "drain", reason: `${move} changes the major version (upgrade.drain "major")` }
                : { action: "restart-in-place", reason: `${move} keeps the major version (upgrade.drain "major")` };
        case "always":
            return { action: "drain", reason: `${move}: upgrade.drain is "always"` };
        case "never":
            return { action: "restart-in-place", reason: `${move}: upgrade.drain is "never"` };
        default: {
            const never: never = policy;
            throw new Error(`unknown upgrade.drain policy ${JSON.stringify(never)}`);
        }
    }
}
