/** Watching a running storage step: go on, wait, or fail, from a rebalance's or a heal's progress. */
import type { TaskStatus } from './gluster-parse';

/** The watch's verdict on a running task; fromWatch (flow-state.ts) turns it into the flow's StorageOutcome. */
export type WatchOutcome =
  | { readonly kind: 'next'; readonly note?: string }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/** A rebalance or remove-brick migration: wait while it runs, go on when it completed, stop on failure. */
export function decideRebalance(status: Pick<TaskStatus, 'state' | 'statusText' | 'files' | 'failures' | 'nodes'>, what = 'rebalance'): WatchOutcome {
  switch (status.state) {
    case 'completed':
      if (status.failures > 0) return { kind: 'fail', reason: `${what} completed with ${status.failures} failure(s): check the rebalance log before going on` };
      return { kind: 'next', note: `${what} completed (${status.files} files moved)` };
    case 'in-progress': {
      const running = status.nodes.filter((n) => n.state === 'in-progress').map((n) => n.node);
      return { kind: 'wait', reason: `${what} in progress: ${status.files} files moved${running.length ? `, still running on ${running.join(', ')}` : ''}` };
    }
    case 'failed': {
      const bad = status.nodes.filter((n) => n.state === 'failed').map((n) => n.node);
      return { kind: 'fail', reason: `${what} failed${bad.length ? ` on ${bad.join(', ')}` : ''} (${status.statusText})` };
    }
    case 'stopped':
      return { kind: 'fail', reason: `${what} was stopped before it completed` };
    case 'none':
      return { kind: 'fail', reason: `no ${what} is running: ${status.statusText}` };
  }
}

export function decideHeal(healPending: number, elapsedSeconds: number, timeoutSeconds: number, unreachableBricks = 0): WatchOutcome {
  if (healPending === 0 && unreachableBricks === 0) return { kind: 'next', note: `heal complete after ${Math.round(elapsedSeconds)}s` };
  const what = unreachableBricks > 0 ? `${unreachableBricks} brick(s) not answering heal info` : `${healPending} entries pending heal`;
  if (elapsedSeconds > timeoutSeconds) return { kind: 'fail', reason: `heal not complete after ${Math.round(elapsedSeconds)}s (timeout ${timeoutSeconds}s): ${what}` };
  return { kind: 'wait', reason: what };
}
