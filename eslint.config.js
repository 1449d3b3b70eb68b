import tseslint from 'typescript-eslint';

/**
 * The layers of DESIGN.md section 7, lowest first; a layer imports only from layers below it. The core (codec to
 * light) is pure: no Node built-in, no native addon, nothing of the network or the runtime, so it runs in a browser
 * wallet (test/core/browser.test.ts runs it without Buffer). Each entry: the folder and the folders it must not reach.
 */
const ABOVE_CORE = ['p2p', 'node', 'operator', 'anchor', 'evm', 'runtime', 'cli', 'devnet', 'app', 'api'];
const LAYERS = [
  ['codec', ['crypto', 'tree', 'chain', 'sortition', 'light', ...ABOVE_CORE]],
  ['crypto', ['tree', 'chain', 'sortition', 'light', ...ABOVE_CORE]],
  ['tree', ['chain', 'sortition', 'light', ...ABOVE_CORE]],
  ['chain', ['sortition', 'light', ...ABOVE_CORE]],
  ['sortition', ['light', ...ABOVE_CORE]],
  ['light', ['sortition', ...ABOVE_CORE]],
  // The network layer knows nothing of chains, trees or the runtimes above it.
  ['p2p', ['tree', 'chain', 'sortition', 'light', 'node', 'operator', 'anchor', 'evm', 'cli', 'devnet']],
  ['runtime', ['p2p', 'node', 'operator', 'anchor', 'evm', 'cli', 'devnet']],
];
const CORE = new Set(['codec', 'crypto', 'tree', 'chain', 'sortition', 'light']);
const NODE_ONLY = [
  'node:*',
  'sodium-native',
  'classic-level',
  'pino',
  'prom-client',
  'libp2p',
  '@libp2p/*',
  '@chainsafe/*',
  'viem',
];

const layerRules = LAYERS.map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: banned.flatMap((b) => [`../${b}/*`, `../../${b}/*`, `../${b}`, `../../${b}`]),
            message: `src/${layer} sits below these folders (DESIGN.md section 7): the app layer composes them.`,
          },
          ...(CORE.has(layer)
            ? [
                {
                  group: NODE_ONLY,
                  message: `src/${layer} is core: pure, no Node-only API, runs in a browser wallet.`,
                },
              ]
            : []),
        ],
      },
    ],
  },
}));

/**
 * The rooms above the core and the layers that compose them (issue 16): node, operator and anchor are siblings
 * and never import each other; evm builds on anchor (it implements the Anchor interface and throws AnchorError),
 * and plugs into an operator and a validator through interfaces of its own (EvmCommitter's CommittedChain,
 * EvmWatcher's AnchoredValidator); none of them reaches the app layer, the devnet runner or the CLI. src/api holds the
 * operator API's JSON bodies and token file name, which the operator serves and its clients read, so it imports
 * none of the rooms. Only src/app and src/cli compose; the devnet runner starts processes and talks to them over
 * HTTP, so it imports no room either. A rule of its own (the typescript-eslint one, for `allowTypeImports`), so
 * it adds to the layer rules above.
 */
const COMPOSERS = ['app', 'cli', 'devnet'];
const ROOMS = [
  // [folder, may not import, may import types only]
  ['node', ['operator', 'anchor', 'evm', ...COMPOSERS], []],
  ['operator', ['node', 'anchor', 'evm', ...COMPOSERS], []],
  ['anchor', ['node', 'operator', 'evm', ...COMPOSERS], []],
  ['evm', ['node', 'operator', ...COMPOSERS], []],
  ['api', ['p2p', 'node', 'operator', 'anchor', 'evm', ...COMPOSERS], []],
  ['runtime', ['api', 'app'], []],
  ['app', ['cli', 'devnet'], []],
  ['devnet', ['node', 'operator', 'anchor', 'evm', 'app', 'cli'], []],
];
const roomGroup = (folders) => folders.flatMap((b) => [`../${b}/*`, `../../${b}/*`, `../${b}`, `../../${b}`]);
const roomRules = ROOMS.map(([room, banned, typesOnly]) => ({
  files: [`src/${room}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: roomGroup(banned),
            message: `src/${room} does not import this room sideways or upward: src/app composes them (DESIGN.md section 7).`,
          },
          ...(typesOnly.length
            ? [
                {
                  group: roomGroup(typesOnly),
                  allowTypeImports: true,
                  message: `src/${room} plugs into this room by its types only (import type).`,
                },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'src/gen/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  ...roomRules,
  {
    // The core also keeps off Node's globals: a browser has no Buffer or process.
    files: [...CORE].map((l) => `src/${l}/**/*.ts`),
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'core code is pure: use Uint8Array and src/codec/bytes.ts' },
        { name: 'process', message: 'core code does no I/O and reads no environment' },
      ],
    },
  },
);
