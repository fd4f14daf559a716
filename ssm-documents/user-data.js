'use strict';
/**
 * The reference cluster's user data (serverless.yml, createCluster): a cloud-config
 * that embeds user-data/node-setup.sh UNCHANGED (a real file shellcheck and bats read)
 * and runs it once, at first boot, with the node's role.
 *
 *   bootcmd      (every boot, early: cloud-init's network stage, ordered before
 *                network-online.target, which the SSM Agent's unit starts after) holds the
 *                agent with a runtime mask until node-setup has written its done marker,
 *                so the lifecycle flows (which wait for the agent to be online) never send
 *                a document to a node still installing what the documents need;
 *   write_files  the script at /usr/local/sbin/pydio-autoscaler-node-setup (kept on the node
 *                for ops to read and re-run);
 *   runcmd       (first boot) the script with the role; it lifts the hold and starts the agent.
 *
 * Used by serverless.yml (`${file(./ssm-documents/user-data.js):oslsUserData.storage}`) and tests.
 */
const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');
const { escapeForOsls } = require('./render.js');

const SCRIPT = path.join(__dirname, 'user-data', 'node-setup.sh');
const INSTALLED_AT = '/usr/local/sbin/pydio-autoscaler-node-setup';
/** EC2: "User data is limited to 16 KB, in raw form, before it is base64-encoded." */
const USER_DATA_MAX_BYTES = 16 * 1024;
const ROLES = ['compute', 'storage'];

class UserDataError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UserDataError';
  }
}

/** The script as a node receives it, and the defaults the hold must agree with (read from the script, one source). */
function loadScript() {
  const text = fs.readFileSync(SCRIPT, 'utf8');
  if (!text.startsWith('#!/usr/bin/env bash\n')) throw new UserDataError(`${SCRIPT} must start with #!/usr/bin/env bash`);
  if (text.includes('\r')) throw new UserDataError(`${SCRIPT} has CR characters: use LF line endings`);
  if (!text.endsWith('\n') || text.endsWith('\n\n')) throw new UserDataError(`${SCRIPT} must end with exactly one newline`);
  const markerDir = /^MARKER_DIR=\$\{PAS_MARKER_DIR:-([^}]+)\}$/m.exec(text)?.[1];
  const units = /^AGENT_UNITS=\(([^)]+)\)$/m.exec(text)?.[1]?.trim().split(/\s+/);
  if (!markerDir || !units?.length) throw new UserDataError(`${SCRIPT} must define MARKER_DIR=\${PAS_MARKER_DIR:-...} and AGENT_UNITS=(...)`);
  return { text, marker: `${markerDir}/node-setup.done`, units };
}

/** The cloud-config user data of a node of `role`. */
function userData(role) {
  if (!ROLES.includes(role)) throw new UserDataError(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  const { text, marker, units } = loadScript();
  const hold = `test -e ${marker} || systemctl mask --runtime --now ${units.join(' ')} || true`;
  const config = {
    bootcmd: [['sh', '-c', hold]],
    write_files: [{ path: INSTALLED_AT, owner: 'root:root', permissions: '0755', content: text }],
    runcmd: [[INSTALLED_AT, role]],
  };
  const rendered = `#cloud-config\n# pydio-autoscaler ${role} node (ssm-documents/user-data.js)\n${yaml.dump(config, { lineWidth: -1, noRefs: true })}`;
  const bytes = Buffer.byteLength(rendered);
  if (bytes > USER_DATA_MAX_BYTES) throw new UserDataError(`${role} user data is ${bytes} bytes, above EC2's ${USER_DATA_MAX_BYTES}`);
  return rendered;
}

const rendered = Object.fromEntries(ROLES.map((role) => [role, userData(role)]));
const oslsUserData = Object.fromEntries(ROLES.map((role) => [role, escapeForOsls(rendered[role])]));

module.exports = { userData, rendered, oslsUserData, loadScript, INSTALLED_AT, USER_DATA_MAX_BYTES, UserDataError };
