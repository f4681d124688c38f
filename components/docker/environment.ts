/**
 * docker.service's environment as systemd gives it to dockerd (pure): `Environment=` assignments
 * as `systemctl show -p Environment` prints them, EnvironmentFile= files, and ExecStart's `$VAR`
 * and `${VAR}` expanded the way systemd expands them (systemd.service(5), "Command lines").
 */
import { DockerFacts } from "../facts";

/** One variable of dockerd's environment and where it was set. */
export interface EnvVar {
    name: string;
    value: string;
    /** The file that sets it: an environment file, a drop-in, or "docker.service" when no drop-in names it. */
    file: string;
}

const ESCAPES: { [c: string]: string | undefined } = { n: "\n", t: "\t", r: "\r" };

/** Splits `systemctl show -p Environment`'s value: blank-separated words, "double quotes" and C escapes. */
export function splitShown(text: string): string[] {
    const out: string[] = [];
    let word: string | undefined;
    let quote = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "\\" && i + 1 < text.length) {
            const e = text[++i];
            word = (word ?? "") + (ESCAPES[e] ?? e);
        } else if (c === "\"" || c === "'") {
            quote = !quote;
            word = word ?? "";
        } else if (!quote && (c === " " || c === "\t" || c === "\n")) {
            if (word !== undefined) {
                out.push(word);
            }
            word = undefined;
        } else {
            word = (word ?? "") + c;
        }
    }
    if (word !== undefined) {
        out.push(word);
    }
    return out;
}

/**
 * An EnvironmentFile's assignments: `KEY=VALUE` lines, `#` and `;` comments, values in "double"
 * or 'single' quotes, a trailing backslash continuing a line. A leading `export ` is taken too
 * (an over-report beats a setting missed).
 */
export function parseEnvFile(text: string): [string, string][] {
    const out: [string, string][] = [];
    const lines = text.replace(/\\\r?\n/g, "").split(/\r?\n/);
    for (const raw of lines) {
        const line = raw.trim().replace(/^export\s+/, "");
        const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
        if (!m || line.startsWith("#") || line.startsWith(";")) {
            continue;
        }
        let v = m[2];
        const q = v[0];
        if ((q === "\"" || q === "'") && v.lastIndexOf(q) > 0) {
            v = v.slice(1, v.lastIndexOf(q));
            if (q === "\"") {
                v = v.replace(/\\(["\\$`])/g, "$1");
            }
        } else {
            v = v.replace(/\s+#.*$/, "").trim();
        }
        out.push([m[1], v]);
    }
    return out;
}

/**
 * dockerd's environment from its unit: Environment= (attributed to the last drop-in that assigns
 * the name, else docker.service), then the environment files, which override it (systemd.exec(5)).
 */
export function unitEnvironment(facts: DockerFacts): EnvVar[] {
    const vars = new Map<string, EnvVar>();
    for (const word of splitShown(facts.environment)) {
        const at = word.indexOf("=");
        if (at <= 0) {
            continue;
        }
        const name = word.slice(0, at);
        const dropIn = [...facts.dropIns].reverse().find(d => d.status === "present" && new RegExp(`^\\s*Environment\\s*=.*\\b${name}=`, "m").test(d.text));
        vars.set(name, { name, value: word.slice(at + 1), file: dropIn?.path ?? "docker.service" });
    }
    for (const f of facts.envFiles) {
        if (f.status === "present") {
            for (const [name, value] of parseEnvFile(f.text)) {
                vars.set(name, { name, value, file: f.path });
            }
        }
    }
    return [...vars.values()];
}

/** One argument after expansion, and the variable it came from (undefined: written in ExecStart). */
export interface ExpandedArg {
    arg: string;
    from?: EnvVar;
}

/**
 * ExecStart's words with systemd's expansion: a word that is just `$VAR` becomes the variable's
 * value split on blanks (nothing when unset or empty); `${VAR}` inside a word is replaced by the
 * value as it is, one word.
 */
export function expandArgs(words: readonly string[], env: readonly EnvVar[]): ExpandedArg[] {
    const get = (name: string) => env.find(e => e.name === name);
    return words.flatMap((w): ExpandedArg[] => {
        const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
        if (whole) {
            const v = get(whole[1]);
            return (v?.value ?? "").split(/\s+/).filter(s => s !== "").map(arg => ({ arg, from: v }));
        }
        let from: EnvVar | undefined;
        const arg = w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
            from = get(name) ?? from;
            return get(name)?.value ?? "";
        });
        return [{ arg, from }];
    });
}
