/**
 * The Kubernetes-side steps (drain, verify, a fleet's gate, the retry mark read) run as they run
 * on the machine running `pulumi up`: their text (values and a call) sourcing the library the
 * program writes (components/node/kubectl.sh), against a fake kubectl that keeps one Node's state
 * in files and logs every call.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubeconfigDir, removeKubeconfig, writeKubeconfig, writeLocalLibrary } from "../../components/kubeconfig";
import { gateScript } from "../../components/fleet/gate";
import {
    CORDON_ANNOTATION, drainScript, FAILURE_ANNOTATION, parseWaveDrain, parseWaveReport, PHASE_ANNOTATION, ROLLBACK_ANNOTATION, rollbackMarkScript, verifyNodeScript, waveDrainScript, waveTriggers, waveVerifyScript,
} from "../../components/scripts/kubectl";
import { LOCAL_LIB, LOCAL_LIB_FILE } from "../../components/scripts/localLib";
import { resolveSpec } from "../../components/spec";
import { baseArgs } from "./helpers";

/**
 * kubectl with one Node (or several, see waveLab): S/runtime, S/ready, S/unschedulable, S/ann/<key with / as _>;
 * `get node -o jsonpath` reads any sequence of those fields; `patch --type=merge` writes the
 * spec's unschedulable and the annotations (null removes one), all or nothing; `drain` fails when
 * S/drain-fails exists, an uncordon (a patch of unschedulable to false) when S/uncordon-fails does;
 * every call is a line of S/calls.
 */
const FAKE_KUBECTL = `#!/usr/bin/env bash
S=$(dirname "$0")/state
# Several Nodes (waveLab): nodes/NAME holds NAME's.
for a in "$@"; do if [ -n "$a" ] && [ -d "$(dirname "$0")/nodes/$a" ]; then S=$(dirname "$0")/nodes/$a; fi; done
echo "$*" >>"$S/calls"
ann() { local k=\${1//\\\\./.}; cat "$S/ann/\${k//\\//_}" 2>/dev/null || true; }
field='^\\{([^}]*)\\}(.*)$'
member='^,?"([^"]+)":(null|"([^"]*)")(.*)$'
case "$1" in
  get)
    [ "$2" = pods ] && exit 0
    e=\${5#jsonpath=}
    while [[ $e =~ $field ]]; do
      f=\${BASH_REMATCH[1]}; e=\${BASH_REMATCH[2]}
      case "$f" in
        '"\\n"') echo;;
        .status.nodeInfo.containerRuntimeVersion) cat "$S/runtime";;
        .spec.unschedulable) cat "$S/unschedulable";;
        *Ready*) cat "$S/ready";;
        .metadata.annotations.*) ann "\${f#.metadata.annotations.}";;
        *) echo "fake kubectl: unknown jsonpath {$f}" >&2; exit 2;;
      esac
    done
    [ -z "$e" ] || { echo "fake kubectl: unparsed jsonpath $e" >&2; exit 2; };;
  patch)
    [ "$4 $5" = "--type=merge -p" ] || { echo "fake kubectl: unknown patch $*" >&2; exit 2; }
    b=$6
    case "$b" in
      *'"unschedulable":false'*) [ -e "$S/uncordon-fails" ] && { echo "error: the server refused the patch" >&2; exit 1; }; printf false >"$S/unschedulable";;
      *'"unschedulable":true'*) printf true >"$S/unschedulable";;
    esac
    a=\${b#*'"annotations":{'}; a=\${a%%\\}*}
    while [[ $a =~ $member ]]; do
      k=\${BASH_REMATCH[1]}; f="$S/ann/\${k//\\//_}"
      if [ "\${BASH_REMATCH[2]}" = null ]; then rm -f "$f"; else printf '%s' "\${BASH_REMATCH[3]}" >"$f"; fi
      a=\${BASH_REMATCH[4]}
    done
    [ -z "$a" ] || { echo "fake kubectl: unparsed annotations $a" >&2; exit 2; };;
  annotate)
    shift; [ "$1" = --overwrite ] && shift; shift 2
    for kv in "$@"; do
      case "$kv" in
        *=*) k=\${kv%%=*}; printf '%s' "\${kv#*=}" >"$S/ann/\${k//\\//_}";;
        *-) k=\${kv%-}; rm -f "$S/ann/\${k//\\//_}";;
      esac
    done;;
  drain) echo "evicting pod apps/web-1"; [ -e "$S/drain-fails" ] && { echo "error: cannot evict pod as it would violate the pod's disruption budget" >&2; exit 1; }
    printf true >"$S/unschedulable"
    echo "evicting pod apps/web-2"; echo "pod/web-1 evicted"; echo "pod/web-2 evicted"; echo "node/$2 drained";;
  *) echo "fake kubectl: unknown command $*" >&2; exit 2;;
esac
`;

