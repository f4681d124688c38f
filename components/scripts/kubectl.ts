/**
 * The Kubernetes-side steps, run on the machine running `pulumi up` with kubectl (nothing in
 * Pulumi drains a node). A cordon made by containerd-node is marked with an annotation, so the
 * uncordon lifts only that cordon and a node cordoned by someone else stays cordoned.
 */
import { NodeSpec } from "../spec";
import { usesCriSocketAnnotation } from "../versions";
import { sq } from "./shell";
import { UPGRADE_DRAINS, VERSION_MATCHES } from "./lib";

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

const jsonpathKey = (key: string) => key.replace(/\./g, "\\.");

/**
 * Steps that go on after a failure (a fleet's failure budget): `planned` is the Node's retry mark
 * when the run was planned. A different mark now means an earlier step of this run failed.
 */
export interface SoftFailure {
    planned: string;
}

function head(spec: NodeSpec, soft?: SoftFailure): string {
    const k = k8sOf(spec);
    return `set -euo pipefail
K=${sq(k.kubectl)}
NODE=${sq(k.nodeName)}
set_phase() { "$K" annotate --overwrite node "$NODE" ${PHASE_ANNOTATION}="$1" >/dev/null || true; }
${soft ? `PLANNED=${sq(soft.planned)}
annotation() { "$K" get node "$NODE" -o jsonpath="{.metadata.annotations.$1}"; }
runtime_now() { "$K" get node "$NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' || true; }
# An earlier step of this run failed (within the failure budget): nothing more is done to the node.
skip_if_failed() {
  local rb fa mark
  rb=$(annotation ${sq(jsonpathKey(ROLLBACK_ANNOTATION))}) && fa=$(annotation ${sq(jsonpathKey(FAILURE_ANNOTATION))}) || { echo "containerd-node: cannot read node $NODE" >&2; exit 1; }
  mark=$rb; [ -n "$fa" ] && mark="$rb failed:$fa"
  [ "$mark" = "$PLANNED" ] && return 0
  echo "node $NODE failed earlier in this run (\${fa:-rolled back}): skipped" >&2
  echo "{\"skipped\":true,\"failure\":\"\${fa:-switch}\"}"; runtime_now; exit 0
}
# fail_soft STEP: the failure is recorded on the Node and the step ends, so the rollout goes on.
fail_soft() {
  "$K" annotate --overwrite node "$NODE" ${FAILURE_ANNOTATION}="$1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2 || exit 1
  set_phase "$1-failed"
  echo "containerd-node: node $NODE failed at step $1 within the failure budget; the rollout goes on" >&2
  echo "{\"failed\":\"$1\"}"; runtime_now; exit 0
}
` : ""}`;
}

/**
 * Cordons and drains the node unless it already runs the declared containerd, or runs another
 * containerd that upgrade.drain moves in place (then nothing is done). A drain
 * that fails (a PodDisruptionBudget until the timeout, an unmanaged pod without force) lifts the
 * cordon it made and fails the run with nothing on the node changed. Prints one JSON line.
 */
export function drainScript(spec: NodeSpec, soft?: SoftFailure): string {
    const k = k8sOf(spec);
    const flags = [
        "--ignore-daemonsets",
        k.deleteEmptyDirData ? "--delete-emptydir-data" : "",
        k.force ? "--force" : "",
        `--grace-period=${k.gracePeriodSeconds}`,
        `--timeout=${k.drainTimeoutSeconds}s`,
    ].filter(Boolean).join(" ");
    const want = spec.containerd.version.text;
    const policy = spec.upgrade.drain;
    return `${head(spec, soft)}${VERSION_MATCHES}${UPGRADE_DRAINS}
RT=$("$K" get node "$NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}') || { echo "containerd-node: cannot read node $NODE" >&2; exit 1; }
UNSCHED=$("$K" get node "$NODE" -o jsonpath='{.spec.unschedulable}')
OURS=$("$K" get node "$NODE" -o jsonpath='{.metadata.annotations.containerd-node\\.pulumi\\.com/cordoned}')
WAS=false; [ "$UNSCHED" = true ] && [ "$OURS" != true ] && WAS=true
# containerd ${want} under upgrade.drain ${policy}: the text names both, so a change of either runs this again.
case "$RT" in containerd://*)
  V=\${RT#containerd://}
  if version_matches "$V" ${sq(want)}; then
    echo "node $NODE already runs $RT: not draining" >&2
    echo "{\\"drained\\":false,\\"wasCordoned\\":$WAS,\\"runtime\\":\\"$RT\\"}"; exit 0
  fi
  if ! upgrade_drains "$V" ${sq(want)} ${sq(policy)}; then
    echo "node $NODE moves from $RT to containerd ${want} in place (upgrade.drain ${policy}): not draining" >&2
    echo "{\\"drained\\":false,\\"wasCordoned\\":$WAS,\\"runtime\\":\\"$RT\\"}"; exit 0
  fi
  echo "node $NODE moves from $RT to containerd ${want}: draining first (upgrade.drain ${policy})" >&2;;
esac
START=$(date +%s)
set_phase draining
if [ "$WAS" = false ]; then
  "$K" annotate --overwrite node "$NODE" ${CORDON_ANNOTATION}=true >&2
  "$K" cordon "$NODE" >&2
fi
if ! "$K" drain "$NODE" ${flags} >&2; then
  set_phase drain-failed
  if [ "$WAS" = false ]; then
    "$K" uncordon "$NODE" >&2 && "$K" annotate node "$NODE" ${CORDON_ANNOTATION}- >&2
    echo "containerd-node: draining $NODE failed (see kubectl's message above: a PodDisruptionBudget, or pods without a controller unless drain.force); the node was uncordoned and nothing on it was changed" >&2
  else
    echo "containerd-node: draining $NODE failed (see kubectl's message above); it stays cordoned as it was before the run and nothing on it was changed" >&2
  fi
  ${soft ? "fail_soft drain" : "exit 1"}
fi
set_phase switching
echo "{\\"drained\\":true,\\"wasCordoned\\":$WAS,\\"runtime\\":\\"$RT\\",\\"seconds\\":$(( $(date +%s) - START ))}"
`;
}

/**
 * Prints the Node's retry mark (see retryMark; empty when none). Run at every preview and update:
 * a new mark makes the drain run again, since the rollback lifted its cordon.
 */
export function rollbackMarkScript(spec: NodeSpec): string {
    return `${head(spec)}
A=$("$K" get node "$NODE" -o jsonpath='{.metadata.annotations.${jsonpathKey(ROLLBACK_ANNOTATION)}}{"\\n"}{.metadata.annotations.${jsonpathKey(FAILURE_ANNOTATION)}}') || { echo "containerd-node: cannot read node $NODE with $K (KUBECONFIG=$KUBECONFIG)" >&2; exit 1; }
RB=$(echo "$A" | sed -n 1p); FA=$(echo "$A" | sed -n 2p)
if [ -n "$FA" ]; then echo "$RB failed:$FA"; else echo "$RB"; fi
`;
}

/**
 * After the switch: waits for the Node to be Ready on the declared containerd, points kubeadm's
 * `kubeadm.alpha.kubernetes.io/cri-socket` annotation at containerd (read by `kubeadm upgrade` up
 * to 1.33), then lifts the cordon containerd-node made (a node cordoned before the run stays
 * cordoned). One step, so one resource per node in a fleet's preview. Prints a JSON line with its
 * duration, then the Node's containerRuntimeVersion.
 */
export function verifyNodeScript(spec: NodeSpec, soft?: SoftFailure): string {
    const k = k8sOf(spec);
    const want = spec.containerd.version.text;
    const socket = `unix://${spec.config.socket}`;
    // kubectl rather than a NodePatch resource: drain already needs kubectl, and it keeps a second
    // provider plugin off the operator's machine.
    const criSocket = spec.kubelet && usesCriSocketAnnotation(spec.kubelet.version) ? `
CUR=$("$K" get node "$NODE" -o jsonpath='{.metadata.annotations.kubeadm\\.alpha\\.kubernetes\\.io/cri-socket}')
if [ "$CUR" != ${sq(socket)} ]; then
  "$K" annotate --overwrite node "$NODE" kubeadm.alpha.kubernetes.io/cri-socket=${sq(socket)} >&2
  echo "cri-socket annotation: \${CUR:-none} -> ${socket}" >&2
fi` : "";
    return `${head(spec, soft)}${soft ? "skip_if_failed\n" : ""}set_phase verifying
deadline=$(( $(date +%s) + ${k.verifyTimeoutSeconds} ))
while :; do
  RT=$("$K" get node "$NODE" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null || true)
  READY=$("$K" get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  V=\${RT#containerd://}; V=\${V#v}
  case "$RT" in containerd://*) if [ "$READY" = True ] && { [ "$V" = ${sq(want)} ] || case "$V" in ${sq(want)}[.~+-]*) true;; *) false;; esac; }; then break; fi;; esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "containerd-node: node $NODE is not Ready on containerd ${want} (runtime \${RT:-unknown}, Ready=\${READY:-unknown})" >&2
    ${soft ? "fail_soft verify" : "set_phase verify-failed\n    exit 1"}
  fi
  sleep 3
done
SECS=$SECONDS${criSocket}
OURS=$("$K" get node "$NODE" -o jsonpath='{.metadata.annotations.containerd-node\\.pulumi\\.com/cordoned}')
if [ "$OURS" = true ]; then
  "$K" uncordon "$NODE" >&2
  "$K" annotate node "$NODE" ${CORDON_ANNOTATION}- >&2
else
  echo "node $NODE was not cordoned by containerd-node: left as it is" >&2
fi
set_phase converted
echo "{\\"seconds\\":$SECS}"
echo "$RT"
`;
}
