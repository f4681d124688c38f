import * as pulumi from "@pulumi/pulumi";
import type { NodeFacts } from "./facts";

/**
 * How the component reaches the node over SSH. Every credential is kept a Pulumi secret.
 * One of `privateKey`, `password`, `agentSocketPath` or `sshAgent` is required.
 */
export interface NodeConnectionArgs {
    /** Address of the node's SSH server. Required. */
    host: pulumi.Input<string>;
    /** SSH port, 1–65535. Default 22. */
    port?: number;
    /** Login user; it must be root or have password-less sudo. Default "root". */
    user?: string;
    /**
     * PEM/OpenSSH private key text (not a path), kept a Pulumi secret. One of
     * `privateKey`, `password`, `agentSocketPath` or `sshAgent` is required.
     */
    privateKey?: pulumi.Input<string>;
    /** Passphrase of `privateKey`, kept a Pulumi secret. */
    privateKeyPassword?: pulumi.Input<string>;
    /**
     * Login password, kept a Pulumi secret. One of `privateKey`, `password`, `agentSocketPath`
     * or `sshAgent` is required.
     */
    password?: pulumi.Input<string>;
    /**
     * Path of an ssh-agent socket on the machine running `pulumi up`, kept in the state: another
     * path is an update of every step of the node (each runs again). One of `privateKey`,
     * `password`, `agentSocketPath` or `sshAgent` is required.
     */
    agentSocketPath?: string;
    /**
     * `true`: authenticate with the SSH agent the `pulumi` process finds in `SSH_AUTH_SOCK`, as
     * `ssh` does. Nothing of the agent or its keys is kept in the state: a new agent socket or
     * another key in the agent changes nothing, and a node's state is about 1.1 KiB smaller than
     * with `privateKey` (the connection, a secret, is kept twice by each step). Refused at preview
     * when `SSH_AUTH_SOCK` is unset, or beside `privateKey`, `password` or `agentSocketPath`. One
     * of `privateKey`, `password`, `agentSocketPath` or `sshAgent` is required.
     */
    sshAgent?: boolean;
    /**
     * The node's public host key (`ssh-ed25519 AAAA…`), pinned: the connection fails if the node
     * presents another. Strongly recommended; without it any host key is accepted.
     */
    hostKey?: pulumi.Input<string>;
    /** How many failed dials are tolerated before giving up. Default 10. */
    dialErrorLimit?: number;
    /** Seconds allowed for each dial. Default 15. */
    perDialTimeout?: number;
}

/**
 * The containerd release tarball, downloaded by the node and checked against `sha256`. Needs a
 * full `containerd.version` (X.Y.Z).
 */
export interface TarballSource {
    /** Selects this source. */
    kind: "tarball";
    /** `https://…/containerd-X.Y.Z-linux-ARCH.tar.gz`. Plain `http://` only for a loopback host. */
    url: string;
    /** SHA-256 of the tarball, 64 hex characters. */
    sha256: string;
}

/**
 * A release tarball on the machine running `pulumi up`, copied to the node (air-gapped sites).
 * Needs a full `containerd.version` (X.Y.Z).
 */
export interface FileSource {
    /** Selects this source. */
    kind: "file";
    /** Local path of `containerd-X.Y.Z-linux-ARCH.tar.gz`. */
    path: string;
    /** SHA-256 of the tarball, 64 hex characters; checked on the node after the copy. */
    sha256: string;
}

/** The distribution package (apt or dnf/yum). */
export interface PackageSource {
    /** Selects this source. */
    kind: "package";
    /** Package name: "containerd" on Debian/Ubuntu/Fedora, "containerd.io" for Docker's repo. Default "containerd". */
    name?: string;
}

/**
 * Reuse the containerd that Docker installed (docker-ce's containerd.io or Debian's docker.io).
 * Its `/etc/containerd/config.toml` disables CRI and is replaced by the rendered one. `docker.mode`
 * "purge" is refused with this source: removing Docker's packages would remove this containerd.
 */
