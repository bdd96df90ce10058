import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorBodyDto } from '../common/http/error-body.dto.js';
import { AdminAuthGuard } from '../common/http/admin-auth.guard.js';
import { AppError } from '../common/errors.js';
import { ChangeTicketStatusDto } from './dto/change-ticket-status.dto.js';
import { ListTicketsQuery } from './dto/list-tickets.query.js';
import { TicketDetailDto, TicketListDto } from './dto/ticket.dto.js';
import { TicketsService } from './tickets.service.js';

const ticketId = new ParseUUIDPipe({ exceptionFactory: () => AppError.field('id', 'must be a UUID') });

@ApiTags('tickets')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'ADMIN_API_KEY is set and the bearer token is missing or wrong', type: ErrorBodyDto })
@UseGuards(AdminAuthGuard)
@Controller('api/tickets')
export class TicketsController {
  constructor(private readonly tickets: TicketsService) {}

  @Get()
  @ApiOperation({ summary: 'List tickets, newest first', description: 'Filter by status, decision and free text; paged.' })
  @ApiOkResponse({ type: TicketListDto })
  @ApiBadRequestResponse({ description: 'A filter or paging value is invalid', type: ErrorBodyDto })
  list(@Query() query: ListTicketsQuery): Promise<TicketListDto> {
    return this.tickets.list(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One ticket with its messages, events and the knowledge-base articles used',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: TicketDetailDto })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No ticket has this id', type: ErrorBodyDto })
  detail(@Param('id', ticketId) id: string): Promise<TicketDetailDto> {
    return this.tickets.detail(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Mark a ticket resolved or closed',
    description:
      'For operators, once a ticket is handled. `resolved`: a reply from the customer in the thread reopens it for analysis. ' +
      '`closed`: final; a reply in the thread opens a new ticket that refers to this one. Repeating a change changes nothing. ' +
      'Answers the whole ticket; the change is an event in its audit trail.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: TicketDetailDto })
  @ApiBadRequestResponse({ description: 'The id is not a UUID, or the status or note is invalid', type: ErrorBodyDto })
  @ApiNotFoundResponse({ description: 'No ticket has this id', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'The ticket is still being analysed (received, processing), or it is closed', type: ErrorBodyDto })
  changeStatus(@Param('id', ticketId) id: string, @Body() change: ChangeTicketStatusDto): Promise<TicketDetailDto> {
    return this.tickets.changeStatus(id, change);
  }
}
