/**
 * The watch end to end (issue 10), on real hosts with the real handlers; the
 * scheduler fires the stack's rate(1 minute) rule on a compressed clock (one
 * schedule minute = PERIOD_S real seconds), so periods are counted as runs of
 * the watch, never in seconds:
 *
 * 1. Apache stopped on one live compute node (its host stays up): the
 *    load balancer's health checks fail, the watch marks it Unhealthy after
 *    its consecutive checks, the group replaces it through the terminate hook
 *    (deregistration, drain document), and the other nodes are untouched:
 *    same instance ids, their targets healthy at every look, never draining.
 * 2. A launch lifecycle event lost before it reaches the queue (the event
 *    bus's fault switch): the watch re-drives it within two of its periods
 *    and the scale-out completes through the normal launch flow, once.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { JournalEntry } from '../../sandbox/control-plane/front';
import { isSteady, startSandbox, type Sandbox, type SandboxStatus } from '../../sandbox/sandbox';
import { describeWithSandbox, leftovers } from './prerequisites';

jest.setTimeout(600_000);

const NAME = 'e2ew';
const OCTET = 92;
/** Real seconds per schedule minute: the watch runs every PERIOD_S seconds. */
const PERIOD_S = 8;
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}`);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describeWithSandbox('watch.test.ts')('the watch (real hosts, real handlers, scheduled on a compressed clock)', () => {
  let sb: Sandbox;
  let watchRule: string;

  beforeAll(async () => {
    sb = await startSandbox({ name: NAME, networkOctet: OCTET, stateDir, lbPort: 0, deregistrationDelaySeconds: 5, handleSignals: false, scheduleMinuteSeconds: PERIOD_S });
    const rules = sb.schedule.rules().filter((r) => r.functionKey === 'watch');
    expect(rules).toEqual([expect.objectContaining({ functionKey: 'watch', periodMs: PERIOD_S * 1000, permitted: true })]);
    watchRule = rules[0]!.ruleName;
  }, 600_000);

  afterAll(async () => {
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
  }, 200_000);

  /** Watch runs (scheduled attempts) that started after `since`. */
  const runsSince = (since: number) => sb.schedule.runs().filter((r) => r.ruleName === watchRule && r.attempt === 0 && r.at > since);

  test('Apache stopped on a live node: marked Unhealthy by the watch, replaced through the drain; the other nodes untouched', async () => {
    await sb.setDesiredCapacity(3);
    const steady = await sb.waitForState((s) => isSteady(s, sb.computeGroup, 3), 300_000, 'three compute nodes InService with healthy targets');
    const compute = steady.instances.filter((i) => i.groupName === sb.computeGroup).map((i) => i.instanceId).sort();
    const victim = compute[0]!;
    const others = compute.slice(1);
    const seen = (await sb.notifications()).length;

    // Every look at the cluster: the other nodes' targets, as the load balancer reports them.
    const otherStates = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 2000; i += 1) {
        const s = await sb.status().catch(() => undefined);
        for (const t of s?.targets ?? []) if (others.includes(t.instanceId)) otherStates.add(t.state);
        for (const id of others) if (s !== undefined && !s.targets.some((t) => t.instanceId === id)) otherStates.add('absent');
        await sleep(500);
      }
    })();

    // The host stays up; only its web server stops, inside its own namespaces.
    await sb.hosts.exec(victim, ['apachectl', '-k', 'stop']);
    let after: SandboxStatus;
    try {
      after = await sb.waitForState(
        (s) => isSteady(s, sb.computeGroup, 3) && !s.instances.some((i) => i.instanceId === victim),
        360_000,
        `${victim} replaced by a healthy node`,
      );
    } finally {
      sampling = false;
      await sampler;
    }

    // The others: the same instances, InService, their targets healthy at every look (never draining, never gone).
    const nowCompute = after.instances.filter((i) => i.groupName === sb.computeGroup);
    for (const id of others) expect(nowCompute.find((i) => i.instanceId === id)?.lifecycleState).toBe('InService');
    expect([...otherStates]).toEqual(['healthy']);
    expect(after.hosts.filter((h) => h.running).map((h) => h.instanceId)).not.toContain(victim);

    // What ops were told: the watch's replacement, then the normal scale-in (drain) flow of the victim.
    const told = (await sb.notifications()).slice(seen);
    const replacing = told.filter((n) => n.attributes.eventType === 'watch.replacing');
    expect(replacing.map((n) => n.attributes.instanceId)).toEqual([victim]);
    expect(replacing[0]!.subject).toMatch(new RegExp(`replacing ${victim} \\(target unhealthy in 3 checks\\)`));
    expect(told.some((n) => n.attributes.eventType === 'lifecycle.succeeded' && n.attributes.instanceId === victim && n.attributes.flow === 'compute-terminate')).toBe(true);
    expect(told.filter((n) => n.attributes.eventType?.startsWith('watch.') && n.attributes.eventType !== 'watch.replacing')).toEqual([]);
    // The drain document ran on the victim (its web server already stopped, its volumes unmounted).
    const steps = await sb.stepTimings();
    expect(steps.some((s) => s.instanceId === victim && s.documentName.endsWith('-drain-node') && s.status === 'Success')).toBe(true);
    // It was marked by the watch, not by anything else: Auto Scaling's own health never saw the target.
    const timeline = await sb.timeline();
    expect(timeline.some((e) => e.kind === 'event' && e.text.startsWith(`EC2 Instance-terminate Lifecycle Action ${victim}`))).toBe(true);
  });

  test('a launch event lost before the queue: the watch re-drives it within two periods and the scale-out completes once', async () => {
    const before = await sb.status();
    const count = before.instances.filter((i) => i.groupName === sb.computeGroup).length;
    const known = new Set(before.instances.map((i) => i.instanceId));
    const seen = (await sb.notifications()).length;

    // The lost event: journaled as dropped, its instance waits in Pending:Wait with no flow. When it
    // was lost is taken as it happens, to the millisecond: the event's own `time` is to the second
    // (EventBridge's envelope), which let a watch run up to a second before the loss count below.
    let dropped: { at: number; instanceId: string } | undefined;
    const onEvent = (entry: JournalEntry) => {
      if (dropped === undefined && entry.dropped !== undefined && !known.has(String(entry.event.detail.EC2InstanceId))) {
        dropped = { at: Date.now(), instanceId: String(entry.event.detail.EC2InstanceId) };
      }
    };
    sb.controlPlane.events.on('event', onEvent);
    try {
      sb.dropNextLifecycleEvent('launch', sb.computeGroup);
      await sb.setDesiredCapacity(count + 1);
      for (let i = 0; dropped === undefined && i < 120; i += 1) await sleep(500);
    } finally {
      sb.controlPlane.events.off('event', onEvent);
    }
    expect(dropped).toBeDefined();
    const lost = dropped!.instanceId;

    const after = await sb.waitForState((s) => isSteady(s, sb.computeGroup, count + 1) && s.instances.some((i) => i.instanceId === lost), 360_000, `${lost} in service after the watch re-drove its launch`);
    expect(after.instances.find((i) => i.instanceId === lost)?.lifecycleState).toBe('InService');

    const told = (await sb.notifications()).slice(seen);
    const redriven = told.filter((n) => n.attributes.eventType === 'watch.redriven');
    expect(redriven.map((n) => [n.attributes.instanceId, n.attributes.transition])).toEqual([[lost, 'launch']]);
    // Within two periods: at most two watch runs began between the loss and the re-drive (one that
    // sees the instance unclaimed, one that re-drives it; a run already going at the loss may be the first).
    const runsUntilRedrive = runsSince(dropped!.at).filter((r) => r.at <= redriven[0]!.at);
    expect(runsUntilRedrive.length).toBeGreaterThanOrEqual(1);
    expect(runsUntilRedrive.length).toBeLessThanOrEqual(2);
    // One launch flow, completed with CONTINUE: no hook timeout, no ABANDON, no second flow.
    expect(told.filter((n) => n.attributes.eventType === 'lifecycle.started' && n.attributes.instanceId === lost)).toHaveLength(1);
    expect(told.filter((n) => n.attributes.eventType === 'lifecycle.succeeded' && n.attributes.instanceId === lost)).toHaveLength(1);
    expect(told.filter((n) => n.attributes.eventType === 'lifecycle.failed')).toEqual([]);
    const timeline = await sb.timeline();
    expect(timeline.some((e) => e.kind === 'event' && e.text.includes(lost) && e.text.includes('DROPPED before any queue'))).toBe(true);
  });
});