export interface DockerBundledSource {
    /** Selects this source. */
    kind: "docker";
}

/**
 * Where containerd comes from: a release tarball the node downloads, a release tarball copied
 * from the machine running `pulumi up`, the distribution package, or Docker's own containerd.
 */
export type InstallSource = TarballSource | FileSource | PackageSource | DockerBundledSource;

/** A single binary or tarball fetched by URL or copied from the operator's machine. */
export type ArtifactSource =
    | {
        /** `https://` URL of the file, downloaded by the node. Plain `http://` only for a loopback host. */
        url: string;
        /** SHA-256 of the file, 64 hex characters. */
        sha256: string
    }
    | {
        /** Local path of the file on the machine running `pulumi up`; it is copied to the node. */
        path: string;
        /** SHA-256 of the file, 64 hex characters; checked on the node after the copy. */
        sha256: string
    };

/** Extra CRI runtime handler (e.g. gVisor's runsc, kata). */
export interface RuntimeHandlerArgs {
    /** e.g. "io.containerd.runsc.v1". Required. */
    runtimeType: string;
    /** Free-form `options` table of the handler: TOML values (strings, numbers, booleans, lists, tables). */
    options?: { [key: string]: TomlValue };
}

/** A TOML value: a string, number, boolean, array or table. */
export type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };

/**
 * One registry's credentials, as containerd's CRI AuthConfig names them; set at least one. Every
 * value is kept a Pulumi secret.
 */
export interface RegistryAuthArgs {
    /** User name. */
    username?: pulumi.Input<string>;
    /** Password (or access token) of `username`. */
    password?: pulumi.Input<string>;
    /** base64 of `username:password`. */
    auth?: pulumi.Input<string>;
    /** An identity token (OAuth refresh token). */
    identityToken?: pulumi.Input<string>;
}

/**
 * The TLS files one registry host is reached with: paths of PEM files on the node, as containerd
 * 1.x's `registry.configs."HOST".tls` named them (the files are not written: they are the node's).
 */
export interface RegistryTlsArgs {
    /** CA bundle that verifies the host's certificate (1.x `tls.ca_file`; hosts.toml `ca`). */
    caFile?: string;
    /** Client certificate for mutual TLS, with `keyFile` (1.x `tls.cert_file`; hosts.toml `client`). */
    certFile?: string;
    /** The client certificate's private key, with `certFile` (1.x `tls.key_file`). */
    keyFile?: string;
}

