// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ed25519} from "./Ed25519.sol";
import {Proto} from "./Proto.sol";
import {Tree} from "./Tree.sol";

/// The main-chain half of sortition chains (seed 001's transactions) as an EVM contract: a top-level chain
/// registers here with a deposit (sortition new), its committer records its signed headers, anyone records 32
/// bytes with the block height (proof of existence), anyone slashes an operator with evidence verified here
/// (equivocation, commit mismatch, a point sold twice), and after expiry the lottery settles (claim, challenge,
/// timeout). docs/protocol.md section 12 is the specification.
///
/// Money: a registration locks `amount` gwei, split into the prize (paid to the lottery's winner) and the
/// operator's safety share (`safetyBps` of it, returned at settlement unless slashed). Payments are credited and
/// withdrawn (`withdraw`), so no recipient can block a settlement; the contract's balance always equals the sum of
/// live deposits and credits not yet withdrawn (`locked + owed`).
contract SortitionAnchor {
    error Reentrant();
    error BadGenesis(string why);
    error Overlap();
    error UnknownChain();
    error NotCommitter();
    error WrongPhase();
    error HeightNotIncreasing();
    error NotProven(string why);
    error AlreadySlashed();
    error BadClaim(string why);
    error NoClaim();
    error WindowOpen();
    error NothingOwed();
    error TransferFailed();

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
    }

    struct Commit {
        bytes32 headerHash;
        bytes32 stateRoot;
        uint64 stateMin;
        uint64 stateMax;
    }

    /// One level of a judged winner proof: the contract the point fell in (digest 0 for unallocated space).
    struct Level {
        bytes32 digest;
        uint64 start;
        uint64 nonce;
        bytes32 childChain;
        uint64 childHeight;
    }

    struct Claim {
        bytes32 winnerKey;
        address payout;
        uint64 height;
        uint64 deadline;
        address claimant;
    }

    uint256 private constant NONE = 1 << 64;
    uint256 private constant BPS = 10_000;
    /// Where burnt value goes: an address nobody holds a key for (0x0 is a block producer's coinbase on some chains).
    address payable public constant BURN = payable(0x000000000000000000000000000000000000dEaD);

    bytes32 public immutable anchorId;
    uint64 public immutable challengeWindow;
    uint16 public immutable reporterBps;

    mapping(bytes32 => Chain) public chains;
    mapping(bytes32 => mapping(uint64 => Commit)) public commits;
    mapping(bytes32 => uint64) public existence;
    mapping(bytes32 => Claim) public claims;
    mapping(bytes32 => Level[]) private claimLevels;
    mapping(address => uint256) public owed;
    /// Registrations sorted by start, a linked list: the interval check is O(1) with the predecessor as a hint.
    mapping(uint256 => uint256) private nextStart;
    mapping(uint256 => bytes32) public chainAt;
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
    event Claimed(bytes32 indexed chainId, bytes32 winnerKey, address payout, uint64 height, uint64 deadline);
    event ClaimDefeated(bytes32 indexed chainId, address by);
    event Settled(bytes32 indexed chainId, bytes32 winnerKey, address payout, uint256 prize, uint256 safetyReturned);
    event Withdrawn(address indexed to, uint256 amount);

    uint8 public constant SLASH_EQUIVOCATION = 1;
    uint8 public constant SLASH_COMMIT_MISMATCH = 2;
    uint8 public constant SLASH_SOLD_TWICE = 3;

    constructor(uint64 challengeWindow_, uint16 reporterBps_) {
        if (reporterBps_ > BPS) revert BadGenesis("reporter share over 100%");
        challengeWindow = challengeWindow_;
        reporterBps = reporterBps_;
        anchorId = sha256(abi.encodePacked("sortition/1/evm-anchor\x00", uint64(block.chainid), address(this)));
        nextStart[NONE] = NONE;
    }

    modifier nonReentrant() {
        if (lock != 1) revert Reentrant();
        lock = 2;
        _;
        lock = 1;
    }

    // ---- 1. register (sortition new) --------------------------------------------------------------------------

    /// Registers the top-level chain whose encoded Genesis is `genesis`: its parent is this anchor (`anchorId`),
    /// its parent contract is its space's start, its amount (gwei) is the value sent, and its space must not
    /// overlap any other registration (`prevStart` is the start of the registration just before it, or 2^64 if
    /// none). `safetyBps` of the deposit is the operator's safety share.
    function register(bytes calldata genesis, address committer, uint16 safetyBps, uint256 prevStart)
        external
        payable
        nonReentrant
        returns (bytes32 chainId)
    {
        Proto.Genesis memory g = Proto.genesis(genesis);
        if (g.parentChain != anchorId) revert BadGenesis("parent is not this anchor");
        if (g.parentContract != g.spaceStart) revert BadGenesis("parent contract is not the space start");
        if (g.expiry <= block.number) revert BadGenesis("expiry not in the future");
        if (g.amount == 0 || msg.value != uint256(g.amount) * 1 gwei) revert BadGenesis("value is not the amount");
        if (safetyBps == 0 || safetyBps >= BPS) revert BadGenesis("safety share out of range");
        if (committer == address(0)) revert BadGenesis("no committer");
        chainId = sha256(abi.encodePacked("sortition/1/genesis\x00", genesis));
        if (chains[chainId].phase != Phase.None) revert BadGenesis("already registered");
        insertInterval(g.spaceStart, g.spaceEnd, prevStart, chainId);
        uint256 safety = (msg.value * safetyBps) / BPS;
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
            commits: 0
        });
        locked += msg.value;
        emit Registered(chainId, g.spaceStart, g.spaceEnd, g.operatorKey, g.expiry, committer, msg.value, safetyBps, genesis);
    }

    function insertInterval(uint64 start, uint64 end, uint256 prev, bytes32 chainId) private {
        uint256 next = nextStart[prev];
        if (next == 0) revert Overlap(); // the hint is no registration
        if (prev != NONE && chains[chainAt[prev]].end > start) revert Overlap();
        if (prev != NONE && prev >= start) revert Overlap();
        if (next != NONE && next < end) revert Overlap();
        nextStart[prev] = start;
        nextStart[start] = next;
        chainAt[start] = chainId;
    }

    // ---- 2. commit roots --------------------------------------------------------------------------------------

    /// Records the chain's signed header (its committer only, before expiry, heights strictly increasing). The
    /// header's Ed25519 signature is not checked here (docs/protocol.md section 12 gives the measured reason):
    /// what the committer records binds the operator, whose other signed headers at a committed height are
    /// commit-mismatch evidence.
    function commit(bytes32 chainId, bytes calldata signedHeader) external nonReentrant {
        Chain storage c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (msg.sender != c.committer) revert NotCommitter();
        if (c.phase != Phase.Active || block.number >= c.expiry) revert WrongPhase();
        (bytes memory hb, ) = Proto.signedHeader(signedHeader);
        Proto.Header memory h = Proto.header(hb);
        if (h.chainId != chainId) revert BadClaim("header names another chain");
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

    /// Ed25519 under docs/protocol.md section 1; false (never a revert) for any input.
    function verifyEd25519(bytes32 publicKey, bytes32 message, bytes calldata signature) external view returns (bool) {
        return Ed25519.verify(publicKey, abi.encodePacked(message), signature);
    }

    function headerHash(bytes memory headerBytes) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("sortition/1/header\x00", headerBytes));
    }

    /// A signed header of `chainId` with a valid operator signature: its parsed fields and hash.
    function signedBy(Chain storage c, bytes32 chainId, bytes calldata signedHeader)
        private
        view
        returns (Proto.Header memory h, bytes32 hash)
    {
        (bytes memory hb, bytes memory sig) = Proto.signedHeader(signedHeader);
        h = Proto.header(hb);
        if (h.chainId != chainId) revert NotProven("header names another chain");
        hash = headerHash(hb);
        if (!Ed25519.verify(c.operatorKey, abi.encodePacked(hash), sig)) revert NotProven("bad operator signature");
    }

    function liveChain(bytes32 chainId) private view returns (Chain storage c) {
        c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (c.phase == Phase.Settled) revert WrongPhase();
        if (c.slashed) revert AlreadySlashed();
    }

    /// Two operator-signed headers of one chain at one height with different hashes.
    function slashEquivocation(bytes32 chainId, bytes calldata first, bytes calldata second) external nonReentrant {
        Chain storage c = liveChain(chainId);
        (Proto.Header memory a, bytes32 ha) = signedBy(c, chainId, first);
        (Proto.Header memory b, bytes32 hb) = signedBy(c, chainId, second);
        if (a.height != b.height) revert NotProven("different heights");
        if (ha == hb) revert NotProven("the same header");
        slash(c, chainId, SLASH_EQUIVOCATION);
    }

    /// An operator-signed header at a committed height that differs from the commit.
    function slashCommitMismatch(bytes32 chainId, bytes calldata signedHeader) external nonReentrant {
        Chain storage c = liveChain(chainId);
        (Proto.Header memory h, bytes32 hash) = signedBy(c, chainId, signedHeader);
        bytes32 committed = commits[chainId][h.height].headerHash;
        if (committed == bytes32(0)) revert NotProven("no commit at that height");
        if (committed == hash) revert NotProven("the committed header");
        slash(c, chainId, SLASH_COMMIT_MISMATCH);
    }

    /// The safety share leaves the contract: `reporterBps` of it to the reporter (credited), the rest burnt.
    function slash(Chain storage c, bytes32 chainId, uint8 kind) private {
        uint256 amount = c.safety;
        uint256 reward = (amount * reporterBps) / BPS;
        uint256 burnt = amount - reward;
        c.slashed = true;
        c.safety = 0;
        c.deposit -= amount;
        locked -= amount;
        owed[msg.sender] += reward;
        totalOwed += reward;
        emit Slashed(chainId, kind, msg.sender, reward, burnt);
        (bool ok, ) = BURN.call{value: burnt}("");
        if (!ok) revert TransferFailed();
    }

    // ---- 5. settlement ----------------------------------------------------------------------------------------

    /// Fixes the chain's beacon after expiry: the hash of the EVM block at the expiry height (or, if nobody
    /// fixed it within the 256 blocks the EVM keeps hashes for, of the latest block E + 256 j still within
    /// reach), and the winning point p = start + Int_be(H(lottery, beacon || chain id || u64be(0))) mod width.
    function fixBeacon(bytes32 chainId) public returns (uint64 point) {
        Chain storage c = chains[chainId];
        if (c.phase == Phase.None) revert UnknownChain();
        if (c.phase == Phase.Active) {
            if (block.number <= c.expiry) revert WrongPhase();
            uint256 fixedAt = c.expiry;
            if (block.number - fixedAt > 256) fixedAt = block.number - 1 - ((block.number - 1 - fixedAt) % 256);
            c.beacon = blockhash(fixedAt);
            c.phase = Phase.Settling;
            point = winningPoint(c, chainId);
            emit BeaconFixed(chainId, uint64(fixedAt), c.beacon, point);
        } else {
            point = winningPoint(c, chainId);
        }
    }

    function winningPoint(Chain storage c, bytes32 chainId) private view returns (uint64) {
        bytes32 h = sha256(abi.encodePacked("sortition/1/lottery\x00", c.beacon, chainId, uint64(0)));
        return uint64(uint256(c.start) + (uint256(h) % (uint256(c.end) - uint256(c.start))));
    }

    /// The message a winner signs to name its payout address: H(payout, anchor id || chain id || address).
    function payoutMessage(bytes32 chainId, address payout) public view returns (bytes32) {
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
            if (root == bytes32(0)) revert BadClaim("no commit at that height");
        }
        return winnerOf(root, winningPoint(c, chainId), c.operatorKey, levels);
    }

    /// Who owns `point` in the tree with `root` whose operator key is `operatorKey`: `levels` are encoded lookup
    /// paths, this tree's first, then one per child chain the point descends into, each against the child root
    /// committed in the leaf above (docs/protocol.md section 11). The winner is the deepest contract holding the
    /// point, or the operator of the chain where it is unallocated (or whose child chain is still empty).
    function winnerOf(bytes32 root, uint64 point, bytes32 operatorKey, bytes[] calldata levels)
        public
        pure
        returns (bytes32 winnerKey, Level[] memory out)
    {
        if (levels.length == 0 || levels.length > 64) revert BadClaim("1 to 64 levels");
        winnerKey = operatorKey;
        out = new Level[](levels.length);
        for (uint256 i = 0; i < levels.length; i++) {
            Proto.Path memory path = Proto.path(levels[i]);
            if (!Tree.lookup(root, path, point)) {
                if (i + 1 != levels.length) revert BadClaim("levels below unallocated space");
                return (winnerKey, out);
            }
            Proto.Contract memory k = path.leaf;
            out[i] = Level(Tree.leafDigest(path.leafBytes), k.start, k.nonce, k.childChain, k.childHeight);
            if (!k.hasChild) {
                if (i + 1 != levels.length) revert BadClaim("levels below a plain contract");
                return (k.owner, out);
            }
            // A contract holding a chain: the child's operator owns what the child has not allocated.
            winnerKey = k.childOperator;
            root = k.childRoot;
            if (i + 1 == levels.length && root != Tree.emptyRoot()) revert BadClaim("the child chain's level is missing");
        }
    }

    /// Claims the prize for the winner of the lottery with a winner proof and the winner's Ed25519 signature
    /// over `payoutMessage(chainId, payout)`. With a claim pending, the new one must beat it: a proof against a
    /// later committed state that supersedes the pending claim's contract replaces it; one that shows the point
    /// held by another contract without an owner-authorised change (a point sold twice) slashes the operator and
    /// leaves the earlier contract's claim standing.
    function claim(bytes32 chainId, uint64 height, bytes[] calldata levels, address payout, bytes calldata signature)
        external
        nonReentrant
    {
        fixBeacon(chainId);
        Chain storage c = chains[chainId];
        if (c.phase != Phase.Settling) revert WrongPhase();
        if (payout == address(0)) revert BadClaim("no payout address");
        (bytes32 winnerKey, Level[] memory lv) = judge(chainId, height, levels);
        if (!Ed25519.verify(winnerKey, abi.encodePacked(payoutMessage(chainId, payout)), signature)) {
            revert BadClaim("bad winner signature");
        }
        Claim storage pending = claims[chainId];
        if (pending.deadline != 0) {
            if (block.number > pending.deadline) revert WrongPhase();
            (bool otherWins, bool soldTwice) = compare(chainId, pending.height, height, lv);
            if (soldTwice) {
                // The contract that was in a committed block first keeps the claim.
                if (!c.slashed) slash(c, chainId, SLASH_SOLD_TWICE);
                if (height > pending.height) return;
            } else if (!otherWins) revert BadClaim("the pending claim stands");
            emit ClaimDefeated(chainId, msg.sender);
        }
        uint64 deadline = uint64(block.number) + challengeWindow;
        claims[chainId] = Claim(winnerKey, payout, height, deadline, msg.sender);
        delete claimLevels[chainId];
        for (uint256 i = 0; i < lv.length; i++) claimLevels[chainId].push(lv[i]);
        emit Claimed(chainId, winnerKey, payout, height, deadline);
    }

    /// Defeats the pending claim with a proof of the same point against a later committed state that shows the
    /// claimed contract superseded (stale state); a proof showing the point sold twice slashes the operator.
    function challenge(bytes32 chainId, uint64 height, bytes[] calldata levels) external nonReentrant {
        Chain storage c = chains[chainId];
        Claim storage pending = claims[chainId];
        if (pending.deadline == 0) revert NoClaim();
        if (block.number > pending.deadline) revert WrongPhase();
        if (height <= pending.height) revert BadClaim("not a later state");
        (, Level[] memory lv) = judge(chainId, height, levels);
        (bool otherWins, bool soldTwice) = compare(chainId, pending.height, height, lv);
        if (soldTwice) {
            if (c.slashed) revert AlreadySlashed();
            slash(c, chainId, SLASH_SOLD_TWICE);
        } else if (otherWins) {
            delete claims[chainId];
            delete claimLevels[chainId];
            emit ClaimDefeated(chainId, msg.sender);
        } else revert NotProven("the claim stands");
    }

    /// Compares the pending claim's levels with another proof's for the same point. At the first level where the
    /// contracts differ, the state at the later height supersedes the earlier when it is unallocated there, the
    /// earlier was unallocated, or its contract has a higher nonce (an owner-authorised change); two versions of one
    /// contract holding a chain, the later with a higher committed child height, are compared one level down.
    /// Otherwise, at the settling chain's own level, the point was sold twice. `otherWins`: the other proof's claim
    /// is the one that stands (it supersedes, or its contract was committed first).
    function compare(bytes32 chainId, uint64 pendingHeight, uint64 height, Level[] memory other)
        private
        view
        returns (bool otherWins, bool soldTwice)
    {
        if (height == pendingHeight) revert BadClaim("same committed state as the pending claim");
        Level[] storage mine = claimLevels[chainId];
        bool otherLater = height > pendingHeight;
        uint256 n = mine.length < other.length ? mine.length : other.length;
        for (uint256 i = 0; i < n + 1; i++) {
            Level memory a = i < mine.length ? mine[i] : Level(0, 0, 0, 0, 0);
            Level memory b = i < other.length ? other[i] : Level(0, 0, 0, 0, 0);
            if (i >= n && a.digest == b.digest) revert BadClaim("the same winner");
            if (a.digest == b.digest) continue;
            (Level memory early, Level memory late) = otherLater ? (a, b) : (b, a);
            bool supersedes = late.digest == 0 || early.digest == 0 || late.nonce > early.nonce;
            if (
                !supersedes &&
                early.childChain != 0 &&
                early.childChain == late.childChain &&
                early.start == late.start &&
                early.nonce == late.nonce &&
                late.childHeight > early.childHeight
            ) continue;
            if (supersedes) return (otherLater, false);
            return (!otherLater, i == 0);
        }
        revert BadClaim("the same winner");
    }

    /// After the challenge window: pays the prize to the winner's payout address and returns the safety share to
    /// the operator (unless slashed), both as credits to withdraw.
    function timeout(bytes32 chainId) external nonReentrant {
        Chain storage c = chains[chainId];
        Claim memory cl = claims[chainId];
        if (cl.deadline == 0) revert NoClaim();
        if (block.number <= cl.deadline) revert WindowOpen();
        if (c.phase != Phase.Settling) revert WrongPhase();
        uint256 safety = c.safety;
        uint256 prize = c.deposit - safety;
        c.phase = Phase.Settled;
        c.deposit = 0;
        c.safety = 0;
        locked -= prize + safety;
        owed[cl.payout] += prize;
        owed[c.operator] += safety;
        totalOwed += prize + safety;
        emit Settled(chainId, cl.winnerKey, cl.payout, prize, safety);
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

    function claimLevelCount(bytes32 chainId) external view returns (uint256) {
        return claimLevels[chainId].length;
    }
}
