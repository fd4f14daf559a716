import type { Notification } from '../core/notification';

/**
 * Notifications to ops. Implemented by lib/aws/sns.ts.
 */
export interface NotifierPort {
  publish(notification: Notification): Promise<void>;
}
