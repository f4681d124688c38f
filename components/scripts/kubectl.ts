/**
 * The Kubernetes-side steps' texts, run on the machine running `pulumi up` with kubectl (nothing in
 * Pulumi drains a node): each is its values and a call into components/node/kubectl.sh (see
 * localLib.ts). A cordon made by containerd-node is marked with an annotation, so the uncordon
 * lifts only that cordon and a node cordoned by someone else stays cordoned.
 */
import { createHash } from "crypto";
import { FleetGateValues } from "../args";
import { NodeSpec } from "../spec";
import { usesCriSocketAnnotation } from "../versions";
import { LOCAL_LIB, LOCAL_LIB_SOURCE, LocalValue, localValues } from "./localLib";

// The annotations' names (kubectl.sh names them too; a unit test holds both to the same names).
export const CORDON_ANNOTATION = "containerd-node.pulumi.com/cordoned";
/** Set on the Node by a switch rollback (its time): the next run drains again. */
export const ROLLBACK_ANNOTATION = "containerd-node.pulumi.com/rolled-back";
/**
 * Set on the Node when a step fails within a fleet's failure budget ("<step> <UTC time>"): the
 * rollout goes on, and the next run retries the node.
 */
export const FAILURE_ANNOTATION = "containerd-node.pulumi.com/last-failure";
/**
 * The node's phase, for people following a rollout with kubectl: draining, drain-failed,
 * drain-undone (a fleet's wave: drained, then uncordoned because another node's drain failed),
 * switching, rolled-back (set with the kubelet's credentials), verifying, verify-failed, converted.
 */
export const PHASE_ANNOTATION = "containerd-node.pulumi.com/phase";

function k8sOf(spec: NodeSpec): NonNullable<NodeSpec["kubernetes"]> {
    if (!spec.kubernetes) {
        throw new Error("Kubernetes steps need spec.kubernetes");
    }
    return spec.kubernetes;
}

/**
 * A Node's retry mark from its annotations: it changes whenever a step rolled the node back or
 * failed within a failure budget, and the steps that follow a drain are triggered by it, so the
 * next run does the node again (and its preview says so).
 */
export function retryMark(rolledBack: string, lastFailure: string): string {
    return lastFailure ? `${rolledBack} failed:${lastFailure}` : rolledBack;
}

/**
 * Steps that go on after a failure (a fleet's failure budget): `planned` is the Node's retry mark
 * when the run was planned. A different mark now means an earlier step of this run failed.
 */
export interface SoftFailure {
    planned: string;
}

/** A step's text: its values, the library (components/node/kubectl.sh, a file of the run), its call. */
function stepText(spec: NodeSpec, call: string, values: { [name: string]: LocalValue }, soft?: SoftFailure): string {
    const k = k8sOf(spec);
    return `set -euo pipefail
${localValues({ K: k.kubectl, NODE: k.nodeName, ...values, PLANNED: soft?.planned })}${LOCAL_LIB_SOURCE}${call}
`;
}

/**
 * Cordons and drains the node unless it already runs the declared containerd, or runs another
 * containerd that upgrade.drain moves in place (then nothing is done): kubectl.sh cn_drain. The
 * text names the version and the policy, so a change of either runs it again. Prints one JSON line.
 */
export function drainScript(spec: NodeSpec, soft?: SoftFailure): string {
    return stepText(spec, "cn_drain", drainValues(spec), soft);
}

/** The drain's own values: the declared containerd, upgrade.drain, kubectl drain's flags (from kubernetes.drain). */
function drainValues(spec: NodeSpec): { WANT: string; POLICY: string; DRAIN_FLAGS: string[] } {
    const k = k8sOf(spec);
    const flags = [
        "--ignore-daemonsets",
        k.deleteEmptyDirData ? "--delete-emptydir-data" : "",
        k.force ? "--force" : "",
        `--grace-period=${k.gracePeriodSeconds}`,
        `--timeout=${k.drainTimeoutSeconds}s`,
    ].filter(Boolean);
    return { WANT: spec.containerd.version.text, POLICY: spec.upgrade.drain, DRAIN_FLAGS: flags };
}

