import { NodeSpec } from "../spec";

/**
 * containerd.service. Delegate=yes lets containerd manage its shims' cgroups; KillMode=process
 * keeps running containers alive across a containerd restart (a config change must not kill pods).
 */
export function renderUnit(spec: NodeSpec): string {
    const u = spec.unit;
    return `# Managed by containerd-node (Pulumi).
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${spec.containerd.binDir}/containerd --config /etc/containerd/config.toml
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=${u.limitNOFILE}
TasksMax=${u.tasksMax}
OOMScoreAdjust=${u.oomScoreAdjust}

[Install]
WantedBy=multi-user.target
`;
}