/** What goes into /etc/containerd/config.toml and /etc/containerd/certs.d. */
export interface ContainerdConfigArgs {
    /** runc's `SystemdCgroup`; the kubelet's cgroup driver is switched to match. Default true. */
    systemdCgroup?: boolean;
    /** Sandbox (pause) image. Default "registry.k8s.io/pause:3.10". */
    sandboxImage?: string;
    /**
     * Registry mirrors: registry host → mirror endpoints (with scheme), tried in order before the
     * registry itself. Written as `certs.d/<host>/hosts.toml`, read per pull (no restart).
     * e.g. `{ "docker.io": ["https://mirror.example.com"] }`. Default none.
     */
    registryMirrors?: { [registry: string]: string[] };
    /**
     * Registries (`host` or `host:port`) reached without TLS verification: tried over HTTPS
     * without verification, then over plain HTTP (in `certs.d/<host>/hosts.toml`). Default none.
     */
    insecureRegistries?: string[];
    /**
     * TLS files by registry host (`host` or `host:port`, as an endpoint names it):
     * `{ "HOST": { caFile?, certFile?, keyFile? } }` (CRI `registry.configs."HOST".tls`), written into
     * `certs.d` hosts.toml wherever containerd reaches that host: as its own registry's server
     * and as a mirror of another (`registry-1.docker.io` is docker.io's server). Absolute paths on
     * the node; the configure step fails, changing nothing, while a file is missing.
     * e.g. `{ "registry.example.com": { caFile: "/etc/pki/registry-ca.pem" } }`. Default none.
     */
    registryTls?: { [host: string]: RegistryTlsArgs };
    /**
     * Credentials containerd pulls with, by registry host:
     * `{ "HOST": { username?, password?, auth?, identityToken? } }` (CRI
     * `registry.configs."HOST".auth`, what an old config's auth carries over to). Every value
     * stays a Pulumi secret: a step of its own (`registry-auth`, shown as [secret] in a preview)
     * writes them to a 0600 file that the rendered config imports. containerd deprecates this for
     * imagePullSecrets (removal planned for 2.4). Default none.
     */
    registryAuth?: { [registry: string]: RegistryAuthArgs };
    /** containerd's persistent root. Default "/var/lib/containerd". */
    root?: string;
    /** containerd's state directory. Default "/run/containerd". */
    state?: string;
    /** Where CRI finds CNI plugins; Debian's package uses "/usr/lib/cni". Default "/opt/cni/bin". */
    cniBinDir?: string;
    /** Where CRI reads CNI network configs. Default "/etc/cni/net.d". */
    cniConfDir?: string;
    /**
     * Extra runtime handlers by name, next to the default "runc":
     * `{ name: { runtimeType, options } }`. Default none.
     */
    runtimes?: { [name: string]: RuntimeHandlerArgs };
    /**
     * Files the rendered config imports (containerd's top-level `imports`): absolute paths, or
     * globs (`*`, `?`, `[…]`) matched at every start, such as the drop-in directory a cloud node
     * image or a GPU toolkit writes to. Keep the live config's imports here: the rendered file
     * replaces it, and an import it no longer lists refuses an upgrade. Each drop-in must declare
     * a config version no higher than the rendered file's. e.g.
     * `["/etc/containerd/config.d/*.toml"]`. Default none.
     */
    imports?: string[];
    /**
     * Typed escape hatch: a TOML table deep-merged over the rendered file (its keys win). Use keys
     * of the schema the installed version reads (version 2 for 1.x, 3 for 2.0–2.2, 4 for 2.3+, where
     * the servers' settings live in plugins such as `io.containerd.server.v1.grpc`). Credentials are
     * refused here: the config's text is shown by `pulumi preview` and kept in the state as plain
     * text (use `registryAuth`, whose values stay secrets). Default none.
     */
    extraToml?: { [key: string]: TomlValue };
}

/** The containerd systemd unit. Delegate=yes and KillMode=process are always set. */
export interface SystemdUnitArgs {
    /** LimitNOFILE: a number or "infinity". Default "infinity". */
    limitNOFILE?: string;
    /** TasksMax: a number or "infinity". Default "infinity". */
    tasksMax?: string;
    /** OOMScoreAdjust, -1000–1000. Default -999. */
    oomScoreAdjust?: number;
}

/**
 * containerd's proxy environment: the variables Go's net/http reads (HTTP_PROXY, HTTPS_PROXY,
 * NO_PROXY), which containerd pulls images through. Written as a `containerd.service.d` drop-in,
 * `/etc/systemd/system/containerd.service.d/http-proxy.conf` (0600), by a step of its own
 * (`proxy`), so that a value given as a Pulumi secret (a proxy URL with a user and password)
 * stays one: shown as [secret] in a preview, never in a log. Set at least one.
 */
export interface ProxyArgs {
    /**
     * The proxy for plain-HTTP registries (HTTP_PROXY): `http://host:port` or `https://host:port`,
     * with `user:password@` if the proxy asks for it (percent-encoded, as in any URL; a URL with
     * them is kept a secret even when given as a plain string).
     */
    httpProxy?: pulumi.Input<string>;
    /** The proxy for HTTPS registries (HTTPS_PROXY), written as `httpProxy` is. */
    httpsProxy?: pulumi.Input<string>;
    /**
     * Hosts reached without the proxy (NO_PROXY), comma-separated: host names (`example.com` also
     * covers its subdomains, `.example.com` only them), IP addresses, CIDRs, `host:port`, or `*`.
     * Go never proxies `localhost` or a loopback address whatever this says.
     */
    noProxy?: pulumi.Input<string>;
}

