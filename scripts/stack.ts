/**
 * Runs the stack program (index.ts) through the real Pulumi CLI with the Automation API:
 *
 *   npx ts-node scripts/stack.ts up|preview|refresh|destroy [--stack NAME] [--yes] [--diff]
 *
 * Why not plain `pulumi up`: that needs the Node.js language host (pulumi-language-nodejs), which
 * the Go module proxy reachable here does not serve. An inline program needs none: the CLI talks to
 * a language server inside this process. Everything else is the same engine, the same providers,
 * the same state and the same stack config (Pulumi.<stack>.yaml in the project directory); on a
 * machine with a regular Pulumi install, `pulumi up` in this directory runs the same program.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as path from "path";
import main = require("../index");

const REPO = path.resolve(__dirname, "..");
const OPS = ["up", "preview", "refresh", "destroy"] as const;

async function run(argv: string[]): Promise<void> {
    const op = argv[0] as typeof OPS[number];
    if (!OPS.includes(op)) {
        throw new Error(`usage: stack.ts ${OPS.join("|")} [--stack NAME] [--diff]`);
    }
    const at = argv.indexOf("--stack");
    const stackName = at >= 0 ? argv[at + 1] : (process.env.PULUMI_STACK ?? "lab");
    const diff = argv.includes("--diff");
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: "containerd-node", program: main },
        { workDir: REPO },
    );
    const common = { color: (process.stdout.isTTY ? "always" : "never") as "always" | "never", onOutput: (s: string) => process.stdout.write(s) };
    switch (op) {
        case "up": await stack.up({ ...common, diff }); break;
        case "preview": await stack.preview({ ...common, diff }); break;
        case "refresh": await stack.refresh(common); break;
        case "destroy": await stack.destroy(common); break;
    }
}

run(process.argv.slice(2)).catch(err => {
    // The CLI's own output (already streamed) says what failed; don't repeat its whole log.
    const msg = String(err?.message ?? err);
    process.stderr.write(msg.length > 2000 ? msg.slice(0, 2000) + "…\n" : msg + "\n");
    process.exit(1);
});
