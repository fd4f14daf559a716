/**
 * Flows resume on Run Command's status-change events: a document step parks the flow under its
 * command's key; the command's event consumes the record and runs the flow on at once; the
 * continuation sent as a safety net (after RETRY_MAX_SECONDS) finds the record gone and stops.
 * Without an event, the safety net consumes the record and the flow goes on as before.
 */
import { AwsCallError } from '../../../lib/errors';
import { handleLifecycleMessage } from '../../../lib/usecases/lifecycle';
import { commandEvent, FakeCloud, lifecycleEvent } from './fake-cloud';

/** The command ids sent so far, in order. */
function sentCommands(cloud: FakeCloud): string[] {
  return [...cloud.commands.keys()];
}

function queuedState(cloud: FakeCloud, index = -1): Record<string, unknown> {
  return (JSON.parse(cloud.queued.at(index)!.body) as { state: Record<string, unknown> }).state;
}

const RECORD = (commandId: string) => `lifecycle/command/${commandId}`;

describe('a document step parks the flow on its command', () => {
  it('holds the continuation under the command key and sends the safety net after RETRY_MAX_SECONDS', async () => {
    // Prepare
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    // Act
    const outcome = await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    // Assess
    expect(outcome).toBe('waiting');
    const [mount] = sentCommands(cloud);
    const parked = await cloud.coordination.holder(RECORD(mount!));
    expect(parked?.owner).toBe('msg-1');
    expect(JSON.parse(parked!.value!)).toEqual(JSON.parse(cloud.queued[0]!.body));
    expect(queuedState(cloud)).toMatchObject({ step: 'mount-volumes', commandId: mount, awaiting: mount });
    expect(cloud.queued[0]!.delaySeconds).toBe(60);
  });
});

describe('a dry run', () => {
  it('sends no command, so parks nothing: its next look is 1 s later, not the safety net\'s', async () => {
    const cloud = new FakeCloud();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, cloud.deps({ DRY_RUN: 'true' }));
    expect(cloud.queued[0]!.delaySeconds).toBe(1);
    expect(queuedState(cloud).awaiting).toBeUndefined();
    expect([...cloud.coordination.items.keys()].filter((key) => key.startsWith('lifecycle/command/'))).toEqual([]);
  });
});

describe('the command event resumes the flow', () => {
  it('runs the step on at once; the safety net of the same wait then stops without a call', async () => {
    // Prepare
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const safetyNet = cloud.queued.shift()!;
    // Act: the mount document ended
    const resumed = await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps);
    // Assess: configure-app sent, parked on its own command
    expect(resumed).toBe('waiting');
    const [, configure] = sentCommands(cloud);
    expect(configure).toBeDefined();
    expect(cloud.coordination.keptKeys()).not.toContain(RECORD(mount!)); // consumed by the event
    expect((await cloud.coordination.holder(RECORD(configure!)))?.owner).toBe('msg-1');
    expect(queuedState(cloud)).toMatchObject({ step: 'configure-app', awaiting: configure });

    // Act: the first wait's safety net arrives
    const callsBefore = cloud.calls.length;
    const polls = cloud.commands.get(mount!)!.polls;
    const stale = await handleLifecycleMessage({ messageId: safetyNet.id, body: safetyNet.body }, deps);
    // Assess: nothing read, nothing sent, the configure wait still parked
    expect(stale).toBe('skipped');
    expect(cloud.calls.length).toBe(callsBefore);
    expect(cloud.commands.get(mount!)!.polls).toBe(polls);
    expect(sentCommands(cloud)).toHaveLength(2);
    expect(await cloud.coordination.holder(RECORD(configure!))).toBeDefined();
  });

  it('an error after the event resumed the flow loses nothing: the queue re-delivers the same event (same message id), which resumes it again; the safety net still stops', async () => {
    // Prepare: configure-app's send fails once with an error that is not throttling
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const safetyNet = cloud.queued.shift()!;
    const send = cloud.ssm.sendCommand;
    cloud.ssm.sendCommand = async () => {
      cloud.ssm.sendCommand = send;
      throw new Error('socket hang up');
    };
    // Act
    await expect(handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps)).rejects.toThrow('socket hang up');
    const again = await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps);
    // Assess
    expect(again).toBe('waiting');
    expect(queuedState(cloud)).toMatchObject({ step: 'configure-app', awaiting: sentCommands(cloud)[1] });
    expect(await handleLifecycleMessage({ messageId: safetyNet.id, body: safetyNet.body }, deps)).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });

  it('a second delivery of the same event resumes nothing (the record was consumed once)', async () => {
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    expect(await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps)).toBe('waiting');
    expect(await handleLifecycleMessage({ messageId: 'evt-again', body: commandEvent(mount!) }, deps)).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });

  it('a whole scale-out completes on events: every document step resumed by its event, every safety net stopped', async () => {
    // Prepare
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    const outcomes = [await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps)];
    // Act: each command's event as soon as it is sent, before its safety net
    for (let resumed = 0; resumed < 2; resumed += 1) {
      const command = sentCommands(cloud).at(-1)!;
      outcomes.push(await handleLifecycleMessage({ messageId: `evt-${resumed}`, body: commandEvent(command) }, deps));
    }
    for (let i = 0; i < 10 && cloud.queued.length > 0; i += 1) {
      const next = cloud.queued.shift()!;
      cloud.now = new Date(cloud.now.getTime() + next.delaySeconds * 1000);
      outcomes.push(await handleLifecycleMessage({ messageId: next.id, body: next.body }, deps));
    }
    // Assess
    expect(cloud.completed).toBe('CONTINUE');
    expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(2);
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.coordination.keptKeys()).toEqual([]);
  });
});

