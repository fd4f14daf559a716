import fs from 'node:fs';
import path from 'node:path';
import { DashboardError, parseDashboardBody, resolveDashboardBody } from '../../sandbox/dashboard/body';
import { parseSearch, type DashboardData } from '../../sandbox/dashboard/data';
import { dashboardFromServerlessYml, layoutGrid, layoutTable } from '../../sandbox/dashboard/layout';
import { parseArgs } from '../../sandbox/dashboard/render';
import { COLUMN_PX, escapeXml, HEADER_PX, renderDashboardSvg, ROW_PX, widgetBox } from '../../sandbox/dashboard/svg';

const REPO = path.resolve(__dirname, '..', '..', '..');
const START = new Date('2026-11-21T10:00:00Z');
const END = new Date('2026-11-21T10:05:00Z');

/** A body in the stack's shape: two metric widgets side by side, a text widget under them. */
const FIXTURE = {
  widgets: [
    {
      type: 'metric', x: 0, y: 0, width: 12, height: 6,
      properties: {
        title: 'CPU <group> & "avg"', view: 'timeSeries', region: 'eu-west-1', period: 60, stat: 'Average',
        metrics: [['AWS/EC2', 'CPUUtilization', 'AutoScalingGroupName', 'g-compute']],
        annotations: { horizontal: [{ label: 'scale out', value: 70 }, { label: 'scale in', value: 25 }] },
        yAxis: { left: { min: 0, max: 100 } },
      },
    },
    {
      type: 'metric', x: 12, y: 0, width: 12, height: 6,
      properties: {
        title: 'Actions', period: 300, stat: 'Sum',
        metrics: [['Ns', 'ScaleOut', 'service', 's'], ['.', 'ScaleIn', '.', '.', { yAxis: 'right', label: 'in' }]],
      },
    },
    { type: 'text', x: 6, y: 6, width: 6, height: 3, properties: { markdown: '# Notes <b>\nplain line' } },
  ],
};

const cpuPoints = [0, 60, 120, 180, 240].map((s, i) => ({ t: START.getTime() + s * 1000, v: [20, 50, 91, 88, 30][i] as number }));
const DATA: DashboardData = [
  [{ label: 'CPUUtilization', yAxis: 'left', points: cpuPoints }],
  [{ label: 'ScaleOut', yAxis: 'left', points: [] }, { label: 'in', yAxis: 'right', points: [] }],
  [],
];

