import { ValidateBy, type ValidationOptions } from 'class-validator';
import { parseEmailAddress } from './email-address.js';

/** `Name <addr@example.com>` or `addr@example.com`, with a valid address. */
export function IsMailbox(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isMailbox',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseEmailAddress(value) !== null,
        defaultMessage: () => 'must contain a valid e-mail address ("Name <addr@example.com>" or "addr@example.com")',
      },
    },
    options,
  );
}
