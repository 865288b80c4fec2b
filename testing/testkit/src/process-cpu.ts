// A process's CPU and the process behind a local port, from /proc: what the benches count.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface ProcessCpu {
  userMs: number;
  systemMs: number;
}

/** utime and stime of the whole process (every thread), in ms, from /proc/<pid>/stat. */
export function cpuOf(pid: number): ProcessCpu {
  return statCpu(`/proc/${pid}/stat`);
}

/** utime and stime, in ms, of a /proc stat file (a process's, or one thread's under task/). */
function statCpu(path: string): ProcessCpu {
  const stat = readFileSync(path, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    userMs: (Number(fields[11]) * 1000) / clockTicks,
    systemMs: (Number(fields[12]) * 1000) / clockTicks,
  };
}

/** utime + stime of the whole process, in ms. */
export const cpuMsOf = (pid: number): number => {
  const { userMs, systemMs } = cpuOf(pid);
  return userMs + systemMs;
};

/** The process listening on 127.0.0.1:port on this machine, if /proc shows it (a JVM listens on
 * an IPv6 socket, 127.0.0.1 mapped, so tcp6 is read too). */
export function pidListeningOn(port: number): number | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (local?.endsWith(`0100007F${suffix}`) && state === '0A') inodes.add(inode!);
    }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(entry);
      }
    } catch {}
  }
  return undefined;
}

/**
 * CPU of each of a process's threads, in ms, by thread name (/proc/<pid>/task/<tid>/comm, which the
 * kernel cuts at 15 characters; threads of one name are summed). Threads that ended are not seen.
 */
export function threadCpuOf(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const { userMs, systemMs } = statCpu(`/proc/${pid}/task/${tid}/stat`);
      byName.set(name, (byName.get(name) ?? 0) + userMs + systemMs);
    } catch {}
  }
  return byName;
}