/**
 * Where the kubelet's runtime flags are edited. "auto": the first that exists of
 * kubeadm-flags.env, /etc/default/kubelet, /etc/sysconfig/kubelet; "kubeadm-flags":
 * /var/lib/kubelet/kubeadm-flags.env (KUBELET_KUBEADM_ARGS); "default": /etc/default/kubelet
 * (KUBELET_EXTRA_ARGS); "sysconfig": /etc/sysconfig/kubelet (KUBELET_EXTRA_ARGS); "config": the
 * KubeletConfiguration's containerRuntimeEndpoint (kubelet 1.27+).
 */
export const KubeletFlagsLocation = {
    /** The first that exists of kubeadm-flags.env, /etc/default/kubelet, /etc/sysconfig/kubelet. */
    auto: "auto",
    /** /var/lib/kubelet/kubeadm-flags.env (KUBELET_KUBEADM_ARGS). */
    kubeadmFlags: "kubeadm-flags",
    /** /etc/default/kubelet (KUBELET_EXTRA_ARGS). */
    default: "default",
    /** /etc/sysconfig/kubelet (KUBELET_EXTRA_ARGS). */
    sysconfig: "sysconfig",
    /** The KubeletConfiguration's containerRuntimeEndpoint (kubelet 1.27+). */
    config: "config",
} as const;
/** Where the kubelet's runtime flags are edited (see the constant of the same name). */
export type KubeletFlagsLocation = typeof KubeletFlagsLocation[keyof typeof KubeletFlagsLocation];

/**
 * The kubelet on the node. Required in Kubernetes mode; omit in host mode when there is no kubelet
 * to switch.
 */
export interface KubeletArgs {
    /** Kubelet version, e.g. "1.30.4": decides which flags and files are edited. Required. */
    version: string;
    /**
     * Where the runtime flags live: "auto", "kubeadm-flags", "default", "sysconfig" or "config"
     * (kubelet 1.27+). Default "auto".
     */
    flagsLocation?: KubeletFlagsLocation;
    /** KubeletConfiguration file. Default "/var/lib/kubelet/config.yaml". */
    configPath?: string;
    /** kubeconfig the kubelet itself uses, read on the node to confirm Ready. Default "/etc/kubernetes/kubelet.conf". */
    kubeconfigPath?: string;
    /**
     * The size at which the kubelet rotates a container's log, a Kubernetes quantity ("100M" is
     * 10^8 bytes, "100Mi" 100 × 2^20; Docker's "100m" is the kubelet's "100M"). Under containerd
     * the kubelet rotates container logs, as Docker's json-file `log-opts` `max-size` did: this
     * carries it. Written as `containerLogMaxSize` in the KubeletConfiguration file when the node
     * has one, else as `--container-log-max-size` in the kubelet's flags (a flag already there is
     * rewritten either way: it would win). Default none: the kubelet's own (10Mi).
     */
    containerLogMaxSize?: string;
    /**
     * How many log files the kubelet keeps per container (2–1000), as Docker's `log-opts`
     * `max-file` did: `containerLogMaxFiles`, or `--container-log-max-files`, written as
     * containerLogMaxSize is. Default none: the kubelet's own (5).
     */
    containerLogMaxFiles?: number;
}

