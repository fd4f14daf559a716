import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { checkStage, formatProblems, HEARTBEAT_TIMEOUT_RANGE, LOG_LEVELS, resolveStageParams, variablesFedByParams } from '../../../lib/config/stage-params';
import { memberShape } from '../../contracts/aws-model';
import { packagedStage, paramsUsed, SERVERLESS_YML } from './stage-fixture';

const STORAGE = { storageGroupName: 'pydio-storage' };
/** A stage that creates the reference cluster: its compute image and its storage group are what CreatesCluster needs. */
const CLUSTER = { createCluster: 'true', computeImageId: 'ami-0123456789abcdef0', ...STORAGE };

describe('the example stages pass', () => {
  it.each([
    ['dev (static Gluster servers)', {}],
    ['dev with a storage group', STORAGE],
    ['dev growing in place', { ...STORAGE, storageGrowInPlace: 'preferred', storageGrowToGib: '200' }],
    ['a real stage from its own params', { computeGroupName: 'pydio-compute', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-web/0123456789abcdef', glusterServers: '', storageGroupName: 'pydio-storage', opsEmail: 'ops@example.org', appSessionCookie: 'AjaXplorer' }],
    ['a stage that creates the reference cluster', CLUSTER],
    ['the reference cluster in three zones, over HTTPS', { ...CLUSTER, clusterZones: '3', storageMaxSize: '6', clusterCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789' }],
    ['opsSubscriptions as a YAML list', { opsSubscriptions: [{ protocol: 'https', endpoint: 'https://global.sns-api.chatbot.amazonaws.com', minSeverity: 'warning' }] }],
  ])('%s', (_stage, overrides) => {
    const check = checkStage(packagedStage(overrides));
    expect(check.problems).toEqual([]);
    expect(check.notes).toEqual([]);
  });
});

/**
 * One bad value per stage parameter serverless.yml reads, and the words the
 * message must carry: the parameter's name (and the variable it sets, where
 * a function's own parser found it).
 */
const BAD: ReadonlyArray<[param: string, value: unknown, expected: RegExp, extra?: Record<string, unknown>]> = [
  ['computeGroupName', 'pydio compute', /computeGroupName \(COMPUTE_ASG_NAME\) must be an Auto Scaling group name/],
  ['targetGroupArn', 'arn:aws:sns:eu-west-1:123456789012:pydio-topic', /targetGroupArn \(TARGET_GROUP_ARN\) must be a target group ARN/],
  ['glusterServers', '10.0.1.10;rm -rf /', /glusterServers \(GLUSTER_SERVERS\) must be a comma-separated list of host names or IPs/],
  ['storageGroupName', 'pydio storage', /storageGroupName \(STORAGE_ASG_NAME\) must be an Auto Scaling group name/],
  ['appPort', '0', /appPort \(APP_PORT\) must be between 1 and 65535/],
  ['loadBalancerIdleTimeout', '4001', /loadBalancerIdleTimeout \(LB_IDLE_TIMEOUT_SECONDS\) must be between 1 and 4000/],
  ['glusterConfigVolume', 'pydio/config', /glusterConfigVolume \(GLUSTER_CONFIG_VOLUME\) must be a Gluster volume name/],
  ['glusterDataVolume', '-data', /glusterDataVolume \(GLUSTER_DATA_VOLUME\) must be a Gluster volume name/],
  ['configMount', 'mnt/config', /configMount \(CONFIG_MOUNT\) must be an absolute path/],
  ['dataMount', '/mnt/pydio data', /dataMount \(DATA_MOUNT\) must be an absolute path/],
  ['appRoot', '/var/www/$(id)', /appRoot \(APP_ROOT\) must be an absolute path/],
  ['webUser', 'Root', /webUser \(WEB_USER\) must be a Unix user name/],
  ['webService', 'nginx', /webService \(WEB_SERVICE\) must be apache2 or httpd/],
  ['appProfile', 'cells', /appProfile \(APP_PROFILE\) must be one of pydio8/],
  ['appSessionCookie', 'PHPSESSID', /appSessionCookie "PHPSESSID" is not a cookie the pydio8 app sets.*session cookie is AjaXplorer/],
  ['opsEmail', 'ops at example.org', /opsEmail must be empty or an e-mail address/],
  ['dryRun', 'maybe', /dryRun \(DRY_RUN\) must be true or false/],
  ['launchHeartbeatTimeout', '20', /launchHeartbeatTimeout must be a whole number from 30 to 7200/],
  ['terminateHeartbeatTimeout', '7201', /terminateHeartbeatTimeout must be a whole number from 30 to 7200/],
  ['retryBaseSeconds', 'ten', /retryBaseSeconds \(RETRY_BASE_SECONDS\) must be a whole number/],
  ['retryMaxSeconds', '901', /retryMaxSeconds \(RETRY_MAX_SECONDS\) must be between 0 and 900/],
  ['ssmOnlineTimeoutSeconds', '0', /ssmOnlineTimeoutSeconds \(SSM_ONLINE_TIMEOUT_SECONDS\) must be between 1 and 7200/],
  ['commandTimeoutSeconds', '29', /commandTimeoutSeconds \(COMMAND_TIMEOUT_SECONDS\) must be between 30 and 7200/],
  ['healthyTimeoutSeconds', '7201', /healthyTimeoutSeconds \(HEALTHY_TIMEOUT_SECONDS\) must be between 1 and 7200/],
  ['drainMaxSeconds', '-1', /drainMaxSeconds \(DRAIN_MAX_SECONDS\) must be a whole number/],
  ['logLevel', 'info', /logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT/],
  ['cpuHighThreshold', '101', /cpuHighThreshold must be a percentage from 0 to 100/],
  ['cpuHighPeriod', '45', /cpuHighPeriod must be 10, 20, 30 or a multiple of 60 seconds/],
  ['cpuHighEvaluationPeriods', '0', /cpuHighEvaluationPeriods must be a whole number of at least 1/],
  ['cpuLowThreshold', '80', /cpuLowThreshold \(80\) must be below cpuHighThreshold \(70\)/],
  ['cpuLowPeriod', '90', /cpuLowPeriod must be 10, 20, 30 or a multiple of 60 seconds/],
  ['cpuLowEvaluationPeriods', '300', /cpuLowEvaluationPeriods \(300\) x cpuLowPeriod \(300\) must be at most 86400 seconds/],
  ['diskHighThreshold', '-5', /diskHighThreshold must be a percentage from 0 to 100/, STORAGE],
  ['diskHighPeriod', '61', /diskHighPeriod must be 10, 20, 30 or a multiple of 60 seconds/, STORAGE],
  ['diskHighEvaluationPeriods', 'one', /diskHighEvaluationPeriods must be a whole number of at least 1/, STORAGE],
  ['brickMount', 'bricks', /brickMount must be an absolute path/, STORAGE],
  ['scaleOutStep', '0', /scaleOutStep \(SCALE_OUT_STEP\) must be between 1 and 100/],
  ['scaleOutLargeStep', '101', /scaleOutLargeStep \(SCALE_OUT_LARGE_STEP\) must be between 1 and 100/],
  ['largeStepFactor', '1', /largeStepFactor \(LARGE_STEP_FACTOR\) must be above 1/],
  ['scaleCooldownSeconds', '86401', /scaleCooldownSeconds \(SCALE_COOLDOWN_SECONDS\) must be between 0 and 86400/],
  ['scaleBusyRecheckSeconds', '901', /scaleBusyRecheckSeconds \(SCALE_BUSY_RECHECK_SECONDS\) must be between 1 and 900/],
  ['storageBrickRoot', 'bricks', /storageBrickRoot \(STORAGE_BRICK_ROOT\) must be an absolute path/, STORAGE],
  ['storageBrickDevice', 'sdf', /storageBrickDevice \(STORAGE_BRICK_DEVICE\) must be empty or a \/dev\/\.\.\. device path/, STORAGE],
  ['storageNewBrickGib', '0', /storageNewBrickGib \(STORAGE_NEW_BRICK_GIB\) must be between 1 and 65536/, STORAGE],
  ['storageMaxSetsPerRequest', '17', /storageMaxSetsPerRequest \(STORAGE_MAX_SETS_PER_REQUEST\) must be between 1 and 16/, STORAGE],
  ['storageShrinkHeadroomPercent', '91', /storageShrinkHeadroomPercent \(STORAGE_SHRINK_HEADROOM_PERCENT\) must be between 0 and 90/, STORAGE],
  ['storageLockStaleSeconds', '9', /storageLockStaleSeconds \(STORAGE_LOCK_STALE_SECONDS\) must be between 10 and/, STORAGE],
  ['storageLockStaleSeconds', '200', /storageLockStaleSeconds \(STORAGE_LOCK_STALE_SECONDS\) \(200\) must be at least twice retryMaxSeconds/, STORAGE],
  ['claimTtlSeconds', '9', /claimTtlSeconds \(CLAIM_TTL_SECONDS\) must be between 10 and/],
  ['watchPeriodMinutes', '0', /watchPeriodMinutes \(WATCH_PERIOD_MINUTES\) must be between 1 and 1440/],
  ['watchUnhealthyChecks', '0', /watchUnhealthyChecks \(WATCH_UNHEALTHY_CHECKS\) must be between 1 and 100/],
  ['watchMaxReplaceShare', '1.5', /watchMaxReplaceShare \(WATCH_MAX_REPLACE_SHARE\) must be above 0 and at most 1/],
  ['glusterRepairBricks', 'maybe', /glusterRepairBricks \(STORAGE_REPAIR_BRICKS\) must be true or false/, STORAGE],
  ['glusterAlarmPeriod', '30', /glusterAlarmPeriod must be a multiple of 60 seconds up to 86400/, STORAGE],
  ['storageHealthMaxAge', '59', /storageHealthMaxAge \(STORAGE_HEALTH_MAX_AGE_SECONDS\) must be between 60 and 86400/],
  ['storageLaunchHeartbeatTimeout', '7201', /storageLaunchHeartbeatTimeout must be a whole number from 30 to 7200/, STORAGE],
  ['storageTerminateHeartbeatTimeout', '29', /storageTerminateHeartbeatTimeout must be a whole number from 30 to 7200/, STORAGE],
  ['storageGrowInPlace', 'always', /storageGrowInPlace must be off, allowed or preferred/],
  ['storageGrowToGib', '', /storageGrowToGib \(STORAGE_GROW_TO_GIB\) is required when storageGrowInPlace \(STORAGE_GROW_IN_PLACE\) is allowed/, { ...STORAGE, storageGrowInPlace: 'allowed' }],
  ['storageBrickEbsDevice', '/dev/nvme1n1', /storageBrickEbsDevice \(STORAGE_BRICK_EBS_DEVICE\) must be the EBS device name/, STORAGE],
  ['createCluster', 'yes', /createCluster must be 'true' or 'false'/],
  ['computeImageId', '', /computeImageId must be an AMI id \(ami-\.\.\.\)/, CLUSTER],
  ['clusterZones', '1', /clusterZones must be '2' or '3'/, CLUSTER],
  ['clusterVpcCidr', '10.80.0.0/24', /clusterVpcCidr must be an IPv4 \/16/, CLUSTER],
  ['clusterAllowedCidr', '0.0.0.0', /clusterAllowedCidr must be an IPv4 CIDR/, CLUSTER],
  ['clusterCertificateArn', 'arn:aws:iam::123456789012:server-certificate/x', /clusterCertificateArn must be empty or an ACM certificate ARN/, CLUSTER],
  ['computeInstanceType', 't3 medium', /computeInstanceType must be an EC2 instance type/, CLUSTER],
  ['storageInstanceType', 'large', /storageInstanceType must be an EC2 instance type/, CLUSTER],
  ['storageImageParameter', 'debian 12 image', /storageImageParameter must be the name of an SSM parameter/, CLUSTER],
  ['databaseInstanceClass', 't4g.micro', /databaseInstanceClass must be an RDS instance class/, CLUSTER],
  ['databaseMultiAz', 'yes', /databaseMultiAz must be 'true' or 'false'/, CLUSTER],
  ['databaseEngineVersion', 'latest', /databaseEngineVersion must be a MySQL engine version/, CLUSTER],
  ['databaseStorageGib', '10', /databaseStorageGib must be a whole number from 20 to 65536/, CLUSTER],
  ['computeMinSize', '0', /computeMinSize must be a whole number from 1 to 1000/, CLUSTER],
  ['computeMaxSize', '1', /computeMaxSize \(1\) must not be below computeMinSize \(2\)/, { ...CLUSTER, computeMinSize: '2' }],
  ['storageMaxSize', '2', /storageMaxSize must be a whole number from 3 to 1000 \(.*one member per zone \(3\)\)/, { ...CLUSTER, clusterZones: '3' }],
  ['opsSubscriptions', [{ protocol: 'sqs', endpoint: 'arn:aws:sqs:eu-west-1:123456789012:q' }], /opsSubscriptions\[0\]\.protocol must be one of email, email-json, https/],
];

describe('one bad value per stage parameter fails with a message naming it', () => {
  it('covers every parameter serverless.yml reads, and opsSubscriptions', () => {
    expect([...new Set(BAD.map(([param]) => param))].sort()).toEqual([...paramsUsed(), 'opsSubscriptions'].sort());
  });

  it.each(BAD.map(([param, value, expected, extra]) => [param, JSON.stringify(value), value, expected, extra] as const))('%s = %s', (param, _shown, value, expected, extra) => {
    // Act
    const { problems } = checkStage(packagedStage({ ...extra, [param]: value }));
    // Assess
    expect(problems.map((p) => p.param)).toEqual([param]);
    expect(problems[0]?.message).toMatch(expected);
  });
});

describe('rules across parameters', () => {
  it.each([
    ['neither a Gluster source', { glusterServers: '', storageGroupName: '' }, 'glusterServers', /set glusterServers \(GLUSTER_SERVERS\), or storageGroupName \(STORAGE_ASG_NAME\)/],
    ['retries longer than half a hook timeout', { retryMaxSeconds: '600', launchHeartbeatTimeout: '900' }, 'launchHeartbeatTimeout', /launchHeartbeatTimeout \(900\) must be more than twice retryMaxSeconds \(600\)/],
    ['a first retry after the longest', { retryBaseSeconds: '200', retryMaxSeconds: '100' }, 'retryMaxSeconds', /retryMaxSeconds \(RETRY_MAX_SECONDS\) \(100\) must not be below retryBaseSeconds \(RETRY_BASE_SECONDS\) \(200\)/],
    ['the settings UI\'s cookie', { appSessionCookie: 'Pydio_Settings' }, 'appSessionCookie', /is the settings UI's session.*session cookie is AjaXplorer/],
    ['a public link\'s cookie', { appSessionCookie: 'AjaXplorer_Shared1a2b' }, 'appSessionCookie', /is a public link's session/],
    ['a created cluster without its storage group', { ...CLUSTER, storageGroupName: '', glusterServers: '10.0.1.10' }, 'storageGroupName', /storageGroupName must name the storage group the stack creates when createCluster is true/],
    ['a cookie name the load balancer reserves', { appSessionCookie: 'AWSALBAPP-0' }, 'appSessionCookie', /appSessionCookie \(APP_SESSION_COOKIE\) must not start with AWSALB/],
  ])('%s', (_case, overrides, param, expected) => {
    const { problems } = checkStage(packagedStage(overrides));
    expect(problems.map((p) => p.param)).toContain(param);
    expect(problems.find((p) => p.param === param)?.message).toMatch(expected);
  });

  it('leaves the storage tier\'s parameters alone where there is no storage group (the template deploys none of it)', () => {
    expect(checkStage(packagedStage({ storageLaunchHeartbeatTimeout: '5', diskHighPeriod: '7', storageMaxSetsPerRequest: '0' })).problems).toEqual([]);
  });

  it('reports every problem at once, one per parameter', () => {
    const { problems } = checkStage(packagedStage({ launchHeartbeatTimeout: '5', logLevel: 'debug', cpuHighPeriod: '45', appPort: '0' }));
    expect(problems.map((p) => p.param).sort()).toEqual(['appPort', 'cpuHighPeriod', 'launchHeartbeatTimeout', 'logLevel']);
    expect(formatProblems('prod', problems)).toMatch(/^Stage "prod": 4 stage parameters cannot work \(set them under params\.prod in serverless\.yml or with --param="name=value"\):\n {2}- /);
  });

  it('notes a function it has no parser for instead of failing it', () => {
    const stage = packagedStage();
    const check = checkStage({ ...stage, functions: { ...stage.functions, reporter: { environment: { X: 'y' } } } });
    expect(check.problems).toEqual([]);
    expect(check.notes).toEqual(['function reporter: no parser known here, its environment is checked at its cold start only']);
  });
});

describe('resolveStageParams: osls\'s order', () => {
  it('takes --param first, then params.<stage>, then params.default; a value may hold "="', () => {
    const config = { default: { a: 'default-a', b: 'default-b', c: 'default-c' }, prod: { b: 'prod-b', c: null } };
    expect(resolveStageParams('prod', config, ['a=cli=a', 'x=1 '])).toEqual({ a: 'cli=a', b: 'prod-b', c: 'default-c', x: '1' });
  });
});

describe('variablesFedByParams', () => {
  it('reads serverless.yml: a variable set from a param, or from a template parameter that defaults to one', () => {
    const fed = variablesFedByParams(SERVERLESS_YML);
    expect(fed).toMatchObject({ COMPUTE_ASG_NAME: 'computeGroupName', GLUSTER_SERVERS: 'glusterServers', STORAGE_ASG_NAME: 'storageGroupName', RETRY_MAX_SECONDS: 'retryMaxSeconds', STORAGE_GROW_IN_PLACE: 'storageGrowInPlace' });
    expect(fed.TOPIC_ARN).toBeUndefined();
  });
});

describe('the constants are the sources\' own', () => {
  it('Powertools\' log levels', () => {
    expect([...LOG_LEVELS].sort()).toEqual(Object.keys(LogLevelThreshold).sort());
  });

  it('PutLifecycleHook HeartbeatTimeout, in AWS\'s published model', () => {
    const doc = memberShape('autoscaling', 'PutLifecycleHook', 'input', 'HeartbeatTimeout').documentation ?? '';
    expect(doc).toContain(`The range is from <code>${HEARTBEAT_TIMEOUT_RANGE[0]}</code> to <code>${HEARTBEAT_TIMEOUT_RANGE[1]}</code> seconds`);
  });

  it('PutMetricAlarm Period and the total evaluation period, in AWS\'s published model', () => {
    const doc = memberShape('cloudwatch', 'PutMetricAlarm', 'input', 'Period').documentation ?? '';
    expect(doc).toContain('Valid values are 10, 20, 30, and any multiple of 60.');
    expect(doc).toContain('For alarms with a period of less than one hour (3,600 seconds), the total evaluation period can\'t be longer than one day (86,400 seconds).');
  });
});
