/**
 * BuildKit's files on the node (tools.buildkit): buildkitd.toml and buildkit.service. Pure: the
 * spec in, the text out. The keys are BuildKit's own
 * (https://github.com/moby/buildkit/blob/v0.34.2/docs/buildkitd.toml.md), the unit after its
 * example (https://github.com/moby/buildkit/blob/v0.34.2/examples/systemd/system/buildkit.service),
 * without its socket activation.
 */
import { NodeSpec } from "../spec";

/** Where buildkitd listens: buildctl's own default address, so `buildctl` needs no `--addr`. */
export const BUILDKIT_SOCKET = "/run/buildkit/buildkitd.sock";
/** containerd's namespace the worker builds in: the CRI plugin's, the one the kubelet's images are in. */
export const BUILDKIT_NAMESPACE = "k8s.io";
/** buildkitd's config file, read with `--config`. */
export const BUILDKIT_CONFIG_PATH = "/etc/buildkit/buildkitd.toml";
/** Where buildkitd and buildctl are installed. */
export const BUILDKIT_BIN_DIR = "/usr/local/bin";

/** A TOML basic string (the same escapes as JSON for the values written here: paths, names). */
const str = (s: string) => JSON.stringify(s);

/**
 * /etc/buildkit/buildkitd.toml: the gRPC socket, the OCI worker off (it would keep images in
 * BuildKit's own store, which the kubelet never reads), the containerd worker on containerd's
 * socket in the `k8s.io` namespace, with BuildKit's garbage collection of its build cache.
 */
export function renderBuildkitdToml(spec: NodeSpec): string {
    return `# Managed by containerd-node (Pulumi).
[grpc]
  address = [${str(`unix://${BUILDKIT_SOCKET}`)}]

[worker.oci]
  enabled = false

[worker.containerd]
  enabled = true
  address = ${str(spec.config.socket)}
  namespace = ${str(BUILDKIT_NAMESPACE)}
  gc = true
`;
}

/**
 * buildkit.service: buildkitd after containerd (it builds through it), `Type=notify` (buildkitd
 * tells systemd when it serves), restarted if it dies.
 */
export function renderBuildkitUnit(): string {
    return `# Managed by containerd-node (Pulumi).
[Unit]
Description=BuildKit (containerd worker, namespace ${BUILDKIT_NAMESPACE})
Documentation=https://github.com/moby/buildkit
After=network.target containerd.service
Wants=containerd.service

[Service]
Type=notify
ExecStart=${BUILDKIT_BIN_DIR}/buildkitd --config ${BUILDKIT_CONFIG_PATH}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
