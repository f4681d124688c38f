/**
 * The bash body of each remote step, rendered from the NodeSpec. Each is idempotent (a second run
 * changes nothing), and each mutating step is one transaction (see lib.ts): it restores what it
 * changed when it fails. The desired state is inside the text, so `pulumi preview` diffs it.
 */
import { renderConfigToml, TOP_OF_FILE } from "../render/configToml";
import { REGISTRY_AUTH_FILE, RegistryAuthValues, renderRegistryAuthToml } from "../render/registryAuth";
import { renderCrictlYaml } from "../render/crictl";
import { registryTlsFiles, renderHostsTomls } from "../render/hostsToml";
import { kubeletEditPlan } from "../render/kubeletFlags";
import { renderUnit } from "../render/unit";
import { NodeSpec, ResolvedArtifact } from "../spec";
import { FAILURE_ANNOTATION, ROLLBACK_ANNOTATION, SoftFailure } from "./kubectl";
import { renderKubeletEdit } from "./kubeletEdit";
import { claimOf } from "./claim";
import { preflightPrelude, prelude } from "./lib";
import { heredoc, sq, stepValues } from "./shell";

export const STATE_DIR = "/var/lib/containerd-node";

/**
 * A move between containerd versions staged by the configure step for the switch step: the files
 * under root/ go to the same paths without it; `move` holds "FROM TO".
 */
export const PENDING_DIR = `${STATE_DIR}/pending`;

/** Where the install step leaves a file it was given by path (CopyToRemote target). */
export function uploadPath(kind: string, sha256: string): string {
    return `${STATE_DIR}/cache/${kind}-${sha256.slice(0, 16)}`;
}

/** The values of an artifact, as the node library's cn_stage reads them (PREFIX_FROM, _URL, _SHA256). */
function artifactValues(prefix: string, a: ResolvedArtifact | undefined): [string, string][] {
    return a === undefined ? [] : [[`${prefix}_FROM`, a.kind], [`${prefix}_URL`, a.kind === "url" ? a.url : a.path], [`${prefix}_SHA256`, a.sha256]];
}

function containerdArtifact(spec: NodeSpec): ResolvedArtifact | undefined {
    const s = spec.containerd.source;
    return s.kind === "tarball" ? { kind: "url", url: s.url, sha256: s.sha256 }
        : s.kind === "file" ? { kind: "path", path: s.path, sha256: s.sha256 }
            : undefined;
}

/** What the node library's cn_defer reads: whether a kubelet is declared, and what containerd. */
function deferValues(spec: NodeSpec): [string, string][] {
    return [["VERSION", spec.containerd.version.text], ["SOCKET", spec.config.socket], ["KUBELET", spec.kubelet ? "1" : "0"]];
}

/**
 * Checks before anything is touched (it only makes containerd-node's own directories, where the
 * next steps copy files); prints one JSON line of facts on stdout.
 */
