export * from './contract.js';
export * from './errors.js';
export * from './node.js';
export * from './path.js';
export * from './tree.js';
export * from './verify.js';
export * from './multiproof.js';
