#!/usr/bin/env node
// The CLI is TypeScript run by Node's own type stripping, which needs Node >= 22.18.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `calpush needs Node 24 (found ${process.version}). Run it through npm so the pinned Node is ` +
      'used: `npx calpush ...` or `npm start`.',
  );
  process.exit(1);
}

/** glibc's allocator settings for a long-running server, unless the operator chose their own. */
const MALLOC_SETTINGS = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '0' };
const MALLOC_KNOBS = [...Object.keys(MALLOC_SETTINGS), 'GLIBC_TUNABLES'];
/** Set on the restart: a loader that strips the settings (secure mode) must not loop. */
const RESTARTED = 'CALPUSH_ALLOCATOR_SET';

/**
 * By default glibc gives each thread that allocates an arena of its own (up to 8 per core)
 * and keeps freed memory for reuse: the memory V8's background threads use to compile stays
 * resident after a burst of work (~15 MB once the HTTP client's parser is first optimised,
 * ~13 MB of an idle server). Two arenas, trimmed on every free, give it back to the system.
 * glibc reads these only when a process starts, so `serve` starts itself again, in place
 * (same process id, nothing else has run yet); other C libraries ignore them. Not when a
 * parent talks to this process over IPC (fork, cluster, `--watch`): the channel would not
 * survive the exec. Nor under a permission model that forbids starting processes.
 */
function shouldRestartForAllocator() {
  return (
    process.platform === 'linux' &&
    typeof process.execve === 'function' &&
    process.argv[2] === 'serve' &&
    process.env[RESTARTED] === undefined &&
    MALLOC_KNOBS.every((name) => process.env[name] === undefined) &&
    process.channel === undefined &&
    process.env.NODE_UNIQUE_ID === undefined &&
    process.env.WATCH_REPORT_DEPENDENCIES === undefined &&
    (process.permission === undefined || process.permission.has('child'))
  );
}

if (shouldRestartForAllocator()) {
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, ...MALLOC_SETTINGS, [RESTARTED]: '1' },
  );
}

await import('../src/cli/main.ts');