interface Lab { dir: string; tmp: string; state: string; kubectl: string }

function lab(node: { runtime: string; ready?: string; unschedulable?: boolean; annotations?: { [k: string]: string } }): Lab {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kubectl-"));
    const state = path.join(dir, "state");
    fs.mkdirSync(path.join(state, "ann"), { recursive: true });
    fs.writeFileSync(path.join(state, "runtime"), node.runtime);
    fs.writeFileSync(path.join(state, "ready"), node.ready ?? "True");
    fs.writeFileSync(path.join(state, "unschedulable"), String(node.unschedulable ?? false));
    for (const [k, v] of Object.entries(node.annotations ?? {})) {
        fs.writeFileSync(path.join(state, "ann", k.replace(/\//g, "_")), v);
    }
    const kubectl = path.join(dir, "kubectl");
    fs.writeFileSync(kubectl, FAKE_KUBECTL, { mode: 0o755 });
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp);
    writeLocalLibrary(tmp);
    return { dir, tmp, state, kubectl };
}

/** A lab with several Nodes: each one's state in nodes/NAME, laid out as lab's. */
function waveLab(nodes: { [name: string]: Parameters<typeof lab>[0] }): Lab & { node: (name: string) => Lab } {
    const l = lab({ runtime: "unused" });
    const of = (name: string): Lab => ({ ...l, state: path.join(l.dir, "nodes", name) });
    for (const [name, n] of Object.entries(nodes)) {
        const one = lab(n);
        fs.cpSync(one.state, of(name).state, { recursive: true });
    }
    return { ...l, node: of };
}

const annotation = (l: Lab, key: string) => {
    const f = path.join(l.state, "ann", key.replace(/\//g, "_"));
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
};
const calls = (l: Lab) => fs.readFileSync(path.join(l.state, "calls"), "utf8").trim().split("\n");
const run = (l: Lab, text: string, env: { [k: string]: string } = {}) =>
    spawnSync("bash", ["-c", text], { encoding: "utf8", env: { ...process.env, TMPDIR: l.tmp, ...env } });

const specOf = (l: Lab, over: { softFailures?: boolean } = {}, nodeName = "w1") => resolveSpec(baseArgs({
    containerd: { version: "2.2.9", source: { kind: "tarball", url: "http://127.0.0.1/c.tgz", sha256: "a".repeat(64) } },
    kubelet: { version: "1.23.17" },
    kubernetes: { kubeconfig: "/k/admin.conf", nodeName, kubectl: l.kubectl },
    ...over,
}));

describe("the Kubernetes-side steps' library (components/node/kubectl.sh, as the steps run it)", function () {
    this.timeout(30000);
    it("names the annotations kubectl.ts names", () => {
        for (const [v, name] of [["CN_CORDONED", CORDON_ANNOTATION], ["CN_ROLLED_BACK", ROLLBACK_ANNOTATION], ["CN_LAST_FAILURE", FAILURE_ANNOTATION], ["CN_PHASE", PHASE_ANNOTATION]]) {
            assert.match(LOCAL_LIB, new RegExp(`^${v}=${name.replace(/[.]/g, "\\.")}$`, "m"));
        }
    });

    it("a step's text is its values and a call: the library is not in it", () => {
        const l = lab({ runtime: "docker://20.10.24" });
        const text = drainScript(specOf(l));
        assert.ok(text.length < 700, `drain text is ${text.length} bytes`);
        assert.ok(text.includes(LOCAL_LIB_FILE));
        assert.doesNotMatch(text, /cordon "\$NODE"/);
        assert.match(text, /^WANT='2\.2\.9'$/m);
        assert.match(text, /^DRAIN_FLAGS=\('--ignore-daemonsets' .*'--timeout=\d+s'\)$/m);
    });

    it("the program writes the library 0644 in the run's own 0700 directory, by content hash; a step without it fails naming the file", () => {
        const l = lab({ runtime: "docker://20.10.24" });
        const file = path.join(kubeconfigDir(l.tmp), LOCAL_LIB_FILE);
        assert.strictEqual(fs.readFileSync(file, "utf8"), LOCAL_LIB);
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o644);
        fs.rmSync(file);
        const r = run(l, drainScript(specOf(l)));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /\/containerd-node-\d+\/kubectl-[0-9a-f]{16}\.sh: No such file or directory\n$/);
        assert.ok(!fs.existsSync(path.join(l.state, "calls")), "kubectl never ran");
    });

    it("a host-mode gate (no set -e) without the library stops at the sourcing line: no probe runs", () => {
        const l = lab({ runtime: "containerd://2.2.9" });
        fs.rmSync(path.join(kubeconfigDir(l.tmp), LOCAL_LIB_FILE));
        const out = path.join(l.tmp, "probed");
        const r = run(l, gateScript({ node: "n1", probes: [`touch ${out}`], timeoutSeconds: 1, pauseSeconds: 0 }));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /kubectl-[0-9a-f]{16}\.sh: No such file or directory\n$/);
        assert.ok(!fs.existsSync(out), "no probe ran");
    });

    it("drain: cordons (marking the cordon as its own) and drains a Docker node", () => {
        const l = lab({ runtime: "docker://20.10.24" });
        const r = run(l, drainScript(specOf(l)));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"drained":true,"wasCordoned":false,"runtime":"docker:\/\/20\.10\.24","seconds":\d+\}\n$/);
        assert.strictEqual(annotation(l, CORDON_ANNOTATION), "true");
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "switching");
        assert.ok(calls(l).some(c => /^drain w1 --ignore-daemonsets .*--grace-period=-?\d+ --timeout=\d+s$/.test(c)), calls(l).join("\n"));
        // One read of the Node, one write (the cordon, its mark, the phase), the drain, the phase after it.
        assert.deepStrictEqual(calls(l).map(c => c.split(" ")[0]), ["get", "patch", "drain", "annotate"], calls(l).join("\n"));
        assert.match(calls(l)[1], /^patch node w1 --type=merge -p \{"spec":\{"unschedulable":true\},"metadata":\{"annotations":\{"containerd-node\.pulumi\.com\/cordoned":"true","containerd-node\.pulumi\.com\/phase":"draining"\}\}\}$/);
        // kubectl's lines (one or two a pod) go to the drain's log, not the step's output, which the state keeps.
        const log = path.join(kubeconfigDir(l.tmp), "drain-w1.log");
        assert.match(r.stderr, new RegExp(`^draining node w1 \\(kubectl's output: ${log.replace(/[.]/g, "\\.")}\\)\nnode w1 drained in \\d+s: 2 pods evicted\n$`));
        assert.match(fs.readFileSync(log, "utf8"), /^evicting pod apps\/web-1\nevicting pod apps\/web-2\npod\/web-1 evicted\npod\/web-2 evicted\nnode\/w1 drained\n$/);
    });

    it("drain: a node already on the declared containerd is left alone", () => {
        const l = lab({ runtime: "containerd://2.2.9" });
        const r = run(l, drainScript(specOf(l)));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, '{"drained":false,"wasCordoned":false,"runtime":"containerd://2.2.9"}\n');
        assert.match(r.stderr, /already runs containerd:\/\/2\.2\.9: not draining/);
        assert.deepStrictEqual(calls(l).map(c => c.split(" ")[0]), ["get"], "one read, nothing written");
    });

    it("drain: a failed drain lifts its own cordon and fails; a node cordoned by someone else stays cordoned", () => {
        const l = lab({ runtime: "docker://20.10.24" });
        fs.writeFileSync(path.join(l.state, "drain-fails"), "");
        let r = run(l, drainScript(specOf(l)));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /draining w1 failed .*the node was uncordoned and nothing on it was changed/);
        // The log's last lines: what kubectl said went wrong.
        assert.match(r.stderr, /^evicting pod apps\/web-1\nerror: cannot evict pod as it would violate the pod's disruption budget\n/m);
        assert.strictEqual(fs.readFileSync(path.join(l.state, "unschedulable"), "utf8").trim(), "false");
        assert.strictEqual(annotation(l, CORDON_ANNOTATION), undefined);
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "drain-failed");

        const other = lab({ runtime: "docker://20.10.24", unschedulable: true });
        fs.writeFileSync(path.join(other.state, "drain-fails"), "");
        r = run(other, drainScript(specOf(other)));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /it stays cordoned as it was before the run/);
        assert.strictEqual(fs.readFileSync(path.join(other.state, "unschedulable"), "utf8").trim(), "true");
        assert.ok(!calls(other).some(c => /^(patch|annotate)/.test(c) && /unschedulable|cordoned/.test(c)), "its cordon and marks untouched");

        // The uncordon refused too: the step says the node stays cordoned, and its mark stays for the next run's verify.
        const stuck = lab({ runtime: "docker://20.10.24" });
        fs.writeFileSync(path.join(stuck.state, "drain-fails"), "");
        fs.writeFileSync(path.join(stuck.state, "uncordon-fails"), "");
        r = run(stuck, drainScript(specOf(stuck)));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /draining w1 failed .*and so did lifting its cordon: it stays cordoned/);
        assert.strictEqual(annotation(stuck, CORDON_ANNOTATION), "true");
        assert.strictEqual(annotation(stuck, PHASE_ANNOTATION), "drain-failed");
    });

    it("drain within a failure budget: the failure is recorded on the Node and the step ends successfully", () => {
        const l = lab({ runtime: "docker://20.10.24" });
        fs.writeFileSync(path.join(l.state, "drain-fails"), "");
        const r = run(l, drainScript(specOf(l), { planned: "" }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"failed":"drain"\}\ndocker:\/\/20\.10\.24\n$/);
        assert.match(annotation(l, FAILURE_ANNOTATION) ?? "", /^drain \d{4}-\d\d-\d\dT/);
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "drain-failed");
    });

    it("verify: Ready on the declared containerd, sets kubeadm's cri-socket, lifts only its own cordon", () => {
        const l = lab({ runtime: "containerd://2.2.9", unschedulable: true, annotations: { [CORDON_ANNOTATION]: "true" } });
        let r = run(l, verifyNodeScript(specOf(l)));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"seconds":\d+\}\ncontainerd:\/\/2\.2\.9\n$/);
        assert.strictEqual(fs.readFileSync(path.join(l.state, "unschedulable"), "utf8").trim(), "false");
        assert.strictEqual(annotation(l, CORDON_ANNOTATION), undefined);
        assert.strictEqual(annotation(l, "kubeadm.alpha.kubernetes.io/cri-socket"), "unix:///run/containerd/containerd.sock");
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "converted");
        // The phase, one read of the Node (it is Ready), and one write: the uncordon, the cri-socket, the marks.
        assert.deepStrictEqual(calls(l).map(c => c.split(" ")[0]), ["annotate", "get", "patch"], calls(l).join("\n"));

        const other = lab({ runtime: "containerd://2.2.9", unschedulable: true });
        r = run(other, verifyNodeScript(specOf(other)));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /was not cordoned by containerd-node: left as it is/);
        assert.strictEqual(fs.readFileSync(path.join(other.state, "unschedulable"), "utf8").trim(), "true");
        assert.ok(!calls(other).some(c => /^(patch|annotate)/.test(c) && /unschedulable|cordoned/.test(c)), "its cordon and marks untouched");
    });

    it("verify within a failure budget: an earlier failure of this run (a new retry mark) skips the node", () => {
        const l = lab({ runtime: "docker://20.10.24", annotations: { [FAILURE_ANNOTATION]: "drain 2026-12-03T00:00:00Z" } });
        const r = run(l, verifyNodeScript(specOf(l), { planned: "" }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, '{"skipped":true,"failure":"drain 2026-12-03T00:00:00Z"}\ndocker://20.10.24\n');
        assert.ok(!calls(l).some(c => /^(patch|annotate)/.test(c)));
    });

    it("a fleet's wave verifies and gates all its nodes in one step: a JSON line per node, values given once; a node that fails fails the step, naming it", () => {
        const cordoned = { runtime: "containerd://2.2.9", unschedulable: true, annotations: { [CORDON_ANNOTATION]: "true" } };
        const l = waveLab({ w1: cordoned, w2: { runtime: "containerd://2.2.9" } });
        const out = path.join(l.dir, "probed");
        const gate = (probes: string[]) => ({ probes, timeoutSeconds: 1, pauseSeconds: 0 });
        const wave = (probes: string[], atOnce = 16) => waveVerifyScript(["w1", "w2"].map(n => ({ spec: specOf(l, {}, n) })), "d0", gate(probes), atOnce);
        const text = wave([`echo "$NODE $(cat $S/nodes/$NODE/unschedulable)" >>${out}`]);
        assert.match(text, /^NODES=\('w1' 'w2'\)\nAFTER='d0'\nWANT='2\.2\.9'\nVERIFY_TIMEOUT='\d+'\nCRI_SOCKET='unix:\/\/\/run\/containerd\/containerd\.sock'\n/m);
        assert.doesNotMatch(text, /^PLANNED=/m, "no budget: no retry marks");
        let r = run(l, text, { S: l.dir });
        assert.strictEqual(r.status, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.strictEqual(lines.length, 2, r.stdout);
        for (const [i, n] of ["w1", "w2"].entries()) {
            assert.match(lines[i], new RegExp(`^\\{"node":"${n}","verify":\\{"seconds":\\d+\\},"gate":\\{"passed":true,"seconds":\\d+\\},"runtime":"containerd://2\\.2\\.9"\\}$`));
            const report = parseWaveReport(r.stdout, n)!;
            assert.deepStrictEqual([report.node, report.gate?.passed, report.runtime], [n, true, "containerd://2.2.9"]);
            assert.strictEqual(annotation(l.node(n), PHASE_ANNOTATION), "converted");
        }
        assert.strictEqual(parseWaveReport(r.stdout, "w3"), undefined);
        assert.deepStrictEqual(fs.readFileSync(out, "utf8").trim().split("\n").sort(), ["w1 false", "w2 false"], "each probe ran with NODE set, after the uncordon");
        assert.strictEqual(annotation(l.node("w1"), CORDON_ANNOTATION), undefined, "its own cordon lifted");
        // A node's verify and gate: the phase, a read and a write (the verify), a read (the gate;
        // its pods are another call), the runtime after them.
        assert.deepStrictEqual(calls(l.node("w1")).map(c => c.split(" ")[0]), ["annotate", "get", "patch", "get", "get"], calls(l.node("w1")).join("\n"));
        // Each node's messages are in its log, not in the step's output.
        assert.match(fs.readFileSync(path.join(kubeconfigDir(l.tmp), "verify-w1.log"), "utf8"), /node w1 uncordoned/);
        assert.match(r.stderr, /^2 nodes verified and gated/);

        // A probe that never passes fails the step (no budget), naming each node, after the verify did its work.
        r = run(l, wave(["exit 1"]));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /health gate of w1 failed: probe 1 \(exit 1\) did not pass/);
        assert.match(r.stderr, /containerd-node: 2 of 2 nodes of this wave failed: w1 w2\n$/);

        // AT_ONCE nodes at a time: each node's probe marks itself started and waits up to 2 s for
        // the other's mark; the two meet only when both are gated at once.
        const meet = `touch ${l.dir}/started-$NODE; for i in $(seq 20); do [ "$(ls ${l.dir}/started-* | wc -l)" -ge 2 ] && touch ${l.dir}/met; sleep 0.1; done; rm ${l.dir}/started-$NODE`;
        assert.match(wave([meet], 1), /^AT_ONCE='1'$/m);
        r = run(l, wave([meet], 1));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!fs.existsSync(path.join(l.dir, "met")), "one node at a time");
        r = run(l, wave([meet], 2));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(fs.existsSync(path.join(l.dir, "met")), "both at once");

        // The verify part keeps errexit: an uncordon refused fails that node, whose gate does not run; the other passes.
        const u = waveLab({ w1: cordoned, w2: cordoned });
        fs.writeFileSync(path.join(u.node("w2").state, "uncordon-fails"), "");
        r = run(u, waveVerifyScript(["w1", "w2"].map(n => ({ spec: specOf(u, {}, n) })), "d", gate([`touch ${out}-$NODE`]), 16));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /node w2 failed \(the last lines of .*verify-w2\.log\):\n(.*\n)*.*the server refused the patch/);
        assert.match(r.stderr, /1 of 2 nodes of this wave failed: w2\n$/);
        assert.ok(fs.existsSync(`${out}-w1`) && !fs.existsSync(`${out}-w2`), "w1's gate ran, w2's did not");
        assert.strictEqual(parseWaveReport(r.stdout, "w1")?.gate?.passed, true);
        assert.deepStrictEqual(parseWaveReport(r.stdout, "w2"), { node: "w2", verify: null, gate: null, runtime: "" });
    });

    it("a fleet's wave within a failure budget: a node that failed earlier in the run is skipped and reported failed, the others pass; the step ends successfully", () => {
        const l = waveLab({
            w1: { runtime: "docker://20.10.24", annotations: { [FAILURE_ANNOTATION]: "switch 2026-12-03T00:00:00Z" } },
            w2: { runtime: "containerd://2.2.9", unschedulable: true, annotations: { [CORDON_ANNOTATION]: "true" } },
        });
        const text = waveVerifyScript(["w1", "w2"].map(n => ({ spec: specOf(l, {}, n), planned: "" })), "d", { probes: [], timeoutSeconds: 1, pauseSeconds: 0 }, 16);
        assert.match(text, /^PLANNED=''$/m, "one mark for both");
        const r = run(l, text);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(parseWaveReport(r.stdout, "w1"), {
            node: "w1", verify: { skipped: true, failure: "switch 2026-12-03T00:00:00Z" },
            gate: { passed: false, failure: "switch 2026-12-03T00:00:00Z" }, runtime: "docker://20.10.24",
        });
        assert.strictEqual(parseWaveReport(r.stdout, "w2")?.gate?.passed, true);
        assert.ok(!calls(l.node("w1")).some(c => /^(patch|annotate)/.test(c)), "nothing done to w1's Node");
        assert.strictEqual(fs.readFileSync(path.join(l.node("w2").state, "unschedulable"), "utf8").trim(), "false");
    });

    it("a fleet's wave drains all its nodes in one step: a JSON line per node; a node already on the declared containerd is left alone", () => {
        const l = waveLab({ w1: { runtime: "docker://20.10.24" }, w2: { runtime: "containerd://2.2.9" }, w3: { runtime: "docker://20.10.24", unschedulable: true } });
        const text = waveDrainScript(["w1", "w2", "w3"].map(n => ({ spec: specOf(l, {}, n) })), 16);
        assert.match(text, /^NODES=\('w1' 'w2' 'w3'\)\nWANT='2\.2\.9'\nPOLICY='\w+'\nDRAIN_FLAGS=\('--ignore-daemonsets' .*\)\nAT_ONCE='16'\n/m);
        assert.doesNotMatch(text, /^PLANNED=/m, "no budget: no retry marks");
        const r = run(l, text);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"node":"w1","drain":\{"drained":true,"wasCordoned":false,"runtime":"docker:\/\/20\.10\.24","seconds":\d+\}\}$/m);
        assert.deepStrictEqual(parseWaveDrain(r.stdout, "w2"), { node: "w2", drain: { drained: false, wasCordoned: false, runtime: "containerd://2.2.9" } });
        assert.strictEqual(parseWaveDrain(r.stdout, "w3")?.drain?.wasCordoned, true, "cordoned before the run");
        assert.strictEqual(r.stdout.trim().split("\n").length, 3);
        assert.strictEqual(annotation(l.node("w1"), CORDON_ANNOTATION), "true");
        assert.strictEqual(annotation(l.node("w1"), PHASE_ANNOTATION), "switching");
        assert.strictEqual(annotation(l.node("w3"), CORDON_ANNOTATION), undefined, "not its cordon");
        assert.ok(!calls(l.node("w2")).some(c => /^(patch|drain|annotate)/.test(c)), "nothing done to w2");
        // kubectl's lines are each node's drain log; the step says how many nodes it drained.
        assert.match(fs.readFileSync(path.join(kubeconfigDir(l.tmp), "drain-w1.log"), "utf8"), /pod\/web-1 evicted/);
        assert.match(r.stderr, /^draining node w1 \(kubectl's output: .*\)\nnode w1 drained in \d+s: 2 pods evicted\nnode w2 already runs containerd:\/\/2\.2\.9: not draining\n(.*\n){2}3 nodes of this wave: 2 drained \(kubectl's output: .*drain-NODE\.log\)\n$/);
    });

    it("a fleet's wave whose drain fails on a node: the step fails naming it, and the nodes it drained are uncordoned (no switch follows); within a budget the failure is recorded and the step succeeds", () => {
        const l = waveLab({ w1: { runtime: "docker://20.10.24" }, w2: { runtime: "docker://20.10.24" }, w3: { runtime: "docker://20.10.24", unschedulable: true } });
        fs.writeFileSync(path.join(l.node("w2").state, "drain-fails"), "");
        let r = run(l, waveDrainScript(["w1", "w2", "w3"].map(n => ({ spec: specOf(l, {}, n) })), 1));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /draining w2 failed .*the node was uncordoned/);
        assert.match(r.stderr, /node w1 uncordoned: its wave stops here\n/);
        assert.match(r.stderr, /containerd-node: 1 of 3 nodes of this wave failed to drain: w2\n$/);
        for (const n of ["w1", "w2"]) {
            assert.strictEqual(fs.readFileSync(path.join(l.node(n).state, "unschedulable"), "utf8").trim(), "false", n);
            assert.strictEqual(annotation(l.node(n), CORDON_ANNOTATION), undefined, n);
        }
        assert.strictEqual(annotation(l.node("w1"), PHASE_ANNOTATION), "drain-undone");
        assert.strictEqual(annotation(l.node("w2"), PHASE_ANNOTATION), "drain-failed");
        assert.strictEqual(fs.readFileSync(path.join(l.node("w3").state, "unschedulable"), "utf8").trim(), "true", "cordoned before the run: it stays so");
        assert.strictEqual(parseWaveDrain(r.stdout, "w2")?.drain, null);

        // Within a budget: w2's failure is its line and its Node's annotation; w1 stays drained for its switch.
        const b = waveLab({ w1: { runtime: "docker://20.10.24" }, w2: { runtime: "docker://20.10.24" } });
        fs.writeFileSync(path.join(b.node("w2").state, "drain-fails"), "");
        const text = waveDrainScript(["w1", "w2"].map(n => ({ spec: specOf(b, {}, n), planned: n === "w2" ? "m2" : "" })), 16);
        assert.match(text, /^PLANNED=\('' 'm2'\)$/m, "a mark a node");
        r = run(b, text);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(parseWaveDrain(r.stdout, "w2")?.drain, { failed: "drain" });
        assert.match(annotation(b.node("w2"), FAILURE_ANNOTATION) ?? "", /^drain \d{4}-/);
        assert.strictEqual(annotation(b.node("w1"), CORDON_ANNOTATION), "true");
        assert.strictEqual(fs.readFileSync(path.join(b.node("w1").state, "unschedulable"), "utf8").trim(), "true");
    });

    it("a wave drain's trigger names each node with a retry mark", () => {
        assert.strictEqual(waveTriggers(["a", "b", "c"], ["", "", ""]), "");
        assert.strictEqual(waveTriggers(["a", "b", "c"], ["", "2026-12-01T10:00:00Z", "x failed:drain t"]), "b: 2026-12-01T10:00:00Z; c: x failed:drain t");
    });

    it("the retry mark read (inline: nothing of a read is kept)", () => {
        const l = lab({ runtime: "docker://20.10.24", annotations: { [ROLLBACK_ANNOTATION]: "2026-12-01T10:00:00Z", [FAILURE_ANNOTATION]: "verify 2026-12-02T10:00:00Z" } });
        const text = rollbackMarkScript(specOf(l));
        assert.ok(!text.includes(LOCAL_LIB_FILE));
        const r = run(l, text, { TMPDIR: "/nonexistent" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "2026-12-01T10:00:00Z failed:verify 2026-12-02T10:00:00Z\n");
    });

    it("gate: Kubernetes mode passes a Ready node on containerd and runs the probes with NODE set; a probe that never passes fails it", () => {
        const l = lab({ runtime: "containerd://2.2.9" });
        const out = path.join(l.dir, "probed");
        let r = run(l, gateScript({ node: "w1", kubernetes: { kubectl: l.kubectl, containerdVersion: "2.2.9" }, probes: [`echo "$NODE" >${out}`], timeoutSeconds: 5, pauseSeconds: 0 }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"node":"w1","passed":true,"seconds":\d+\}\n$/);
        assert.strictEqual(fs.readFileSync(out, "utf8"), "w1\n");
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "converted");

        r = run(l, gateScript({ node: "n1", probes: ["true", "exit 1"], timeoutSeconds: 1, pauseSeconds: 0 }));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /health gate of n1 failed: probe 2 \(exit 1\) did not pass/);
    });

    it("gate within a failure budget: a node whose mark changed is not gated; one that fails the gate is recorded and the rollout goes on", () => {
        const l = lab({ runtime: "containerd://2.2.9", annotations: { [ROLLBACK_ANNOTATION]: "2026-12-01T10:00:00Z" } });
        const gate = (planned: string) => gateScript({ node: "w1", kubernetes: { kubectl: l.kubectl, containerdVersion: "2.2.9" }, probes: ["exit 1"], timeoutSeconds: 1, pauseSeconds: 0, planned });
        let r = run(l, gate(""));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, '{"node":"w1","passed":false,"failure":"switch"}\n');
        r = run(l, gate("2026-12-01T10:00:00Z"));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\{"node":"w1","passed":false,"failure":"gate \d{4}-/);
        assert.strictEqual(annotation(l, PHASE_ANNOTATION), "gate-failed");
    });
});

