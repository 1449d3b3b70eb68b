/** Library entry point: the pure core, plus the runtime pieces a program embedding a node needs. */
// The core's list is explicit (core.ts); this entry adds to it rather than repeating it.
export * from './core.js';
export {
  KeyFileError,
  writeKeyFile,
  readKeyFile,
  loadOrCreateKeyFile,
  type KeyFile,
} from './runtime/keyfile.js';
