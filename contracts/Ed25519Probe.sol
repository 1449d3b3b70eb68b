// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ed25519} from "./Ed25519.sol";
import {Sha512} from "./Sha512.sol";

/// Test and benchmark access to the libraries on their own (the anchor exposes verifyEd25519 too).
contract Ed25519Probe {
    function verifyEd25519(bytes32 publicKey, bytes32 message, bytes calldata signature) external view returns (bool) {
        return Ed25519.verify(publicKey, abi.encodePacked(message), signature);
    }

    function verifyEd25519Message(bytes32 publicKey, bytes calldata message, bytes calldata signature)
        external
        view
        returns (bool)
    {
        return Ed25519.verify(publicKey, message, signature);
    }

    function sha512(bytes calldata data) external pure returns (bytes32, bytes32) {
        return Sha512.hash(data);
    }
}
