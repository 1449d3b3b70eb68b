// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Proto} from "./Proto.sol";

/// The probability-space tree's digests and lookup proofs (docs/protocol.md section 4), with the SHA-256
/// precompile and the protocol's domain tags.
library Tree {
    error NotALookupPath(string why);

    /// H(tag, x) = SHA-256("sortition/1/<tag>" || 0x00 || x), docs/protocol.md section 1.
    function leafDigest(bytes memory contractBytes) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("sortition/1/leaf\x00", contractBytes));
    }

    function emptyRoot() internal pure returns (bytes32) {
        return sha256("sortition/1/empty\x00");
    }

    function nodeDigest(uint256 crit, uint64 lmin, uint64 lmax, uint64 rmin, uint64 rmax, bytes32 l, bytes32 r)
        internal
        pure
        returns (bytes32)
    {
        return sha256(abi.encodePacked("sortition/1/node\x00", uint8(crit), lmin, lmax, rmin, rmax, l, r));
    }

    /// Whether `path` is a lookup proof of `point` in the tree with `root`: true when its leaf contains the point,
    /// false when the point is unallocated. Reverts unless the path matches the root, keeps the ordering rule at
    /// every level (sibling min < max; left.max <= right.min; the sibling's min agrees with the leaf's start above
    /// the crit bit and differs at it, on the side the step names), and is a lookup path for the point (no
    /// frontier range covers it when the leaf does not).
    struct Sum {
        bytes32 digest;
        uint64 min;
        uint64 max;
    }

    function lookup(bytes32 root, Proto.Path memory path, uint64 point) internal pure returns (bool) {
        if (!path.hasLeaf) {
            if (root != emptyRoot()) revert NotALookupPath("empty path for a non-empty root");
            return false;
        }
        Sum memory sum = Sum(leafDigest(path.leafBytes), path.leaf.start, path.leaf.end);
        bool inLeaf = path.leaf.start <= point && point < path.leaf.end;
        for (uint256 j = path.depth; j > 0; j--) climb(path, j - 1, point, inLeaf, sum);
        if (sum.digest != root) revert NotALookupPath("path does not match the root");
        return inLeaf;
    }

    /// One level up: checks the ordering rule and the lookup rule there, and hashes the parent node.
    function climb(Proto.Path memory path, uint256 i, uint64 point, bool inLeaf, Sum memory sum) private pure {
        uint8 step = uint8(path.steps[i]);
        uint256 crit = step & 0x3f;
        bool right = step & 0x80 != 0;
        uint64 smin = path.siblingMin[i];
        uint64 smax = path.siblingMax[i];
        uint64 start = path.leaf.start;
        if (smin >= smax) revert NotALookupPath("sibling min >= max");
        // Bits 0..crit-1 (from the most significant) agree, bit crit differs, and the leaf is on the side named.
        if ((uint256(smin ^ start) >> (63 - crit)) != 1) revert NotALookupPath("sibling off the crit bit");
        if (((start >> (63 - crit)) & 1 == 1) != right) revert NotALookupPath("step against the bit");
        if (!inLeaf && smin <= point && point < smax) revert NotALookupPath("a sibling covers the point");
        if (right) {
            if (smax > sum.min) revert NotALookupPath("left.max > right.min");
            sum.digest = nodeDigest(crit, smin, smax, sum.min, sum.max, path.siblings[i], sum.digest);
            sum.min = smin;
        } else {
            if (sum.max > smin) revert NotALookupPath("left.max > right.min");
            sum.digest = nodeDigest(crit, sum.min, sum.max, smin, smax, sum.digest, path.siblings[i]);
            sum.max = smax;
        }
    }
}
