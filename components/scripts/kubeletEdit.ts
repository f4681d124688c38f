import { KubeletEditPlan } from "../render/kubeletFlags";
import { sq } from "./shell";

/**
 * awk program that rewrites the `VAR="--flags …"` line of a kubelet environment file: flags in
 * `remove` are dropped, flags in `set`/`ifset` get their value, `set` flags missing from the
 * primary file are appended, and every other flag stays exactly as it was. Written for POSIX awk
 * (mawk on Debian). Both `--flag=value` and `--flag value` forms are understood for named flags.
 */
export const FLAGS_AWK = String.raw`
BEGIN {
  nset = split(set, sa, " ")
  for (i = 1; i <= nset; i++) { k = index(sa[i], "="); setname[i] = substr(sa[i], 1, k - 1); setv[setname[i]] = substr(sa[i], k + 1) }
  n = split(ifset, ia, " ")
  for (i = 1; i <= n; i++) { k = index(ia[i], "="); ifv[substr(ia[i], 1, k - 1)] = substr(ia[i], k + 1) }
  n = split(remove, ra, " ")
  for (i = 1; i <= n; i++) rm[ra[i]] = 1
  found = 0
}
function known(name) { return (name in setv) || (name in ifv) || (name in rm) }
function edit(val,   toks, n, i, t, name, out) {
  split("", done)
  n = split(val, toks, /[ \t]+/)
  out = ""
  for (i = 1; i <= n; i++) {
    t = toks[i]
    if (t == "") continue
    name = t
    if (index(t, "=") > 0) name = substr(t, 1, index(t, "=") - 1)
    else if (known(name) && i < n && substr(toks[i + 1], 1, 1) != "-") i++
    if (name in rm) continue
    if (name in setv) { if (name in done) continue; t = name "=" setv[name]; done[name] = 1 }
    else if (name in ifv) t = name "=" ifv[name]
    out = out (out == "" ? "" : " ") t
  }
  if (primary == 1)
    for (i = 1; i <= nset; i++)
      if (!(setname[i] in done)) { out = out (out == "" ? "" : " ") setname[i] "=" setv[setname[i]]; done[setname[i]] = 1 }
  return out
}
{
  if (match($0, "^[ \t]*(export[ \t]+)?" var "=")) {
    prefix = substr($0, 1, RLENGTH); val = substr($0, RLENGTH + 1); q = ""
    if (val ~ /^".*"[ \t]*$/) { q = "\""; sub(/^"/, "", val); sub(/"[ \t]*$/, "", val) }
    else if (val ~ /^'.*'[ \t]*$/) { q = "'"; sub(/^'/, "", val); sub(/'[ \t]*$/, "", val) }
    out = edit(val)
    if (q == "" && out ~ / /) q = "\""
    print prefix q out q
    found = 1
    next
  }
  print
}
END { if (!found && primary == 1) print var "=\"" edit("") "\"" }
`;

/** awk program that sets a top-level `key: value` of a YAML file (added at the end when `add`). */
export const YAML_KEY_AWK = String.raw`
$0 ~ "^" key ":" { print key ": " val; f = 1; next }
{ print }
END { if (!f && add == 1) print key ": " val }
`;

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
