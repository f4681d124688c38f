import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STATE_DIR_DEFAULT } from "../../components/facts";
import { NODE_LIB_FILE, runHead } from "../../components/scripts/lib";
import { NODE_LIB, NODE_LIB_PATH } from "../../components/nodeFiles";
import { detachedCommand, NODE_PATH } from "../../components/scripts/shell";

// The node library's detached runner (cn_run, components/node/lib.sh), run locally: systemd-run and systemctl are
// stand-ins on PATH that start the unit's command in the background and answer is-active by its
// PID. The real systemd path is covered end to end (tests/e2e/faults.e2e.ts).

function fakeNode() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-runner-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "units"));
    fs.writeFileSync(path.join(bin, "systemd-run"), `#!/bin/bash
unit=""; envs=()
while [ $# -gt 0 ]; do case "$1" in --unit=*) unit=\${1#--unit=};; --setenv=*) envs+=("\${1#--setenv=}");; --*) ;; *) break;; esac; shift; done
printf '%s\\n' "$@" >"${dir}/units/$unit.command"
# The unit writes its PID once it is in a session of its own, and systemd-run returns once it has
# (systemd's does once the unit is started): a signal to the caller's process group can't reach it.
pid="${dir}/units/$unit.pid"; rm -f "$pid"
# While ${dir}/fail-starts holds a count above 0, a start ends before the unit's command runs, as
# systemd's does when it can't set up the process (status=219/CGROUP).
n=$(cat "${dir}/fail-starts" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then echo $((n - 1)) >"${dir}/fail-starts"; set -- /bin/sh -c 'exit 219'; fi
env "\${envs[@]}" setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pid" "$@" </dev/null >/dev/null 2>&1 &
until [ -f "$pid" ]; do sleep 0.01; done
`, { mode: 0o755 });
    // is-active UNIT, and show -p ActiveState --value UNIT (what the runner asks when is-active says no).
    fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/bash
alive() { [ -f "${dir}/units/$1.pid" ] && kill -0 "$(cat "${dir}/units/$1.pid")" 2>/dev/null; }
case "$1" in
  is-active) alive "$3"; exit;;
  show) if alive "$5"; then echo active; else echo inactive; fi;;
esac
exit 0
`, { mode: 0o755 });
    // The unit's journal: one line naming the unit it was asked for.
    fs.writeFileSync(path.join(bin, "journalctl"), `#!/bin/bash
