import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { OPERATOR_STATUSES, type OperatorStatus } from '../ticket-status.js';

export const MAX_STATUS_NOTE_LENGTH = 2000;

// Rules run bottom-up and only the first to fail is reported (common/validation.ts).
export class ChangeTicketStatusDto {
  @ApiProperty({
    enum: OPERATOR_STATUSES,
    example: 'resolved',
    description:
      '`resolved`: handled; a reply from the customer in the thread reopens the ticket for analysis. ' +
      '`closed`: final; a reply in the thread opens a new ticket that refers to this one.',
  })
  @IsIn(OPERATOR_STATUSES, { message: `must be one of ${OPERATOR_STATUSES.join(', ')} (the other statuses are set by the service)` })
  status: OperatorStatus;

  @ApiPropertyOptional({ maxLength: MAX_STATUS_NOTE_LENGTH, example: 'Деньги вернули вручную, клиент подтвердил', description: 'Why; kept as the status reason and in the audit trail' })
  @IsOptional()
  @MaxLength(MAX_STATUS_NOTE_LENGTH)
  @IsString()
  note?: string;
}
