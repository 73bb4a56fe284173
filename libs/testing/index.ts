export * from './test-app.js';
export * from './wait.js';
