/** Ticket lifecycle (SPEC.md). Stored as varchar; the set is checked in code. */
export enum TicketStatus {
  Received = 'received',
  Processing = 'processing',
  Answered = 'answered',
  AwaitingCustomer = 'awaiting_customer',
  Escalated = 'escalated',
  Ignored = 'ignored',
  Resolved = 'resolved',
  Closed = 'closed',
}

/** The three decisions of the AI (SPEC.md), in the seed's spelling. */
export enum Decision {
  FullAnswer = 'full_answer',
  NeedMoreInfo = 'need_more_info',
  EscalateToHuman = 'escalate_to_human',
}

/** Statuses a ticket waits in before the TicketOrchestrator has decided. */
export const UNDECIDED_STATUSES: readonly TicketStatus[] = [TicketStatus.Received, TicketStatus.Processing];

/** Statuses an operator sets through the API; every other status is the service's own doing. */
export const OPERATOR_STATUSES = [TicketStatus.Resolved, TicketStatus.Closed] as const;
export type OperatorStatus = (typeof OPERATOR_STATUSES)[number];
