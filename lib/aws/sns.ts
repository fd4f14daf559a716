// PORT (interface) — implementation below is filled in by the adapter work.
import type { Notification } from '../core/notification';

export interface NotifierPort {
  publish(notification: Notification): Promise<void>;
}
