/**
 * The emulated AWS control plane: an HTTP server on 127.0.0.1 that forwards
 * every request to moto unchanged, except the ones moto cannot answer
 * (lifecycle hooks, Run Command, target health). Lambda code reaches it through
 * AWS_ENDPOINT_URL; the service is read from the SigV4 credential scope.
 *
 * IAM: once told the stack's functions (enforceIam), every request signed with
 * a function's key is first evaluated against that function's role as packaged
 * and refused as the service refuses (test/sandbox/iam); requests signed with
 * other keys (the sandbox's own setup and tests) are not checked.
 */
import { EventEmitter } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { clientConfig } from './aws-setup';
import { EventBus, type AwsEvent, type Delivery } from './event-bus';
import { LambdaInvokeApi, type InvokableFunctions } from './lambda-invoke';
import { pageFilterLogEvents } from './log-pages';
import { LifecycleService } from './lifecycle';
import { RunCommandService, type StepRun } from './run-command';
import { ScalingActivities } from './scaling-activities';
import { randomUUID } from 'node:crypto';
import { forwardBody, forwardRefusal, forwardRewrite } from './strict-forward';
import { exactStatistics } from './metric-statistics';
import { CloudWatchClient, type Dimension, type Statistic } from '@aws-sdk/client-cloudwatch';
import { VolumeModifications, type ModificationTimeline } from './volume-modifications';
import { TargetHealthService } from './target-health';
import type { DataPlane, HostExecutor, HostProvider } from './types';
import { ApiError, ec2QueryError, escapeXml, jsonError, jsonReply, NS, queryError, serviceOf, type Reply } from './wire';
import { IamEnforcer, motoLookup, type FunctionIdentity, type IamDecisionRecord } from '../iam/enforcer';
import { ACCOUNT_ID } from './aws-setup';
import { isThrottledService, Throttle, type ThrottledCall, type ThrottleSettings } from './throttle';

export interface Clock {
  now(): number;
}

export type Logger = (message: string, fields?: Record<string, unknown>) => void;

export interface ControlPlaneOptions {
  readonly motoUrl: string;
  readonly executor: HostExecutor;
  readonly dataPlane: DataPlane;
  readonly hosts: HostProvider;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** How often an undelivered command re-checks the agent (default 250 ms). */
  readonly agentPollMs?: number;
  /**
   * EBS ModifyVolume(Size) of a volume attached to an instance: called with the
   * instance and the new size BEFORE moto records it, so the disk behind the
   * volume (a sandbox storage host's loop device) is as large as EC2 says.
   */
  readonly volumeResized?: (instanceId: string, sizeGiB: number) => Promise<void>;
  /** How long an EBS modification stays modifying, then optimizing (default volume-modifications.ts DEFAULT_TIMELINE). */
  readonly volumeModificationTimeline?: ModificationTimeline;
  /**
   * Request-rate throttling per API (throttle.ts): always on with what AWS documents (EC2's and
   * ELBv2's token buckets); these rates are added to it (a call draws from every bucket that applies). A throttled call is
   * answered here with the service's own throttling error and never reaches moto or the front's own
   * emulations.
   */
  readonly throttle?: ThrottleSettings;
}

export interface JournalEntry {
  readonly event: AwsEvent;
  readonly deliveries: readonly Delivery[];
  /** Set when a fault (dropNextEvent) lost the event before any queue: what the fault was. */
  readonly dropped?: string;
}

