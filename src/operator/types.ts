/**
 * The operator's seams: what it needs from the process it runs in (a place to publish blocks, an HTTP API, a
 * metrics registry, a logger). The shapes its API speaks are in src/api/operator.ts.
 */
import type { Registry } from 'prom-client';
import type { Verdict } from '../codec/verdict.js';
import type { HttpApi } from '../runtime/http.js';
import type { Logger } from '../runtime/logger.js';

/** What the node answers when a block is published (its one Verdict); anything but `reject` means it was taken. */
export type PublishVerdict = Verdict;

/**
 * Where sealed blocks go: the validator runtime validates them locally, stores them, serves them over
 * request/response and gossips them. `raw: true` skips the local validation (fault injection only).
 */
export interface BlockSink {
  publishBlock(
    chainId: Uint8Array,
    block: Uint8Array,
    opts?: { raw?: boolean },
  ): Promise<void | PublishVerdict>;
  /** Peers in the chain's gossip mesh: a devnet fault waits for one, or nobody would see it (faults.ts). */
  meshPeers?(chainId: Uint8Array): number;
}

/** Injected by the runtime. */
export interface OperatorDeps {
  readonly api: HttpApi;
  readonly registry: Registry;
  readonly log: Logger;
  readonly sink: BlockSink;
}
