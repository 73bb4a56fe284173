export * from './secrets.js';
export * from './envelope.js';
