/**
 * The gluster CLI on a sandbox host, as the e2e tests read the cluster. The
 * functions may run a Gluster transaction at the same moment (an alarm
 * re-check planning an expansion, a status document): glusterd then refuses
 * a second one with its cluster lock. The product retries that (GLUSTER_BUSY);
 * so does the tests' reader, bounded, and any other failure is thrown at once.
 */
import { GLUSTER_BUSY } from '../../lib/usecases/storage/documents';

export interface HostExec {
  exec(instanceId: string, argv: readonly string[], timeoutSeconds?: number): Promise<string>;
}

export const GLUSTER_BUSY_TRIES = 10;

export async function glusterOn(hosts: HostExec, instanceId: string, args: readonly string[], pauseMs = 1000): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await hosts.exec(instanceId, ['gluster', '--mode=script', ...args], 60);
    } catch (error) {
      if (attempt >= GLUSTER_BUSY_TRIES || !GLUSTER_BUSY.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
