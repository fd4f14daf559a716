import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { STATUS_STEPS } from '../../lib/core/storage/status-frame';

interface Parameter {
  type: string;
  description?: string;
  default?: string;
  allowedPattern?: string;
  allowedValues?: string[];
  interpolationType?: string;
}
interface Step {
  action: string;
  name: string;
  inputs: { runCommand?: string[]; runCommandFile?: string; timeoutSeconds?: string };
}
interface Content {
  schemaVersion: string;
  description: string;
  parameters: Record<string, Parameter>;
  mainSteps: Step[];
}
interface RenderModule {
  documents: Record<Key, { name: string; content: Content }>;
  renderDocument(ymlPath: string): Content;
  DOCUMENT_FILES: Record<string, string>;
}

const DIR = join(__dirname, '..', '..', 'ssm-documents');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const render = require(join(DIR, 'render.js')) as RenderModule;

/** The contract with the Lambda (lib/usecases/compute/*-flow.ts, lib/usecases/storage/*-flow.ts) and the sandbox. */
const CONTRACT = {
  mountVolumes: {
    name: 'pydio-mount-volumes',
    steps: { mountVolumes: 'mount-volumes.sh' },
    parameters: ['ConfigVolume', 'DataVolume', 'Servers', 'ConfigMount', 'DataMount'],
  },
  configureApp: {
    name: 'pydio-configure-app',
    steps: { installHealthCheck: 'install-health-check.sh', configure: 'configure-app.sh', checkHealth: 'check-health.sh' },
    parameters: ['AppRoot', 'ConfigMount', 'DataMount', 'WebUser', 'WebService', 'AppPort', 'KeepAliveTimeout'],
  },
  drainNode: {
    name: 'pydio-drain-node',
    steps: { drainNode: 'drain-node.sh' },
    parameters: ['ConfigMount', 'DataMount', 'WebService'],
  },
  storagePrepareBrick: {
    name: 'storage-prepare-brick',
    steps: { prepareBrick: 'storage-prepare-brick.sh' },
    parameters: ['Device', 'BrickRoot', 'Volumes'],
  },
  storagePeerProbe: {
    name: 'storage-peer-probe',
    steps: { peerProbe: 'storage-peer-probe.sh' },
    parameters: ['Peers'],
  },
  storageGlusterStatus: {
    name: 'storage-gluster-status',
    steps: {
      glusterStatus: 'storage-gluster-status.sh',
      ...Object.fromEntries(STATUS_STEPS.slice(1).map((step) => [step, 'storage-gluster-status-part.sh'])),
    },
    parameters: ['Volumes', 'Encoding', 'ReadId'],
  },
  storageGlusterCommand: {
    name: 'storage-gluster-command',
    steps: { glusterCommand: 'storage-gluster-command.sh' },
    parameters: ['Action', 'Volume', 'Replica', 'Arbiter', 'Bricks', 'Force', 'Peer', 'Option', 'Value'],
  },
  storageGrowBrick: {
    name: 'storage-grow-brick',
    steps: { growBrick: 'storage-grow-brick.sh' },
    parameters: ['BrickRoot', 'ExpectBytes'],
  },
} as const;
type Key = keyof typeof CONTRACT;
const KEYS = Object.keys(CONTRACT) as Key[];

const readScript = (file: string) => readFileSync(join(DIR, 'scripts', file), 'utf8');

/** Values every parameter must refuse (injection, whitespace, traversal, empty). */
const HOSTILE = ['x; rm -rf /', '$(id)', '`id`', 'a b', 'a\nb', '', ' ', '/mnt/pydio-config; reboot', 'a|b', 'a&&b', "a'b", 'a"b', '{{x}}'];

const PATH_GOOD = ['/mnt/pydio-config', '/mnt/pydio-data', '/var/www/pydio', '/srv/gluster_1/pydio.conf', '/data'];
const PATH_BAD = ['relative/path', '/mnt/../etc', '/mnt/..', '/..', '/mnt/./x', '/mnt/.hidden', '/', '/mnt/', '//mnt', '/mnt/a b', '/mnt/$HOME', `/${'a'.repeat(65)}`];

