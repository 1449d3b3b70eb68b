/** The network and tracking options of every node process (validator, operator, anchor); src/app/node.ts reads them. */
import type { Command } from 'commander';
import { option } from '../runtime/config.js';
import { DEFAULT_WATCH_MEMORY_MB } from '../node/watches.js';

export function addNetworkOptions(cmd: Command, opts: { devnet?: boolean } = {}): Command {
  if (opts.devnet) {
    cmd.addOption(
      option('--devnet', 'testnet mode: enables fault drills (partition); never on a real network'),
    );
  }
  return cmd
    .addOption(option('--listen <multiaddr...>', 'libp2p listen addresses', ['/ip4/127.0.0.1/tcp/0']))
    .addOption(option('--announce <multiaddr...>', 'addresses to announce instead of the listen addresses'))
    .addOption(
      option(
        '--web',
        'serve the holder page (a light validator in the browser, docs/browser.md) at / on the API',
      ),
    )
    .addOption(option('--bootstrap <multiaddr...>', 'peers to dial (with /p2p/<peer-id>) and keep dialing'))
    .addOption(
      option(
        '--track <chain...>',
        'chain to follow with its ancestors: a chain id (hex) or an operator API URL to read it from',
      ),
    )
    .addOption(
      option(
        '--anchor <chain>',
        'trusted anchor: chain id (hex) or the anchor API URL; tracked chains must descend from it',
      ),
    )
    .addOption(
      option(
        '--no-dht',
        'do not run the Kademlia DHT that announces this node as a follower of its chains and finds the peers ' +
          'of a chain it has no gossip peer for (on by default)',
      ),
    )
    .addOption(
      option(
        '--evm-rpc <url...>',
        'EVM anchor: JSON-RPC endpoints of the EVM chain (repeatable; the first is read for logs and sends ' +
          'transactions; block hashes count when --evm-quorum of them agree; see README)',
      ),
    )
    .addOption(
      option(
        '--evm-quorum <k>',
        'EVM anchor: how many of the --evm-rpc endpoints must name a block hash (and reach a head) for it to count',
        1,
      ),
    )
    .addOption(
      option(
        '--evm-checkpoint <number:hash>',
        'EVM anchor: a trusted block (<number>:<0x hash>); an endpoint holding another block there is left out',
      ),
    )
    .addOption(option('--anchor-address <address>', 'EVM anchor: the SortitionAnchor contract address'))
    .addOption(
      option(
        '--drand-url <url>',
        "EVM anchor: a drand HTTP relay for the anchor's drand network, read to post a lottery's round " +
          '(default: https://api.drand.sh/<quicknet hash> for quicknet; the devnet signs its own)',
      ),
    )
    .addOption(
      option(
        '--evm-key <key|file>',
        'EVM anchor: 0x private key (or a file holding it) that pays for registration, commits and evidence',
      ),
    )
    .addOption(
      option('--confirmations <n>', 'EVM anchor: blocks on top of a commit before it counts (1: mined)', 1),
    )
    .addOption(option('--evm-poll-ms <ms>', 'EVM anchor: how often to read new commits', 1000))
    .addOption(
      option(
        '--unseen-grace-ms <ms>',
        "EVM anchor: a commit above this node's head that stays unseen on gossip this long while the head stalls " +
          '(ten times as long while it still moves) raises a commit-unseen alert',
        60_000,
      ),
    )
    .addOption(
      option(
        '--data-requests <n>',
        'EVM anchor, with --evm-key: after commit-unseen, data requests filed per chain per committed height for ' +
          "watched contracts (each costs the contract's claim bond, paid to whoever answers; 0: none)",
        4,
      ),
    )
    .addOption(
      option(
        '--settle-key <file>',
        'EVM anchor: settle expired chains automatically, claiming for this winner key file (a validator: ' +
          'for contracts it watches; an operator: from its tree); needs --evm-key and --settle-payout',
      ),
    )
    .addOption(option('--settle-payout <address>', 'EVM anchor: the address automatic claims pay out to'))
    .addOption(
      option(
        '--genesis <file...>',
        'genesis records known in advance (hex, or JSON with a "genesis" hex field)',
      ),
    )
    .addOption(
      option(
        '--join <manifest>',
        "a devnet's manifest (`devnet` writes <work-dir>/manifest.json): bootstrap from its nodes, trust its anchor",
      ),
    )
    .addOption(
      option(
        '--watch <contract...>',
        'contracts to keep current proofs of: an operator contract URL (http://host:port/v1/contracts/<start>), ' +
          '<service>/<start> with --join, or <chain-id-hex>:<path-hex>; their chains are tracked',
      ),
    )
    .addOption(
      option(
        '--alert-url <url>',
        "webhook for alerts on watched contracts and the EVM anchor's commits (JSON POST, retried with backoff)",
      ),
    )
    .addOption(option('--max-watches <n>', 'most contracts this node watches', 20000))
    .addOption(
      option(
        '--watch-memory-mb <n>',
        'most memory the watches may hold, counted at their worst (about 120-140 KB a watch at depth 17-20); ' +
          'a watch past it is refused with 429 WATCH_MEMORY',
        DEFAULT_WATCH_MEMORY_MB,
      ),
    )
    .addOption(
      option(
        '--api-rate <n>',
        'API budget per client address: requests per second (a proof check replaying k stored blocks costs k/8 ' +
          'more; over budget: 429 RATE_LIMITED with Retry-After; 0: no limit; default 100, an operator 0)',
      ),
    )
    .addOption(
      option('--api-burst <n>', 'API budget per client address: the most spent at once (default 400)'),
    )
    .addOption(option('--sync-interval-ms <ms>', 'how often to compare heads with peers', 3000))
    .addOption(
      option(
        '--monitor-interval-ms <ms>',
        'how often run warns of no peers or no tracked chain (head progress: every second interval)',
        30_000,
      ).hideHelp(),
    )
    .addOption(
      option(
        '--health-max-lag <blocks>',
        'GET /v1/health answers 503 while a tracked chain is more than this many blocks behind peers',
        5,
      ),
    )
    .addOption(
      option(
        '--metrics-chains <n>',
        'chains (and their gossip topics) with Prometheus series of their own, the first tracked; the others count ' +
          'under chain="other", so /metrics does not grow with the chains followed',
        32,
      ),
    )
    .addOption(
      option(
        '--crypto <backend>',
        'hashing and signature checks: libsodium (falls back to openssl where its addon does not load) or openssl',
        'libsodium',
      ).choices(['libsodium', 'openssl']),
    )
    .addOption(
      option(
        '--bench-accept-all',
        'benchmark baseline: accept (relay, store) gossiped blocks without judging them',
      ).hideHelp(),
    )
    .addOption(
      option(
        '--bench-signatures-only',
        'benchmark baseline: accept gossiped blocks whose signatures verify, checking nothing else',
      )
        .conflicts('benchAcceptAll')
        .hideHelp(),
    );
}
