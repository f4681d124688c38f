/**
 * Reads a node's facts over SSH from the program itself, at preview and at up, before any step
 * runs: the command provider runs nothing at preview, and a refusal must come before anything on
 * any node changes. The same connection settings as the steps; the key stays in this process.
 */
import { createHash } from "crypto";
import { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, ParsedKey, utils } from "ssh2";
import { parseClaim } from "../claim";
import { CLAIM_LINE, HOST_LINE, HostFacts, NodeFacts, RUNTIME_LINE } from "../facts";
import { nodeFactsScript, NodeFactsOptions } from "../scripts/upgradeFacts";
import { scriptCommand } from "../scripts/shell";
import { parseDockerFacts } from "../docker/facts";
import { parseUpgradeFacts } from "../upgrade/facts";

/** The connection as the steps get it, resolved (secrets as plain text, in memory only). */
export interface ResolvedConnection {
    host: string;
    port: number;
    user: string;
    privateKey?: string;
    privateKeyPassword?: string;
    password?: string;
    agentSocketPath?: string;
    hostKey?: string;
    dialErrorLimit: number;
    perDialTimeout: number;
}

/** Dials at most this many times: a preview must not wait minutes for a node that is down. */
const MAX_READ_DIALS = 3;

/** The reader's `containerd-node-host KEY VALUE` lines (the node library's host_facts); undefined without them. */
export function parseHostFacts(stdout: string): HostFacts | undefined {
    const host: HostFacts = { arch: "", systemd: false, freeMiB: {}, runc: false };
    let seen = false;
    for (const line of stdout.split("\n")) {
        if (!line.startsWith(`${HOST_LINE} `)) {
            continue;
        }
        seen = true;
        const [key, ...rest] = line.slice(HOST_LINE.length + 1).split(" ");
        const value = rest.join(" ").trim();
        const given = value === "-" || value === "" ? undefined : value;
        switch (key) {
            case "arch": host.arch = value; break;
            case "systemd": host.systemd = value === "1"; break;
            case "free": {
                const [mib, ...p] = rest;
                host.freeMiB[p.join(" ")] = Number(mib);
                break;
            }
            case "package-manager": host.packageManager = given; break;
            case "runc": host.runc = value === "1"; break;
            case "kubelet": host.kubeletVersion = given; break;
            case "before": host.runtimeBefore = given; break;
            default: break;
        }
    }
    return seen ? host : undefined;
}

/** Parses the reader's stdout: the runtime line, the claim line, the host lines, the Docker facts block (when Docker is installed), then the facts block. */
export function parseNodeFacts(stdout: string): NodeFacts {
    const line = stdout.split("\n").find(l => l.startsWith(`${RUNTIME_LINE} `));
    if (line === undefined) {
        throw new Error("the node facts reader printed no runtime line");
    }
    const claimLine = stdout.split("\n").find(l => l.startsWith(`${CLAIM_LINE} `))?.slice(CLAIM_LINE.length + 1).trim();
    const claim = claimLine && claimLine !== "-" ? parseClaim(Buffer.from(claimLine, "base64").toString("utf8")) : undefined;
    const host = parseHostFacts(stdout);
    const docker = parseDockerFacts(stdout);
    return {
        runtime: line.slice(RUNTIME_LINE.length + 1).trim(), upgrade: parseUpgradeFacts(stdout),
        ...(claim ? { claim } : {}), ...(host ? { host } : {}), ...(docker ? { docker } : {}),
    };
}

/** The key blob of `ssh-ed25519 AAAA… comment`, to compare with what the server presents. */
function pinnedBlob(hostKey: string): Buffer {
    const parts = hostKey.trim().split(/\s+/);
    if (parts.length < 2) {
        throw new Error(`connection.hostKey: expected "TYPE BASE64", got ${JSON.stringify(hostKey.slice(0, 40))}`);
    }
    return Buffer.from(parts[1], "base64");
}

