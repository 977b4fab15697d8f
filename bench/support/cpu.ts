/**
 * CPU time, to say where a benchmark's wall time went: a process's (every thread of it, from
 * /proc/PID/stat) and the whole machine's (/proc/stat), in seconds. Read twice, subtracted.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

/** user + system seconds of a process so far, all its threads */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name may hold spaces: fields count from after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

export interface MachineCpu {
  /** seconds some CPU was busy, summed over CPUs */
  busy: number;
  /** seconds of CPU time that passed, summed over CPUs */
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICK, total: (busy + idle + iowait) / TICK };
}

export function cpuCount(): number {
  return availableParallelism();
}

/** used_cpu_user + used_cpu_sys of a Redis server, from INFO cpu */
export function redisCpuSeconds(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}
