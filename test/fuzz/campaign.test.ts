/**
 * The mutation campaign of `npm run bench -- fuzz`, small and with a fixed seed: a few thousand inputs per family
 * (wire mutations of every message kind, semantic mutations of blocks over a real tree, adversarial roots, forged
 * evidence). Every input must get a typed verdict within the hang bound, and the verifier must agree with the
 * honest full-tree replay and with what the honest data supports: no crash, hang, accepted-invalid or
 * rejected-valid input, in any kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign } from '../../bench/fuzz/campaign.js';

const PER_WIRE_KIND = 1500;
const WIRE_KINDS = 22;

test('mutation campaign, seed 7: no crash, hang, accepted-invalid or rejected-valid input in any kind', () => {
  const r = runCampaign({
    seed: 7,
    seconds: 300,
    wire: PER_WIRE_KIND * WIRE_KINDS,
    semantic: 3000,
    roots: 3000,
    evidence: 3000,
    multiproof: 3000,
  });
  const kinds = [...r.tally.kinds.entries()];
  assert.equal(
    kinds.filter(([k]) => k.startsWith('wire ')).length,
    WIRE_KINDS,
    'every message kind has a corpus',
  );
  for (const [kind, s] of kinds) {
    const detail = `${kind}: ${s.samples.join(' | ')}`;
    assert.equal(s.crashes, 0, detail);
    assert.equal(s.hangs, 0, detail);
    assert.equal(s.acceptedInvalid, 0, detail);
    assert.equal(s.rejectedValid, 0, detail);
    // The clock must not have cut the campaign short, and each kind must reach past its first check.
    const floor = kind.startsWith('wire ') ? PER_WIRE_KIND : kind === 'semantic control' ? 300 : 3000;
    assert.ok(s.inputs >= floor, `${kind}: ${s.inputs} inputs`);
    assert.ok(s.accepted > 0 || kind === 'wire evidence', `${kind}: nothing accepted`);
  }
});
