/** Clean shutdown on SIGINT/SIGTERM: stop components in reverse start order once; a second signal forces exit. */
import type { Logger } from './logger.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Started by the devnet runner with an IPC channel: the channel closing means the runner is gone, and a service
  // must not outlive it. Unref'd, so the channel alone never keeps a finished process running.
  if (process.channel) {
    process.once('disconnect', () => handler('SIGTERM'));
    process.channel.unref();
  }
}
