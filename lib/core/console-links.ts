/**
 * Links to the AWS console pages a notification is about: the instance, its
 * Auto Scaling group, the target group and the log stream of the invocation
 * that sent it. Pure: the region, account and partition come from an ARN the
 * function already has (its topic), names and ids from the notification.
 *
 * The console's deep links are not a documented API: the forms below are the
 * ones the console itself shows and public tools build (catalogue chatbot.yml,
 * console.*), so a console redesign can break them without notice; the
 * notification's text never depends on them.
 */
import type { Notification } from './notification';

/** Where a resource lives: from an ARN, arn:<partition>:<service>:<region>:<account>:... */
export interface ConsoleLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export interface ConsoleLink {
  /** What the link opens, for a person: "Instance i-0abc (EC2 console)". */
  readonly label: string;
  readonly url: string;
}

/** What the publishing function knows beyond the notification: its groups, target group and log stream. */
export interface NoticeContext {
  readonly location?: ConsoleLocation;
  readonly computeGroupName?: string;
  /** '' or absent when the stage has no storage group. */
  readonly storageGroupName?: string;
  readonly targetGroupArn?: string;
  /** The invocation's own log group and stream (the Lambda runtime's AWS_LAMBDA_LOG_GROUP_NAME / _STREAM_NAME). */
  readonly logGroupName?: string;
  readonly logStreamName?: string;
}

const ARN = /^arn:([a-z-]+):[a-z0-9-]+:([a-z0-9-]+):(\d{12}):.+$/;

/** The partition, region and account of an ARN that names all three; undefined for other strings. */
export function locationOfArn(arn: string): ConsoleLocation | undefined {
  const match = ARN.exec(arn);
  if (!match || match[2] === '') return undefined;
  return { partition: match[1] ?? '', region: match[2] ?? '', account: match[3] ?? '' };
}

/**
 * The console's host for a region of the standard partition. Other partitions
 * (China, GovCloud) have consoles on other hosts whose deep links we have not
 * verified: no link rather than a wrong one.
 */
function consoleHome(location: ConsoleLocation): string | undefined {
  if (location.partition !== 'aws' || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(location.region)) return undefined;
  return `https://${location.region}.console.aws.amazon.com`;
}

/** EC2 console, instance details. */
export function instanceUrl(location: ConsoleLocation, instanceId: string): string | undefined {
  const home = consoleHome(location);
  return home && `${home}/ec2/home?region=${location.region}#InstanceDetails:instanceId=${encodeURIComponent(instanceId)}`;
}

/** EC2 console, Auto Scaling group details (its activity history and instances are tabs there). */
export function autoScalingGroupUrl(location: ConsoleLocation, groupName: string): string | undefined {
  const home = consoleHome(location);
  return home && `${home}/ec2/home?region=${location.region}#AutoScalingGroupDetails:id=${encodeURIComponent(groupName)};view=details`;
}

/** EC2 console, target group details (its Targets tab shows each target's health). */
export function targetGroupUrl(location: ConsoleLocation, targetGroupArn: string): string | undefined {
  const home = consoleHome(location);
  return home && `${home}/ec2/home?region=${location.region}#TargetGroup:targetGroupArn=${targetGroupArn}`;
}

/**
 * CloudWatch console, the events of one log stream. The console escapes the
 * group and stream names in its fragment by URL-encoding them and then
 * writing each '%' as '$25' ('/' becomes $252F, '[' $255B, '$' $2524).
 */
export function logStreamUrl(location: ConsoleLocation, groupName: string, streamName: string): string | undefined {
  const home = consoleHome(location);
  const escape = (name: string) => encodeURIComponent(name).replace(/%/g, '$25');
  return home && `${home}/cloudwatch/home?region=${location.region}#logsV2:log-groups/log-group/${escape(groupName)}/log-events/${escape(streamName)}`;
}

/** The target group's name, from its ARN (...:targetgroup/<name>/<id>). */
function targetGroupName(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

function isStorageNotice(notification: Notification): boolean {
  return notification.attributes.tier === 'storage' || notification.eventType.startsWith('storage.');
}

/** The Auto Scaling group a notification is about: named by it, or the storage group for the storage tier's notices. */
function groupOf(notification: Notification, context: NoticeContext): string | undefined {
  const named = notification.attributes.asgName;
  if (named) return named;
  return isStorageNotice(notification) && context.storageGroupName ? context.storageGroupName : undefined;
}

/** Compute-tier notices (a compute flow, a decision about the compute group) concern the target group too. */
function concernsTargetGroup(notification: Notification, context: NoticeContext): boolean {
  const { flow, asgName } = notification.attributes;
  return (flow?.startsWith('compute-') ?? false) || (asgName !== undefined && asgName === context.computeGroupName);
}

/** The console pages a notification is about, in the order a person would open them. */
export function consoleLinks(notification: Notification, context: NoticeContext): ConsoleLink[] {
  const location = context.location;
  if (!location) return [];
  const links: ConsoleLink[] = [];
  const add = (label: string, url: string | undefined) => {
    if (url) links.push({ label, url });
  };
  const instanceId = notification.attributes.instanceId;
  if (instanceId) add(`Instance ${instanceId} (EC2 console)`, instanceUrl(location, instanceId));
  const group = groupOf(notification, context);
  if (group) add(`Auto Scaling group ${group} (activity history, instances)`, autoScalingGroupUrl(location, group));
  if (context.targetGroupArn && concernsTargetGroup(notification, context)) {
    add(`Target group ${targetGroupName(context.targetGroupArn)} (targets and their health)`, targetGroupUrl(location, context.targetGroupArn));
  }
  if (context.logGroupName && context.logStreamName) {
    add(`Log of the invocation that sent this (${context.logGroupName})`, logStreamUrl(location, context.logGroupName, context.logStreamName));
  }
  return links;
}

/** ARNs of the resources a notification is about (the instance, the target group, the log group). */
export function relatedResourceArns(notification: Notification, context: NoticeContext): string[] {
  const location = context.location;
  if (!location) return [];
  const { partition, region, account } = location;
  const arns: string[] = [];
  const instanceId = notification.attributes.instanceId;
  if (instanceId) arns.push(`arn:${partition}:ec2:${region}:${account}:instance/${instanceId}`);
  if (context.targetGroupArn && concernsTargetGroup(notification, context)) arns.push(context.targetGroupArn);
  if (context.logGroupName) arns.push(`arn:${partition}:logs:${region}:${account}:log-group:${context.logGroupName}`);
  return arns;
}
