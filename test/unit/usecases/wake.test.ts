/**
 * Flows woken by other flows (lib/usecases/flow-runner.ts signalFlow, wakeIntake): a step that
 * waits for something another flow does parks under a wake key; the other flow's signal runs it at
 * once; its safety net runs it otherwise, from the state parked last; a signal that came while the
 * step was looking (before the park) makes the park look again at once. A toy flow on the real
 * engine: `look` waits until the world is ready, then `finish` ends it.
 */
import { flowStart, isFlowContinuation, isWakeMessage, type FlowFamily, type FlowStateBase } from '../../../lib/core/flow';
import { AwsCallError } from '../../../lib/errors';
import type { Log } from '../../../lib/logger';
import { runFlow, signalFlow, wakeIntake, type EngineDeps, type FlowDriver, type MessageOutcome } from '../../../lib/usecases/flow-runner';
import { FakeCoordination } from './fake-coordination';

interface ToyState extends FlowStateBase {
  readonly flow: 'toy';
  readonly step: 'look' | 'finish';
  readonly operationId: string;
}

const KEY = 'toy/joins/op-1';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/toy';
const RETRY_MAX = 120;

const FAMILY: FlowFamily<ToyState> = {
  mark: 'toyFlow',
  what: 'toy continuation',
  steps: { toy: ['look', 'finish'] },
  stepScoped: [],
  commandKey: (id) => `toy/command/${id}`,
  validate: () => undefined,
};

class World {
  public now = new Date('2026-12-06T10:00:00.000Z');
  public ready = false;
  /** When each look read the world, and the attempt it ran with. */
  public readonly looks: { at: string; attempt: number }[] = [];
  public finished = 0;
  public readonly queued: { id: string; body: string; delaySeconds: number }[] = [];
  public readonly coordination = new FakeCoordination(() => this.now);
  private next = 0;

