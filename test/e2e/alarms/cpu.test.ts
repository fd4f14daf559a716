/**
 * Alarm-driven compute scaling end to end, in the sandbox with the `alarms`
 * option: the metrics agent measures the compute hosts' real CPU, the
 * evaluator turns the datapoints into alarm states and state-change events,
 * the REAL alarm function decides and scales through the real lifecycle flows.
 *
 * 1. real CPU load through the LB -> cpu-high ALARM -> scale-out 1 -> 2
 *    (a healthy target more, a scaling.decided message);
 * 2. the alarm stays in ALARM: the re-check inside the cooldown is suppressed
 *    (scaling.suppressed, rule cooldown, the message says how long is left),
 *    the one after the cooldown scales out again (to 3 or 4). Real load on the
 *    shared 2-core machine cannot keep the group average above the threshold on
 *    two nodes deterministically, so THIS phase keeps the alarm in ALARM with
 *    synthetic datapoints (95 %, weighted) put on the same metric the agent
 *    publishes to; the agent keeps publishing the real values alongside;
 * 3. no load -> cpu-low ALARM -> scale-in by one through the real drain
 *    (terminate hook, deregistration, drain document), then again after each
 *    cooldown, down to MinSize 1 and not below (suppressed at-minimum).
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import { isSteady, startSandbox, STAGE, type Sandbox, type SnsNotification } from '../../sandbox/sandbox';
import type { LoadHandle } from '../../sandbox/alarms';
import { describeWithSandbox, leftovers } from '../sandbox/prerequisites';
import { waitFor } from '../wait';

jest.setTimeout(600_000);

const NAME = 'alm';
const stateDir = path.join(tmpdir(), `pas-${NAME}-${process.pid}-${Date.now()}`);
const HIGH = `pydio-autoscaler-${STAGE}-compute-cpu-high`;
const LOW = `pydio-autoscaler-${STAGE}-compute-cpu-low`;
const HIGH_THRESHOLD = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describeWithSandbox('alarms/cpu.test.ts')('CPU alarms drive compute scaling (real CPU, emulated CloudWatch evaluation, real alarm function)', () => {
  let sb: Sandbox;
  let load: LoadHandle | undefined;
  let synthetic: { stop: () => Promise<void> } | undefined;
  const times: Record<string, number> = {};

  const messages = async (since: number, match: (n: SnsNotification) => boolean): Promise<SnsNotification[]> =>
    (await sb.notifications()).filter((n) => n.at >= since - 2000 && match(n));
  const decided = (direction: 'out' | 'in', from: number, to: number) => (n: SnsNotification) =>
    n.attributes.eventType === 'scaling.decided' && n.subject.includes(`scale-${direction} ${sb.computeGroup} ${from}->${to}`);

  /** Weighted 95 % datapoints on the compute group's CPUUtilization every 2 s (bounded), until stopped. */
  function keepCpuHigh(): { stop: () => Promise<void> } {
    const cw = new CloudWatchClient(clientConfig(sb.motoUrl));
    let stopped = false;
    const loop = (async () => {
      for (let i = 0; i < 300 && !stopped; i += 1) {
        await cw
          .send(
            new PutMetricDataCommand({
              Namespace: 'AWS/EC2',
              MetricData: [{ MetricName: 'CPUUtilization', Dimensions: [{ Name: 'AutoScalingGroupName', Value: sb.computeGroup }], Timestamp: new Date(), Values: [95], Counts: [20], Unit: 'Percent' }],
            }),
          )
          .catch(() => undefined);
        await sleep(2000);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
      },
    };
  }

  beforeAll(async () => {
    const start = Date.now();
    sb = await startSandbox({
      name: NAME,
      networkOctet: 82,
      stateDir,
      lbPort: 0,
      deregistrationDelaySeconds: 5,
      handleSignals: false,
      // Threshold 50, not 70: the machine is shared (2 cores, load average ~9 seen): one node's real
      // share of the CPU under our load stayed below 70 % for minutes in a contended run.
      // largeStepFactor 3: 3 x 50 is above 100 %, so every scale-out is by one (the stack's 1.5 would make 75 % a +2 step).
      alarms: { periodSeconds: 10, cpuHighThreshold: HIGH_THRESHOLD, cooldownSeconds: 30, agentIntervalMs: 2500, computeMin: 1, largeStepFactor: 3 },
    });
    times.boot = (Date.now() - start) / 1000;
  }, 900_000);

  afterAll(async () => {
    await load?.stop().catch(() => undefined);
    await synthetic?.stop().catch(() => undefined);
    if (sb !== undefined) {
      const phases = await sb.phases().catch(() => []);
      console.info(
        `alarm e2e phase timings:\n${phases.map((p) => `  ${p.name}: ${p.seconds.toFixed(1)} s (documents ${p.documentsWallSeconds.toFixed(1)} s, control plane ${p.overheadSeconds.toFixed(1)} s)`).join('\n')}\n` +
          `  times (s): ${JSON.stringify(times)}\n  transitions: ${(sb.alarms?.transitions() ?? []).map((t) => `${t.alarmName.replace(`pydio-autoscaler-${STAGE}-`, '')} ${t.from}->${t.to} [${t.datapoints.join(', ')}]`).join('; ')}`,
      );
    }
    await sb?.stop();
    expect(leftovers(`pasbr${NAME}`, stateDir)).toEqual([]);
  }, 300_000);

  test('the agent publishes the compute host CPU as AWS/EC2 CPUUtilization of the group', async () => {
    expect(sb.alarms).toBeDefined();
    await sb.alarms!.sampleNow();
    await sleep(1500);
    const samples = await sb.alarms!.sampleNow();
    const [computeId] = (await sb.status()).instances.filter((i) => i.groupName === sb.computeGroup).map((i) => i.instanceId);
    const cpu = samples.filter((s) => s.metricName === 'CPUUtilization' && s.instanceId === computeId);
    expect(cpu).toHaveLength(1);
    expect(cpu[0]).toMatchObject({ namespace: 'AWS/EC2', dimensions: { AutoScalingGroupName: sb.computeGroup }, unit: 'Percent' });
    expect(cpu[0]!.value).toBeGreaterThanOrEqual(0);
    expect(cpu[0]!.value).toBeLessThanOrEqual(100);
  });

  test('real CPU load through the LB raises cpu-high and the alarm function adds a node (healthy target, scaling.decided)', async () => {
    const start = Date.now();
    await sb.phase('load -> cpu-high ALARM -> scale-out 1->2', async () => {
      load = sb.alarms!.cpuLoad({ sessions: 4, seconds: 500 });
      const alarm = await waitFor('cpu-high ALARM from the real load', 360_000, () => sb.alarms!.transitions().find((t) => t.alarmName === HIGH && t.to === 'ALARM' && t.at >= start));
      times.loadToAlarm = (alarm.at - start) / 1000;
      // The real measurement: two consecutive periods of the compute group's CPU above the threshold.
      expect(alarm.datapoints.length).toBeGreaterThanOrEqual(2);
      expect(alarm.datapoints.every((v) => v > HIGH_THRESHOLD)).toBe(true);
      expect(alarm.reason).toMatch(/^Threshold Crossed: 2 out of the last 2 datapoints \[.*\] were greater than the threshold \(50\.0\)/);
      const [message] = await waitFor('the scale-out 1->2 decision message', 120_000, async () => {
        const m = await messages(start, decided('out', 1, 2));
        return m.length > 0 ? m : undefined;
      });
      expect(message!.attributes.alarmName).toBe(HIGH);
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 2), 240_000, 'two compute instances InService with healthy targets');
    });
    times.scaleOut1 = (Date.now() - start) / 1000;
  });

  test('the alarm stays in ALARM: a decision inside the cooldown is suppressed and says why; after the cooldown it scales out again', async () => {
    const start = Date.now();
    // Synthetic datapoints keep the alarm in ALARM from here (see the file comment); the real load ends.
    synthetic = keepCpuHigh();
    const report = await load!.stop();
    load = undefined;
    expect(report.requests).toBeGreaterThan(10);
    expect(report.failures).toBeLessThanOrEqual(Math.ceil(report.requests * 0.05));
    await sb.phase('cpu-high stays ALARM: cooldown, then scale-out again', async () => {
      // The re-check of the 1->2 decision, or the decision after a new ALARM (the real load may have let it go OK on two nodes).
      const [suppressed] = await waitFor('a cooldown suppression of cpu-high', 180_000, async () => {
        const m = await messages(start, (n) => n.attributes.eventType === 'scaling.suppressed' && n.attributes.rule === 'cooldown' && n.attributes.alarmName === HIGH);
        return m.length > 0 ? m : undefined;
      });
      expect(suppressed!.subject).toContain('scaling suppressed (cooldown)');
      expect(suppressed!.message).toMatch(/is cooling down: \d+s left of 30s/);
      expect(suppressed!.message).toMatch(/Cooldown left: /);
      times.cooldownMessage = (suppressed!.at - start) / 1000;
      const [again] = await waitFor('a scale-out decision after the cooldown', 180_000, async () => {
        const m = (await messages(start, (n) => n.attributes.eventType === 'scaling.decided' && n.subject.includes(`scale-out ${sb.computeGroup} `))).filter((n) => n.at >= suppressed!.at);
        return m.length > 0 ? m : undefined;
      });
      // Acted on the alarm still being in ALARM (its re-check), not on a new state change.
      expect(again!.message).toMatch(/is ALARM \(re-check \d+,/);
      const to = Number(/->(\d+) /.exec(again!.subject)?.[1]);
      expect(to).toBeGreaterThanOrEqual(3);
      times.scaledOutTo = to;
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, to), 240_000, `${to} compute instances InService with healthy targets`);
      // The synthetic datapoints kept it in ALARM: no OK since the cooldown message.
      expect(sb.alarms!.transitions().filter((t) => t.alarmName === HIGH && t.to === 'OK' && t.at >= suppressed!.at)).toEqual([]);
    });
    times.cooldownThenScaleOut = (Date.now() - start) / 1000;
    await synthetic.stop();
    synthetic = undefined;
  });

  test('no load: cpu-low ALARM scales in by one through the real drain (terminate hook, drain document, target and host gone)', async () => {
    const start = Date.now();
    const before = (await sb.status()).instances.filter((i) => i.groupName === sb.computeGroup).map((i) => i.instanceId);
    expect(before.length).toBeGreaterThanOrEqual(3);
    const terminatesBefore = sb.controlPlane.journal.filter((e) => e.event['detail-type'] === 'EC2 Instance-terminate Lifecycle Action').length;
    // The size comes from the first scale-in decision, not from `before`: a last re-check of cpu-high
    // may still have scaled out once more while its alarm was going OK.
    let n = 0;
    await sb.phase('no load -> cpu-low ALARM -> scale-in by one (drain)', async () => {
      const alarm = await waitFor('cpu-low ALARM once the load stopped', 240_000, () => sb.alarms!.transitions().find((t) => t.alarmName === LOW && t.to === 'ALARM' && t.at >= start));
      expect(alarm.datapoints.every((v) => v < 25)).toBe(true);
      times.idleToLowAlarm = (alarm.at - start) / 1000;
      const [first] = await waitFor('the first scale-in decision', 180_000, async () => {
        const m = await messages(start, (x) => x.attributes.eventType === 'scaling.decided' && x.subject.includes(`scale-in ${sb.computeGroup} `));
        return m.length > 0 ? m : undefined;
      });
      const [from, to] = /(\d+)->(\d+)/.exec(first!.subject)!.slice(1).map(Number) as [number, number];
      expect({ from, to }).toEqual({ from, to: from - 1 });
      expect(from).toBeGreaterThanOrEqual(3);
      n = from;
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, to), 240_000, `${to} compute instances after the drain`);
    });
    // The victim: the instance of the first terminate lifecycle action since this test began.
    const victim = sb.controlPlane.journal.filter((e) => e.event['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')[terminatesBefore]?.event.detail.EC2InstanceId as string | undefined;
    expect(victim).toBeDefined();
    times.scaledInFrom = n;
    const afterOne = (await sb.status()).instances.filter((i) => i.groupName === sb.computeGroup).map((i) => i.instanceId);
    expect(afterOne).not.toContain(victim);
    // Through the real drain: the drain document on the victim, its target and host gone.
    expect((await sb.stepTimings()).some((s) => s.instanceId === victim && /drain/.test(s.documentName) && s.status === 'Success')).toBe(true);
    // The host goes right after the instance leaves the group (host-destroy).
    const s1 = await sb.waitForState((s) => !s.hosts.some((h) => h.instanceId === victim && h.running), 60_000, `the host of ${victim ?? ''} gone`);
    expect(s1.targets.map((t) => t.instanceId)).not.toContain(victim);
    times.scaleIn1 = (Date.now() - start) / 1000;
  });

  test('cpu-low stays ALARM: scales in again after each cooldown, down to MinSize 1 and not below', async () => {
    const start = Date.now();
    await sb.phase('cpu-low stays ALARM -> scale-in to MinSize 1', async () => {
      await sb.waitForState((s) => isSteady(s, sb.computeGroup, 1), 480_000, 'one compute instance (MinSize) after the drains');
      const [atMin] = await waitFor('the at-minimum suppression', 180_000, async () => {
        const m = await messages(start, (n) => n.attributes.eventType === 'scaling.suppressed' && n.attributes.rule === 'at-minimum' && n.attributes.alarmName === LOW);
        return m.length > 0 ? m : undefined;
      });
      expect(atMin!.message).toMatch(/already at minimum 1/);
    });
    const s2 = await sb.status();
    expect(s2.groups.find((g) => g.name === sb.computeGroup)).toMatchObject({ desired: 1, min: 1 });
    expect(isSteady(s2, sb.computeGroup, 1)).toBe(true);
    // Every step was by one, and none went below the minimum.
    const steps = (await sb.notifications()).filter((n) => n.attributes.eventType === 'scaling.decided' && n.subject.includes(`scale-in ${sb.computeGroup} `)).map((n) => /(\d+)->(\d+)/.exec(n.subject)!.slice(1).map(Number));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const [from, to] of steps) expect({ from, to }).toEqual({ from, to: from! - 1 });
    expect(steps.some(([, to]) => to! < 1)).toBe(false);
    times.scaleInToMin = (Date.now() - start) / 1000;
  });

  test('ops heard cpu-high recover (ALARM -> OK), and nothing about the alarms\' first evaluations (INSUFFICIENT_DATA -> OK)', async () => {
    const transitions = sb.alarms!.transitions();
    const recovered = transitions.find((t) => t.alarmName === HIGH && t.from === 'ALARM' && t.to === 'OK');
    expect(recovered).toBeDefined();
    const told = await waitFor('the cpu-high recovery message', 60_000, async () => {
      const m = (await sb.notifications()).filter((n) => n.subject.includes(`no scaling: ${HIGH} is OK`));
      return m.length > 0 ? m : undefined;
    });
    expect(told.every((n) => n.at >= recovered!.at - 2000)).toBe(true);
    expect(told[0]!.message).toMatch(/state change event/);
    // Both alarms were evaluated first from INSUFFICIENT_DATA to OK: logged, not told.
    expect(transitions.filter((t) => (t.alarmName === HIGH || t.alarmName === LOW) && t.from === 'INSUFFICIENT_DATA' && t.to === 'OK')).toHaveLength(2);
    const firstAlarm = Math.min(...transitions.filter((t) => t.to === 'ALARM').map((t) => t.at));
    expect((await sb.notifications()).filter((n) => n.at < firstAlarm && n.subject.includes('no scaling:')).map((n) => n.subject)).toEqual([]);
  });
});
