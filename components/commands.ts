/**
 * The command provider's resources, as this package registers them: the same type tokens,
 * provider version, inputs and options as @pulumi/command's own `remote.Command` and
 * `local.Command`, so the engine, the state and `pulumi preview` see no difference; but only the
 * properties this package sets or reads are declared.
 *
 * Why: for every property a resource class declares, the SDK makes an Output and four promises,
 * each with a stack trace (source-mapped under `pulumi`'s own runner), and the generated classes
 * declare all eleven. A fleet's preview registers thousands of steps, and that per-property work
 * was most of its time: 4,000 steps took 51.7 s to preview with the generated classes under source
 * maps and 27.7 s declared this way (bench/preview.ts measures whole fleets).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

// The plugin version the generated classes ask the engine for: the npm package's own.
const COMMAND_VERSION: string = require("@pulumi/command/package.json").version.replace(/^v/, "");

/** What both kinds of step share: the command text, its triggers, and what it prints. */
interface StepArgs {
    create: pulumi.Input<string>;
    /** A change of any of these replaces the step (runs `create` again): the provider's rule. */
    triggers?: pulumi.Input<any[]>;
}

declare const secretBrand: unique symbol;

/**
 * A node's connection as one secret Output (secretConnection), which all its remote steps send,
 * as the generated class sends it: it holds the key or password. Made once a node: each
 * `pulumi.secret` of the object is a few Outputs more.
 */
export type SecretConnection = pulumi.Output<command.types.input.remote.ConnectionArgs> & { readonly [secretBrand]: true };

/** The connection as the steps send it: one secret. */
export function secretConnection(c: command.types.input.remote.ConnectionArgs): SecretConnection {
    return pulumi.secret(c) as SecretConnection;
}

export interface RemoteStepArgs extends StepArgs {
    connection: SecretConnection;
    /** Given to `create` on its standard input: the step's script (components/scripts/shell.ts). */
    stdin?: pulumi.Input<string>;
}

export interface LocalStepArgs extends StepArgs {
    interpreter?: pulumi.Input<pulumi.Input<string>[]>;
    environment?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** Given to the command on its standard input (a kubeconfig's content, a secret). */
    stdin?: pulumi.Input<string>;
}

/**
 * The properties of a step: the given inputs, and stdout. An input left out is not declared at
 * all (not even as undefined, which the engine would not see either): each costs the SDK as much
 * as one that is set.
 */
function stepProps(inputs: Record<string, unknown>): pulumi.Inputs {
    const props: pulumi.Inputs = {};
    for (const [k, v] of Object.entries(inputs)) {
        if (v !== undefined) {
            props[k] = v;
        }
    }
    // Each step's output is its own: the previous run's does not go into its environment.
    return { ...props, addPreviousOutputInEnv: false, stdout: undefined };
}

/**
 * The options the generated classes add to every Command (provider version, secret, replace rule;
 * the rule only on a step with triggers, the one property it names: the state keeps it for each).
 */
function stepOptions(opts: pulumi.CustomResourceOptions, secretOutputs: string[], triggers: unknown): pulumi.CustomResourceOptions {
    return pulumi.mergeOptions({ version: COMMAND_VERSION }, pulumi.mergeOptions(opts, {
        additionalSecretOutputs: secretOutputs,
        replaceOnChanges: triggers === undefined ? undefined : ["triggers[*]"],
    }));
}

/**
 * Until the returned function is called, steps register without the SDK's record of where in the program it was made.
 *
 * For every resource the Pulumi Node.js SDK reads the whole call stack (`Resource.callsites` in
 * @pulumi/pulumi's resource.ts: `new Error().stack` with no frame limit, source-mapped frame by
 * frame under a program's source-map support) and sends the frames to the engine, which keeps
 * them in the state as the resource's `sourcePosition` and `stackTrace`. For a step they name this
 * package's own lines, not the user's program; they are about 0.35 KiB of each step's state and
 * the stack's reading a part of every step's registration at preview. While a step's constructor
 * runs (synchronously) the SDK's reader is one that finds no frames, so the engine gets none; the
 * returned function puts the SDK's back. CN_STEP_SOURCE_POSITIONS=1 keeps them (and a fleet's
 * nodes' empty ones: withoutSourcePosition).
 */
function hideSourcePosition(): () => void {
    const sdk = pulumi.Resource as unknown as { callsites?: () => unknown[] };
    const callsites = sdk.callsites;
    if (typeof callsites !== "function" || process.env.CN_STEP_SOURCE_POSITIONS === "1") {
        return () => undefined;
    }
    sdk.callsites = () => [];
    return () => { sdk.callsites = callsites; };
}

/**
 * `make()`, registering the resources it makes synchronously without a source position (as
 * hideSourcePosition): a fleet's nodes, built in a promise callback, whose recorded position the
 * SDK finds empty after reading the whole stack anyway.
 */
export function withoutSourcePosition<T>(make: () => T): T {
    const restore = hideSourcePosition();
    try {
        return make();
    } finally {
        restore();
    }
}

/** `command:remote:Command`: runs `create` over SSH. */
export class RemoteStep extends pulumi.CustomResource {
    declare public readonly stdout: pulumi.Output<string>;

    constructor(name: string, args: RemoteStepArgs, opts: pulumi.CustomResourceOptions = {}) {
        const restore = hideSourcePosition();
        try {
            super("command:remote:Command", name, stepProps({
                connection: args.connection,
                create: args.create,
                stdin: args.stdin,
                triggers: args.triggers,
            }), stepOptions(opts, ["connection"], args.triggers));
        } finally {
            restore();
        }
    }
}

export interface CopyStepArgs {
    connection: SecretConnection;
    /** A file on the machine running `pulumi`: the state holds its hash, not its content. */
    source: pulumi.asset.FileAsset;
    /** Where it goes on the node; its directory must exist. */
    remotePath: pulumi.Input<string>;
}

/** `command:remote:CopyToRemote`: copies a file to the node over SFTP. */
export class CopyStep extends pulumi.CustomResource {
    constructor(name: string, args: CopyStepArgs, opts: pulumi.CustomResourceOptions = {}) {
        const restore = hideSourcePosition();
        try {
            super("command:remote:CopyToRemote", name, {
                connection: args.connection,
                source: args.source,
                remotePath: args.remotePath,
            }, stepOptions(opts, ["connection"], undefined));
        } finally {
            restore();
        }
    }
}

/** `command:local:Command`: runs `create` on the machine running `pulumi`. */
export class LocalStep extends pulumi.CustomResource {
    declare public readonly stdout: pulumi.Output<string>;

    constructor(name: string, args: LocalStepArgs, opts: pulumi.CustomResourceOptions = {}) {
        const restore = hideSourcePosition();
        try {
            super("command:local:Command", name, stepProps({
                create: args.create,
                interpreter: args.interpreter,
                environment: args.environment,
                stdin: args.stdin,
                triggers: args.triggers,
            }), stepOptions(opts, args.stdin === undefined ? [] : ["stdin"], args.triggers));
        } finally {
            restore();
        }
    }
}
