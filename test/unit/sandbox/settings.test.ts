/** startSandbox's options: storageStartsEmpty is refused, naming the problem, where it cannot work. */
import { resolveSettings } from '../../sandbox/boot/settings';

const base = { name: 'unit', networkOctet: 99, logFile: '/tmp/pas-unit-settings.log' };

describe('storageStartsEmpty', () => {
  it('is off by default and on when asked with data disks and no initial scale-out', () => {
    expect(resolveSettings(base).storageStartsEmpty).toBe(false);
    expect(resolveSettings({ ...base, storageStartsEmpty: true, storageDataDiskMiB: 512, skipInitialScaleOut: true }).storageStartsEmpty).toBe(true);
  });

  it.each([
    [{ skipInitialScaleOut: true }, 'storageStartsEmpty needs storageDataDiskMiB'],
    [{ storageDataDiskMiB: 512 }, 'storageStartsEmpty needs skipInitialScaleOut: there is no volume to mount'],
    [{ storageDataDiskMiB: 512, skipInitialScaleOut: true, storageBootDisks: true }, 'storageStartsEmpty excludes storageBootDisks'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSettings({ ...base, storageStartsEmpty: true, ...options })).toThrow(message);
  });
});
