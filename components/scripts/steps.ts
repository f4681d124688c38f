/**
 * The command text of each remote step, rendered from the NodeSpec: the step's values (one per
 * line, quoted once), the files it writes, and calls into the node library (components/node/lib.sh)
 * that do the work. Each is idempotent (a second run changes nothing), and each mutating step is
 * one transaction: it restores what it changed when it fails. The desired state is inside the
 * text, so `pulumi preview --diff` shows a change of one value as a change of its line.
 */
import { renderConfigToml, TOP_OF_FILE } from "../render/configToml";
import { ProxyValues, renderProxyDropIn } from "../render/proxy";
import { REGISTRY_AUTH_FILE, RegistryAuthValues, renderRegistryAuthToml } from "../render/registryAuth";
import { crictlValues } from "../render/crictl";
import { registryTlsFiles, renderHostsTomls } from "../render/hostsToml";
import { kubeletEditPlan } from "../render/kubeletFlags";
import { unitValues } from "../render/unit";
import { BUILDKIT_NAMESPACE, BUILDKIT_SOCKET, renderBuildkitdToml, renderBuildkitUnit } from "../render/buildkit";
import { DEFAULTS, NodeSpec, ResolvedArtifact } from "../spec";
import { SoftFailure } from "./kubectl";
import { kubeletEditValues } from "./kubeletEdit";
import { claimOf, NodeStep, partSteps, SecretStep, StepPart } from "./claim";
import { prelude } from "./lib";
import { heredoc, sq, stepValues } from "./shell";