describe('parseDashboardBody', () => {
  it('reads positions, periods, stats, annotations, "." shorthand and options', () => {
    const d = parseDashboardBody(JSON.stringify(FIXTURE));
    expect(d.widgets.map((w) => [w.type, w.x, w.y, w.width, w.height])).toEqual([['metric', 0, 0, 12, 6], ['metric', 12, 0, 12, 6], ['text', 6, 6, 6, 3]]);
    const actions = d.widgets[1];
    if (actions?.type !== 'metric') throw new Error('widget 1 is not a metric widget');
    expect(actions.series).toEqual([
      { kind: 'metric', namespace: 'Ns', metricName: 'ScaleOut', dimensions: { service: 's' }, stat: 'Sum', period: 300, yAxis: 'left', label: 'ScaleOut' },
      { kind: 'metric', namespace: 'Ns', metricName: 'ScaleIn', dimensions: { service: 's' }, stat: 'Sum', period: 300, yAxis: 'right', label: 'in' },
    ]);
    const cpu = d.widgets[0];
    if (cpu?.type !== 'metric') throw new Error('widget 0 is not a metric widget');
    expect(cpu.annotations).toEqual([{ label: 'scale out', value: 70 }, { label: 'scale in', value: 25 }]);
    expect([cpu.yMin, cpu.yMax, cpu.period]).toEqual([0, 100, 60]);
  });

  it.each([
    ['not JSON', '{"widgets":[', /not JSON/],
    ['no widgets', '{}', /widgets array/],
    ['past the grid', JSON.stringify({ widgets: [{ type: 'text', x: 20, width: 6, properties: { markdown: 'x' } }] }), /widget 0 x 20 \+ width 6 passes the 24-column grid/],
    ['unknown type', JSON.stringify({ widgets: [{ type: 'log', properties: {} }] }), /widget 0 type must be "metric" or "text", got "log"/],
    ['no metrics', JSON.stringify({ widgets: [{ type: 'metric', properties: { title: 'T', metrics: [] } }] }), /widget 0 \("T"\) needs a non-empty metrics array/],
    ['odd dimensions', JSON.stringify({ widgets: [{ type: 'metric', properties: { metrics: [['Ns', 'M', 'dimOnly']] } }] }), /metrics\[0\] must be \[namespace, metricName/],
    ['"." with nothing before', JSON.stringify({ widgets: [{ type: 'metric', properties: { metrics: [['.', 'M']] } }] }), /position 0 is "." but the previous metric has no value there/],
    ['annotation without value', JSON.stringify({ widgets: [{ type: 'metric', properties: { metrics: [['N', 'M']], annotations: { horizontal: [{ label: 'x' }] } } }] }), /annotations.horizontal\[0\] needs a value/],
  ])('refuses %s naming the problem', (_what, body, message) => {
    expect(() => parseDashboardBody(body)).toThrow(DashboardError);
    expect(() => parseDashboardBody(body)).toThrow(message);
  });
});

describe('resolveDashboardBody', () => {
  const template = {
    Parameters: { StorageGroupName: { Type: 'String', Default: 'st-group' } },
    Resources: {
      ClusterDashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardBody: { 'Fn::Sub': ['${AWS::Region}|${StorageGroupName}|${Tg}|${G}', { G: 'compute', Tg: { 'Fn::Select': [5, { 'Fn::Split': [':', 'arn:aws:elb:eu-west-1:1:targetgroup/PLACE/0'] }] } }] },
        },
      },
    },
  };

  it('resolves Sub with its map, pseudo parameters, parameter defaults, Select/Split and replacements', () => {
    expect(resolveDashboardBody(template, { region: 'eu-west-1', replace: { PLACE: 'real' } })).toBe('eu-west-1|st-group|targetgroup/real/0|compute');
    expect(resolveDashboardBody(template, { region: 'us-east-1', parameters: { StorageGroupName: 'given' } })).toBe('us-east-1|given|targetgroup/PLACE/0|compute');
  });

  it('swaps a placeholder ARN before Select/Split take it apart (as the sandbox deploy replaces it)', () => {
    const real = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pas-tg/1234abcd';
    expect(resolveDashboardBody(template, { region: 'eu-west-1', replace: { 'arn:aws:elb:eu-west-1:1:targetgroup/PLACE/0': real } })).toBe('eu-west-1|st-group|targetgroup/pas-tg/1234abcd|compute');
  });

  it('keeps ${!Literal} as a literal ${Literal}', () => {
    const literal = { Resources: { ClusterDashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: { 'Fn::Sub': '${!Not}-${AWS::Region}' } } } } };
    expect(resolveDashboardBody(literal, { region: 'eu-west-1' })).toBe('${Not}-eu-west-1');
  });

  it('resolves only the branch of an Fn::If its condition chooses (the reference cluster\'s target group is a GetAtt it never reaches when attached)', () => {
    const chosen = (createCluster: string) => ({
      Parameters: { CreateCluster: { Type: 'String', Default: createCluster }, Arn: { Type: 'String', Default: 'arn:aws:elb:eu-west-1:1:targetgroup/tg/0' } },
      Conditions: { Creates: { 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'CreateCluster' }, 'true'] }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Arn' }, 'x'] }] }] }, Attaches: { 'Fn::Not': [{ Condition: 'Creates' }] } },
      Resources: {
        ClusterDashboard: {
          Type: 'AWS::CloudWatch::Dashboard',
          Properties: { DashboardBody: { 'Fn::Sub': ['${Tg}', { Tg: { 'Fn::If': ['Attaches', { 'Fn::Select': [5, { 'Fn::Split': [':', { Ref: 'Arn' }] }] }, { 'Fn::GetAtt': ['ClusterTargetGroup', 'TargetGroupFullName'] }] } }] } },
        },
      },
    });
    expect(resolveDashboardBody(chosen('false'), { region: 'eu-west-1' })).toBe('targetgroup/tg/0');
    expect(() => resolveDashboardBody(chosen('true'), { region: 'eu-west-1' })).toThrow(/Fn::GetAtt is not supported for dashboards/);
  });

  it('names what it cannot resolve', () => {
    const bad = { Resources: { ClusterDashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: { 'Fn::Sub': '${Nowhere}' } } } } };
    expect(() => resolveDashboardBody(bad, { region: 'eu-west-1' })).toThrow(/Ref Nowhere is neither a parameter/);
    expect(() => resolveDashboardBody({ Resources: {} }, { region: 'eu-west-1' })).toThrow(/no AWS::CloudWatch::Dashboard ClusterDashboard/);
  });
});

