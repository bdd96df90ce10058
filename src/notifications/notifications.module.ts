import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { TicketsModule } from '../tickets/tickets.module.js';
import { ChatSender } from './chat-sender.js';
import { DispatchService } from './dispatch.service.js';
import { EmailSender } from './email-sender.js';
import { Escalations } from './escalations.js';
import { FileEmailSender } from './file-email.sender.js';
import { OutboxWorker } from './outbox.worker.js';
import { SmtpEmailSender } from './smtp-email.sender.js';
import { TelegramChatSender } from './telegram-chat.sender.js';

@Module({
  imports: [TicketsModule],
  providers: [
    {
      provide: EmailSender,
      inject: [AppConfig],
      // SMTP when configured; otherwise .eml files a newcomer can open.
      useFactory: (config: AppConfig): EmailSender =>
        config.mail.smtpUrl ? new SmtpEmailSender(config.mail) : new FileEmailSender(config.mail),
    },
    {
      provide: ChatSender,
      inject: [AppConfig],
      useFactory: (config: AppConfig): ChatSender => new TelegramChatSender(config.telegram),
    },
    Escalations,
    OutboxWorker,
    DispatchService,
  ],
  exports: [DispatchService, Escalations, OutboxWorker],
})
export class NotificationsModule {}
