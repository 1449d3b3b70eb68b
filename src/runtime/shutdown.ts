/** Clean shutdown on SIGINT/SIGTERM: stop components in reverse start order once; a second signal forces exit. */
import type { Logger } from './logger.js';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The exit code after a clean stop. Ctrl-C exits 130 (128 + SIGINT), as a shell expects of an interrupted program,
 * so `run && next` does not go on. SIGTERM, how supervisors (the devnet runner, Docker, systemd) ask a service to
 * stop, is a requested stop and exits 0, which is what they count as a clean one.
 */
export function exitCodeAfter(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 0;
}

/** A signal arrived while the process was still starting (waiting for an API, the EVM node, the parent). */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

let startupSignal: NodeJS.Signals | null = null;

/**
 * The signal that interrupted startup, if one did. Whatever a startup step then fails with (an AbortError, a
 * library's own error wrapping the abort) comes from the interruption, so the program exits as the signal says.
 */
export function interruptedBy(): NodeJS.Signals | null {
  return startupSignal;
}

/**
 * Aborts `abort` with an Interrupted on SIGINT or SIGTERM until the returned function is called (once the process
 * is up and onShutdown takes over).
 */
export function abortOnSignal(abort: AbortController): () => void {
  const interrupted = (signal: NodeJS.Signals) => {
    startupSignal = signal;
    abort.abort(new Interrupted(signal));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return () => {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  };
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
      () => process.exit(exitCodeAfter(signal)),
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
