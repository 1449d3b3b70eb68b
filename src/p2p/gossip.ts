// Gossip over @libp2p/gossipsub with typed topics and asynchronous validation.
//
// Every message that arrives on a subscribed topic goes through exactly one validator, registered per topic
// kind. The validator returns a Verdict (src/codec/verdict.ts), which is mapped to gossipsub's
// TopicValidatorResult in one place (acceptanceOf), reported with reportMessageValidationResult
// (asyncValidation: gossipsub only relays after an Accept, and a Reject costs the sender score), counted in
// gossip_messages_total{topic_kind,result,code}, and accepted messages are handed to the message handler. A
// validator that throws has a bug, which says nothing about the message: it is ignored with code INTERNAL (as
// Lodestar and gossipsub do), never rejected, so it cannot cost an honest relayer its score; it is logged at error
// with its stack and counted in gossip_validation_errors_total{topic_kind}.
import { TopicValidatorResult, type GossipsubMessage } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { Registry } from 'prom-client';
import { codeLabel, ignore, reject, type Verdict } from '../codec/verdict.js';
import type { NetworkNode, P2pLogger } from './libp2p.js';
import { createGossipMetrics, type GossipMetrics } from './metrics.js';
import {
  parseTopic,
  stringifyTopic,
  tryParseTopic,
  type GossipTopic,
  type GossipTopicKind,
} from './topics.js';

export interface GossipMessage {
  topic: GossipTopic;
  /** The topic's string name. */
  topicName: string;
  data: Uint8Array;
  /** The peer that relayed the message to us (StrictNoSign messages carry no author). */
  from: PeerId;
  /** Gossipsub message id (see gossipMessageId). */
  msgId: string;
}

/** Judges a message. Throwing is a bug of the validator: the message is ignored (INTERNAL), never rejected. */
export type GossipValidator = (msg: GossipMessage) => Promise<Verdict>;

/** Receives accepted messages (after they were reported for relaying). Errors are logged, not propagated. */
export type GossipMessageHandler = (msg: GossipMessage) => void | Promise<void>;

/** Ignores that say something about this node, not about the message's sender. */
const LOCAL_IGNORES: ReadonlySet<string> = new Set(['OVERLOADED', 'TIMEOUT', 'INTERNAL', 'NO_VALIDATOR']);

/** The one mapping from a verdict to gossipsub's. */
export function acceptanceOf(v: Verdict): TopicValidatorResult {
  switch (v.result) {
    case 'accept':
      return TopicValidatorResult.Accept;
    case 'ignore':
      return TopicValidatorResult.Ignore;
    case 'reject':
      return TopicValidatorResult.Reject;
  }
}

export interface GossipServiceOptions {
  node: NetworkNode;
  /** Metrics to update; or a registry to create them in. Without either, a private registry is used. */
  metrics?: GossipMetrics;
  registry?: Registry;
  onMessage?: GossipMessageHandler;
  /** A validator that has not settled after this long is treated as ignore / TIMEOUT (default 12 s). */
  validationTimeoutMs?: number;
  /** Messages validated at once; beyond it messages are ignored with code OVERLOADED (default 512). */
  maxConcurrentValidations?: number;
  /**
   * Topics with a gossip_mesh_peers series of their own, the first subscribed (default 32): a series per topic
   * made /metrics grow with the chains followed. gossip_topics_unmeshed covers them all.
   */
  maxTopicSeries?: number;
  logger?: P2pLogger;
}

class ValidationTimeout extends Error {}

export class GossipService {
  readonly metrics: GossipMetrics;
  readonly #node: NetworkNode;
  readonly #log: P2pLogger;
  readonly #validators = new Map<GossipTopicKind, GossipValidator>();
  readonly #subscriptions = new Map<string, GossipTopic>();
  readonly #validationTimeoutMs: number;
  readonly #maxConcurrent: number;
  readonly #maxTopicSeries: number;
  #handler: GossipMessageHandler | undefined;
  #inflight = 0;
  #started = false;

