/**
 * The reference cluster's resource types (deploy-cluster.ts) deleted as CloudFormation's
 * DeleteStack would, for removeStack (remove.ts), through the same APIs (moto behind the front).
 *
 * An Auto Scaling group is not force-deleted: CloudFormation sets it to zero ("When you delete an
 * Auto Scaling group, its desired, minimum, and maximum values are set to 0. As a result, the
 * instances are terminated": Auto Scaling User Guide), waits for its instances to go (through
 * their terminate hooks, in the front), then deletes it. Instances protected from scale in are
 * never chosen, so such a group is not emptied and the delete fails (aws/aws-cdk#18179,
 * aws/containers-roadmap#2862: "The ASG cannot be deleted ... blocking stack cleanup").
 *
 * An RDS DB instance under DeletionPolicy Snapshot is deleted with a final snapshot
 * (DeleteDBInstance FinalDBSnapshotIdentifier), which outlives the stack.
 */
import { AutoScalingClient, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeleteInternetGatewayCommand,
  DeleteLaunchTemplateCommand,
  DeleteNatGatewayCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeNatGatewaysCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  EC2Client,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { DeleteListenerCommand, DeleteLoadBalancerCommand, DeleteTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ClusterResources } from './deploy-cluster';
import type { DeployedResource } from './deploy';

export class ClusterRemoveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterRemoveError';
  }
}

export interface ClusterRemoveContext {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** How long a group may take to empty (its instances' terminate hooks); default 20 minutes. */
  readonly groupEmptyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The final snapshot's name: CloudFormation picks one; the emulator's is `<db>-final`. */
export const finalSnapshotId = (dbInstanceId: string) => `${dbInstanceId}-final`.slice(0, 255);

export class ClusterRemover {
  private readonly ec2: EC2Client;
  private readonly autoscaling: AutoScalingClient;
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly rds: ClusterResources;

  constructor(private readonly ctx: ClusterRemoveContext) {
    const config = { region: ctx.region, endpoint: ctx.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 2 };
    this.ec2 = new EC2Client(config);
    this.autoscaling = new AutoScalingClient(config);
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.rds = new ClusterResources(ctx);
  }

  async delete(r: DeployedResource, policy: 'Delete' | 'Snapshot'): Promise<void> {
    const id = r.physicalId;
    const where = `${r.logicalId} (${r.type})`;
    const need = (key: string): string => {
      const v = r.removeWith?.[key];
      if (v === undefined) throw new ClusterRemoveError(`${where}: the deploy recorded no ${key} to delete it with`);
      return v;
    };
    if (policy === 'Snapshot' && r.type !== 'AWS::RDS::DBInstance') throw new ClusterRemoveError(`${where}: DeletionPolicy Snapshot is emulated for AWS::RDS::DBInstance only`);
    switch (r.type) {
      case 'AWS::EC2::VPC':
        await this.ec2.send(new DeleteVpcCommand({ VpcId: id }));
        return;
      case 'AWS::EC2::InternetGateway':
        await this.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id }));
        return;
      case 'AWS::EC2::VPCGatewayAttachment':
        await this.ec2.send(new DetachInternetGatewayCommand({ VpcId: need('VpcId'), InternetGatewayId: need('InternetGatewayId') }));
        return;
      case 'AWS::EC2::Subnet':
        await this.ec2.send(new DeleteSubnetCommand({ SubnetId: id }));
        return;
      case 'AWS::EC2::RouteTable':
        await this.ec2.send(new DeleteRouteTableCommand({ RouteTableId: id }));
        return;
      case 'AWS::EC2::Route':
        await this.ec2.send(new DeleteRouteCommand({ RouteTableId: need('RouteTableId'), DestinationCidrBlock: need('DestinationCidrBlock') }));
        return;
      case 'AWS::EC2::SubnetRouteTableAssociation':
        await this.ec2.send(new DisassociateRouteTableCommand({ AssociationId: id }));
        return;
      case 'AWS::EC2::EIP':
        await this.ec2.send(new ReleaseAddressCommand({ AllocationId: r.attributes.AllocationId }));
        return;
      case 'AWS::EC2::NatGateway':
        await this.ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: id }));
        // Its address stays associated until the gateway is deleted: wait for that (bounded).
        for (let i = 0; i < 300; i += 1) {
          const state = (await this.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways?.[0]?.State;
          if (state === undefined || state === 'deleted') return;
          await sleep(200);
        }
        throw new ClusterRemoveError(`${where}: still not deleted after 60 s`);
      case 'AWS::EC2::VPCEndpoint': {
        const out = await this.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
        if ((out.Unsuccessful ?? []).length > 0) throw new ClusterRemoveError(`${where}: ${JSON.stringify(out.Unsuccessful)}`);
        return;
      }
      case 'AWS::EC2::SecurityGroup':
        await this.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
        return;
      case 'AWS::EC2::SecurityGroupIngress':
        await this.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: need('GroupId'), IpPermissions: [JSON.parse(need('IpPermission')) as IpPermission] }));
        return;
      case 'AWS::EC2::LaunchTemplate':
        await this.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }));
        return;
      case 'AWS::AutoScaling::AutoScalingGroup':
        await this.emptyThenDelete(id, where);
        return;
      case 'AWS::ElasticLoadBalancingV2::Listener':
        await this.elb.send(new DeleteListenerCommand({ ListenerArn: id }));
        return;
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
        await this.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: id }));
        return;
      case 'AWS::ElasticLoadBalancingV2::TargetGroup':
        await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: id }));
        return;
      case 'AWS::RDS::DBSubnetGroup':
        await this.rds.rds('DeleteDBSubnetGroup', { DBSubnetGroupName: id }, where);
        return;
      case 'AWS::RDS::DBInstance':
        await this.rds.rds(
          'DeleteDBInstance',
          policy === 'Snapshot' ? { DBInstanceIdentifier: id, SkipFinalSnapshot: 'false', FinalDBSnapshotIdentifier: finalSnapshotId(id) } : { DBInstanceIdentifier: id, SkipFinalSnapshot: 'true' },
          where,
        );
        return;
      default:
        throw new ClusterRemoveError(`${where}: not a cluster resource type`);
    }
  }

  /** Zero, wait for the instances to go (never the protected ones), then DeleteAutoScalingGroup without ForceDelete. */
  private async emptyThenDelete(name: string, where: string): Promise<void> {
    await this.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, MaxSize: 0, DesiredCapacity: 0 }));
    const deadline = Date.now() + (this.ctx.groupEmptyTimeoutMs ?? 20 * 60_000);
    for (;;) {
      const g = (await this.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
      const instances = g?.Instances ?? [];
      if (instances.length === 0) break;
      const leaving = instances.filter((i) => (i.LifecycleState ?? '').startsWith('Terminating'));
      const protectedOnes = instances.filter((i) => i.ProtectedFromScaleIn && !(i.LifecycleState ?? '').startsWith('Terminating'));
      if (leaving.length === 0 && protectedOnes.length > 0) {
        throw new ClusterRemoveError(`${where}: the group keeps ${protectedOnes.map((i) => i.InstanceId).join(', ')}: protected from scale in, it is not emptied`);
      }
      if (Date.now() > deadline) throw new ClusterRemoveError(`${where}: still ${instances.length} instance(s) after ${this.ctx.groupEmptyTimeoutMs ?? 1_200_000} ms`);
      await sleep(250);
    }
    await this.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name }));
  }

  destroy(): void {
    this.ec2.destroy();
    this.autoscaling.destroy();
    this.elb.destroy();
    this.rds.destroy();
  }
}