/**
 * BuildKit on the node, for image builds now that `docker build` is gone: `buildkitd` with
 * containerd's worker in containerd's `k8s.io` namespace (BuildKit's own OCI worker off), so an
 * image it builds is in the image store the kubelet reads, usable by a pod at once
 * (`imagePullPolicy: Never`), and `buildctl` to drive it (`buildctl build … --output
 * type=image,name=…,unpack=true`, no `--addr` needed). Installed into /usr/local/bin, configured by
 * /etc/buildkit/buildkitd.toml, run by /etc/systemd/system/buildkit.service (socket
 * /run/buildkit/buildkitd.sock, root only); restarted only when one of these changed.
 */
export interface BuildkitArgs {
    /** BuildKit's version, e.g. "0.34.2": the tarball's buildkitd must report it. Required. */
    version: string;
    /**
     * BuildKit's release tarball, `buildkit-vX.Y.Z.linux-ARCH.tar.gz` (its `bin/buildkitd` and
     * `bin/buildctl` are installed): `{ url, sha256 }` or `{ path, sha256 }`. Required.
     */
    source: ArtifactSource;
}

/**
 * crictl, the CRI's command line (what `docker ps`/`docker images` were for the node's pods), for
 * nodes that have none: installed as /usr/local/bin/crictl only where no crictl is on the node's
 * PATH, or where this package installed it (then kept at the declared version). A crictl the node
 * had is left as it is. /etc/crictl.yaml points it at containerd either way.
 */
export interface CrictlArgs {
    /** crictl's version, e.g. "1.34.0": the tarball's crictl must report it. Required. */
    version: string;
    /**
     * cri-tools' release tarball, `crictl-vX.Y.Z-linux-ARCH.tar.gz` (`crictl` at its top):
     * `{ url, sha256 }` or `{ path, sha256 }`. Required.
     */
    source: ArtifactSource;
}

/**
 * Tools for what Docker did on the node, each opt-in. They are installed by a part of their own
 * (`tools`, after `configure` and `migrate-images`, before the switch; in Kubernetes mode in the
 * `configure` step, before the drain), one transaction: a failed install puts back every file it
 * changed and the service as it was, and stops the run before the node is switched. A tool whose
 * input is removed later is left installed (no step runs for it): remove it by hand, e.g.
 * `systemctl disable --now buildkit; rm /etc/systemd/system/buildkit.service /etc/buildkit/buildkitd.toml
 * /usr/local/bin/buildkitd /usr/local/bin/buildctl` (its build cache is under /var/lib/buildkit).
 */
export interface ToolsArgs {
    /** BuildKit (buildkitd + buildctl) with containerd's worker in `k8s.io`. Default: not installed. */
    buildkit?: BuildkitArgs;
    /** crictl where the node has none. Default: not installed. */
    crictl?: CrictlArgs;
}

/** Cordon/drain settings (Kubernetes mode only). */
export interface DrainArgs {
    /** `kubectl drain --timeout`, seconds (1–86400). Default 300. */
    timeoutSeconds?: number;
    /** Pod termination grace period, seconds; -1 uses each pod's own. Default -1. */
    gracePeriodSeconds?: number;
    /** Delete pods' emptyDir data (`--delete-emptydir-data`). Default true. */
    deleteEmptyDirData?: boolean;
    /** Also delete pods without a controller (`--force`). Default false. */
    force?: boolean;
}

/** A kubeconfig given by its content, e.g. the `kubeconfig` output of the program that made the cluster. */
export interface KubeconfigContent {
    /**
     * The kubeconfig's text (YAML or JSON). Kept a Pulumi secret whether or not it was one; never
     * in command text, the environment or a step's state. Reads get it on stdin and put it in a
     * 0600 file they remove; the drain, verify and gate steps read a 0600 file the program writes
     * at `pulumi up` in a 0700 directory of the user's own under `$TMPDIR` and removes once the
     * node's steps have run (or when it exits).
     */
    content: pulumi.Input<string>;
}

/**
 * The kubeconfig kubectl uses on the machine running `pulumi up`: a file's path (a plain string),
 * or `{ content }`.
 */
export type KubeconfigInput = string | KubeconfigContent;

