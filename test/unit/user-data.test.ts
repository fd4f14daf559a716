/**
 * The reference cluster's user data (ssm-documents/user-data.js): a cloud-config that embeds
 * user-data/node-setup.sh unchanged, holds the SSM Agent until the script is done, runs the
 * script once with the node's role, and stays within EC2's 16 KB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { ENV_VAR_MIN_AGENT_VERSION } from '../../lib/core/decisions';

const DIR = join(__dirname, '..', '..', 'ssm-documents');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const userData = require(join(DIR, 'user-data.js')) as {
  rendered: Record<'compute' | 'storage', string>;
  oslsUserData: Record<'compute' | 'storage', string>;
  userData(role: string): string;
  INSTALLED_AT: string;
  USER_DATA_MAX_BYTES: number;
};
const SCRIPT = readFileSync(join(DIR, 'user-data', 'node-setup.sh'), 'utf8');

interface CloudConfig {
  bootcmd: string[][];
  write_files: { path: string; permissions: string; owner: string; content: string }[];
  runcmd: string[][];
}
const parsed = (role: 'compute' | 'storage') => load(userData.rendered[role]) as CloudConfig;

describe('reference cluster user data', () => {
  it.each(['compute', 'storage'] as const)('%s: a cloud-config that writes node-setup.sh unchanged and runs it once with the role', (role) => {
    const text = userData.rendered[role];
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const config = parsed(role);
    expect(config.write_files).toEqual([{ path: userData.INSTALLED_AT, owner: 'root:root', permissions: '0755', content: SCRIPT }]);
    expect(config.runcmd).toEqual([[userData.INSTALLED_AT, role]]);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(userData.USER_DATA_MAX_BYTES);
  });

  it('holds every agent unit the script starts, until the marker the script writes exists', () => {
    const markerDir = /^MARKER_DIR=\$\{PAS_MARKER_DIR:-([^}]+)\}$/m.exec(SCRIPT)![1];
    const units = /^AGENT_UNITS=\(([^)]+)\)$/m.exec(SCRIPT)![1]!.trim().split(/\s+/);
    expect(units).toEqual(['amazon-ssm-agent.service', 'snap.amazon-ssm-agent.amazon-ssm-agent.service']);
    expect(parsed('storage').bootcmd).toEqual([['sh', '-c', `test -e ${markerDir}/node-setup.done || systemctl mask --runtime --now ${units.join(' ')} || true`]]);
    expect(SCRIPT).toContain('>"$MARKER_DIR/node-setup.done"');
    for (const unit of units) expect(SCRIPT).toContain(unit.replace('.service', ''));
  });

  it('installs at least the agent version the product requires (ENV_VAR parameters)', () => {
    expect(/^MIN_AGENT_VERSION=(\S+)$/m.exec(SCRIPT)?.[1]).toBe(ENV_VAR_MIN_AGENT_VERSION);
  });

  it('escapes the script\'s ${...} for osls and nothing else', () => {
    expect(userData.oslsUserData.storage.replace(/\\\$\{/g, '${')).toBe(userData.rendered.storage);
    expect(userData.rendered.storage).toContain('${PAS_MARKER_DIR:-');
  });

  it('refuses a role it does not know', () => {
    expect(() => userData.userData('database')).toThrow('role must be one of compute, storage, got "database"');
  });
});
