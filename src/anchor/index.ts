/** The anchor interface and its devnet implementation on top of an operator of the anchor chain. */
export * from './api.js';
export * from './client.js';
export * from './devnet.js';
export * from './json.js';
export * from './types.js';
