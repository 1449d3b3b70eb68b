// Run by browser.test.ts in a process without Buffer: everything comes from the core's entry point alone.
import {
  ChainProducer,
  generateKeyPair,
  genesisState,
  makeEquivocation,
  makeGenesis,
  toHex,
  Tracker,
  validateBlock,
  verifyEvidence,
} from '../../src/core.js';

if ('Buffer' in globalThis) throw new Error('Buffer is still defined: the test proves nothing');
const key = generateKeyPair();
const genesis = makeGenesis({
  operatorKey: key.publicKey,
  spaceStart: 0n,
  spaceEnd: 1n << 40n,
  parentChain: new Uint8Array(0),
  parentContract: 0n,
  expiry: 0,
  amount: 0n,
  name: 'wallet',
  salt: new Uint8Array(0),
});
const a = new ChainProducer(genesis, key.secretKey);
const b = new ChainProducer(genesis, key.secretKey);
const owner = generateKeyPair().publicKey;
a.create({ start: 0n, end: 100n, owner });
a.create({ start: 200n, end: 300n, owner });
b.create({ start: 500n, end: 600n, owner });
const x = a.seal(1000).block;
const y = b.seal(1001).block;
const r = validateBlock(genesisState(genesis), x.bytes);
if (!r.ok) throw new Error(`block rejected: ${r.error.code}`);
const ev = verifyEvidence(makeEquivocation(x.signed, y.signed), (id) =>
  toHex(id) === toHex(genesis.chainId) ? genesis : undefined,
);
if (ev.kind !== 'equivocation') throw new Error(`evidence is ${ev.kind}`);
// The light validator over the same two blocks: it takes the first and turns the second into evidence.
const t = new Tracker();
t.track(genesis);
const first = t.onBlock(genesis.chainId, x.bytes);
if (first.verdict.result !== 'accept') throw new Error(`tracker: first block ${first.verdict.result}`);
const second = t.onBlock(genesis.chainId, y.bytes);
if (
  second.verdict.code !== 'EQUIVOCATION' ||
  second.evidence.length !== 1 ||
  !t.view(genesis.chainId)?.faulty
)
  throw new Error(`tracker: second block ${second.verdict.result} ${second.verdict.code}`);
console.log(
  `ok height ${r.state.height} root ${toHex(r.state.stateRoot).slice(0, 16)} evidence ${ev.kind} tracker ${t.status()[0]?.height}`,
);
