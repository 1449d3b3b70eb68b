// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// A canonical protobuf reader for the messages the anchor judges (proto/chain.proto): Genesis, SignedHeader,
/// Header, Path, Contract. "Canonical" is docs/protocol.md section 2: fields in ascending order, each once (a
/// repeated field's entries consecutive), no unknown fields or wrong wire types, no explicit defaults, minimal
/// varints, nothing trailing. Hashes are always taken over the exact bytes, so a second encoding of one value
/// would give it a second identity. Every rejection reverts with `Malformed(what)`.
library Proto {
    error Malformed(string what);

    uint256 internal constant MAX_SAFE = 2 ** 53 - 1;

    struct Header {
        bytes32 chainId;
        uint64 height;
        bytes32 stateRoot;
        uint64 stateMin;
        uint64 stateMax;
    }

    struct Genesis {
        bytes32 operatorKey;
        uint64 spaceStart;
        uint64 spaceEnd;
        bytes32 parentChain;
        uint64 parentContract;
        uint64 expiry;
        uint64 amount;
    }

    struct Contract {
        uint64 start;
        uint64 end;
        bytes32 owner;
        uint64 nonce;
        bool hasChild;
        bytes32 childChain;
        bytes32 childOperator;
        uint64 childHeight;
        bytes32 childRoot;
    }

    struct Path {
        uint256 depth;
        bytes steps;
        bytes32[] siblings;
        uint64[] siblingMin;
        uint64[] siblingMax;
        bool hasLeaf;
        bytes leafBytes;
        Contract leaf;
    }

    function fail(string memory what) internal pure {
        revert Malformed(what);
    }

    /// A minimal varint below 2^64 at `p`, and the position after it.
    function varint(bytes memory b, uint256 p, uint256 end) internal pure returns (uint256 v, uint256 q) {
        for (uint256 i = 0; i < 10; i++) {
            if (p + i >= end) fail("truncated varint");
            uint256 c = uint8(b[p + i]);
            v |= (c & 0x7f) << (7 * i);
            if (c < 0x80) {
                if (i > 0 && c == 0) fail("non-minimal varint");
                if (i == 9 && c > 1) fail("varint over 64 bits");
                return (v, p + i + 1);
            }
        }
        fail("varint over 10 bytes");
    }

    /// The next field's number and wire type. Field numbers must strictly increase (`repeatOk` allows one
    /// repeated field to recur consecutively).
    function key(bytes memory b, uint256 p, uint256 end, uint256 last, uint256 repeatOk)
        internal
        pure
        returns (uint256 field, uint256 wire, uint256 q)
    {
        uint256 k;
        (k, q) = varint(b, p, end);
        field = k >> 3;
        wire = k & 7;
        if (field == 0) fail("zero field number");
        if (field < last || (field == last && field != repeatOk)) fail("fields out of order or duplicated");
    }

    /// A length-delimited field's body [start, start + len); empty bodies are explicit defaults.
    function delimited(bytes memory b, uint256 p, uint256 end, uint256 wire)
        internal
        pure
        returns (uint256 start, uint256 len)
    {
        if (wire != 2) fail("wrong wire type");
        (len, start) = varint(b, p, end);
        if (len == 0) fail("explicit default");
        if (start + len > end) fail("length past the end");
    }

    function word(bytes memory b, uint256 start) internal pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), start))
        }
    }

    function bytes32At(bytes memory b, uint256 start, uint256 len) internal pure returns (bytes32) {
        if (len != 32) fail("expected 32 bytes");
        return word(b, start);
    }

    /// A little-endian fixed64 at `start`.
    function fixed64At(bytes memory b, uint256 start) internal pure returns (uint64 v) {
        uint256 x = uint256(word(b, start)) >> 192;
        x = ((x & 0xff00ff00ff00ff00) >> 8) | ((x & 0x00ff00ff00ff00ff) << 8);
        x = ((x & 0xffff0000ffff0000) >> 16) | ((x & 0x0000ffff0000ffff) << 16);
        x = (x >> 32) | ((x & 0xffffffff) << 32);
        v = uint64(x);
    }

    function fixed64(bytes memory b, uint256 p, uint256 end, uint256 wire) internal pure returns (uint64 v, uint256 q) {
        if (wire != 1) fail("wrong wire type");
        if (p + 8 > end) fail("truncated fixed64");
        v = fixed64At(b, p);
        if (v == 0) fail("explicit default");
        q = p + 8;
    }

    function uvarint(bytes memory b, uint256 p, uint256 end, uint256 wire) internal pure returns (uint256 v, uint256 q) {
        if (wire != 0) fail("wrong wire type");
        (v, q) = varint(b, p, end);
        if (v == 0) fail("explicit default");
    }

    function slice(bytes memory b, uint256 start, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(b, 32), start), len)
        }
    }

    // ---- messages ---------------------------------------------------------------------------------------------

    /// SignedHeader { bytes header = 1; bytes signature = 2; }: the header's bytes and the 64-byte signature.
    function signedHeader(bytes memory b) internal pure returns (bytes memory headerBytes, bytes memory signature) {
        if (b.length > 1024 + 80) fail("signed header oversize");
        uint256 p;
        uint256 last;
        uint256 end = b.length;
        while (p < end) {
            (uint256 f, uint256 w, uint256 q) = key(b, p, end, last, 0);
            (uint256 s, uint256 n) = delimited(b, q, end, w);
            if (f == 1) headerBytes = slice(b, s, n);
            else if (f == 2) signature = slice(b, s, n);
            else fail("unknown field");
            last = f;
            p = s + n;
        }
        if (headerBytes.length == 0) fail("signed header without header");
        if (signature.length != 64) fail("signature must be 64 bytes");
    }

    /// OwnerAction { bytes chain_id = 1; bytes contract_hash = 2; uint64 nonce = 3; oneof op 4-7 }: the chain and the
    /// exact contract state (leaf digest) the owner acted on. Only these two leading fields are read: the owner's
    /// signature covers the whole encoding, so what follows them (the operation) cannot change what was consented
    /// to, and any action over a state, whatever its operation, gives that state up (seed 001's "signed message
    /// where the user has agreed that the old version is invalid").
    function ownerActionTarget(bytes memory b) internal pure returns (bytes32 chainId, bytes32 contractHash) {
        if (b.length > 1024) fail("owner action oversize");
        uint256 end = b.length;
        (uint256 f, uint256 w, uint256 q) = key(b, 0, end, 0, 0);
        if (f != 1) fail("owner action without chain id");
        (uint256 s, uint256 n) = delimited(b, q, end, w);
        chainId = bytes32At(b, s, n);
        (f, w, q) = key(b, s + n, end, 1, 0);
        if (f != 2) fail("owner action without contract hash");
        (s, n) = delimited(b, q, end, w);
        contractHash = bytes32At(b, s, n);
    }

    /// Header (fields 1-10); the shape rules of src/chain/header.ts.
    function header(bytes memory b) internal pure returns (Header memory h) {
        if (b.length > 1024) fail("header oversize");
        uint256 p;
        uint256 last;
        uint256 end = b.length;
        uint256 seen;
        while (p < end) {
            (uint256 f, uint256 w, uint256 q) = key(b, p, end, last, 0);
            last = f;
            seen |= 1 << f;
            if (f == 2 || f == 8 || f == 9) {
                uint256 v;
                (v, p) = uvarint(b, q, end, w);
                if (f == 2) {
                    if (v > MAX_SAFE) fail("height over 2^53 - 1");
                    h.height = uint64(v);
                } else if (f == 8 && v > type(uint32).max) fail("tx count over 32 bits");
                else if (f == 9 && v > MAX_SAFE) fail("time over 2^53 - 1");
            } else if (f == 5 || f == 6) {
                uint64 v;
                (v, p) = fixed64(b, q, end, w);
                if (f == 5) h.stateMin = v;
                else h.stateMax = v;
            } else if (f == 1 || f == 3 || f == 4 || f == 7 || f == 10) {
                (uint256 s, uint256 n) = delimited(b, q, end, w);
                if (f == 10) {
                    if (n != 64) fail("beacon signature must be 64 bytes");
                } else {
                    bytes32 v = bytes32At(b, s, n);
                    if (f == 1) h.chainId = v;
                    else if (f == 4) h.stateRoot = v;
                }
                p = s + n;
            } else fail("unknown field");
        }
        // chain id, height >= 1, previous hash, state root, tx root are required.
        uint256 required = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 7);
        if (seen & required != required) fail("header field missing");
    }

    /// Genesis (fields 1-10); the shape rules of src/chain/genesis.ts.
    function genesis(bytes memory b) internal pure returns (Genesis memory g) {
        if (b.length > 1024) fail("genesis oversize");
        uint256 p;
        uint256 last;
        uint256 end = b.length;
        uint256 version;
        uint256 seen;
        while (p < end) {
            (uint256 f, uint256 w, uint256 q) = key(b, p, end, last, 0);
            last = f;
            seen |= 1 << f;
            if (f == 1 || f == 7 || f == 8) {
                uint256 v;
                (v, p) = uvarint(b, q, end, w);
                if (f == 1) version = v;
                else if (f == 7) {
                    if (v > MAX_SAFE) fail("expiry over 2^53 - 1");
                    g.expiry = uint64(v);
                } else g.amount = uint64(v);
            } else if (f == 3 || f == 4 || f == 6) {
                uint64 v;
                (v, p) = fixed64(b, q, end, w);
                if (f == 3) g.spaceStart = v;
                else if (f == 4) g.spaceEnd = v;
                else g.parentContract = v;
            } else if (f == 2 || f == 5 || f == 9 || f == 10) {
                (uint256 s, uint256 n) = delimited(b, q, end, w);
                if (f == 2) g.operatorKey = bytes32At(b, s, n);
                else if (f == 5) g.parentChain = bytes32At(b, s, n);
                else if (f == 9 && n > 64) fail("name over 64 bytes");
                else if (f == 10 && n > 32) fail("salt over 32 bytes");
                p = s + n;
            } else fail("unknown field");
        }
        if (version != 1) fail("unsupported version");
        if (seen & (1 << 2) == 0) fail("operator key missing");
        if (g.spaceStart >= g.spaceEnd) fail("empty probability space");
        if (seen & (1 << 5) == 0) fail("a chain on the EVM anchor names it as parent");
    }

    /// Contract (fields 1-9); the shape rules of src/tree/contract.ts.
    function contractAt(bytes memory b) internal pure returns (Contract memory c) {
        if (b.length > 512) fail("contract oversize");
        uint256 p;
        uint256 last;
        uint256 end = b.length;
        uint256 seen;
        while (p < end) {
            (uint256 f, uint256 w, uint256 q) = key(b, p, end, last, 0);
            last = f;
            seen |= 1 << f;
            if (f == 1 || f == 2) {
                uint64 v;
                (v, p) = fixed64(b, q, end, w);
                if (f == 1) c.start = v;
                else c.end = v;
            } else if (f == 4 || f == 8) {
                uint256 v;
                (v, p) = uvarint(b, q, end, w);
                if (v > MAX_SAFE) fail("nonce or height over 2^53 - 1");
                if (f == 4) c.nonce = uint64(v);
                else c.childHeight = uint64(v);
            } else if (f == 3 || f == 5 || f == 6 || f == 7 || f == 9) {
                (uint256 s, uint256 n) = delimited(b, q, end, w);
                bytes32 v = bytes32At(b, s, n);
                if (f == 3) c.owner = v;
                else if (f == 6) c.childChain = v;
                else if (f == 7) c.childOperator = v;
                else if (f == 9) c.childRoot = v;
                p = s + n;
            } else fail("unknown field");
        }
        if (seen & (1 << 3) == 0) fail("owner missing");
        if (c.start >= c.end) fail("empty interval");
        uint256 child = seen & ((1 << 6) | (1 << 7) | (1 << 9));
        if (child != 0 && child != ((1 << 6) | (1 << 7) | (1 << 9))) fail("child fields incomplete");
        if (child == 0 && seen & (1 << 8) != 0) fail("child height without a child chain");
        c.hasChild = child != 0;
    }

    /// Path (fields 1-5) with its shape rules (src/tree/path.ts): depth <= 64, equal list lengths, crit bits
    /// strictly increasing with bit 6 clear, 32-byte siblings, a leaf unless the path is the empty tree's.
    function path(bytes memory b) internal pure returns (Path memory r) {
        if (b.length > 16384) fail("path oversize");
        uint256 p;
        uint256 last;
        uint256 end = b.length;
        uint256 nSib;
        bytes32[] memory sibs = new bytes32[](64);
        while (p < end) {
            (uint256 f, uint256 w, uint256 q) = key(b, p, end, last, 2);
            last = f;
            (uint256 s, uint256 n) = delimited(b, q, end, w);
            p = s + n;
            if (f == 1) {
                if (n > 64) fail("path deeper than 64");
                r.steps = slice(b, s, n);
            } else if (f == 2) {
                if (nSib == 64) fail("path deeper than 64");
                sibs[nSib++] = bytes32At(b, s, n);
            } else if (f == 3 || f == 4) {
                if (n % 8 != 0 || n > 512) fail("bad packed fixed64");
                uint64[] memory vs = new uint64[](n / 8);
                for (uint256 i = 0; i < n / 8; i++) vs[i] = fixed64At(b, s + 8 * i);
                if (f == 3) r.siblingMin = vs;
                else r.siblingMax = vs;
            } else if (f == 5) {
                r.leafBytes = slice(b, s, n);
                r.hasLeaf = true;
            } else fail("unknown field");
        }
        uint256 depth = r.steps.length;
        if (nSib != depth || r.siblingMin.length != depth || r.siblingMax.length != depth) {
            fail("path arrays differ in length");
        }
        assembly ("memory-safe") {
            mstore(sibs, nSib)
        }
        r.siblings = sibs;
        r.depth = depth;
        int256 prev = -1;
        for (uint256 i = 0; i < depth; i++) {
            uint8 st = uint8(r.steps[i]);
            if (st & 0x40 != 0 || int256(uint256(st & 0x3f)) <= prev) fail("bad step");
            prev = int256(uint256(st & 0x3f));
        }
        if (depth > 0 && !r.hasLeaf) fail("path without a leaf");
        if (r.hasLeaf) r.leaf = contractAt(r.leafBytes);
    }
}
