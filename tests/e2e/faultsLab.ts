/**
 * Helpers of the fault matrix (faults.e2e.ts, faults-more.e2e.ts): the host-mode settings its
 * stacks convert lab nodes with, what a case asserts about a node afterwards (consistent, nothing
 * lost, a rerun converges), and the faults it injects (waiting for a step's phase, killing the CLI).
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { ARTIFACT_PORT, changes, labContainerd2, LAB_DIR, nodeDown, onNode, privateKey, REPO } from "./lab";

export const containerd = labContainerd2();
// Read when a stack is made: the lab key exists only once a node has been booted.
export const settings = () => ({ privateKey: privateKey(), containerd, kubelet: { version: "1.30.4" }, docker: { mode: "disable" } });

/** The header line of the table each fault-matrix file prints when it ends, its rows below it. */
/**
 * The hooks both files' suites share: the artifact server up before the cases; after them, the
 * suite's nodes down and its rows of the fault table printed.
 */
export function matrixHooks(ports: { [node: string]: number }, rows: string[]): void {
    before(() => {
        execFileSync(path.join(REPO, "artifacts", "serve.sh"), [String(ARTIFACT_PORT)], { stdio: "inherit" });
    });
    after(() => {
        Object.keys(ports).forEach(nodeDown);
        console.log([ROWS_HEADER, ...rows.map(r => `      ${r}`)].join("\n"));
    });
}

export const ROWS_HEADER = "      fault | where | half-converted | lost | rerun converged in";

/** The files a conversion would change, with sizes, and whether Docker runs: equal means nothing changed. */
export const files = (node: string) => onNode(node, "find /etc/containerd /etc/systemd/system /usr/local/bin /usr/local/sbin /var/lib/kubelet -maxdepth 1 -printf '%y %p %s\\n' 2>/dev/null | sort; systemctl is-active docker");

/** Waits, without blocking this process (it serves the engine's program), until a step's run reports `phase`. */
export function reached(node: string, step: string, phase: string): Promise<void> {
    return new Promise<void>((done, fail) => spawn(path.join(REPO, "lab", "ssh.sh"), [node,
        `for i in $(seq 1 2400); do grep -qxF ${JSON.stringify(phase)} /var/lib/containerd-node/runs/${step}-*/phases 2>/dev/null && exit 0; sleep 0.05; done; exit 1`],
    { env: { ...process.env, LAB_DIR }, stdio: "inherit" }).on("close", code => code === 0 ? done() : fail(new Error(`${step} never reached '${phase}'`))));
}

/** One runtime running and it is the binary on disk; the kubelet's flags point at it; Docker's data kept. */
export function consistent(node: string): { runtime: string } {
    const s = onNode(node, `d=$(systemctl is-active docker || true); c=$(systemctl is-active containerd || true)
disk=$(containerd --version | awk '{print $3}'); disk=\${disk#v}; run=$(ctr version 2>/dev/null | awk '/Server:/{s=1} s&&/Version:/{print $2; exit}'); run=\${run#v}
echo "$d $c $disk $run"; grep -c 'containerd.sock' /var/lib/kubelet/kubeadm-flags.env || true; ls /var/lib/docker >/dev/null && echo docker-data`).trim().split("\n");
    const [docker, ctrd, disk, run] = s[0].split(" ");
    assert.strictEqual(ctrd, "active", `containerd runs on ${node}: ${s.join(" | ")}`);
    assert.strictEqual(run, disk, `the containerd that runs is the one on disk (${s[0]})`);
    const onContainerd = Number(s[1]) > 0;
    assert.ok(onContainerd ? docker !== "active" : docker === "active", `one runtime for the kubelet: docker ${docker}, kubelet flags on containerd: ${onContainerd}`);
    assert.strictEqual(s[2], "docker-data", "/var/lib/docker is kept");
    return { runtime: onContainerd ? `containerd ${run}` : "docker" };
}

/** Runs `pulumi up`, which must succeed, then another, which must change nothing; returns the first one's seconds. */
export async function convergesAgain(stack: Stack): Promise<number> {
    const t0 = Date.now();
    const res = await stack.up({ color: "never" });
    assert.strictEqual(res.summary.result, "succeeded");
    const seconds = (Date.now() - t0) / 1000;
    assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {}, "then nothing to change");
    return seconds;
}

/** What a cancelled CI runner does to the `pulumi up` of stack `name`: the CLI and every plugin it started die at once. */
export function killPulumi(name: string): void {
    execFileSync("bash", ["-c", `tree() { local p; for p in $(pgrep -P "$1"); do echo "$p"; tree "$p"; done; }
cli=$(pgrep -f -- '^\\S*pulumi up .*--stack \\S*${name}( |$)' | head -n 1); [ -n "$cli" ]; kill -KILL $cli $(tree $cli)`]);
}

/** The node's run claim file (claim.ts), or "none". */
export const claimOn = (node: string) => onNode(node, "cat /var/lib/containerd-node/claim 2>/dev/null || echo none").trim();

/** Docker's images and containers as its data directory holds them (whether Docker runs or not). */
export const images = (node: string) => onNode(node, "ls /var/lib/docker/image/overlay2/imagedb/content/sha256 | sort; ls /var/lib/docker/containers | wc -l");
