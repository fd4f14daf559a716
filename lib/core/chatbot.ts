/**
 * A notification in the custom notification format of AWS Chatbot (now
 * "Amazon Q Developer in chat applications"), which is what it shows in Slack
 * or Teams; a message in any other shape it drops. Pure: the SNS adapter puts
 * this under the `https` key of a MessageStructure=json publish (Chatbot's
 * subscription is an HTTPS endpoint), beside the readable text e-mail gets.
 *
 * Event schema, from "Custom notifications using Amazon Q Developer in chat
 * applications" (catalogue chatbot.yml): version "1.0" and source "custom"
 * required; content.textType only "client-markdown"; title, description,
 * nextSteps and keywords optional; metadata threadId, summary, eventType,
 * relatedResources and additionalContext (string to string) optional.
 */
import { consoleLinks, relatedResourceArns, type NoticeContext } from './console-links';
import type { Notification } from './notification';

export interface ChatbotNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps?: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly relatedResources?: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/**
 * Our bound on the description. The page that defines the format gives no
 * length we could read; Slack refuses a section text over 3,000 characters,
 * so a longer description is cut here, with a marker, and never by the chat
 * platform (the whole text is in the e-mail). Catalogue chatbot.yml
 * (chatbot.custom-notification.description-length) says why this number.
 */
export const CHATBOT_DESCRIPTION_MAX = 3000;

/** Ends a cut description; the e-mail (the message's default text) always has everything. */
export const CUT_MARKER = '… (cut here: the e-mail has the whole text)';

const FENCE = '```';

/**
 * The body as chat markdown: the facts line by line, and each indented block
 * (command output, Gluster commands, per-node lines) as a code block, so the
 * platform shows it verbatim instead of reading its characters as markup.
 */
export function chatDescription(body: string): string {
  const out: string[] = [];
  let block: string[] = [];
  const flush = () => {
    if (block.length > 0) out.push(FENCE, ...block, FENCE);
    block = [];
  };
  for (const line of body.split('\n')) {
    if (line.startsWith('    ')) {
      block.push(line.slice(4).replaceAll(FENCE, "'''"));
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

/** Cuts a description to `max` characters at a line end where it can, closes an open code block, appends CUT_MARKER. */
export function fitDescription(description: string, max = CHATBOT_DESCRIPTION_MAX): string {
  if (description.length <= max) return description;
  const room = max - CUT_MARKER.length - FENCE.length - 2;
  let kept = description.slice(0, room);
  const lineEnd = kept.lastIndexOf('\n');
  if (lineEnd > room / 2) kept = kept.slice(0, lineEnd);
  const fences = kept.split('\n').filter((line) => line === FENCE).length;
  const closed = fences % 2 === 1 ? `${kept}\n${FENCE}` : kept;
  return `${closed}\n${CUT_MARKER}`;
}

/** Which notices belong in one chat thread: those about the same instance, volume or alarm (else the event type). */
function threadKey(notification: Notification): string {
  const { instanceId, volume, alarmName } = notification.attributes;
  return instanceId ?? volume ?? alarmName ?? notification.eventType;
}

/**
 * The Chatbot payload of a notification. `subject` is the one the message is
 * published with (the adapter may mark a dry run); the links come from the
 * publishing function's context and follow the notification's own next steps.
 */
export function chatbotNotification(notification: Notification, context: NoticeContext, subject: string = notification.subject): ChatbotNotification {
  const stage = notification.attributes.stage ?? '';
  const links = consoleLinks(notification, context).map((link) => `${link.label}: ${link.url}`);
  const nextSteps = [...(notification.nextSteps ?? []), ...links];
  const related = relatedResourceArns(notification, context);
  const description = notification.body.trim() === '' ? subject : notification.body;
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: subject,
      description: fitDescription(chatDescription(description)),
      ...(nextSteps.length > 0 ? { nextSteps } : {}),
      keywords: [stage, notification.eventType, notification.severity].filter((keyword) => keyword !== ''),
    },
    metadata: {
      threadId: `pydio-autoscaler/${stage}/${threadKey(notification)}`,
      summary: subject,
      eventType: notification.eventType,
      ...(related.length > 0 ? { relatedResources: related } : {}),
      additionalContext: { ...notification.attributes, eventType: notification.eventType, severity: notification.severity },
    },
  };
}
