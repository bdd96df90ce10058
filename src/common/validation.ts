import { type ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidatorOptions } from 'class-validator';
import { AppError, type FieldError } from './errors.js';

const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
};

/** class-validator's tree of errors as a flat list of `field: message`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const flat: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    // One message per field: "from: must be a string" says it all; three rules failing says less.
    // The rules run in the reverse of the order they are written (decorators apply bottom-up), so
    // the last one that failed is the first written: the type before the length, for instance.
    const message = Object.values(error.constraints ?? {}).at(-1);
    if (message) flat.push({ field: field || 'body', message: message.replace(/^property (\S+) should not exist$/, 'is not a known field') });
    if (error.children?.length) flat.push(...flattenValidationErrors(error.children, field));
  }
  return flat;
}

/** The global pipe: unknown fields are refused, values are converted to the DTO's types. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => AppError.validation(flattenValidationErrors(errors)),
  });
}

/**
 * Validates a plain object against a DTO class with the same rules as the global pipe, for bodies
 * the pipe cannot see (the webhook takes JSON and raw MIME on one route).
 */
export async function validateDto<T extends object>(
  type: new () => T,
  plain: unknown,
  crossFieldErrors: (instance: T) => FieldError[] = () => [],
): Promise<T> {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw AppError.field('body', 'must be a JSON object');
  }
  const instance = plainToInstance(type, plain);
  const errors = [...flattenValidationErrors(await validate(instance, VALIDATOR_OPTIONS)), ...crossFieldErrors(instance)];
  if (errors.length > 0) throw AppError.validation(errors);
  return instance;
}
