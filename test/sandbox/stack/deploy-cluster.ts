/**
 * The reference cluster's resource types (serverless.yml, createCluster) created in the
 * emulator the way CloudFormation would, for deployStack (deploy.ts): the network (VPC,
 * subnets, gateways, routes, the S3 endpoint), security groups and their rules, launch
 * templates, Auto Scaling groups (through the front, which puts a group's
 * LifecycleHookSpecificationList in place before its first instance, as Auto Scaling
 * does), the load balancer, its target group and listeners, and the RDS database.
 *
 * Properties arrive with every intrinsic resolved. Physical ids and attributes are the
 * ones CloudFormation documents for each type (Ref and Fn::GetAtt). RDS has no SDK
 * client in this project: its two calls are SigV4-signed Query requests.
 */
import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateLaunchTemplateCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeAvailabilityZonesCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  type IpPermission,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

type Json = unknown;
type JsonObject = Record<string, Json>;

export class ClusterDeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterDeployError';
  }
}

export interface ClusterDeployContext {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
}

export interface Created {
  /** What Ref returns. */
  readonly physicalId: string;
  /** Fn::GetAtt values. */
  readonly attributes: Readonly<Record<string, string>>;
  /** What deleting it takes besides its physical id (remove-cluster.ts); never Fn::GetAtt values. */
  readonly removeWith?: Readonly<Record<string, string>>;
}

/** sha256 / HMAC-sha256 as @smithy/signature-v4 wants them (the sandbox keeps its own: it never uses a product adapter). */
class Sha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = Sha256.create(secret);
  }

  private static bytes(data: SourceData): Buffer {
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return Buffer.from(data);
  }

  private static create(secret?: SourceData): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', Sha256.bytes(secret));
  }

  update(data: Uint8Array | string): void {
    this.hash.update(Sha256.bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = Sha256.create(this.secret);
  }
}

/** Resource types this module creates. */
export const CLUSTER_TYPES: ReadonlySet<string> = new Set([
  'AWS::EC2::VPC',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::EIP',
  'AWS::EC2::NatGateway',
  'AWS::EC2::VPCEndpoint',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::LaunchTemplate',
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::RDS::DBSubnetGroup',
  'AWS::RDS::DBInstance',
]);

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: Json, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ClusterDeployError(`${where}: expected a string, got ${JSON.stringify(v)}`);
}

