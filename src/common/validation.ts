import { type ArgumentMetadata, type ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidatorOptions } from 'class-validator';
import { AppError, type FieldError } from './errors.js';

const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  // One message per field: "from: must be a string" says it all; three rules failing says less.
  // It also stops at an over-long array before validating each of its items. Rules run in the
  // reverse of the order they are written (decorators apply bottom-up), so DTOs write the type
  // check last: it runs, and fails, first.
  stopAtFirstError: true,
};

/** class-validator's tree of errors as a flat list of `field: message`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const flat: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      flat.push({ field: field || 'body', message: message.replace(/^property (\S+) should not exist$/, 'is not a known field') });
    }
    if (error.children?.length) for (const child of flattenValidationErrors(error.children, field)) flat.push(child);
  }
  return flat;
}

/**
 * The global pipe: unknown fields are refused, values are converted to the DTO's types. A body
 * that is not a JSON object (an array, a bare string, none at all) is refused as a whole, as
 * validateDto does, instead of having its array items reported as unknown fields.
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && !isJsonObject(value)) throw AppError.field('body', 'must be a JSON object');
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => AppError.validation(flattenValidationErrors(errors)),
  });
}

function isJsonObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
  if (!isJsonObject(plain)) throw AppError.field('body', 'must be a JSON object');
  const instance = plainToInstance(type, plain);
  const errors = [...flattenValidationErrors(await validate(instance, VALIDATOR_OPTIONS)), ...crossFieldErrors(instance)];
  if (errors.length > 0) throw AppError.validation(errors);
  return instance;
}
