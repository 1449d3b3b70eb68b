// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// A drand network in unchained G1 mode ("bls-unchained-g1-rfc9380", the League of Entropy's quicknet) verified on
/// chain with the EIP-2537 BLS12-381 precompiles, as a stateless contract of its own (like the Ed25519 verifier):
/// the anchor calls it at an address fixed at the anchor's construction.
///
/// Round r's signature is the network's threshold BLS signature over sha256(u64be(r)), hashed to G1 under RFC 9380
/// (expand_message_xmd with SHA-256, the SSWU map, DST `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`), and is
/// unique: for a given round there is one valid signature, so nobody who relays it can choose another. Its
/// randomness is sha256 of the signature's 48-byte compressed form (drand's own definition), and it exists only
/// once the round's time has come: genesis + (r - 1) * period. Verified rounds are kept (`post`), so one posting
/// serves every chain that draws from the round. docs/protocol.md section 12 (the beacon) says what
/// this trusts (a threshold of the network's members) and what it does not (any block builder).
contract DrandBeacon {
    error BadSignature();
    error BadParameter();

    event Posted(uint64 indexed round, bytes32 randomness);

    /// Randomness of the rounds posted so far (zero: not posted).
    mapping(uint64 => bytes32) public randomnessOf;

    address private constant MODEXP = address(0x05);
    address private constant G1_ADD = address(0x0b);
    address private constant PAIRING = address(0x0f);
    address private constant MAP_FP_TO_G1 = address(0x10);

    /// The BLS12-381 base field modulus, split as the precompiles lay out a 48-byte element: 16 high bytes, 32 low.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// (p - 1) / 2: a y above it is the "lexicographically largest" root, flagged in the compressed form.
    uint256 private constant HALF_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// -G2's generator in EIP-2537 encoding (x.c0, x.c1, y.c0, y.c1; each 64 bytes with 16 leading zero bytes).
    bytes private constant NEG_G2 =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
        hex"0000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        hex"000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa"
        hex"0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";

    bytes private constant DST_PRIME = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_\x2b";

    /// The network's G2 public key in EIP-2537 encoding, as eight words (an immutable cannot be `bytes`).
    bytes32 private immutable k0;
    bytes32 private immutable k1;
    bytes32 private immutable k2;
    bytes32 private immutable k3;
    bytes32 private immutable k4;
    bytes32 private immutable k5;
    bytes32 private immutable k6;
    bytes32 private immutable k7;
    /// Unix time of round 1, and seconds between rounds.
    uint64 public immutable genesisTime;
    uint64 public immutable period;

    constructor(bytes memory publicKey_, uint64 genesisTime_, uint64 period_) {
        if (publicKey_.length != 256 || period_ == 0 || genesisTime_ == 0) revert BadParameter();
        bytes32[8] memory w;
        for (uint256 i = 0; i < 8; i++) {
            bytes32 x;
            assembly ("memory-safe") {
                x := mload(add(add(publicKey_, 32), mul(i, 32)))
            }
            w[i] = x;
        }
        (k0, k1, k2, k3, k4, k5, k6, k7) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
        genesisTime = genesisTime_;
        period = period_;
    }

    /// The public key as the precompiles take it (256 bytes).
    function publicKey() public view returns (bytes memory) {
        return abi.encodePacked(k0, k1, k2, k3, k4, k5, k6, k7);
    }

    /// When round `r` (>= 1) is published (genesis + (r - 1) * period), and its randomness once posted (else 0).
    function round(uint64 r) external view returns (uint256 time, bytes32 randomness) {
        if (r == 0) revert BadParameter();
        return (uint256(genesisTime) + uint256(r - 1) * period, randomnessOf[r]);
    }

    /// Records round `r`'s randomness, verified from its signature (anyone may post; posting twice changes
    /// nothing, since a round has one valid signature).
    function post(uint64 r, bytes calldata signature) external returns (bytes32 value) {
        value = randomness(r, signature);
        if (randomnessOf[r] == bytes32(0)) {
            randomnessOf[r] = value;
            emit Posted(r, value);
        }
    }

    /// Round `round`'s randomness, given its signature as an uncompressed G1 point in EIP-2537 encoding (128 bytes;
    /// the pairing precompile refuses a point off the curve or outside the subgroup).
    /// Reverts with BadSignature for anything but the network's signature over the round.
    function randomness(uint64 round, bytes calldata signature) public view returns (bytes32) {
        if (signature.length != 128) revert BadSignature();
        bytes memory h = hashToG1(sha256(abi.encodePacked(round)));
        (bool ok, bytes memory out) = PAIRING.staticcall(abi.encodePacked(signature, NEG_G2, h, publicKey()));
        if (!ok || out.length != 32 || abi.decode(out, (uint256)) != 1) revert BadSignature();
        // The compressed form: x's 48 bytes with the compression flag, and the sign flag when y > (p - 1) / 2.
        uint256 xHi = uint256(bytes32(signature[0:32]));
        uint256 yHi = uint256(bytes32(signature[64:96]));
        uint256 yLo = uint256(bytes32(signature[96:128]));
        uint256 flags = (yHi > HALF_HI || (yHi == HALF_HI && yLo > HALF_LO)) ? 0xa0 : 0x80;
        return sha256(abi.encodePacked(bytes16(uint128(xHi | (flags << 120))), signature[32:64]));
    }

    /// RFC 9380 hash_to_curve for G1 (expand_message_xmd, SHA-256, two field elements, SSWU; the map precompile
    /// clears the cofactor, which is linear, so the sum of two mapped points is the hash).
    function hashToG1(bytes32 message) private view returns (bytes memory) {
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(128), uint8(0), DST_PRIME));
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), DST_PRIME));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), DST_PRIME));
        bytes32 b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), DST_PRIME));
        bytes32 b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), DST_PRIME));
        bytes memory q = abi.encodePacked(mapToG1(b1, b2), mapToG1(b3, b4));
        return call(G1_ADD, q, 128);
    }

    /// Maps the 64-byte big-endian integer hi || lo, reduced mod p, to G1.
    function mapToG1(bytes32 hi, bytes32 lo) private view returns (bytes memory) {
        bytes memory u = call(
            MODEXP,
            abi.encodePacked(uint256(64), uint256(1), uint256(64), hi, lo, uint8(1), P_HI, P_LO),
            64
        );
        return call(MAP_FP_TO_G1, u, 128);
    }

    function call(address precompile, bytes memory input, uint256 outLength) private view returns (bytes memory out) {
        bool ok;
        (ok, out) = precompile.staticcall(input);
        if (!ok || out.length != outLength) revert BadSignature();
    }
}