const TABLE: Record<string, { good: string[]; bad: string[] }> = {
  ConfigVolume: { good: ['pydio-config', 'cfg_1', 'V'], bad: ['-x', 'pydio.config', 'a/b', 'a'.repeat(65)] },
  DataVolume: { good: ['pydio-data', 'data2'], bad: ['_x', 'a:b', 'vol,2'] },
  Servers: {
    good: ['10.0.1.10', '10.0.1.10,10.0.2.10', 'gluster-1.internal,gluster-2.internal,10.0.3.7', 'ip-10-0-1-10.eu-west-1.compute.internal', Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(',')],
    bad: ['10.0.1.10,', ',10.0.1.10', '10.0.1.10,,10.0.2.10', '10.0.1.10 10.0.2.10', '10.0.1.10, 10.0.2.10', '-host', 'host-', 'a..b', 'host:24007', Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}`).join(',')],
  },
  ConfigMount: { good: PATH_GOOD, bad: PATH_BAD },
  DataMount: { good: PATH_GOOD, bad: PATH_BAD },
  AppRoot: { good: PATH_GOOD, bad: PATH_BAD },
  WebUser: { good: ['www-data', 'apache', '_www', 'nginx'], bad: ['root:x', 'WWW', '1user', 'a'.repeat(33), 'www data'] },
  WebService: { good: ['apache2', 'httpd'], bad: ['nginx', 'apache2.service', 'apache2 ', 'httpd;id'] },
  AppPort: { good: ['80', '8080', '1', '65535', '443'], bad: ['0', '080', '65536', '99999', '-1', '80a', '8 0'] },
  Device: { good: ['', '/dev/nvme1n1', '/dev/xvdb', '/dev/disk/by-id/nvme-Amazon_EBS'], bad: ['/dev/../etc', 'xvdb', '/dev/', '/dev/sd b', '/dev/.x', '/tmp/x'] },
  BrickRoot: { good: PATH_GOOD, bad: PATH_BAD },
  Volumes: {
    good: ['pydio-config,pydio-data', 'pydio-data', 'a,b,c,d,e,f,g,h'],
    bad: ['pydio-config,', ',pydio-data', 'a,,b', 'a, b', 'a,b,c,d,e,f,g,h,i', 'pydio.data', '-x'],
  },
  Peers: {
    good: ['10.0.1.10', '10.0.1.10,10.0.2.10', Array.from({ length: 32 }, (_, i) => `10.0.0.${i + 1}`).join(',')],
    bad: ['10.0.1.10,', 'host.internal', '10.0.1', '10.0.1.10 10.0.2.10', Array.from({ length: 33 }, (_, i) => `10.0.0.${i + 1}`).join(',')],
  },
  Action: { good: ['add-brick', 'rebalance-start', 'replace-brick', 'remove-brick-commit', 'volume-create', 'peer-detach', 'volume-set'], bad: ['volume-delete', 'peer-probe', 'add-brick ', 'ADD-BRICK', 'add-brick;id', 'volume-reset'] },
  Volume: { good: ['pydio-config', 'pydio-data', 'V', '', 'all'], bad: ['-x', 'pydio.data', 'a/b', 'a'.repeat(65), 'a,b'] },
  Arbiter: { good: ['0', '1'], bad: ['2', '01', 'yes', '1 '] },
  Option: { good: ['', 'cluster.quorum-type', 'cluster.server-quorum-type', 'cluster.server-quorum-ratio'], bad: ['cluster.quorum-count', 'performance.readdir-ahead', 'clusterXquorum-type', 'cluster.quorum-type ', 'cluster.quorum-type;id'] },
  Value: { good: ['', 'auto', 'server', 'none', '51%', '75%', '100%'], bad: ['50%', '101%', '51', 'fixed', 'off', '0%', 'auto;id'] },
  Peer: { good: ['', '10.0.1.10', '255.255.255.255'], bad: ['10.0.1.10,10.0.2.10', 'host.internal', '10.0.1', '256.0.0.1', '10.0.1.10 ', '010.0.1.10', '10.0.1.10:24007'] },
  Replica: { good: ['0', '2', '3'], bad: ['10', '-1', '2a', 'two'] },
  Bricks: {
    good: ['', '10.0.1.10:/bricks/pydio-data/brick', '10.0.1.10:/bricks/pydio-data/brick,10.0.2.10:/bricks/pydio-data/brick'],
    bad: ['10.0.1.10:bricks', 'host:/bricks/x', '10.0.1.10:/bricks/../etc', '10.0.1.10:/bricks/x,', '10.0.1.10:/a b'],
  },
  Force: { good: ['yes', 'no'], bad: ['true', 'YES', 'force', 'no '] },
  KeepAliveTimeout: { good: ['65', '1', '4005', '9999'], bad: ['0', '065', '10000', '-1', '65s', '6 5'] },
  Encoding: { good: ['gzip-base64', 'plain'], bad: ['gzip', 'PLAIN', 'plain ', 'gzip-base64;id'] },
  ReadId: { good: ['manual', '0f8fad5b-d9cb-469f-a165-70867728950e', 'a'.repeat(64)], bad: ['a'.repeat(65), '../x', 'a/b', 'a b', 'a.b', 'a_b'] },
  ExpectBytes: { good: ['1', '214748364800', '1099511627776'], bad: ['0', '0100', '12GiB', '-1', '1e9', '12345678901234567'] },
};

/** Optional parameters whose empty value has a meaning (discover the device, no bricks, a pool action without volume, no peer, no option to set). */
const EMPTY_ALLOWED = new Set(['Device', 'Bricks', 'Volume', 'Peer', 'Option', 'Value']);

/** What AWS checks a value against: allowedValues when given, else allowedPattern. */
function accepts(p: Parameter): (value: string) => boolean {
  if (p.allowedValues) {
    const values = p.allowedValues;
    return (value) => values.includes(value);
  }
  const pattern = new RegExp(p.allowedPattern!);
  return (value) => pattern.test(value);
}

describe('SSM documents', () => {
  it('renders exactly the documents of the contract', () => {
    expect(Object.keys(render.documents).sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) expect(render.documents[key].name).toBe(CONTRACT[key].name);
  });

  // CreateDocument: "The content of the document must not exceed 64KB. This quota also
  // includes the content specified for input parameters at runtime" (MaxDocumentSizeExceeded).
  it.each(KEYS)('%s stays under 64 KB with room for its parameters at run time', (key) => {
    const bytes = Buffer.byteLength(JSON.stringify(render.documents[key].content), 'utf8');
    expect(bytes).toBeLessThan(64 * 1024 - 8 * 1024);
  });

  describe.each(KEYS)('%s', (key) => {
    const { content } = render.documents[key];
    const contract = CONTRACT[key];

    it('is a schema 2.2 Command document with the contract parameters, no more, no fewer', () => {
      expect(content.schemaVersion).toBe('2.2');
      expect(content.description.length).toBeGreaterThan(20);
      expect(Object.keys(content.parameters).sort()).toEqual([...contract.parameters].sort());
    });

    it('embeds each step script byte for byte (lines joined with \\n, plus the one final newline)', () => {
      expect(content.mainSteps.map((s) => s.name)).toEqual(Object.keys(contract.steps));
      for (const step of content.mainSteps) {
        const file = readScript(contract.steps[step.name as keyof typeof contract.steps]);
        expect(step.action).toBe('aws:runShellScript');
        expect(step.inputs.runCommandFile).toBeUndefined();
        expect(Array.isArray(step.inputs.runCommand)).toBe(true);
        // Trailing newline rule: the file ends with exactly one '\n', which is not a line.
        expect(file.endsWith('\n') && !file.endsWith('\n\n')).toBe(true);
        expect(`${step.inputs.runCommand!.join('\n')}\n`).toBe(file);
        expect(step.inputs.runCommand![step.inputs.runCommand!.length - 1]).not.toBe('');
        expect(Number(step.inputs.timeoutSeconds)).toBeGreaterThan(0);
      }
    });

    it('declares every parameter as a String with description, anchored allowedPattern (or allowedValues) and ENV_VAR', () => {
      for (const [name, p] of Object.entries(content.parameters)) {
        expect({ name, type: p.type, interpolationType: p.interpolationType }).toEqual({ name, type: 'String', interpolationType: 'ENV_VAR' });
        expect(p.description).toEqual(expect.any(String));
        if (p.allowedValues) {
          expect(p.allowedPattern).toBeUndefined();
          expect(p.allowedValues.length).toBeGreaterThan(0);
        } else {
          expect(p.allowedPattern).toMatch(/^\^.*\$$/);
        }
        if (p.default !== undefined) expect(accepts(p)(p.default)).toBe(true);
      }
    });

    it('has scripts that read only SSM_ variables of their own parameters', () => {
      for (const step of content.mainSteps) {
        const script = step.inputs.runCommand!.join('\n');
        const used = new Set([...script.matchAll(/\bSSM_([A-Za-z]+)\b/g)].map((m) => m[1]));
        for (const name of used) expect(contract.parameters).toContain(name);
      }
    });
  });

  describe('parameter patterns', () => {
    const params = KEYS.flatMap((key) =>
      Object.entries(render.documents[key].content.parameters).map(([name, p]) => ({
        doc: key,
        name,
        pattern: { test: accepts(p) },
        source: p.allowedValues ? `values:${p.allowedValues.join('|')}` : p.allowedPattern!,
      })),
    );

    it('has a table row for every parameter', () => {
      for (const { name } of params) expect(Object.keys(TABLE)).toContain(name);
    });

    it.each(params.flatMap(({ doc, name, pattern }) => HOSTILE.filter((value) => !(value === '' && EMPTY_ALLOWED.has(name))).map((value) => ({ doc, name, pattern, value, label: JSON.stringify(value), param: `${doc}.${name}` }))))(
      '$param refuses hostile value $label',
      ({ pattern, value }) => {
        expect(pattern.test(value)).toBe(false);
      },
    );

    it.each(params.flatMap(({ doc, name, pattern }) => TABLE[name].good.map((value) => ({ doc, name, pattern, value, label: JSON.stringify(value), param: `${doc}.${name}` }))))(
      '$param accepts $label',
      ({ pattern, value }) => {
        expect(pattern.test(value)).toBe(true);
      },
    );

    it.each(params.flatMap(({ doc, name, pattern }) => TABLE[name].bad.map((value) => ({ doc, name, pattern, value, label: JSON.stringify(value), param: `${doc}.${name}` }))))(
      '$param refuses $label',
      ({ pattern, value }) => {
        expect(pattern.test(value)).toBe(false);
      },
    );

    it('gives a parameter shared by several documents the same pattern everywhere', () => {
      const byName = new Map<string, Set<string>>();
      for (const { name, source } of params) byName.set(name, (byName.get(name) ?? new Set()).add(source));
      for (const [, patterns] of byName) expect(patterns.size).toBe(1);
    });
  });

  describe('scripts', () => {
    const scripts = readdirSync(join(DIR, 'scripts')).filter((f) => f.endsWith('.sh'));

    it('are all used by a document', () => {
      const used = KEYS.flatMap((key) => Object.values(CONTRACT[key].steps) as string[]);
      expect(scripts.sort()).toEqual([...new Set(used)].sort());
    });

    it.each(scripts)('%s starts with the bash shebang and the strict mode line', (file) => {
      const lines = readScript(file).split('\n');
      expect(lines[0]).toBe('#!/usr/bin/env bash');
      expect(lines[1]).toBe('set -o errexit -o nounset -o pipefail');
    });

    it.each(scripts)('%s contains no {{ }} interpolation', (file) => {
      expect(readScript(file)).not.toContain('{{');
    });
  });

  describe('renderDocument', () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = jest.requireActual<typeof import('fs')>('fs');
    const { tmpdir } = jest.requireActual<typeof import('os')>('os');
    const doc = (script: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'h1-render-'));
      mkdirSync(join(dir, 'scripts'));
      writeFileSync(join(dir, 'scripts', 'x.sh'), script);
      writeFileSync(
        join(dir, 'x.yml'),
        "schemaVersion: '2.2'\ndescription: d\nparameters: {}\nmainSteps:\n  - action: aws:runShellScript\n    name: s\n    inputs:\n      runCommandFile: scripts/x.sh\n",
      );
      return join(dir, 'x.yml');
    };

    it('splits a script into lines without the final newline', () => {
      const content = render.renderDocument(doc('#!/usr/bin/env bash\necho "a  b"\n\necho c\n'));
      expect(content.mainSteps[0].inputs).toEqual({ runCommand: ['#!/usr/bin/env bash', 'echo "a  b"', '', 'echo c'] });
    });

    it.each([
      ['no final newline', 'echo a', /must end with a newline/],
      ['two final newlines', 'echo a\n\n', /exactly one newline/],
      ['CRLF line endings', 'echo a\r\n', /CR characters/],
      ['SSM interpolation', 'echo {{ Name }}\n', /contains '\{\{'/],
    ])('refuses a script with %s', (_what, script, message) => {
      expect(() => render.renderDocument(doc(script))).toThrow(message);
    });

    it('names the missing script file', () => {
      const yml = doc('echo a\n');
      const { rmSync } = jest.requireActual<typeof import('fs')>('fs');
      rmSync(join(yml, '..', 'scripts', 'x.sh'));
      expect(() => render.renderDocument(yml)).toThrow(/cannot read script .*x\.sh/);
    });
  });
});

describe('documents with more than one step', () => {
  it('stop at a failed step (onFailure: exit) on every step but the last: SSM runs the next step after a failure otherwise', () => {
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yml'))) {
      const doc = render.renderDocument(join(DIR, file)) as unknown as { mainSteps: Array<{ name: string; inputs: { onFailure?: string } }> };
      for (const step of doc.mainSteps.slice(0, -1)) expect([file, step.name, step.inputs.onFailure]).toEqual([file, step.name, 'exit']);
    }
  });
});

describe('exit codes the SSM agent reserves', () => {
  // amazon-ssm-agent, agent/contracts/model.go: ExitWithSuccess 168, ExitWithFailure 169 end the
  // document after the step (runpluginutil.go: "Further document steps will be skipped").
  it('no script exits with 168 or 169', () => {
    for (const file of readdirSync(join(DIR, 'scripts')).filter((f) => f.endsWith('.sh'))) {
      expect([file, /\bexit\s+16[89]\b/.test(readFileSync(join(DIR, 'scripts', file), 'utf8'))]).toEqual([file, false]);
    }
  });
});
