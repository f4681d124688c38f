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
import { heredoc, sq } from "./shell";

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

/** Staging directory of a downloaded/extracted artifact, named by its checksum. */
function stageDir(kind: string, sha256: string): string {
    return `${STATE_DIR}/stage/${kind}-${sha256.slice(0, 16)}`;
}

function containerdArtifact(spec: NodeSpec): ResolvedArtifact | undefined {
    const s = spec.containerd.source;
    return s.kind === "tarball" ? { kind: "url", url: s.url, sha256: s.sha256 }
        : s.kind === "file" ? { kind: "path", path: s.path, sha256: s.sha256 }
            : undefined;
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
 * Once per node, before the first change: copies every file the component may overwrite, the
 * service states and a revert.sh into /var/lib/containerd-node/original. Never overwritten later,
 * so it always describes the node as it was before containerd-node first touched it.
 */
function backup(spec: NodeSpec): string {
    const files = [
        "/etc/containerd/config.toml", "/etc/containerd/certs.d", "/etc/systemd/system/containerd.service",
        "/etc/crictl.yaml", "/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet",
        spec.kubelet?.configPath ?? "/var/lib/kubelet/config.yaml",
        "/usr/local/bin/containerd", "/usr/local/bin/containerd-shim-runc-v2", "/usr/local/bin/ctr", "/usr/local/sbin/runc",
    ];
    return `B=$CN_DIR/original
if [ -f "$B/complete" ]; then
  log "original state already saved in $B (kept as it is)"
else
  phase "saving the original state to $B"
  rm -rf "$B"; mkdir -p "$B/files"
  for p in ${files.map(sq).join(" ")}; do
    if [ -e "$p" ] || [ -L "$p" ]; then mkdir -p "$B/files$(dirname "$p")"; cp -a "$p" "$B/files$p"; echo "present $p"; else echo "absent $p"; fi
  done >"$B/manifest"
  for u in containerd docker.socket docker kubelet; do echo "$u $(systemctl is-active $u 2>/dev/null || true) $(systemctl is-enabled $u 2>/dev/null || true)"; done >"$B/services"
  printf '%s' "$REVERT_SH" >"$B/revert.sh"
  chmod 0755 "$B/revert.sh"
  touch "$B/complete"
  log "saved; to go back by hand: $B/revert.sh"
fi
`;
}

/** Shell that puts an artifact (url or uploaded file) in the cache and checks its SHA-256. */
function fetchArtifact(kind: string, a: ResolvedArtifact): string {
    const file = uploadPath(kind, a.sha256);
    const fetch = a.kind === "url"
        ? `[ -f ${sq(file)} ] && echo ${sq(`${a.sha256}  ${file}`)} | sha256sum -c --status || staged ${sq(file)} curl -fsSL --retry 3 -o ${sq(file)} ${sq(a.url)} || die "could not download ${a.url}"`
        : `[ -f ${sq(file)} ] || die "${file} is missing: the copy from ${a.path} did not arrive"`;
    return `${fetch}
echo ${sq(`${a.sha256}  ${file}`)} | sha256sum -c --status || die "${kind}: SHA-256 of ${a.kind === "url" ? a.url : a.path} is $(sha256sum ${sq(file)} | cut -c1-64), expected ${a.sha256}"
`;
}

/** Downloads or receives every artifact, checks its SHA-256 and stages it under STATE_DIR/stage. */
function stage(spec: NodeSpec): string {
    const c = spec.containerd;
    const parts: string[] = [];
    const tar = containerdArtifact(spec);
    if (tar) {
        const dir = stageDir("containerd", tar.sha256);
        parts.push(`phase "fetching containerd ${c.version.text}"
${fetchArtifact("containerd", tar)}rm -rf ${sq(dir)}.tmp && mkdir -p ${sq(dir)}.tmp
staged ${sq(dir)}.tmp tar -xzf ${sq(uploadPath("containerd", tar.sha256))} -C ${sq(dir)}.tmp || die "could not unpack the containerd tarball"
[ -x ${sq(dir)}.tmp/bin/containerd ] || die "the tarball has no bin/containerd: expected the containerd-X.Y.Z-linux-ARCH.tar.gz release layout"
V=$(${sq(dir)}.tmp/bin/containerd --version | awk '{print $3}')
version_matches "$V" ${sq(c.version.text)} || die "the tarball holds containerd $V, containerd.version declares ${c.version.text}"
rm -rf ${sq(dir)} && mv ${sq(dir)}.tmp ${sq(dir)}
log "staged containerd $V in ${dir}"
`);
    } else if (c.source.kind === "package") {
        const name = c.source.name ?? "containerd";
        parts.push(`phase "installing the ${name} package"
if command -v apt-get >/dev/null; then
  dpkg -s ${sq(name)} >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold ${sq(name)} >&2; } || die "apt-get install ${name} failed"
else
  $(command -v dnf || command -v yum) install -y ${sq(name)} >&2 || die "installing ${name} failed"
fi
V=$(/usr/bin/containerd --version | awk '{print $3}')
version_matches "$V" ${sq(c.version.text)} || die "the ${name} package installed containerd $V, containerd.version declares ${c.version.text}"
`);
    } else {
        parts.push(`phase "checking Docker's containerd"
V=$(/usr/bin/containerd --version | awk '{print $3}') || die "no /usr/bin/containerd from Docker's packages"
version_matches "$V" ${sq(c.version.text)} || die "Docker's containerd is $V, containerd.version declares ${c.version.text}"
`);
    }
    if (c.runc) {
        parts.push(`phase "fetching runc"
${fetchArtifact("runc", c.runc)}mkdir -p ${sq(stageDir("runc", c.runc.sha256))}
staged ${sq(stageDir("runc", c.runc.sha256))} install -m 0755 ${sq(uploadPath("runc", c.runc.sha256))} ${sq(stageDir("runc", c.runc.sha256))}/runc || die "could not stage runc"
${sq(stageDir("runc", c.runc.sha256))}/runc --version >/dev/null || die "the runc binary does not run on this node"
`);
    }
    if (c.cni) {
        const dir = stageDir("cni", c.cni.sha256);
        parts.push(`phase "fetching CNI plugins"
${fetchArtifact("cni", c.cni)}rm -rf ${sq(dir)} && mkdir -p ${sq(dir)}
staged ${sq(dir)} tar -xzf ${sq(uploadPath("cni", c.cni.sha256))} -C ${sq(dir)} || die "could not unpack the CNI plugins"
`);
    }
    parts.push(`log "staged; nothing is live yet"\n`);
    return parts.join("");
}

/**
 * Saves the node's original state (once per node, see backup) and stages the artifacts (nothing
 * live yet); then, as one transaction, makes the staged binaries and rendered files live, restarts
 * containerd only when they changed, and checks it: running, enabled, the declared version, CRI
 * loaded. Prints `containerd://VERSION`.
 */
export function configureScript(spec: NodeSpec): string {
    const c = spec.containerd;
    const tar = containerdArtifact(spec);
    const bins: string[] = [];
    if (tar) {
        const dir = stageDir("containerd", tar.sha256);
        bins.push(`for b in ${sq(dir)}/bin/*; do put_bin "$b" "$R/usr/local/bin/$(basename "$b")"; done`);
    }
    if (c.runc) {
        bins.push(`put_bin ${sq(stageDir("runc", c.runc.sha256))}/runc "$R"/usr/local/sbin/runc`);
    }
    if (c.cni) {
        bins.push(`for b in ${sq(stageDir("cni", c.cni.sha256))}/*; do [ -f "$b" ] && put_bin "$b" "$R"${sq(spec.config.cniBinDir)}"/$(basename "$b")"; done`);
    }
    const hosts = renderHostsTomls(spec);
    const hostFiles = Object.entries(hosts).map(([registry, text]) =>
        heredoc(`put "$R"${sq(`/etc/containerd/certs.d/${registry}/hosts.toml`)} 0644`, text));
    const managed = Object.keys(hosts);
    // containerd reads them at each pull: a missing one would fail pulls from that host later.
    const tlsChecks = registryTlsFiles(spec).map(f =>
        `[ -f ${sq(f.path)} ] || die ${sq(`${f.field}: ${f.path} is not a file on the node (containerd reads it to reach that registry)`)}`);
    const tlsCheck = tlsChecks.length ? ["", `phase "checking the registry TLS files"`, ...tlsChecks].join("\n") : "";
    const restartOn = ["/etc/containerd/config.toml", "/etc/systemd/system/containerd.service", `${c.binDir}/containerd`, "/usr/local/sbin/runc"];
    const ctr = `${sq(c.binDir)}/ctr`;
    const defer = deferral(spec);
    return `${prelude("configure", claimOf(spec, "configure"))}${backup(spec)}${stage(spec)}
${defer}${tlsCheck}
txn_begin
note_unit containerd
phase "installing binaries"
${bins.join("\n")}
phase "writing /etc/containerd/config.toml"
${heredoc(`put "$R"/etc/containerd/config.toml 0644`, renderConfigToml(spec))}
mkdir -p ${sq(spec.config.root)}
phase "writing registry hosts (certs.d)"
${hostFiles.join("\n")}
MANAGED=${sq(managed.join(" "))}
if [ -f "$CN_DIR/registries" ]; then
  while IFS= read -r r; do case " $MANAGED " in *" $r "*) ;; *) remove "/etc/containerd/certs.d/$r";; esac; done <"$CN_DIR/registries"
fi
echo "$MANAGED" | tr ' ' '\\n' | sed '/^$/d' | put "$CN_DIR/registries" 0644
phase "writing the containerd unit"
${heredoc(`put "$R"/etc/systemd/system/containerd.service 0644`, renderUnit(spec))}
${heredoc(`put "$R"/etc/crictl.yaml 0644`, renderCrictlYaml(spec))}
if [ -n "$DEFER" ]; then
  printf '%s %s\\n' "$DEFER" ${sq(c.version.text)} | put ${sq(PENDING_DIR)}/move 0644
  log "staged; containerd $DEFER keeps running until the switch step"
  echo "{\\"staged\\":\\"$DEFER -> ${c.version.text}\\"}"
  echo "containerd://$DEFER"
  exit 0
fi
remove ${sq(PENDING_DIR)}
${spec.config.registryAuth.length === 0 ? `remove ${sq(REGISTRY_AUTH_FILE)}
` : ""}phase "starting containerd"
changed /etc/systemd/system/containerd.service && systemctl daemon-reload
systemctl enable containerd >/dev/null 2>&1 || systemctl enable containerd
if changed ${restartOn.map(sq).join(" ")} || ! systemctl is-active -q containerd; then
  log "restarting containerd (containers keep running: KillMode=process)"
  systemctl restart containerd || die "containerd did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
else
  log "containerd config unchanged: no restart"
fi
phase "checking containerd"
SV=$(check_containerd ${ctr} ${sq(spec.config.socket)} ${sq(c.version.text)})
systemctl is-enabled -q containerd || die "containerd is not enabled"
log "containerd $SV is running with CRI"
echo "containerd://$SV"
`;
}

/**
 * Sets DEFER to the running containerd's version when a kubelet runs on it and it is not the
 * declared one: the move waits for the switch step, after the drain step has drained the node if
 * upgrade.drain says so. Then R is PENDING_DIR/root, and every file the steps before the switch
 * would make live goes under it instead; the node is not changed until the switch.
 */
function deferral(spec: NodeSpec): string {
    return `DEFER=""
R=""
${spec.kubelet ? `if unit_exists kubelet && systemctl is-active -q kubelet && systemctl is-active -q containerd; then
  case "$(detect_runtime)" in containerd://*)
    FROM=$(server_version ctr ${sq(spec.config.socket)} 2>/dev/null || true)
    if [ -n "$FROM" ] && ! version_matches "$FROM" ${sq(spec.containerd.version.text)}; then DEFER=\${FROM#v}; fi;;
  esac
fi
if [ -n "$DEFER" ]; then
  R=${sq(PENDING_DIR)}/root
  log "containerd $DEFER is in use by the kubelet: the move to ${spec.containerd.version.text} is staged for the switch step"
fi` : ""}`;
}

/**
 * Writes the registry credentials file (0600) before the configure step, whose config imports it.
 * Its command text holds the credentials: the component passes it as a secret. containerd is
 * restarted here only when the credentials changed and it already runs a config of this package
 * that imports the file (no move staged); otherwise the configure or switch step restarts it.
 */
export function registryAuthScript(spec: NodeSpec, values: RegistryAuthValues): string {
    const f = sq(REGISTRY_AUTH_FILE);
    return `${prelude("registry-auth", claimOf(spec, "registry-auth"))}${deferral(spec)}
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
    const ctr = `${spec.containerd.binDir}/ctr --address ${sq(spec.config.socket)} -n k8s.io`;
    return `${prelude("migrate-images", claimOf(spec, "migrate-images"))}
phase "importing Docker's images into containerd (k8s.io)"
if ! systemctl is-active -q docker; then log "docker is not running: nothing to import"; exit 0; fi
IMAGES=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort -u || true)
[ -n "$IMAGES" ] || { log "docker has no tagged images"; exit 0; }
for img in $IMAGES; do
  docker save "$img" | ${ctr} images import - >&2 || die "importing $img failed"
done
HAVE=$(${ctr} images ls -q)
for img in $IMAGES; do
  echo "$HAVE" | grep -qx -e "$img" -e "docker.io/$img" -e "docker.io/library/$img" || die "$img is not in containerd after the import"
done
log "imported: $(echo "$IMAGES" | tr '\\n' ' ')"
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
    return `${prelude("docker-cleanup", claimOf(spec, "docker-cleanup"))}
${spec.docker.mode === "purge" ? `phase "removing Docker's packages"
PKGS=$(dpkg-query -W -f '\${Package} \${Status}\\n' docker.io docker-ce docker-ce-cli docker-ce-rootless-extras docker-buildx-plugin docker-compose-plugin 2>/dev/null | awk '/ installed$/{print $1}' || true)
# shellcheck disable=SC2086 # one word per package
if [ -n "$PKGS" ]; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKGS >&2; else log "no Docker packages installed"; fi
systemctl is-active -q containerd || { systemctl restart containerd; }
systemctl is-active -q containerd || die "containerd stopped while Docker's packages were removed"` : ""}
${spec.docker.removeData ? `phase "removing /var/lib/docker (docker.removeData)"
rm -rf /var/lib/docker` : ""}
log "done"
`;
}