function num(v: Json, where: string): number {
  const n = Number(str(v, where));
  if (!Number.isFinite(n)) throw new ClusterDeployError(`${where}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function bool(v: Json, where: string): boolean {
  const s = str(v, where);
  if (s !== 'true' && s !== 'false') throw new ClusterDeployError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
  return s === 'true';
}

const list = (v: Json): Json[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const opt = <T>(v: Json, f: (x: Json) => T): T | undefined => (v === undefined ? undefined : f(v));

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new ClusterDeployError(message);
  return value;
}

/** CloudFormation's own names are `<stack>-<logicalId>-<suffix>`; the emulator's are shorter, within each service's limits. */
function generatedName(logicalId: string, max: number): string {
  return `h6-${logicalId}`.slice(0, max);
}

/** The inline or standalone form of a security group rule, as the API takes it. */
function permission(rule: JsonObject, where: string): IpPermission {
  const protocol = str(rule.IpProtocol, `${where} IpProtocol`);
  return {
    IpProtocol: protocol,
    ...(rule.FromPort !== undefined ? { FromPort: num(rule.FromPort, `${where} FromPort`) } : {}),
    ...(rule.ToPort !== undefined ? { ToPort: num(rule.ToPort, `${where} ToPort`) } : {}),
    ...(rule.CidrIp !== undefined ? { IpRanges: [{ CidrIp: str(rule.CidrIp, `${where} CidrIp`), ...(rule.Description !== undefined ? { Description: str(rule.Description, where) } : {}) }] } : {}),
    ...(rule.SourceSecurityGroupId !== undefined
      ? { UserIdGroupPairs: [{ GroupId: str(rule.SourceSecurityGroupId, `${where} SourceSecurityGroupId`), ...(rule.Description !== undefined ? { Description: str(rule.Description, where) } : {}) }] }
      : {}),
  };
}

/** CloudFormation's LaunchTemplateData, typed for CreateLaunchTemplate (numbers and booleans from their string forms). */
function launchTemplateData(data: JsonObject, where: string): RequestLaunchTemplateData {
  const known = new Set(['ImageId', 'InstanceType', 'IamInstanceProfile', 'SecurityGroupIds', 'MetadataOptions', 'BlockDeviceMappings', 'UserData']);
  for (const key of Object.keys(data)) if (!known.has(key)) throw new ClusterDeployError(`${where}: LaunchTemplateData.${key} is not emulated`);
  const profile = isObject(data.IamInstanceProfile) ? data.IamInstanceProfile : undefined;
  const metadata = isObject(data.MetadataOptions) ? data.MetadataOptions : undefined;
  return {
    ImageId: str(data.ImageId, `${where} ImageId`),
    ...(data.InstanceType !== undefined ? { InstanceType: str(data.InstanceType, where) as RequestLaunchTemplateData['InstanceType'] } : {}),
    ...(profile !== undefined ? { IamInstanceProfile: { Arn: str(profile.Arn, `${where} IamInstanceProfile.Arn`) } } : {}),
    ...(data.SecurityGroupIds !== undefined ? { SecurityGroupIds: list(data.SecurityGroupIds).map((g) => str(g, `${where} SecurityGroupIds`)) } : {}),
    ...(metadata !== undefined
      ? { MetadataOptions: { HttpTokens: opt(metadata.HttpTokens, (x) => str(x, where)) as 'required' | 'optional' | undefined, HttpEndpoint: opt(metadata.HttpEndpoint, (x) => str(x, where)) as 'enabled' | 'disabled' | undefined } }
      : {}),
    ...(data.BlockDeviceMappings !== undefined
      ? {
          BlockDeviceMappings: list(data.BlockDeviceMappings).filter(isObject).map((m) => {
            const ebs = isObject(m.Ebs) ? m.Ebs : {};
            return {
              DeviceName: str(m.DeviceName, `${where} DeviceName`),
              Ebs: {
                ...(ebs.VolumeSize !== undefined ? { VolumeSize: num(ebs.VolumeSize, `${where} VolumeSize`) } : {}),
                ...(ebs.VolumeType !== undefined ? { VolumeType: str(ebs.VolumeType, where) as 'gp3' } : {}),
                ...(ebs.Encrypted !== undefined ? { Encrypted: bool(ebs.Encrypted, `${where} Encrypted`) } : {}),
                ...(ebs.DeleteOnTermination !== undefined ? { DeleteOnTermination: bool(ebs.DeleteOnTermination, `${where} DeleteOnTermination`) } : {}),
              },
            };
          }),
        }
      : {}),
    ...(data.UserData !== undefined ? { UserData: str(data.UserData, `${where} UserData`) } : {}),
  };
}

function listenerActions(actions: Json, where: string): Action[] {
  return list(actions).filter(isObject).map((a) => {
    const type = str(a.Type, `${where} DefaultActions Type`);
    if (type === 'forward') return { Type: 'forward', TargetGroupArn: str(a.TargetGroupArn, `${where} TargetGroupArn`) };
    if (type === 'redirect' && isObject(a.RedirectConfig)) {
      const r = a.RedirectConfig;
      return {
        Type: 'redirect',
        RedirectConfig: {
          StatusCode: str(r.StatusCode, where) as 'HTTP_301' | 'HTTP_302',
          ...(r.Protocol !== undefined ? { Protocol: str(r.Protocol, where) } : {}),
          ...(r.Port !== undefined ? { Port: str(r.Port, where) } : {}),
        },
      };
    }
    throw new ClusterDeployError(`${where}: listener action ${type} is not emulated`);
  });
}

/** Creates the cluster's resources in the emulator; one instance per deploy. */
export class ClusterResources {
  private readonly ec2: EC2Client;
  private readonly autoscaling: AutoScalingClient;
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly signer: SignatureV4;

  constructor(private readonly ctx: ClusterDeployContext) {
    const config = { region: ctx.region, endpoint: ctx.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 2 };
    this.ec2 = new EC2Client(config);
    this.autoscaling = new AutoScalingClient(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.signer = new SignatureV4({ service: 'rds', region: ctx.region, credentials: config.credentials, sha256: Sha256 });
  }

  /** Availability Zones of the region, as Fn::GetAZs '' answers (the emulator's EC2 DescribeAvailabilityZones). */
  async availabilityZones(): Promise<string[]> {
    const out = await this.ec2.send(new DescribeAvailabilityZonesCommand({}));
    return (out.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '').filter((z) => z !== '').sort();
  }

  async create(logicalId: string, type: string, props: JsonObject, where: string): Promise<Created> {
    switch (type) {
      case 'AWS::EC2::VPC': {
        const out = await this.ec2.send(new CreateVpcCommand({ CidrBlock: str(props.CidrBlock, `${where} CidrBlock`) }));
        const vpc = required(out.Vpc, `${where}: CreateVpc returned no Vpc`);
        const vpcId = required(vpc.VpcId, `${where}: no VpcId`);
        // One attribute per ModifyVpcAttribute call (the API takes one at a time).
        if (props.EnableDnsSupport !== undefined) await this.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: bool(props.EnableDnsSupport, where) } }));
        if (props.EnableDnsHostnames !== undefined) await this.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: bool(props.EnableDnsHostnames, where) } }));
        return { physicalId: vpcId, attributes: { VpcId: vpcId, CidrBlock: required(vpc.CidrBlock, `${where}: no CidrBlock`) } };
      }
      case 'AWS::EC2::InternetGateway': {
        const out = await this.ec2.send(new CreateInternetGatewayCommand({}));
        const id = required(out.InternetGateway?.InternetGatewayId, `${where}: no InternetGatewayId`);
        return { physicalId: id, attributes: { InternetGatewayId: id } };
      }
      case 'AWS::EC2::VPCGatewayAttachment': {
        const vpcId = str(props.VpcId, `${where} VpcId`);
        const gatewayId = str(props.InternetGatewayId, `${where} InternetGatewayId`);
        await this.ec2.send(new AttachInternetGatewayCommand({ VpcId: vpcId, InternetGatewayId: gatewayId }));
        return { physicalId: `h6-${logicalId}`, attributes: {}, removeWith: { VpcId: vpcId, InternetGatewayId: gatewayId } };
      }
      case 'AWS::EC2::Subnet': {
        const out = await this.ec2.send(
          new CreateSubnetCommand({ VpcId: str(props.VpcId, `${where} VpcId`), CidrBlock: str(props.CidrBlock, `${where} CidrBlock`), AvailabilityZone: str(props.AvailabilityZone, `${where} AvailabilityZone`) }),
        );
        const subnet = required(out.Subnet, `${where}: CreateSubnet returned no Subnet`);
        const id = required(subnet.SubnetId, `${where}: no SubnetId`);
        return { physicalId: id, attributes: { SubnetId: id, AvailabilityZone: subnet.AvailabilityZone ?? '', VpcId: subnet.VpcId ?? '', CidrBlock: subnet.CidrBlock ?? '' } };
      }
      case 'AWS::EC2::RouteTable': {
        const out = await this.ec2.send(new CreateRouteTableCommand({ VpcId: str(props.VpcId, `${where} VpcId`) }));
        const id = required(out.RouteTable?.RouteTableId, `${where}: no RouteTableId`);
        return { physicalId: id, attributes: { RouteTableId: id } };
      }
      case 'AWS::EC2::Route': {
        await this.ec2.send(
          new CreateRouteCommand({
            RouteTableId: str(props.RouteTableId, `${where} RouteTableId`),
            DestinationCidrBlock: str(props.DestinationCidrBlock, `${where} DestinationCidrBlock`),
            ...(props.GatewayId !== undefined ? { GatewayId: str(props.GatewayId, where) } : {}),
            ...(props.NatGatewayId !== undefined ? { NatGatewayId: str(props.NatGatewayId, where) } : {}),
          }),
        );
        return { physicalId: `h6-${logicalId}`, attributes: {}, removeWith: { RouteTableId: str(props.RouteTableId, where), DestinationCidrBlock: str(props.DestinationCidrBlock, where) } };
      }
      case 'AWS::EC2::SubnetRouteTableAssociation': {
        const out = await this.ec2.send(new AssociateRouteTableCommand({ SubnetId: str(props.SubnetId, `${where} SubnetId`), RouteTableId: str(props.RouteTableId, `${where} RouteTableId`) }));
        const id = required(out.AssociationId, `${where}: no AssociationId`);
        return { physicalId: id, attributes: { Id: id } };
      }
      case 'AWS::EC2::EIP': {
        const out = await this.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
        const ip = required(out.PublicIp, `${where}: no PublicIp`);
        return { physicalId: ip, attributes: { AllocationId: required(out.AllocationId, `${where}: no AllocationId`), PublicIp: ip } };
      }
      case 'AWS::EC2::NatGateway': {
        const out = await this.ec2.send(new CreateNatGatewayCommand({ AllocationId: str(props.AllocationId, `${where} AllocationId`), SubnetId: str(props.SubnetId, `${where} SubnetId`) }));
        const id = required(out.NatGateway?.NatGatewayId, `${where}: no NatGatewayId`);
        return { physicalId: id, attributes: { NatGatewayId: id } };
      }
      case 'AWS::EC2::VPCEndpoint': {
        const out = await this.ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: str(props.VpcId, `${where} VpcId`),
            ServiceName: str(props.ServiceName, `${where} ServiceName`),
            VpcEndpointType: str(props.VpcEndpointType ?? 'Gateway', where) as 'Gateway',
            RouteTableIds: list(props.RouteTableIds).map((r) => str(r, `${where} RouteTableIds`)),
          }),
        );
        const id = required(out.VpcEndpoint?.VpcEndpointId, `${where}: no VpcEndpointId`);
        return { physicalId: id, attributes: { Id: id } };
      }
      case 'AWS::EC2::SecurityGroup': {
        const out = await this.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: props.GroupName !== undefined ? str(props.GroupName, where) : generatedName(logicalId, 255),
            Description: str(props.GroupDescription, `${where} GroupDescription`),
            VpcId: str(props.VpcId, `${where} VpcId`),
          }),
        );
        const groupId = required(out.GroupId, `${where}: no GroupId`);
        const rules = list(props.SecurityGroupIngress).filter(isObject).map((r, i) => permission(r, `${where} SecurityGroupIngress[${i}]`));
        if (rules.length > 0) await this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules }));
        return { physicalId: groupId, attributes: { GroupId: groupId, VpcId: str(props.VpcId, where) } };
      }
      case 'AWS::EC2::SecurityGroupIngress': {
        const groupId = str(props.GroupId, `${where} GroupId`);
        const rule = permission(props, where);
        await this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [rule] }));
        return { physicalId: `h6-${logicalId}`, attributes: {}, removeWith: { GroupId: groupId, IpPermission: JSON.stringify(rule) } };
      }
      case 'AWS::EC2::LaunchTemplate': {
        const name = props.LaunchTemplateName !== undefined ? str(props.LaunchTemplateName, where) : generatedName(logicalId, 128);
        const data = isObject(props.LaunchTemplateData) ? props.LaunchTemplateData : {};
        const out = await this.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: launchTemplateData(data, where) }));
        const lt = required(out.LaunchTemplate, `${where}: CreateLaunchTemplate returned no LaunchTemplate`);
        const id = required(lt.LaunchTemplateId, `${where}: no LaunchTemplateId`);
        return { physicalId: id, attributes: { LaunchTemplateId: id, LatestVersionNumber: String(lt.LatestVersionNumber ?? 1), DefaultVersionNumber: String(lt.DefaultVersionNumber ?? 1) } };
      }
      case 'AWS::AutoScaling::AutoScalingGroup':
        return this.autoScalingGroup(logicalId, props, where);
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const out = await this.elb.send(
          new CreateLoadBalancerCommand({
            Name: props.Name !== undefined ? str(props.Name, where) : generatedName(logicalId, 32),
            Subnets: list(props.Subnets).map((s) => str(s, `${where} Subnets`)),
            SecurityGroups: list(props.SecurityGroups).map((s) => str(s, `${where} SecurityGroups`)),
            Scheme: str(props.Scheme ?? 'internet-facing', where) as 'internet-facing',
            Type: str(props.Type ?? 'application', where) as 'application',
          }),
        );
        const lb = required(out.LoadBalancers?.[0], `${where}: CreateLoadBalancer returned nothing`);
        const arn = required(lb.LoadBalancerArn, `${where}: no LoadBalancerArn`);
        const attributes = list(props.LoadBalancerAttributes).filter(isObject).map((a) => ({ Key: str(a.Key, where), Value: str(a.Value, where) }));
        if (attributes.length > 0) await this.elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: attributes }));
        return {
          physicalId: arn,
          attributes: { LoadBalancerArn: arn, DNSName: lb.DNSName ?? '', CanonicalHostedZoneID: lb.CanonicalHostedZoneId ?? '', LoadBalancerFullName: arn.split(':loadbalancer/')[1] ?? '' },
        };
      }
      case 'AWS::ElasticLoadBalancingV2::TargetGroup': {
        const matcher = isObject(props.Matcher) ? props.Matcher : undefined;
        const out = await this.elb.send(
          new CreateTargetGroupCommand({
            Name: props.Name !== undefined ? str(props.Name, where) : generatedName(logicalId, 32),
            Protocol: str(props.Protocol, `${where} Protocol`) as 'HTTP',
            Port: num(props.Port, `${where} Port`),
            VpcId: str(props.VpcId, `${where} VpcId`),
            TargetType: str(props.TargetType ?? 'instance', where) as 'instance',
            ...(props.HealthCheckProtocol !== undefined ? { HealthCheckProtocol: str(props.HealthCheckProtocol, where) as 'HTTP' } : {}),
            ...(props.HealthCheckPath !== undefined ? { HealthCheckPath: str(props.HealthCheckPath, where) } : {}),
            ...(props.HealthCheckIntervalSeconds !== undefined ? { HealthCheckIntervalSeconds: num(props.HealthCheckIntervalSeconds, where) } : {}),
            ...(props.HealthCheckTimeoutSeconds !== undefined ? { HealthCheckTimeoutSeconds: num(props.HealthCheckTimeoutSeconds, where) } : {}),
            ...(props.HealthyThresholdCount !== undefined ? { HealthyThresholdCount: num(props.HealthyThresholdCount, where) } : {}),
            ...(props.UnhealthyThresholdCount !== undefined ? { UnhealthyThresholdCount: num(props.UnhealthyThresholdCount, where) } : {}),
            ...(matcher?.HttpCode !== undefined ? { Matcher: { HttpCode: str(matcher.HttpCode, where) } } : {}),
          }),
        );
        const tg = required(out.TargetGroups?.[0], `${where}: CreateTargetGroup returned nothing`);
        const arn = required(tg.TargetGroupArn, `${where}: no TargetGroupArn`);
        const attributes = list(props.TargetGroupAttributes).filter(isObject).map((a) => ({ Key: str(a.Key, where), Value: str(a.Value, where) }));
        if (attributes.length > 0) await this.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: attributes }));
        return { physicalId: arn, attributes: { TargetGroupArn: arn, TargetGroupName: tg.TargetGroupName ?? '', TargetGroupFullName: arn.slice(arn.lastIndexOf(':') + 1) } };
      }
      case 'AWS::ElasticLoadBalancingV2::Listener': {
        const out = await this.elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: str(props.LoadBalancerArn, `${where} LoadBalancerArn`),
            Protocol: str(props.Protocol, `${where} Protocol`) as 'HTTP',
            Port: num(props.Port, `${where} Port`),
            DefaultActions: listenerActions(props.DefaultActions, where),
            ...(props.SslPolicy !== undefined ? { SslPolicy: str(props.SslPolicy, where) } : {}),
            ...(props.Certificates !== undefined ? { Certificates: list(props.Certificates).filter(isObject).map((c) => ({ CertificateArn: str(c.CertificateArn, where) })) } : {}),
          }),
        );
        const arn = required(out.Listeners?.[0]?.ListenerArn, `${where}: no ListenerArn`);
        return { physicalId: arn, attributes: { ListenerArn: arn } };
      }
      case 'AWS::RDS::DBSubnetGroup': {
        const name = props.DBSubnetGroupName !== undefined ? str(props.DBSubnetGroupName, where) : generatedName(logicalId, 255).toLowerCase();
        const form: Record<string, string> = { DBSubnetGroupName: name, DBSubnetGroupDescription: str(props.DBSubnetGroupDescription, `${where} DBSubnetGroupDescription`) };
        list(props.SubnetIds).forEach((s, i) => (form[`SubnetIds.SubnetIdentifier.${i + 1}`] = str(s, `${where} SubnetIds`)));
        await this.rds('CreateDBSubnetGroup', form, where);
        return { physicalId: name, attributes: {} };
      }
      case 'AWS::RDS::DBInstance':
        return this.dbInstance(logicalId, props, where);
      default:
        throw new ClusterDeployError(`${where}: ${type} is not a cluster resource type`);
    }
  }

  /**
   * Through the front: Auto Scaling puts the LifecycleHookSpecificationList in place "before
   * instances are launched", and the front does the same before the first launch.
   */
  private async autoScalingGroup(logicalId: string, props: JsonObject, where: string): Promise<Created> {
    const name = props.AutoScalingGroupName !== undefined ? str(props.AutoScalingGroupName, where) : generatedName(logicalId, 255);
    const lt = isObject(props.LaunchTemplate) ? props.LaunchTemplate : undefined;
    if (lt === undefined) throw new ClusterDeployError(`${where}: only groups with a LaunchTemplate are emulated`);
    for (const key of ['TargetGroupARNs', 'LoadBalancerNames', 'MixedInstancesPolicy', 'LaunchConfigurationName']) {
      if (props[key] !== undefined) throw new ClusterDeployError(`${where}: ${key} is not emulated`);
    }
    await this.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: str(lt.LaunchTemplateId, `${where} LaunchTemplateId`), Version: str(lt.Version, `${where} Version`) },
        MinSize: num(props.MinSize, `${where} MinSize`),
        MaxSize: num(props.MaxSize, `${where} MaxSize`),
        ...(props.DesiredCapacity !== undefined ? { DesiredCapacity: num(props.DesiredCapacity, where) } : {}),
        VPCZoneIdentifier: list(props.VPCZoneIdentifier).map((s) => str(s, `${where} VPCZoneIdentifier`)).join(','),
        ...(props.HealthCheckType !== undefined ? { HealthCheckType: str(props.HealthCheckType, where) } : {}),
        ...(props.LifecycleHookSpecificationList !== undefined
          ? {
              LifecycleHookSpecificationList: list(props.LifecycleHookSpecificationList).filter(isObject).map((h, i) => ({
                LifecycleHookName: str(h.LifecycleHookName, `${where} LifecycleHookSpecificationList[${i}]`),
                LifecycleTransition: str(h.LifecycleTransition, `${where} LifecycleHookSpecificationList[${i}]`),
                ...(h.HeartbeatTimeout !== undefined ? { HeartbeatTimeout: num(h.HeartbeatTimeout, where) } : {}),
                ...(h.DefaultResult !== undefined ? { DefaultResult: str(h.DefaultResult, where) } : {}),
              })),
            }
          : {}),
        ...(props.Tags !== undefined
          ? {
              Tags: list(props.Tags).filter(isObject).map((t) => ({
                ResourceId: name,
                ResourceType: 'auto-scaling-group',
                Key: str(t.Key, where),
                Value: str(t.Value, where),
                PropagateAtLaunch: t.PropagateAtLaunch === undefined ? false : bool(t.PropagateAtLaunch, where),
              })),
            }
          : {}),
      }),
    );
    return { physicalId: name, attributes: {} };
  }

  private async dbInstance(logicalId: string, props: JsonObject, where: string): Promise<Created> {
    const id = props.DBInstanceIdentifier !== undefined ? str(props.DBInstanceIdentifier, where) : generatedName(logicalId, 63).toLowerCase();
    if (props.MasterUserPassword !== undefined) throw new ClusterDeployError(`${where}: a MasterUserPassword in the template is refused here (ManageMasterUserPassword keeps it out)`);
    const form: Record<string, string> = { DBInstanceIdentifier: id };
    const scalar: Array<[string, string]> = [
      ['Engine', 'Engine'], ['EngineVersion', 'EngineVersion'], ['DBInstanceClass', 'DBInstanceClass'], ['AllocatedStorage', 'AllocatedStorage'],
      ['StorageType', 'StorageType'], ['StorageEncrypted', 'StorageEncrypted'], ['MultiAZ', 'MultiAZ'], ['DBName', 'DBName'],
      ['MasterUsername', 'MasterUsername'], ['ManageMasterUserPassword', 'ManageMasterUserPassword'], ['DBSubnetGroupName', 'DBSubnetGroupName'],
      ['PubliclyAccessible', 'PubliclyAccessible'], ['BackupRetentionPeriod', 'BackupRetentionPeriod'], ['CopyTagsToSnapshot', 'CopyTagsToSnapshot'],
      ['AutoMinorVersionUpgrade', 'AutoMinorVersionUpgrade'],
    ];
    for (const [prop, param] of scalar) if (props[prop] !== undefined) form[param] = str(props[prop], `${where} ${prop}`);
    list(props.VPCSecurityGroups).forEach((g, i) => (form[`VpcSecurityGroupIds.VpcSecurityGroupId.${i + 1}`] = str(g, `${where} VPCSecurityGroups`)));
    const xml = await this.rds('CreateDBInstance', form, where);
    const tag = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';
    const endpoint = /<Endpoint>([\s\S]*?)<\/Endpoint>/.exec(xml)?.[1] ?? '';
    const secret = /<MasterUserSecret>([\s\S]*?)<\/MasterUserSecret>/.exec(xml)?.[1] ?? '';
    return {
      physicalId: id,
      attributes: {
        'Endpoint.Address': /<Address>([^<]*)<\/Address>/.exec(endpoint)?.[1] ?? '',
        'Endpoint.Port': /<Port>([^<]*)<\/Port>/.exec(endpoint)?.[1] ?? '',
        'MasterUserSecret.SecretArn': /<SecretArn>([^<]*)<\/SecretArn>/.exec(secret)?.[1] ?? '',
        DBInstanceArn: tag('DBInstanceArn'),
      },
    };
  }

  /** One RDS Query call, signed (SigV4, service rds) like any SDK's; the answer's XML, or the service's error. */
  async rds(action: string, params: Record<string, string>, where: string): Promise<string> {
    const url = new URL(this.ctx.endpoint);
    const body = new URLSearchParams({ Action: action, Version: '2014-10-31', ...params }).toString();
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const res = await fetch(`${this.ctx.endpoint.replace(/\/$/, '')}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    const text = await res.text();
    if (!res.ok) throw new ClusterDeployError(`${where}: RDS ${action} answered ${res.status}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 300)}`);
    return text;
  }

  destroy(): void {
    this.ec2.destroy();
    this.autoscaling.destroy();
    this.elb.destroy();
  }
}

