/** Library entry point: the pure core, plus the runtime pieces a program embedding a node needs. */
export * from './core.js';
export * from './runtime/keyfile.js';
