/** HAProxy's `show stat` -> ELB target health: pure, runs without root. */
import { mapHealth, parseStat } from '../../sandbox/hosts';

const header = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,';
const row = (px: string, sv: string, scur: number, status: string, checkStatus: string, checkCode: string) =>
  `${px},${sv},0,0,${scur},0,,0,0,0,,0,,0,0,0,0,${status},1,1,0,0,0,0,0,,1,3,1,,0,,2,0,,0,${checkStatus},${checkCode},`;

describe('parseStat', () => {
  test('keeps servers only, by backend/server, with status, check and current sessions', () => {
    const csv = [header, row('fe_0', 'FRONTEND', 3, 'OPEN', '', ''), row('be_0', 'i-1-80', 2, 'UP', 'L7OK', '200'), row('be_0', 'i-2-80', 0, 'DOWN', '* L7STS', '404'), row('be_0', 'BACKEND', 2, 'UP', '', ''), ''].join('\n');
    const rows = parseStat(csv);
    expect([...rows.keys()]).toEqual(['be_0/i-1-80', 'be_0/i-2-80']);
    expect(rows.get('be_0/i-1-80')).toEqual({ status: 'UP', checkStatus: 'L7OK', checkCode: '200', currentSessions: 2 });
    expect(rows.get('be_0/i-2-80')).toEqual({ status: 'DOWN', checkStatus: 'L7STS', checkCode: '404', currentSessions: 0 });
  });

  test.each([
    ['an error answer', 'Unknown command.\n'],
    ['an empty answer', ''],
    ['a header without status', '# pxname,svname,check_status,check_code,scur\n'],
  ])('rejects %s with a clear error', (_, csv) => {
    expect(() => parseStat(csv)).toThrow(/show stat/);
  });
});

describe('mapHealth', () => {
  test.each([
    // status, check status, code, was healthy before -> state, reason
    ['DOWN', 'INI', '', false, 'initial', 'Elb.InitialHealthChecking'],
    ['DOWN', '', '', false, 'initial', 'Elb.InitialHealthChecking'],
    ['DOWN 1/2', 'L7OK', '200', false, 'initial', 'Elb.InitialHealthChecking'],
    ['UP', 'L7OK', '200', false, 'healthy', undefined],
    ['UP 1/2', 'L7STS', '500', true, 'healthy', undefined],
    ['DOWN', 'L7STS', '404', false, 'unhealthy', 'Target.ResponseCodeMismatch'],
    ['DOWN 1/2', 'L7OK', '200', true, 'unhealthy', 'Target.FailedHealthChecks'],
    ['DOWN', 'L4TOUT', '', true, 'unhealthy', 'Target.Timeout'],
    ['DOWN', 'L4CON', '', true, 'unhealthy', 'Target.FailedHealthChecks'],
    ['DRAIN', 'L7OK', '200', true, 'draining', 'Target.DeregistrationInProgress'],
    ['MAINT', 'L7OK', '200', true, 'unhealthy', 'Target.NotInUse'],
  ] as const)('%s / %s %s (was healthy: %s) -> %s', (status, checkStatus, checkCode, wasHealthy, state, reason) => {
    const health = mapHealth({ status, checkStatus, checkCode, currentSessions: 0 }, wasHealthy);
    expect(health.state).toBe(state);
    expect(health.reason).toBe(reason);
  });

  test('a failed HTTP check names the code it got', () => {
    expect(mapHealth({ status: 'DOWN', checkStatus: 'L7STS', checkCode: '503', currentSessions: 0 }, true).description).toBe('Health checks failed with these codes: [503]');
  });
});