  public tick(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  public deps(): EngineDeps {
    return {
      config: { stage: 'test', timing: { retryBaseSeconds: 10, retryMaxSeconds: RETRY_MAX, claimTtlSeconds: 900 } },
      autoScaling: {} as EngineDeps['autoScaling'],
      coordination: this.coordination,
      notifier: { publish: async () => undefined },
      queue: {
        send: async (_url, body, delaySeconds) => {
          this.queued.push({ id: `m-${++this.next}`, body, delaySeconds });
        },
      },
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log,
      now: () => this.now,
    };
  }

  /** Takes the oldest queued message of a kind (a continuation or a wake) off the queue. */
  public take(kind: 'continuation' | 'wake'): { id: string; body: string; delaySeconds: number } {
    const index = this.queued.findIndex((m) => (kind === 'wake' ? isWakeMessage(JSON.parse(m.body)) : isFlowContinuation(FAMILY, JSON.parse(m.body))));
    if (index < 0) throw new Error(`no ${kind} queued`);
    return this.queued.splice(index, 1)[0]!;
  }
}

function driver(world: World): FlowDriver<ToyState, EngineDeps> {
  return {
    family: FAMILY,
    tables: {
      toy: {
        look: async (state) => {
          const readAt = world.now.toISOString();
          world.looks.push({ at: readAt, attempt: state.attempt });
          if (world.ready) return { kind: 'next' };
          return { kind: 'wait', reason: 'not ready', wakeOn: KEY, wakeSince: readAt };
        },
        finish: async () => {
          world.finished += 1;
          return { kind: 'next' };
        },
      },
    },
    queueUrl: () => QUEUE,
    logKeys: (state) => ({ step: state.step }),
    claimKey: () => 'toy/claim',
    ownerOf: (state) => state.operationId,
    skippedNotice: () => {
      throw new Error('no lifecycle action in the toy flow');
    },
    failed: async (_state, reason) => {
      throw new Error(`the toy flow failed: ${reason}`);
    },
  };
}

async function deliver(world: World, message: { id: string; body: string }): Promise<MessageOutcome> {
  const body = JSON.parse(message.body) as Record<string, unknown>;
  const toy = driver(world);
  if (isWakeMessage(body)) {
    return wakeIntake(toy, world.deps(), body, message.id, async (error) => {
      throw error;
    });
  }
  if (!isFlowContinuation(FAMILY, body)) throw new Error('not a toy message');
  return runFlow(toy, world.deps(), (body as { state: ToyState }).state, true, message.id);
}

async function start(world: World): Promise<void> {
  const state: ToyState = { ...flowStart(FAMILY, 'toy', world.now), operationId: 'op-1' } as ToyState;
  expect(await runFlow(driver(world), world.deps(), state, false)).toBe('waiting');
}

describe('a step that waits for another flow parks under its wake key', () => {
  it('holds the state there and sends its safety net after RETRY_MAX_SECONDS', async () => {
    const world = new World();
    await start(world);
    const parked = await world.coordination.holder(KEY);
    expect(parked?.owner).toBe('op-1');
    expect(JSON.parse(parked!.value!)).toEqual(JSON.parse(world.queued[0]!.body));
    expect(world.queued).toHaveLength(1);
    expect(world.queued[0]!.delaySeconds).toBe(RETRY_MAX);
    expect(JSON.parse(world.queued[0]!.body).state).toMatchObject({ step: 'look', awaitingWake: KEY });
  });
});

describe('a signal', () => {
  it('runs the parked flow at once; its safety net then stops without running a step', async () => {
    const world = new World();
    await start(world);
    const safetyNet = world.take('continuation');
    world.tick(5);
    world.ready = true;
    await signalFlow(world.deps(), QUEUE, KEY);
    const wake = world.take('wake');
    expect(wake.delaySeconds).toBe(0);
    expect(await deliver(world, wake)).toBe('completed');
    expect(world.finished).toBe(1);
    expect(await deliver(world, safetyNet)).toBe('skipped');
    expect(world.looks).toHaveLength(2);
    expect(world.finished).toBe(1);
  });

  it('an error after the wake resumed the flow loses nothing: the same wake message delivered again runs it again', async () => {
    const world = new World();
    await start(world);
    world.take('continuation');
    world.ready = true;
    await signalFlow(world.deps(), QUEUE, KEY);
    const wake = world.take('wake');
    const deps = world.deps();
    const failing = driver(world);
    const flaky: FlowDriver<ToyState, EngineDeps> = {
      ...failing,
      tables: {
        toy: {
          ...failing.tables.toy,
          finish: async () => {
            throw new Error('socket hang up');
          },
        },
      },
    };
    await expect(wakeIntake(flaky, deps, JSON.parse(wake.body), wake.id, async () => 'rejected')).rejects.toThrow('socket hang up');
    expect(await deliver(world, wake)).toBe('completed');
    expect(world.finished).toBe(1);
  });

  it('that came while the step was looking (nothing parked yet) makes the park look again at once', async () => {
    const world = new World();
    await start(world);
    const firstNet = world.take('continuation');
    // The safety net runs the look: not ready; between that read and the park, the world becomes
    // ready and is signalled; the wake finds nothing parked (the flow is between looks).
    world.tick(RETRY_MAX);
    const plain = driver(world);
    const look = plain.tables.toy.look;
    const racing: FlowDriver<ToyState, EngineDeps> = { ...plain, tables: { toy: { ...plain.tables.toy, look: async (state, deps) => {
      const outcome = await look(state, deps);
      world.tick(0.2);
      world.ready = true;
      await signalFlow(world.deps(), QUEUE, KEY);
      // The wake is handled before this delivery parks: the record is consumed by the safety net.
      const wake = world.take('wake');
      expect(await deliver(world, wake)).toBe('skipped');
      return outcome;
    } } } };
    expect(await runFlow(racing, world.deps(), JSON.parse(firstNet.body).state, true, firstNet.id)).toBe('waiting');
    // Parked, then found the signal newer than its read: its safety net goes at once.
    const again = world.take('continuation');
    expect(again.delaySeconds).toBe(0);
    expect(await deliver(world, again)).toBe('completed');
    expect(world.finished).toBe(1);
  });

  it('recorded before the step read the world (beyond the clocks\' skew) is not looked at again: the read saw it', async () => {
    const world = new World();
    await signalFlow(world.deps(), QUEUE, KEY);
    world.take('wake');
    world.tick(5);
    await start(world);
    expect(world.queued[0]!.delaySeconds).toBe(RETRY_MAX);
  });

  it('within the clocks\' skew of the read counts as maybe missed', async () => {
    const world = new World();
    await signalFlow(world.deps(), QUEUE, KEY);
    world.take('wake');
    world.tick(0.5);
    await start(world);
    expect(world.queued[0]!.delaySeconds).toBe(0);
  });
});

describe('a park whose read of the last signal AWS refuses', () => {
  it('is not thrown (the flow is parked already): its safety net goes at once, as for a signal maybe missed', async () => {
    const world = new World();
    const read = world.coordination.read.bind(world.coordination);
    world.coordination.read = async () => {
      throw new AwsCallError('GetItem', 'Rate exceeded', { throttled: true });
    };
    await start(world);
    world.coordination.read = read;
    expect(await world.coordination.holder(KEY)).toBeDefined();
    expect(world.queued).toHaveLength(1);
    expect(world.queued[0]!.delaySeconds).toBe(0);
  });
});

describe('a safety net of an earlier park', () => {
  it('runs the state parked last (the flow was woken and parked again meanwhile); the last park\'s own safety net then stops', async () => {
    const world = new World();
    await start(world);
    const oldNet = world.take('continuation');
    world.tick(30);
    // A signal that changes nothing this flow waits for: woken, it looks and parks again.
    await signalFlow(world.deps(), QUEUE, KEY);
    expect(await deliver(world, world.take('wake'))).toBe('waiting');
    const lastNet = world.take('continuation');
    expect(JSON.parse(lastNet.body).state.attempt).toBe(2);
    world.tick(RETRY_MAX);
    world.ready = true;
    // The old safety net carries attempt 1; it runs the parked attempt 2.
    expect(JSON.parse(oldNet.body).state.attempt).toBe(1);
    expect(await deliver(world, oldNet)).toBe('completed');
    expect(world.looks.at(-1)!.attempt).toBe(2);
    expect(await deliver(world, lastNet)).toBe('skipped');
    expect(world.finished).toBe(1);
  });
});

describe('a wake message', () => {
  it('naming no key is refused as malformed', async () => {
    const world = new World();
    const rejected = await wakeIntake(driver(world), world.deps(), { 'pydio-autoscaler/wake': '' }, 'm-x', async (error) => {
      expect(String(error)).toMatch(/must name the key to wake/);
      return 'rejected';
    });
    expect(rejected).toBe('rejected');
  });

  it('for a key nothing is parked on is skipped', async () => {
    const world = new World();
    expect(await wakeIntake(driver(world), world.deps(), { 'pydio-autoscaler/wake': KEY }, 'm-x', async () => 'rejected')).toBe('skipped');
  });
});
