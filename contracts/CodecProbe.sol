// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Proto} from "./Proto.sol";

/// Test access to the anchor's canonical protobuf reader, to hold it against the TS decoders byte for byte.
contract CodecProbe {
    function header(bytes calldata b) external pure returns (Proto.Header memory) {
        return Proto.header(b);
    }

    /// As the anchor reads a signed header: the envelope, then the header inside it.
    function signedHeader(bytes calldata b) external pure returns (bytes memory h, bytes memory sig) {
        (h, sig) = Proto.signedHeader(b);
        Proto.header(h);
    }

    function genesis(bytes calldata b) external pure returns (Proto.Genesis memory) {
        return Proto.genesis(b);
    }

    function contractAt(bytes calldata b) external pure returns (Proto.Contract memory) {
        return Proto.contractAt(b);
    }
}
