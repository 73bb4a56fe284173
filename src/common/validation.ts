import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ListQuery } from './pagination.js';
import { badRequest, type FieldError } from './problem.js';

/** class-validator's errors as the problem's `errors` list (`field`, `message`), nested paths dotted. */
export function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = parent
      ? /^\d+$/.test(e.property)
        ? `${parent}[${e.property}]`
        : `${parent}.${e.property}`
      : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({
        field,
        message: message.replace(/^property (\S+) should not exist$/, 'is not a known field'),
      });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** After validation, folds a list's seed-style paging (`page`, `page_size`, `skip`) into limit/offset. */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const out: unknown = await super.transform(value, metadata);
    return out instanceof ListQuery ? out.normalize() : out;
  }
}

/** Validates DTOs; every bad field is listed in the problem's `errors`. Unknown fields are refused. */
export function createValidationPipe() {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return badRequest(
        `${list.length} field${list.length === 1 ? '' : 's'} failed validation`,
        list,
      );
    },
  });
}
