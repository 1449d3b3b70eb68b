/**
 * An offline check of a proof a holder keeps (issue 27 item 4): `settle check-proof --file` takes the line `settle
 * winner` printed and, with no network, says who wins the point by its levels against the committed root (and,
 * with --key, whether that is you); a proof whose levels do not give the point to its winnerKey, or whose root is not
 * the one the holder read from the contract, is refused with a typed error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'check-proof-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function checkProof(args: string[]): {
  status: number | null;
  out: Record<string, unknown> | null;
  err: string;
} {
  const r = spawnSync(process.execPath, [CLI, 'settle', 'check-proof', ...args], { encoding: 'utf8' });
  return {
    status: r.status,
    out: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : null,
    err: r.stderr,
  };
}

test('settle check-proof: a kept proof says who wins, offline; a forged one is refused', async () => {
  const holder = generateKeyPair();
  const other = generateKeyPair();
  const operator = generateKeyPair();
  const space = { start: 0n, end: 1n << 40n };
  const contract = (start: bigint, end: bigint, owner: Uint8Array) =>
    makeLeaf({ start, end, owner, nonce: 0, terms: new Uint8Array(0) });
  const tree = ProbabilityTree.fromLeaves([
    contract(1000n, 2000n, holder.publicKey),
    contract(5000n, 9000n, other.publicKey),
    contract(20_000n, 30_000n, other.publicKey),
  ]);
  const root = tree.summary().digest;
  const point = 1500n;
  const proof = {
    chainId: toHex(new Uint8Array(32).fill(7)),
    point: point.toString(),
    height: 12,
    winnerKey: toHex(holder.publicKey),
    levels: [toHex(encodeLookupPath(tree.lookupPath(point)))],
    root: toHex(root),
    spaceStart: space.start.toString(),
    spaceEnd: space.end.toString(),
    operatorKey: toHex(operator.publicKey),
  };
  const file = (name: string, p: object) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(p));
    return f;
  };
  const keyFile = join(dir, 'holder.json');
  await writeKeyFile(keyFile, holder);

  const ok = checkProof(['--file', file('kept.json', proof), '--root', toHex(root), '--key', keyFile]);
  assert.equal(ok.status, 0, ok.err);
  assert.deepEqual([ok.out?.ok, ok.out?.winnerKey, ok.out?.youWin], [true, toHex(holder.publicKey), true]);

  // A gap in the tree is the operator's.
  const gap = checkProof(['--file', file('gap.json', {
    ...proof,
    point: '3000',
    winnerKey: toHex(operator.publicKey),
    levels: [toHex(encodeLookupPath(tree.lookupPath(3000n)))],
  })]); // prettier-ignore
  assert.equal(gap.status, 0, gap.err);
  assert.equal(gap.out?.winnerKey, toHex(operator.publicKey));

  const forged = checkProof(['--file', file('forged.json', { ...proof, winnerKey: toHex(other.publicKey) })]);
  assert.equal(forged.status, 1);
  assert.match(forged.err, /BAD_PROOF: the levels give point 1500 to /);

  const wrongRoot = checkProof(['--file', file('kept2.json', proof), '--root', '11'.repeat(32)]);
  assert.equal(wrongRoot.status, 1);
  assert.match(wrongRoot.err, /ROOT_MISMATCH/);

  const otherRoot = checkProof(['--file', file('moved.json', { ...proof, root: '22'.repeat(32) })]);
  assert.equal(otherRoot.status, 1);
  assert.match(otherRoot.err, /BAD_PROOF: level 0 does not prove point 1500 against the committed root/);

  const broken = checkProof(['--file', file('broken.json', { ...proof, levels: ['zz'] })]);
  assert.equal(broken.status, 1);
  assert.match(broken.err, /BAD_PROOF: .*levels\[0\]/);
});
