/** What the benchmarks share. */
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

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