/**
 * Prints the Node's retry mark (see retryMark; empty when none): a read, run at every preview and
 * update, with the library inline (nothing of a read is kept). A new mark makes the drain run
 * again, since the rollback lifted its cordon.
 */
export function rollbackMarkScript(spec: NodeSpec): string {
    const k = k8sOf(spec);
    return `set -euo pipefail
${localValues({ K: k.kubectl, NODE: k.nodeName })}${LOCAL_LIB}
cn_retry_mark
`;
}

/**
 * After the switch: waits for the Node to be Ready on the declared containerd, points kubeadm's
 * `kubeadm.alpha.kubernetes.io/cri-socket` annotation at containerd (read by `kubeadm upgrade` up
 * to 1.33), then lifts the cordon containerd-node made (a node cordoned before the run stays
 * cordoned): kubectl.sh cn_verify. Prints a JSON line with its duration, then the Node's
 * containerRuntimeVersion. (A fleet's nodes are verified by their wave's step: waveVerifyScript.)
 */
export function verifyNodeScript(spec: NodeSpec, soft?: SoftFailure): string {
    return stepText(spec, "cn_verify", verifyValues(spec), soft);
}

/** The verify's own values: the declared containerd, how long to wait, kubeadm's cri-socket ("" for none). */
function verifyValues(spec: NodeSpec): { WANT: string; VERIFY_TIMEOUT: number; CRI_SOCKET: string } {
    // kubectl rather than a NodePatch resource: drain already needs kubectl, and it keeps a second
    // provider plugin off the operator's machine.
    const criSocket = spec.kubelet && usesCriSocketAnnotation(spec.kubelet.version) ? `unix://${spec.config.socket}` : "";
    return { WANT: spec.containerd.version.text, VERIFY_TIMEOUT: k8sOf(spec).verifyTimeoutSeconds, CRI_SOCKET: criSocket };
}

/**
 * The drain as its verify names it: a digest of the drain's text and its trigger (the retry mark),
 * so the verify runs again whenever the drain does, without taking the drain's output as an input
 * (whose resource would then be named in the verify's state too).
 */
export function drainDigest(drainText: string, mark: string): string {
    return createHash("sha256").update(`${drainText}\n${mark}`).digest("hex").slice(0, 16);
}

/** A node of a fleet's wave, as its wave's steps name it. */
export interface WaveMember {
    spec: NodeSpec;
    /** Within a failure budget: the Node's retry mark when the run was planned. */
    planned?: string;
}

/** The values every step of a wave starts with: kubectl, the wave's Nodes, and within a budget their retry marks. */
function waveValues(members: WaveMember[]): { [name: string]: LocalValue } {
    if (members.length === 0) {
        throw new Error("a wave has at least one node");
    }
    const soft = members.some(m => m.planned !== undefined);
    return {
        K: k8sOf(members[0].spec).kubectl,
        NODES: members.map(m => k8sOf(m.spec).nodeName),
        PLANNED: soft ? perNode(members, m => m.planned ?? "") : undefined,
    };
}

/**
 * A wave drain's trigger: each node of the wave that has a retry mark, with it ("" when none has):
 * a node's new mark (a rollback, or a failure within a budget) makes the wave drain again, and the
 * preview's diff names the node.
 */
export function waveTriggers(nodes: string[], marks: string[]): string {
    return nodes.flatMap((n, i) => marks[i] ? [`${n}: ${marks[i]}`] : []).join("; ");
}

/** A value of each node of a wave: one value when it is the same for every node, else one per node (kubectl.sh wave_value). */
function perNode<M, T extends string | number>(nodes: M[], f: (m: M) => T): T | string[] {
    const vs = nodes.map(m => f(m));
    return vs.every(v => v === vs[0]) ? vs[0] : vs.map(String);
}

/**
 * A fleet's wave (Kubernetes mode), once its nodes' configure steps are done: every node's drain
 * (drainScript), the wave's nodes side by side, in one step (kubectl.sh cn_drain_wave): a node's
 * drain is not a resource of its own, which a fleet's state and preview would pay for at every
 * node. At most `atOnce` nodes are drained at a time (each a kubectl drain on the machine running
 * `pulumi up`). When a node's drain fails (without a failure budget) the step fails and uncordons
 * the nodes it drained. Prints one JSON line per node (parseWaveDrain).
 */
