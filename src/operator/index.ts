/** The operator: durable store, block production, HTTP API, anchoring up the hierarchy, devnet fault injection. */
export * from './api.js';
export * from './errors.js';
export * from './faults.js';
export * from './json.js';
export * from './metrics.js';
export * from './publish.js';
export * from './requests.js';
export * from './service.js';
export * from './store.js';
export * from './token.js';
export * from './types.js';
export * from './upstream.js';
