/**
 * `npm run bench -- evm`: gas of every anchor contract function on a real EVM (anvil), the Ed25519
 * verification on its own, and a winner proof at 10^6 contracts (BENCH_EVM_CONTRACTS to change the size).
 * Figures are receipts' gasUsed (transaction totals, 21,000 base and calldata included) unless marked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  encodeFunctionData,
  http,
  keccak256,
  toHex,
  type Hex,
} from 'viem';
import { foundry } from 'viem/chains';
import { DrandBeacon, Ed25519Probe, Ed25519Verifier } from '../src/gen/contracts.js';
import {
  DEV_DRAND,
  DEV_DRAND_SECRET,
  firstRoundAfter,
  g1ForEvm,
  roundTime,
  signRound,
} from '../src/evm/drand.js';
import { anvilAccount, startAnvil } from '../src/evm/anvil.js';
import {
  ANCHOR_ABI,
  deployAnchor,
  evmAnchorId,
  evmGenesis,
  signPayout,
  signRegistration,
} from '../src/evm/anchor.js';
import { generateKeyPair, sign, type KeyPair } from '../src/crypto/keys.js';
import { signHeader } from '../src/chain/header.js';
import type { GenesisRecord } from '../src/chain/genesis.js';
import { signAction } from '../src/chain/tx.js';
import { ProbabilityTree } from '../src/tree/tree.js';
import { makeLeaf } from '../src/tree/contract.js';
import { encodeLookupPath } from '../src/sortition/lottery.js';
import { EvmAnchor } from '../src/evm/node-anchor.js';
import { fileJournal } from '../src/evm/journal.js';
import {
  challengeChain,
  claimChain,
  timeoutChain,
  withdrawCredits,
  type LevelSource,
} from '../src/evm/settle.js';
import { createLogger } from '../src/runtime/logger.js';
import { heading, jitteredLeaves, now, table } from './util.js';
import { benchHost } from './hosts.js';

type FnName = Extract<(typeof ANCHOR_ABI)[number], { type: 'function' }>['name'];

export async function benchEvm(
  contracts = Number(process.env.BENCH_EVM_CONTRACTS ?? 1_000_000),
): Promise<void> {
  const anvil = await startAnvil({ host: benchHost(1) });
  try {
    const transport = http(anvil.rpcUrl, { timeout: 120_000 });
    const pub = createPublicClient({ chain: foundry, transport, cacheTime: 0 });
    const info = (await pub.request({ method: 'anvil_nodeInfo' } as never)) as { hardFork?: string };
    heading(`evm: anchor contract gas on anvil, hardfork ${info.hardFork ?? '?'} (winner proof at ${contracts} contracts)`); // prettier-ignore
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
    const wallet = (i: number) => createWalletClient({ chain: foundry, transport, account: anvilAccount(i) });
    const rows: Record<string, string | number>[] = [];
    const row = (fn: string, gas: bigint, note = '') => rows.push({ function: fn, gas: Number(gas), note });

    const d = await deployAnchor(wallet(0), pub, {
      challengeWindow: 5n,
      reporterBps: 1000,
      drand: DEV_DRAND,
    });
    const codeSize = async (a: Hex) => (await pub.getCode({ address: a }))!.length / 2 - 1;
    row(
      'deploy Ed25519Verifier + DrandBeacon + SortitionAnchor',
      d.gasUsed,
      `${await codeSize(d.verifier)} + ${await codeSize(d.drand)} + ${await codeSize(d.address)} B of code (EIP-170 limit 24,576)`,
    );
    const bond = await pub.readContract({ address: d.address, abi: ANCHOR_ABI, functionName: 'claimBond' });
    const address = d.address;
    const anchorId = evmAnchorId(anvil.chainId, address);
    const send = async (
      from: number,
      fn: FnName,
      args: readonly unknown[],
      value?: bigint,
    ): Promise<bigint> => {
      const hash = await wallet(from).writeContract({ address, abi: ANCHOR_ABI, functionName: fn, args: args as never, value: value as never } as never); // prettier-ignore
      const r = await pub.waitForTransactionReceipt({ hash });
      if (r.status !== 'success') throw new Error(`${fn} reverted`);
      return r.gasUsed;
    };
    // Registered from account 0 with account 1 committing, signed by the chain's operator key.
    const regArgs = (g: GenesisRecord, key: KeyPair, seedHash: Hex = `0x${'00'.repeat(32)}`, round = 0n) => {
      const [committer, sender] = [anvilAccount(1).address, anvilAccount(0).address];
      const sig = signRegistration(key.secretKey, anchorId, g.chainId, committer, sender, 2000);
      return [toHex(g.bytes), committer, 2000, seedHash, sig, round];
    };
    // The big chain's operator commits to a beacon seed, revealed after its beacon block.
    const seed = keccak256(toHex('bench seed'));
    const seedHash = keccak256(encodeAbiParameters([{ type: 'bytes32' }], [seed]));
    // A report sealed by account 2 before it is sent, so the reward is its own.
    let sealGas = 0n;
    const sealed = async (fn: FnName, args: readonly unknown[]): Promise<bigint> => {
      const data = encodeFunctionData({ abi: ANCHOR_ABI, functionName: fn, args } as never);
      const c = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [anvilAccount(2).address, keccak256(data)])); // prettier-ignore
      sealGas = await send(2, 'commitReport', [c]);
      return send(2, fn, args);
    };
    const read = <T>(fn: FnName, args: readonly unknown[]) =>
      pub.readContract({
        address,
        abi: ANCHOR_ABI,
        functionName: fn,
        args: args as never,
      } as never) as Promise<T>;

    // Ed25519 on its own, through the anchor's public function and the bare library.
    const kp = generateKeyPair();
    const msg = new Uint8Array(32).fill(9);
    const sig = sign(kp.secretKey, msg);
    const verifyArgs = [toHex(kp.publicKey), toHex(msg), toHex(sig)] as const;
    // The verifier contract itself: through the anchor's try/catch, eth_estimateGas would find the least gas at which
    // the inner call runs out and the wrapper returns false.
    const verifyGas = await pub.estimateContractGas({ address: d.verifier, abi: Ed25519Verifier.abi, functionName: 'verify', args: verifyArgs } as never); // prettier-ignore
    row(
      'Ed25519Verifier.verify (eth_estimateGas)',
      verifyGas,
      `execution ~${Number(verifyGas) - 21_000 - 16 * 128}`,
    );
    const probeHash = await wallet(0).deployContract({
      abi: Ed25519Probe.abi,
      bytecode: Ed25519Probe.bytecode,
    });
    const probe = (await pub.waitForTransactionReceipt({ hash: probeHash })).contractAddress!;
    const long = new Uint8Array(1024).fill(1);
    const longGas = await pub.estimateContractGas({ address: probe, abi: Ed25519Probe.abi, functionName: 'verifyEd25519Message', args: [toHex(kp.publicKey), toHex(long), toHex(sign(kp.secretKey, long))] }); // prettier-ignore
    row('Ed25519 over a 1 KiB message (probe)', longGas, '9 SHA-512 blocks');
    const shaGas = await pub.estimateContractGas({ address: probe, abi: Ed25519Probe.abi, functionName: 'sha512', args: [toHex(new Uint8Array(96))] }); // prettier-ignore
    row('SHA-512 of 96 bytes (probe)', shaGas, 'one block');

    // Register, commit, existence.
    const op = generateKeyPair();
    const block = Number(await pub.getBlockNumber());
    const SPACE = 1n << 62n;
    const g = evmGenesis(anchorId, { operatorKey: op.publicKey, spaceStart: 0n, spaceEnd: SPACE, expiry: block + 12, amountGwei: 10n ** 9n, name: 'bench' }); // prettier-ignore
    const deposit = 10n ** 18n;
    row('register (operator signature, seed hash)', await send(0, 'register', regArgs(g, op, seedHash), deposit), '1 Ed25519'); // prettier-ignore
    const id = toHex(g.chainId);

    const t0 = now();
    const owner = generateKeyPair();
    const { leaves } = jitteredLeaves(contracts, owner.publicKey, SPACE);
    const tree = ProbabilityTree.fromLeaves(leaves);
    const buildS = (now() - t0) / 1000;
    const hdr = (height: number, key: KeyPair, root: ProbabilityTree | null, salt = 0) => {
      const s = root?.summary() ?? { digest: new Uint8Array(32), min: 0n, max: 0n };
      const txRoot = new Uint8Array(32);
      txRoot[0] = salt;
      return signHeader({ chainId: g.chainId, height, prevHash: g.chainId, stateRoot: s.digest, stateMin: s.min, stateMax: s.max, txRoot, txCount: 0, timeMs: height, beaconSig: new Uint8Array(0) }, key.secretKey); // prettier-ignore
    };
    const h1 = hdr(1, op, tree);
    row('commit (first)', await send(1, 'commit', [id, toHex(h1.bytes)]), 'signature not checked on chain');
    const h2 = hdr(2, op, tree, 1);
    row('commit (next)', await send(1, 'commit', [id, toHex(h2.bytes)]));
    const data = toHex(new Uint8Array(32).fill(3));
    row('recordExistence (first)', await send(2, 'recordExistence', [data]));
    row('recordExistence (again)', await send(2, 'recordExistence', [data]), 'the first record stands');

    // Slashing, on two throwaway chains.
    const slashable = async (start: bigint) => {
      const k = generateKeyPair();
      const gg = evmGenesis(anchorId, { operatorKey: k.publicKey, spaceStart: start, spaceEnd: start + 1000n, expiry: block + 1000, amountGwei: 10n ** 9n }); // prettier-ignore
      await send(0, 'register', regArgs(gg, k), deposit);
      const h = (height: number, salt: number) => {
        const txRoot = new Uint8Array(32);
        txRoot[0] = salt;
        return signHeader({ chainId: gg.chainId, height, prevHash: gg.chainId, stateRoot: new Uint8Array(32), stateMin: 0n, stateMax: 0n, txRoot, txCount: 0, timeMs: height, beaconSig: new Uint8Array(0) }, k.secretKey); // prettier-ignore
      };
      return { id: toHex(gg.chainId), h };
    };
    const e1 = await slashable(SPACE);
    row('slashEquivocation (sealed)', await sealed('slashEquivocation', [e1.id, toHex(e1.h(1, 1).bytes), toHex(e1.h(1, 2).bytes)]), '2 Ed25519 + parsing'); // prettier-ignore
    row('commitReport (the seal sent a block before a report)', sealGas);
    const e2 = await slashable(SPACE + 1000n);
    await send(1, 'commit', [e2.id, toHex(e2.h(1, 1).bytes)]);
    row('slashCommitMismatch (sealed)', await sealed('slashCommitMismatch', [e2.id, toHex(e2.h(1, 2).bytes)]), '1 Ed25519 + parsing'); // prettier-ignore

    // A chain drawing from a drand round: registered with it, the round posted once published, the beacon fixed.
    {
      const k = generateKeyPair();
      const expiry = Number(await pub.getBlockNumber()) + 3;
      const t = (await pub.getBlock({ blockTag: 'latest' })).timestamp;
      const round = firstRoundAfter(DEV_DRAND, t + 30n);
      const dg = evmGenesis(anchorId, { operatorKey: k.publicKey, spaceStart: 0n, spaceEnd: 1000n, expiry, amountGwei: 10n ** 9n }); // prettier-ignore
      row('register with a drand round', await send(0, 'register', regArgs(dg, k, undefined, round), deposit), 'reads the round\'s time from DrandBeacon'); // prettier-ignore
      await testClient.mine({ blocks: 4 });
      await testClient.setNextBlockTimestamp({ timestamp: roundTime(DEV_DRAND, round) });
      const hash = await wallet(4).writeContract({ address: d.drand, abi: DrandBeacon.abi, functionName: 'post', args: [round, g1ForEvm(signRound(DEV_DRAND_SECRET, round))] }); // prettier-ignore
      row('DrandBeacon.post (a round verified: hash to G1, pairing)', (await pub.waitForTransactionReceipt({ hash })).gasUsed, 'EIP-2537 precompiles'); // prettier-ignore
      row('fixBeacon (from the drand round)', await send(3, 'fixBeacon', [toHex(dg.chainId)]));
    }

    // Settlement of the big chain.
    const nowBlock = Number(await pub.getBlockNumber());
    if (nowBlock <= block + 12) await testClient.mine({ blocks: block + 12 - nowBlock + 1 });
    row('revealSeed', await send(0, 'revealSeed', [id, seed]));
    row('fixBeacon (with the seed)', await send(3, 'fixBeacon', [id]));
    const point = await read<bigint>('fixBeacon', [id]);
    const path = tree.lookupPath(point);
    const level = toHex(encodeLookupPath(path));
    const found = tree.lookup(point);
    const winner = found.kind === 'leaf' ? owner : op;
    const payout = anvilAccount(7).address;
    const judgeGas = await pub.estimateContractGas({ address, abi: ANCHOR_ABI, functionName: 'judge', args: [id, 2n, [level]] } as never); // prettier-ignore
    row(`judge: winner proof at ${contracts} contracts (eth_estimateGas)`, judgeGas, `depth ${path.steps.length}, ${level.length / 2 - 1} B, ${found.kind}`); // prettier-ignore
    const claimArgs = (h: bigint, lv: Hex[]) => [
      id,
      h,
      lv,
      payout,
      signPayout(winner.secretKey, anchorId, g.chainId, payout),
      [],
    ];
    row(
      `claim at ${contracts} contracts`,
      await send(3, 'claim', claimArgs(2n, [level]), bond),
      'proof + payout signature + first-seen record + bond',
    );
    await testClient.mine({ blocks: 6 });
    row('timeout', await send(3, 'timeout', [id]));
    row('withdraw', await send(7, 'withdraw', []));

    // Nested levels: a 2-level claim, challenged with its nested holder's signed transfer.
    const kx = generateKeyPair();
    const ky = generateKeyPair();
    const nStart = SPACE + 2000n;
    const childOp = generateKeyPair();
    const inner = ProbabilityTree.fromLeaves([makeLeaf({ start: nStart, end: nStart + 64n, owner: ky.publicKey, nonce: 0, terms: new Uint8Array(0) })]); // prettier-ignore
    const link = {
      chain: new Uint8Array(32).fill(1),
      operator: childOp.publicKey,
      height: 1,
      root: inner.root,
    };
    const t1 = ProbabilityTree.fromLeaves([makeLeaf({ start: nStart, end: nStart + 64n, owner: kx.publicKey, nonce: 0, terms: new Uint8Array(0), child: link })]); // prettier-ignore
    const inner2 = ProbabilityTree.fromLeaves([makeLeaf({ start: nStart, end: nStart + 64n, owner: kx.publicKey, nonce: 1, terms: new Uint8Array(0) })]); // prettier-ignore
    const t2 = ProbabilityTree.fromLeaves([makeLeaf({ start: nStart, end: nStart + 64n, owner: kx.publicKey, nonce: 0, terms: new Uint8Array(0), child: { ...link, height: 2, root: inner2.root } })]); // prettier-ignore
    const nb = Number(await pub.getBlockNumber());
    const ng = evmGenesis(anchorId, { operatorKey: op.publicKey, spaceStart: nStart, spaceEnd: nStart + 64n, expiry: nb + 5, amountGwei: 10n ** 9n }); // prettier-ignore
    await send(0, 'register', regArgs(ng, op), deposit);
    const nid = toHex(ng.chainId);
    const nh = (height: number, t: ProbabilityTree) => {
      const s = t.summary();
      return signHeader({ chainId: ng.chainId, height, prevHash: ng.chainId, stateRoot: s.digest, stateMin: s.min, stateMax: s.max, txRoot: new Uint8Array(32), txCount: 0, timeMs: height, beaconSig: new Uint8Array(0) }, op.secretKey); // prettier-ignore
    };
    await send(1, 'commit', [nid, toHex(nh(1, t1).bytes)]);
    await send(1, 'commit', [nid, toHex(nh(2, t2).bytes)]);
    await testClient.mine({ blocks: 5 });
    await send(3, 'fixBeacon', [nid]);
    const np = await read<bigint>('fixBeacon', [nid]);
    const lv1 = [toHex(encodeLookupPath(t1.lookupPath(np))), toHex(encodeLookupPath(inner.lookupPath(np)))];
    const lv2 = [toHex(encodeLookupPath(t2.lookupPath(np))), toHex(encodeLookupPath(inner2.lookupPath(np)))];
    row('claim, 2 levels', await send(3, 'claim', [nid, 1n, lv1, payout, signPayout(ky.secretKey, anchorId, ng.chainId, payout), []], bond)); // prettier-ignore
    const [, judged] = await read<readonly [Hex, readonly { digest: Hex; ident: Hex; chain: Hex }[]]>('judge', [nid, 1n, lv1]); // prettier-ignore
    const held = inner.get(nStart)!;
    const gave = signAction({ chainId: link.chain, contractHash: held.digest, nonce: 1, op: { kind: 'transfer', newOwner: kx.publicKey, terms: new Uint8Array(0) } }, ky.secretKey); // prettier-ignore
    row('challenge (owner-signed transfer, level 2; unsealed)', await send(4, 'challenge', [nid, toHex(held.bytes), toHex(gave.bytes), toHex(gave.signature), judged]), 'Ed25519 + parsing'); // prettier-ignore
    row('claim, 2 levels, over a given-up one', await send(3, 'claim', [nid, 2n, lv2, payout, signPayout(kx.secretKey, anchorId, ng.chainId, payout), []], bond)); // prettier-ignore

    // Seed 001's data request on the big chain's last commit (a 10^6-contract tree's path answered on chain).
    const db = Number(await pub.getBlockNumber());
    const dg = evmGenesis(anchorId, { operatorKey: op.publicKey, spaceStart: 0n + SPACE * 2n, spaceEnd: SPACE * 3n, expiry: db + 200, amountGwei: 10n ** 9n }); // prettier-ignore
    await send(0, 'register', regArgs(dg, op), deposit);
    const did = toHex(dg.chainId);
    const shifted = ProbabilityTree.fromLeaves(leaves.map((l) => makeLeaf({ ...l.contract, start: l.contract.start + SPACE * 2n, end: l.contract.end + SPACE * 2n }))); // prettier-ignore
    const ds = shifted.summary();
    await send(1, 'commit', [did, toHex(signHeader({ chainId: dg.chainId, height: 1, prevHash: dg.chainId, stateRoot: ds.digest, stateMin: ds.min, stateMax: ds.max, txRoot: new Uint8Array(32), txCount: 0, timeMs: 1, beaconSig: new Uint8Array(0) }, op.secretKey).bytes)]); // prettier-ignore
    const q = SPACE * 2n + point;
    row('requestData', await send(7, 'requestData', [did, 1n, q], bond), 'bond locked');
    const [req] = await pub.getContractEvents({ address, abi: ANCHOR_ABI, eventName: 'DataRequested', args: { chainId: did }, fromBlock: 0n }); // prettier-ignore
    const answer = toHex(encodeLookupPath(shifted.lookupPath(q)));
    row(`answerData at ${contracts} contracts`, await send(1, 'answerData', [req.args.requestId!, answer]), `${answer.length / 2 - 1} B path, published`); // prettier-ignore
    await send(7, 'requestData', [did, 1n, q + 1n], bond);
    const reqs = await pub.getContractEvents({ address, abi: ANCHOR_ABI, eventName: 'DataRequested', args: { chainId: did }, fromBlock: 0n }); // prettier-ignore
    await testClient.mine({ blocks: 6 });
    row(
      'slashWithheld',
      await send(7, 'slashWithheld', [reqs[1].args.requestId!]),
      'unanswered: slash + refund',
    );

    // A beacon fixed 300 blocks after its beacon block: B's hash read through the EIP-2935 history contract.
    const late = evmGenesis(anchorId, { operatorKey: op.publicKey, spaceStart: 0n, spaceEnd: 64n, expiry: Number(await pub.getBlockNumber()) + 3, amountGwei: 10n ** 9n, name: 'late' }); // prettier-ignore
    await send(0, 'register', regArgs(late, op), deposit);
    await testClient.mine({ blocks: 305 });
    row('fixBeacon 300 blocks late (EIP-2935 read)', await send(3, 'fixBeacon', [toHex(late.chainId)]));

    await deepProofs({ address, pub, row });
    await nodeSettlement({ rpcUrl: anvil.rpcUrl, address, anchorId, send, mine: (n) => testClient.mine({ blocks: n }), pub, row, prev: nStart }); // prettier-ignore

    table(rows);
    console.log(`(tree of ${contracts} contracts built in ${buildS.toFixed(1)} s)`);
  } finally {
    await anvil.stop();
  }
}

/**
 * The settlement a node drives (src/evm/settle.ts through EvmAnchor and its TxSender), gas from the receipts: a
 * stale claim (the first claim also fixes the beacon), `challengeChain` with the later committed state,
 * `claimChain` by the new owner, `timeoutChain`, `withdrawCredits`. Proofs come from in-memory trees per height.
 */