describe("kubeconfig content as a file of the run (as the drain, verify and gate steps read it)", () => {
    it("the program writes it 0600 in a 0700 directory of its own; the step finds it by its slot; removed when released", () => {
        const l = lab({ runtime: "containerd://2.2.9" });
        const file = writeKubeconfig("0123456789abcdef", "apiVersion: v1\nkind: Config\n", l.tmp);
        assert.strictEqual(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
        // The fake kubectl prints the file it is given as KUBECONFIG.
        const probe = `${gateScript({ node: "w1", probes: ['echo "$KUBECONFIG"; cat "$KUBECONFIG"'], timeoutSeconds: 1, pauseSeconds: 0 })}`;
        const r = run(l, probe, { CN_KUBECONFIG_SLOT: "0123456789abcdef" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stderr, `${file}\napiVersion: v1\nkind: Config\n`);
        removeKubeconfig("0123456789abcdef");
        assert.strictEqual(fs.existsSync(file), false);
        const gone = run(l, drainScript(specOf(l)), { CN_KUBECONFIG_SLOT: "0123456789abcdef" });
        assert.strictEqual(gone.status, 1);
        assert.strictEqual(gone.stdout, "");
        assert.ok(!fs.existsSync(path.join(l.state, "calls")), "kubectl never runs without it");
        assert.match(gone.stderr, /containerd-node: no kubeconfig at .*kubeconfig-0123456789abcdef: the program writes it there at pulumi up/);
    });
    it("a directory another user could read, or a symbolic link in its place, is refused", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-kc-"));
        const dir = path.join(tmp, `containerd-node-${process.getuid!()}`);
        fs.mkdirSync(dir, { mode: 0o755 });
        fs.chmodSync(dir, 0o755);
        assert.throws(() => kubeconfigDir(tmp), /is not a directory of this user's alone \(mode 755, .*no kubeconfig is written there/);
        assert.throws(() => writeLocalLibrary(tmp), /is not a directory of this user's alone/);
        fs.rmdirSync(dir);
        fs.symlinkSync(tmp, dir);
        assert.throws(() => writeKubeconfig("fedcba9876543210", "x", tmp), /a symbolic link/);
        assert.deepStrictEqual(fs.readdirSync(tmp), [path.basename(dir)], "nothing written");
    });
});
