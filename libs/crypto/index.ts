export * from './secrets.js';
export * from './envelope.js';
export * from './tenant-key.js';
export * from './transport.js';
