import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { narrowFile, privateDir } from '../store/private-files.ts';

/**
 * `calpush.pid` in the data directory while a server runs: tools that must not work under a
 * live server (`store copy`) look for it. A file left by a crash names a process that is
 * gone, and counts for nothing.
 */
const PID_FILE = 'calpush.pid';

export function writePidFile(dataDir: string): () => void {
  const file = join(dataDir, PID_FILE);
  privateDir(dataDir);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  narrowFile(file);
  return () => rmSync(file, { force: true });
}

/** The pid of a server running on this data directory, if one is. */
export function runningServer(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: the process exists but is another user's; it is running all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
