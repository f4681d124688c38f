/** What a benchmark reads of a process tree from /proc. */
import * as fs from "fs";

const TICKS = 100; // USER_HZ on Linux

/**
 * Resident memory (bytes) of a process and all its descendants, by program name; records in
 * `cpuByPid` the CPU seconds each of them has used so far.
 */
export function treeRss(root: number, cpuByPid: Map<number, { name: string; seconds: number }>): Map<string, number> {
    const children = new Map<number, number[]>();
    const procs = new Map<number, { name: string; rss: number }>();
    for (const p of fs.readdirSync("/proc").filter(d => /^\d+$/.test(d))) {
        try {
            const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
            const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
            const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "?";
            procs.set(Number(p), { name, rss: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024 });
            children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
        } catch {
            // the process ended while being read
        }
    }
    const byName = new Map<string, number>();
    const stack = [root];
    while (stack.length) {
        const p = stack.pop()!;
        const proc = procs.get(p);
        if (proc) {
            byName.set(proc.name, (byName.get(proc.name) ?? 0) + proc.rss);
            try {
                // utime and stime: fields 14 and 15 of /proc/PID/stat, after the ")" of the name.
                const f = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
                cpuByPid.set(p, { name: proc.name, seconds: (Number(f[11]) + Number(f[12])) / TICKS });
            } catch {
                // ended
            }
        }
        stack.push(...(children.get(p) ?? []));
    }
    return byName;
}
