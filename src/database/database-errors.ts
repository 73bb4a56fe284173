import { HttpStatus } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ProblemException } from '../common/problem.js';

/**
 * Unique-constraint names map to the API field they protect. Constraint names are part of the
 * migrations, so a new unique index adds its line here.
 */
const UNIQUE_FIELDS: Record<string, string> = {
  tenants_pkey: 'tenant_id',
  api_keys_key_hash_key: 'api_key',
};

export function registerUniqueField(constraint: string, field: string) {
  UNIQUE_FIELDS[constraint] = field;
}

/** Database constraint errors in one place: unique → 409, FK → 409/404, bad text → 400. */
export function problemFromDatabaseError(error: QueryFailedError): ProblemException | undefined {
  const driverError = error.driverError as { code?: string; constraint?: string } | undefined;
  const code = driverError?.code;
  const constraint = driverError?.constraint;
  if (code === '23505') {
    const field = (constraint && UNIQUE_FIELDS[constraint]) ?? 'id';
    return new ProblemException(
      HttpStatus.CONFLICT,
      'conflict',
      'Conflict',
      `${field} is already in use`,
      [{ field, message: 'already in use' }],
    );
  }
  if (code === '23503') {
    return new ProblemException(
      HttpStatus.CONFLICT,
      'conflict',
      'Conflict',
      'A referenced resource does not exist or is still referenced',
    );
  }
  if (code === '22P02' || code === '22001' || code === '22021') {
    return new ProblemException(
      HttpStatus.BAD_REQUEST,
      'bad-request',
      'Bad request',
      'A value has an invalid format',
    );
  }
  return undefined;
}
