// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Proto} from "./Proto.sol";
import {Tree} from "./Tree.sol";

/// The stateless Ed25519 verifier (contracts/Ed25519Verifier.sol) the anchor calls.
interface IEd25519Verifier {
    function verify(bytes32 publicKey, bytes calldata message, bytes calldata signature) external view returns (bool);
}

/// The drand rounds verified on chain (contracts/DrandBeacon.sol) the anchor reads, where it has them.
interface IDrandBeacon {
    function round(uint64 r) external view returns (uint256 time, bytes32 randomness);
}

/// The main-chain half of sortition chains (seed 001's transactions) as an EVM contract: a top-level chain
/// registers here with a deposit (sortition new), its committer records its signed headers, anyone records 32
/// bytes with the block height (proof of existence), anyone slashes an operator with evidence verified here
/// (equivocation, commit mismatch, a point sold twice), and after expiry the lottery settles (claim, challenge,
/// timeout). docs/protocol.md section 12 is the specification.
///
/// Settlement is safe for holders (seed 001's slasher; Plasma Cash's exit game): a contract proven at a committed
/// height gives way only to an action its owner signed over it (its "consent"), or to a sale of the same point
/// that was committed before it; a later committed state alone never wins, because the operator can commit a
/// state it never showed anyone. Claims are ranked by one total order (section 12), and every chain has a final
/// deadline, so settlement ends whatever claimants do.
///
/// Money: a registration locks `amount` gwei, split into the prize (paid to the lottery's winner) and the
/// operator's safety share (`safetyBps` of it, returned at settlement unless slashed); a standing claim locks a
/// bond. Payments are credited and withdrawn (`withdraw`), so no recipient can block a settlement; the contract's
/// balance always equals live deposits and bonds plus credits not yet withdrawn (`locked + totalOwed`).
contract SortitionAnchor {
    // Construction and registration.
    error BadParameter();
    error ParentNotAnchor();
    error ParentContractNotStart();
    error ExpiryTooSoon();
    error ValueNotAmount();
    error SafetyOutOfRange();
    error NoCommitter();
    error AlreadyRegistered();
    error BadRegistrationSignature();
    error BeaconRoundTooSoon();
    // Commits and evidence.
    error Reentrant();
    error UnknownChain();
    error NotCommitter();
    error WrongPhase();
    error SeedNotRevealed();
    error BeaconNotPosted();
    error BadSeed();
    error CommitTooLate();
    error HeaderOfAnotherChain();
    error HeightNotIncreasing();
    error AlreadySlashed();
    error DifferentHeights();
    error SameHeader();
    error NoCommitAtHeight();
    error CommittedHeader();
    error BadOperatorSignature();
    // Settlement.
    error LevelCount();
    error LevelsBelowGap();
    error LevelsBelowPlainContract();
    error ChildLevelMissing();
    error NoPayout();
    error WrongBond();
    error BadWinnerSignature();
    error StandingMismatch();
    error SameWinner();
    error NotBetter();
    error NotWinnable();
    error ConsentOfAnotherChain();
    error ConsentOfAnotherContract();
    error BadConsentSignature();
    error NoClaim();
    error WindowOpen();
    error WindowClosed();
    error SettlementOver();
    error NothingOwed();
    error TransferFailed();
    // Data requests.
    error AlreadyRequested();
    error UnknownRequest();
    error AlreadyAnswered();
    error PointOutOfSpace();
    error DataPending();
    error NotLastCommit();

    enum Phase {
        None,
        Active,
        Settling,
        Settled
    }

    struct Chain {
        address committer;
        address operator;
        Phase phase;
        bool slashed;
        uint16 safetyBps;
        uint64 start;
        uint64 end;
        uint64 expiry;
        uint64 height;
        bytes32 operatorKey;
        uint256 deposit;
        uint256 safety;
        bytes32 beacon;
        uint64 commits;
        /// The drand round the draw uses (0: none, the beacon block's hash), and when that round is published:
        /// commits stop before it, so nobody knows the draw while the committed state can still change.
        uint64 beaconRound;
        uint64 beaconTime;
    }

    struct Commit {
        bytes32 headerHash;
        bytes32 stateRoot;
        uint64 stateMin;
        uint64 stateMax;
    }

    /// One level of a judged winner proof: the contract the point fell in (all zero for unallocated space), its
    /// identity (the contract without its child height and root: one identity across child root updates) and
    /// the chain the level belongs to.
    struct Level {
        bytes32 digest;
        bytes32 ident;
        bytes32 chain;
    }

    /// The standing claim. `claimant` is zero when none stands; `deadline` outlives a removed claim.
    struct Claim {
        bytes32 winnerKey;
        address payout;
        uint64 height;
        uint64 deadline;
        address claimant;
        bytes32 levelsHash;
    }

    /// Points sold twice at the chain's own level, not yet answered with the first contract's consent, and who
    /// showed the first of them (the reporter of the slash at timeout).
    struct DoubleSales {
        uint64 open;
        address reporter;
    }

    /// A holder's demand that the operator publish, on chain, the lookup path of a point at a committed height.
    struct DataRequest {
        bytes32 chainId;
        uint64 height;
        uint64 point;
        uint64 deadline;
        bool answered;
        address requester;
    }

    uint256 private constant BPS = 10_000;
    /// The most levels a winner proof may have: 24 worst-case levels fit an EIP-7825 transaction (2^24 gas) and
    /// 128 KB of calldata (docs/protocol.md section 12 gives the measurement).
    uint256 public constant MAX_LEVELS = 24;
    /// Bounds of the challenge window in blocks: 0 would let a stale claim win unopposed, 2^64-1 would lock every
    /// deposit for ever; 2^20 blocks is about 145 days at 12 s.
    uint64 private constant MIN_WINDOW = 2;
    uint64 private constant MAX_WINDOW = 1 << 20;
    /// At most half a slashed safety share goes to the reporter, so an operator reporting itself still loses half.
    uint16 private constant MAX_REPORTER_BPS = 5_000;
    /// At most this many blocks between expiry and the beacon block (blockhash reaches back 256 blocks).
    uint64 private constant MAX_FINALITY = 128;
    /// Settlement ends this many challenge windows after the beacon block, whatever claimants do.
    uint64 private constant FINAL_WINDOWS = 4;
    /// Where burnt value goes: an address nobody holds a key for (0x0 is a block producer's coinbase on some chains).
    address payable private constant BURN = payable(0x000000000000000000000000000000000000dEaD);

    uint8 private constant SLASH_EQUIVOCATION = 1;
    uint8 private constant SLASH_COMMIT_MISMATCH = 2;
    uint8 private constant SLASH_SOLD_TWICE = 3;
    uint8 private constant SLASH_WITHHELD = 4;
    uint8 private constant SLASH_SEED_WITHHELD = 5;
    /// The EIP-2935 history contract: block hashes of the last 8191 blocks, where the chain has it.
    address private constant HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 private constant HISTORY_WINDOW = 8191;

    bytes32 public immutable anchorId;
    IEd25519Verifier public immutable verifier;
    /// The drand network chains may draw from (zero: none on this anchor).
    IDrandBeacon public immutable drand;
    uint64 public immutable challengeWindow;
    uint16 public immutable reporterBps;
    /// Blocks kept free of commits before expiry, and between expiry and the beacon block: a commit cannot race
    /// the draw, and a shallow reorg around expiry cannot change what was committed or drawn.
    uint64 public immutable finality;
    /// Wei locked with every standing claim: refunded to an honest claimant, paid to whoever proves it stale (and sealed that proof first: commitReport).
    uint256 public immutable claimBond;

    mapping(bytes32 => Chain) public chains;
    mapping(bytes32 => mapping(uint64 => Commit)) public commits;
    mapping(bytes32 => uint64) public existence;
    mapping(bytes32 => Claim) public claims;
    /// Per settling chain: contract identities whose owner consented to give them up.
    mapping(bytes32 => mapping(bytes32 => bool)) public stale;
    /// Per settling chain: the lowest committed height + 1 at which a contract identity was shown holding the point.
    mapping(bytes32 => mapping(bytes32 => uint64)) private firstSeen;
    mapping(bytes32 => DoubleSales) public doubleSales;
    /// Per settling chain: the contract identities first committed holding a point that was sold again.
    mapping(bytes32 => mapping(bytes32 => bool)) private soldOver;
    mapping(bytes32 => DataRequest) public dataRequests;
    /// Per chain: data requests neither answered nor slashed; the chain cannot settle while any is open.
    mapping(bytes32 => uint256) public openRequests;
    mapping(address => uint256) public owed;
    /// Per chain: keccak256 of the operator's beacon seed, committed at registration (zero: none), and the seed once
    /// revealed after the beacon block.
    mapping(bytes32 => bytes32) private seedHashes;
    mapping(bytes32 => bytes32) public seeds;
    /// Reporters' sealed commitments (`commitReport`): keccak256(abi.encode(reporter, keccak256(report calldata)))
    /// -> the block it was made in.
    mapping(bytes32 => uint256) private reportCommits;
    uint256 public locked;
    uint256 public totalOwed;
    uint256 private lock = 1;

    event Registered(
        bytes32 indexed chainId,
        uint64 start,
        uint64 end,
        bytes32 operatorKey,
        uint64 expiry,
        address committer,
        uint256 deposit,
        uint16 safetyBps,
        bytes genesis
    );
    event Committed(
        bytes32 indexed chainId,
        uint64 height,
        bytes32 headerHash,
        bytes32 stateRoot,
        uint64 stateMin,
        uint64 stateMax
    );
    event Existence(bytes32 indexed data, uint64 height, address sender);
    event Slashed(bytes32 indexed chainId, uint8 kind, address reporter, uint256 reward, uint256 burnt);
    event BeaconFixed(bytes32 indexed chainId, uint64 block_, bytes32 beacon, uint64 point);
    event Claimed(
        bytes32 indexed chainId,
        bytes32 winnerKey,
        address payout,
        uint64 height,
        uint64 deadline,
        Level[] levels
    );
    event ClaimDefeated(bytes32 indexed chainId, address by);
    event ConsentProven(bytes32 indexed chainId, bytes32 ident, address by);
    event Settled(bytes32 indexed chainId, bytes32 winnerKey, address payout, uint256 prize, uint256 safetyReturned);
    event Withdrawn(address indexed to, uint256 amount);
    event DataRequested(bytes32 indexed chainId, bytes32 requestId, uint64 height, uint64 point, uint64 deadline);
    event DataAnswered(bytes32 indexed chainId, bytes32 requestId, bytes path);

    constructor(
        IEd25519Verifier verifier_,
        uint64 challengeWindow_,
        uint16 reporterBps_,
        uint64 finality_,
        uint256 claimBond_,
        IDrandBeacon drand_
    ) {
        if (address(verifier_).code.length == 0) revert BadParameter();
        if (challengeWindow_ < MIN_WINDOW || challengeWindow_ > MAX_WINDOW) revert BadParameter();
        if (reporterBps_ > MAX_REPORTER_BPS || finality_ > MAX_FINALITY) revert BadParameter();
        verifier = verifier_;
        challengeWindow = challengeWindow_;
        reporterBps = reporterBps_;
        finality = finality_;
        claimBond = claimBond_;
        drand = drand_;
        anchorId = sha256(abi.encodePacked("sortition/1/evm-anchor\x00", uint64(block.chainid), address(this)));
    }

    modifier nonReentrant() {
        if (lock != 1) revert Reentrant();
        lock = 2;
        _;
        lock = 1;
    }

    // ---- 1. register (sortition new) --------------------------------------------------------------------------

    /// Registers the top-level chain whose encoded Genesis is `genesis`: its parent is this anchor (`anchorId`),
    /// its parent contract is its space's start, its amount (gwei) is the value sent. `safetyBps` of the deposit is
    /// the operator's safety share; `seedHash` is keccak256 of the operator's beacon seed (zero: none, and the draw
    /// rests on the beacon block's hash alone). The genesis's operator key signs `registrationMessage(chainId, committer,
    /// msg.sender, safetyBps)`: a copy of the transaction sent by anyone else, or naming another committer, is
    /// refused, so nobody can take a chain id for a committer of their own. Spaces are per chain (each lottery draws
    /// in its own interval), so no registration can lock space for another.
    function register(
        bytes calldata genesis,
        address committer,
        uint16 safetyBps,
        bytes32 seedHash,
        bytes calldata operatorSignature,
        uint64 beaconRound
    )
        external
        payable
        nonReentrant
        returns (bytes32 chainId)
    {
        Proto.Genesis memory g = Proto.genesis(genesis);
        if (g.parentChain != anchorId) revert ParentNotAnchor();
        if (g.parentContract != g.spaceStart) revert ParentContractNotStart();
        if (g.expiry <= block.number + finality) revert ExpiryTooSoon();
        if (g.amount == 0 || msg.value != uint256(g.amount) * 1 gwei) revert ValueNotAmount();
        if (safetyBps == 0 || safetyBps >= BPS) revert SafetyOutOfRange();
        if (committer == address(0)) revert NoCommitter();
        chainId = sha256(abi.encodePacked("sortition/1/genesis\x00", genesis));
        if (chains[chainId].phase != Phase.None) revert AlreadyRegistered();
        if (!verifyEd25519(g.operatorKey, registrationMessage(chainId, committer, msg.sender, safetyBps), operatorSignature))
            revert BadRegistrationSignature();
        uint256 safety = (msg.value * safetyBps) / BPS;
        uint256 t;
        if (beaconRound != 0) {
            (t, ) = drandRound(beaconRound);
            if (t <= block.timestamp) revert BeaconRoundTooSoon();
        }
        chains[chainId] = Chain({
            committer: committer,
            operator: msg.sender,
            phase: Phase.Active,
            slashed: false,
            safetyBps: safetyBps,
            start: g.spaceStart,
            end: g.spaceEnd,
            expiry: g.expiry,
            height: 0,
            operatorKey: g.operatorKey,
            deposit: msg.value,
            safety: safety,
            beacon: bytes32(0),
            commits: 0,
            beaconRound: beaconRound,
            beaconTime: uint64(t)
        });
        seedHashes[chainId] = seedHash;
        locked += msg.value;
        emit Registered(chainId, g.spaceStart, g.spaceEnd, g.operatorKey, g.expiry, committer, msg.value, safetyBps, genesis);
    }

    /// What a chain's operator key signs to register it: this anchor, the chain, its committer, the sender (who
    /// pays the deposit and is credited what returns) and the safety share.
    function registrationMessage(bytes32 chainId, address committer, address sender, uint16 safetyBps)
        private
        view
        returns (bytes32)
    {
        return sha256(abi.encodePacked("sortition/1/register\x00", anchorId, chainId, committer, sender, safetyBps));
    }

    // ---- 2. commit roots --------------------------------------------------------------------------------------

    /// Records the chain's signed header (its committer only, up to `finality` blocks before expiry, heights
    /// strictly increasing, not after a slash). The header's Ed25519 signature is not checked here
    /// (docs/protocol.md section 12 gives the measured reason): what the committer records binds the operator,
    /// whose other signed headers at a committed height are commit-mismatch evidence, and a committed state
    /// cannot take a holder's contract in settlement without the holder's signature.
    function commit(bytes32 chainId, bytes calldata signedHeader) external nonReentrant {
        Chain storage c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (msg.sender != c.committer) revert NotCommitter();
        if (c.phase != Phase.Active) revert WrongPhase();
        if (c.slashed) revert AlreadySlashed();
        if (block.number + finality >= c.expiry) revert CommitTooLate();
        if (c.beaconTime != 0 && block.timestamp >= c.beaconTime) revert CommitTooLate();
        (bytes memory hb, ) = Proto.signedHeader(signedHeader);
        Proto.Header memory h = Proto.header(hb);
        if (h.chainId != chainId) revert HeaderOfAnotherChain();
        if (h.height <= c.height) revert HeightNotIncreasing();
        bytes32 hash = headerHash(hb);
        c.height = h.height;
        c.commits += 1;
        commits[chainId][h.height] = Commit(hash, h.stateRoot, h.stateMin, h.stateMax);
        emit Committed(chainId, h.height, hash, h.stateRoot, h.stateMin, h.stateMax);
    }

    // ---- 3. proof of existence --------------------------------------------------------------------------------

    /// Records `data` with the current block height; the first record stands. Returns the recorded height.
    function recordExistence(bytes32 data) external returns (uint64 height) {
        height = existence[data];
        if (height != 0) return height;
        height = uint64(block.number);
        existence[data] = height;
        emit Existence(data, height, msg.sender);
    }

    // ---- 4. slashing ------------------------------------------------------------------------------------------

    /// Ed25519 under docs/protocol.md section 1 through the verifier; false (never a revert) for any input.
    function verifyEd25519(bytes32 publicKey, bytes32 message, bytes memory signature) private view returns (bool) {
        try verifier.verify(publicKey, abi.encodePacked(message), signature) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    function headerHash(bytes memory headerBytes) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("sortition/1/header\x00", headerBytes));
    }

    /// A signed header of `chainId`, parsed and hashed; its signature is checked by the caller, after the cheap
    /// checks.
    function parseSigned(bytes32 chainId, bytes calldata signedHeader)
        private
        pure
        returns (Proto.Header memory h, bytes32 hash, bytes memory sig)
    {
        bytes memory hb;
        (hb, sig) = Proto.signedHeader(signedHeader);
        h = Proto.header(hb);
        if (h.chainId != chainId) revert HeaderOfAnotherChain();
        hash = headerHash(hb);
    }

    function checkOperatorSignature(Chain storage c, bytes32 hash, bytes memory sig) private view {
        if (!verifyEd25519(c.operatorKey, hash, sig)) revert BadOperatorSignature();
    }

    function liveChain(bytes32 chainId) private view returns (Chain storage c) {
        c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (c.phase == Phase.Settled) revert WrongPhase();
        if (c.slashed) revert AlreadySlashed();
    }

    /// Seals a report before it is sent: `commitment` is keccak256(abi.encode(reporter, keccak256(calldata))) of
    /// the report (`slashEquivocation`, `slashCommitMismatch`, `challenge`) the reporter will send from that address
    /// in a later block. A reward (a slashed chain's reporter share, a removed claim's bond) goes only to a sender
    /// that sealed the very calldata earlier: a copy of a report taken from the mempool and sent first still slashes
    /// or removes, but its reward is burnt, so copying a report never pays.
    function commitReport(bytes32 commitment) external {
        if (reportCommits[commitment] == 0) reportCommits[commitment] = block.number;
    }

    /// The sender, if it sealed this very call in an earlier block; else nobody (the reward is burnt).
    function sealedReporter() private view returns (address) {
        uint256 sealedAt = reportCommits[keccak256(abi.encode(msg.sender, keccak256(msg.data)))];
        return sealedAt != 0 && sealedAt < block.number ? msg.sender : address(0);
    }

    /// Two operator-signed headers of one chain at one height with different hashes.
    function slashEquivocation(bytes32 chainId, bytes calldata first, bytes calldata second) external nonReentrant {
        Chain storage c = liveChain(chainId);
        (Proto.Header memory a, bytes32 ha, bytes memory sa) = parseSigned(chainId, first);
        (Proto.Header memory b, bytes32 hb, bytes memory sb) = parseSigned(chainId, second);
        if (a.height != b.height) revert DifferentHeights();
        if (ha == hb) revert SameHeader();
        checkOperatorSignature(c, ha, sa);
        checkOperatorSignature(c, hb, sb);
        burn(slash(c, chainId, SLASH_EQUIVOCATION, sealedReporter()));
    }

    /// An operator-signed header at a committed height that differs from the commit.
    function slashCommitMismatch(bytes32 chainId, bytes calldata signedHeader) external nonReentrant {
        Chain storage c = liveChain(chainId);
        (Proto.Header memory h, bytes32 hash, bytes memory sig) = parseSigned(chainId, signedHeader);
        bytes32 committed = commits[chainId][h.height].headerHash;
        if (committed == bytes32(0)) revert NoCommitAtHeight();
        if (committed == hash) revert CommittedHeader();
        checkOperatorSignature(c, hash, sig);
        burn(slash(c, chainId, SLASH_COMMIT_MISMATCH, sealedReporter()));
    }

    /// The safety share leaves the chain: `reporterBps` of it to the reporter (credited), the rest to be burnt
    /// by the caller once its effects are done.
    function slash(Chain storage c, bytes32 chainId, uint8 kind, address reporter) private returns (uint256 burnt) {
        uint256 amount = c.safety;
        uint256 reward = reporter == address(0) ? 0 : (amount * reporterBps) / BPS;
        burnt = amount - reward;
        c.slashed = true;
        c.safety = 0;
        c.deposit -= amount;
        locked -= amount;
        owed[reporter] += reward;
        totalOwed += reward;
        emit Slashed(chainId, kind, reporter, reward, burnt);
    }

    function burn(uint256 amount) private {
        if (amount == 0) return;
        (bool ok, ) = BURN.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    // ---- 5. settlement ----------------------------------------------------------------------------------------

    /// The operator reveals the seed it committed to at registration, once the beacon block is past (never before:
    /// whoever builds the beacon block must not know it).
    function revealSeed(bytes32 chainId, bytes32 seed) external {
        Chain storage c = chains[chainId];
        if (c.phase != Phase.Active || block.number <= uint256(c.expiry) + finality) revert WrongPhase();
        if (seedHashes[chainId] == bytes32(0) || keccak256(abi.encode(seed)) != seedHashes[chainId]) revert BadSeed();
        seeds[chainId] = seed;
    }

    /// Fixes the chain's beacon once the beacon block B = `expiry + finality` is past. A chain that draws from a
    /// drand round: H(beacon, the round's randomness || 0), posted to the drand contract by anyone (`post`); commits
    /// stopped before the round was published, and no block builder, caller or operator moves it. If nobody posted it within a challenge window after B (the network down,
    /// or every post censored that long), the draw falls back to the hash of block B + window, as a chain without
    /// drand draws from B's. A chain without drand: H(beacon, hash of B || the operator's seed). B's hash comes from
    /// BLOCKHASH or the EIP-2935 history contract, so the fix may come late without moving it (only if nobody
    /// fixed it for 8191 blocks, the latest block B + 8191 j still within reach; without the history contract,
    /// B + 256 j). The seed was committed at registration and is revealed after B, so neither B's builder (who does
    /// not know the seed) nor the operator (who cannot choose B's hash) steers the draw alone; an operator that
    /// does not reveal within a challenge window is slashed, and the beacon is B's hash alone. The winning point
    /// p = start + Int_be(H(lottery, beacon || chain id || u64be(0))) mod width.
    function fixBeacon(bytes32 chainId) public returns (uint64 point) {
        Chain storage c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (c.phase == Phase.Active) {
            uint256 b = uint256(c.expiry) + finality;
            if (block.number <= b) revert WrongPhase();
            bytes32 seed;
            uint256 blockUsed;
            bytes32 h;
            if (c.beaconRound != 0) (, h) = drandRound(c.beaconRound);
            if (h == bytes32(0)) {
                if (c.beaconRound != 0) {
                    if (block.number <= b + challengeWindow) revert BeaconNotPosted();
                    b += challengeWindow;
                }
                seed = seeds[chainId];
                if (seedHashes[chainId] != bytes32(0) && seed == bytes32(0)) {
                    if (block.number <= b + challengeWindow) revert SeedNotRevealed();
                    if (!c.slashed) burn(slash(c, chainId, SLASH_SEED_WITHHELD, address(0)));
                }
                (blockUsed, h) = blockHashAfter(b);
            }
            c.beacon = sha256(abi.encodePacked("sortition/1/beacon\x00", h, seed));
            c.phase = Phase.Settling;
            point = winningPoint(c, chainId);
            emit BeaconFixed(chainId, uint64(blockUsed), c.beacon, point);
        } else {
            point = winningPoint(c, chainId);
        }
    }

    /// `drand.round(r)`, by hand: the compiler's call and decoding code would not fit in the anchor. Reverts when the
    /// call fails or answers anything but two words (an anchor without drand: no code answers nothing).
    function drandRound(uint64 r) private view returns (uint256 t, bytes32 v) {
        address d = address(drand);
        bytes4 selector = IDrandBeacon.round.selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 4), r)
            // Yul evaluates arguments right to left: the call runs before returndatasize is read.
            if iszero(and(eq(returndatasize(), 64), staticcall(gas(), d, p, 36, p, 64))) {
                revert(0, 0)
            }
            t := mload(p)
            v := mload(add(p, 32))
        }
    }

    /// The hash of block `b`, or of the latest block b + window * j within reach when `b` is out of it.
    function blockHashAfter(uint256 b) private view returns (uint256 n, bytes32 h) {
        n = b;
        if (block.number - n > HISTORY_WINDOW) n = block.number - 1 - ((block.number - 1 - n) % HISTORY_WINDOW);
        if (block.number - n <= 256) return (n, blockhash(n));
        (bool ok, bytes memory r) = HISTORY.staticcall(abi.encode(n));
        if (ok && r.length == 32) return (n, abi.decode(r, (bytes32)));
        n = block.number - 1 - ((block.number - 1 - b) % 256);
        h = blockhash(n);
    }

    function winningPoint(Chain storage c, bytes32 chainId) private view returns (uint64) {
        bytes32 h = sha256(abi.encodePacked("sortition/1/lottery\x00", c.beacon, chainId, uint64(0)));
        return uint64(uint256(c.start) + (uint256(h) % (uint256(c.end) - uint256(c.start))));
    }

    /// The last block at which anything about the chain's lottery can change.
    function finalDeadline(bytes32 chainId) public view returns (uint64) {
        uint256 d = uint256(chains[chainId].expiry) + finality + FINAL_WINDOWS * challengeWindow;
        return d > type(uint64).max ? type(uint64).max : uint64(d);
    }

    /// The message a winner signs to name its payout address: H(payout, anchor id || chain id || address).
    function payoutMessage(bytes32 chainId, address payout) private view returns (bytes32) {
        return sha256(abi.encodePacked("sortition/1/payout\x00", anchorId, chainId, payout));
    }

    /// Judges a winner proof against the root committed at `height` (0: the empty tree before any commit) for
    /// the chain's winning point.
    function judge(bytes32 chainId, uint64 height, bytes[] calldata levels)
        public
        view
        returns (bytes32 winnerKey, Level[] memory out)
    {
        Chain storage c = chains[chainId];
        if (c.phase != Phase.Settling) revert WrongPhase();
        bytes32 root;
        if (height == 0) root = Tree.emptyRoot();
        else {
            root = commits[chainId][height].stateRoot;
            if (root == bytes32(0)) revert NoCommitAtHeight();
        }
        return winnerOf(root, winningPoint(c, chainId), c.operatorKey, chainId, levels);
    }

    /// A contract's identity within the chain `chain`: everything but its child height and root, which change
    /// with every child root update without its owner's action.
    function identOf(bytes32 chain, Proto.Contract memory k) internal pure returns (bytes32) {
        return keccak256(abi.encode(chain, k.start, k.end, k.owner, k.nonce, k.childChain, k.childOperator));
    }

    /// Who owns `point` in the tree with `root` of chain `chainId` whose operator key is `operatorKey`: `levels`
    /// are encoded lookup paths, this tree's first, then one per child chain the point descends into, each against
    /// the child root committed in the leaf above (docs/protocol.md section 11). The winner is the deepest contract
    /// holding the point, or the operator of the chain where it is unallocated (or whose child chain is empty).
    function winnerOf(bytes32 root, uint64 point, bytes32 operatorKey, bytes32 chainId, bytes[] calldata levels)
        public
        pure
        returns (bytes32 winnerKey, Level[] memory out)
    {
        if (levels.length == 0 || levels.length > MAX_LEVELS) revert LevelCount();
        winnerKey = operatorKey;
        out = new Level[](levels.length);
        bytes32 chain = chainId;
        for (uint256 i = 0; i < levels.length; i++) {
            Proto.Path memory path = Proto.path(levels[i]);
            if (!Tree.lookup(root, path, point)) {
                if (i + 1 != levels.length) revert LevelsBelowGap();
                assembly ("memory-safe") {
                    mstore(out, i) // a gap ends the proof: the levels judged are those above it
                }
                return (winnerKey, out);
            }
            Proto.Contract memory k = path.leaf;
            out[i] = Level(Tree.leafDigest(path.leafBytes), identOf(chain, k), chain);
            if (!k.hasChild) {
                if (i + 1 != levels.length) revert LevelsBelowPlainContract();
                return (k.owner, out);
            }
            // A contract holding a chain: the child's operator owns what the child has not allocated.
            winnerKey = k.childOperator;
            root = k.childRoot;
            chain = k.childChain;
            if (i + 1 == levels.length && root != Tree.emptyRoot()) revert ChildLevelMissing();
        }
    }

    /// Ranks a level of a claim, lower first: a contract no owner gave up, by the height it was first shown at
    /// (the sale committed first); then unallocated space; then a contract its owner gave up, the latest first.
    function rank(bytes32 chainId, Level memory l) private view returns (uint256) {
        if (l.digest == bytes32(0)) return 1 << 65;
        uint256 seen = firstSeen[chainId][l.ident];
        if (stale[chainId][l.ident]) return (1 << 66) + (type(uint64).max - seen);
        return seen;
    }

    /// Compares the standing claim's levels `a` with a new claim's `b`: at the first level where they hold
    /// different contracts (two child heights of one contract are compared one level down), the lower rank wins.
    /// `at` is that level; `bothHeld` tells whether both hold a contract there that no owner gave up.
    function compare(bytes32 chainId, Level[] calldata a, Level[] memory b)
        private
        view
        returns (bool bWins, uint256 level, bool bothHeld)
    {
        uint256 n = a.length > b.length ? a.length : b.length;
        for (uint256 i = 0; i < n; i++) {
            Level memory x;
            Level memory y;
            if (i < a.length) x = a[i];
            if (i < b.length) y = b[i];
            if (x.digest == y.digest || (x.ident == y.ident && x.ident != 0)) continue;
            uint256 rx = rank(chainId, x);
            uint256 ry = rank(chainId, y);
            return (ry < rx, i, rx < (1 << 65) && ry < (1 << 65));
        }
        revert SameWinner();
    }

    function anyStale(bytes32 chainId, Level[] memory lv) private view returns (bool) {
        for (uint256 i = 0; i < lv.length; i++) if (stale[chainId][lv[i].ident]) return true;
        return false;
    }

    function anyStaleCalldata(bytes32 chainId, Level[] calldata lv) private view returns (bool) {
        for (uint256 i = 0; i < lv.length; i++) if (stale[chainId][lv[i].ident]) return true;
        return false;
    }

    /// Records that each contract of `lv` held the point at `height`.
    function see(bytes32 chainId, Level[] memory lv, uint64 height) private {
        for (uint256 i = 0; i < lv.length; i++) {
            uint64 f = firstSeen[chainId][lv[i].ident];
            if (f == 0 || height + 1 < f) firstSeen[chainId][lv[i].ident] = height + 1;
        }
    }

    function credit(address to, uint256 amount) private {
        owed[to] += amount;
        totalOwed += amount;
    }

    /// The standing claim's levels must be given exactly (empty when none stands).
    function checkStanding(Claim storage s, bool stands, Level[] calldata standing) private view {
        if (stands ? keccak256(abi.encode(standing)) != s.levelsHash : standing.length != 0) {
            revert StandingMismatch();
        }
    }

    /// `first`, a contract of the chain's own level that no owner gave up, held a point that a later contract of
    /// that level holds too: open until its owner's consent is shown.
    function recordSoldTwice(bytes32 chainId, bytes32 first) private {
        if (soldOver[chainId][first]) return;
        soldOver[chainId][first] = true;
        DoubleSales storage d = doubleSales[chainId];
        d.open += 1;
        if (d.reporter == address(0)) d.reporter = msg.sender;
    }

    /// Claims the prize for the winner of the lottery with a winner proof at committed height `height`, the
    /// winner's Ed25519 signature over `payoutMessage(chainId, payout)` and a bond of `claimBond` wei. `standing`
    /// is the standing claim's levels (from its Claimed event; empty if none stands). The new claim must rank
    /// above the standing one (docs/protocol.md section 12), which it then removes: a standing claim whose
    /// contract was proven given up forfeits its bond to the new claimant, any other gets its bond back. A claim
    /// whose own contract was given up cannot stand, but still counts as evidence of what was committed first
    /// (it only removes the standing claim, and its bond is returned). Two contracts at the chain's own level that
    /// both held the point with no owner's consent between them are a point sold twice: the operator is slashed at
    /// timeout unless the first one's owner is shown to have consented by then.
    function claim(
        bytes32 chainId,
        uint64 height,
        bytes[] calldata levels,
        address payout,
        bytes calldata signature,
        Level[] calldata standing
    ) external payable nonReentrant {
        fixBeacon(chainId);
        Chain storage c = chains[chainId];
        if (c.phase != Phase.Settling) revert WrongPhase();
        if (msg.value != claimBond) revert WrongBond();
        if (payout == address(0)) revert NoPayout();
        Claim storage s = claims[chainId];
        bool stands = s.claimant != address(0);
        if (block.number > finalDeadline(chainId)) revert SettlementOver();
        if (stands && block.number > s.deadline) revert WindowClosed();
        checkStanding(s, stands, standing);
        (bytes32 winnerKey, Level[] memory lv) = judge(chainId, height, levels);
        see(chainId, lv, height);
        bool winnable = !anyStale(chainId, lv);
        if (stands) {
            if (anyStaleCalldata(chainId, standing)) {
                credit(msg.sender, claimBond);
            } else {
                (bool wins, uint256 level, bool bothHeld) = compare(chainId, standing, lv);
                if (level == 0 && bothHeld) recordSoldTwice(chainId, wins ? lv[0].ident : standing[0].ident);
                if (!wins) {
                    // A later sale over the standing contract: shown (for the slash at timeout), not standing.
                    if (!(level == 0 && bothHeld)) revert NotBetter();
                    credit(msg.sender, msg.value);
                    return;
                }
                credit(s.claimant, claimBond);
            }
            locked -= claimBond;
            emit ClaimDefeated(chainId, msg.sender);
        }
        if (!winnable) {
            if (!stands) revert NotWinnable();
            credit(msg.sender, msg.value);
            delete claims[chainId].claimant;
            return;
        }
        // The costliest check last.
        if (!verifyEd25519(winnerKey, payoutMessage(chainId, payout), signature)) revert BadWinnerSignature();
        uint64 deadline = uint64(block.number) + challengeWindow;
        if (deadline < s.deadline) deadline = s.deadline;
        if (deadline > finalDeadline(chainId)) deadline = finalDeadline(chainId);
        locked += msg.value;
        claims[chainId] = Claim(winnerKey, payout, height, deadline, msg.sender, keccak256(abi.encode(lv)));
        emit Claimed(chainId, winnerKey, payout, height, deadline, lv);
    }

    /// Proves that the owner of a contract gave it up: `action` is an OwnerAction over the contract encoded as
    /// `contractBytes` in chain `chain` (any level of the settling chain's hierarchy), signed by its owner. The
    /// contract is stale from then on (it can neither stand nor keep a point from a later owner), a pending
    /// "sold twice" against its successor is cleared, and a standing claim that holds it (`standing`: its levels,
    /// empty if none stands) is removed, its bond paid to the caller if it sealed the call first (commitReport), else burnt.
    function challenge(
        bytes32 chainId,
        bytes calldata contractBytes,
        bytes calldata action,
        bytes calldata signature,
        Level[] calldata standing
    ) external nonReentrant {
        Chain storage c = chains[chainId];
        if (c.phase != Phase.Settling) revert WrongPhase();
        if (block.number > finalDeadline(chainId)) revert SettlementOver();
        Claim storage s = claims[chainId];
        bool stands = s.claimant != address(0);
        if (stands && block.number > s.deadline) revert WindowClosed();
        checkStanding(s, stands, standing);
        (bytes32 chain, bytes32 target) = Proto.ownerActionTarget(action);
        if (target != Tree.leafDigest(contractBytes)) revert ConsentOfAnotherContract();
        Proto.Contract memory k = Proto.contractAt(contractBytes);
        bytes32 ident = identOf(chain, k);
        bool held;
        for (uint256 i = 0; i < standing.length; i++) if (standing[i].ident == ident) held = true;
        if (!held && chain != chainId && firstSeen[chainId][ident] == 0) revert ConsentOfAnotherChain();
        bytes32 hash = sha256(abi.encodePacked("sortition/1/action\x00", action));
        if (!verifyEd25519(k.owner, hash, signature)) revert BadConsentSignature();
        stale[chainId][ident] = true;
        emit ConsentProven(chainId, ident, msg.sender);
        if (soldOver[chainId][ident]) {
            soldOver[chainId][ident] = false;
            doubleSales[chainId].open -= 1;
        }
        if (held) {
            delete claims[chainId].claimant;
            locked -= claimBond;
            emit ClaimDefeated(chainId, msg.sender);
            address to = sealedReporter();
            if (to != address(0)) credit(to, claimBond);
            else burn(claimBond);
        }
    }

    /// Ends the lottery. With a claim standing after its window: the prize to the winner's payout address, the
    /// bond back to its claimant, the safety share back to the operator; a point sold twice and never answered
    /// with the first owner's consent slashes the operator first. With no claim standing after the final deadline:
    /// the safety share back to the operator and the prize burnt (nobody who withholds can steer it). All as
    /// credits to withdraw.
    function timeout(bytes32 chainId) external nonReentrant {
        Chain storage c = chains[chainId];
        if (c.phase == Phase.Active && block.number > uint256(c.expiry) + finality) fixBeacon(chainId);
        if (c.phase != Phase.Settling) revert WrongPhase();
        Claim memory cl = claims[chainId];
        bool stands = cl.claimant != address(0);
        if (stands && block.number <= cl.deadline) revert WindowOpen();
        if (!stands && block.number <= finalDeadline(chainId)) revert NoClaim();
        if (openRequests[chainId] != 0) revert DataPending();
        uint256 burnt;
        DoubleSales memory d = doubleSales[chainId];
        if (d.open != 0 && !c.slashed) burnt = slash(c, chainId, SLASH_SOLD_TWICE, d.reporter);
        uint256 safety = c.safety;
        uint256 prize = c.deposit - safety;
        c.phase = Phase.Settled;
        c.deposit = 0;
        c.safety = 0;
        locked -= prize + safety;
        credit(c.operator, safety);
        if (stands) {
            locked -= claimBond;
            credit(cl.claimant, claimBond);
            credit(cl.payout, prize);
        } else {
            burnt += prize;
        }
        emit Settled(chainId, cl.winnerKey, cl.payout, stands ? prize : 0, safety);
        burn(burnt);
    }

    // ---- 6. data requests (seed 001's data request, response and slash) ---------------------------------------

    /// Demands the lookup path of `point` in the chain's tree at its last committed height `height`, with a bond of
    /// `claimBond` wei: the operator must publish it on chain (`answerData`) within `challengeWindow` blocks, or
    /// anyone may slash it (`slashWithheld`), the requester getting its bond back and the reporter's reward. A holder
    /// whose operator withholds its current path forces it this way; the bond pays the chain's operator (its registrant) once answered.
    function requestData(bytes32 chainId, uint64 height, uint64 point) external payable nonReentrant returns (bytes32 id) {
        Chain storage c = liveChain(chainId);
        if (msg.value != claimBond) revert WrongBond();
        // Every request's window ends by the final deadline, so a request can delay settlement but not past it.
        if (block.number + challengeWindow > finalDeadline(chainId)) revert SettlementOver();
        if (commits[chainId][height].stateRoot == bytes32(0)) revert NoCommitAtHeight();
        // Only the last commit: what a holder needs is its current path, and an operator keeps the trees of recent
        // heights only (an old height would let anyone slash an honest operator that pruned it).
        if (height != c.height) revert NotLastCommit();
        if (point < c.start || point >= c.end) revert PointOutOfSpace();
        id = keccak256(abi.encode(chainId, height, point));
        if (dataRequests[id].requester != address(0)) revert AlreadyRequested();
        uint64 deadline = uint64(block.number) + challengeWindow;
        dataRequests[id] = DataRequest(chainId, height, point, deadline, false, msg.sender);
        openRequests[chainId] += 1;
        locked += msg.value;
        emit DataRequested(chainId, id, height, point, deadline);
    }

    /// Answers a data request with the lookup path it asks for (checked against the committed root), published in
    /// the DataAnswered event. Anyone may answer; the request's bond is credited to the chain's operator.
    function answerData(bytes32 id, bytes calldata path) external nonReentrant {
        DataRequest storage r = dataRequests[id];
        if (r.requester == address(0)) revert UnknownRequest();
        if (r.answered) revert AlreadyAnswered();
        Proto.Path memory p = Proto.path(path);
        Tree.lookup(commits[r.chainId][r.height].stateRoot, p, r.point);
        r.answered = true;
        openRequests[r.chainId] -= 1;
        locked -= claimBond;
        // The bond pays the operator for publishing, whoever sends the answer: copying an answer never pays.
        credit(chains[r.chainId].operator, claimBond);
        emit DataAnswered(r.chainId, id, path);
    }

    /// Slashes the operator of a data request left unanswered past its deadline: the requester gets its bond back
    /// and the reporter's reward.
    function slashWithheld(bytes32 id) external nonReentrant {
        DataRequest storage r = dataRequests[id];
        if (r.requester == address(0)) revert UnknownRequest();
        if (r.answered) revert AlreadyAnswered();
        if (block.number <= r.deadline) revert WindowOpen();
        Chain storage c = chains[r.chainId];
        r.answered = true;
        openRequests[r.chainId] -= 1;
        locked -= claimBond;
        credit(r.requester, claimBond);
        // A chain slashed already keeps nothing more to take; the requester gets its bond back all the same.
        if (!c.slashed) burn(slash(c, r.chainId, SLASH_WITHHELD, r.requester));
    }

    /// Sends the caller everything credited to it.
    function withdraw() external nonReentrant {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed();
        owed[msg.sender] = 0;
        totalOwed -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
