import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { TicketStatus } from '../../tickets/ticket-status.js';

export class WebhookQuery {
  @ApiPropertyOptional({
    description: 'Wait (up to 30 s) for the decision and answer 200 with the whole ticket',
    example: false,
    type: Boolean,
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  wait?: boolean;
}

export class WebhookAcceptedDto {
  @ApiProperty({ format: 'uuid', example: '3f1c9a52-6a8e-4a3b-9f0e-2d6c1b7e8a90' })
  ticketId: string;

  @ApiProperty({ example: 42 })
  ticketNumber: number;

  @ApiProperty({
    enum: TicketStatus,
    enumName: 'TicketStatus',
    example: TicketStatus.Received,
    description: '`received` (analysed in the background), `ignored` (automatic mail, never answered), or the status of the ticket a follow-up joined',
  })
  status: TicketStatus;

  @ApiProperty({ example: false })
  duplicate: false;

  @ApiProperty({ example: false, description: 'True when the e-mail joined an existing ticket' })
  followUp: boolean;

  @ApiPropertyOptional({ example: 'Auto-Submitted: auto-replied', description: 'Why the loop guard set the e-mail aside' })
  ignoredReason?: string;
}

export class WebhookDuplicateDto {
  @ApiProperty({ format: 'uuid' })
  ticketId: string;

  @ApiProperty({ example: true })
  duplicate: true;
}