/** Kubernetes mode: given a kubeconfig, the node is cordoned, drained, verified and uncordoned. */
export interface KubernetesArgs {
    /**
     * The kubeconfig: the path of a file on the machine running `pulumi up`, or `{ content }`
     * (e.g. the `kubeconfig` output of the program that made the cluster; kept a secret, read by
     * kubectl from 0600 files removed after use, never in a step's state). Required.
     */
    kubeconfig: KubeconfigInput;
    /** The Node object's name. Required. */
    nodeName: string;
    /** kubectl binary on the machine running `pulumi up`. Default "kubectl". */
    kubectl?: string;
    /** How the node is drained before its runtime is switched. */
    drain?: DrainArgs;
    /** Seconds (10–3600) the node has to become Ready on containerd before it is rolled back. Default 180. */
    verifyTimeoutSeconds?: number;
}

/**
 * What happens to Docker: "keep", "stop", "disable" or "purge" (see {@link DockerArgs.mode}). A
 * constant object with its type of the same name, so that the provider's schema names it as an enum.
 */
export const DockerMode = {
    /** Leave Docker running. */
    keep: "keep",
    /** Stop Docker until the next boot. */
    stop: "stop",
    /** Stop and disable Docker. */
    disable: "disable",
    /** Disable Docker, then remove its packages after the node verified. */
    purge: "purge",
} as const;
/** What happens to Docker: "keep", "stop", "disable" or "purge" (see {@link DockerArgs.mode}). */
export type DockerMode = typeof DockerMode[keyof typeof DockerMode];

/** What happens to Docker. */
export interface DockerArgs {
    /**
     * "keep": leave running; "stop": stop until the next boot; "disable": stop and disable;
     * "purge": disable, then remove Docker's packages after the node verified (refused with
     * `containerd.source` `{ kind: "docker" }`, whose containerd it would remove). Default "disable".
     */
    mode?: DockerMode;
    /**
     * Remove /var/lib/docker after the node verified; it is never removed unless this is set
     * (refused with `mode` "keep"). Default false.
     */
    removeData?: boolean;
    /** Import Docker's tagged images into containerd's `k8s.io` namespace. Default false. */
    migrateImages?: boolean;
}

/**
 * When a node that already runs containerd moves to the declared version (e.g. 1.7 → 2.x), is
 * it drained first? "major": when the major version changes (1.x → 2.x), a minor or patch move
 * restarts containerd in place (KillMode=process keeps every container running); "always";
 * "never".
 */
export const UpgradeDrainPolicy = {
    /** Drain when the major version changes (1.x → 2.x); restart in place otherwise. */
    major: "major",
    /** Always drain. */
    always: "always",
    /** Never drain. */
    never: "never",
} as const;
/** When a node that already runs containerd is drained for the move (see the constant of the same name). */
export type UpgradeDrainPolicy = typeof UpgradeDrainPolicy[keyof typeof UpgradeDrainPolicy];

/** Moving a node from the containerd it runs to the declared one (1.6/1.7 → 2.x, or within 2.x). */
export interface UpgradeArgs {
    /**
     * Whether a node that already runs containerd is drained for the move (Kubernetes mode):
     * "major" drains for 1.x → 2.x only, "always", "never". Default "major".
     */
    drain?: UpgradeDrainPolicy;
    /**
     * Settings of the node's live config (its imports included) that the rendered config would not
     * carry and that you accept to lose, as dotted TOML keys the pre-flight names, e.g.
     * `plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".tls.ca_file`. A key
     * also covers every key beneath it. A deprecation the pre-flight reports by its containerd id
     * (`io.containerd.deprecation/pull-schema-1-image`) can be listed the same way. On a node
     * converted from Docker, one of Docker's settings that no typed input carries is listed as
     * `docker:` and its daemon.json key, dotted below a table: `docker:log-opts` (every log
     * option), `docker:log-opts.max-size`, `docker:runtimes.nvidia`, `docker:proxies.http-proxy`
     * (also for the proxy variables of docker.service's environment),
     * `docker:"certs.d"."r.example.com:5000"`. Without an entry, each such setting refuses the
     * run, naming the node, the key and its value. Default none.
     */
    acknowledgeDropped?: string[];
}

