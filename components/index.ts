/**
 * Layers of components/, bottom up: a module imports only from layers below its own (or from its
 * own folder), never from a module that imports it back.
 * 1. versions.ts; claim.ts, facts.ts: what the pre-flight reads off a node (NodeClaim, NodeFacts,
 *    the reader's line tags); promiseTraces.ts (the SDK's promise traces left out while a fleet
 *    builds its nodes), sdkDebugLogs.ts (the SDK's own per-resource debug messages left out in a
 *    program with a ContainerdNode); outputs.ts (Outputs combined with fewer of them made);
 *    nodeFiles.ts (components/node's files as text: the node library and the templates it keeps).
 * 2. args.ts; then toml/ (dotted keys, secret keys, schema 3 and 4 paths) and compat.ts (support
 *    tables, verdicts); then spec.ts (defaults, validation).
 * 3. render/ (file text); above it scripts/ (the text sent to nodes: values, rendered files and
 *    calls into components/node's bash files: lib.sh, the node library, copied to each node as
 *    is; facts.sh, the facts reader; kubectl.sh, the local steps' library) and upgrade/ (the pre-flight's pure analysis, which compares with the rendered config), which
 *    never import each other.
 * 4. preflight/ (the facts read over SSH, the checks of the machine, the plan as Outputs),
 *    kubeconfig.ts, commands.ts.
 * 5. containerdNode.ts; then fleet/; then this file.
 */
export * from "./args";
export { ContainerdNode, StepDurations } from "./containerdNode";
export { GateReport } from "./scripts/kubectl";
export { DEFAULTS, InvalidArgumentError, NodeSpec, resolveSpec, ToolSpec } from "./spec";
export { renderConfigToml, mergeToml } from "./render/configToml";
export { renderHostsTomls } from "./render/hostsToml";
export { renderUnit } from "./render/unit";
export { renderCrictlYaml } from "./render/crictl";
export { renderBuildkitdToml, renderBuildkitUnit } from "./render/buildkit";
export { kubeletEditPlan, KubeletEditPlan } from "./render/kubeletFlags";
export * from "./versions";
export { ClusterFleetArgs, ContainerdFleet, ContainerdFleetArgs, FleetRow, HealthGateArgs } from "./fleet/fleet";
export { FleetNodeArgs, FleetSettings } from "./fleet/nodeArgs";
export { automationStack, formatFleetStacks, upFleetStacks, AutomationStackOptions, FleetLimits, FleetStack, FleetStacksArgs, FleetStacksResult, FleetStacksRow, StackOutcome, StackResult } from "./fleet/stacks";
export {
    discoveredNodes, discoverNodes, knownHostKey, parseKnownHosts, parseNodeList, ClusterNode, DiscoveredHostKeysArgs, DiscoveryArgs, KnownHost, NodeAddressType,
} from "./fleet/discover";
export { planWaves, resolveMaxUnavailable, ControlPlaneOrder, WaveNode } from "./fleet/waves";
export { dockerSocketPods, mergeSettings } from "./fleet/checks";
export { readLiveConfig, LiveConfig, LiveFile, LiveSetting } from "./upgrade/liveConfig";
export { dropInVerdict, importsReport, DropInFinding, ImportFinding, ImportsReport } from "./upgrade/imports";
export { acknowledged, carryReport, Carrier, CarryReport, ChangedDefault, DroppedSetting, TypedInput } from "./upgrade/carry";
export { deprecationFindings, parseCtrDeprecations, CtrDeprecation, DeprecationFinding } from "./upgrade/deprecations";
export {
    cgroupVerdicts, glibcNeeded, glibcVerdict, kubeletVerdict, parseCgroupFs, parseLibc, CONTAINERD_SUPPORTED_LINES, KUBERNETES_CONTAINERD,
    CgroupVersion, CompatCheck, Libc, Verdict,
} from "./compat";
export { drainDecision, DrainDecision } from "./upgrade/drain";
export { byFile, carrierText, formatChanged, formatDeprecation, formatDropIn, formatDropped, formatImport, formatVerdict, refusals } from "./upgrade/messages";
export { formatKey, parseKey } from "./toml/keys";
export { toSchema3 } from "./toml/schema3";
export { toSchema4 } from "./toml/schema4";
export { upgradeFactsScript, UPGRADE_FACTS_FN, UPGRADE_FACTS_LIMITS } from "./scripts/upgradeFacts";
export { ctrDeprecationsOutput, parseUpgradeFacts } from "./upgrade/facts";
export { AbsentFile, CommandRun, ConfigFile, DockerFacts, DockerFile, FactsFile, HostFacts, NodeFacts, PresentFile, UnreadFile, UpgradeFacts } from "./facts";
export { planNode, pathText, NodePath, NodePlan } from "./preflight/plan";
export { NodeClaim } from "./claim";
export { readNodeFacts, parseHostFacts, parseNodeFacts, ResolvedConnection } from "./preflight/readFacts";
export { hostRefusals, tarballArch } from "./preflight/hostChecks";
export { nodeFactsScript, NodeFactsOptions } from "./scripts/upgradeFacts";
export { renderRegistryAuthToml, REGISTRY_AUTH_FILE, RegistryAuthValues } from "./render/registryAuth";
export { renderProxyDropIn, PROXY_DROPIN, ProxyValues } from "./render/proxy";
