// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IAnchorPayouts {
    function withdraw() external;
    function slashEquivocation(bytes32 chainId, bytes calldata first, bytes calldata second) external;
    function commitReport(bytes32 commitment) external;
}

/// Test fixture: a reporter that, when paid, calls back into the anchor to be paid again.
contract ReentrancyProbe {
    IAnchorPayouts private immutable anchor;
    bool public attempted;
    bool public reentered;
    uint256 public received;

    constructor(address anchor_) {
        anchor = IAnchorPayouts(anchor_);
    }

    function seal(bytes32 commitment) external {
        anchor.commitReport(commitment);
    }

    function report(bytes32 chainId, bytes calldata first, bytes calldata second) external {
        anchor.slashEquivocation(chainId, first, second);
    }

    function drain() external {
        anchor.withdraw();
    }

    receive() external payable {
        received += msg.value;
        if (!attempted) {
            attempted = true;
            try anchor.withdraw() {
                reentered = true;
            } catch {}
        }
    }
}
