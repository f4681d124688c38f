/**
 * Version rules in bash, shared by the node library and the steps run with kubectl on the
 * machine running `pulumi up` (a module of its own: both import it).
 */

/** version_matches REPORTED DECLARED (versions.ts runtimeVersionMatches, in bash). */
export const VERSION_MATCHES = `# version_matches REPORTED DECLARED: "1.6" matches "1.6.20~ds1"; "v2.1.4" matches "2.1.4".
version_matches() { local got=\${1#v} want=\${2#v}; [ "$got" = "$want" ] && return 0; case "$got" in "$want".*|"$want"~*|"$want"-*|"$want"+*) return 0;; esac; return 1; }
`;

/**
 * Whether moving containerd from RUNNING to TARGET drains the node under `upgrade.drain` POLICY:
 * the rule of upgrade/drain.ts (drainDecision), which the preview reports; the drain step decides
 * with this one at run time, from the version the Node reports.
 */
export const UPGRADE_DRAINS = `# upgrade_drains RUNNING TARGET POLICY: exit 0 when the move drains the node.
upgrade_drains() {
  local from=\${1#v} to=\${2#v}
  case "$3" in
    always) return 0;;
    never) return 1;;
    major) [ "\${from%%.*}" != "\${to%%.*}" ];;
    *) echo "containerd-node: unknown upgrade.drain policy $3" >&2; return 2;;
  esac
}
`;
