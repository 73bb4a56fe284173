import { Foundation1763900000000 } from './1763900000000-foundation.js';
import { Directory1763900001000 } from './1763900001000-directory.js';

/** Every migration, in order. Explicit imports: ESM builds have no glob loading. */
export const migrations = [Foundation1763900000000, Directory1763900001000];
