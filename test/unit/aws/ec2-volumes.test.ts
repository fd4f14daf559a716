import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEc2Transport, createInstanceTagPort, createVolumePort, ec2Error, encodeQuery, NodeSha256, retryDelayMs } from '../../../lib/aws/ec2-volumes';
import { ec2Endpoint } from '../../../lib/config/ec2-endpoint';
import type { VolumePort } from '../../../lib/ports/ec2-volumes';
import { AwsCallError, ConfigurationError } from '../../../lib/errors';
import { recordingLog } from './helpers';

/**
 * The EC2 port against a local HTTP server that answers recorded EC2 XML
 * (shapes from the EC2 API reference and moto's answers): what is sent
 * (signed form POST) and how answers and errors are read.
 */
interface Seen { readonly params: URLSearchParams; readonly headers: IncomingMessage['headers'] }
type Answer = { status: number; body: string };

let server: Server;
let url: string;
let seen: Seen[] = [];
let answers: Answer[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      seen.push({ params: new URLSearchParams(body), headers: req.headers });
      const answer = answers.shift() ?? { status: 500, body: 'no answer queued' };
      res.writeHead(answer.status, { 'content-type': 'text/xml' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen = [];
  answers = [];
});

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const VOL = 'vol-0123456789abcdef0';
const INSTANCE = 'i-0abc1234def567890';

function port(dryRun = false): { volumes: VolumePort; log: ReturnType<typeof recordingLog>; sleeps: number[] } {
  const sleeps: number[] = [];
  const call = createEc2Transport({ region: 'eu-west-1', url }, { credentials: CREDS, sleep: async (ms) => { sleeps.push(ms); } });
  const log = recordingLog();
  return { volumes: createVolumePort(call, { dryRun, log }), log, sleeps };
}

const ok = (body: string): Answer => ({ status: 200, body });
const error = (status: number, code: string, message: string): Answer => ({
  status,
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`,
});

const VOLUMES_XML = (items: string, next = '') => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <volumeSet>${items}</volumeSet>${next ? `\n   <nextToken>${next}</nextToken>` : ''}
</DescribeVolumesResponse>`;
const volumeItem = (id: string, size: number, instance = INSTANCE, device = '/dev/sdf') => `
      <item>
         <volumeId>${id}</volumeId>
         <size>${size}</size>
         <snapshotId/>
         <availabilityZone>eu-west-1a</availabilityZone>
         <status>in-use</status>
         <createTime>2026-11-20T10:00:00.000Z</createTime>
         <attachmentSet>
            <item>
               <volumeId>${id}</volumeId>
               <instanceId>${instance}</instanceId>
               <device>${device}</device>
               <status>attached</status>
               <attachTime>2026-11-20T10:00:05.000Z</attachTime>
               <deleteOnTermination>true</deleteOnTermination>
            </item>
         </attachmentSet>
         <volumeType>gp3</volumeType>
         <encrypted>true</encrypted>
      </item>`;
const MODIFY_XML = (state: string) => `<ModifyVolumeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>5jkdf074-37ed-4004-8671-a78ee82bf1cbEXAMPLE</requestId>
    <volumeModification>
        <targetIops>3000</targetIops>
        <originalIops>3000</originalIops>
        <modificationState>${state}</modificationState>
        <targetSize>200</targetSize>
        <targetVolumeType>gp3</targetVolumeType>
        <volumeId>${VOL}</volumeId>
        <progress>0</progress>
        <startTime>2026-11-21T10:00:00.000Z</startTime>
        <originalSize>100</originalSize>
        <originalVolumeType>gp3</originalVolumeType>
    </volumeModification>
</ModifyVolumeResponse>`;
const MODS_XML = (items: string) => `<DescribeVolumesModificationsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>5jkdf074-37ed-4004-8671-a78ee82bf1cbEXAMPLE</requestId>
    <volumeModificationSet>${items}</volumeModificationSet>
</DescribeVolumesModificationsResponse>`;
const modItem = (state: string, start: string, target = 200, message = '') => `
        <item>
            <modificationState>${state}</modificationState>
            <targetSize>${target}</targetSize>
            <volumeId>${VOL}</volumeId>
            <progress>40</progress>
            <startTime>${start}</startTime>
            <originalSize>100</originalSize>${message ? `\n            <statusMessage>${message}</statusMessage>` : ''}
        </item>`;

describe('the signed request', () => {
  it('POSTs Action, Version and the filters as a SigV4-signed form (service ec2, the region)', async () => {
    answers.push(ok(VOLUMES_XML(volumeItem(VOL, 100))));
    await port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf');
    const [request] = seen;
    expect(Object.fromEntries(request!.params)).toEqual({
      Action: 'DescribeVolumes',
      Version: '2016-11-15',
      'Filter.1.Name': 'attachment.instance-id',
      'Filter.1.Value.1': INSTANCE,
      'Filter.2.Name': 'attachment.device',
      'Filter.2.Value.1': '/dev/sdf',
    });
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ec2\/aws4_request, SignedHeaders=([a-z0-9-]+;)*host(;[a-z0-9-]+)*, Signature=[0-9a-f]{64}$/);
    expect(request!.headers.authorization).toContain('content-type');
    expect(request!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('NodeSha256 gives the known SHA-256 and HMAC-SHA256 digests', async () => {
    const plain = new NodeSha256();
    plain.update('abc');
    expect(Buffer.from(await plain.digest()).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // RFC 4231 test case 2
    const keyed = new NodeSha256('Jefe');
    keyed.update('what do ya want for nothing?');
    expect(Buffer.from(await keyed.digest()).toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('encodes the form the way SigV4 canonicalises it', () => {
    expect(encodeQuery([['a b', "x!'()*/"]])).toBe('a%20b=x%21%27%28%29%2A%2F');
  });
});

describe('findAttachedVolume', () => {
  it('reads the volume: id, size, state, zone, attachments', async () => {
    answers.push(ok(VOLUMES_XML(volumeItem(VOL, 100))));
    expect(await port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf')).toEqual({
      volumeId: VOL, sizeGiB: 100, state: 'in-use', zone: 'eu-west-1a', volumeType: 'gp3',
      attachments: [{ instanceId: INSTANCE, device: '/dev/sdf', state: 'attached' }],
    });
  });

  it('is undefined when nothing is attached there', async () => {
    answers.push(ok(VOLUMES_XML('')));
    expect(await port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf')).toBeUndefined();
  });

  it('follows nextToken', async () => {
    answers.push(ok(VOLUMES_XML('', 'page-2')), ok(VOLUMES_XML(volumeItem(VOL, 100))));
    expect((await port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf'))?.volumeId).toBe(VOL);
    expect(seen[1]!.params.get('NextToken')).toBe('page-2');
  });

  it('ignores a volume whose matching attachment is another pair (filters match per volume)', async () => {
    answers.push(ok(VOLUMES_XML(volumeItem(VOL, 100, 'i-0fff1234def567890', '/dev/sdf'))));
    expect(await port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf')).toBeUndefined();
  });

  it.each([
    ['i-nope', '/dev/sdf', /not an instance id/],
    [INSTANCE, 'sdf', /not a block device name/],
    [INSTANCE, '/dev/sdf; rm', /not a block device name/],
  ])('refuses %s at %s before sending', async (instance, device, message) => {
    await expect(port().volumes.findAttachedVolume(instance, device)).rejects.toThrow(message);
    expect(seen).toHaveLength(0);
  });

  it('refuses an answer without a size', async () => {
    answers.push(ok(VOLUMES_XML(volumeItem(VOL, 100).replace('<size>100</size>', ''))));
    await expect(port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf')).rejects.toThrow(/<size> is not a whole number/);
  });

  it('refuses a truncated answer', async () => {
    answers.push(ok(VOLUMES_XML(volumeItem(VOL, 100)).slice(0, 200)));
    await expect(port().volumes.findAttachedVolume(INSTANCE, '/dev/sdf')).rejects.toThrow(/malformed XML/);
  });
});

describe('modifyVolumeSize', () => {
  it('sends VolumeId and Size and reads the modification', async () => {
    answers.push(ok(MODIFY_XML('modifying')));
    const modification = await port().volumes.modifyVolumeSize(VOL, 200);
    expect(seen[0]!.params.get('Action')).toBe('ModifyVolume');
    expect(seen[0]!.params.get('VolumeId')).toBe(VOL);
    expect(seen[0]!.params.get('Size')).toBe('200');
    expect(modification).toEqual({ volumeId: VOL, state: 'modifying', targetSizeGiB: 200, originalSizeGiB: 100, progress: 0, startTime: '2026-11-21T10:00:00.000Z' });
  });

  it('in dry run logs what it would send and sends nothing', async () => {
    const { volumes, log } = port(true);
    expect(await volumes.modifyVolumeSize(VOL, 200)).toMatchObject({ dryRun: true, targetSizeGiB: 200 });
    expect(seen).toHaveLength(0);
    expect(log.infos[0]).toEqual(['dry run: would ModifyVolume', expect.objectContaining({ volumeId: VOL, sizeGiB: 200, dryRun: true })]);
  });

  it('turns an EC2 error into AwsCallError with code and message', async () => {
    answers.push(error(400, 'IncorrectModificationState', `Cannot modify volume ${VOL} as it is in an 'optimizing' state.`));
    const failure = await port().volumes.modifyVolumeSize(VOL, 200).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsCallError);
    expect((failure as AwsCallError).message).toBe(`ModifyVolume: IncorrectModificationState: Cannot modify volume ${VOL} as it is in an 'optimizing' state.`);
    expect((failure as { code?: string }).code).toBe('IncorrectModificationState');
    expect(seen).toHaveLength(1);
  });

  it('sends again when throttled, not after a 5xx (the modification may have started)', async () => {
    answers.push(error(503, 'RequestLimitExceeded', 'Request limit exceeded.'), ok(MODIFY_XML('modifying')));
    const { volumes, sleeps } = port();
    expect((await volumes.modifyVolumeSize(VOL, 200)).state).toBe('modifying');
    expect(seen).toHaveLength(2);
    expect(sleeps).toHaveLength(1);


    seen = [];
    answers.push(error(500, 'InternalError', 'An internal error has occurred'), ok(MODIFY_XML('modifying')));
    await expect(volumes.modifyVolumeSize(VOL, 200)).rejects.toThrow('ModifyVolume: InternalError: An internal error has occurred');
    expect(seen).toHaveLength(1);
    answers = [];
  });

  it.each([[0], [1.5], [70000]])('refuses size %p', async (size) => {
    await expect(port().volumes.modifyVolumeSize(VOL, size)).rejects.toThrow(/whole number of GiB/);
  });

  it('refuses a bad volume id', async () => {
    await expect(port().volumes.modifyVolumeSize('vol-x; drop', 200)).rejects.toThrow(/not a volume id/);
  });

  it('refuses an unknown modification state', async () => {
    answers.push(ok(MODIFY_XML('exploding')));
    await expect(port().volumes.modifyVolumeSize(VOL, 200)).rejects.toThrow(/unknown modificationState "exploding"/);
  });
});

describe('latestModification', () => {
  it('is the latest by start time', async () => {
    answers.push(ok(MODS_XML(modItem('completed', '2026-11-01T10:00:00.000Z', 150) + modItem('optimizing', '2026-11-21T10:00:00.000Z'))));
    expect(await port().volumes.latestModification(VOL)).toMatchObject({ state: 'optimizing', targetSizeGiB: 200, progress: 40 });
    expect(seen[0]!.params.get('VolumeId.1')).toBe(VOL);
  });

  it('keeps the failure message', async () => {
    answers.push(ok(MODS_XML(modItem('failed', '2026-11-21T10:00:00.000Z', 200, 'Volume size exceeds the limit'))));
    expect(await port().volumes.latestModification(VOL)).toMatchObject({ state: 'failed', statusMessage: 'Volume size exceeds the limit' });
  });

  it.each([
    ['an empty set', ok(MODS_XML(''))],
    ['InvalidVolumeModification.NotFound', error(400, 'InvalidVolumeModification.NotFound', `Modification for volume '${VOL}' does not exist.`)],
  ])('is undefined for a never-modified volume (%s)', async (_case, answer) => {
    answers.push(answer);
    expect(await port().volumes.latestModification(VOL)).toBeUndefined();
  });
});

describe('describeVolume', () => {
  it('is undefined for InvalidVolume.NotFound', async () => {
    answers.push(error(400, 'InvalidVolume.NotFound', `The volume '${VOL}' does not exist.`));
    expect(await port().volumes.describeVolume(VOL)).toBeUndefined();
  });

  it('retries reads on 5xx, bounded', async () => {
    for (let i = 0; i < 6; i += 1) answers.push(error(500, 'InternalError', 'An internal error has occurred'));
    const { volumes, sleeps } = port();
    await expect(volumes.describeVolume(VOL)).rejects.toThrow('DescribeVolumes: InternalError: An internal error has occurred');
    expect(seen).toHaveLength(5);
    expect(sleeps).toHaveLength(4);
  });
});

describe('retry delays', () => {
  it('are drawn between 0 and the capped exponential delay (full jitter), so throttled callers do not retry in step', () => {
    // attempt 2 caps at 400 ms, 3 at 800, 4 at 1600, 5 at 3200, then 5 s
    expect([2, 3, 4, 5, 6, 9].map((attempt) => retryDelayMs(attempt, () => 0.999999))).toEqual([399, 799, 1599, 3199, 4999, 4999]);
    expect(retryDelayMs(4, () => 0)).toBe(0);
    expect(retryDelayMs(4, () => 0.5)).toBe(800);
  });

  it('two transports throttled together wait different times before their retries', async () => {
    const draws = [0.1, 0.9];
    const waits: number[] = [];
    for (const draw of draws) {
      answers.push(error(503, 'RequestLimitExceeded', 'Request limit exceeded.'), ok(VOLUMES_XML('')));
      const call = createEc2Transport({ region: 'eu-west-1', url }, { credentials: CREDS, sleep: async (ms) => { waits.push(ms); }, random: () => draw });
      await createVolumePort(call, { dryRun: false, log: recordingLog() }).describeVolume(VOL);
    }
    expect(waits).toEqual([40, 360]);
  });
});

describe('ec2Error', () => {
  it('keeps a non-XML body as the message', () => {
    const e = ec2Error('DescribeVolumes', 502, '<html>Bad gateway</html>');
    expect(e.message).toBe('DescribeVolumes: HTTP502: <html>Bad gateway</html>');
  });
});

describe('tagInstance (CreateTags)', () => {
  const tagPort = (dryRun = false) => {
    const call = createEc2Transport({ region: 'eu-west-1', url }, { credentials: CREDS, sleep: async () => undefined });
    const log = recordingLog();
    return { tags: createInstanceTagPort(call, { dryRun, log }), log };
  };
  const CREATED = '<?xml version="1.0" encoding="UTF-8"?>\n<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId><return>true</return></CreateTagsResponse>';

  it('sends the instance and each tag as numbered Key/Value pairs', async () => {
    answers.push(ok(CREATED));
    await tagPort().tags.tagInstance(INSTANCE, { 'pydio-autoscaler:storage-state': 'joined', 'pydio-autoscaler:storage-state-since': '2026-11-21T10:00:00.000Z' });
    const p = seen[0]!.params;
    expect([p.get('Action'), p.get('ResourceId.1'), p.get('Tag.1.Key'), p.get('Tag.1.Value'), p.get('Tag.2.Key'), p.get('Tag.2.Value')]).toEqual([
      'CreateTags', INSTANCE, 'pydio-autoscaler:storage-state', 'joined', 'pydio-autoscaler:storage-state-since', '2026-11-21T10:00:00.000Z',
    ]);
  });

  it('in dry run logs what it would send and sends nothing', async () => {
    const { tags, log } = tagPort(true);
    await tags.tagInstance(INSTANCE, { 'pydio-autoscaler:storage-state': 'joined' });
    expect(seen).toHaveLength(0);
    expect(log.infos[0]).toEqual(['dry run: would CreateTags', expect.objectContaining({ instanceId: INSTANCE, dryRun: true })]);
  });

  it.each<[string, string, Record<string, string>, RegExp]>([
    ['not an instance id', 'vol-1', { a: 'b' }, /not an instance id/],
    ['no tag', INSTANCE, {}, /1 to 10 tags/],
    ['a reserved aws: key', INSTANCE, { 'aws:autoscaling:groupName': 'x' }, /not allowed/],
    ['a reserved key in any case (AWS:)', INSTANCE, { 'AWS:x': 'y' }, /not allowed/],
    ['a reserved aws: value', INSTANCE, { k: 'Aws:x' }, /reserved/],
    ['a value over 255 characters', INSTANCE, { k: 'x'.repeat(256) }, /longer than 255/],
  ])('refuses %s before sending anything', async (_name, id, tags, message) => {
    await expect(tagPort().tags.tagInstance(id, tags)).rejects.toThrow(message);
    expect(seen).toHaveLength(0);
  });

  it('turns an EC2 refusal into AwsCallError with its code', async () => {
    answers.push(error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const failure = await tagPort().tags.tagInstance(INSTANCE, { 'pydio-autoscaler:storage-state': 'joined' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AwsCallError);
    expect(String((failure as Error).message)).toContain('UnauthorizedOperation');
  });
});
