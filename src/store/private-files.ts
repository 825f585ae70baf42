import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * The data directory holds the database and the secret key: only calpush's own user may
 * read it. Files and directories are created with owner-only modes (the umask can only take
 * bits away from those), and ones left looser by an earlier version are narrowed at start.
 */
const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;
/** Any permission for the group or others. */
const SHARED_BITS = 0o077;
/** A shared directory such as /tmp: never narrowed, whoever runs calpush. */
const STICKY = 0o1000;

/** Makes the directory (and missing parents) 0700, or narrows it to 0700 if it is looser. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_DIR });
  const { mode } = statSync(dir);
  if ((mode & SHARED_BITS) !== 0 && (mode & STICKY) === 0) narrow(dir, OWNER_ONLY_DIR);
}

/** Creates the file empty with mode 0600 if it is missing, or narrows it to 0600. */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', OWNER_ONLY_FILE));
  narrowFile(file);
}

/** Narrows a file to 0600 if it exists and is looser; a missing file is left missing. */
export function narrowFile(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & SHARED_BITS) !== 0) narrow(file, OWNER_ONLY_FILE);
}

function narrow(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    // Another user's directory calpush may write to but not change: left as its owner set it.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}