async function nodeSettlement(b: {
  rpcUrl: string;
  address: Hex;
  anchorId: Uint8Array;
  send: (from: number, fn: FnName, args: readonly unknown[], value?: bigint) => Promise<bigint>;
  mine: (blocks: number) => Promise<void>;
  pub: { getBlockNumber(): Promise<bigint> };
  row: (fn: string, gas: bigint, note?: string) => void;
  prev: bigint;
}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-settle-'));
  try {
    const op = generateKeyPair();
    const [seller, buyer] = [generateKeyPair(), generateKeyPair()];
    const start = b.prev + 1000n;
    const at = (owner: KeyPair, nonce: number) =>
      ProbabilityTree.fromLeaves([makeLeaf({ start, end: start + 1000n, owner: owner.publicKey, nonce, terms: new Uint8Array(0) })]); // prettier-ignore
    const trees = [new ProbabilityTree(), at(seller, 0), at(buyer, 1)];
    const expiry = Number(await b.pub.getBlockNumber()) + 6;
    const g = evmGenesis(b.anchorId, { operatorKey: op.publicKey, spaceStart: start, spaceEnd: start + 1000n, expiry, amountGwei: 10n ** 9n }); // prettier-ignore
    const [committer, sender] = [anvilAccount(1).address, anvilAccount(0).address];
    const sig = signRegistration(op.secretKey, b.anchorId, g.chainId, committer, sender, 2000);
    await b.send(
      0,
      'register',
      [toHex(g.bytes), committer, 2000, `0x${'00'.repeat(32)}`, sig, 0n],
      10n ** 18n,
    );
    for (const h of [1, 2]) {
      const s = trees[h].summary();
      const hd = signHeader({ chainId: g.chainId, height: h, prevHash: g.chainId, stateRoot: s.digest, stateMin: s.min, stateMax: s.max, txRoot: new Uint8Array(32), txCount: 0, timeMs: h, beaconSig: new Uint8Array(0) }, op.secretKey); // prettier-ignore
      await b.send(1, 'commit', [toHex(g.chainId), toHex(hd.bytes)]);
    }
    await b.mine(7);
    const anchor = await EvmAnchor.open({
      rpcUrl: b.rpcUrl,
      address: b.address,
      key: toHex(anvilAccount(5).getHdKey().privateKey!),
      journal: fileJournal(dir),
      log: createLogger('silent', 'bench'),
    });
    // The seller's signed transfer to the buyer, as the operator keeps it.
    const sold = trees[1].get(start)!;
    const transfer = signAction({ chainId: g.chainId, contractHash: sold.digest, nonce: 1, op: { kind: 'transfer', newOwner: buyer.publicKey, terms: new Uint8Array(0) } }, seller.secretKey); // prettier-ignore
    const source: LevelSource = {
      what: 'bench trees',
      level: (_chain, point, height) => Promise.resolve(trees[height].lookupPath(point)),
      consent: (digest) =>
        Promise.resolve(
          toHex(digest) === toHex(sold.digest)
            ? { action: transfer.bytes, signature: transfer.signature }
            : null,
        ),
    };
    const payout = anchor.evmAddress!;
    const point = await anchor.winningPoint(g.chainId);
    const stale = await anchor.settle(
      'claim',
      [
        toHex(g.chainId),
        1n,
        [toHex(encodeLookupPath(trees[1].lookupPath(point)))],
        payout,
        signPayout(seller.secretKey, anchor.anchorId, g.chainId, payout),
        [],
      ],
      await anchor.claimBond(),
    );
    b.row('node: claim (the first, fixes the beacon)', stale.gasUsed, 'EvmAnchor.settle, a given-up state');
    const ch = await challengeChain(anchor, source, g.chainId);
    b.row('node: challengeChain (seller`s signed transfer)', BigInt(ch.gasUsed), ch.outcome);
    const cl = await claimChain(anchor, source, { chainId: g.chainId, key: buyer, payout });
    b.row('node: claimChain', BigInt(cl.gasUsed), 'proof checked before sending');
    await b.mine(Number(BigInt(cl.deadline) - (await b.pub.getBlockNumber())) + 1);
    b.row('node: timeoutChain', BigInt((await timeoutChain(anchor, g.chainId)).gasUsed));
    b.row('node: withdrawCredits', BigInt((await withdrawCredits(anchor)).gasUsed));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The deepest winner proofs the contract takes, judged by `winnerOf` (pure: what a claim pays for the proof): one
 * level whose path has the most steps a tree allows (64: a comb of width-1 contracts), and MAX_LEVELS nested
 * levels, each chain's tree holding the next chain in the first of four contracts over its space. A path deep in one
 * level needs narrow contracts, so a chain below it has little space: the two figures bound a real claim's proof,
 * which must fit an EIP-7825 transaction (2^24 gas) and 128 KB of calldata.
 */
async function deepProofs(b: {
  address: Hex;
  pub: { estimateContractGas(a: never): Promise<bigint>; readContract(a: never): Promise<unknown> };
  row: (fn: string, gas: bigint, note?: string) => void;
}): Promise<void> {
  const owner = generateKeyPair();
  const judge = (root: Uint8Array, point: bigint, levels: Hex[]) =>
    b.pub.estimateContractGas({ address: b.address, abi: ANCHOR_ABI, functionName: 'winnerOf', args: [toHex(root), point, toHex(owner.publicKey), toHex(new Uint8Array(32)), levels] } as never); // prettier-ignore
  const plain = (start: bigint, end: bigint) => makeLeaf({ start, end, owner: owner.publicKey, nonce: 0, terms: new Uint8Array(0) }); // prettier-ignore
  const comb = ProbabilityTree.fromLeaves([plain(0n, 1n), ...Array.from({ length: 64 }, (_, k) => plain(1n << BigInt(63 - k), (1n << BigInt(63 - k)) + 1n))]); // prettier-ignore
  const deep = toHex(encodeLookupPath(comb.lookupPath(0n)));
  b.row('winnerOf: 1 level, a 64-step path', await judge(comb.root, 0n, [deep]), `${deep.length / 2 - 1} B`);
  const max = Number(await b.pub.readContract({ address: b.address, abi: ANCHOR_ABI, functionName: 'MAX_LEVELS' } as never)); // prettier-ignore
  // Bottom up: the deepest chain's tree, then each parent holding it in its first quarter.
  const width = (i: number) => 1n << BigInt(64 - 2 * i);
  let tree = ProbabilityTree.fromLeaves([0n, 1n, 2n, 3n].map((q) => plain((q * width(max - 1)) / 4n, ((q + 1n) * width(max - 1)) / 4n))); // prettier-ignore
  const trees = [tree];
  for (let i = max - 2; i >= 0; i--) {
    const w = width(i);
    const link = {
      chain: new Uint8Array(32).fill(i + 1),
      operator: owner.publicKey,
      height: 1,
      root: tree.root,
    };
    const holder = makeLeaf({ start: 0n, end: w / 4n, owner: owner.publicKey, nonce: 0, terms: new Uint8Array(0), child: link }); // prettier-ignore
    tree = ProbabilityTree.fromLeaves([holder, ...[1n, 2n, 3n].map((q) => plain((q * w) / 4n, ((q + 1n) * w) / 4n - (q === 3n ? 1n : 0n)))]); // prettier-ignore
    trees.unshift(tree);
  }
  const levels = trees.map((t) => toHex(encodeLookupPath(t.lookupPath(0n))));
  const bytes = levels.reduce((n, l) => n + l.length / 2 - 1, 0);
  b.row(
    `winnerOf: ${max} nested levels (the most)`,
    await judge(trees[0].root, 0n, levels),
    `${bytes} B of paths`,
  );
}