/**
 * The inputs of {@link ContainerdNode}: one node, how to reach it, and the containerd runtime it
 * is converted to and kept in.
 */
export interface ContainerdNodeArgs {
    /** How the component reaches the node over SSH. Required. */
    connection: NodeConnectionArgs;
    /**
     * Kubernetes mode: the node is cordoned, drained, verified Ready through the API and
     * uncordoned. Omit for host mode (no cordon/drain/verify through the API).
     */
    kubernetes?: KubernetesArgs;
    /** The containerd to install and run. Required. */
    containerd: {
        /** Version to install and expect, e.g. "2.1.4" or "1.6"; a tarball or file source needs X.Y.Z. Required. */
        version: string;
        /**
         * Where containerd comes from: `{ kind: "tarball", url, sha256 }` (https; plain http
         * only to a loopback host), `{ kind: "file", path, sha256 }` (air-gapped sites),
         * `{ kind: "package", name? }` or `{ kind: "docker" }` (reuse Docker's containerd; its
         * CRI-less config is replaced). Required.
         */
        source: InstallSource;
        /**
         * runc to install (tarball sources of 2.x do not bring one): `{ url, sha256 }` or
         * `{ path, sha256 }`. Default: keep the node's.
         */
        runc?: ArtifactSource;
        /**
         * CNI plugins tarball, extracted into `config.cniBinDir` (default /opt/cni/bin): `{ url, sha256 }` or `{ path, sha256 }`.
         * Default: keep the node's.
         */
        cni?: ArtifactSource;
    };
    /** What goes into /etc/containerd/config.toml and /etc/containerd/certs.d. */
    config?: ContainerdConfigArgs;
    /** The containerd systemd unit (Delegate=yes and KillMode=process are always set). */
    unit?: SystemdUnitArgs;
    /**
     * containerd's proxy environment: `{ httpProxy?, httpsProxy?, noProxy? }`, each a string or a
     * Pulumi secret, written as a containerd.service.d drop-in; removing it removes the drop-in.
     * Carries Docker's `proxies` and HTTP_PROXY/HTTPS_PROXY/NO_PROXY when it holds the same values.
     * Default none.
     */
    proxy?: ProxyArgs;
    /**
     * The kubelet switched to containerd. Required in Kubernetes mode; omit in host mode when
     * there is no kubelet to switch.
     */
    kubelet?: KubeletArgs;
    /** What happens to Docker. */
    docker?: DockerArgs;
    /**
     * Tools for what Docker did on the node, each opt-in: BuildKit for image builds into
     * containerd's `k8s.io` namespace, crictl where the node has none. Removing one later leaves it
     * installed.
     */
    tools?: ToolsArgs;
    /** Moving a node that already runs containerd to the declared version. */
    upgrade?: UpgradeArgs;
    /**
     * Pre-flight disk check: refuse a run that installs or moves containerd when less than this
     * much is free under containerd's root, or under `stateDir` where artifacts are staged (MiB).
     * Default 1024.
     */
    minFreeDiskMiB?: number;
    /**
     * containerd-node's own directory on the node: the node library, the lock and the run claim
     * that keep two runs off the same node, the steps' run records, staged artifacts. Two stacks
     * that name one machine with different directories are not kept apart: keep the default
     * unless the machine is shared on purpose (as a benchmark that stands many fleet nodes on one
     * machine does). Default "/var/lib/containerd-node".
     */
    stateDir?: string;
    /**
     * How many nodes' facts the program reads over SSH at once, at preview and at up (each read
     * waits while this many are under way). A fleet of real machines waits on each read's round
     * trips more than on its CPU (3–4 ms of the program's a read): more at once shortens a
     * large fleet's preview, up to what the machine running `pulumi` and its network can take.
     * ContainerdFleet passes its own to every node. Default 16.
     */
    factReads?: number;
    /**
     * Resources the node's first step waits for (a rolling conversion: the previous wave). The
     * pre-flight, which reads and plans the node, does not wait: it is not a step. The component's
     * own `dependsOn` gates every step too. Given a promise, the steps are only built once it
     * resolves (ContainerdFleet resolves it when the previous wave is registered, which bounds
     * the resources in flight in a large preview).
     */
    startAfter?: pulumi.Resource[] | Promise<pulumi.Resource[]>;
    /**
     * The node's facts (runtime in use, live containerd config, versions), when the caller has read
     * them (e.g. with {@link readNodeFacts}). They decide the node's path and what refuses the run
     * (see docs/upgrading.md). Nothing then reads the node, so the node library is copied to it
     * (a `lib` step); with a login other than root, containerd-node's directories there
     * (`stateDir`/lib and /cache) must be that user's, as the component's own read at up makes
     * them (readNodeFacts with `prepare`). Default: read over SSH by the component at every
     * preview and update, before any step.
     */
    nodeFacts?: pulumi.Input<NodeFacts>;
    /**
     * Kubernetes mode: the Node's rollback mark (annotation), when the caller has read it already
     * (ContainerdFleet reads every Node in one request). Default: read for this node at every
     * preview and update.
     */
    rollbackMark?: pulumi.Input<string>;
    /**
     * Kubernetes mode (ContainerdFleet sets it when it has a failure budget): a failed drain,
     * switch or verify puts the node back as it always does, records the failure on the Node
     * (annotation `containerd-node.pulumi.com/last-failure`) and ends successfully, so a rollout
     * goes on; the node's later steps then skip. The next run retries the node: the failure
     * changed the Node's retry mark, which those steps are triggered by. Default false.
     */
    softFailures?: boolean;
    /**
     * Kubernetes mode (ContainerdFleet sets it): the node is drained, and verified, by its wave's
     * steps, which run every node of the wave side by side (kubectl.sh cn_drain_wave and
     * cn_verify_wave), not by steps of its own: two resources fewer a node in the fleet's state
     * and preview. The drain step waits for the node's configure (`beforeDrain`), the node's switch
     * for the drain step, and the verify step (which then runs the fleet's health gate) for the
     * switch (`verifiedAfter`). The node's outputs (durations, runtimeAfter, gateReport) come from
     * its lines of the steps' output, and a Docker cleanup waits for the verify step. Default: the
     * node's own drain and verify steps.
     */
    fleetWave?: FleetWave;
}

/** A step of a fleet's wave that works on the wave's nodes side by side. */
export interface FleetStep {
    /** The step, once it is built: what the node's later steps wait for. */
    step: Promise<pulumi.Resource>;
    /** Its output, one Output for the wave's nodes (made before the step is): a JSON line per node of the wave, the node's among them. */
    stdout: pulumi.Output<string>;
}

/** A fleet's wave steps for a node (ContainerdNodeArgs.fleetWave). */
export interface FleetWave {
    /** The wave's drain (kubectl.sh cn_drain_wave), built once its nodes' configure steps are. */
    drain: FleetStep;
    /** The wave's verify and health gate (kubectl.sh cn_verify_wave), built once its nodes' switches are. */
    verify: FleetStep;
}

/** A fleet's health gate after each node (ContainerdFleet's healthGate, resolved), as its gate steps run it. */
export interface FleetGateValues {
    /** Commands run on the machine running `pulumi up` with NODE set; each must exit 0. */
    probes: string[];
    /** How long the gate waits for the node (and the probes) to be healthy, in seconds. */
    timeoutSeconds: number;
    /** Seconds to wait once the node (in Kubernetes mode its wave) passed, before the next wave (0 after the last). */
    pauseSeconds: number;
}
