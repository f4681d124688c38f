export * from "./args";
export { ContainerdNode, PreflightFacts, parsePreflight } from "./containerdNode";
export { DEFAULTS, InvalidArgumentError, NodeSpec, resolveSpec } from "./spec";
export { renderConfigToml, mergeToml } from "./render/configToml";
export { renderHostsTomls } from "./render/hostsToml";
export { renderUnit } from "./render/unit";
export { renderCrictlYaml } from "./render/crictl";
export { kubeletEditPlan, KubeletEditPlan } from "./render/kubeletFlags";
export * from "./versions";