export function preflightScript(spec: NodeSpec): string {
    const c = spec.containerd;
    const needsRunc = (c.source.kind === "tarball" || c.source.kind === "file") && !c.runc;
    const arch = c.source.kind === "tarball" ? /linux-(amd64|arm64|ppc64le|s390x|riscv64)/.exec(c.source.url)?.[1] : undefined;
    return `${preflightPrelude()}
phase "checking the node"
command -v systemctl >/dev/null || die "systemd is required"
ARCH=$(uname -m); case "$ARCH" in x86_64) ARCH=amd64;; aarch64) ARCH=arm64;; esac
${arch ? `[ "$ARCH" = ${sq(arch)} ] || die "the tarball is for linux-${arch}, the node is $ARCH"` : ""}
# Both filesystems: containerd's root, and the state directory the artifacts are staged in.
for d in ${sq(spec.config.root)} "$CN_DIR"; do
  f=$(free_mib "$d")
  [ "$f" -ge ${spec.minFreeDiskMiB} ] || die "only $f MiB free on the filesystem of $d, need ${spec.minFreeDiskMiB} MiB (minFreeDiskMiB)"
done
FREE=$(free_mib ${sq(spec.config.root)})
${c.source.kind === "docker" ? `command -v containerd >/dev/null || die "containerd.source is docker but no containerd binary is installed"
version_matches "$(containerd --version | awk '{print $3}')" ${sq(c.version.text)} || die "Docker's containerd is $(containerd --version | awk '{print $3}'), containerd.version declares ${c.version.text}"` : ""}
${c.source.kind === "package" ? `command -v apt-get >/dev/null || command -v dnf >/dev/null || command -v yum >/dev/null || die "containerd.source is package but the node has no apt-get, dnf or yum"` : ""}
${needsRunc ? `command -v runc >/dev/null || die "the containerd tarball brings no runc and the node has none: set containerd.runc"` : ""}
${spec.kubelet ? `if command -v kubelet >/dev/null; then
  KV=$(kubelet --version | awk '{print $2}')
  version_matches "$KV" ${sq(`${spec.kubelet.version.major}.${spec.kubelet.version.minor}`)} || die "the node's kubelet is $KV, kubelet.version declares ${spec.kubelet.version.text}"
fi` : ""}
RUNTIME=$(detect_runtime)
DOCKER=$(systemctl is-active docker 2>/dev/null || true)
CONTAINERD=$(containerd --version 2>/dev/null | awk '{print $3}' || true)
log "runtime in use: $RUNTIME; docker: $DOCKER; containerd binary: \${CONTAINERD:-none}; free: \${FREE} MiB"
printf '{"runtime":"%s","docker":"%s","containerd":"%s","arch":"%s","freeMiB":%s}\\n' "$RUNTIME" "$DOCKER" "$CONTAINERD" "$ARCH" "$FREE"
`;
}

/**
 * Saves the node's original state (once per node, see backup) and stages the artifacts (nothing
 * live yet); then, as one transaction, makes the staged binaries and rendered files live, restarts
 * containerd only when they changed, and checks it: running, enabled, the declared version, CRI
 * loaded. Prints `containerd://VERSION`.
 */
export function configureScript(spec: NodeSpec): string {
    const c = spec.containerd;
    const hosts = renderHostsTomls(spec);
    const hostFiles = Object.entries(hosts).map(([registry, text]) =>
        heredoc(`put "$R"${sq(`/etc/containerd/certs.d/${registry}/hosts.toml`)} 0644`, text));
    const v = stepValues([
        ...deferValues(spec),
        ["SOURCE", c.source.kind],
        ...artifactValues("CONTAINERD", containerdArtifact(spec)),
        ...(c.source.kind === "package" ? [["PACKAGE", c.source.name ?? "containerd"] as [string, string]] : []),
        ...artifactValues("RUNC", c.runc),
        ...artifactValues("CNI", c.cni),
        ...(c.cni ? [["CNI_BIN_DIR", spec.config.cniBinDir] as [string, string]] : []),
        ["BIN_DIR", c.binDir],
        ["ROOT", spec.config.root],
        ["KUBELET_CONFIG", spec.kubelet?.configPath ?? "/var/lib/kubelet/config.yaml"],
        ["REGISTRIES", Object.keys(hosts).join(" ")],
        ["TLS_FILES", registryTlsFiles(spec).map(f => `${f.field}\t${f.path}`).join("\n")],
        ["REGISTRY_AUTH", spec.config.registryAuth.length > 0 ? "1" : "0"],
    ]);
    return `${prelude("configure", claimOf(spec, "configure"))}${v}cn_configure_begin
phase "writing /etc/containerd/config.toml"
${heredoc(`put "$R"/etc/containerd/config.toml 0644`, renderConfigToml(spec))}
phase "writing registry hosts (certs.d)"
${hostFiles.map(f => `${f}\n`).join("")}phase "writing the containerd unit"
${heredoc(`put "$R"/etc/systemd/system/containerd.service 0644`, renderUnit(spec))}
${heredoc(`put "$R"/etc/crictl.yaml 0644`, renderCrictlYaml(spec))}
cn_configure_end
`;
}

