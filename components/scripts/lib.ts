/**
 * The bash prelude every remote step starts with: logging, a per-node lock, and a small
 * transaction: every file is saved before it is overwritten and every service's state is noted
 * before it is touched; if the step fails anywhere, the EXIT trap puts them all back and restarts
 * what was running, so a failed step leaves the node as it found it.
 */
export function prelude(step: string): string {
    return `set -euo pipefail
umask 022
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STEP=${step}
CN_DIR=\${CN_DIR:-/var/lib/containerd-node}
PHASE=start
CHANGED=""
TXN=""
# A command the rollback runs last, once files and services are back (e.g. lift a cordon).
ON_ROLLBACK=""
mkdir -p "$CN_DIR/txn" "$CN_DIR/cache"
exec 9>"$CN_DIR/lock"
flock -w 600 9 || { echo "containerd-node: another containerd-node step holds $CN_DIR/lock" >&2; exit 1; }

log() { echo "[$STEP] $*" >&2; }
phase() { PHASE="$*"; log "$PHASE"; }
die() { echo "containerd-node: step '$STEP' failed during '$PHASE': $*" >&2; exit 1; }
unit_exists() { systemctl cat "$1" >/dev/null 2>&1; }
# wait_for SECONDS CMD...: polls CMD every second until it succeeds.
wait_for() { local t=$1; shift; local i=0; until "$@" >/dev/null 2>&1; do i=$((i+1)); [ "$i" -ge "$t" ] && return 1; sleep 1; done; }

txn_begin() {
  TXN=$(mktemp -d "$CN_DIR/txn/$STEP.XXXXXX")
  : >"$TXN/files"; : >"$TXN/paths"; : >"$TXN/units"
  trap 'txn_end $?' EXIT
}
# save PATH: keep the current content (or its absence) for a rollback; once per path.
save() {
  local p=$1 n
  [ -n "$TXN" ] || return 0
  grep -qxF -- "$p" "$TXN/paths" && return 0
  echo "$p" >>"$TXN/paths"
  n=$(wc -l <"$TXN/paths")
  if [ -e "$p" ] || [ -L "$p" ]; then cp -a "$p" "$TXN/$n"; echo "$n present $p" >>"$TXN/files"
  else echo "$n absent $p" >>"$TXN/files"; fi
}
# note_unit NAME: remember whether NAME is active/enabled, to restore it on rollback. Units are
# restored in the order noted: note the runtime before the units that need it (kubelet last).
note_unit() {
  local u=$1
  [ -n "$TXN" ] || return 0
  grep -q "^$u " "$TXN/units" && return 0
  echo "$u $(systemctl is-active "$u" 2>/dev/null || true) $(systemctl is-enabled "$u" 2>/dev/null || true)" >>"$TXN/units"
}
# put PATH MODE < content: writes only when the content differs; records the change.
put() {
  local p=$1 mode=$2 tmp
  mkdir -p "$(dirname "$p")"
  tmp=$(mktemp "$p.cnode.XXXXXX")
  cat >"$tmp"; chmod "$mode" "$tmp"
  if [ -f "$p" ] && [ ! -L "$p" ] && cmp -s "$tmp" "$p"; then rm -f "$tmp"; return 0; fi
  save "$p"; mv -f "$tmp" "$p"; CHANGED="$CHANGED $p"; log "wrote $p"
}
# put_bin SRC DEST: installs a binary when it differs.
put_bin() {
  local src=$1 p=$2
  if [ -f "$p" ] && cmp -s "$src" "$p"; then return 0; fi
  save "$p"; mkdir -p "$(dirname "$p")"
  cp -f "$src" "$p.cnode.tmp" && chmod 0755 "$p.cnode.tmp" && mv -f "$p.cnode.tmp" "$p"
  CHANGED="$CHANGED $p"; log "installed $p"
}
# remove PATH: deletes a file or directory, saved first.
remove() { if [ -e "$1" ] || [ -L "$1" ]; then save "$1"; rm -rf "$1"; CHANGED="$CHANGED $1"; log "removed $1"; fi; }
changed() { local p; for p in "$@"; do case " $CHANGED " in *" $p"*) return 0;; esac; done; return 1; }

rollback() {
  echo "containerd-node: rolling back step '$STEP'" >&2
  local n state p u active enabled
  # The kubelet must not run on a half-restored runtime; it is started again below if it ran.
  if grep -q "^kubelet " "$TXN/units"; then systemctl stop kubelet 2>/dev/null || true; fi
  tac "$TXN/files" | while read -r n state p; do
    rm -rf "$p"
    if [ "$state" = present ]; then cp -a "$TXN/$n" "$p"; echo "  restored $p" >&2; else echo "  removed $p (did not exist)" >&2; fi
  done
  systemctl daemon-reload || true
  while read -r u active enabled; do
    case "$enabled" in enabled) systemctl enable "$u" >/dev/null 2>&1 || true;; disabled) systemctl disable "$u" >/dev/null 2>&1 || true;; esac
    if [ "$active" = active ]; then systemctl restart "$u" || echo "  could not restart $u" >&2
    else systemctl stop "$u" 2>/dev/null || true; fi
    echo "  $u: $(systemctl is-active "$u" 2>/dev/null || true) (was $active)" >&2
  done <"$TXN/units"
  [ -z "$ON_ROLLBACK" ] || $ON_ROLLBACK || true
}
txn_end() {
  local rc=$1
  trap - EXIT
  if [ "$rc" -ne 0 ] && [ -n "$TXN" ]; then
    rollback
    echo "containerd-node: step '$STEP' failed (exit $rc) during '$PHASE'; the node was put back as it was before this step" >&2
  fi
  [ -n "$TXN" ] && rm -rf "$TXN"
  exit "$rc"
}
`;
}