[ "$1" = -u ] && echo "$2: Main process exited, code=killed, status=9/KILL"
`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "lib.sh"), NODE_LIB);
    const script = path.join(dir, "step.sh");
    return { dir, bin, script, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CN_DIR: path.join(dir, "state") } };
}

/** Waits (up to 30 s) until `ok`, failing the test naming `what` otherwise. */
async function until(what: string, ok: () => boolean): Promise<void> {
    for (const end = Date.now() + 30000; !ok(); await new Promise(r => setTimeout(r, 50))) {
        assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    }
}

/** The demo step's run directory under the node's runs, once cn_run made it. */
const runDir = (n: ReturnType<typeof fakeNode>) => {
    const runs = path.join(n.env.CN_DIR, "runs");
    return fs.existsSync(runs) ? fs.readdirSync(runs).find(d => d.startsWith("demo-")) : undefined;
};

/** Begun: the unit the stand-in systemd-run launched has marked the run begun (the step's script runs next). */
const started = (n: ReturnType<typeof fakeNode>) => {
    const d = runDir(n);
    return d !== undefined && fs.existsSync(path.join(n.env.CN_DIR, "runs", d, "begun"));
};

const run = (n: ReturnType<typeof fakeNode>, holder = "stack p/s") =>
    `source ${n.dir}/lib.sh; CN_HOLDER=${JSON.stringify(holder)} cn_run demo ${n.script}`;

describe("detached steps: the node library's runner", () => {
    it("a unit stopped or killed from outside ends the step after 5 s without a result, with what systemd saw of it", async () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, "echo started >&2\nsleep 60\n");
        const child = spawn("bash", ["-c", run(n)], { env: n.env });
        let stderr = "";
        child.stderr.on("data", d => { stderr += d; });
        const exited = new Promise<number | null>(r => child.on("exit", code => r(code)));
        await until("the unit to start", () => started(n));
        const pidFile = fs.readdirSync(path.join(n.dir, "units")).find(f => f.endsWith(".pid"))!;
        const unit = pidFile.replace(/\.pid$/, "");
        process.kill(-Number(fs.readFileSync(path.join(n.dir, "units", pidFile), "utf8")), "SIGKILL");
        assert.strictEqual(await exited, 1);
        assert.match(stderr, /containerd-node: step 'demo' ended without a result \(its unit was stopped or killed\); see .*\/err\n/);
        assert.ok(stderr.includes(`  systemd: ${unit}: Main process exited, code=killed, status=9/KILL\n`), stderr);
    });
    it("a systemctl that can't get an answer from systemd is not taken for a unit that is gone", async () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, "sleep 7\necho done-after-7s\n");
        // is-active says no throughout and show fails: before, 5 s of that ended the step without a result.
        fs.writeFileSync(path.join(n.bin, "systemctl"), "#!/bin/bash\n[ \"$1\" = show ] && exit 1\nexit 3\n", { mode: 0o755 });
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "done-after-7s\n");
        assert.doesNotMatch(r.stderr, /ended without a result/);
    });

    it("a step sent as the component sends it: runs with the library the lib step copied; without it, fails naming the file", () => {
        const n = fakeNode();
        const tmp = path.join(n.dir, "tmp");
        fs.mkdirSync(tmp);
        // The step's text only calls the library: the runner's copy of it starts with strict mode and the library.
        const send = (user: string) => spawnSync("bash", ["-c", detachedCommand("configure", user, "stack p/s", NODE_LIB_FILE, STATE_DIR_DEFAULT)], { input: "case $- in *e*) ;; *) exit 7;; esac\ntype cn_begin >/dev/null && echo ran-with-$STEP_LIB_OK\n", env: { ...n.env, STEP_LIB_OK: "lib", TMPDIR: tmp }, encoding: "utf8" });
        assert.ok(!detachedCommand("configure", "root", "stack p/s", NODE_LIB_FILE, STATE_DIR_DEFAULT).includes("\n"), "one line");
        let r = send("root");
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, new RegExp(`${n.env.CN_DIR}/${NODE_LIB_FILE}: No such file or directory\\n$`));
        fs.mkdirSync(path.join(n.env.CN_DIR, "lib"), { recursive: true });
        fs.writeFileSync(path.join(n.env.CN_DIR, NODE_LIB_FILE), NODE_LIB);
        r = send("root");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "ran-with-lib\n");
        assert.deepStrictEqual(fs.readdirSync(tmp), [], "the script's copy from stdin is removed");
    });

    it("what the runner puts before a step's text is runHead's (scripts run without the runner use that)", () => {
        const n = fakeNode();
        const lib = path.join(n.dir, "lib.sh");
        const r = spawnSync("bash", ["-c", `source ${lib}; cn_run_head`], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, runHead(lib));
        assert.strictEqual(runHead(lib), `set -euo pipefail\nsource ${lib}\n`);
    });

    it("a stateDir of its own: the step uses the library and keeps its run records there, not in a CN_DIR the session had", () => {
        const n = fakeNode();
        const own = path.join(n.dir, "own-state");
        const send = () => spawnSync("bash", ["-c", detachedCommand("configure", "root", "stack p/s", NODE_LIB_FILE, own)], { input: "echo in-$CN_DIR\n", env: n.env, encoding: "utf8" });
        let r = send();
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, new RegExp(`${own}/${NODE_LIB_FILE}: No such file or directory\\n$`));
        fs.mkdirSync(path.join(own, "lib"), { recursive: true });
        fs.writeFileSync(path.join(own, NODE_LIB_FILE), NODE_LIB);
        r = send();
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, `in-${own}\n`);
        assert.strictEqual(fs.readdirSync(path.join(own, "runs", "done")).length, 1);
        assert.ok(!fs.existsSync(path.join(n.env.CN_DIR, "runs")), "nothing in the session's CN_DIR");
        // The same step's text, from the same stack, under another stateDir on the same machine:
        // a unit of its own (systemd refuses a second unit of a name already loaded).
        const other = path.join(n.dir, "other-state");
        fs.mkdirSync(path.join(other, "lib"), { recursive: true });
        fs.writeFileSync(path.join(other, NODE_LIB_FILE), NODE_LIB);
        r = spawnSync("bash", ["-c", detachedCommand("configure", "root", "stack p/s", NODE_LIB_FILE, other)], { input: "echo in-$CN_DIR\n", env: n.env, encoding: "utf8" });
        assert.strictEqual(r.stdout, `in-${other}\n`);
        const units = fs.readdirSync(path.join(n.dir, "units")).filter(f => f.endsWith(".command"));
        assert.strictEqual(new Set(units).size, 2, `two units: ${units.join(", ")}`);
    });

    it("runs the step apart from its caller: stdout at the end, stderr streamed, its exit status; the script removed", () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, "echo out-line\necho err-line >&2\nexit 3\n");
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 3);
        assert.strictEqual(r.stdout, "out-line\n");
        assert.match(r.stderr, /err-line/);
        const done = fs.readdirSync(path.join(n.dir, "state", "runs", "done"));
        assert.strictEqual(done.length, 1);
        assert.ok(!fs.existsSync(path.join(n.dir, "state", "runs", "done", done[0], "script")), "no copy of the script is left");
    });

    it("a step's details stay in the run's log on the node; its output is what it says, and a failure names the phase and the cause", () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, `source ${n.dir}/lib.sh\nSTEP=demo PHASE=start\nphase "writing the config"\nlog "wrote /etc/x"\nsay "x unchanged: no restart"\ndie "it broke"\n`);
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, "[demo] x unchanged: no restart\ncontainerd-node: step 'demo' failed during 'writing the config': it broke\n");
        const [done] = fs.readdirSync(path.join(n.dir, "state", "runs", "done"));
        const kept = (f: string) => fs.readFileSync(path.join(n.dir, "state", "runs", "done", done, f), "utf8");
        assert.strictEqual(kept("log"), "[demo] writing the config\n[demo] wrote /etc/x\n[demo] x unchanged: no restart\n");
        assert.strictEqual(kept("err"), r.stderr, "the run's output is kept as it was shown");
        // Outside a run (a step's bash run by hand, the unit tests) both go to stderr.
        const bare = spawnSync("bash", ["-c", `source ${n.dir}/lib.sh; STEP=demo; log detail; say outcome`], { encoding: "utf8" });
        assert.strictEqual(bare.stderr, "[demo] detail\n[demo] outcome\n");
    });

    it("a step's environment is the library's: the PATH is NODE_PATH, the locale C, umask 022", () => {
        const r = spawnSync("bash", ["-c", `set -euo pipefail\nsource ${JSON.stringify(NODE_LIB_PATH)}\ncn_begin demo 60 1\necho "$PATH|$LC_ALL|$(umask)"`],
            { env: { ...process.env, PATH: "/usr/bin:/bin", LC_ALL: "en_US.UTF-8", CN_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "cnode-env-")) }, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, `${NODE_PATH}|C|0022\n`);
    });

    it("the unit's command line is plain paths: nothing systemd would read back otherwise at a daemon-reload before the start", () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, "echo done\n");
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        const [command] = fs.readdirSync(path.join(n.dir, "units")).filter(f => f.endsWith(".command"));
        const argv = fs.readFileSync(path.join(n.dir, "units", command), "utf8").trimEnd().split("\n");
        assert.strictEqual(argv[0], "/bin/bash");
        assert.strictEqual(argv.length, 3);
        for (const a of argv) {
            // systemd expands $ and %, and splits on ; and whitespace, when it parses ExecStart.
            assert.match(a, /^[A-Za-z0-9._/-]+$/, `a plain path: ${a}`);
        }
    });

    it("a caller that dies leaves the step running; the next caller follows it to its result, which is reported once", async () => {
        const n = fakeNode();
        // The step ends on a go-ahead, given once the next caller follows it, however slow the machine.
        const go = path.join(n.dir, "go");
        fs.writeFileSync(n.script, `echo tick >&2\nwhile [ ! -f ${go} ]; do sleep 0.05; done\necho finished\n`);
        const first = spawn("bash", ["-c", run(n)], { env: n.env, stdio: "ignore", detached: true });
        await until("the step to start", () => started(n));
        process.kill(-first.pid!, "SIGKILL");
        const again = spawn("bash", ["-c", run(n)], { env: n.env });
        let out = "", err = "";
        again.stdout.on("data", d => { out += d; });
        again.stderr.on("data", d => { err += d; });
        const code = new Promise(r => again.on("close", r));
        await until("the next caller to follow the step", () => /found this step still running on the node.*following it/.test(err));
        fs.writeFileSync(go, "");
        assert.strictEqual(await code, 0, err);
        assert.strictEqual(out, "finished\n");
        // Reported: the same step sent again runs again.
        const third = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.doesNotMatch(third.stderr, /found this step/);
        assert.strictEqual(third.stdout, "finished\n");
    });

    it("a result nobody followed is reported by the next caller", async () => {
        const n = fakeNode();
        // The step waits for a go-ahead, so that its caller is gone before it ends, however slow the machine.
        const go = path.join(n.dir, "go");
        fs.writeFileSync(n.script, `while [ ! -f ${go} ]; do sleep 0.05; done\necho done-unwatched\nexit 4\n`);
        const first = spawn("bash", ["-c", run(n)], { env: n.env, stdio: "ignore", detached: true });
        const runs = path.join(n.env.CN_DIR, "runs");
        await until("the step to start", () => started(n));
        process.kill(-first.pid!, "SIGKILL");
        fs.writeFileSync(go, "");
        await until("the step to end", () => fs.existsSync(path.join(runs, runDir(n)!, "rc")));
        const again = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.match(again.stderr, /found this step's run on the node, finished while no one followed it/);
        assert.strictEqual(again.status, 4);
        assert.strictEqual(again.stdout, "done-unwatched\n");
    });

    it("a unit that ends before the step begins ran nothing: it is started again, said, and the step runs once", function () {
        this.timeout(60_000);
        const n = fakeNode();
        fs.writeFileSync(path.join(n.dir, "fail-starts"), "1");
        const count = path.join(n.dir, "ran");
        fs.writeFileSync(n.script, `echo x >>${count}\necho done-second-start\n`);
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "done-second-start\n");
        assert.match(r.stderr, /^\[demo\] its unit ended before the step began \(nothing of it ran\): starting it again\n {2}systemd: containerd-node-demo-[0-9a-f]{16}: /);
        assert.strictEqual(fs.readFileSync(count, "utf8"), "x\n", "the step's script ran once");
        const [done] = fs.readdirSync(path.join(n.dir, "state", "runs", "done"));
        assert.strictEqual(fs.readFileSync(path.join(n.dir, "state", "runs", "done", done, "tries"), "utf8"), "2\n");
    });

    // (At least 15 s: the runner waits 5 s for a unit that is gone before each start again; on a loaded machine more.)
    it("a unit that never begins: three starts, then the step fails saying nothing of it ran; the script is removed", function () {
        this.timeout(90_000);
        const n = fakeNode();
        fs.writeFileSync(path.join(n.dir, "fail-starts"), "9");
        fs.writeFileSync(n.script, "echo never\n");
        const r = spawnSync("bash", ["-c", run(n)], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr.match(/starting it again/g)?.length, 2, r.stderr);
        assert.match(r.stderr, /containerd-node: step 'demo' did not begin: its unit ended before it, 3 times \(nothing of the step ran\)\n/);
        assert.strictEqual(fs.readFileSync(path.join(n.dir, "fail-starts"), "utf8"), "6\n", "three starts");
        const [done] = fs.readdirSync(path.join(n.dir, "state", "runs", "done"));
        assert.ok(!fs.existsSync(path.join(n.dir, "state", "runs", "done", done, "script")), "no copy of the script is left");
    });

    it("a run an older library started (no count of starts) is not started again: it ended without a result", () => {
        const n = fakeNode();
        // The run directory as an older cn_run left it when its unit ended without running: the script, no result.
        // (Followed by name: the follower takes the directory and unit it is given.)
        const dir = path.join(n.env.CN_DIR, "runs", "demo-old");
        fs.mkdirSync(path.join(n.env.CN_DIR, "runs", "done"), { recursive: true });
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "script"), "echo old\n");
        fs.writeFileSync(path.join(dir, "err"), "");
        const r = spawnSync("bash", ["-c", `source ${n.dir}/lib.sh; cn_follow demo ${dir} containerd-node-demo-old`], { env: n.env, encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.doesNotMatch(r.stderr, /starting it again/);
        assert.match(r.stderr, /step 'demo' ended without a result \(its unit was stopped or killed\)/);
    });

    it("another stack's run of the same step is not ours: it gets a run of its own", () => {
        const n = fakeNode();
        fs.writeFileSync(n.script, "echo x\n");
        spawnSync("bash", ["-c", run(n, "stack p/a")], { env: n.env });
        spawnSync("bash", ["-c", run(n, "stack p/b")], { env: n.env });
        const names = fs.readdirSync(path.join(n.dir, "state", "runs", "done")).map(d => d.replace(/^\d+-/, ""));
        assert.strictEqual(new Set(names).size, 2);
    });
});

describe("the boot-time recovery (cn_recover_at_boot), on a run a reboot cut short", () => {
    // The library's own functions in a temp CN_DIR; cn_recover_unit (which installs the boot unit
    // under /etc) stubbed out, systemctl a no-op stand-in.
    const node = () => {
        const n = fakeNode();
        const cn = n.env.CN_DIR;
        fs.mkdirSync(path.join(cn, "txn"), { recursive: true });
        const bash = (script: string) => spawnSync("bash", ["-c", `source ${n.dir}/lib.sh\ncn_recover_unit() { :; }\n${script}`], { env: n.env, encoding: "utf8" });
        return { n, cn, bash };
    };
    it("during a part's transaction: what it changed is put back, and the run's result says so", () => {
        const { cn, bash } = node();
        const run = path.join(cn, "runs", "converge-aaaa");
        const file = path.join(cn, "conf");
        fs.mkdirSync(run, { recursive: true });
        fs.writeFileSync(file, "old\n");
        // A converge in its switch part, killed (as a reset kills it) inside the part's transaction.
        const cut = bash(`CN_RUN_DIR=${run}\n(\ncn_part configure\ntxn_begin\necho done | put ${file}.c 0644\n)\ncn_part switch\ntxn_begin\nphase "docker: disable"\necho new | put ${file} 0644\nkill -KILL $$`);
        assert.strictEqual(cut.status, null, cut.stderr);
        assert.strictEqual(fs.readFileSync(file, "utf8"), "new\n");
        const r = bash("cn_recover_at_boot");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(file, "utf8"), "old\n", "the cut part's change put back");
        assert.strictEqual(fs.readFileSync(`${file}.c`, "utf8"), "done\n", "the finished part's stands");
        assert.match(fs.readFileSync(path.join(run, "err"), "utf8"), /the node rebooted during this step \(docker: disable\); at boot every file and service it had changed was put back/);
        assert.strictEqual(fs.readFileSync(path.join(run, "rc"), "utf8").trim(), "1");
        assert.ok(fs.existsSync(path.join(run, "interrupted")));
    });
    it("a unit the cut part had disabled is enabled and started again (queued), one it had enabled is disabled and stopped", () => {
        const { n, cn, bash } = node();
        const run = path.join(cn, "runs", "converge-cccc");
        fs.mkdirSync(run, { recursive: true });
        const log = path.join(n.dir, "systemctl.log");
        // Before the part: Docker running and enabled, the kubelet enabled and restarting, containerd-new neither.
        const cut = bash(`systemctl() { case "$1 $2" in "is-active docker") echo active;; "is-active kubelet") echo activating;; is-active*) echo inactive;;
  "is-enabled docker"|"is-enabled kubelet") echo enabled;; is-enabled*) echo disabled;; esac; }
