import { parseConfig } from '../../../lib/config/compute';
import { DOCUMENT_PATTERNS } from '../../../lib/config/env';
import { ConfigurationError } from '../../../lib/errors';

const valid = {
  STAGE: 'dev',
  COMPUTE_ASG_NAME: 'pydio-compute',
  TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123456789abcdef',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev',
  LIFECYCLE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-lifecycle',
  GLUSTER_SERVERS: '10.0.1.10, 10.0.2.10',
  DOC_MOUNT_VOLUMES: 'pydio-autoscaler-dev-mount-volumes',
  DOC_CONFIGURE_APP: 'pydio-autoscaler-dev-configure-app',
  DOC_DRAIN_NODE: 'pydio-autoscaler-dev-drain-node',
  COORDINATION_TABLE: 'pydio-autoscaler-dev-coordination',
};

describe('parseConfig', () => {
  it('parses a valid environment with defaults and freezes it', () => {
    const config = parseConfig(valid);
    expect(config.gluster).toMatchObject({ servers: ['10.0.1.10', '10.0.2.10'], configVolume: 'pydio-config', dataVolume: 'pydio-data', configMount: '/mnt/pydio-config' });
    expect(config.appPort).toBe(80);
    expect(config.dryRun).toBe(false);
    expect(config.timing.retryBaseSeconds).toBe(10);
    expect(config.coordinationTable).toBe('pydio-autoscaler-dev-coordination');
    expect(config.timing.claimTtlSeconds).toBe(900);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.gluster.servers)).toBe(true);
  });

  it('takes the session cookie from the app profile: Pydio 8 names its session AjaXplorer', () => {
    expect(parseConfig(valid).app).toMatchObject({ profile: 'pydio8', sessionCookie: 'AjaXplorer' });
  });

  it('lets APP_SESSION_COOKIE override the profile\'s session cookie', () => {
    expect(parseConfig({ ...valid, APP_SESSION_COOKIE: ' MySession ' }).app.sessionCookie).toBe('MySession');
  });

  it('reads DRY_RUN', () => {
    expect(parseConfig({ ...valid, DRY_RUN: 'true' }).dryRun).toBe(true);
  });

  it('accepts discovery from the storage group instead of a server list', () => {
    const config = parseConfig({ ...valid, GLUSTER_SERVERS: '', STORAGE_ASG_NAME: 'pydio-storage' });
    expect(config.gluster.servers).toEqual([]);
    expect(config.storageGroupName).toBe('pydio-storage');
  });

  it.each([
    ['STAGE missing', { STAGE: undefined }, 'STAGE is required but not set'],
    ['COMPUTE_ASG_NAME blank', { COMPUTE_ASG_NAME: '  ' }, 'COMPUTE_ASG_NAME is required but not set'],
    ['TARGET_GROUP_ARN malformed', { TARGET_GROUP_ARN: 'my-tg' }, 'TARGET_GROUP_ARN must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>), got "my-tg"'],
    ['TARGET_GROUP_ARN another resource\'s ARN', { TARGET_GROUP_ARN: 'arn:aws:sns:eu-west-1:123456789012:pydio-topic' }, 'TARGET_GROUP_ARN must be a target group ARN'],
    ['TARGET_GROUP_ARN a load balancer\'s ARN', { TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/pydio/0123456789abcdef' }, 'TARGET_GROUP_ARN must be a target group ARN'],
    ['TARGET_GROUP_ARN a name over 32 characters', { TARGET_GROUP_ARN: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${'t'.repeat(33)}/0123456789abcdef` }, 'TARGET_GROUP_ARN must be a target group ARN'],
    ['TARGET_GROUP_ARN a name ending with a hyphen', { TARGET_GROUP_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-/0123456789abcdef' }, 'TARGET_GROUP_ARN must be a target group ARN'],
    ['APP_PORT not a number', { APP_PORT: '80a' }, 'APP_PORT must be a whole number, got "80a"'],
    ['APP_PORT out of range', { APP_PORT: '70000' }, 'APP_PORT must be between 1 and 65535, got 70000'],
    ['LB_IDLE_TIMEOUT_SECONDS above the ALB maximum', { LB_IDLE_TIMEOUT_SECONDS: '4001' }, 'LB_IDLE_TIMEOUT_SECONDS must be between 1 and 4000, got 4001'],
    ['DRY_RUN unclear', { DRY_RUN: 'maybe' }, 'DRY_RUN must be true or false, got "maybe"'],
    ['server with shell characters', { GLUSTER_SERVERS: '10.0.0.1;reboot' }, 'GLUSTER_SERVERS must be a comma-separated list of host names or IPs'],
    ['relative mount', { CONFIG_MOUNT: 'mnt/x' }, 'CONFIG_MOUNT must be an absolute path'],
    ['no servers and no storage group', { GLUSTER_SERVERS: '' }, 'set GLUSTER_SERVERS, or STORAGE_ASG_NAME'],
    ['retry max below base', { RETRY_BASE_SECONDS: '60', RETRY_MAX_SECONDS: '30' }, 'RETRY_MAX_SECONDS (30) must not be below RETRY_BASE_SECONDS (60)'],
    ['unknown app profile', { APP_PROFILE: 'cells' }, 'APP_PROFILE must be one of pydio8, got "cells"'],
    ['session cookie with a separator', { APP_SESSION_COOKIE: 'Ajax;plorer' }, 'APP_SESSION_COOKIE must be a cookie name'],
    ['session cookie reserved by the ALB', { APP_SESSION_COOKIE: 'AWSALBAPP-0' }, 'APP_SESSION_COOKIE must not start with AWSALB'],
    ['queue URL', { LIFECYCLE_QUEUE_URL: 'queue' }, 'LIFECYCLE_QUEUE_URL must be an SQS queue URL'],
    ['no coordination table', { COORDINATION_TABLE: undefined }, 'COORDINATION_TABLE is required but not set'],
    ['a table name DynamoDB refuses', { COORDINATION_TABLE: 'my table' }, 'COORDINATION_TABLE must be a DynamoDB table name (3-255 of [A-Za-z0-9_.-]), got "my table"'],
    ['a table name too short', { COORDINATION_TABLE: 'ab' }, 'COORDINATION_TABLE must be a DynamoDB table name'],
    ['a claim TTL below 10 s', { CLAIM_TTL_SECONDS: '5' }, 'CLAIM_TTL_SECONDS must be between 10 and 2592000, got 5'],
    ['a claim TTL a wait could outlast', { CLAIM_TTL_SECONDS: '200', RETRY_MAX_SECONDS: '120' }, 'CLAIM_TTL_SECONDS (200) must be at least twice RETRY_MAX_SECONDS (120)'],
  ])('%s -> names the problem', (_name, override, message) => {
    const env = { ...valid, ...override } as Record<string, string | undefined>;
    expect(() => parseConfig(env)).toThrow(ConfigurationError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});

describe('DOCUMENT_PATTERNS', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { documents } = require('../../../ssm-documents/render.js') as { documents: Record<string, { content: { parameters: Record<string, { allowedPattern: string }> } }> };
  const pattern = (doc: string, param: string) => documents[doc]!.content.parameters[param]!.allowedPattern;

  it.each([
    ['volume', 'mountVolumes', 'ConfigVolume'],
    ['volume', 'mountVolumes', 'DataVolume'],
    ['path', 'mountVolumes', 'ConfigMount'],
    ['path', 'configureApp', 'AppRoot'],
    ['path', 'drainNode', 'DataMount'],
    ['webService', 'configureApp', 'WebService'],
    ['webService', 'drainNode', 'WebService'],
    ['webUser', 'configureApp', 'WebUser'],
  ] as const)('%s is the allowedPattern of %s.%s', (key, doc, param) => {
    expect(DOCUMENT_PATTERNS[key].source).toBe(new RegExp(pattern(doc, param)).source);
  });

  it('a server list the config accepts is one the mount document accepts', () => {
    const servers = new RegExp(pattern('mountVolumes', 'Servers'));
    for (const list of [['10.0.1.10', '10.0.2.10'], ['gluster-a.internal', 'b'], ['a1']]) {
      expect(list.every((h) => DOCUMENT_PATTERNS.host.test(h))).toBe(true);
      expect(servers.test(list.join(','))).toBe(true);
    }
    for (const bad of ['-a', 'a..b', 'a_b', '10.0.0.1;reboot']) {
      expect(DOCUMENT_PATTERNS.host.test(bad)).toBe(false);
      expect(servers.test(bad)).toBe(false);
    }
  });

  it.each([
    ['volume with a dot', { GLUSTER_DATA_VOLUME: 'pydio.data' }, 'GLUSTER_DATA_VOLUME must be a Gluster volume name'],
    ['unknown web service', { WEB_SERVICE: 'nginx' }, 'WEB_SERVICE must be apache2 or httpd'],
    ['server starting with a dash', { GLUSTER_SERVERS: '-a' }, 'GLUSTER_SERVERS must be a comma-separated list'],
  ])('refuses what SSM would refuse: %s', (_name, override, message) => {
    expect(() => parseConfig({ ...valid, ...override })).toThrow(message);
  });
});