/**
 * Writes the registry credentials file (0600) before the configure step, whose config imports it.
 * Its command text holds the credentials: the component passes it as a secret. containerd is
 * restarted here only when the credentials changed and it already runs a config of this package
 * that imports the file (no move staged); otherwise the configure or switch step restarts it.
 */
export function registryAuthScript(spec: NodeSpec, values: RegistryAuthValues): string {
    const f = sq(REGISTRY_AUTH_FILE);
    return `${prelude("registry-auth", claimOf(spec, "registry-auth"))}${stepValues(deferValues(spec))}cn_defer
txn_begin
note_unit containerd
phase "writing the registry credentials"
umask 077
${heredoc(`put "$R"${f} 0600`, renderRegistryAuthToml(spec, values))}
umask 022
if [ -z "$DEFER" ] && changed ${f} && systemctl is-active -q containerd &&
   head -n 1 /etc/containerd/config.toml 2>/dev/null | grep -qxF ${sq(TOP_OF_FILE.trim())} && grep -qF ${f} /etc/containerd/config.toml; then
  log "restarting containerd for the new credentials (containers keep running: KillMode=process)"
  systemctl restart containerd || die "containerd did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  check_containerd ${sq(spec.containerd.binDir)}/ctr ${sq(spec.config.socket)} ${sq(spec.containerd.version.text)} >/dev/null
fi
log "registry credentials for ${spec.config.registryAuth.join(", ")} in ${REGISTRY_AUTH_FILE}"
`;
}

/** Imports Docker's tagged images into containerd's k8s.io namespace while Docker still runs. */
export function migrateImagesScript(spec: NodeSpec): string {
    return `${prelude("migrate-images", claimOf(spec, "migrate-images"))}${stepValues([["BIN_DIR", spec.containerd.binDir], ["SOCKET", spec.config.socket]])}cn_migrate_images
`;
}

/**
 * Moves the node onto containerd: stops the kubelet, puts Docker in its declared state, edits the
 * kubelet's flags/config, starts the kubelet and checks it (in Kubernetes mode: the Node is Ready
 * and reports containerd, read with the kubelet's own credentials). Any failure rolls the node
 * back to its previous runtime, flags and services.
 */
