/**
 * The node-side facts reader (components/node/facts.sh), as the TypeScript side sends it: its
 * values (the limits, the tags) in one place, the node library's functions it calls, and the
 * script the pre-flight runs over SSH (nodeFactsScript). The records it prints and their parser:
 * facts.sh's header, upgrade/facts.ts (parseUpgradeFacts), preflight/readFacts.ts.
 */
import * as fs from "fs";
import { CLAIM_LINE, RUNTIME_LINE, STATE_DIR_DEFAULT, UPGRADE_FACTS_FORMAT, UPGRADE_FACTS_MAGIC } from "../facts";
import { nodeFilePath } from "../nodeFiles";
import { TOP_OF_FILE } from "../render/configToml";
import { DEFAULTS } from "../spec";
import { BIN_MEMO, DETECT_RUNTIME, HOST_FACTS, NODE_LIB_FILE, NODE_LIB_GZIP_BASE64, NODE_LIB_SHA256 } from "./lib";
import { assignment, cnDirAssignment, heredoc, NODE_PATH, sq, stepValues } from "./shell";

/** Limits of the reader: files followed, import depth, bytes per file, seconds per command. */
export const UPGRADE_FACTS_LIMITS = { files: 64, depth: 8, fileBytes: 1 << 20, stderrBytes: 64 << 10, timeoutSeconds: 15 };

/** The reader's text (components/node/facts.sh). */
const FACTS_SH = fs.readFileSync(nodeFilePath("facts.sh"), "utf8");

/**
 * The reader's functions with their values before them, and the node library's cn_bin_memo, which
 * they call; `upgrade_facts KUBELET_CONFIG [RUNTIME]` prints the upgrade facts.
 */
export const UPGRADE_FACTS_FN = `${BIN_MEMO}# shellcheck disable=SC2016 # the line as the file has it
${assignment("UF_OWN_LINE", TOP_OF_FILE.replace(/\n$/, ""))}
${stepValues([
    ["UF_TAG", `${UPGRADE_FACTS_MAGIC} ${UPGRADE_FACTS_FORMAT}`],
    ["UF_FILES", UPGRADE_FACTS_LIMITS.files],
    ["UF_DEPTH", UPGRADE_FACTS_LIMITS.depth],
    ["UF_FILE_BYTES", UPGRADE_FACTS_LIMITS.fileBytes],
    ["UF_STDERR_BYTES", UPGRADE_FACTS_LIMITS.stderrBytes],
    ["UF_TIMEOUT", UPGRADE_FACTS_LIMITS.timeoutSeconds],
])}${FACTS_SH}`;

/**
 * The upgrade facts alone, as a whole script: strict bash, the functions, one call. `kubeletConfig`
 * is the KubeletConfiguration file (kubelet.configPath); `runtime`, the runtime in use when known
 * (detect_runtime's `docker://X`, `containerd://X`, `none`).
 */
export function upgradeFactsScript(kubeletConfig = DEFAULTS.kubeletConfigPath, runtime?: string): string {
    return `set -euo pipefail
export LC_ALL=C
${UPGRADE_FACTS_FN}upgrade_facts ${sq(kubeletConfig)}${runtime === undefined ? "" : ` ${sq(runtime)}`}
`;
}

/** What the facts reader is asked besides the upgrade facts. */
export interface NodeFactsOptions {
    /** The KubeletConfiguration file (kubelet.configPath). */
    kubeletConfig?: string;
    /** containerd-node's directory on the node (`stateDir`). */
    stateDir?: string;
    /** Paths whose filesystem's free space the pre-flight checks (containerd's root; stateDir is always one). */
    freePaths?: string[];
    /** Whether to read the kubelet's version (a kubelet is declared). */
    kubelet?: boolean;
    /**
     * At up, not at preview: make containerd-node's own directories (where files given by path
     * are copied: owned by a deploy user that is not root, which copies over SFTP), put the node
     * library there when this version of it is missing, and record the runtime before the first
     * run for an original state an earlier library saved without it (facts.sh nf_prepare).
     * Nothing else is written.
     */
    prepare?: boolean;
}

/**
 * What the pre-flight reads over SSH before a run plans a node (at preview and at up): facts.sh's
 * node_facts (with its docker_facts), the node library's functions it calls (detect_runtime,
 * host_facts) and its values. Read-only, unless `prepare` (at up): then it writes under
 * containerd-node's own directory and nowhere else.
 */
export function nodeFactsScript(o: NodeFactsOptions = {}): string {
    return `set -euo pipefail
export LC_ALL=C PATH=${NODE_PATH}
${cnDirAssignment(o.stateDir ?? STATE_DIR_DEFAULT)}
${stepValues([
        ["NF_RUNTIME_TAG", RUNTIME_LINE],
        ["NF_CLAIM_TAG", CLAIM_LINE],
        ["NF_KUBELET", o.kubelet ? 1 : 0],
        ["NF_KUBELET_CONFIG", o.kubeletConfig ?? DEFAULTS.kubeletConfigPath],
        ["NF_FREE_PATHS", o.freePaths ?? []],
    ])}${DETECT_RUNTIME}${HOST_FACTS}${UPGRADE_FACTS_FN}${o.prepare ? `${stepValues([["NF_LIB_FILE", NODE_LIB_FILE], ["NF_LIB_SHA256", NODE_LIB_SHA256]])}${heredoc("nf_prepare", NODE_LIB_GZIP_BASE64)}
` : ""}node_facts
`;
}
