/** The kubelet flag and config edits as node bash (the awk programs they run are in the node library). */
import { KubeletEditPlan } from "../render/kubeletFlags";
import { sq } from "./shell";

function pairs(list: [string, string][]): string {
    return list.map(([k, v]) => `${k}=${v}`).join(" ");
}

/**
 * Bash that applies the plan on the node through `put` (so every file is saved first), and sets
 * KUBELET_FLAGS_FILES to the files it looked at. Needs the node library (put/log/die, FLAGS_AWK,
 * YAML_KEY_AWK).
 */
export function renderKubeletEdit(plan: KubeletEditPlan, configPath: string): string {
    const files = plan.flagFiles.map(f => `${sq(f.path)}:${f.variable}`).join(" ");
    return `SET_FLAGS=${sq(pairs(plan.set))}
IFSET_FLAGS=${sq(pairs(plan.setIfPresent))}
REMOVE_FLAGS=${sq(plan.remove.join(" "))}
KUBELET_CONFIG=${sq(configPath)}
PRIMARY=${sq(plan.primary)}
if [ "$PRIMARY" = auto ]; then
  PRIMARY=none
  for fv in ${files}; do [ -f "\${fv%%:*}" ] && { PRIMARY=\${fv%%:*}; break; }; done
  [ "$PRIMARY" != none ] || die "no kubelet flags file found (${plan.flagFiles.map(f => f.path).join(", ")}): set kubelet.flagsLocation"
fi
log "kubelet flags: primary file $PRIMARY"
for fv in ${files}; do
  f=\${fv%%:*}; var=\${fv##*:}; primary=0
  [ "$f" = "$PRIMARY" ] && primary=1
  [ -f "$f" ] || [ "$primary" = 1 ] || continue
  src=$f; [ -f "$f" ] || src=/dev/null
  awk -v var="$var" -v primary="$primary" -v set="$SET_FLAGS" -v ifset="$IFSET_FLAGS" -v remove="$REMOVE_FLAGS" "$FLAGS_AWK" "$src" >"$CN_DIR/flags.tmp"
  put "$f" 0644 <"$CN_DIR/flags.tmp"
done
rm -f "$CN_DIR/flags.tmp"
has_cgroup_flag=0
for fv in ${files}; do f=\${fv%%:*}; [ -f "$f" ] && grep -q -- '--cgroup-driver' "$f" && has_cgroup_flag=1; done
if [ -f "$KUBELET_CONFIG" ]; then
${[...plan.configSet.map(([k, v]) => [k, v, 1] as const), ...plan.configSetIfPresent.map(([k, v]) => [k, v, 0] as const)]
        .map(([k, v, add]) => `  awk -v key=${sq(k)} -v val=${sq(v)} -v add=${add} "$YAML_KEY_AWK" "$KUBELET_CONFIG" >"$CN_DIR/yaml.tmp" && put "$KUBELET_CONFIG" 0644 <"$CN_DIR/yaml.tmp"`)
        .join("\n")}
  rm -f "$CN_DIR/yaml.tmp"
${plan.cgroupDriver === "systemd" ? `elif [ "$has_cgroup_flag" = 0 ] && [ "$PRIMARY" != none ]; then
  # Nothing sets the driver and the kubelet's default (cgroupfs) would not match SystemdCgroup.
  for fv in ${files}; do [ "\${fv%%:*}" = "$PRIMARY" ] && var=\${fv##*:}; done
  awk -v var="$var" -v primary=1 -v set=--cgroup-driver=systemd -v ifset= -v remove= "$FLAGS_AWK" "$PRIMARY" >"$CN_DIR/flags.tmp"
  put "$PRIMARY" 0644 <"$CN_DIR/flags.tmp"; rm -f "$CN_DIR/flags.tmp"
` : ""}fi`;
}
