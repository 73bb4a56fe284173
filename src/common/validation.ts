import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { badRequest, type FieldError } from './problem.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
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

/** Validates DTOs; every bad field is listed in the problem's `errors`. Unknown fields are refused. */
export function createValidationPipe() {
  return new ValidationPipe({
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
