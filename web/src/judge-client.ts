/** The page's side of the judging worker (worker.ts): typed requests, answered in order of their ids. */
import type { BlockReport, JudgeView, WatchVerdict } from './judge.js';

export type JudgeRequest = { readonly id: number } & (
  | { readonly op: 'follow'; readonly chainId: string; readonly genesis: Uint8Array }
  | { readonly op: 'block'; readonly chainId: string; readonly bytes: Uint8Array }
  | { readonly op: 'evidence'; readonly bytes: Uint8Array }
  | { readonly op: 'watch'; readonly chainId: string; readonly path: string; readonly height: number }
  | { readonly op: 'unwatch'; readonly chainId: string; readonly start: string }
  | { readonly op: 'height'; readonly chainId: string }
  | { readonly op: 'view' }
);

export type JudgeResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

type Body<R> = R extends unknown ? Omit<R, 'id'> : never;

export class JudgeClient {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<JudgeResponse>) => {
      const r = ev.data;
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.result);
      else w.reject(new Error(r.error));
    };
  }

  private call<T>(req: Body<JudgeRequest>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  follow(chainId: string, genesis: Uint8Array): Promise<{ parent: string | null; name: string }> {
    return this.call({ op: 'follow', chainId, genesis });
  }
  block(chainId: string, bytes: Uint8Array): Promise<BlockReport> {
    return this.call({ op: 'block', chainId, bytes });
  }
  evidence(bytes: Uint8Array): Promise<BlockReport> {
    return this.call({ op: 'evidence', bytes });
  }
  watch(chainId: string, path: string, height: number): Promise<WatchVerdict> {
    return this.call({ op: 'watch', chainId, path, height });
  }
  unwatch(chainId: string, start: string): Promise<null> {
    return this.call({ op: 'unwatch', chainId, start });
  }
  height(chainId: string): Promise<number> {
    return this.call({ op: 'height', chainId });
  }
  view(): Promise<JudgeView> {
    return this.call({ op: 'view' });
  }
}