/** OpenSSH's fingerprint of a key blob (what `ssh-keygen -lf` prints). */
function fingerprint(blob: Buffer): string {
    return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Private keys parsed, by a hash of the key and its passphrase. */
const parsedKeys = new Map<string, ParsedKey>();

/**
 * `key` parsed (decrypted with `passphrase`) once for every read that uses it: ssh2 parses the key
 * it is given at each connection, and an OpenSSH key with a passphrase takes bcrypt's rounds (about
 * half a second of this process's CPU with ssh-keygen's default 16 rounds), which a fleet of
 * 1,000 nodes read with one key would pay 1,000 times. A key that does not parse is given back as
 * it is: ssh2 says what is wrong with it, as before.
 */
export function sshKey(key: string, passphrase: string | undefined): string | ParsedKey {
    const id = createHash("sha256").update(key).update("\0").update(passphrase ?? "").digest("hex");
    let parsed = parsedKeys.get(id);
    if (parsed === undefined) {
        const p = utils.parseKey(key, passphrase) as ParsedKey | ParsedKey[] | Error;
        if (p instanceof Error) {
            return key;
        }
        // (A file of several keys: ssh2 takes the first, as it does with the text.)
        parsed = Array.isArray(p) ? p[0] : p;
        parsedKeys.set(id, parsed);
    }
    return parsed;
}

/**
 * The client's settings. A pinned host key is checked during the key exchange, before any
 * credential is offered; `refused` records what the node presented instead, for the error.
 */
function connectConfig(c: ResolvedConnection, refused: { key?: string }): ConnectConfig {
    const pinned = c.hostKey ? pinnedBlob(c.hostKey) : undefined;
    const verify = (key: Buffer) => {
        if (pinned!.equals(key)) {
            return true;
        }
        refused.key = fingerprint(key);
        return false;
    };
    const agent = c.agentSocketPath ?? (c.privateKey === undefined && c.password === undefined ? process.env.SSH_AUTH_SOCK : undefined);
    const key = c.privateKey === undefined ? undefined : sshKey(c.privateKey, c.privateKeyPassword);
    // A key parsed once (sshKey) is offered by an authHandler, in ssh2's own order of methods: its
    // config takes a key's text only, which it would parse again. A key that did not parse goes as
    // text, and ssh2 fails the connection saying why ("Cannot parse privateKey: …").
    const methods: (AuthenticationType | AnyAuthMethod)[] | undefined = typeof key === "object" ? [
        "none", ...(c.password !== undefined ? ["password" as const] : []),
        { type: "publickey", username: c.user, key },
        ...(agent !== undefined ? ["agent" as const] : []), ...(c.password !== undefined ? ["keyboard-interactive" as const] : []),
    ] : undefined;
    return {
        host: c.host,
        port: c.port,
        username: c.user,
        password: c.password,
        agent,
        tryKeyboard: c.password !== undefined,
        readyTimeout: c.perDialTimeout * 1000,
        hostVerifier: pinned ? verify : undefined,
        // (Each method in turn, then none left: ssh2 takes what the handler returns.)
        ...(methods ? { authHandler: () => methods.shift() ?? false } : { privateKey: c.privateKey, passphrase: c.privateKeyPassword }),
    };
}

function runOnce(c: ResolvedConnection, command: string, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        const refused: { key?: string } = {};
        let settled = false;
        const fail = (e: Error) => {
            if (!settled) {
                settled = true;
                client.end();
                reject(refused.key ? new Error(`the node's host key ${refused.key} is not connection.hostKey ${fingerprint(pinnedBlob(c.hostKey!))}: refused before any credential was offered`) : e);
            }
        };
        client.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) => finish(prompts.map(() => c.password ?? "")));
        client.on("error", fail);
        client.on("ready", () => client.exec(command, (err, stream) => {
            if (err) {
                return fail(err);
            }
            const out: Buffer[] = [];
            const errOut: Buffer[] = [];
            stream.on("data", (d: Buffer) => out.push(d));
            stream.stderr.on("data", (d: Buffer) => errOut.push(d));
            stream.end(stdin);
            stream.on("close", (code: number | null) => {
                settled = true;
                client.end();
                resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errOut).toString("utf8") });
            });
        }));
        client.connect(connectConfig(c, refused));
    });
}

/**
 * Dials (a few times, 1 s apart), runs the facts reader (read-only unless `options.prepare`) and
 * parses what it printed.
 */
export async function readNodeFacts(c: ResolvedConnection, options: NodeFactsOptions = {}): Promise<NodeFacts> {
    const script = nodeFactsScript(options);
    const dials = Math.max(1, Math.min(c.dialErrorLimit, MAX_READ_DIALS));
    let last: Error | undefined;
    for (let i = 1; i <= dials; i++) {
        try {
            const r = await runOnce(c, scriptCommand(c.user), script);
            if (r.code !== 0) {
                throw new Error(`the facts reader exited ${r.code}: ${r.stderr.trim().split("\n").slice(-5).join("; ")}`);
            }
            return parseNodeFacts(r.stdout);
        } catch (e) {
            last = e as Error;
            // Only a failed dial is retried: a bad key, a refused login or a reader that ran and
            // failed would fail again. A connection closed before the key exchange is a dial that
            // failed too: sshd drops new connections beyond its MaxStartups while many are pending.
            const dialFailed = (last as NodeJS.ErrnoException).code !== undefined || /timed out|Connection lost before handshake/i.test(last.message);
            if (!dialFailed || i === dials) {
                break;
            }
            await new Promise(r => setTimeout(r, 1000));
        }
    }
    throw new Error(`reading ${c.user}@${c.host}:${c.port}: ${last?.message}`);
}
