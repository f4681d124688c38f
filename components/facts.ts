/**
 * The facts the pre-flight reads off a node before a run plans it: their shape (NodeFacts, the
 * upgrade facts, the config files and commands in them) and the tags of the lines that the
 * node-side reader (components/node/facts.sh) prints and its parsers look for.
 */
import { NodeClaim } from "./claim";
import { Version } from "./versions";

/** The reader's begin and end lines: `containerd-node-upgrade-facts 1 begin`, `… end`. */
export const UPGRADE_FACTS_MAGIC = "containerd-node-upgrade-facts";
export const UPGRADE_FACTS_FORMAT = 1;

/** The line before the facts block that names the runtime the kubelet uses now. */
export const RUNTIME_LINE = "containerd-node-runtime";

/**
 * containerd-node's own directory on a node (`stateDir`): the node library, the lock, the run's
 * claim, the steps' run records and staged artifacts.
 */
export const STATE_DIR_DEFAULT = "/var/lib/containerd-node";

/** The facts reader's line with the node's claim file, base64 (`-`: none). */
export const CLAIM_LINE = "containerd-node-claim";

/** The facts reader's lines about the machine itself: `containerd-node-host KEY VALUE` (HostFacts). */
export const HOST_LINE = "containerd-node-host";

/**
 * What the pre-flight checks about the machine before any change (components/preflight/hostChecks.ts):
 * what a conversion needs there, read at preview and at up.
 */
export interface HostFacts {
    /** The machine's architecture (bash's HOSTTYPE: `uname -m`'s name), as Go names it (amd64, arm64, …). */
    arch: string;
    /** Whether systemctl is there. */
    systemd: boolean;
    /** MiB free on the filesystem of each path the reader was asked about (containerd's root, stateDir). */
    freeMiB: { [path: string]: number };
    /** The package manager the node has: apt-get, dnf or yum; undefined when none. */
    packageManager?: string;
    /** Whether a runc is on the PATH. */
    runc: boolean;
    /** `kubelet --version`'s version (e.g. "v1.31.4"); undefined when there is no kubelet. */
    kubeletVersion?: string;
    /**
     * The runtime the node used before containerd-node first changed it, as the node library
     * recorded it with the node's original state (`stateDir`/original); undefined before that.
     */
    runtimeBefore?: string;
}

export interface ConfigFile {
    path: string;
    text: string;
}

interface FactsFileBase {
    /** The file's path on the node, absolute and cleaned as containerd cleans an import. */
    path: string;
    /** The file whose `imports` named or matched it; undefined for the main config. */
    importedBy?: string;
}

/** A config file that was read. */
export interface PresentFile extends FactsFileBase {
    status: "present";
    /** The file's bytes exactly as they are on the node. */
    bytes: Buffer;
    /** `bytes` as UTF-8 (TOML's encoding; an invalid sequence becomes U+FFFD). */
    text: string;
}

/** A config file that does not exist (containerd runs without a missing main config). */
export interface AbsentFile extends FactsFileBase {
    status: "absent";
}

/** A config file that exists but was not read. */
export interface UnreadFile extends FactsFileBase {
    status: "error";
    /** Why, e.g. "is a directory" or its size over the reader's limit. */
    error: string;
}

export type FactsFile = PresentFile | AbsentFile | UnreadFile;

/** One command the reader ran on the node. */
export interface CommandRun {
    /** Its exit status; 124 or 137 when the timeout ended it. */
    exitCode: number;
    /** Whether the timeout ended it. */
    timedOut: boolean;
    /** Its standard output, as printed (ctr prints nothing at all when there are no deprecations). */
    stdout: string;
    /** The first 64 KiB of its standard error. */
    stderr: string;
}

