/**
 * The run claim: which stack's run is converting the node. The node lock (lib.ts) is held for one
 * step, so two stacks' steps never run at once; but a run is several steps, with the operator's
 * own steps (drain, verify) between them, and another stack's run must not slip in between. So
 * every mutating step, under the lock, also claims the node for its stack: a step of another stack
 * is refused while that claim holds, naming the holder, its step and since when.
 *
 * A claim ends when the run is over for the node: the node's last step removes it when it
 * succeeds, and a step that fails removes it (the run stops there, and the step put back what it
 * had changed). A run that dies between two steps (pulumi SIGKILLed, a runner cancelled) leaves
 * its claim, and so does a run in which the last step had nothing to do (a config change reruns
 * only configure): the same stack's next run goes on with it, and for another stack it lapses once
 * no step of the holder has started or ended for longer than the longest gap a run can have
 * between two of its node steps (`claimSeconds`). Over-refusing for that long is the price of not
 * having a step that runs last in every run: one more resource per node, a quarter more time and a
 * tenth more memory in every preview of a fleet (measured with bench/preview.ts: 1000 nodes, 28.4 → 35.4 s,
 * 1068 → 1191 MiB), for the rare case of two stacks that list one node.
 */
import { NodeSpec } from "../spec";

/** The node steps after the pre-flight that change the node, in the order they run. */
export type NodeStep = "registry-auth" | "configure" | "migrate-images" | "switch" | "docker-cleanup";

/** Which of them a node of this spec has (ContainerdNode builds exactly these). */
export function nodeSteps(spec: NodeSpec): NodeStep[] {
    const steps: NodeStep[] = [];
    if (spec.config.registryAuth.length > 0) {
        steps.push("registry-auth");
    }
    steps.push("configure");
    if (spec.docker.migrateImages) {
        steps.push("migrate-images");
    }
    if (spec.kubelet || spec.docker.mode !== "keep") {
        steps.push("switch");
    }
    if (spec.docker.mode === "purge" || spec.docker.removeData) {
        steps.push("docker-cleanup");
    }
    return steps;
}

/** The claim a node step takes: how long it holds after the step, and whether the step ends it. */
export function claimOf(spec: NodeSpec, step: NodeStep): { seconds: number; last: boolean } {
    const steps = nodeSteps(spec);
    return { seconds: claimSeconds(spec), last: steps[steps.length - 1] === step };
}

/** Slack on top of the operator-side steps' own timeouts: SSH set-up, a wave's other nodes, clock skew. */
const CLAIM_SLACK_SECONDS = 900;

/**
 * How long a claim holds after its step started or ended: longer than any gap between two node
 * steps of one run. In Kubernetes mode the drain and the verify run between them, each up to its
 * timeout.
 */
export function claimSeconds(spec: NodeSpec): number {
    const k = spec.kubernetes;
    return CLAIM_SLACK_SECONDS + (k ? k.drainTimeoutSeconds + k.verifyTimeoutSeconds : 0);
}

/** Bash functions of the node library; called under the node lock (fd 9), by lib.ts's prelude. */
export const CLAIM = `# --- the run claim (components/scripts/claim.ts)
# The claim file: holder, step, what the step is doing, since when the holder's run has the node,
# and the epoch second the claim lapses at for other holders; tab-separated, one line.
cn_utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
cn_claim_read() {
  CLAIM_HOLDER="" CLAIM_STEP="" CLAIM_STATE="" CLAIM_SINCE="" CLAIM_UNTIL=0
  [ -f "$CN_DIR/claim" ] || return 0
  IFS=$'\\t' read -r CLAIM_HOLDER CLAIM_STEP CLAIM_STATE CLAIM_SINCE CLAIM_UNTIL <"$CN_DIR/claim" || true
  case "$CLAIM_UNTIL" in ''|*[!0-9]*) CLAIM_UNTIL=0;; esac
}
cn_claim_write() { # cn_claim_write STATE SINCE
  printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$CN_HOLDER_NAME" "$STEP" "$1" "$2" "$(( $(date +%s) + CN_CLAIM_SECONDS ))" >"$CN_DIR/claim.tmp"
  mv -f "$CN_DIR/claim.tmp" "$CN_DIR/claim"
}
# cn_claim: at a mutating step's start. Refuses the step while another holder's claim holds; takes
# over a lapsed one, saying whose it was; keeps the start of the holder's own run.
cn_claim() {
  local now since
  CN_HOLDER_NAME=\${CN_HOLDER:-a run}
  now=$(date +%s)
  cn_claim_read
  since=$CLAIM_SINCE
  if [ -n "$CLAIM_HOLDER" ] && [ "$CLAIM_HOLDER" != "$CN_HOLDER_NAME" ]; then
    if [ "$now" -lt "$CLAIM_UNTIL" ]; then
      echo "containerd-node: step '$STEP' refused: this node is being converted by $CLAIM_HOLDER (its run has had the node since $CLAIM_SINCE; its step $CLAIM_STEP $CLAIM_STATE). Run again once that run is over: its last node step releases the node; if that run died, or its last step had nothing to run, the claim lapses at $(cn_utc "$CLAIM_UNTIL") (claim $CN_DIR/claim)" >&2
      exit 1
    fi
    log "the claim of $CLAIM_HOLDER (since $CLAIM_SINCE, step $CLAIM_STEP $CLAIM_STATE) lapsed at $(cn_utc "$CLAIM_UNTIL"): this run takes the node over"
    since=""
  fi
  [ -n "$since" ] || since=$(cn_utc "$now")
  cn_claim_write running "$since"
  CN_CLAIM_SINCE=$since
}
# cn_claim_end RC: at the step's end. Done: the claim holds on for the run's next step, unless
# this is the node's last step. Failed: the run stops here for this node (its step was rolled
# back), so the claim goes.
cn_claim_end() {
  [ -n "\${CN_CLAIM_SINCE:-}" ] || return 0
  if [ "$1" -eq 0 ] && [ "\${CN_CLAIM_LAST:-0}" != 1 ]; then
    cn_claim_write "finished at $(cn_utc "$(date +%s)")" "$CN_CLAIM_SINCE"
  else
    cn_claim_read
    if [ "$CLAIM_HOLDER" = "$CN_HOLDER_NAME" ]; then rm -f "$CN_DIR/claim"; log "released the node (claimed since $CLAIM_SINCE)"; fi
  fi
  CN_CLAIM_SINCE=""
}
`;
