import { Foundation1763900000000 } from './1763900000000-foundation.js';

/** Every migration, in order. Explicit imports: ESM builds have no glob loading. */
export const migrations = [Foundation1763900000000];