export function switchScript(spec: NodeSpec, soft?: SoftFailure): string {
    const plan = kubeletEditPlan(spec);
    const mode = spec.docker.mode;
    const dockerAction = mode === "keep" ? `log "docker.mode keep: Docker stays as it is"`
        : mode === "stop" ? `systemctl stop docker.socket docker 2>/dev/null || true`
            : `systemctl disable --now docker.socket docker >/dev/null 2>&1 || true`;
    const dockerCheck = mode === "keep" ? "" : `! systemctl is-active -q docker || die "docker is still running"`;
    const k8s = spec.kubernetes;
    const kubelet = spec.kubelet;
    const verifyApi = k8s && kubelet ? `
phase "waiting for node ${k8s.nodeName} to be Ready on containerd (${k8s.verifyTimeoutSeconds}s)"
deadline=$(( $(date +%s) + ${k8s.verifyTimeoutSeconds} ))
while :; do
  ST=$(node_status ${sq(kubelet.kubeconfigPath)} ${sq(k8s.nodeName)} || true)
  RT=\${ST%% *}; READY=\${ST##* }
  case "$RT" in containerd://*) version_matches "\${RT#containerd://}" ${sq(spec.containerd.version.text)} && [ "$READY" = True ] && break;; esac
  [ "$(date +%s)" -lt "$deadline" ] || die "node ${k8s.nodeName} is not Ready on containerd ${spec.containerd.version.text} after ${k8s.verifyTimeoutSeconds}s (runtime \${RT:-unknown}, Ready=\${READY:-unknown}); kubelet log: $(journalctl -u kubelet -n 10 --no-pager 2>&1 | tail -n 10)"
  sleep 3
done
log "node ${k8s.nodeName} is Ready on $RT"` : "";
    // After a rollback in Kubernetes mode: wait for the kubelet to be Ready again on the previous
    // runtime, then lift the cordon the drain step made (the run that cordoned it ends here).
    const afterRollback = k8s && kubelet ? `
after_rollback() {
  [ "$HAS_KUBELET" = 1 ] || return 0
  local end=$(( $(date +%s) + ${k8s.verifyTimeoutSeconds} )) st
  while st=$(node_status ${sq(kubelet.kubeconfigPath)} ${sq(k8s.nodeName)} 2>/dev/null); [ "\${st##* }" != True ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "  node ${k8s.nodeName} is not Ready again after the rollback (\${st:-no answer})" >&2; break; }
    sleep 3
  done
  [ "\${st##* }" = True ] && echo "  node ${k8s.nodeName} is Ready again on \${st%% *}" >&2
  mark_rollback_and_uncordon ${sq(kubelet.kubeconfigPath)} ${sq(k8s.nodeName)}
}
# shellcheck disable=SC2034 # the library's rollback runs it
ON_ROLLBACK=after_rollback` : "";
    // Within a fleet's failure budget (Kubernetes mode, read with the kubelet's credentials):
    // skipped when an earlier step of this run failed, i.e. the Node's retry mark changed since
    // the run was planned; a failure is put back as always, recorded on the Node and absorbed.
    const softFailure = soft && k8s && kubelet ? `
J=$(node_api ${sq(kubelet.kubeconfigPath)} ${sq(k8s.nodeName)}) || die "cannot read node ${k8s.nodeName} with the kubelet's credentials"
RB=$(echo "$J" | grep -o '"${ROLLBACK_ANNOTATION}":"[^"]*"' | cut -d'"' -f4 || true)
FA=$(echo "$J" | grep -o '"${FAILURE_ANNOTATION}":"[^"]*"' | cut -d'"' -f4 || true)
MARK=$RB; [ -n "$FA" ] && MARK="$RB failed:$FA"
if [ "$MARK" != ${sq(soft.planned)} ]; then log "node ${k8s.nodeName} failed earlier in this run (\${FA:-rolled back}): skipped"; echo '{"skipped":true}'; exit 0; fi
soft_rollback() {
  after_rollback
  node_api ${sq(kubelet.kubeconfigPath)} ${sq(k8s.nodeName)} "{\\"metadata\\":{\\"annotations\\":{\\"${FAILURE_ANNOTATION}\\":\\"switch $(date -u +%Y-%m-%dT%H:%M:%SZ)\\"}}}" >/dev/null ||
    echo "  could not record the failure on node ${k8s.nodeName}" >&2
}
# shellcheck disable=SC2034
ON_ROLLBACK=soft_rollback
# shellcheck disable=SC2034
ABSORB_FAILURE=1` : "";
    return `${prelude("switch", claimOf(spec, "switch"))}${afterRollback}${softFailure}
txn_begin
HAS_KUBELET=0; unit_exists kubelet && HAS_KUBELET=1
for u in containerd docker.socket docker; do unit_exists $u && note_unit $u; done
[ "$HAS_KUBELET" = 1 ] && note_unit kubelet
phase "checking containerd"
systemctl is-active -q containerd || die "containerd is not running"
${kubelet && plan ? `if [ "$HAS_KUBELET" = 1 ] || [ -f /var/lib/kubelet/kubeadm-flags.env ]; then
phase "pointing the kubelet at containerd"
${renderKubeletEdit(plan, kubelet.configPath)}
fi` : ""}
RESTART=0
[ -n "$CHANGED" ] && RESTART=1
${mode === "keep" ? "" : `systemctl is-active -q docker && RESTART=1`}
[ "$HAS_KUBELET" = 1 ] && ! systemctl is-active -q kubelet && RESTART=1
${moveStaged(spec)}
if [ "$RESTART" = 0 ]; then
  [ -n "$MOVED" ] || log "the kubelet's flags and Docker's state are already as declared: nothing restarted"
else
  [ "$HAS_KUBELET" = 1 ] && { phase "stopping the kubelet"; systemctl stop kubelet; }
  phase "docker: ${mode}"
  ${dockerAction}
  ${dockerCheck}
  if [ "$HAS_KUBELET" = 1 ]; then
    phase "starting the kubelet on containerd"
    systemctl daemon-reload
    systemctl start kubelet
    sleep 5
    R0=$(systemctl show -p NRestarts --value kubelet)
    sleep 5
    if ! systemctl is-active -q kubelet || [ "$(systemctl show -p NRestarts --value kubelet)" != "$R0" ]; then
      die "the kubelet does not stay up on containerd: $(journalctl -u kubelet -n 15 --no-pager 2>&1 | tail -n 15)"
    fi
  else
    log "no kubelet on this node yet: its flags are set for when it starts"
  fi
fi${verifyApi}
systemctl is-active -q containerd || die "containerd stopped during the switch: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
[ -z "$MOVED" ] || remove ${sq(PENDING_DIR)}
log "switched to containerd"
echo "{\\"seconds\\":$SECONDS\${MOVED:+,\\"moved\\":\\"$MOVED\\"}}"
`;
}

