import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode, type ErrorBody, type FieldError } from '../errors.js';

export class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'from', description: 'Dotted path of the offending field; `body` for the whole body' })
  field: string;

  @ApiProperty({ example: 'must contain a valid e-mail address' })
  message: string;
}

/** The shape of every error answer (Swagger). */
export class ErrorBodyDto implements ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.ValidationFailed })
  code: ErrorCode;

  @ApiProperty({ example: 'from: must contain a valid e-mail address' })
  message: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ example: '5b0c3a5e-1f7e-4c55-9a61-0f1f9f7d2a10' })
  requestId?: string;
}