CN_RUN_DIR=${run}\ncn_part switch\ntxn_begin\nphase "docker: disable"\nnote_unit docker\nnote_unit containerd-new\nnote_unit kubelet\nkill -KILL $$`);
        assert.strictEqual(cut.status, null, cut.stderr);
        assert.strictEqual(fs.readFileSync(path.join(fs.readFileSync(path.join(run, "txn"), "utf8").trim(), "units"), "utf8"),
            "docker active enabled\ncontainerd-new inactive disabled\nkubelet activating enabled\n");
        const r = bash(`systemctl() { echo "$*" >>${log}; }\ncn_recover_at_boot`);
        assert.strictEqual(r.status, 0, r.stderr);
        // The boot planned its starts before the recovery enabled Docker again: the recovery starts it.
        assert.deepStrictEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
            "enable docker", "start --no-block docker", "disable containerd-new", "stop --no-block containerd-new", "enable kubelet", "start --no-block kubelet",
        ]);
    });
    it("between two parts: nothing to put back, and the result says what it had finished stands", () => {
        const { cn, bash } = node();
        const run = path.join(cn, "runs", "converge-bbbb");
        const file = path.join(cn, "conf");
        fs.mkdirSync(run, { recursive: true });
        const cut = bash(`CN_RUN_DIR=${run}\n(\ncn_part configure\ntxn_begin\nphase "checking containerd"\necho new | put ${file} 0644\n)\nkill -KILL $$`);
        assert.strictEqual(cut.status, null, cut.stderr);
        assert.ok(!fs.existsSync(path.join(run, "txn")), "the finished part's transaction is no longer the run's");
        assert.strictEqual(bash("cn_recover_at_boot").status, 0);
        assert.strictEqual(fs.readFileSync(file, "utf8"), "new\n");
        assert.match(fs.readFileSync(path.join(run, "err"), "utf8"), /the node rebooted during this step \(checking containerd\), outside its transactions: nothing was half-done, and what it had finished stands/);
    });
});
