import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Decision, TicketStatus } from '../ticket-status.js';

export const MAX_PAGE_SIZE = 100;
/** Far past any inbox, and small enough that the row offset stays an exact integer on both databases. */
export const MAX_PAGE = 1_000_000;

// Rules run bottom-up and only the first to fail is reported (common/validation.ts): each
// property writes its type check last, so a value of the wrong type is told so.
export class ListTicketsQuery {
  @ApiPropertyOptional({ enum: TicketStatus, enumName: 'TicketStatus', example: TicketStatus.Escalated })
  @IsOptional()
  @IsEnum(TicketStatus, { message: `must be one of ${Object.values(TicketStatus).join(', ')}` })
  status?: TicketStatus;

  @ApiPropertyOptional({ enum: Decision, enumName: 'Decision', example: Decision.FullAnswer })
  @IsOptional()
  @IsEnum(Decision, { message: `must be one of ${Object.values(Decision).join(', ')}` })
  decision?: Decision;

  @ApiPropertyOptional({
    description: 'Case-insensitive search in the subject, the customer address and the customer name',
    example: 'возврат',
    maxLength: 200,
  })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  q?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @Max(MAX_PAGE, { message: `must be a whole number from 1 to ${MAX_PAGE}` })
  @Min(1, { message: `must be a whole number from 1 to ${MAX_PAGE}` })
  @IsInt({ message: `must be a whole number from 1 to ${MAX_PAGE}` })
  page: number = 1;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: 20,
    example: 20,
    description: `Page size; values above ${MAX_PAGE_SIZE} are capped at ${MAX_PAGE_SIZE}`,
  })
  @IsOptional()
  @Type(() => Number)
  @Min(1, { message: 'must be a whole number ≥ 1' })
  @IsInt({ message: 'must be a whole number ≥ 1' })
  @Transform(({ value }) => (typeof value === 'number' && value > MAX_PAGE_SIZE ? MAX_PAGE_SIZE : value))
  limit: number = 20;
}
