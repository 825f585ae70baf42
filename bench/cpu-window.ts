/**
 * Where the machine's CPU went while a scenario ran: each named group of processes (the
 * receiver, the nodes, PostgreSQL's backends), what else ran, and the machine's idle and
 * stolen time, from /proc. On a machine shared by the receiver, the nodes and the database,
 * this is what says which of them bounds a rate.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cpuSecondsOf } from './context.ts';

/** Process ids by group name, looked up at the window's start and again at its end. */
export type ProcessGroups = () => Promise<Record<string, readonly number[]>>;

interface MachineTimes {
  readonly busy: number;
  readonly idle: number;
  readonly steal: number;
}

/** The machine's CPU seconds so far, all cores, from the first line of /proc/stat. */
function machineTimes(): MachineTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1)
    .map((v) => Number(v) / 100);
  return {
    busy: user! + nice! + system! + irq! + softirq!,
    idle: idle! + iowait!,
    steal: steal ?? 0,
  };
}

interface ProcessTimes {
  readonly cpu: number;
  /** Seconds its main thread was ready to run but waited for a core (/proc/PID/schedstat). */
  readonly waited: number;
  /** Times its main thread was given a core. */
  readonly runs: number;
}

function timesOf(pid: number): ProcessTimes {
  try {
    const [, waitedNs, runs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { cpu: cpuSecondsOf(pid), waited: Number(waitedNs) / 1e9, runs: Number(runs) };
  } catch {
    return { cpu: 0, waited: 0, runs: 0 }; // gone, or not ours to read
  }
}

/** PostgreSQL's processes on this machine (every database's, and its own workers). */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') {
        pids.push(Number(entry));
      }
    } catch {
      // ended while listed
    }
  }
  return pids;
}

export interface CpuShares {
  readonly wallSeconds: number;
  /**
   * CPU seconds per group, and seconds its processes were ready to run but waited for a
   * core; a process in two groups counts in the first.
   */
  readonly groups: readonly {
    readonly name: string;
    readonly seconds: number;
    readonly waited: number;
    /** Times its processes were given a core. */
    readonly runs: number;
  }[];
  /** Busy CPU seconds of the whole machine not in any group (other helpers, the bench). */
  readonly elsewhere: number;
  readonly idle: number;
  readonly steal: number;
  readonly cores: number;
  readonly loadAverage: number;
}

export class CpuWindow {
  readonly #groups: ProcessGroups;
  readonly #startTimes: Map<number, ProcessTimes>;
  readonly #startMachine: MachineTimes;
  readonly #startedAt: number;

  private constructor(groups: ProcessGroups, startTimes: Map<number, ProcessTimes>) {
    this.#groups = groups;
    this.#startTimes = startTimes;
    this.#startMachine = machineTimes();
    this.#startedAt = performance.now();
  }

  static async open(groups: ProcessGroups): Promise<CpuWindow> {
    const pids = Object.values(await groups()).flat();
    return new CpuWindow(groups, new Map(pids.map((pid) => [pid, timesOf(pid)])));
  }

  /**
   * Closes the window. A process that ended inside it is not counted (a pool closing an idle
   * connection's backend, say); one that started inside it counts from zero.
   */
  async close(cores: number): Promise<CpuShares> {
    const groups = await this.#groups();
    const machine = machineTimes();
    const wallSeconds = (performance.now() - this.#startedAt) / 1000;
    const seen = new Set<number>();
    const shares = Object.entries(groups).map(([name, pids]) => {
      let seconds = 0;
      let waited = 0;
      let runs = 0;
      for (const pid of pids) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        const now = timesOf(pid);
        const then = this.#startTimes.get(pid) ?? { cpu: 0, waited: 0, runs: 0 };
        seconds += Math.max(0, now.cpu - then.cpu);
        waited += Math.max(0, now.waited - then.waited);
        runs += Math.max(0, now.runs - then.runs);
      }
      return { name, seconds, waited, runs };
    });
    const busy = machine.busy - this.#startMachine.busy;
    const inGroups = shares.reduce((sum, s) => sum + s.seconds, 0);
    return {
      wallSeconds,
      groups: shares,
      elsewhere: Math.max(0, busy - inGroups),
      idle: machine.idle - this.#startMachine.idle,
      steal: machine.steal - this.#startMachine.steal,
      cores,
      loadAverage: loadavg()[0]!,
    };
  }
}

/**
 * Two lines: each group's CPU seconds and share of the machine's cores over the window, and
 * how long each waited, ready to run, for a core (a rate bound by CPU shows here, a rate
 * bound by locks or round trips does not).
 */
export function describeShares(s: CpuShares): string[] {
  const capacity = s.wallSeconds * s.cores;
  const pct = (seconds: number) => `${Math.round((100 * seconds) / Math.max(1e-9, capacity))} %`;
  const parts = [
    ...s.groups.map((g) => `${g.name} ${g.seconds.toFixed(2)} s (${pct(g.seconds)})`),
    `other processes ${s.elsewhere.toFixed(2)} s (${pct(s.elsewhere)})`,
    `idle ${pct(s.idle)}`,
    ...(s.steal > 0.005 ? [`stolen by the hypervisor ${pct(s.steal)}`] : []),
  ];
  return [
    `CPU over ${s.wallSeconds.toFixed(1)} s on ${s.cores} cores (load average ${s.loadAverage.toFixed(1)}): ` +
      parts.join(', '),
    'ready to run but waiting for a core (in all, and per time given one): ' +
      s.groups
        .map(
          (g) =>
            `${g.name} ${g.waited.toFixed(2)} s, ${((1000 * g.waited) / Math.max(1, g.runs)).toFixed(2)} ms`,
        )
        .join('; '),
  ];
}
