import { GLUSTER_BUSY_TRIES, glusterOn, type HostExec } from '../../e2e/gluster-cli';

function hostsAnswering(answers: Array<string | Error>): HostExec & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    exec: async (_id, argv) => {
      calls.push([...argv]);
      const next = answers.shift() ?? new Error('no more answers');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('glusterOn: the e2e tests\' gluster reader', () => {
  it('runs gluster in script mode on the host', async () => {
    const hosts = hostsAnswering(['Volume Name: pydio-data']);
    await expect(glusterOn(hosts, 'i-1', ['volume', 'info', 'pydio-data'], 0)).resolves.toBe('Volume Name: pydio-data');
    expect(hosts.calls).toEqual([['gluster', '--mode=script', 'volume', 'info', 'pydio-data']]);
  });

  it('waits out glusterd\'s cluster lock', async () => {
    const hosts = hostsAnswering([new Error('failed (exit 1): Another transaction is in progress for pydio-data. Please try again after some time.'), new Error('Locking failed on 10.0.2.5. Please check log file for details.'), 'ok']);
    await expect(glusterOn(hosts, 'i-1', ['volume', 'status'], 0)).resolves.toBe('ok');
    expect(hosts.calls).toHaveLength(3);
  });

  it('throws any other failure at once', async () => {
    const hosts = hostsAnswering([new Error('Volume pydio-data does not exist'), 'ok']);
    await expect(glusterOn(hosts, 'i-1', ['volume', 'info', 'pydio-data'], 0)).rejects.toThrow('does not exist');
    expect(hosts.calls).toHaveLength(1);
  });

  it(`gives up after ${GLUSTER_BUSY_TRIES} busy answers`, async () => {
    const hosts = hostsAnswering(Array.from({ length: GLUSTER_BUSY_TRIES + 5 }, () => new Error('Another transaction is in progress')));
    await expect(glusterOn(hosts, 'i-1', ['volume', 'status'], 0)).rejects.toThrow('Another transaction');
    expect(hosts.calls).toHaveLength(GLUSTER_BUSY_TRIES);
  });
});