export function waveDrainScript(members: WaveMember[], atOnce: number): string {
    const values = members.map(m => drainValues(m.spec));
    const flags = values.map(v => v.DRAIN_FLAGS);
    if (flags.some(f => f.join(" ") !== flags[0].join(" "))) {
        throw new Error("a wave's nodes drain with the same flags (the fleet's kubernetes.drain)");
    }
    return `set -uo pipefail
${localValues({
        ...waveValues(members),
        WANT: perNode(values, v => v.WANT),
        POLICY: perNode(values, v => v.POLICY),
        DRAIN_FLAGS: flags[0],
        AT_ONCE: atOnce,
    })}${LOCAL_LIB_SOURCE}cn_drain_wave
`;
}

/**
 * A fleet's wave (Kubernetes mode), once its nodes' switches are done: every node's verify
 * (verifyNodeScript) and then the fleet's health gate after it, the wave's nodes side by side, in
 * one step (kubectl.sh cn_verify_wave). A value that is the same for every node of the wave is
 * given once. At most `atOnce` nodes are verified and gated at a time (each is a few kubectl runs
 * on the machine running `pulumi up`). `drain` names the wave's drain (drainDigest of its text
 * and triggers), so the verify runs again whenever the drain does. Prints one JSON line per node
 * (parseWaveReport).
 */
export function waveVerifyScript(members: WaveMember[], drain: string, gate: FleetGateValues, atOnce: number): string {
    const values = members.map(m => verifyValues(m.spec));
    return `set -uo pipefail
${localValues({
        ...waveValues(members),
        AFTER: drain,
        WANT: perNode(values, v => v.WANT),
        VERIFY_TIMEOUT: perNode(values, v => v.VERIFY_TIMEOUT),
        CRI_SOCKET: perNode(values, v => v.CRI_SOCKET),
        PROBES: gate.probes,
        GATE_TIMEOUT: gate.timeoutSeconds,
        PAUSE: gate.pauseSeconds,
        AT_ONCE: atOnce,
    })}${LOCAL_LIB_SOURCE}cn_verify_wave
`;
}

/** One node's line of a wave's drain step (kubectl.sh cn_drain_wave). */
export interface WaveDrainReport {
    node: string;
    /** cn_drain's JSON line: whether it drained, in how many seconds, or within a failure budget what failed. */
    drain: { drained?: boolean; wasCordoned?: boolean; runtime?: string; seconds?: number; failed?: string } | null;
}

/** One node's line of a wave's verify step (kubectl.sh cn_verify_wave). */
export interface WaveNodeReport {
    node: string;
    /** cn_verify's JSON line: its seconds, or within a failure budget what failed or was skipped. */
    verify: { seconds?: number; failed?: string; skipped?: boolean; failure?: string } | null;
    /** The health gate's report. */
    gate: GateReport | null;
    /** The Node's containerRuntimeVersion after the verify. */
    runtime: string;
}

/** The line of `node` in a wave step's output (undefined at a preview, or when it has none). */
function waveLineOf<T>(stdout: string | undefined, node: string): T | undefined {
    for (const line of (stdout ?? "").split("\n")) {
        if (line.startsWith(`{"node":${JSON.stringify(node)},`)) {
            return JSON.parse(line) as T;
        }
    }
    return undefined;
}

/** The line of `node` in a wave's drain output (undefined at a preview, or when it has none). */
export const parseWaveDrain = (stdout: string | undefined, node: string) => waveLineOf<WaveDrainReport>(stdout, node);

/** The line of `node` in a wave's verify output (undefined at a preview, or when it has none). */
export const parseWaveReport = (stdout: string | undefined, node: string) => waveLineOf<WaveNodeReport>(stdout, node);

/** What a node's health gate reported (its JSON stdout line). */
export interface GateReport {
    passed: boolean;
    /** The step that failed (within the failure budget), with its time. */
    failure?: string;
}