/** Where the install step leaves a file it was given by path (CopyToRemote target). */
export function uploadPath(spec: NodeSpec, kind: string, sha256: string): string {
    return `${spec.stateDir}/cache/${kind}-${sha256.slice(0, 16)}`;
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

/** One part of a step (claim.ts StepPart): the values it reads and its body, calls into the library. */
interface Part {
    values: [string, string][];
    body: string;
}

/**
 * configure: saves the node's original state (once per node: the library's cn_backup) and stages
 * the artifacts (nothing live yet); then, as one transaction, makes the staged binaries and
 * rendered files live, restarts containerd only when they changed, and checks it: running,
 * enabled, the declared version, CRI loaded. Prints `containerd://VERSION`.
 */
function configurePart(spec: NodeSpec): Part {
    const c = spec.containerd;
    const hosts = renderHostsTomls(spec);
    const hostFiles = Object.entries(hosts).map(([registry, text]) =>
        heredoc(`put "$R"${sq(`/etc/containerd/certs.d/${registry}/hosts.toml`)} 0644`, text));
    const values: [string, string][] = [
        ...deferValues(spec),
        ["SOURCE", c.source.kind],
        ...artifactValues("CONTAINERD", containerdArtifact(spec)),
        ...(c.source.kind === "package" ? [["PACKAGE", c.source.name ?? "containerd"] as [string, string]] : []),
        ...artifactValues("RUNC", c.runc),
        ...artifactValues("CNI", c.cni),
        ...(c.cni ? [["CNI_BIN_DIR", spec.config.cniBinDir] as [string, string]] : []),
        ["BIN_DIR", c.binDir],
        ["ROOT", spec.config.root],
        ["KUBELET_CONFIG", spec.kubelet?.configPath ?? DEFAULTS.kubeletConfigPath],
        ["REGISTRIES", Object.keys(hosts).join(" ")],
        ["TLS_FILES", registryTlsFiles(spec).map(f => `${f.field}\t${f.path}`).join("\n")],
        ["REGISTRY_AUTH", spec.config.registryAuth.length > 0 ? "1" : "0"],
        // 1: proxy is set, its drop-in is kept; 0: this package's drop-in goes (the library knows which file and how it is marked).
        ["PROXY", spec.proxy.length > 0 ? "1" : "0"],
        // The unit's and crictl.yaml's values: the library writes both from its templates.
        ...unitValues(spec),
        ...crictlValues(spec),
    ];
    return { values, body: `cn_configure_begin
${heredoc(`put "$R"/etc/containerd/config.toml 0644`, renderConfigToml(spec))}
${hostFiles.map(f => `${f}\n`).join("")}cn_configure_end
` };
}

/**
 * Writes the registry credentials file (0600) before the step that writes the config (converge,
 * or configure), which imports it. Its command text holds the credentials: the component passes it
 * as a secret. containerd is restarted here only when the credentials changed and it already runs
 * a config of this package that imports the file (no move staged); otherwise the configure or
 * switch part restarts it.
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

/**
 * Writes containerd's proxy drop-in (0600) before the step that writes the config, as
 * registry-auth writes the credentials: its text holds the proxy's values, which may be secrets,
 * and the component passes it as a secret when one is. Restarts containerd only when the drop-in
 * changed and containerd already runs a config of this package (the library's cn_proxy). Where
 * the drop-in goes is the library's constant PROXY_DROPIN, which a unit test holds to render/proxy.ts's.
 */
export function proxyScript(spec: NodeSpec, values: ProxyValues): string {
    return `${prelude("proxy", claimOf(spec, "proxy"))}${stepValues([
        ...deferValues(spec),
        ["BIN_DIR", spec.containerd.binDir],
        ["KUBELET_CONFIG", spec.kubelet?.configPath ?? DEFAULTS.kubeletConfigPath],
        ["CONFIG_HEAD", TOP_OF_FILE.trim()],
        ["PROXY_TEXT", renderProxyDropIn(Object.fromEntries(spec.proxy.map(f => [f, values[f]])))],
    ])}cn_proxy
`;
}

/** migrate-images: imports Docker's tagged images into containerd's k8s.io namespace while Docker still runs. */
function migrateImagesPart(spec: NodeSpec): Part {
    return { values: [["BIN_DIR", spec.containerd.binDir], ["SOCKET", spec.config.socket]], body: "cn_migrate_images\n" };
}

/**
 * tools: BuildKit and crictl (spec.tools), each from its release tarball, fetched and checked
 * first, then installed as one transaction (the library's cn_tools). BuildKit's config and unit
 * are values: the library writes them where they go.
 */
export function toolsValues(spec: NodeSpec): [string, string][] {
    const { buildkit, crictl } = spec.tools;
    return [
        ["SOCKET", spec.config.socket],
        ...(buildkit ? [
            ["BUILDKIT_VERSION", buildkit.version],
            ...artifactValues("BUILDKIT", buildkit.tarball),
            ["BUILDKIT_ADDR", `unix://${BUILDKIT_SOCKET}`],
            ["BUILDKIT_NAMESPACE", BUILDKIT_NAMESPACE],
            ["BUILDKIT_CONFIG", renderBuildkitdToml(spec)],
            ["BUILDKIT_UNIT", renderBuildkitUnit()],
        ] as [string, string][] : []),
        ...(crictl ? [["CRICTL_VERSION", crictl.version], ...artifactValues("CRICTL", crictl.tarball)] as [string, string][] : []),
    ];
}

function toolsPart(spec: NodeSpec): Part {
    return { values: toolsValues(spec), body: "cn_tools\n" };
}

/**
 * switch: moves the node onto containerd: stops the kubelet, puts Docker in its declared state, edits the
 * kubelet's flags/config, starts the kubelet and checks it (in Kubernetes mode: the Node is Ready
 * and reports containerd, read with the kubelet's own credentials); makes a move the configure
 * step staged. Any failure rolls the node back to its previous runtime, flags and services (the
 * library's cn_switch). Within a fleet's failure budget (`soft`): skipped when the Node's retry
 * mark changed since the run was planned; a failure is recorded on the Node and absorbed.
 */
function switchPart(spec: NodeSpec, soft?: SoftFailure): Part {
    const plan = kubeletEditPlan(spec);
    const k8s = spec.kubernetes;
    const kubelet = spec.kubelet;
    const v: [string, string][] = [
        ["VERSION", spec.containerd.version.text],
        ["BIN_DIR", spec.containerd.binDir],
        ["SOCKET", spec.config.socket],
        ["DOCKER_MODE", spec.docker.mode],
        ...(k8s && kubelet ? [
            ["NODE_NAME", k8s.nodeName], ["KUBECONFIG", kubelet.kubeconfigPath], ["VERIFY_TIMEOUT", String(k8s.verifyTimeoutSeconds)],
            ...(soft ? [["SOFT_PLANNED", soft.planned]] : []),
        ] as [string, string][] : []),
        ...(kubelet && plan ? [["KUBELET_EDIT", "1"], ...kubeletEditValues(plan, kubelet.configPath)] as [string, string][] : []),
    ];
    return { values: v, body: "cn_switch\n" };
}

/** docker-cleanup: after verification only, what can't be rolled back (package purge, Docker's data). */
function dockerCleanupPart(spec: NodeSpec): Part {
    return { values: [["PURGE", spec.docker.mode === "purge" ? "1" : "0"], ["REMOVE_DATA", spec.docker.removeData ? "1" : "0"]], body: "cn_docker_cleanup\n" };
}

function part(spec: NodeSpec, p: StepPart, soft?: SoftFailure): Part {
    switch (p) {
        case "configure": return configurePart(spec);
        case "migrate-images": return migrateImagesPart(spec);
        case "tools": return toolsPart(spec);
        case "switch": return switchPart(spec, soft);
        case "docker-cleanup": return dockerCleanupPart(spec);
    }
}

/**
 * The command text of a node step (claim.ts partSteps): the prelude, the values of its parts
 * (each once: parts that read the same name read the same value), then its parts' bodies. A step
 * of several parts runs each in a subshell under its own name (the library's cn_part), so each
 * is its own transaction, as it was as a step of its own, and the step's last line of stdout is
 * the runtime (cn_runtime). `soft`: the switch within a fleet's failure budget (Kubernetes mode).
 */
export function stepScript(spec: NodeSpec, step: Exclude<NodeStep, SecretStep>, soft?: SoftFailure): string {
    const found = partSteps(spec).find(s => s.step === step);
    if (!found) {
        throw new Error(`a node of this spec has no step ${step}`);
    }
    const parts = found.parts.map(p => ({ name: p, ...part(spec, p, soft) }));
    const values = new Map<string, string>();
    for (const p of parts) {
        for (const [k, v] of p.values) {
            if (values.has(k) && values.get(k) !== v) {
                throw new Error(`the parts of step ${step} read ${k} as ${values.get(k)} and ${v}`);
            }
            values.set(k, v);
        }
    }
    const body = parts.length === 1 ? parts[0].body
        : `${parts.map(p => `(\ncn_part ${p.name}\n${p.body})\n`).join("")}cn_runtime
`;
    return `${prelude(step, claimOf(spec, step))}${stepValues([...values])}${body}`;
}
