// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ed25519} from "./Ed25519.sol";

/// Ed25519 (RFC 8032, under the exact validity rule of docs/protocol.md section 1) as a stateless contract of its
/// own: the anchor calls it at an address fixed at the anchor's construction, which keeps the anchor's runtime
/// code well under the 24,576-byte limit (EIP-170). It holds no state and no value, so one deployment serves any
/// number of anchors.
contract Ed25519Verifier {
    /// Whether `signature` is `publicKey`'s signature over `message`; false (never a revert) for any input.
    function verify(bytes32 publicKey, bytes calldata message, bytes calldata signature) external view returns (bool) {
        return Ed25519.verify(publicKey, message, signature);
    }
}