describe('renderDashboardSvg', () => {
  const dashboard = parseDashboardBody(FIXTURE);
  const svg = renderDashboardSvg(dashboard, DATA, { name: 'fixture', start: START, end: END });

  it('places every widget at its grid position (24 columns)', () => {
    expect(widgetBox({ x: 12, y: 6, width: 12, height: 6 })).toEqual({ left: 12 * COLUMN_PX + 4, top: HEADER_PX + 6 * ROW_PX + 4, width: 12 * COLUMN_PX - 8, height: 6 * ROW_PX - 8 });
    const groups = [...svg.matchAll(/<g class="widget" data-index="(\d)" data-grid="([\d,]+)">\n<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)];
    expect(groups.map((g) => g.slice(1))).toEqual(
      dashboard.widgets.map((w, i) => {
        const b = widgetBox(w);
        return [String(i), `${w.x},${w.y},${w.width},${w.height}`, String(b.left), String(b.top), String(b.width), String(b.height)];
      }),
    );
    expect(svg).toMatch(/^<svg [^>]*width="1200" height="(\d+)"/);
    expect(Number(/height="(\d+)"/.exec(svg)?.[1])).toBe(HEADER_PX + 9 * ROW_PX + 8);
  });

  it('escapes titles and text', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
    expect(svg).toContain('CPU &lt;group&gt; &amp; &quot;avg&quot;');
    expect(svg).toContain('Notes &lt;b&gt;');
    expect(svg).not.toContain('<group>');
    expect(svg).not.toMatch(/<b>/);
  });

  it('draws the line through every point and the thresholds on the fixed 0-100 axis', () => {
    const line = /<polyline class="series" points="([^"]+)"/.exec(svg)?.[1] ?? '';
    const pts = line.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    expect(pts).toHaveLength(5);
    // x grows with time; the 91 point is the highest (smallest y)
    expect(pts.map((p) => p[0])).toEqual([...pts.map((p) => p[0])].sort((a, b) => a - b));
    expect(Math.min(...pts.map((p) => p[1]))).toBe(pts[2]?.[1]);
    const annotations = [...svg.matchAll(/<line class="annotation" [^>]*y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(annotations).toHaveLength(2);
    const [y70, y25] = annotations as [number, number];
    // 91 is above 70 (smaller y), 20 below 25
    expect(pts[2]?.[1]).toBeLessThan(y70);
    expect(pts[0]?.[1]).toBeGreaterThan(y25);
    expect(svg).toContain('scale out 70');
    expect(svg).toContain('CPUUtilization (last 30)');
  });

  it('a widget whose metrics have no data says so, and each series says it has none', () => {
    expect(svg.match(/class="no-data"/g)).toHaveLength(1);
    expect(svg).toContain('No data available.');
    expect(svg).toContain('ScaleOut (no data)');
    expect(svg).toContain('in (right) (no data)');
  });

  it('a series flat at 0 (a healthy cluster) gets a 0..1 axis, not five labels of 0', () => {
    const zeros: DashboardData = [DATA[0]!, [{ label: 'ScaleOut', yAxis: 'left', points: cpuPoints.map((p) => ({ ...p, v: 0 })) }, { label: 'in', yAxis: 'right', points: [] }], []];
    const flat = renderDashboardSvg(dashboard, zeros, { name: 'fixture', start: START, end: END });
    const actions = flat.slice(flat.indexOf('data-index="1"'), flat.indexOf('data-index="2"'));
    const labels = [...actions.matchAll(/<text[^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toContain('1');
    expect(new Set(labels).size).toBeGreaterThan(1);
  });

  it('refuses data that does not match the widgets', () => {
    expect(() => renderDashboardSvg(dashboard, [[]], { name: 'x', start: START, end: END })).toThrow(/data has 1 widget entries for 3 widgets/);
  });
});

describe('parseSearch', () => {
  it('reads the stack healthy-targets SEARCH', () => {
    expect(parseSearch(`SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="HealthyHostCount" TargetGroup="targetgroup/x/1"', 'Minimum', 60)`)).toEqual({
      namespace: 'AWS/ApplicationELB', schema: ['LoadBalancer', 'TargetGroup'], metricName: 'HealthyHostCount', filters: { TargetGroup: 'targetgroup/x/1' }, stat: 'Minimum', period: 60,
    });
    expect(parseSearch('METRICS()')).toBeUndefined();
  });
});

describe('the stack dashboard and the README', () => {
  const dashboard = dashboardFromServerlessYml(fs.readFileSync(path.join(REPO, 'serverless.yml'), 'utf8'));

  it('the real template parses: eight widgets tiling the 24-column grid with no overlap', () => {
    expect(dashboard.widgets).toHaveLength(8);
    const grid = layoutGrid(dashboard);
    expect(grid.split('\n').every((row) => row.length === 24 && !row.includes('.'))).toBe(true);
  });

  it('README shows the layout exactly as the template has it', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain(['```text', layoutGrid(dashboard), '```'].join('\n'));
    expect(readme).toContain(layoutTable(dashboard));
  });
});

describe('the committed example picture', () => {
  const svg = fs.readFileSync(path.join(REPO, 'test', 'sandbox', 'dashboard', 'example.svg'), 'utf8');
  const dashboard = dashboardFromServerlessYml(fs.readFileSync(path.join(REPO, 'serverless.yml'), 'utf8'));

  it('is referenced from README and shows the template\'s widgets at their grid places', () => {
    expect(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')).toContain('(test/sandbox/dashboard/example.svg)');
    const grids = [...svg.matchAll(/<g class="widget" data-index="\d+" data-grid="([\d,]+)">/g)].map((m) => m[1]);
    expect(grids).toEqual(dashboard.widgets.map((w) => `${w.x},${w.y},${w.width},${w.height}`));
    for (const w of dashboard.widgets) if (w.type === 'metric') expect(svg).toContain(escapeXml(w.title));
  });
});

describe('render.ts command line', () => {
  it('reads the options, minutes default 15', () => {
    expect(parseArgs(['--from', '.sandbox', '--template', 't.json', '--out', 'd.svg', '--period', '10'])).toEqual({ from: '.sandbox', template: 't.json', out: 'd.svg', minutes: 15, period: 10 });
  });

  it.each([
    [['--from', 'x', '--out', 'y'], /--template is required/],
    [['--from', 'x', '--template', 't', '--out', 'y', '--minutes', 'ten'], /--minutes must be 0-1440, got 'ten'/],
    [['--from', 'x', '--template', 't', '--out', 'y', '--period', '2.5'], /--period must be a positive integer of seconds, got '2.5'/],
    [['--out'], /--out needs a value/],
    [['--colour', 'red'], /unknown option '--colour'/],
  ])('refuses %j naming the problem', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('fetchDashboardData: a SEARCH widget', () => {
  it('draws one series per metric even when ListMetrics repeats a metric (moto lists it once per PutMetricData)', async () => {
    const { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } = await import('@aws-sdk/client-cloudwatch');
    const { mockClient } = await import('aws-sdk-client-mock');
    const { fetchDashboardData } = await import('../../sandbox/dashboard/data');
    const cw = mockClient(CloudWatchClient);
    const dims = [{ Name: 'LoadBalancer', Value: 'app/pas-haproxy/0' }, { Name: 'TargetGroup', Value: 'targetgroup/pas-tg/1' }];
    const metric = { Namespace: 'AWS/ApplicationELB', MetricName: 'HealthyHostCount', Dimensions: dims };
    cw.on(ListMetricsCommand).resolves({ Metrics: [metric, metric, { ...metric, Dimensions: [...dims].reverse() }] });
    cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Timestamp: new Date('2026-11-21T10:00:00Z'), Minimum: 2 }] });
    const dashboard = parseDashboardBody({
      widgets: [{ type: 'metric', x: 0, y: 0, width: 12, height: 6, properties: { title: 'Healthy targets', period: 60, stat: 'Minimum', metrics: [[{ expression: `SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="HealthyHostCount" TargetGroup="targetgroup/pas-tg/1"', 'Minimum', 60)`, id: 'healthy', label: 'HealthyHostCount' }]] } }],
    });
    const data = await fetchDashboardData(new CloudWatchClient({ region: 'eu-west-1' }), dashboard, { start: new Date('2026-11-21T09:59:00Z'), end: new Date('2026-11-21T10:05:00Z') });
    expect(data[0]).toHaveLength(1);
    expect(data[0]![0]).toMatchObject({ label: 'HealthyHostCount', points: [{ v: 2 }] });
    cw.restore();
  });
});

describe('dashboardFromServerlessYml reads osls fallbacks as sls package does', () => {
  const yml = (stageParams: string) => `service: svc
custom:
  unlessGiven:
    'true': ''
params:
  default:
    createCluster: 'false'
  x:
${stageParams}
resources:
  Parameters:
    Arn:
      Type: String
      Default: '\${param:arn, self:custom.unlessGiven.\${param:createCluster}}'
  Resources:
    ClusterDashboard:
      Type: AWS::CloudWatch::Dashboard
      Properties:
        DashboardBody: !Sub
          - '{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":2,"properties":{"markdown":"\${Tg} in \${AWS::Region}"}}]}'
          - Tg: !Ref Arn
`;

  it('the given param first, the fallback (with its own nested variable) when the param is missing, and an error when neither has a value', () => {
    const markdown = (stageParams: string) => (dashboardFromServerlessYml(yml(stageParams), 'x').widgets[0] as { markdown: string }).markdown;
    expect(markdown("    arn: given")).toBe('given in eu-west-1');
    expect(markdown("    createCluster: 'true'")).toBe(' in eu-west-1');
    expect(() => markdown("    other: 1")).toThrow(/uses \$\{param:arn, self:custom.unlessGiven.\$\{param:createCluster\}\}, which the x stage does not define/);
  });
});
