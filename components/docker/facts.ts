/**
 * Parses what the node library's docker_facts prints (components/node/lib.sh, the record format
 * is described there) into DockerFacts: Docker's daemon.json, dockerd's arguments, docker.service's
 * environment, drop-ins and environment files, and certs.d's file names.
 */
import { DOCKER_FACTS_FORMAT, DOCKER_FACTS_MAGIC, DockerFacts, DockerFile } from "../facts";

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

class DockerFactsError extends Error {
    constructor(line: number, message: string) {
        super(`Docker facts, line ${line}: ${message}`);
        this.name = "DockerFactsError";
    }
}

/** A field's text: "-" is empty, anything else standard base64. */
function text(v: string | undefined, n: number, what: string): string {
    if (v === "-") {
        return "";
    }
    if (v === undefined || v === "") {
        throw new DockerFactsError(n, `${what}: a missing field (an empty value is "-")`);
    }
    if (v.length % 4 !== 0 || !B64.test(v)) {
        throw new DockerFactsError(n, `${what}: not base64: ${JSON.stringify(v.slice(0, 80))}`);
    }
    return Buffer.from(v, "base64").toString("utf8");
}

/** `B(path) present B(content)`, `B(path) absent` or `B(path) error B(why)`. */
function file(f: string[], n: number, kind: string): DockerFile {
    const path = text(f[0], n, `${kind} path`);
    if (f[1] === "present" && f.length === 3) {
        return { path, status: "present", text: text(f[2], n, `${path}: content`) };
    }
    if (f[1] === "absent" && f.length === 2) {
        return { path, status: "absent" };
    }
    if (f[1] === "error" && f.length === 3) {
        return { path, status: "error", error: text(f[2], n, `${path}: error`) };
    }
    throw new DockerFactsError(n, `${kind} ${path}: expected "present B", "absent" or "error B", got ${JSON.stringify(f.slice(1).join(" ").slice(0, 80))}`);
}

/**
 * The Docker facts in a reader's output; undefined when there is no block (Docker is not
 * installed, or an older reader). Throws naming the line for a block that is cut short or garbled.
 */
export function parseDockerFacts(stdout: string): DockerFacts | undefined {
    const lines = stdout.split("\n").map(l => l.replace(/\r$/, ""));
    const begin = `${DOCKER_FACTS_MAGIC} ${DOCKER_FACTS_FORMAT} begin`;
    const end = `${DOCKER_FACTS_MAGIC} ${DOCKER_FACTS_FORMAT} end`;
    const start = lines.indexOf(begin);
    if (start < 0) {
        const other = lines.find(l => l.startsWith(`${DOCKER_FACTS_MAGIC} `) && l.endsWith(" begin"));
        if (other) {
            throw new Error(`Docker facts: format "${other}" is not this package's (${begin}): the node ran another version of the reader`);
        }
        return undefined;
    }
    const facts: Partial<DockerFacts> & { envFiles: DockerFile[]; dropIns: DockerFile[]; certsD: DockerFacts["certsD"] } = { envFiles: [], dropIns: [], certsD: [] };
    const seen = new Set<string>();
    for (let i = start + 1; i < lines.length; i++) {
        const n = i + 1;
        const line = lines[i];
        if (line === end) {
            if (facts.environment === undefined && facts.unitLoadState !== undefined) {
                throw new Error("Docker facts: a unit but no environment record");
            }
            if (!facts.daemonJson) {
                throw new Error("Docker facts: no daemon-json record");
            }
            return { ...facts, environment: facts.environment ?? "", daemonJson: facts.daemonJson };
        }
        const [kind, ...f] = line.split(" ");
        const arity = (count: number) => {
            if (f.length !== count) {
                throw new DockerFactsError(n, `"${kind}" takes ${count} fields, got ${f.length}`);
            }
        };
        const once = () => {
            if (seen.has(kind)) {
                throw new DockerFactsError(n, `a second "${kind}" record`);
            }
            seen.add(kind);
        };
        switch (kind) {
            case "dockerd":
                arity(1);
                once();
                facts.dockerd = text(f[0], n, "dockerd");
                break;
            case "unit":
                arity(1);
                once();
                facts.unitLoadState = text(f[0], n, "unit");
                break;
            case "pid":
                arity(1);
                once();
                if (!/^\d+$/.test(f[0])) {
                    throw new DockerFactsError(n, `pid: not a number: ${JSON.stringify(f[0])}`);
                }
                facts.pid = Number(f[0]);
                break;
            case "argv": {
                once();
                const [source, ...args] = f;
                if (source !== "process" && source !== "unit") {
                    throw new DockerFactsError(n, `argv: source must be process or unit, got ${JSON.stringify(source)}`);
                }
                facts.argv = { source, args: args.filter(a => a !== "").map((a, j) => text(a, n, `argv[${j}]`)) };
                break;
            }
            case "environment":
                arity(1);
                once();
                facts.environment = text(f[0], n, "environment");
                break;
            case "env-file":
                facts.envFiles.push(file(f, n, kind));
                break;
            case "drop-in":
                facts.dropIns.push(file(f, n, kind));
                break;
            case "daemon-json": {
                once();
                const named = f[1];
                if (named !== "flag" && named !== "default") {
                    throw new DockerFactsError(n, `daemon-json: expected flag or default after the path, got ${JSON.stringify(named)}`);
                }
                facts.daemonJson = { ...file([f[0], ...f.slice(2)], n, kind), named };
                break;
            }
            case "certs-file": {
                arity(2);
                const host = text(f[0], n, "certs.d host");
                const name = text(f[1], n, "certs.d file");
                const dir = facts.certsD.find(d => d.host === host);
                if (dir) {
                    dir.files.push(name);
                } else {
                    facts.certsD.push({ host, files: [name] });
                }
                break;
            }
            default:
                throw new DockerFactsError(n, `unknown record ${JSON.stringify(line.slice(0, 120))}`);
        }
    }
    throw new Error(`Docker facts: no "${end}" line: the output was cut short`);
}
