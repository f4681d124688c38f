/**
 * Where containerd 2.3+ reads a top-level setting of a version 3 (or older) file: version 4
 * moves the servers' settings into server plugins (cmd/containerd/server/config at v2.3.0,
 * serviceMigrate). A version 4 file that still holds them at the top level is not migrated and
 * they are ignored, so the rendered file must hold them in the plugins. `debug.level` and
 * `debug.format` stay where they were; the CRI plugins are unchanged from version 3.
 */
import { KeyPath } from "./keys";

export const SERVER_GRPC = "io.containerd.server.v1.grpc";

/** Top-level table → its keys' plugin and names in version 4. */
const MOVED: { [table: string]: { [key: string]: [plugin: string, key: string] } } = {
    grpc: {
        address: [SERVER_GRPC, "address"], uid: [SERVER_GRPC, "uid"], gid: [SERVER_GRPC, "gid"],
        max_recv_message_size: [SERVER_GRPC, "max_recv_message_size"], max_send_message_size: [SERVER_GRPC, "max_send_message_size"],
        tcp_address: ["io.containerd.server.v1.grpc-tcp", "address"], tcp_tls_ca: ["io.containerd.server.v1.grpc-tcp", "tls_ca"],
        tcp_tls_cert: ["io.containerd.server.v1.grpc-tcp", "tls_cert"], tcp_tls_key: ["io.containerd.server.v1.grpc-tcp", "tls_key"],
        tcp_tls_common_name: ["io.containerd.server.v1.grpc-tcp", "tls_common_name"],
    },
    ttrpc: { address: ["io.containerd.server.v1.ttrpc", "address"], uid: ["io.containerd.server.v1.ttrpc", "uid"], gid: ["io.containerd.server.v1.ttrpc", "gid"] },
    debug: { address: ["io.containerd.server.v1.debug", "address"], uid: ["io.containerd.server.v1.debug", "uid"], gid: ["io.containerd.server.v1.debug", "gid"] },
    metrics: { address: ["io.containerd.server.v1.metrics", "address"], grpc_histogram: ["io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram"] },
};

/** The version 4 path of a version 3 key (a key version 4 does not move is returned as it is). */
export function toSchema4(path: KeyPath): string[] {
    const moved = path.length === 2 ? MOVED[path[0]]?.[path[1]] : undefined;
    return moved ? ["plugins", moved[0], moved[1]] : [...path];
}
