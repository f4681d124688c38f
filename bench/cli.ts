/** What the benchmarks share. */
import type * as grpcTypes from "@grpc/grpc-js";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

// The Automation API's own inline-program server, its gRPC service and the SDK's own grpc-js
// (not in the SDK's typings): what Stack.preview() uses to serve the program to the CLI.
const grpc: typeof grpcTypes = require(require.resolve("@grpc/grpc-js", { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] }));
const { LanguageServer } = require("@pulumi/pulumi/automation/server");
const langrpc = require("@pulumi/pulumi/proto/language_grpc_pb");
const langproto = require("@pulumi/pulumi/proto/language_pb");
const runtimeOptions = require("@pulumi/pulumi/runtime");
/** @pulumi/pulumi's own program runner, which the Node.js language host starts for a program. */
const RUNNER = path.join(path.dirname(require.resolve("@pulumi/pulumi")), "cmd", "run");
/** The repository (bench/ or bin/bench/ is this file's directory). */
const REPO = path.join(__dirname, __filename.endsWith(".js") ? "../.." : "..");

/**
 * Times the CLI's `up` process itself: Stack.up() also runs `pulumi stack output` and
 * `pulumi stack history` afterwards, which a person running `pulumi up` does not.
 */
export function timeCli(stack: Stack): { up: number } {
    const times = { up: 0 };
    // run() is the SDK's internal entry for every CLI invocation (not in its typings).
    const cmd = (stack.workspace as LocalWorkspace).pulumiCommand as unknown as { run: (args: string[], ...rest: unknown[]) => Promise<unknown> };
    const run = cmd.run.bind(cmd);
    cmd.run = async (args: string[], ...rest: unknown[]) => {
        const t0 = Date.now();
        try {
            return await run(args, ...rest);
        } finally {
            if (args[0] === "up") {
                times.up = (Date.now() - t0) / 1000;
            }
        }
    };
    return times;
}

/**
 * `pulumi preview --stack NAME` in `dir`, its program served from this process the way the
 * Automation API serves an inline program (the language server the CLI calls to run it), without
 * the Automation API's event stream. Returns the number of resources to create.
 */
export async function cliPreview(stackName: string, dir: string, program: () => Promise<unknown>, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<number> {
    const server = new grpc.Server(runtimeOptions.grpcChannelOptions);
    server.addService(langrpc.LanguageRuntimeService, new LanguageServer(program) as unknown as grpcTypes.UntypedServiceImplementation);
    const port: number = await new Promise((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => err ? reject(err) : resolve(p)));
    try {
        return await spawnPreview(stackName, [`--client=127.0.0.1:${port}`, "--exec-kind", "inline", ...extra], dir, env).creates;
    } finally {
        server.forceShutdown();
    }
}

/**
 * `pulumi preview --stack NAME` in `dir`, its program `programFile` run as the Node.js language
 * host runs a user's program: in a process of its own, `node NODEARGS @pulumi/pulumi/cmd/run
 * --monitor … --engine … PROGRAM`, under the project's Node.js options (nodeArgs), its config in
 * PULUMI_CONFIG, TypeScript through ts-node with tsconfig.pulumi.json (Pulumi.yaml's runtime
 * options). This process stands in for the language host, which the CLI asks to run the program
 * (`--client`). Unlike the Automation API's inline server (cliPreview), the SDK's runner gives the
 * program no AsyncLocalStorage store, whose promise hooks slow every promise of the program.
 * `onStart` gets the CLI's process ID, then the program's once it has started.
 */
export async function runnerPreview(stackName: string, dir: string, programFile: string, env: NodeJS.ProcessEnv, extra: string[],
    onStart: (pids: { cli: number } | { program: number }) => void): Promise<number> {
    const host = new LanguageServer(async () => undefined);
    let failure = "";
    host.run = (call: { request: any }, callback: (err: Error | undefined, resp: unknown) => void) => {
        const req = call.request;
        const config = Object.fromEntries(req.getConfigMap()?.entries() ?? []);
        const child = spawn(process.execPath, [...nodeArgs(), RUNNER,
            `--monitor=${req.getMonitorAddress()}`, `--engine=${req.getArgsList()[0] ?? ""}`, `--project=${req.getProject()}`, `--stack=${req.getStack()}`,
            `--organization=${req.getOrganization()}`, `--parallel=${req.getParallel()}`, `--pwd=${dir}`, ...(req.getDryrun() ? ["--dry-run"] : []), programFile], {
            env: {
                ...env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList() ?? []),
                PULUMI_NODEJS_TYPESCRIPT: "true", PULUMI_NODEJS_TSCONFIG_PATH: path.join(REPO, "tsconfig.pulumi.json"),
            },
            stdio: ["ignore", "ignore", "pipe"],
        });
        onStart({ program: child.pid! });
        child.stderr.on("data", d => { failure = (failure + d).slice(-4000); });
        child.on("exit", code => {
            const resp = new langproto.RunResponse();
            if (code !== 0) {
                resp.setError(`the program exited ${code}: ${failure}`);
            }
            callback(undefined, resp);
        });
    };
    const server = new grpc.Server(runtimeOptions.grpcChannelOptions);
    server.addService(langrpc.LanguageRuntimeService, host as unknown as grpcTypes.UntypedServiceImplementation);
    const port: number = await new Promise((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => err ? reject(err) : resolve(p)));
    try {
        const cli = spawnPreview(stackName, [`--client=127.0.0.1:${port}`, "--exec-kind", "inline", ...extra], dir, env);
        onStart({ cli: cli.pid });
        return await cli.creates;
    } finally {
        server.forceShutdown();
    }
}

/**
 * `pulumi preview --stack NAME [extra…]` in `dir`: the process, and the number of resources it
 * plans to create once it has ended (rejected with its output's tail if it fails).
 */
export function spawnPreview(stackName: string, extra: string[], dir: string, env: NodeJS.ProcessEnv): { pid: number; creates: Promise<number> } {
    const child = spawn("pulumi", ["preview", "--stack", stackName, "--non-interactive", "--color", "never", ...extra], {
        cwd: dir, env, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    // Only the summary is kept: the per-resource lines are not needed here.
    child.stdout.on("data", d => { out = (out + d).slice(-4000); });
    child.stderr.on("data", d => { err = (err + d).slice(-4000); });
    const creates = new Promise<number>((resolve, reject) => child.on("close", code => code === 0
        ? resolve(Number(/(\d+) to create/.exec(out)?.[1] ?? 0))
        : reject(new Error(`pulumi preview exited ${code}: ${err}${out}`))));
    return { pid: child.pid!, creates };
}

/**
 * The Node.js options the language host would give the program: `runtime.options.nodeargs` of
 * the project's Pulumi.yaml (BENCH_NODE_ARGS overrides it, to compare).
 */
export function nodeArgs(): string[] {
    const project = fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8");
    const text = process.env.BENCH_NODE_ARGS ?? /^\s+nodeargs:\s*"?([^"\n]*)"?\s*$/m.exec(project)?.[1] ?? "";
    return text.split(/\s+/).filter(Boolean);
}
