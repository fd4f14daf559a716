/**
 * Whether this machine can run the sandbox (root, namespaces, FUSE, the
 * packages), decided synchronously so a test file can skip with one line.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN_DIR } from '../../sandbox/hosts';

export function sandboxSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the sandbox hosts need network and mount namespaces)';
  const probe = spawnSync('bash', [path.join(BIN_DIR, 'preflight.sh')], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status === 0) return undefined;
  return (probe.stderr.trim().split('\n').pop() ?? '').replace(/^.*error: /, '') || 'the sandbox preflight failed';
}

/** `describe`, or `describe.skip` after printing why, once. */
export function describeWithSandbox(file: string): jest.Describe {
  const reason = sandboxSkipReason();
  if (reason === undefined) return describe;
  console.warn(`sandbox e2e (${file}) skipped: ${reason}`);
  return describe.skip;
}

/** Leftover check: names this sandbox made, still present? */
export function leftovers(bridge: string, stateDir: string): string[] {
  const found: string[] = [];
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  if (new RegExp(`\\b${bridge}\\b`).test(links)) found.push(`bridge ${bridge}`);
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  if (ps.includes(stateDir)) found.push(`process referencing ${stateDir}`);
  return found;
}
