/**
 * End to end: the rest of the fault matrix (SSH cuts and a reset mid-step are in
 * faults.e2e.ts) on real lab nodes in host mode, through the real engine and command provider:
 * two stacks converting one node, a corrupt download, a full disk, a wrong pinned host key and a
 * SIGKILLed pulumi. What a case's fault refuses changes nothing; where a step ran, the node is
 * consistent (one runtime running, the binary on disk the one that runs, the kubelet flags
 * pointing at it), nothing was lost (Docker's container and images, /var/lib/docker), and a rerun
 * converges.
 */
import * as assert from "assert";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync, spawn } from "child_process";
import * as path from "path";
import { artifacts, changes, inNode, labNode, labStack, LAB_DIR, nodeUp, onNode, REPO, settled, upExpectingFailure } from "./lab";
import { claimOn, consistent, containerd, files, images, killPulumi, reached, matrixHooks, settings } from "./faultsLab";

const A = artifacts();
const PORTS: { [n: string]: number } = { "f-two": 2284, "f-bad": 2285, "f-full": 2286, "f-key": 2287, "f-kill": 2288, "f-two2": 2292, "f-skip": 2293 };

describe("e2e: interruptions leave no half-converted node (fault matrix, continued)", function () {
    this.timeout(30 * 60 * 1000);
    const rows: string[] = [];
    matrixHooks(PORTS, rows);

    it("two stacks converting one node: refused by the node's lock during a step and by the run's claim between steps, naming the holder; each converges", async () => {
        const node = "f-two";
        nodeUp(node, PORTS[node]);
        // With registry credentials a run has two node steps, registry-auth and converge, so it can stop between them.
        const auth = { registryAuth: { "registry.invalid:5000": { username: "robot", password: "f-two-pass" } } };
        const [a, b] = await Promise.all(["f-two-a", "f-two-b"].map(n => labStack(n, { nodes: [labNode(node)], ...settings(), ...auth })));
        // 1. Stack a's step holding the node's lock, exactly as a running step holds it: b is
        // refused at its first mutating step, naming a, and changes nothing.
        const before = files(node);
        const holder = spawn(path.join(REPO, "lab", "ssh.sh"), [node, `mkdir -p /var/lib/containerd-node && exec 9>/var/lib/containerd-node/lock && flock 9 &&
echo "stack containerd-node/f-two-a, step converge, since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/var/lib/containerd-node/lock.holder && echo held &&
while [ ! -f /tmp/release-lock ]; do sleep 0.2; done`], { env: { ...process.env, LAB_DIR }, stdio: ["ignore", "pipe", "inherit"] });
        await new Promise<void>(r => holder.stdout!.on("data", d => { if (String(d).includes("held")) { r(); } }));
        const err = await upExpectingFailure(b);
        assert.match(err, /step 'registry-auth' refused: this node is busy with stack containerd-node\/f-two-a, step converge, since 20\d\d-/);
        assert.strictEqual(files(node), before, "the refused stack changed nothing");
        onNode(node, "touch /tmp/release-lock");
        await new Promise(r => holder.on("close", r));
        // 2. Stack a's run stops between its steps (an up of its first step only, as a pulumi
        // killed between two steps leaves it): the node stays claimed by a, so b is refused though
        // no step of a runs, and changes nothing. a's next run goes on and releases it.
        const urn = (type: string, name: string) => `urn:pulumi:f-two-a::containerd-node::containerd-node:index:ContainerdFleet${type}::${name}`;
        const first = await a.up({ color: "never", target: [
            "urn:pulumi:f-two-a::containerd-node::containerd-node:index:ContainerdFleet::fleet", urn("$command:local:Command", "fleet-preflight-passed"),
            urn("$containerd-node:index:ContainerdNode", node), urn("$containerd-node:index:ContainerdNode$command:remote:Command", `${node}-registry-auth`),
        ] });
        assert.match(first.stdout, /f-two-registry-auth +created/);
        assert.doesNotMatch(first.stdout, /f-two-converge/);
        assert.match(claimOn(node), /^stack containerd-node\/f-two-a\tregistry-auth\tfinished at 20[\d-]+T[\d:]+Z\t20[\d-]+T[\d:]+Z\t\d+$/);
        const between = files(node);
        // The facts read finds the claim: b's preview says so, and its up is refused in the
        // pre-flight, before any node changes.
        const preview = await b.preview({ color: "never" });
        assert.match(preview.stdout, /f-two: the node is being converted by stack containerd-node\/f-two-a \(its run has had the node since 20[^;]+; its step registry-auth finished at 20[^)]+\): run again once that run is over .*; an up now would be refused/);
        const refused = await upExpectingFailure(b);
        assert.match(refused, /the pre-flight refuses the run:\s+f-two: the node is being converted by stack containerd-node\/f-two-a \(its run has had the node since 20[^;]+; its step registry-auth finished at 20[^)]+\): run again once that run is over/);
        assert.strictEqual(files(node), between, "refused by the claim: nothing changed");
        const resumed = await a.up({ color: "never" });
        assert.match(resumed.stdout, /\[converge\] released the node \(claimed since 20/, "its last step ends the claim");
        assert.strictEqual(claimOn(node), "none");
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        // b may go now: its steps find the node as declared, and it releases the node in turn.
        assert.strictEqual((await b.up({ color: "never" })).summary.result, "succeeded");
        assert.strictEqual(claimOn(node), "none");
        // 3. Two more stacks convert a fresh node both at once, for real: whichever step meets the
        // other's lock or claim is refused by name, never run; the node is consistent, and each
        // stack then converges.
        const other = "f-two2";
        nodeUp(other, PORTS[other]);
        const [c, d] = await Promise.all(["f-two-c", "f-two-d"].map(n => labStack(n, { nodes: [labNode(other)], ...settings() })));
        const results = await Promise.allSettled([c.up({ color: "never" }), d.up({ color: "never" })]);
        for (const r of results.filter((r): r is PromiseRejectedResult => r.status === "rejected")) {
            assert.match(String(r.reason), /refused: this node is (busy with|being converted by) stack containerd-node\/f-two-[cd]/);
        }
        consistent(other);
        const atOnce = results.map((r, i) => `${["c", "d"][i]} ${r.status === "fulfilled" ? "converted" : `refused (${/busy with/.test(String(r.reason)) ? "lock" : "claim"})`}`).join(", ");
        for (const s of [c, d]) {
            assert.strictEqual((await s.up({ color: "never" })).summary.result, "succeeded");
        }
        assert.strictEqual(consistent(other).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(claimOn(other), "none", "each run released the node");
        rows.push(`two stacks on one node | during a step; between steps (the first's run stopped after registry-auth); both at once (${atOnce}) | 0 | 0 | (the other stack's step: refused, naming the holder)`);
    });

    it("a corrupt download is refused by its checksum and changes nothing", async () => {
        const node = "f-bad";
        nodeUp(node, PORTS[node]);
        const before = files(node);
        const stack = await labStack(node, { nodes: [labNode(node)], ...settings(), containerd: { ...containerd, source: { ...containerd.source, sha256: "0".repeat(64) } } });
        const err = await upExpectingFailure(stack);
        assert.match(err, /SHA-256 of http:\/\/127\.0\.0\.1:18080\/containerd-.* is [0-9a-f]{64}, expected 0{64}/);
        assert.strictEqual(files(node), before);
        rows.push("corrupt download | configure, staging | 0 | 0 | refused, nothing changed");
    });

    it("the disk fills up while staging: a clear error, nothing changed; with space again the rerun converges, its first unit started again after it ended before it began", async () => {
        const node = "f-full";
        nodeUp(node, PORTS[node]);
        // A 40 MiB filesystem where the tarball is unpacked: the pre-flight's free-space checks (of
        // containerd's root and the state directory) pass; the unpacking runs out of space.
        const STAGE = "/var/lib/containerd-node/stage";
        onNode(node, `mkdir -p ${STAGE} && mount -t tmpfs -o size=40m tmpfs ${STAGE}`);
        const before = files(node);
        const imgs = images(node);
        const stack = await labStack(node, { nodes: [labNode(node)], ...settings() });
        const err = await upExpectingFailure(stack);
        assert.match(err, new RegExp(`step 'configure' failed during 'fetching containerd ${A.CONTAINERD2_VERSION.replace(/\./g, "\\.")}': no space left on the filesystem of ${STAGE} \\(\\d+ MiB free there now\\); nothing is live yet and the partial files were removed: free space there and run again`));
        assert.strictEqual(files(node), before, "nothing changed");
        assert.strictEqual(onNode(node, `ls -A ${STAGE}`), "", "the half-unpacked tarball was removed");
        assert.strictEqual(consistent(node).runtime, "docker");
        assert.strictEqual(images(node), imgs);
        onNode(node, `umount ${STAGE}`);
        // And the step's unit ends once before its process begins, after systemd-run has started it,
        // as one does when systemd can't set the process up (219/CGROUP): a drop-in for every
        // containerd-node-* unit names a working directory that is not there (200/CHDIR), and a
        // watcher on the node makes it once the journal has that failure.
        const dropIn = "/etc/systemd/system/containerd-node-.service.d";
        onNode(node, `mkdir -p ${dropIn} && printf '%s\\n' '[Service]' 'WorkingDirectory=/run/fail-once' >${dropIn}/fail-once.conf && systemctl daemon-reload &&
systemd-run --quiet --unit=fail-once-watch bash -c "until journalctl -o cat --no-pager -u 'containerd-node-converge-*' | grep -q 200/CHDIR; do sleep 0.2; done; mkdir /run/fail-once"`);
        const t0 = Date.now();
        const res = await stack.up({ color: "never" });
        const seconds = (Date.now() - t0) / 1000;
        assert.strictEqual(res.summary.result, "succeeded");
        assert.match(res.stdout, /\[converge\] its unit ended before the step began \(nothing of it ran\): starting it again/);
        // (Once, or twice if the watcher was slower than the runner's 5 s: the runner starts a unit three times at most.)
        const failedStarts = Number(onNode(node, "journalctl -o cat --no-pager -u 'containerd-node-converge-*' | grep -c 'status=200/CHDIR' || true").trim());
        assert.ok(failedStarts >= 1 && failedStarts <= 2, `the start failed before the step began (${failedStarts} times)`);
        onNode(node, `rm -rf ${dropIn} && systemctl daemon-reload`);
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {}, "then nothing to change");
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        rows.push(`disk full | configure, unpacking the tarball | 0 | 0 | refused, nothing changed; with space again (the first unit's start failing once) ${seconds.toFixed(1)} s`);
    });

    it("a wrong pinned host key is refused before any command runs, and no credential is offered", async () => {
        const node = "f-key";
        nodeUp(node, PORTS[node]);
        // sshd logs each authentication request at DEBUG1; read from the host, so the reading adds none.
        // A restart, not a reload: sshd (Type=notify) is listening again when it returns, where a
        // reload's re-exec refuses connections for a moment after it (the next ssh exited 255).
        onNode(node, "echo 'LogLevel DEBUG1' >/etc/ssh/sshd_config.d/50-debug.conf && systemctl restart ssh");
        const before = files(node);
        const cursor = /cursor: (\S+)/.exec(inNode(node, "journalctl -u ssh -n 0 --show-cursor --no-pager"))![1];
        const other = execFileSync("bash", ["-c", "d=$(mktemp -d); ssh-keygen -q -t ed25519 -N '' -f $d/k; cut -d' ' -f1,2 $d/k.pub; rm -rf $d"], { encoding: "utf8" }).trim();
        const stack = await labStack(node, { nodes: [{ ...labNode(node), hostKey: other }], ...settings() });
        const err = await upExpectingFailure(stack);
        assert.match(err, /host key SHA256:\S+ is not connection\.hostKey SHA256:\S+: refused before any credential was offered/);
        const log = inNode(node, `journalctl -u ssh --after-cursor='${cursor}' -o cat --no-pager`);
        assert.match(log, /Connection from 127\.0\.0\.1/, `the program and the provider did dial the node:\n${log}`);
        assert.doesNotMatch(log, /userauth|Accepted|authenticating user|publickey|password/i, `no credential offered:\n${log}`);
        assert.doesNotMatch(inNode(node, "ls /var/lib/containerd-node 2>/dev/null || true"), /\S/, "no command ran: not even the node library was written");
        assert.strictEqual(files(node), before);
        rows.push("wrong pinned host key | before the first command | 0 | 0 | refused in the key exchange, no credential offered");
    });

    it("pulumi killed (SIGKILL, with its plugins) during switch: the step completes on the node; after pulumi cancel, running again converges; refresh clears the pending operation", async () => {
        const node = "f-kill";
        nodeUp(node, PORTS[node]);
        const imgs = images(node);
        const stack = await labStack(node, { nodes: [labNode(node)], ...settings() });
        const killed = upExpectingFailure(stack);
        await reached(node, "converge", "docker: disable");
        killPulumi(node);
        await killed;
        // The file backend's lock outlives the CLI: `pulumi cancel` is what its error message offers.
        assert.match(await upExpectingFailure(stack), /the stack is currently locked by 1 lock\(s\).*pulumi cancel/s);
        await stack.cancel();
        settled(node);
        const state = consistent(node);
        assert.strictEqual(state.runtime, `containerd ${A.CONTAINERD2_VERSION}`, "the switch went on to the end on the node");
        assert.strictEqual(images(node), imgs);
        const pending = async () => (await stack.exportStack()).deployment.pending_operations ?? [];
        assert.ok((await pending()).length >= 1, "the kill left pending operations in the state");
        const t0 = Date.now();
        const again = await stack.up({ color: "never" });
        const seconds = (Date.now() - t0) / 1000;
        assert.match(again.stdout, /pending operations from previous deployment/);
        // The killed follower may still have filed the result on the node (it outlives its session
        // until it writes to it): then the switch runs again and finds nothing left to do.
        assert.match(again.stdout, /\[converge\] found this step's run on the node, finished while no one followed it: its result|\[switch\] (the kubelet's flags and Docker's state are already as declared: nothing restarted)/);
        await stack.refresh({ color: "never", clearPendingCreates: true });
        assert.deepStrictEqual(await pending(), [], "refresh --clear-pending-creates leaves none");
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        rows.push(`pulumi SIGKILL | switch, "docker: disable" (node then: ${state.runtime}) | 0 | 0 | ${seconds.toFixed(1)} s (then refresh --clear-pending-creates)`);
    });

    it("pulumi killed (SIGKILL) during switch with PULUMI_SKIP_CHECKPOINTS (a large fleet's setting): the state knows nothing of the run; the next up runs every step again, finds the node as declared, and converges", async () => {
        const node = "f-skip";
        nodeUp(node, PORTS[node]);
        const imgs = images(node);
        const stack = await labStack(node, { nodes: [labNode(node)], ...settings() });
        (stack.workspace as LocalWorkspace).envVars.PULUMI_SKIP_CHECKPOINTS = "true";
        const killed = upExpectingFailure(stack);
        await reached(node, "converge", "docker: disable");
        killPulumi(node);
        await killed;
        await stack.cancel();
        settled(node);
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`, "the switch went on to the end on the node");
        const deployment = (await stack.exportStack()).deployment;
        assert.strictEqual((deployment.resources ?? []).length, 0, "no checkpoint was written: the state has none of the run's resources");
        assert.deepStrictEqual(deployment.pending_operations ?? [], []);
        const t0 = Date.now();
        const again = await stack.up({ color: "never" });
        const seconds = (Date.now() - t0) / 1000;
        // Every step is created again; each finds its work done on the node (or the result of the
        // run no one followed).
        assert.match(again.stdout, /containerd config unchanged: no restart/);
        assert.match(again.stdout, /\[converge\] found this step's run on the node, finished while no one followed it: its result|\[switch\] (the kubelet's flags and Docker's state are already as declared: nothing restarted)/);
        assert.ok((again.summary.resourceChanges?.create ?? 0) >= 5, `every resource created again: ${JSON.stringify(again.summary.resourceChanges)}`);
        assert.deepStrictEqual(changes((await stack.up({ color: "never" })).summary.resourceChanges as any), {});
        assert.strictEqual(consistent(node).runtime, `containerd ${A.CONTAINERD2_VERSION}`);
        assert.strictEqual(images(node), imgs);
        assert.strictEqual(claimOn(node), "none", "the claim was released by the last step of the run that converged");
        rows.push(`pulumi SIGKILL, PULUMI_SKIP_CHECKPOINTS | switch, "docker: disable" | 0 | 0 | ${seconds.toFixed(1)} s (every step again, nothing to do)`);
    });
});
