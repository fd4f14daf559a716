/** The sandbox's records read back: ops notifications, Run Command step timings, measured phases, and the timeline that merges them. */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import type { RecordedCall, Recorder } from '../lambda/recorder';
import type { Scheduler } from '../lambda/scheduler';
import { readOpsMessage } from '../ops-message';
import { measurePhase } from '../status';
import type { PhaseReport, SnsNotification, StepTiming, TimelineEntry } from '../types';
import type { Front } from './emulator';
import type { RecordingHosts } from './hosts';
import { STAGE } from './settings';

/** The calls of the functions that change something: the timeline shows them as actions. */
const MUTATING_ACTIONS = new Set([
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
  'RegisterTargets',
  'DeregisterTargets',
  'SendCommand',
  'Publish',
  'PutParameter',
  'DeleteParameter',
  // The coordination table: claims and the storage lock taken, kept and given back.
  'PutItem',
  'UpdateItem',
  'DeleteItem',
]);

export interface Records {
  notifications(): Promise<SnsNotification[]>;
  stepTimings(): Promise<StepTiming[]>;
  phase<T>(name: string, work: () => Promise<T>): Promise<T>;
  phases(): Promise<PhaseReport[]>;
  timeline(): Promise<TimelineEntry[]>;
  /** Every AWS API call the functions made so far (the call recorder's log), in order. */
  apiCalls(): readonly RecordedCall[];
}

export interface RecordSources {
  readonly front: Front;
  readonly ops: { readonly queueUrl: string };
  readonly recording: RecordingHosts;
  readonly recorder: Recorder;
  readonly scheduler: Scheduler;
  /** The boot's and the operator's own marks, shared with the phases that add them. */
  readonly marks: TimelineEntry[];
}

export function openRecords({ front, ops, recording, recorder, scheduler, marks }: RecordSources): Records {
  const { sqs, ssm } = front;
  const cpEvents = front.events;
  const phaseWindows: { name: string; start: number; end: number }[] = [];

  const received: SnsNotification[] = [];
  const notifications = async (): Promise<SnsNotification[]> => {
    for (let round = 0; round < 20; round += 1) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: ops.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        const { at, subject, message, attributes } = readOpsMessage(m.Body ?? '{}');
        received.push({ at: at ?? Date.now(), subject, message, attributes: { ...attributes } });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: ops.queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    return [...received].sort((a, b) => a.at - b.at);
  };

  const stepTimings = async (): Promise<StepTiming[]> => {
    const out = await ssm.send(new ListCommandInvocationsCommand({ Details: true }));
    const timings: StepTiming[] = [];
    for (const inv of out.CommandInvocations ?? []) {
      for (const p of inv.CommandPlugins ?? []) {
        if (p.ResponseStartDateTime === undefined) continue;
        timings.push({
          commandId: inv.CommandId ?? '',
          instanceId: inv.InstanceId ?? '',
          documentName: inv.DocumentName ?? '',
          stepName: p.Name ?? '',
          status: p.Status ?? '',
          start: p.ResponseStartDateTime.getTime(),
          ...(p.ResponseFinishDateTime !== undefined ? { end: p.ResponseFinishDateTime.getTime() } : {}),
        });
      }
    }
    return timings.sort((a, b) => a.start - b.start);
  };

  const phase = async <T>(phaseName: string, work: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    marks.push({ at: start, kind: 'phase', text: `phase ${phaseName} begins` });
    try {
      return await work();
    } finally {
      const end = Date.now();
      phaseWindows.push({ name: phaseName, start, end });
      marks.push({ at: end, kind: 'phase', text: `phase ${phaseName} ends`, durationMs: end - start });
    }
  };

  const phases = async (): Promise<PhaseReport[]> => {
    const steps = await stepTimings();
    return phaseWindows.map((w) => measurePhase(w.name, w.start, w.end, steps));
  };

  const timeline = async (): Promise<TimelineEntry[]> => {
    const entries: TimelineEntry[] = [...marks];
    for (const { at, entry } of cpEvents) {
      const d = entry.event.detail;
      const fate = entry.dropped !== undefined ? `DROPPED before any queue (fault: ${entry.dropped})` : `-> ${entry.deliveries.length} delivery(ies)`;
      // Run Command's status changes: which document, on which instance (or the command as a whole), which status.
      const text = entry.event.source === 'aws.ssm'
        ? `Run Command ${String(d.status ?? '')}: ${String(d['document-name'] ?? '')} ${d['instance-id'] !== undefined ? `on ${String(d['instance-id'])}` : '(command)'} ${fate}`
        : `${entry.event['detail-type']} ${String(d.EC2InstanceId ?? '')} (hook ${String(d.LifecycleHookName ?? '')}) ${fate}`;
      entries.push({ at, kind: 'event', text });
    }
    for (const r of scheduler.runs) {
      entries.push({ at: r.at, kind: 'event', text: `Scheduled Event ${r.ruleName} -> ${r.functionKey}${r.attempt > 0 ? ` (retry ${r.attempt})` : ''}: ${r.outcome}${r.error ? ` (${r.error})` : ''}` });
    }
    for (const l of recording.launched) entries.push({ at: l.at, kind: 'host', text: `host up: ${l.instanceId} ${l.privateIp} ${l.availabilityZone} (${l.groupName})` });
    for (const t of recording.terminated) entries.push({ at: t.at, kind: 'host', text: `host gone: ${t.instanceId}` });
    for (const c of recorder.calls) {
      if (c.status !== 200 || !MUTATING_ACTIONS.has(c.operation)) continue;
      entries.push({ at: c.at, kind: 'action', text: `lambda: ${c.service}:${c.operation}`, durationMs: c.durationMs });
    }
    for (const s of await stepTimings()) {
      entries.push({ at: s.start, kind: 'command', text: `${s.documentName.replace(`pydio-autoscaler-${STAGE}-`, '')}/${s.stepName} on ${s.instanceId}: ${s.status}`, ...(s.end !== undefined ? { durationMs: s.end - s.start } : {}) });
    }
    for (const n of await notifications()) {
      const first = n.message.split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' | ');
      entries.push({ at: n.at, kind: 'sns', text: `${n.attributes.eventType ?? ''} "${n.subject}" — ${first}` });
    }
    return entries.sort((a, b) => a.at - b.at);
  };

  return { notifications, stepTimings, phase, phases, timeline, apiCalls: () => recorder.calls };
}
