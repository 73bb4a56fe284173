/** What the suites boot and wait with: the real application on a test database, and waits. */
export * from './test-app.js';
export * from '../libs/testing/index.js';
