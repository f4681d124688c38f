# shellcheck shell=bash
# shellcheck disable=SC2154 # the values (UF_*, NF_*) are set before this file's text
# The facts reader: what the pre-flight reads off a node over SSH, at preview and at up, before any
# step runs (components/preflight/readFacts.ts sends it, with its values and the node library's
# functions it calls, as one script on the reader's standard input). `node_facts` prints the
# runtime in use, another run's claim, the machine's facts (the node library's host_facts),
# Docker's settings while Docker is the runtime (docker_facts) and the upgrade facts. Read-only
# (no file written, not even a here-document's), but at up: nf_prepare runs first and writes under
# containerd-node's own directory and nowhere else, and the read then keeps there what each binary's
# `--version` printed (cn_bin_memo). It runs at every preview on every node, so it starts a process
# only for what bash cannot do itself (systemctl, a binary's version once per build of it, a file's
# bytes in base64, awk's TOML readers): strings are encoded (uf_sv) and records written (uf_rec) in
# bash, without a subshell each.
#
# The values, set by components/scripts/upgradeFacts.ts before this text (one place for each):
#   UF_TAG           the upgrade facts' begin/end tag, "containerd-node-upgrade-facts 1"
#   UF_OWN_LINE      the first line of a config containerd-node wrote
#   UF_FILES UF_DEPTH UF_FILE_BYTES UF_STDERR_BYTES UF_TIMEOUT
#                    the limits: config files followed, import depth, bytes read a file, bytes
#                    of a command's stderr, seconds a command may run
# node_facts's: NF_RUNTIME_TAG and NF_CLAIM_TAG (its first two lines' tags, "containerd-node-runtime"
# and "containerd-node-claim"), NF_KUBELET (1: read the kubelet's version), NF_KUBELET_CONFIG (kubelet.configPath),
# NF_FREE_PATHS (an array: paths whose free space is read, besides CN_DIR); and nf_prepare's:
# NF_LIB_FILE (the node library's path under CN_DIR), NF_LIB_SHA256 (its SHA-256). CN_DIR is
# containerd-node's directory on the node (`stateDir`).
#
# upgrade_facts prints one record per line between a begin and an end line (lines outside them
# are not its own, so it can share a step's stdout; a missing end line means the output was
# cut). B is standard base64 of the bytes, or "-" for an empty value, so any file content and any
# path survives the line framing byte for byte. Only the `file` records' order means something:
#
#   containerd-node-upgrade-facts 1 begin
#   config B(path) process|unit|default     the main config's path and where it was named
#   pid N                                   systemd's MainPID of containerd.service, when running
#   file B(path) B(imported-by) present B(content)
#   file B(path) B(imported-by) absent
#   file B(path) B(imported-by) error B(why)
#                                           containerd's load order: the main config first (imported-by "-"),
#                                           then each file's imports, breadth first, each file once
#   note B(text)                            what the reader could not follow (an imports form, a limit)
#   light B(why)                            the imports and `ctr deprecations list` were left out: nothing
#                                           judges a hand-made config here (the runtime in use is not
#                                           containerd, or the main config is containerd-node's own)
#   grpc-address B(address)                 [grpc] address the config files set (the last one wins)
#   bin containerd|ctr B(path)              the binaries found
#   exit containerd|ctr N                   `containerd --version`, `ctr deprecations list --format json`:
#   stdout containerd|ctr B(bytes)          exit status (124 or 137: timed out), stdout, first UF_STDERR_BYTES of stderr
#   stderr containerd|ctr B(text)
#   libc B(text)                            getconf GNU_LIBC_VERSION, else the first line of ldd --version
#   cgroupfs B(text)                        stat -fc %T /sys/fs/cgroup/
#   kubelet-config B(path) present|absent|error
#   fail-cgroup-v1 B(raw value)             the kubelet config's top-level failCgroupV1, when it sets one
#   containerd-node-upgrade-facts 1 end
#
# The parser is components/upgrade/facts.ts (parseUpgradeFacts). Every node path is read under
# CN_ROOT (unset on a node: "/"; a fake tree in tests), binaries included; systemctl, getconf,
# ldd, stat and the text tools come from PATH.