export interface UpgradeFacts {
    /** containerd's main config file: the running containerd's --config, else its unit's, else /etc/containerd/config.toml. */
    configPath: string;
    /** What named configPath: the running process's arguments, containerd.service's ExecStart, or nothing (containerd's default). */
    configSource: "process" | "unit" | "default";
    /** The running containerd's PID (systemd's MainPID of containerd.service); undefined when it does not run. */
    pid?: number;
    /** The main config for readLiveConfig; undefined when configPath is absent or unread (see `files[0]`). */
    main?: ConfigFile;
    /** Every config file the reader reached, in containerd's load order: the main config first, then imports breadth first. */
    files: FactsFile[];
    /** Every imported file that was read, path → text: readLiveConfig's dropIns. */
    dropIns: { [path: string]: string };
    /** What the reader did not follow (an imports array in a form it does not parse, a limit reached), for the report. */
    notes: string[];
    /**
     * Why the imports and `ctr deprecations list` were left out, when they were: nothing judges a
     * hand-made config here (the runtime in use is not containerd, or the main config is this
     * package's own; see planNode).
     */
    light?: string;
    /** The gRPC socket the config files set ([grpc] address, the last file that sets one); ctr was pointed at it. */
    grpcAddress?: string;
    /** The containerd binary: the running one's argv[0], else the unit's, else the first in the usual directories. */
    containerdBinary?: string;
    /** `containerd --version`; undefined when no binary was found. */
    containerdVersionRun?: CommandRun;
    /** The version `containerd --version` reports (the binary on disk, which a running containerd may predate); readLiveConfig's `running`. */
    containerdVersion?: Version;
    /** The ctr binary: next to containerd, else the first in the usual directories. */
    ctrBinary?: string;
    /** `ctr deprecations list --format json`; undefined when no ctr was found. See ctrDeprecationsOutput. */
    ctrDeprecations?: CommandRun;
    /** `getconf GNU_LIBC_VERSION`, else the first line of `ldd --version`: parseLibc's input; undefined when neither said anything. */
    libc?: string;
    /** `stat -fc %T /sys/fs/cgroup/` (cgroup2fs, tmpfs): parseCgroupFs's input; undefined when stat failed. */
    cgroupFs?: string;
    /** The KubeletConfiguration file read for failCgroupV1, and whether it was there. */
    kubeletConfig: { path: string; status: "present" | "absent" | "error" };
    /** The kubelet configuration's failCgroupV1; undefined when it does not set it (the kubelet's default is true). */
    failCgroupV1?: boolean;
}

/** The Docker facts reader's begin and end lines: `containerd-node-docker-facts 1 begin`, `… end` (node library's docker_facts). */
export const DOCKER_FACTS_MAGIC = "containerd-node-docker-facts";
export const DOCKER_FACTS_FORMAT = 1;

/** A file of Docker's configuration as the reader found it: its text, absent, or why it was not read. */
export type DockerFile =
    | { path: string; status: "present"; /** The file's bytes as UTF-8. */ text: string }
    | { path: string; status: "absent" }
    | { path: string; status: "error"; /** Why, e.g. "is a directory". */ error: string };

/** Docker's own configuration on a node (the node library's docker_facts), read when Docker is installed. */
export interface DockerFacts {
    /** The dockerd binary found; undefined when there is none (a unit only). */
    dockerd?: string;
    /** docker.service's systemd LoadState ("loaded", "not-found", "masked"); undefined without systemctl. */
    unitLoadState?: string;
    /** docker.service's MainPID when it runs. */
    pid?: number;
    /**
     * dockerd's arguments, argv[0] first: the running process's (`process`, every variable
     * expanded), else the unit's ExecStart (`unit`: split on blanks, `$VARS` as written).
     */
    argv?: { source: "process" | "unit"; args: string[] };
    /** `systemctl show -p Environment docker`'s value: the unit's and its drop-ins' Environment=, as systemd prints them. */
    environment: string;
    /** The unit's EnvironmentFile= files (e.g. /etc/default/docker, /etc/sysconfig/docker), in the unit's order. */
    envFiles: DockerFile[];
    /** docker.service's drop-ins (DropInPaths), in systemd's order. */
    dropIns: DockerFile[];
    /** daemon.json: dockerd's `--config-file` (`named` "flag"), else /etc/docker/daemon.json. */
    daemonJson: DockerFile & { named: "flag" | "default" };
    /** /etc/docker/certs.d/HOST/ directories and the names of their files. */
    certsD: { host: string; files: string[] }[];
}

/** The facts of the pre-flight read: the upgrade facts and the runtime the kubelet uses now. */
export interface NodeFacts {
    /** `docker://X`, `containerd://X` or `none` (the node library's detect_runtime). */
    runtime: string;
    upgrade: UpgradeFacts;
    /** A run's claim on the node (components/scripts/claim.ts), when one is there. */
    claim?: NodeClaim;
    /** The machine's facts; absent from facts a caller read with an older reader (then unchecked). */
    host?: HostFacts;
    /** Docker's own configuration, when Docker is installed; absent otherwise (and from an older reader's facts). */
    docker?: DockerFacts;
}
