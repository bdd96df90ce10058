import type { MailConfig } from '../../src/config/app-config.js';
import { EmailDeliveryError } from '../../src/notifications/email-sender.js';
import { SmtpEmailSender } from '../../src/notifications/smtp-email.sender.js';
import { DroppingSmtpServer } from '../support/dispatch-smtp-dropper.js';

/**
 * SmtpEmailSender's bound on a whole send: a server that answers every command just inside the
 * inactivity timeout would otherwise keep a send going past the outbox's lease on the attempt,
 * where the attempt looks abandoned while it is still running.
 */
function mailConfig(smtpUrl: string, timeoutMs: number): MailConfig {
  return {
    smtpUrl,
    from: 'Северный Ветер <support@severveter.example>',
    fromAddress: 'support@severveter.example',
    fromName: 'Северный Ветер',
    fromDomain: 'severveter.example',
    outboxDir: '/nonexistent',
    maxAttempts: 3,
    retryBaseMs: 10,
    timeoutMs,
  };
}

const email = {
  messageId: 'ais-deadline@severveter.example',
  from: 'Северный Ветер <support@severveter.example>',
  to: ['ivan@example.ru'],
  subject: 'Re: Возврат',
  text: 'Здравствуйте! Служба поддержки',
  inReplyTo: null,
  references: [],
  headers: {},
};

async function failureOf(promise: Promise<unknown>): Promise<EmailDeliveryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EmailDeliveryError);
    return error as EmailDeliveryError;
  }
  throw new Error('expected the send to fail');
}

describe('SmtpEmailSender: the whole dialogue is bounded by maxSendMs', () => {
  it('is twice the per-step timeout, and the outbox lease is based on it', () => {
    expect(new SmtpEmailSender(mailConfig('smtp://127.0.0.1:25', 30_000)).maxSendMs).toBe(60_000);
  });

  it('a tarpit answering each command just inside the step timeout fails the send at the deadline, as temporary (nothing handed over)', async () => {
    // 300 ms per reply, under the 400 ms step timeout; greeting, EHLO, MAIL, RCPT, DATA take 1.5 s,
    // so without the deadline this send would succeed.
    const tarpit = await DroppingSmtpServer.start(0, 'after-data', { replyDelayMs: 300 });
    const sender = new SmtpEmailSender(mailConfig(tarpit.url, 400));
    try {
      const failure = await failureOf(sender.send(email));
      expect(failure.kind).toBe('temporary');
      expect(failure.message).toContain('longer than 800 ms');
      expect(tarpit.transmitted).toHaveLength(0);
    } finally {
      await sender.close();
      await tarpit.close();
    }
  });

  it('the same server, fast enough for the budget: delivered', async () => {
    const slow = await DroppingSmtpServer.start(0, 'after-data', { replyDelayMs: 20 });
    const sender = new SmtpEmailSender(mailConfig(slow.url, 400));
    try {
      await expect(sender.send(email)).resolves.toEqual({ response: expect.stringContaining('250') });
      expect(slow.transmitted).toHaveLength(1);
    } finally {
      await sender.close();
      await slow.close();
    }
  });
});
