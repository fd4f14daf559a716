import { VolumeModifications } from '../../sandbox/control-plane/volume-modifications';

/** moto's answers: every modification 'completed' at once. */
const motoItem = (volumeId: string, start: string) =>
  `<item><volumeId>${volumeId}</volumeId><modificationState>completed</modificationState><targetSize>20</targetSize><originalSize>10</originalSize><progress>100</progress><startTime>${start}</startTime><endTime>${start}</endTime></item>`;
const describe_ = (items: string[]) => `<DescribeVolumesModificationsResponse><volumeModificationSet>${items.join('')}</volumeModificationSet></DescribeVolumesModificationsResponse>`;
const modifyAnswer = (volumeId: string) =>
  `<ModifyVolumeResponse><volumeModification><volumeId>${volumeId}</volumeId><modificationState>completed</modificationState><progress>100</progress><startTime>t</startTime><endTime>t</endTime></volumeModification></ModifyVolumeResponse>`;

describe('VolumeModifications: EBS modification states and limits that moto 5.2.1 does not keep', () => {
  let clock = 0;
  const mods = () => new VolumeModifications({ modifyingMs: 1000, optimizingMs: 2000 }, () => clock);

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('goes modifying -> optimizing -> completed along its timeline, with no endTime until completed', () => {
    const m = mods();
    m.record('vol-1');
    expect(m.rewriteModifyAnswer(modifyAnswer('vol-1'), 'vol-1')).toMatch(/<modificationState>modifying<\/modificationState><progress>0<\/progress><startTime>t<\/startTime><\/volumeModification>/);
    clock += 1500;
    const during = m.rewrite(describe_([motoItem('vol-1', 's')]));
    expect(during).toContain('<modificationState>optimizing</modificationState>');
    expect(during).not.toContain('<endTime>');
    clock += 2000;
    expect(m.rewrite(describe_([motoItem('vol-1', 's')]))).toContain('<modificationState>completed</modificationState><targetSize>20</targetSize><originalSize>10</originalSize><progress>100</progress>');
  });

  it('refuses a second modification until the first completed (IncorrectModificationState), then lets it through', () => {
    const m = mods();
    m.record('vol-1');
    expect(m.refusal('vol-1')).toMatchObject({ code: 'IncorrectModificationState', message: 'Volume vol-1 cannot be modified in modification state MODIFYING' });
    clock += 1500;
    expect(m.refusal('vol-1')?.message).toMatch(/OPTIMIZING/);
    clock += 2000;
    expect(m.refusal('vol-1')).toBeUndefined();
    expect(m.refusal('vol-2')).toBeUndefined();
  });

  it('refuses a fifth modification within 24 hours (VolumeModificationRateExceeded), and allows it a day later', () => {
    const m = mods();
    for (let i = 0; i < 4; i += 1) {
      m.record('vol-1');
      clock += 10_000;
    }
    expect(m.refusal('vol-1')?.code).toBe('VolumeModificationRateExceeded');
    clock += 24 * 3600 * 1000;
    expect(m.refusal('vol-1')).toBeUndefined();
  });

  it("rewrites each volume's n-th item from its n-th modification, and leaves volumes it did not modify alone", () => {
    const m = mods();
    m.record('vol-1');
    clock += 5000;
    m.record('vol-1');
    const out = m.rewrite(describe_([motoItem('vol-1', 'a'), motoItem('vol-1', 'b'), motoItem('vol-9', 'c')]));
    const states = [...out.matchAll(/<modificationState>([a-z]+)<\/modificationState>/g)].map((x) => x[1]);
    expect(states).toEqual(['completed', 'modifying', 'completed']);
  });
});