export interface ControlPlane {
  readonly url: string;
  /**
   * 'event' (JournalEntry) for each emitted event (lifecycle actions, Run Command's command and invocation
   * status changes), 'step' (StepRun) for each Run Command step started.
   */
  readonly events: EventEmitter;
  /** Every event emitted, in order (filter on `detail-type` to count one kind). */
  readonly journal: readonly JournalEntry[];
  /** Every Run Command step started, in order. */
  readonly steps: readonly StepRun[];
  /** Overlaid lifecycle state per instance (Pending:Wait / Terminating:Wait). */
  lifecycleStates(): Record<string, string>;
  /** The instance failed its EC2 status checks: its group marks it Unhealthy, terminates it through its hooks and replaces it. */
  instanceFailed(instanceId: string): Promise<void>;
  /**
   * Fault injection: the next event the front emits that `match` accepts (a lifecycle action, a Run Command status change) is
   * lost before it reaches any queue, as best-effort delivery allows; its journal entry says so.
   */
  dropNextEvent(what: string, match: (event: AwsEvent) => boolean): void;
  /** The SSM agent version an instance reports (and whose features it has); default a current agent. */
  setAgentVersion(instanceId: string, version: string): void;
  /** Launch and termination activities per group (moto records none): DescribeScalingActivities answers from here. */
  readonly scalingActivities: ScalingActivities;
  /** Check every request signed with one of these functions' keys against its role from now on. */
  enforceIam(identities: readonly FunctionIdentity[]): void;
  /** Every IAM decision on a function's call, in order. */
  readonly iamDecisions: readonly IamDecisionRecord[];
  /** Lambda's Invoke API answers with these functions from now on (before: every function is not found). */
  attachFunctions(functions: InvokableFunctions): void;
  /** Every call refused by throttling, in order. */
  readonly throttled: readonly ThrottledCall[];
  /** Calls admitted per `service:Operation` of the services that can be throttled. */
  admittedCalls(): Record<string, number>;
  stop(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError('RequestEntityTooLarge', 'request body above 10 MiB', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function forwardRaw(motoUrl: string, req: IncomingMessage, body: Buffer): Promise<Reply & { raw: Buffer }> {
  const target = new URL(req.url ?? '/', motoUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') headers[k] = v;
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = httpRequest(target, { method: req.method, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 502, headers: h, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    out.on('timeout', () => out.destroy(new Error('moto did not answer within 60 s')));
    out.on('error', reject);
    out.end(body);
  });
}

function send(res: ServerResponse, reply: Reply, raw?: Buffer): void {
  const payload = raw ?? Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(payload.length) });
  res.end(payload);
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const now = options.clock ? () => options.clock!.now() : () => Date.now();
  const log: Logger = options.log ?? (() => undefined);
  // Bad settings fail here, before anything starts.
  const throttle = new Throttle(options.throttle ?? {}, now);
  const motoClients = clientConfig(options.motoUrl);
  const events = new EventEmitter();
  const journal: JournalEntry[] = [];
  const steps: StepRun[] = [];
  const bus = new EventBus(motoClients);

  const emit = async (event: AwsEvent): Promise<void> => {
    const { deliveries, dropped } = await bus.deliver(event);
    const entry: JournalEntry = { event, deliveries, ...(dropped !== undefined ? { dropped } : {}) };
    journal.push(entry);
    log(dropped !== undefined ? 'event dropped (fault injected)' : 'event emitted', { detailType: event['detail-type'], instanceId: event.detail.EC2InstanceId ?? event.detail['instance-id'], ...(event.detail.status !== undefined ? { status: event.detail.status } : {}), deliveries: deliveries.length, ...(dropped !== undefined ? { dropped } : {}) });
    events.emit('event', entry);
  };

  const runCommand = new RunCommandService(
    motoClients,
    options.executor,
    now,
    (run) => {
      steps.push(run);
      log('run command step', { commandId: run.commandId, instanceId: run.instanceId, step: run.stepName });
      events.emit('step', run);
    },
    options.agentPollMs,
    // Run Command's status-change events go out through the same bus, journal and 'event' emitter.
    {
      publish: emit,
      origin: { account: ACCOUNT_ID, region: motoClients.region },
      onError: (event, error) => log('run command event not delivered', { detailType: event['detail-type'], error: error instanceof Error ? error.message : String(error) }),
    },
  );
  const targets = new TargetHealthService(motoClients, options.dataPlane);

  const scalingActivities = new ScalingActivities(now);
  const lifecycle = new LifecycleService({
    clientConfig: motoClients,
    hosts: options.hosts,
    now,
    emit,
    log,
    onFact: (fact) => scalingActivities.observe(fact),
  });

  const handleQuery = async (service: string, req: IncomingMessage, body: Buffer): Promise<{ reply: Reply; raw?: Buffer }> => {
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action') ?? '';
    // Forward this very request, unchanged or with a rewritten form.
    const forward = async (f: URLSearchParams): Promise<Reply> => forwardRaw(options.motoUrl, req, Buffer.from(f.toString(), 'utf8'));
    const namespace = service === 'autoscaling' ? NS.autoscaling : NS.elasticloadbalancing;
    try {
      if (service === 'autoscaling' && LifecycleService.handles(action)) return { reply: await lifecycle.handle(action, form, forward) };
      if (service === 'autoscaling' && action === ScalingActivities.ACTION) return { reply: scalingActivities.describe(form) };
      if (service === 'elasticloadbalancing') {
        if (action === 'DescribeTargetHealth') return { reply: await targets.describeTargetHealth(form) };
        if (action === 'RegisterTargets' || action === 'DeregisterTargets') {
          const reply = await forward(form);
          if (reply.status === 200) {
            if (action === 'RegisterTargets') await targets.applyRegister(form);
            else await targets.applyDeregister(form);
          }
          return { reply };
        }
      }
      const r = await forwardRaw(options.motoUrl, req, body);
      return { reply: r, raw: r.raw };
    } catch (error) {
      if (error instanceof ApiError) return { reply: queryError(namespace, error) };
      throw error;
    }
  };

  // ModifyVolume: the volume's size and attachment, read from moto with the SDK's own EC2 client,
  // never the product's EC2 adapter (lib/aws/ec2-volumes.ts), which this front exists to check.
  const motoEc2 = new EC2Client(motoClients);
  const motoCloudWatch = new CloudWatchClient(motoClients);
  const volumeModifications = new VolumeModifications(options.volumeModificationTimeline, now);
  const resizeVolume = async (form: URLSearchParams): Promise<Reply | undefined> => {
    const volumeId = form.get('VolumeId') ?? '';
    const size = Number(form.get('Size') ?? '');
    if (!options.volumeResized || !Number.isInteger(size) || size < 1) return undefined;
    const volume = await motoEc2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })).then((r) => r.Volumes?.[0], () => undefined);
    const attached = volume?.Attachments?.find((a) => a.State === 'attached' || !a.State);
    // moto answers (not found, no growth)
    if (!volume || !attached || volume.Size === undefined || size <= volume.Size) return undefined;
    const instanceId = attached.InstanceId ?? '';
    try {
      await options.volumeResized(instanceId, size);
      log('volume resized', { volumeId, instanceId, sizeGiB: size });
      return undefined;
    } catch (error) {
      log('volume resize failed', { volumeId, error: error instanceof Error ? error.message : String(error) });
      const message = escapeXml(`the disk behind ${volumeId} could not grow: ${error instanceof Error ? error.message : String(error)}`);
      return { status: 500, headers: { 'content-type': 'text/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InternalError</Code><Message>${message}</Message></Error></Errors><RequestID>sandbox</RequestID></Response>` };
    }
  };

  const iam = new IamEnforcer(motoLookup(options.motoUrl, motoClients.region), { region: motoClients.region, accountId: ACCOUNT_ID }, log);
  const lambdaApi = new LambdaInvokeApi({ region: motoClients.region, accountId: ACCOUNT_ID }, log);

  /** The call's operation: the Query Action, or the JSON target's operation. */
  const operationOf = (service: string, req: IncomingMessage, body: Buffer): { operation: string; form?: URLSearchParams } => {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') return { operation: target.slice(target.indexOf('.') + 1) };
    const form = new URLSearchParams(body.toString('utf8'));
    return { operation: form.get('Action') ?? '', form };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const refused = await iam.authorize(req.headers, body);
    if (refused) {
      send(res, refused);
      return;
    }
    const service = serviceOf(req.headers.authorization);
    // Throttling before any dispatch: the calls the front answers itself are throttled like moto's.
    if (isThrottledService(service)) {
      const { operation, form } = operationOf(service, req, body);
      const throttled = throttle.admit(service, operation, form);
      if (throttled) {
        log('call throttled', { service, operation });
        send(res, throttled);
        return;
      }
    }
    if (service === 'lambda') {
      send(res, await lambdaApi.handle(req.method ?? 'GET', req.url ?? '/', req.headers, body));
      return;
    }
    if (service === 'logs' && req.headers['x-amz-target'] === 'Logs_20140328.FilterLogEvents') {
      let input: Record<string, unknown>;
      try {
        input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      } catch (error) {
        send(res, jsonError(new ApiError('SerializationException', `request body is not JSON: ${error instanceof Error ? error.message : String(error)}`)));
        return;
      }
      const step = pageFilterLogEvents(input);
      if (step.kind === 'answer') send(res, jsonReply(step.body));
      else {
        const r = await forwardRaw(options.motoUrl, req, Buffer.from(JSON.stringify(step.body), 'utf8'));
        send(res, r, r.raw);
      }
      return;
    }
    if (service === 'ec2') {
      const form = new URLSearchParams(body.toString('utf8'));
      const action = form.get('Action');
      if (action === 'ModifyVolume') {
        const volumeId = form.get('VolumeId') ?? '';
        const tooSoon = volumeModifications.refusal(volumeId);
        if (tooSoon) {
          send(res, ec2QueryError(tooSoon));
          return;
        }
        const refused = await resizeVolume(form);
        if (refused) {
          send(res, refused);
          return;
        }
        const r = await forwardRaw(options.motoUrl, req, body);
        if (r.status === 200) volumeModifications.record(volumeId);
        send(res, r.status === 200 ? { ...r, body: volumeModifications.rewriteModifyAnswer(r.body, volumeId) } : r, r.status === 200 ? undefined : r.raw);
        return;
      }
      if (action === 'DescribeVolumesModifications') {
        const r = await forwardRaw(options.motoUrl, req, body);
        send(res, r.status === 200 ? { ...r, body: volumeModifications.rewrite(r.body) } : r, r.status === 200 ? undefined : r.raw);
        return;
      }
    }
    if (service === 'autoscaling' || service === 'elasticloadbalancing') {
      const { reply, raw } = await handleQuery(service, req, body);
      send(res, reply, raw);
      return;
    }
    const target = req.headers['x-amz-target'];
    if (service === 'ssm' && typeof target === 'string') {
      const op = target.replace(/^AmazonSSM\./, '');
      if (RunCommandService.OPERATIONS.has(op)) {
        try {
          const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
          send(res, jsonReply(await runCommand.handle(op, input)));
        } catch (error) {
          if (error instanceof ApiError) send(res, jsonError(error));
          else if (error instanceof SyntaxError) send(res, jsonError(new ApiError('SerializationException', `request body is not JSON: ${error.message}`)));
          else throw error;
        }
        return;
      }
    }
    // What AWS refuses and moto would take is refused here, in the service's protocol.
    const overLimit = forwardRefusal(service, req.headers, body);
    if (overLimit) {
      send(res, overLimit);
      return;
    }
    // GetMetricStatistics of exactly the dimensions asked, as CloudWatch answers it (moto would mix in every metric that merely has them).
    if (service === 'monitoring' && target === 'GraniteServiceVersion20100801.GetMetricStatistics') {
      const input = JSON.parse(body.toString('utf8') || '{}') as { Namespace?: string; MetricName?: string; Dimensions?: Dimension[]; StartTime?: number | string; EndTime?: number | string; Period?: number; Statistics?: Statistic[]; ExtendedStatistics?: string[]; Unit?: string };
      if (!input.ExtendedStatistics?.length && (input.Dimensions ?? []).length > 0 && input.Statistics?.length) {
        const time = (v: number | string | undefined) => new Date(typeof v === 'number' ? v * 1000 : String(v));
        const points = await exactStatistics(motoCloudWatch, {
          Namespace: input.Namespace ?? '', MetricName: input.MetricName ?? '', Dimensions: input.Dimensions ?? [], StartTime: time(input.StartTime), EndTime: time(input.EndTime),
          Period: Number(input.Period), Statistics: input.Statistics, ...(input.Unit ? { Unit: input.Unit } : {}),
        });
        const datapoints = points.map((p) => ({ ...p, Timestamp: (p.Timestamp?.getTime() ?? 0) / 1000 }));
        send(res, { ...jsonReply({ Label: input.MetricName, Datapoints: datapoints }), headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() } });
        return;
      }
    }
    // What AWS may answer in parts (a Scan page) is asked of moto in parts; what AWS reads less of than moto is cut first.
    const r = await forwardRaw(options.motoUrl, req, forwardBody(service, forwardRewrite(service, req.headers, body) ?? body));
    send(res, r, r.raw);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('control plane error', { error: error instanceof Error ? error.stack : String(error) });
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`control plane error: ${error instanceof Error ? error.message : String(error)}`);
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log('control plane listening', { url, motoUrl: options.motoUrl });

  return {
    url,
    events,
    journal,
    steps,
    lifecycleStates: () => lifecycle.states(),
    instanceFailed: (instanceId) => lifecycle.instanceFailed(instanceId),
    dropNextEvent: (what, match) => bus.dropNext(what, match),
    setAgentVersion: (instanceId, version) => runCommand.setAgentVersion(instanceId, version),
    scalingActivities,
    enforceIam: (identities) => iam.enforce(identities),
    iamDecisions: iam.decisions,
    attachFunctions: (functions) => lambdaApi.attach(functions),
    throttled: throttle.throttled,
    admittedCalls: () => throttle.admittedCalls(),
    async stop() {
      lifecycle.stop();
      await lambdaApi.settled();
      await runCommand.stop();
      motoEc2.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
