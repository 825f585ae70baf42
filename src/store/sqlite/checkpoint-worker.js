// Plain JavaScript on purpose: a .ts worker would load the TypeScript stripper into a second
// V8 isolate, adding megabytes of memory for a dozen lines.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';

/*
 * Runs WAL checkpoints on a connection of its own, in its own thread. A checkpoint copies
 * the WAL into the database file and syncs it to disk; run by the main connection, that sync
 * stalls every request and delivery behind the commit that happened to trigger it.
 */
const { file, everyMs } = workerData;
let db;
try {
  db = new DatabaseSync(file);
  db.exec('PRAGMA busy_timeout = 1000');
} catch {
  // The store was closed (or removed) before this thread started: nothing to do.
  parentPort?.close();
}

function checkpoint() {
  try {
    // PASSIVE never waits for the writer: whatever is not copied now is copied next time.
    db?.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next round catches up.
  }
}

const timer = db ? setInterval(checkpoint, everyMs) : undefined;
parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  try {
    db?.close();
  } catch {
    // Already gone.
  }
  parentPort?.close();
});
