// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// SHA-512 (FIPS 180-4) in EVM code: the EVM has no SHA-512 precompile, and Ed25519's challenge hash is SHA-512.
/// Words are 64-bit values held in 256-bit stack slots and masked after every addition.
library Sha512 {
    /// The 64-byte digest of `data` as two words, bytes 0-31 and 32-63.
    function hash(bytes memory data) internal pure returns (bytes32 h0, bytes32 h1) {
        uint256[80] memory k = [
            uint256(0x428a2f98d728ae22), 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
            0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
            0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
            0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
            0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
            0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
            0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
            0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
            0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
            0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
            0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
            0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
            0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
            0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
            0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
            0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
            0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
            0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
            0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
            0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817
        ];
        uint256 len = data.length;
        // Padding: 0x80, zeros, then the bit length as a 128-bit big-endian integer, to a multiple of 128 bytes.
        uint256 padded = ((len + 17 + 127) / 128) * 128;
        bytes memory m = new bytes(padded);
        uint256[8] memory st = [
            uint256(0x6a09e667f3bcc908),
            0xbb67ae8584caa73b,
            0x3c6ef372fe94f82b,
            0xa54ff53a5f1d36f1,
            0x510e527fade682d1,
            0x9b05688c2b3e6c1f,
            0x1f83d9abfb41bd6b,
            0x5be0cd19137e2179
        ];
        uint256[80] memory w;
        assembly ("memory-safe") {
            mcopy(add(m, 32), add(data, 32), len)
            mstore8(add(add(m, 32), len), 0x80)
            // The last 16 bytes; lengths below 2^61 bytes leave the top 8 of them zero.
            mstore(add(m, padded), or(and(mload(add(m, padded)), not(0xffffffffffffffff)), mul(len, 8)))
        }
        for (uint256 off = 0; off < padded; off += 128) {
            compress(st, w, k, m, off);
        }
        assembly ("memory-safe") {
            h0 := or(or(shl(192, mload(st)), shl(128, mload(add(st, 32)))), or(shl(64, mload(add(st, 64))), mload(add(st, 96))))
            h1 := or(
                or(shl(192, mload(add(st, 128))), shl(128, mload(add(st, 160)))),
                or(shl(64, mload(add(st, 192))), mload(add(st, 224)))
            )
        }
    }

    function compress(
        uint256[8] memory st,
        uint256[80] memory w,
        uint256[80] memory k,
        bytes memory m,
        uint256 off
    ) private pure {
        assembly ("memory-safe") {
            let M := 0xffffffffffffffff
            function rotr(x, n) -> r {
                r := and(or(shr(n, x), shl(sub(64, n), x)), 0xffffffffffffffff)
            }
            let src := add(add(m, 32), off)
            for { let t := 0 } lt(t, 16) { t := add(t, 1) } {
                mstore(add(w, mul(t, 32)), shr(192, mload(add(src, mul(t, 8)))))
            }
            for { let t := 16 } lt(t, 80) { t := add(t, 1) } {
                let x2 := mload(add(w, mul(sub(t, 2), 32)))
                let x15 := mload(add(w, mul(sub(t, 15), 32)))
                let s1 := xor(xor(rotr(x2, 19), rotr(x2, 61)), shr(6, x2))
                let s0 := xor(xor(rotr(x15, 1), rotr(x15, 8)), shr(7, x15))
                mstore(
                    add(w, mul(t, 32)),
                    and(add(add(s1, mload(add(w, mul(sub(t, 7), 32)))), add(s0, mload(add(w, mul(sub(t, 16), 32))))), M)
                )
            }
            for { let t := 0 } lt(t, 80) { t := add(t, 1) } {
                let p := add(w, mul(t, 32))
                mstore(p, add(mload(p), mload(add(k, mul(t, 32)))))
            }
        }
        rounds(st, w);
    }

    /// The 80 rounds; `w` holds W[t] + K[t] (unmasked: the sum is masked with the rest of T1).
    function rounds(uint256[8] memory st, uint256[80] memory w) private pure {
        assembly ("memory-safe") {
            function rotr(x, n) -> r {
                r := and(or(shr(n, x), shl(sub(64, n), x)), 0xffffffffffffffff)
            }
            let a := mload(st)
            let b := mload(add(st, 32))
            let c := mload(add(st, 64))
            let d := mload(add(st, 96))
            let e := mload(add(st, 128))
            let f := mload(add(st, 160))
            let g := mload(add(st, 192))
            let h := mload(add(st, 224))
            for { let t := 0 } lt(t, 80) { t := add(t, 1) } {
                let t1 := add(
                    add(h, xor(xor(rotr(e, 14), rotr(e, 18)), rotr(e, 41))),
                    add(xor(and(e, f), and(xor(e, 0xffffffffffffffff), g)), mload(add(w, mul(t, 32))))
                )
                let t2 := add(xor(xor(rotr(a, 28), rotr(a, 34)), rotr(a, 39)), xor(xor(and(a, b), and(a, c)), and(b, c)))
                h := g
                g := f
                f := e
                e := and(add(d, t1), 0xffffffffffffffff)
                d := c
                c := b
                b := a
                a := and(add(t1, t2), 0xffffffffffffffff)
            }
            mstore(st, and(add(mload(st), a), 0xffffffffffffffff))
            mstore(add(st, 32), and(add(mload(add(st, 32)), b), 0xffffffffffffffff))
            mstore(add(st, 64), and(add(mload(add(st, 64)), c), 0xffffffffffffffff))
            mstore(add(st, 96), and(add(mload(add(st, 96)), d), 0xffffffffffffffff))
            mstore(add(st, 128), and(add(mload(add(st, 128)), e), 0xffffffffffffffff))
            mstore(add(st, 160), and(add(mload(add(st, 160)), f), 0xffffffffffffffff))
            mstore(add(st, 192), and(add(mload(add(st, 192)), g), 0xffffffffffffffff))
            mstore(add(st, 224), and(add(mload(add(st, 224)), h), 0xffffffffffffffff))
        }
    }
}
