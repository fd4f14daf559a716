/**
 * EBS volume modifications as EC2 runs them, where moto 5.2.1 reports every
 * modification 'completed' at once and takes any number in a row:
 *
 * - a modification goes modifying -> optimizing -> completed ("The volume
 *   enters the modifying state, the optimizing state, and finally the
 *   completed state"; a size change is usable from optimizing on: EBS User
 *   Guide, monitor the progress of volume modifications). The front rewrites
 *   moto's DescribeVolumesModifications answer along a timeline it keeps;
 * - a volume whose modification has not completed cannot be modified again:
 *   IncorrectModificationState, "Volume <id> cannot be modified in
 *   modification state MODIFYING" (EC2's answer as users report it);
 * - at most four modifications of a volume in 24 hours (the limit since
 *   January 2026, which replaced the six-hour cooldown): the fifth is
 *   VolumeModificationRateExceeded.
 */
import { ApiError } from './wire';

export interface ModificationTimeline {
  /** How long a modification stays 'modifying' (the size is not usable yet). */
  readonly modifyingMs: number;
  /** Then how long 'optimizing' (the size is usable), before 'completed'. */
  readonly optimizingMs: number;
}

/** Compressed like the sandbox's other clocks: seconds, not EC2's minutes. */
export const DEFAULT_TIMELINE: ModificationTimeline = { modifyingMs: 2_000, optimizingMs: 4_000 };

export const MODIFICATIONS_PER_DAY = 4;
const DAY_MS = 24 * 3600 * 1000;

export type EmulatedState = 'modifying' | 'optimizing' | 'completed';

export class VolumeModifications {
  /** Start times (ms) of each volume's modifications made through the front, oldest first. */
  private readonly starts = new Map<string, number[]>();

  constructor(
    private readonly timeline: ModificationTimeline = DEFAULT_TIMELINE,
    private readonly now: () => number = Date.now,
  ) {}

  stateOf(start: number): { state: EmulatedState; progress: number } {
    const elapsed = this.now() - start;
    if (elapsed < this.timeline.modifyingMs) return { state: 'modifying', progress: Math.min(49, Math.floor((elapsed / Math.max(1, this.timeline.modifyingMs)) * 50)) };
    if (elapsed < this.timeline.modifyingMs + this.timeline.optimizingMs) {
      return { state: 'optimizing', progress: 50 + Math.min(49, Math.floor(((elapsed - this.timeline.modifyingMs) / Math.max(1, this.timeline.optimizingMs)) * 50)) };
    }
    return { state: 'completed', progress: 100 };
  }

  /** What EC2 answers to a ModifyVolume of `volumeId` now, or undefined to let it through. */
  refusal(volumeId: string): ApiError | undefined {
    const starts = this.starts.get(volumeId) ?? [];
    const last = starts[starts.length - 1];
    if (last !== undefined) {
      const { state } = this.stateOf(last);
      if (state !== 'completed') return new ApiError('IncorrectModificationState', `Volume ${volumeId} cannot be modified in modification state ${state.toUpperCase()}`);
    }
    if (starts.filter((s) => this.now() - s < DAY_MS).length >= MODIFICATIONS_PER_DAY) {
      return new ApiError('VolumeModificationRateExceeded', `You've reached the maximum modification rate per volume limit: at most ${MODIFICATIONS_PER_DAY} modifications of ${volumeId} in 24 hours.`);
    }
    return undefined;
  }

  record(volumeId: string): void {
    const starts = this.starts.get(volumeId) ?? [];
    starts.push(this.now());
    this.starts.set(volumeId, starts);
  }

  /** moto's ModifyVolume answer (it says 'completed' at once) as EC2's: the new modification just begun. */
  rewriteModifyAnswer(xml: string, volumeId: string): string {
    const starts = this.starts.get(volumeId);
    const start = starts?.[starts.length - 1];
    if (start === undefined) return xml;
    return xml.replace(/<volumeModification>([\s\S]*?)<\/volumeModification>/, (_whole, inner: string) => `<volumeModification>${this.onTimeline(inner, start)}</volumeModification>`);
  }

  private onTimeline(inner: string, start: number): string {
    const { state, progress } = this.stateOf(start);
    const out = inner
      .replace(/<modificationState>[^<]*<\/modificationState>/, `<modificationState>${state}</modificationState>`)
      .replace(/<progress>[^<]*<\/progress>/, `<progress>${progress}</progress>`);
    return state === 'completed' ? out : out.replace(/<endTime>[^<]*<\/endTime>/, '');
  }

  /**
   * moto's DescribeVolumesModifications answer with each modification's state
   * and progress on the timeline (the n-th item of a volume is its n-th
   * modification through the front); a modification not yet completed has no endTime.
   */
  rewrite(xml: string): string {
    const seen = new Map<string, number>();
    return xml.replace(/<item>((?:(?!<\/item>)[\s\S])*?<modificationState>[\s\S]*?)<\/item>/g, (whole, inner: string) => {
      const volumeId = /<volumeId>([^<]+)<\/volumeId>/.exec(inner)?.[1];
      if (volumeId === undefined) return whole;
      const index = seen.get(volumeId) ?? 0;
      seen.set(volumeId, index + 1);
      const start = this.starts.get(volumeId)?.[index];
      if (start === undefined) return whole;
      return `<item>${this.onTimeline(inner, start)}</item>`;
    });
  }
}
