/**
 * The preview's lines about Docker's settings, in the style of the 1.x → 2.x findings
 * (upgrade/messages.ts): `NODE: in FILE:` once per file, then one line per setting naming its
 * `docker:` key (what `upgrade.acknowledgeDropped` takes), its value (a secret's never shown)
 * and the typed input that carries it or would.
 */
import { byFile, carrierText } from "../upgrade/messages";
import { ackKey, DockerCarryReport, DockerFinding } from "./carry";
import { SettingSource } from "./settings";

/** The file a setting was written in, as the `in FILE:` line names it. */
export function sourceFile(s: SettingSource): string {
    switch (s.kind) {
        case "daemon.json":
        case "flag":
        case "environment":
            return s.file;
        case "certs.d":
            return s.dir;
        default: {
            const never: never = s;
            throw new Error(`unknown source ${JSON.stringify(never)}`);
        }
    }
}

/** How the setting was written in its file: the flag, the variable, or nothing (a daemon.json key). */
function how(s: SettingSource): string {
    switch (s.kind) {
        case "flag":
            return ` (${s.flag})`;
        case "environment":
            return ` (${s.name})`;
        case "daemon.json":
        case "certs.d":
            return "";
        default: {
            const never: never = s;
            throw new Error(`unknown source ${JSON.stringify(never)}`);
        }
    }
}

/** The flag text shown, a secret's redacted: a flag's value is the setting's. */
function redactedHow(f: DockerFinding): string {
    return f.setting.secret && f.setting.source.kind === "flag" ? ` (--${f.setting.path.join(".")} <secret>)` : how(f.setting.source);
}

const carriersText = (f: DockerFinding) => f.carriers.map(carrierText).join(" and ");

/** One setting's line, without its file (see byFile). */
export function formatDockerFinding(node: string, f: DockerFinding): string {
    const what = `${node}: ${ackKey(f.setting)} = ${f.setting.shown}${redactedHow(f)}`;
    const noneReason = f.carriers.length === 1 && f.carriers[0].kind === "none" ? f.carriers[0].reason : undefined;
    switch (f.status) {
        case "carried":
            return `${what} carried: ${carriersText(f)}`;
        case "info":
            return `${what} not carried, not needed: ${noneReason ?? carriersText(f)}`;
        case "acknowledged":
            return `${what} is dropped, as upgrade.acknowledgeDropped says`;
        case "refused":
            return noneReason !== undefined
                ? `${what} would be dropped: no equivalent under containerd (${noneReason}); list ${ackKey(f.setting)} in upgrade.acknowledgeDropped to drop it`
                : `${what} would be dropped: set ${carriersText(f)}, or list ${ackKey(f.setting)} in upgrade.acknowledgeDropped`;
        default: {
            const never: never = f.status;
            throw new Error(`unknown status ${JSON.stringify(never)}`);
        }
    }
}

const withFile = (fs: DockerFinding[]) => fs.map(f => ({ ...f, file: sourceFile(f.setting.source) }));

/** The plan's lines: a count, then what is carried, not needed and acknowledged, by file. */
export function dockerLines(node: string, r: DockerCarryReport): string[] {
    const count = (s: DockerFinding["status"]) => r.findings.filter(f => f.status === s).length;
    return [
        `${node}: Docker's settings: ${count("carried")} carried, ${count("info")} not needed under containerd, ${count("acknowledged")} dropped as acknowledged, ${count("refused")} not carried`,
        ...byFile(node, withFile(r.findings.filter(f => f.status !== "refused")), formatDockerFinding),
    ];
}

/** The lines that refuse the node: what kept a setting from being read, then each setting not carried. */
export function dockerRefusals(node: string, r: DockerCarryReport): string[] {
    return [
        ...r.problems.map(p => `${node}: Docker's settings in ${p.file}: ${p.what}: fix it on the node, then run again`),
        ...byFile(node, withFile(r.findings.filter(f => f.status === "refused")), formatDockerFinding),
    ];
}