/** Fn::Cidr [ipBlock, count, cidrBits]: `count` consecutive subnets of `cidrBits` host bits from the start of an IPv4 block. */
export function cidrSubnets(ipBlock: string, count: number, cidrBits: number): string[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(ipBlock);
  if (m === null) throw new ClusterDeployError(`Fn::Cidr: ${JSON.stringify(ipBlock)} is not an IPv4 CIDR block`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new ClusterDeployError(`Fn::Cidr: ${ipBlock} is not an IPv4 CIDR block`);
  const newPrefix = 32 - cidrBits;
  if (!Number.isInteger(count) || count < 1 || count > 256) throw new ClusterDeployError(`Fn::Cidr: count must be 1-256, got ${count}`);
  if (!Number.isInteger(cidrBits) || newPrefix < prefix || newPrefix > 32) throw new ClusterDeployError(`Fn::Cidr: ${cidrBits} host bits do not fit in ${ipBlock}`);
  if (count > 2 ** (newPrefix - prefix)) throw new ClusterDeployError(`Fn::Cidr: ${ipBlock} holds ${2 ** (newPrefix - prefix)} subnets of /${newPrefix}, not ${count}`);
  const base = (((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!) >>> 0;
  const start = prefix === 0 ? 0 : (base & (~0 << (32 - prefix))) >>> 0;
  return Array.from({ length: count }, (_, i) => {
    const a = (start + i * 2 ** cidrBits) >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${newPrefix}`;
  });
}