describe('a read that lags the event', () => {
  it('is looked at again at once, then within seconds (doubling from 1 s with the step\'s waits, at most RETRY_BASE_SECONDS), not parked for the safety net; the flow then goes on', async () => {
    // Prepare: the invocation still reads InProgress twice after the event said it ended
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 3, result: { status: 'Success', exitCode: 0, stdout: '', stderr: '' } };
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const safetyNet = cloud.queued.shift()!;
    // Act
    expect(await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps)).toBe('waiting');
    // Assess: a short wait, the event's status carried, nothing parked
    const lag1 = cloud.queued.shift()!;
    expect(lag1.delaySeconds).toBe(0); // the first lag seen (the step's second wait): the queue's hop only, not 2 s
    expect((JSON.parse(lag1.body) as { state: Record<string, unknown> }).state).toMatchObject({ step: 'mount-volumes', commandId: mount, ended: 'Success' });
    expect(cloud.coordination.keptKeys()).not.toContain(RECORD(mount!)); // consumed, not parked again
    expect(await handleLifecycleMessage({ messageId: lag1.id, body: lag1.body }, deps)).toBe('waiting');
    const lag2 = cloud.queued.shift()!;
    expect(lag2.delaySeconds).toBe(1);
    expect(await handleLifecycleMessage({ messageId: lag2.id, body: lag2.body }, deps)).toBe('waiting');
    // The read caught up: configure-app sent and parked; the first safety net stops
    expect(queuedState(cloud)).toMatchObject({ step: 'configure-app', awaiting: sentCommands(cloud)[1] });
    expect((JSON.parse(cloud.queued.at(-1)!.body) as { state: Record<string, unknown> }).state.ended).toBeUndefined();
    expect(await handleLifecycleMessage({ messageId: safetyNet.id, body: safetyNet.body }, deps)).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });
});

describe('the safety net when no event comes (events are best effort)', () => {
  it('polls the command, consumes the record, and a late event then resumes nothing', async () => {
    // Prepare
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const safetyNet = cloud.queued.shift()!;
    // Act
    const polled = await handleLifecycleMessage({ messageId: safetyNet.id, body: safetyNet.body }, deps);
    const late = await handleLifecycleMessage({ messageId: 'evt-late', body: commandEvent(mount!) }, deps);
    // Assess
    expect(polled).toBe('waiting');
    expect(queuedState(cloud)).toMatchObject({ step: 'configure-app' });
    expect(late).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });

  it('a command still running when the safety net polls is parked again: its event still resumes the flow once', async () => {
    const cloud = new FakeCloud();
    cloud.commandScript['doc-mount'] = { polls: 2, result: { status: 'Success', exitCode: 0, stdout: '', stderr: '' } };
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const first = cloud.queued.shift()!;
    expect(await handleLifecycleMessage({ messageId: first.id, body: first.body }, deps)).toBe('waiting');
    expect(queuedState(cloud)).toMatchObject({ step: 'mount-volumes', awaiting: mount });
    expect((await cloud.coordination.holder(RECORD(mount!)))?.owner).toBe('msg-1');
    const second = cloud.queued.shift()!;
    expect(await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps)).toBe('waiting');
    expect(await handleLifecycleMessage({ messageId: second.id, body: second.body }, deps)).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });

  it('a throttled consume keeps the flow parked: the re-sent safety net or the event resumes it, once', async () => {
    // Prepare
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const [mount] = sentCommands(cloud);
    const safetyNet = cloud.queued.shift()!;
    const consume = cloud.coordination.consume.bind(cloud.coordination);
    cloud.coordination.consume = async () => {
      throw new AwsCallError('DeleteItem', 'Rate exceeded', { throttled: true });
    };
    // Act
    const throttled = await handleLifecycleMessage({ messageId: safetyNet.id, body: safetyNet.body }, deps);
    cloud.coordination.consume = consume;
    // Assess: back on the queue, still parked, the record still there
    expect(throttled).toBe('waiting');
    expect(queuedState(cloud)).toMatchObject({ step: 'mount-volumes', awaiting: mount, throttledWaits: 1 });
    expect(await cloud.coordination.holder(RECORD(mount!))).toBeDefined();
    const resent = cloud.queued.shift()!;
    expect(await handleLifecycleMessage({ messageId: 'evt', body: commandEvent(mount!) }, deps)).toBe('waiting');
    expect(await handleLifecycleMessage({ messageId: resent.id, body: resent.body }, deps)).toBe('skipped');
    expect(sentCommands(cloud)).toHaveLength(2);
  });
});

describe('command events that resume nothing', () => {
  it.each([
    ['a command no flow waits for', commandEvent('00000000-0000-4000-8000-00000000dead')],
    ['a command that has not ended', commandEvent('cmd-1', 'InProgress')],
  ])('%s is skipped', async (_what, body) => {
    const cloud = new FakeCloud();
    const deps = cloud.deps();
    await handleLifecycleMessage({ messageId: 'msg-1', body: lifecycleEvent('launch') }, deps);
    const calls = cloud.calls.length;
    expect(await handleLifecycleMessage({ messageId: 'evt', body }, deps)).toBe('skipped');
    expect(cloud.calls.length).toBe(calls);
    expect(await cloud.coordination.holder(RECORD(sentCommands(cloud)[0]!))).toBeDefined();
  });

  it('an event without a usable command id is rejected and ops are told', async () => {
    const cloud = new FakeCloud();
    const body = JSON.parse(commandEvent('x')) as { detail: Record<string, unknown> };
    body.detail['command-id'] = '../lock';
    expect(await handleLifecycleMessage({ messageId: 'evt', body: JSON.stringify(body) }, cloud.deps())).toBe('rejected');
    expect(cloud.notifications.map((n) => n.eventType)).toContain('event.malformed');
  });
});
