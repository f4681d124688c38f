# Settings and one function shared by the set-up's Go builds (artifacts/build.sh,
# scripts/engine/build.sh, scripts/kube/build.sh), sourced.
# shellcheck shell=bash

# The compiler collects its garbage less often: about 15% less build time on 2 cores (the stand-in
# command provider from an empty build cache: 55–61 s against 68–69 s), for some more memory.
export GOGC=${GOGC:-400}
# No DWARF in the compiled packages: every binary here is linked with -s -w, which drops it anyway,
# and the compiler spends less time and the build cache less disk (the stand-in command provider
# from an empty build cache: 121–129 s against 142–146 s, its cache 302 MiB against 389 MiB).
# The code compiled is the same. -mod=mod: the wrapper modules' go.sum is written as they build.
export GOFLAGS="-mod=mod -gcflags=all=-dwarf=false"

# go_compile ARG...: `go ARG...` (a build or an install), one at a time on this machine when
# CN_GO_LOCK names a lock file (scripts/setup.sh runs its three build scripts side by side: their
# module downloads, tarballs and code generation go on beside another's compile, while the compiles
# themselves, which each use every core, take turns and find in Go's build cache what an earlier
# one compiled).
# A `go install PACKAGE@VERSION` downloads its modules as it starts: its dry run (-n: the packages
# loaded, so the modules downloaded and unpacked, nothing compiled) goes first, outside the lock,
# beside another script's compile (containerd 2.2.9, the first compile of a fresh set-up, held the
# lock 250 s for 307 CPU-seconds, one core idle while its modules came in).
go_compile() {
  if [ -n "${CN_GO_LOCK:-}" ]; then
    local a
    for a in "$@"; do
      if [[ $a != -* && $a == *@v[0-9]* ]]; then go "$1" -n "${@:2}" >/dev/null 2>&1 || true; break; fi
    done
    flock "$CN_GO_LOCK" go "$@"
  else
    go "$@"
  fi
}
