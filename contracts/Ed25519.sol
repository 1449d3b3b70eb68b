// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Sha512} from "./Sha512.sol";

/// Ed25519 verification under exactly the rule of docs/protocol.md section 1, the one libsodium's
/// crypto_sign_verify_detached enforces: S < L; A and R canonical (y < p, no sign bit on x = 0); neither of the
/// 8 small-order points; then the cofactorless equation, comparing the canonical encoding of [S]B - [k]A with R
/// byte for byte, k = SHA-512(R || A || M) mod L. Never reverts: every failure is `false`.
///
/// Points are in extended twisted Edwards coordinates (X:Y:Z:T); the two scalar multiplications share their
/// doublings (Straus-Shamir), and inverses and square roots go through the modexp precompile (0x05).
library Ed25519 {
    uint256 internal constant P = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed;
    uint256 internal constant L = 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed;
    uint256 private constant D = 37095705934669439343138083508754565189542113879843219016388785533085940283555;
    uint256 private constant D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161;
    uint256 private constant SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752;
    uint256 private constant BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202;
    uint256 private constant BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960;
    uint256 private constant Y_MASK = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;

    /// Verifies `signature` (R || S) by `publicKey` over `message` (any length).
    function verify(bytes32 publicKey, bytes memory message, bytes memory signature) internal view returns (bool) {
        if (signature.length != 64) return false;
        bytes32 r;
        bytes32 sBytes;
        assembly ("memory-safe") {
            r := mload(add(signature, 32))
            sBytes := mload(add(signature, 64))
        }
        uint256 s = le(sBytes);
        if (s >= L) return false;
        uint256 a = le(publicKey);
        uint256 rv = le(r);
        if (!canonical(a) || smallOrder(publicKey)) return false;
        if (!canonical(rv) || smallOrder(r)) return false;
        (bool ok, uint256 ax) = decompress(a);
        if (!ok) return false;
        (bytes32 h0, bytes32 h1) = Sha512.hash(abi.encodePacked(r, publicKey, message));
        uint256 k = addmod(le(h0) % L, mulmod(le(h1), (type(uint256).max % L) + 1, L), L);
        // [S]B + [k](-A): -A = (-x, y).
        (bool done, uint256 enc) = doubleMul(s, k, P - ax, a & Y_MASK);
        return done && enc == rv;
    }

    /// Little-endian bytes to an integer (byte reversal).
    function le(bytes32 b) internal pure returns (uint256 v) {
        v = uint256(b);
        v = ((v & 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00) >> 8) |
            ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000) >> 16) |
            ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        v = ((v & 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000) >> 32) |
            ((v & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff) << 32);
        v = ((v & 0xffffffffffffffff0000000000000000ffffffffffffffff0000000000000000) >> 64) |
            ((v & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff) << 64);
        v = (v >> 128) | (v << 128);
    }

    /// y < p, and the sign bit clear when x = 0 (y = 1 or y = p - 1).
    function canonical(uint256 enc) private pure returns (bool) {
        uint256 y = enc & Y_MASK;
        if (y >= P) return false;
        if (enc >> 255 == 1 && (y == 1 || y == P - 1)) return false;
        return true;
    }

    /// The canonical encodings of the 8 points of small order (src/crypto/keys.ts holds the same list).
    function smallOrder(bytes32 b) private pure returns (bool) {
        return
            b == 0x0100000000000000000000000000000000000000000000000000000000000000 ||
            b == 0xecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f ||
            b == 0x0000000000000000000000000000000000000000000000000000000000000000 ||
            b == 0x0000000000000000000000000000000000000000000000000000000000000080 ||
            b == 0x26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05 ||
            b == 0x26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85 ||
            b == 0xc7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a ||
            b == 0xc7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa;
    }

    function expmod(uint256 base, uint256 e) private view returns (bool ok, uint256 r) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 32)
            mstore(add(ptr, 32), 32)
            mstore(add(ptr, 64), 32)
            mstore(add(ptr, 96), base)
            mstore(add(ptr, 128), e)
            mstore(add(ptr, 160), P)
            ok := staticcall(gas(), 0x05, ptr, 192, ptr, 32)
            r := mload(ptr)
        }
    }

    /// RFC 8032 5.1.3: x from y and the sign bit; fails when x^2 = (y^2 - 1) / (d y^2 + 1) has no root.
    function decompress(uint256 enc) private view returns (bool, uint256) {
        uint256 y = enc & Y_MASK;
        uint256 yy = mulmod(y, y, P);
        uint256 u = addmod(yy, P - 1, P);
        uint256 v = addmod(mulmod(D, yy, P), 1, P);
        uint256 v3 = mulmod(mulmod(v, v, P), v, P);
        uint256 uv7 = mulmod(mulmod(u, mulmod(v3, v3, P), P), v, P);
        (bool ok, uint256 pw) = expmod(uv7, (P - 5) / 8);
        if (!ok) return (false, 0);
        uint256 x = mulmod(mulmod(u, v3, P), pw, P);
        uint256 vxx = mulmod(v, mulmod(x, x, P), P);
        if (vxx != u) {
            if (vxx != P - u && !(u == 0 && vxx == 0)) return (false, 0);
            x = mulmod(x, SQRT_M1, P);
        }
        uint256 sign = enc >> 255;
        if (x == 0 && sign == 1) return (false, 0);
        if (x & 1 != sign) x = P - x;
        return (true, x);
    }

    /// Canonical encoding of [s]B + [k]Q for Q = (qx, qy), as an integer (y | x's parity << 255).
    function doubleMul(uint256 s, uint256 k, uint256 qx, uint256 qy) private view returns (bool, uint256) {
        // Table of cached ("Niels") addends (Y - X, Y + X, 2d T, 2 Z): B, Q, B + Q; then the accumulator (X, Y, Z, T).
        uint256[16] memory t;
        assembly ("memory-safe") {
            let p := P
            function niels(ptr, x, y, z, tt) {
                let p_ := 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed
                mstore(ptr, addmod(y, sub(p_, x), p_))
                mstore(add(ptr, 32), addmod(y, x, p_))
                mstore(add(ptr, 64), mulmod(tt, 16295367250680780974490674513165176452449235426866156013048779062215315747161, p_))
                mstore(add(ptr, 96), addmod(z, z, p_))
            }
            // acc += cached addend at n (add-2008-hwcd-3, a = -1).
            function addTo(acc, n) {
                let p_ := 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed
                let x1 := mload(acc)
                let y1 := mload(add(acc, 32))
                let a := mulmod(addmod(y1, sub(p_, x1), p_), mload(n), p_)
                let b := mulmod(addmod(y1, x1, p_), mload(add(n, 32)), p_)
                let e := addmod(b, sub(p_, a), p_)
                let h := addmod(b, a, p_)
                a := mulmod(mload(add(acc, 96)), mload(add(n, 64)), p_)
                b := mulmod(mload(add(acc, 64)), mload(add(n, 96)), p_)
                let f := addmod(b, sub(p_, a), p_)
                let g := addmod(b, a, p_)
                mstore(acc, mulmod(e, f, p_))
                mstore(add(acc, 32), mulmod(g, h, p_))
                mstore(add(acc, 64), mulmod(f, g, p_))
                mstore(add(acc, 96), mulmod(e, h, p_))
            }
            // acc = 2 acc (dbl-2008-hwcd, a = -1, with E, F, G, H all negated: the products are unchanged).
            function dbl(acc) {
                let p_ := 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed
                let x := mload(acc)
                let y := mload(add(acc, 32))
                let z := mload(add(acc, 64))
                let a := mulmod(x, x, p_)
                let b := mulmod(y, y, p_)
                let h := addmod(a, b, p_)
                let xy := addmod(x, y, p_)
                let e := addmod(h, sub(p_, mulmod(xy, xy, p_)), p_)
                let g := addmod(a, sub(p_, b), p_)
                let f := addmod(mulmod(2, mulmod(z, z, p_), p_), g, p_)
                mstore(acc, mulmod(e, f, p_))
                mstore(add(acc, 32), mulmod(g, h, p_))
                mstore(add(acc, 64), mulmod(f, g, p_))
                mstore(add(acc, 96), mulmod(e, h, p_))
            }
            niels(t, BX, BY, 1, mulmod(BX, BY, p))
            niels(add(t, 128), qx, qy, 1, mulmod(qx, qy, p))
            // B + Q: the accumulator starts at B, adds Q, and is cached into slot 2.
            let acc := add(t, 384)
            mstore(acc, BX)
            mstore(add(acc, 32), BY)
            mstore(add(acc, 64), 1)
            mstore(add(acc, 96), mulmod(BX, BY, p))
            addTo(acc, add(t, 128))
            niels(add(t, 256), mload(acc), mload(add(acc, 32)), mload(add(acc, 64)), mload(add(acc, 96)))
            // Identity.
            mstore(acc, 0)
            mstore(add(acc, 32), 1)
            mstore(add(acc, 64), 1)
            mstore(add(acc, 96), 0)
            for { let i := 253 } 1 { } {
                dbl(acc)
                let sel := or(and(shr(i, s), 1), shl(1, and(shr(i, k), 1)))
                if sel { addTo(acc, add(t, mul(sub(sel, 1), 128))) }
                if iszero(i) { break }
                i := sub(i, 1)
            }
        }
        (bool ok, uint256 zi) = expmod(t[14], P - 2);
        if (!ok) return (false, 0);
        uint256 x = mulmod(t[12], zi, P);
        uint256 y = mulmod(t[13], zi, P);
        return (true, y | ((x & 1) << 255));
    }
}
