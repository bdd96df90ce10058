import nodemailer from 'nodemailer';
import { SmtpPeer } from './smtp.peer.js';

interface SmtpSendError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

describe('SmtpPeer', () => {
  let peer: SmtpPeer;

  const transport = (auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: peer.port,
      secure: false,
      ignoreTLS: true,
      ...(auth ? { auth } : {}),
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 10_000,
    });

  const sendError = async (promise: Promise<unknown>): Promise<SmtpSendError> => {
    try {
      await promise;
    } catch (err) {
      return err as SmtpSendError;
    }
    throw new Error('expected the send to fail');
  };

  describe('without authentication', () => {
    beforeAll(async () => {
      peer = await SmtpPeer.start();
    });
    afterEach(() => peer.reset());
    afterAll(async () => {
      await peer.close();
    });

    it('exposes a loopback URL without credentials', () => {
      expect(peer.url).toBe(`smtp://127.0.0.1:${peer.port}`);
    });

    it('receives a plain message with threading and auto-reply headers', async () => {
      const info = await transport().sendMail({
        from: 'Support <support@help.example.com>',
        to: 'customer@example.org',
        subject: 'Re: Order 1001',
        text: 'Hello,\nyour order has shipped.',
        messageId: '<reply-1.abc123@help.example.com>',
        inReplyTo: '<parent-2@example.org>',
        references: ['<root-1@example.org>', '<parent-2@example.org>'],
        headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
      });
      expect(info.response).toMatch(/^250 OK: queued as [0-9A-F]+$/);
      expect(info.accepted).toEqual(['customer@example.org']);

      expect(peer.mails).toHaveLength(1);
      const mail = peer.mails[0]!;
      expect(mail.envelopeFrom).toBe('support@help.example.com');
      expect(mail.recipients).toEqual(['customer@example.org']);
      expect(mail.parsed.subject).toBe('Re: Order 1001');
      expect(mail.parsed.text?.trim()).toBe('Hello,\nyour order has shipped.');
      expect(mail.parsed.messageId).toBe('<reply-1.abc123@help.example.com>');
      expect(mail.parsed.inReplyTo).toBe('<parent-2@example.org>');
      expect(mail.parsed.references).toEqual(['<root-1@example.org>', '<parent-2@example.org>']);
      expect(mail.headers.get('message-id')).toBe('<reply-1.abc123@help.example.com>');
      expect(mail.headers.get('in-reply-to')).toBe('<parent-2@example.org>');
      expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
      expect(mail.headers.get('x-auto-response-suppress')).toBe('All');
      expect(mail.raw).toMatch(/^Auto-Submitted: auto-replied\r$/m);
      expect(mail.raw).toMatch(/^References: <root-1@example\.org> <parent-2@example\.org>\r$/m);
      expect(peer.attempts).toBe(1);
    });

    it('round-trips a UTF-8 Russian subject and body', async () => {
      const subject = 'Re: Не работает оплата картой [Ticket#123] — ёжик';
      const text = 'Здравствуйте! Мы проверили платёж.';
      await transport().sendMail({ from: 'support@help.example.com', to: 'клиент@example.org', subject, text });
      const [mail] = await peer.waitForMails(1);
      expect(mail!.parsed.subject).toBe(subject);
      expect(mail!.parsed.text?.trim()).toBe(text);
      // The header itself is MIME-encoded, not raw 8-bit
      expect(mail!.raw).toMatch(/^Subject: =\?UTF-8\?/im);
      expect(mail!.recipients).toEqual(['клиент@example.org']);
    });

    it('rejects with a scripted 451 at DATA, then accepts the retry', async () => {
      peer.failNext(1, 451, '4.3.0 Try again later');
      const mail = { from: 'support@help.example.com', to: 'customer@example.org', subject: 's', text: 't' };
      const err = await sendError(transport().sendMail(mail));
      expect(err.responseCode).toBe(451);
      expect(err.response).toContain('4.3.0 Try again later');
      expect(peer.mails).toHaveLength(0);
      expect(peer.attempts).toBe(1);

      await transport().sendMail(mail);
      expect(peer.mails).toHaveLength(1);
      expect(peer.attempts).toBe(2);
    });

    it('rejects a recipient with a scripted 550 at RCPT', async () => {
      peer.failNext(1, 550, '5.1.1 Mailbox unavailable', 'rcpt');
      const err = await sendError(
        transport().sendMail({ from: 'support@help.example.com', to: 'gone@example.org', subject: 's', text: 't' }),
      );
      expect(err.responseCode).toBe(550);
      expect(err.code).toBe('EENVELOPE');
      expect(peer.mails).toHaveLength(0);
      expect(peer.attempts).toBe(1);

      await transport().sendMail({ from: 'support@help.example.com', to: 'back@example.org', subject: 's', text: 't' });
      expect(peer.mails).toHaveLength(1);
    });

    it('rejects at MAIL FROM when scripted', async () => {
      peer.failNext(1, 421, '4.7.0 Too many connections', 'mail');
      const err = await sendError(
        transport().sendMail({ from: 'support@help.example.com', to: 'a@example.org', subject: 's', text: 't' }),
      );
      expect(err.responseCode).toBe(421);
      expect(peer.attempts).toBe(1);
    });

    it('keeps only accepted recipients when one of several is rejected', async () => {
      peer.failNext(1, 550, '5.1.1 No such user', 'rcpt');
      const info = await transport().sendMail({
        from: 'support@help.example.com',
        to: ['first@example.org', 'second@example.org'],
        subject: 's',
        text: 't',
      });
      expect(info.rejected).toEqual(['first@example.org']);
      expect(peer.mails[0]!.recipients).toEqual(['second@example.org']);
      expect(peer.attempts).toBe(1);
    });

    it('delays the DATA answer', async () => {
      peer.setDelay(300);
      const started = Date.now();
      await transport().sendMail({ from: 'a@example.com', to: 'b@example.org', subject: 's', text: 't' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    });

    it('waitForMails resolves when mail arrives and rejects on timeout', async () => {
      const waiting = peer.waitForMails(2, 5000);
      const t = transport();
      await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: '1', text: 't' });
      await t.sendMail({ from: 'a@example.com', to: 'b@example.org', subject: '2', text: 't' });
      const mails = await waiting;
      expect(mails.map((m) => m.parsed.subject)).toEqual(['1', '2']);
      await expect(peer.waitForMails(3, 100)).rejects.toThrow(/expected at least 3 mail/);
    });
  });

  describe('with authentication', () => {
    beforeAll(async () => {
      peer = await SmtpPeer.start({ user: 'helpdesk@example.com', password: 's3cret:pass' });
    });
    afterEach(() => peer.reset());
    afterAll(async () => {
      await peer.close();
    });

    it('puts the credentials into the URL', () => {
      expect(peer.url).toBe(`smtp://helpdesk%40example.com:s3cret%3Apass@127.0.0.1:${peer.port}`);
    });

    it('accepts the right credentials (PLAIN and LOGIN)', async () => {
      const auth = { user: 'helpdesk@example.com', pass: 's3cret:pass' };
      await transport(auth).sendMail({ from: 'helpdesk@example.com', to: 'c@example.org', subject: 'a', text: 't' });
      const login = nodemailer.createTransport({
        host: '127.0.0.1',
        port: peer.port,
        secure: false,
        ignoreTLS: true,
        auth: { ...auth, method: 'LOGIN' },
      });
      await login.sendMail({ from: 'helpdesk@example.com', to: 'c@example.org', subject: 'b', text: 't' });
      expect(peer.mails).toHaveLength(2);
    });

    it('works with the peer URL as a connection string', async () => {
      await nodemailer
        .createTransport(`${peer.url}?ignoreTLS=true`)
        .sendMail({ from: 'helpdesk@example.com', to: 'c@example.org', subject: 'url', text: 't' });
      expect(peer.mails[0]!.parsed.subject).toBe('url');
    });

    it('rejects a wrong password', async () => {
      const err = await sendError(
        transport({ user: 'helpdesk@example.com', pass: 'nope' }).sendMail({
          from: 'helpdesk@example.com',
          to: 'c@example.org',
          subject: 'a',
          text: 't',
        }),
      );
      expect(err.code).toBe('EAUTH');
      expect(err.responseCode).toBe(535);
      expect(peer.mails).toHaveLength(0);
    });

    it('requires authentication', async () => {
      const err = await sendError(
        transport().sendMail({ from: 'helpdesk@example.com', to: 'c@example.org', subject: 'a', text: 't' }),
      );
      expect(err.responseCode).toBe(530);
      expect(peer.mails).toHaveLength(0);
    });
  });
});
