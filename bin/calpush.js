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
await import('../src/cli/main.ts');