/**
 * The move the configure step staged (PENDING_DIR), made by the switch step after the drain: the
 * staged binaries, config and unit go live and containerd restarts on them (its containers keep
 * running: KillMode=process). A move to another major version restarts the kubelet too, which
 * reads the runtime's config (cgroup driver, RuntimeConfig) only at start. Inside the switch's
 * transaction: if containerd, its CRI or the kubelet does not come up, every file goes back and
 * the previous containerd and kubelet are restarted.
 */
function moveStaged(spec: NodeSpec): string {
    const c = spec.containerd;
    const p = sq(PENDING_DIR);
    return `MOVED=""
if [ -f ${p}/move ]; then
  read -r MFROM MTO <${p}/move
  if version_matches "$MTO" ${sq(c.version.text)}; then
    phase "moving containerd $MFROM to $MTO"
    while IFS= read -r -d '' f; do
      dest=\${f#${PENDING_DIR}/root}
      case "$dest" in */bin/*|*/sbin/*) put_bin "$f" "$dest";; *) mode=$(stat -c %a "$f"); put "$dest" "$mode" <"$f";; esac
    done < <(find ${p}/root -type f -print0)
    systemctl daemon-reload
    systemctl restart containerd || die "containerd $MTO did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
    SV=$(check_containerd ${sq(c.binDir)}/ctr ${sq(spec.config.socket)} ${sq(c.version.text)})
    MOVED="$MFROM -> $SV"
    log "containerd $SV is running with CRI"
    if [ "\${MFROM%%.*}" != "\${SV%%.*}" ] && [ "$HAS_KUBELET" = 1 ]; then
      log "containerd moved from major version \${MFROM%%.*} to \${SV%%.*}: the kubelet restarts to read the runtime's config again"
      RESTART=1
    fi
  else
    log "a staged move to containerd $MTO is not the declared ${c.version.text}: left alone"
  fi
fi`;
}


/** After verification only: what can't be rolled back (package purge, Docker's data). */
export function dockerCleanupScript(spec: NodeSpec): string {
    return `${prelude("docker-cleanup", claimOf(spec, "docker-cleanup"))}${stepValues([
        ["PURGE", spec.docker.mode === "purge" ? "1" : "0"], ["REMOVE_DATA", spec.docker.removeData ? "1" : "0"],
    ])}cn_docker_cleanup
`;
}