# uf_awk_imports FILE: the strings of a TOML document's top-level `imports` array, one per line.
# Reads up to the first line that starts a table (top-level keys come before every table).
# Follows the forms installers write: a one-line or multi-line array of "basic" or 'literal'
# strings, with comments, trailing commas, any other top-level keys before it. Exits 0 when there
# is no `imports`; exits 2, printing nothing, when there is one in a form it does not follow (a
# multi-line string, a \u escape, not an array), which the caller reports. (\047 is a single quote.)
uf_awk_imports() {
  awk 'function blank(c) { return c == " " || c == "\t" || c == "\r" }
function ws() { while (i <= n && blank(substr(s, i, 1))) i++ }
function skipline() { while (i <= n && substr(s, i, 1) != "\n") i++ }
function wsnl(   c) {
  while (i <= n) {
    c = substr(s, i, 1)
    if (blank(c) || c == "\n") i++
    else if (c == "#") skipline()
    else break
  }
}
# str(): the one-line string that starts at i, decoded; bad = 1 when it is not one
function str(   q, out, c, e) {
  q = substr(s, i, 1)
  if (substr(s, i, 3) == q q q) { bad = 1; return "" }
  i++
  out = ""
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "\n") break
    if (c == q) { i++; return out }
    if (q == "\"" && c == "\\") {
      e = substr(s, i + 1, 1)
      i += 2
      if (e == "\"" || e == "\\") out = out e
      else if (e == "t") out = out "\t"
      else if (e == "n") out = out "\n"
      else if (e == "r") out = out "\r"
      else if (e == "b") out = out "\b"
      else if (e == "f") out = out "\f"
      else break
      continue
    }
    out = out c
    i++
  }
  bad = 1
  return ""
}
# skipval(): past a value of any kind (arrays and strings over several lines too), to its line end
function skipval(   d, c, q) {
  d = 0
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "\"" || c == "\047") {
      q = c
      if (substr(s, i, 3) == q q q) {
        i += 3
        while (i <= n && substr(s, i, 3) != q q q) { if (q == "\"" && substr(s, i, 1) == "\\") i++; i++ }
        i += 3
      } else {
        i++
        while (i <= n && substr(s, i, 1) != q && substr(s, i, 1) != "\n") { if (q == "\"" && substr(s, i, 1) == "\\") i++; i++ }
        i++
      }
      continue
    }
    if (c == "#") { skipline(); continue }
    if (c == "[" || c == "{") d++
    else if (c == "]" || c == "}") d--
    else if (c == "\n" && d <= 0) return
    i++
  }
}
/^[ \t]*\[/ { exit }
{ s = s $0 "\n" }
END {
  n = length(s)
  i = substr(s, 1, 3) == "\357\273\277" ? 4 : 1
  while (1) {
    wsnl()
    if (i > n || substr(s, i, 1) == "[") exit 0
    key = ""
    c = ""
    while (i <= n) {
      c = substr(s, i, 1)
      if (c == "=" || c == "\n") break
      if (c == "\"" || c == "\047") { bad = 0; key = key c str() c; if (bad) exit 0; continue }
      key = key c
      i++
    }
    # not a key/value line: not TOML, which the TypeScript side says when it parses the file
    if (c != "=") exit 0
    i++
    sub(/^[ \t]+/, "", key)
    sub(/[ \t]+$/, "", key)
    if (key != "imports" && key != "\"imports\"" && key != "\047imports\047") { skipval(); continue }
    ws()
    if (substr(s, i, 1) != "[") exit 2
    i++
    m = 0
    while (1) {
      wsnl()
      c = substr(s, i, 1)
      if (c == "]") break
      if (c != "\"" && c != "\047") exit 2
      bad = 0
      v = str()
      if (bad) exit 2
      out[++m] = v
      wsnl()
      c = substr(s, i, 1)
      if (c == ",") { i++; continue }
      if (c == "]") break
      exit 2
    }
    for (k = 1; k <= m; k++) print out[k]
    exit 0
  }
}
' "$@"
}

