import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TopicParseError } from '../../src/p2p/errors.js';
import {
  blocksTopic,
  EVIDENCE_TOPIC,
  parseTopic,
  stringifyTopic,
  tryParseTopic,
} from '../../src/p2p/topics.js';

const ID = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const HEX = Buffer.from(ID).toString('hex');

describe('gossip topics', () => {
  it('stringifies to the canonical names', () => {
    assert.equal(stringifyTopic(blocksTopic(ID)), `/sortition/1/${HEX}/blocks/proto`);
    assert.equal(stringifyTopic(EVIDENCE_TOPIC), '/sortition/1/evidence/proto');
  });

  it('round-trips', () => {
    for (const t of [blocksTopic(ID), blocksTopic(new Uint8Array(32)), EVIDENCE_TOPIC]) {
      const name = stringifyTopic(t);
      const parsed = parseTopic(name);
      assert.deepEqual(parsed, t);
      assert.equal(stringifyTopic(parsed), name);
    }
  });

  it('rejects malformed names with a typed error', () => {
    const bad = [
      '',
      '/',
      'sortition/1/evidence/proto',
      '/sortition/2/evidence/proto',
      '/sortition/1/evidence/ssz',
      '/sortition/1/evidence',
      '/sortition/1/evidence/proto/',
      '/sortition/1//evidence/proto',
      `/sortition/1/${HEX}/blocks`,
      `/sortition/1/${HEX}/block/proto`,
      `/sortition/1/${HEX.toUpperCase()}/blocks/proto`,
      `/sortition/1/${HEX.slice(2)}/blocks/proto`,
      `/sortition/1/${HEX}00/blocks/proto`,
      `/sortition/1/${HEX.slice(0, 62)}zz/blocks/proto`,
      `/sortition/1/${HEX}/evidence/proto`,
      `/sortition/1/evidence/${HEX}/proto`,
      '/meshsub/1.1.0',
      '/sortition/1/' + 'a'.repeat(500) + '/blocks/proto',
    ];
    for (const name of bad) {
      assert.throws(
        () => parseTopic(name),
        (err: unknown) => err instanceof TopicParseError && err.code === 'BAD_TOPIC' && err.topic === name,
        name,
      );
      assert.equal(tryParseTopic(name), undefined);
    }
  });

  it('refuses to stringify a chain id that is not 32 bytes', () => {
    assert.throws(() => stringifyTopic(blocksTopic(new Uint8Array(31))), TopicParseError);
    assert.throws(() => stringifyTopic(blocksTopic(new Uint8Array(33))), TopicParseError);
  });
});