  constructor(opts: GossipServiceOptions) {
    this.#node = opts.node;
    this.#log = opts.logger ?? opts.node.log;
    this.metrics = opts.metrics ?? createGossipMetrics(opts.registry ?? new Registry());
    this.#handler = opts.onMessage;
    this.#validationTimeoutMs = opts.validationTimeoutMs ?? 12_000;
    this.#maxConcurrent = opts.maxConcurrentValidations ?? 512;
    this.#maxTopicSeries = opts.maxTopicSeries ?? 32;
  }

  get isStarted(): boolean {
    return this.#started;
  }

  /** Starts validating and delivering messages. The network node should be started first. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const gs = this.#node.gossipsub;
    gs.addEventListener('gossipsub:message', this.#onMessage);
    gs.addEventListener('gossipsub:heartbeat', this.#onHeartbeat);
    this.#node.setInboundTopicFilter(this.#topicFilter);
    for (const [name, topic] of this.#subscriptions) this.#doSubscribe(name, topic);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const gs = this.#node.gossipsub;
    gs.removeEventListener('gossipsub:message', this.#onMessage);
    gs.removeEventListener('gossipsub:heartbeat', this.#onHeartbeat);
    this.#node.setInboundTopicFilter(undefined);
    if (this.#node.isStarted) {
      for (const [name, topic] of this.#subscriptions) {
        gs.unsubscribe(name);
        this.#node.disableTopicScoring(topic);
      }
    }
    this.metrics.meshPeers.reset();
  }

  /** Registers the validator of a topic kind (one per kind). */
  registerValidator(kind: GossipTopicKind, validator: GossipValidator): void {
    if (this.#validators.has(kind)) throw new Error(`a validator for ${kind} topics is already registered`);
    this.#validators.set(kind, validator);
  }

  unregisterValidator(kind: GossipTopicKind): void {
    this.#validators.delete(kind);
  }

  setMessageHandler(handler: GossipMessageHandler | undefined): void {
    this.#handler = handler;
  }

  /** Subscribes to a topic (takes effect at start if not started) and starts scoring it. */
  subscribe(topic: GossipTopic): void {
    const name = stringifyTopic(topic);
    if (this.#subscriptions.has(name)) return;
    this.#subscriptions.set(name, topic);
    if (this.#started) this.#doSubscribe(name, topic);
  }

  unsubscribe(topic: GossipTopic): void {
    const name = stringifyTopic(topic);
    if (!this.#subscriptions.delete(name)) return;
    if (this.#started) {
      this.#node.gossipsub.unsubscribe(name);
      this.#node.disableTopicScoring(topic);
      this.metrics.meshPeers.remove({ topic: name });
    }
  }

  isSubscribed(topic: GossipTopic): boolean {
    return this.#subscriptions.has(stringifyTopic(topic));
  }

  getSubscriptions(): GossipTopic[] {
    return [...this.#subscriptions.values()];
  }

  /**
   * Publishes `data` on a topic; resolves to the number of peers it was sent to (0 is not an error: nobody
   * may be listening yet). Own messages are not passed through the validator: check them before publishing.
   */
  async publish(topic: GossipTopic, data: Uint8Array): Promise<number> {
    if (!this.#started) throw new Error('gossip service is not started');
    if (data.length > this.#node.maxMessageSize) {
      throw new RangeError(`gossip message of ${data.length} bytes exceeds ${this.#node.maxMessageSize}`);
    }
    const { recipients } = await this.#node.gossipsub.publish(stringifyTopic(topic), data);
    return recipients.length;
  }

  /** Peer ids (strings) in our mesh for a topic. */
  getMeshPeers(topic: GossipTopic): string[] {
    return this.#node.gossipsub.getMeshPeers(stringifyTopic(topic));
  }

  /** Peers known to subscribe to a topic. */
  getSubscribers(topic: GossipTopic): PeerId[] {
    return this.#node.gossipsub.getSubscribers(stringifyTopic(topic));
  }

  readonly #topicFilter = (topicName: string): boolean => {
    if (this.#subscriptions.has(topicName) || tryParseTopic(topicName) !== undefined) return true;
    this.metrics.messages.inc({ topic_kind: 'unknown', result: 'reject', code: 'BAD_TOPIC' });
    return false;
  };

  readonly #onHeartbeat = (): void => {
    this.metrics.peers.set(this.#node.libp2p.getPeers().length);
    let i = 0;
    let unmeshed = 0;
    for (const name of this.#subscriptions.keys()) {
      const mesh = this.#node.gossipsub.getMeshPeers(name).length;
      if (mesh === 0) unmeshed++;
      if (i++ < this.#maxTopicSeries) this.metrics.meshPeers.set({ topic: name }, mesh);
    }
    this.metrics.topicsSubscribed.set(this.#subscriptions.size);
    this.metrics.topicsUnmeshed.set(unmeshed);
  };

  readonly #onMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    void this.#handle(evt.detail);
  };

  #doSubscribe(name: string, topic: GossipTopic): void {
    this.#node.enableTopicScoring(topic);
    this.#node.gossipsub.subscribe(name);
  }

  async #handle({ msgId, msg, propagationSource }: GossipsubMessage): Promise<void> {
    const source = propagationSource.toString();
    let topic: GossipTopic;
    try {
      topic = this.#subscriptions.get(msg.topic) ?? parseTopic(msg.topic);
    } catch {
      this.#report(msgId, source, 'unknown', reject('BAD_TOPIC'));
      return;
    }
    const message: GossipMessage = {
      topic,
      topicName: msg.topic,
      data: msg.data,
      from: propagationSource,
      msgId,
    };
    const validator = this.#validators.get(topic.kind);
    if (validator === undefined) {
      this.#report(msgId, source, topic.kind, ignore('NO_VALIDATOR'));
      return;
    }
    if (this.#inflight >= this.#maxConcurrent) {
      this.#report(msgId, source, topic.kind, ignore('OVERLOADED'));
      return;
    }
    this.#inflight++;
    const end = this.metrics.validationSeconds.startTimer({ topic_kind: topic.kind });
    let verdict: Verdict;
    try {
      verdict = await this.#validateWithTimeout(validator, message);
    } catch (err) {
      if (err instanceof ValidationTimeout) verdict = ignore('TIMEOUT');
      else {
        verdict = ignore('INTERNAL', String(err));
        this.metrics.validationErrors.inc({ topic_kind: topic.kind });
        this.#log.error({ err, topic: msg.topic, from: source }, 'gossip validator threw');
      }
    } finally {
      this.#inflight--;
      end();
    }
    this.#report(msgId, source, topic.kind, verdict);
    if (verdict.result !== 'accept' || !this.#started) return;
    const handler = this.#handler;
    if (handler === undefined) return;
    try {
      await handler(message);
    } catch (err) {
      this.#log.error({ err: String(err), topic: msg.topic }, 'gossip message handler threw');
    }
  }

  async #validateWithTimeout(validator: GossipValidator, message: GossipMessage): Promise<Verdict> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ValidationTimeout()), this.#validationTimeoutMs);
    });
    try {
      return await Promise.race([validator(message), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #report(msgId: string, source: string, kind: string, verdict: Verdict): void {
    this.metrics.messages.inc({ topic_kind: kind, result: verdict.result, code: codeLabel(verdict) });
    // An ignored evidence message of the sender's making (not this node's load or faults) counts towards its
    // useless traffic. Evidence only: honest evidence is rare, while an honest peer relays blocks this node ignores
    // for as long as it is behind (each block ahead of its head), many a second on a fast chain.
    if (kind === 'evidence' && verdict.result === 'ignore' && !LOCAL_IGNORES.has(verdict.code))
      this.#node.useless.note(source);
    if (!this.#started || !this.#node.isStarted) return;
    try {
      this.#node.gossipsub.reportMessageValidationResult(msgId, source, acceptanceOf(verdict));
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'reportMessageValidationResult failed');
    }
  }
}