# uf_awk_grpc_address FILE: the `address` a TOML file sets under [grpc] (or as grpc.address), the
# last one in the file.
uf_awk_grpc_address() {
  awk 'function val(v,   q) {
  sub(/^[^=]*=[ \t]*/, "", v)
  q = substr(v, 1, 1)
  if (q != "\"" && q != "\047") return ""
  v = substr(v, 2)
  return index(v, q) ? substr(v, 1, index(v, q) - 1) : ""
}
/^[ \t]*\[/ { t = $0; sub(/#.*/, "", t); gsub(/[ \t]/, "", t); sect = t; next }
sect == "[grpc]" && /^[ \t]*address[ \t]*=/ { a = val($0) }
sect == "" && /^[ \t]*grpc[ \t]*\.[ \t]*address[ \t]*=/ { a = val($0) }
END { if (a != "") print a }
' "$@"
}

# uf_awk_fail_cgroup_v1 FILE: the raw value of a KubeletConfiguration's top-level failCgroupV1
# (YAML, or JSON), comment stripped.
uf_awk_fail_cgroup_v1() {
  awk '/^failCgroupV1[ \t]*:/ || /^[ \t]*"failCgroupV1"[ \t]*:/ {
  v = $0
  sub(/^[^:]*:[ \t]*/, "", v)
  sub(/[ \t]+#.*$/, "", v)
  sub(/\r$/, "", v)
  sub(/[ \t]*,?[ \t]*$/, "", v)
  print v
  exit
}
' "$@"
}

UF_BIN_DIRS="/usr/local/bin /usr/bin /usr/local/sbin /usr/sbin /bin /sbin /opt/bin"
# uf_sv VAR STRING: a string (bash's have no NUL) in base64 on one line, "-" for nothing, into
# VAR, in bash alone (no process, no subshell): a read encodes a few dozen strings (paths, notes,
# dockerd's arguments), and the processes and subshells that encoded them were most of what a read
# cost the node. The locals' names are not a caller's.
UF_B64=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
uf_sv() {
  local LC_ALL=C _uf_s=$2 _uf_o="" _uf_i _uf_n _uf_a _uf_b _uf_c _uf_v
  _uf_n=${#_uf_s}
  for ((_uf_i = 0; _uf_i < _uf_n; _uf_i += 3)); do
    _uf_b=0 _uf_c=0
    printf -v _uf_a '%d' "'${_uf_s:_uf_i:1}"
    [ $((_uf_i + 1)) -ge "$_uf_n" ] || printf -v _uf_b '%d' "'${_uf_s:_uf_i+1:1}"
    [ $((_uf_i + 2)) -ge "$_uf_n" ] || printf -v _uf_c '%d' "'${_uf_s:_uf_i+2:1}"
    # a byte above 127 may read as negative: its low 8 bits are the byte
    _uf_v=$(( (_uf_a & 255) << 16 | (_uf_b & 255) << 8 | (_uf_c & 255) ))
    _uf_o+=${UF_B64:_uf_v >> 18 & 63:1}${UF_B64:_uf_v >> 12 & 63:1}
    if [ $((_uf_i + 1)) -lt "$_uf_n" ]; then _uf_o+=${UF_B64:_uf_v >> 6 & 63:1}; else _uf_o+="="; fi
    if [ $((_uf_i + 2)) -lt "$_uf_n" ]; then _uf_o+=${UF_B64:_uf_v & 63:1}; else _uf_o+="="; fi
  done
  printf -v "$1" '%s' "${_uf_o:--}"
}
# uf_fv VAR FILE: a file's bytes in base64 on one line, "-" for nothing, into VAR (one process)
uf_fv() { local _uf_f; _uf_f=$(base64 -w0 <"$2") || true; printf -v "$1" '%s' "${_uf_f:--}"; }
# uf_rec KEY ARG...: one record line; an ARG written =TEXT is TEXT in base64 (uf_sv)
uf_rec() {
  local _uf_r=$1 _uf_x _uf_e
  shift
  for _uf_x in "$@"; do
    case $_uf_x in
      =*) uf_sv _uf_e "${_uf_x#=}"; _uf_r+=" $_uf_e" ;;
      *) _uf_r+=" $_uf_x" ;;
    esac
  done
  printf '%s\n' "$_uf_r"
}
# uf_cleanv VAR PATH: an absolute path as Go's filepath.Clean writes it, into VAR
uf_cleanv() {
  local _uf_rest=$2 _uf_seg _uf_joined=""
  local -a _uf_out=()
  while [ -n "$_uf_rest" ]; do
    _uf_seg=${_uf_rest%%/*}
    if [ "$_uf_seg" = "$_uf_rest" ]; then _uf_rest=""; else _uf_rest=${_uf_rest#*/}; fi
    case $_uf_seg in
      ""|.) ;;
      ..) if [ ${#_uf_out[@]} -gt 0 ]; then unset "_uf_out[${#_uf_out[@]}-1]"; fi ;;
      *) _uf_out+=("$_uf_seg") ;;
    esac
  done
  for _uf_seg in ${_uf_out[@]+"${_uf_out[@]}"}; do _uf_joined="$_uf_joined/$_uf_seg"; done
  printf -v "$1" '%s' "${_uf_joined:-/}"
}
# uf_glob PATTERN: what an absolute pattern matches under CN_ROOT, one per line, sorted as Go's
# filepath.Glob sorts (bytes); "*" matches a leading dot as in Go
uf_glob() {
  (
    cd "${CN_ROOT:-}/" || exit 0
    export LC_ALL=C
    shopt -s nullglob dotglob
    IFS=
    # shellcheck disable=SC2206 # the pattern is globbed on purpose; IFS= keeps it one word
    local -a m=(${1#/})
    local x
    for x in ${m[@]+"${m[@]}"}; do printf '/%s\n' "$x"; done
  )
}
# uf_config_arg ARGV...: the value of containerd's -c/--config in an argument list
uf_config_arg() {
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --) return 1 ;;
      -c|--c|-config|--config) [ $# -ge 2 ] || return 1; printf '%s' "$2"; return 0 ;;
      -c=*|--c=*|-config=*|--config=*) printf '%s' "${1#*=}"; return 0 ;;
    esac
    shift
  done
  return 1
}
uf_has() { local x=$1 y; shift; for y in "$@"; do [ "$y" != "$x" ] || return 0; done; return 1; }
# uf_find_bin NAME PREFERRED_DIR: the first executable NAME under CN_ROOT, PREFERRED_DIR first
uf_find_bin() {
  local d
  for d in $2 $UF_BIN_DIRS; do
    if [ -f "${CN_ROOT:-}$d/$1" ] && [ -x "${CN_ROOT:-}$d/$1" ]; then printf '%s' "$d/$1"; return 0; fi
  done
  return 1
}
# uf_run NAME CMD...: records stdout NAME, exit NAME and stderr NAME of CMD (its stdout's bytes,
# its exit status, the first UF_STDERR_BYTES of its stderr), ended after CN_FACTS_TIMEOUT seconds
uf_run() {
  local name=$1 err
  shift
  # shellcheck disable=SC2030,SC2031 # out and rc are the outer subshell's own
  err=$( { { out=$(timeout -k 2 "${CN_FACTS_TIMEOUT:-$UF_TIMEOUT}" "$@" </dev/null 2>&4 | base64 -w0; exit "${PIPESTATUS[0]}") && rc=0 || rc=$?
    printf 'stdout %s %s\nexit %s %s\n' "$name" "${out:--}" "$name" "$rc" >&"$UF_FD"; } 4>&1 | head -c "$UF_STDERR_BYTES"; } | base64 -w0) || true
  uf_rec stderr "$name" "${err:--}"
}
# uf_version NAME BIN: the records uf_run writes for `BIN --version`, on stdout, kept per build of
# BIN (the node library's cn_bin_memo); exit status 0 when BIN exited 0
uf_version() {
  cn_bin_memo "$1" "$2" uf_version_run "$1" "$2"
}
uf_version_run() {
  local r UF_FD
  r=$(exec {UF_FD}>&1; uf_run "$1" "$2" --version)
  printf '%s\n' "$r"
  [[ $'\n'$r$'\n' == *$'\nexit '"$1"$' 0\n'* ]]
}
# uf_file VAR KIND PATH [EXTRA]: one `KIND B(path) [EXTRA] present B(content)|absent|error B(why)`
# record of a file under CN_ROOT, read up to UF_FILE_BYTES (an EXTRA written =TEXT is encoded, as
# uf_rec's); VAR is set to present, absent or error
uf_file() {
  local _uf_f=${CN_ROOT:-}$3 _uf_n _uf_b _uf_st=error
  local -a _uf_h=("$2" "=$3")
  [ $# -lt 4 ] || _uf_h+=("$4")
  if [ ! -e "$_uf_f" ]; then _uf_st=absent; uf_rec "${_uf_h[@]}" absent
  elif [ -d "$_uf_f" ]; then uf_rec "${_uf_h[@]}" error ="is a directory"
  elif [ ! -r "$_uf_f" ]; then uf_rec "${_uf_h[@]}" error ="not readable"
  else
    _uf_n=$(wc -c <"$_uf_f")
    if [ "$_uf_n" -gt "$UF_FILE_BYTES" ]; then uf_rec "${_uf_h[@]}" error ="$_uf_n bytes, more than the $UF_FILE_BYTES read"
    else _uf_st=present; uf_fv _uf_b "$_uf_f"; uf_rec "${_uf_h[@]}" present "$_uf_b"; fi
  fi
  printf -v "$1" '%s' "$_uf_st"
}
# docker_facts: Docker's own configuration, read-only (no file written, not even a here-string's), when Docker is installed (a dockerd binary
# or a docker.service unit); nothing at all otherwise. Records between
# `containerd-node-docker-facts 1 begin` and `… end` (components/docker/facts.ts parses them),
# B = base64 of the bytes ("-": empty):
#   dockerd B(path)                the dockerd binary found
#   unit B(LoadState)              docker.service's LoadState, when systemctl is there
#   pid N                          docker.service's MainPID, when it runs
#   argv process|unit B(arg)...    dockerd's arguments: /proc/PID/cmdline, else ExecStart's argv[]
#                                  (split on blanks, $VARS unexpanded)
#   environment B(text)            `systemctl show -p Environment docker`: the unit's and drop-ins' Environment=
#   env-file B(path) present B(content)|absent|error B(why)   each of -p EnvironmentFiles
#   drop-in B(path) present B(content)|absent|error B(why)    each of -p DropInPaths
#   daemon-json B(path) flag|default present B(content)|absent|error B(why)
#                                  dockerd's --config-file, else /etc/docker/daemon.json
#   certs-file B(host) B(name)     each file in /etc/docker/certs.d/HOST/ (names only)
# Paths are read under CN_ROOT (unset on a node: "/"); systemctl comes from PATH.
docker_facts() {
  # shellcheck disable=SC2034 # st: uf_file's status, not needed here (every file's record is kept)
  local R=${CN_ROOT:-} d bin="" load="" pid="" exec="" env="" dropins="" src="" cfg="" named=default a line p h n st
  local -a argv=() words=() envfiles=()
  for d in /usr/bin /usr/local/bin /usr/sbin /usr/local/sbin /bin /sbin /opt/bin; do
    if [ -f "$R$d/dockerd" ] && [ -x "$R$d/dockerd" ]; then bin=$d/dockerd; break; fi
  done
  # docker.service's properties, in one call (the first line of each; EnvironmentFiles one line a file)
  if command -v systemctl >/dev/null 2>&1; then
    while IFS= read -r line; do
      case $line in
        LoadState=*) [ -n "$load" ] || load=${line#LoadState=} ;;
        MainPID=*) [ -n "$pid" ] || pid=${line#MainPID=} ;;
        ExecStart=*) [ -n "$exec" ] || exec=${line#ExecStart=} ;;
        Environment=*) [ -n "$env" ] || env=${line#Environment=} ;;
        # "EnvironmentFiles=PATH (ignore_errors=yes)"
        EnvironmentFiles=?*) p=${line#EnvironmentFiles=}; envfiles+=("${p% (ignore_errors=*}") ;;
        DropInPaths=*) [ -n "$dropins" ] || dropins=${line#DropInPaths=} ;;
      esac
    done < <(systemctl show -p LoadState -p MainPID -p ExecStart -p Environment -p EnvironmentFiles -p DropInPaths docker 2>/dev/null || true)
  fi
  if [ -z "$bin" ] && { [ -z "$load" ] || [ "$load" = not-found ]; }; then return 0; fi
  echo "containerd-node-docker-facts 1 begin"
  [ -z "$bin" ] || uf_rec dockerd ="$bin"
  if [ -n "$load" ]; then
    uf_rec unit ="$load"
    if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -r "$R/proc/$pid/cmdline" ]; then
      echo "pid $pid"
      src=process
      while IFS= read -r -d '' a || [ -n "$a" ]; do argv+=("$a"); done <"$R/proc/$pid/cmdline"
    else
      # "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// $DOCKER_OPTS ; ignore_errors=no ; … }"
      case $exec in
        *"argv[]="*)
          src=unit
          line=${exec#*"argv[]="}; line=${line%% ;*}
          read -r -a argv < <(printf '%s\n' "$line") || true ;;
      esac
    fi
    if [ -n "$src" ]; then
      words=()
      for a in ${argv[@]+"${argv[@]}"}; do words+=("=$a"); done
      uf_rec argv "$src" ${words[@]+"${words[@]}"}
    fi
    uf_rec environment ="$env"
    for p in ${envfiles[@]+"${envfiles[@]}"}; do [ -z "$p" ] || uf_file st env-file "$p"; done
    read -r -a words < <(printf '%s\n' "$dropins") || true
    for p in ${words[@]+"${words[@]}"}; do uf_file st drop-in "$p"; done
  fi
  # dockerd's --config-file, as its own flag parser takes it
  set -- ${argv[@]+"${argv[@]}"}
  [ $# -eq 0 ] || shift
  while [ $# -gt 0 ]; do
    case $1 in
      --config-file|-config-file) [ $# -lt 2 ] || { cfg=$2; named=flag; }; shift ;;
      --config-file=*|-config-file=*) cfg=${1#*=}; named=flag ;;
    esac
    shift
  done
  [ -n "$cfg" ] || cfg=/etc/docker/daemon.json
  case $cfg in /*) ;; *) cfg=/$cfg ;; esac
  uf_file st daemon-json "$cfg" "$named"
  for d in "$R"/etc/docker/certs.d/*/; do
    [ -d "$d" ] || continue
    h=${d%/}; h=${h##*/}
    for p in "$d"*; do
      [ -f "$p" ] || continue
      n=${p##*/}
      uf_rec certs-file ="$h" ="$n"
    done
  done
  echo "containerd-node-docker-facts 1 end"
}

# upgrade_facts KUBELET_CONFIG [RUNTIME]: RUNTIME is detect_runtime's, when known
upgrade_facts() {
  local kubelet_config=$1 rt=${2-} R=${CN_ROOT:-} pid="" cfg="" src=default bin="" ctr="" a args="" addr="" libc="" fs v b light="" first
  local -a argv=() queue=() from=() depth=() loaded=() imps=() found=()
  exec {UF_FD}>&1
  printf '%s begin\n' "$UF_TAG" >&"$UF_FD"

  # The config path: the running containerd's arguments, else its unit's ExecStart, else the default.
  if command -v systemctl >/dev/null 2>&1; then
    # containerd.service's MainPID and ExecStart (the first line of each), in one call
    while IFS= read -r a; do
      case $a in
        MainPID=*) [ -n "$pid" ] || pid=${a#MainPID=} ;;
        ExecStart=*) [ -n "$args" ] || args=${a#ExecStart=} ;;
      esac
    done < <(systemctl show -p MainPID -p ExecStart containerd 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -r "$R/proc/$pid/cmdline" ]; then
      uf_rec pid "$pid"
      while IFS= read -r -d '' a || [ -n "$a" ]; do argv+=("$a"); done <"$R/proc/$pid/cmdline"
      if [ ${#argv[@]} -gt 0 ]; then
        case ${argv[0]} in /*) bin=${argv[0]} ;; esac
        if cfg=$(uf_config_arg "${argv[@]}"); then src=process; fi
      fi
    else
      # "{ path=/usr/bin/containerd ; argv[]=/usr/bin/containerd --config /etc/x.toml ; ignore_errors=no ; … }"
      case $args in
        *"argv[]="*)
          a=${args#*"path="}; bin=${a%% ;*}
          args=${args#*"argv[]="}; args=${args%% ;*}
          read -r -a argv < <(printf '%s\n' "$args")
          if [ ${#argv[@]} -gt 0 ] && cfg=$(uf_config_arg "${argv[@]}"); then src=unit; fi ;;
      esac
    fi
  fi
  [ -n "$cfg" ] || { src=default; cfg=/etc/containerd/config.toml; }
  # containerd runs with the working directory /: a relative --config is read from there
  case $cfg in /*) ;; *) cfg=/$cfg ;; esac
  uf_cleanv cfg "$cfg"
  uf_rec config ="$cfg" "$src"

  # Only a hand-made config of a containerd in use is judged (preflight/plan.ts): else its imports and
  # ctr's deprecations are left out (they are most of the reader's time).
  case $rt in ""|containerd://*) ;; *) light="the runtime in use is $rt" ;; esac

  # The main config and what it imports, in containerd's load order, each file once.
  queue=("$cfg"); from=(""); depth=(0)
  local i=0 p f d imp rc
  while [ "$i" -lt ${#queue[@]} ]; do
    p=${queue[$i]}; d=${depth[$i]}; a=${from[$i]}
    i=$((i + 1))
    if uf_has "$p" ${loaded[@]+"${loaded[@]}"}; then continue; fi
    if [ ${#loaded[@]} -ge "$UF_FILES" ]; then uf_rec note ="more than $UF_FILES config files: $p and what follows it were not read"; break; fi
    loaded+=("$p")
    f=$R$p
    uf_file b file "$p" "=$a"
    [ "$b" = present ] || continue
    if [ "$i" -eq 1 ] && [ -z "$light" ] && IFS= read -r first <"$f" && [ "$first" = "$UF_OWN_LINE" ]; then light="the config is containerd-node's own"; fi
    [ -z "$light" ] || break
    v=$(uf_awk_grpc_address "$f" 2>/dev/null) || v=""
    [ -z "$v" ] || addr=$v
    rc=0; v=$(uf_awk_imports "$f" 2>/dev/null) || rc=$?
    if [ "$rc" -ne 0 ]; then uf_rec note ="$p: its imports are written in a form this reader does not follow (awk exit $rc): not read"; continue; fi
    [ -n "$v" ] || continue
    if [ "$d" -ge "$UF_DEPTH" ]; then uf_rec note ="$p: imports nested deeper than $UF_DEPTH files: not read"; continue; fi
    mapfile -t imps < <(printf '%s\n' "$v")
    for imp in "${imps[@]}"; do
      [ -n "$imp" ] || continue
      case $imp in /*) ;; *) imp=${p%/*}/$imp ;; esac
      uf_cleanv imp "$imp"
      case $imp in
        *"*"*) mapfile -t found < <(uf_glob "$imp") ;;
        *) found=("$imp") ;;
      esac
      for v in ${found[@]+"${found[@]}"}; do queue+=("$v"); from+=("$p"); depth+=($((d + 1))); done
    done
  done
  [ -z "$addr" ] || uf_rec grpc-address ="$addr"
  [ -z "$light" ] || uf_rec light ="$light"

  # The binaries: the running or the unit's containerd, else the usual directories; ctr next to it.
  if [ -n "$bin" ] && [ -f "$R$bin" ] && [ -x "$R$bin" ]; then :; else bin=$(uf_find_bin containerd "") || bin=""; fi
  if [ -n "$bin" ]; then
    uf_rec bin containerd ="$bin"
    # node_facts ran it already when it is the containerd on PATH
    if [ -n "${UF_MEMO:-}" ] && [ "$R$bin" = "${UF_MEMO_BIN:-}" ]; then printf '%s\n' "$UF_MEMO"; else uf_version containerd "$R$bin" || true; fi
  fi
  if ctr=$(uf_find_bin ctr "${bin%/*}"); then
    uf_rec bin ctr ="$ctr"
    if [ -n "$light" ]; then :
    elif [ -n "$addr" ]; then uf_run ctr "$R$ctr" --address "$addr" deprecations list --format json
    else uf_run ctr "$R$ctr" deprecations list --format json; fi
  fi

  if libc=$(getconf GNU_LIBC_VERSION 2>/dev/null) && [ -n "$libc" ]; then :
  else libc=$(ldd --version 2>&1 | head -n1) || true; fi
  [ -z "$libc" ] || uf_rec libc ="$libc"
  if fs=$(stat -fc %T "$R/sys/fs/cgroup/" 2>/dev/null); then uf_rec cgroupfs ="$fs"; fi

  f=$R$kubelet_config
  if [ ! -e "$f" ]; then uf_rec kubelet-config ="$kubelet_config" absent
  elif [ ! -f "$f" ] || [ ! -r "$f" ]; then uf_rec kubelet-config ="$kubelet_config" error
  else
    uf_rec kubelet-config ="$kubelet_config" present
    if v=$(uf_awk_fail_cgroup_v1 "$f" 2>/dev/null) && [ -n "$v" ]; then uf_rec fail-cgroup-v1 ="$v"; fi
  fi
  printf '%s end\n' "$UF_TAG" >&"$UF_FD"
  exec {UF_FD}>&-
}

# nf_prepare < LIBRARY: at up, before the read: containerd-node's own directories
# (where files given by path are copied: owned by a deploy user that is not root, which copies
# over SFTP); the node library at $CN_DIR/$NF_LIB_FILE when that version of it is missing, from
# its text gzipped and in base64 on stdin, checked against NF_LIB_SHA256 before it is moved in
# place; and, for an original state an earlier library saved without it, the runtime before the
# first run (as cn_backup now records it); and it lets the read keep the versions binaries print
# (cn_bin_memo) under cache/. Nothing else is written.
nf_prepare() {
  local l=$CN_DIR/$NF_LIB_FILE t r
  mkdir -p "$CN_DIR/lib" "$CN_DIR/cache"
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then chown "$SUDO_USER" "$CN_DIR/lib" "$CN_DIR/cache"; fi
  if [ ! -f "$l" ]; then
    t=$l.$$.tmp
    if ! base64 -d | gzip -dc >"$t" || ! echo "$NF_LIB_SHA256  $t" | sha256sum -c --status; then
      rm -f "$t"
      echo "containerd-node: the node library did not arrive whole at $l" >&2
      exit 1
    fi
    chmod 0644 "$t" && mv -f "$t" "$l"
  fi
  if [ -f "$CN_DIR/original/complete" ] && [ ! -s "$CN_DIR/original/runtime" ]; then
    r=$(original_runtime)
    [ -z "$r" ] || echo "$r" >"$CN_DIR/original/runtime"
  fi
  # The read that follows may keep binaries' versions under cache/ (cn_bin_memo, the node library's).
  # shellcheck disable=SC2034 # read by cn_bin_memo
  CN_MEMO_WRITE=1
}

# node_facts: the whole read. The runtime in use (detect_runtime's), another run's claim on the node
# (its claim file, base64, "-" for none), the machine's facts (host_facts: NF_KUBELET, the free
# space of NF_FREE_PATHS and CN_DIR), Docker's own settings while Docker is the runtime in use (the
# conversion carries them), then the upgrade facts. components/preflight/readFacts.ts parses it.
# On a containerd node `containerd --version` (a Go binary's start, most of what is left of a read)
# runs once: its records, kept in UF_MEMO, are upgrade_facts' when it reads the same binary, and
# the runtime's version is read off them.
node_facts() {
  local rt c kind b out UF_MEMO="" UF_MEMO_BIN=""
  kind=$(cn_runtime_kind)
  if [ "$kind" = containerd ] && hash containerd 2>/dev/null; then
    UF_MEMO_BIN=${BASH_CMDS[containerd]}
    UF_MEMO=$(uf_version containerd "$UF_MEMO_BIN") || true
    b=${UF_MEMO%%$'\n'*}; b=${b##* }
    if [ "$b" = - ]; then out=""; else out=$(printf '%s' "$b" | base64 -d) || out=""; fi
    rt=$(cn_runtime_of containerd "$out")
  else
    rt=$(cn_runtime_of "$kind")
  fi
  echo "$NF_RUNTIME_TAG $rt"
  if [ -f "$CN_DIR/claim" ]; then uf_fv c "$CN_DIR/claim"; else c=-; fi
  echo "$NF_CLAIM_TAG $c"
  host_facts "$NF_KUBELET" ${NF_FREE_PATHS[@]+"${NF_FREE_PATHS[@]}"} "$CN_DIR"
  case $rt in docker://*) docker_facts ;; esac
  upgrade_facts "$NF_KUBELET_CONFIG" "$rt"
}
