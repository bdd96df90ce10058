import request from 'supertest';
import { testDatabases } from '../support/databases.js';
import { customerEmail, decided, type EmailJson, getTicket, postEmail, postRawEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { bare, storedInbound } from '../support/ingestion-helpers.js';
import { base64Lines, crlf, encodedWordB, encodedWordQ, encodeSingleByte, quotedPrintable } from '../support/ingestion-mime.js';
import { promptText, stackForSuite } from '../support/stack.js';

/** SPEC.md "Webhook": the JSON body in all its forms, and raw RFC 822 parsed into the same fields. */
describe.each(testDatabases())('webhook formats on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });
  let seq = 0;
  const uniqueId = (label: string) => `<${label}-${process.pid}-${Date.now()}-${++seq}@Mail.Example.RU>`;

  /** The user message the service sent to GigaChat for this ticket (the conversation). */
  function promptFor(ticket: TicketDetail): string {
    const body = stack.gigachat!.chatBodies.find((b) => promptText(b).includes(`Обращение #${ticket.number}.`));
    if (!body) throw new Error(`no chat call for ticket #${ticket.number}`);
    return promptText(body);
  }

  describe('JSON', () => {
    it('takes every field of the contract and stores it: addresses, Message-IDs normalised, headers, date, attachment metadata', async () => {
      const email: EmailJson = {
        from: 'Иван Петров <Ivan.Petrov@Example.RU>',
        to: ['Поддержка <support@severveter.example>', 'sales@severveter.example'],
        cc: 'boss@example.ru',
        replyTo: 'Иван (дом) <ivan.home@example.ru>',
        subject: 'Заказ 12345: вопрос по доставке',
        text: 'Здравствуйте! Когда привезут заказ 12345?',
        html: '<p>Здравствуйте! Когда привезут <b>заказ 12345</b>?</p>',
        messageId: uniqueId('Full'),
        inReplyTo: '<Earlier-1@Mail.Example.RU>',
        references: ['<Root-1@Mail.Example.RU>', '  <Earlier-1@Mail.Example.RU> '],
        headers: { 'Auto-Submitted': 'no', 'X-Mailer': 'Thunderbird 128.3' },
        receivedAt: '2025-11-25T09:15:00Z',
        attachments: [
          { filename: 'чек.pdf', contentType: 'application/pdf', size: 48213 },
          { filename: 'фото.jpg', contentType: 'image/jpeg', size: 0 },
        ],
      };
      const res = await postEmail(stack.t, email).expect(202);
      expect(res.body).toEqual({ ticketId: expect.any(String), ticketNumber: expect.any(Number), status: 'received', duplicate: false, followUp: false });

      const ticket = await getTicket(stack.t, res.body.ticketId);
      expect(ticket).toMatchObject({ number: res.body.ticketNumber, customerEmail: 'Ivan.Petrov@example.ru', customerName: 'Иван Петров', subject: 'Заказ 12345: вопрос по доставке' });
      expect(ticket.messages).toHaveLength(1);
      const message = ticket.messages[0] as TicketDetail['messages'][number] & { cc: string[]; replyTo: string | null; fromName: string | null; receivedAt: string };
      expect(message).toMatchObject({
        direction: 'inbound',
        channel: 'email',
        messageId: bare(email.messageId!),
        // Stored as written (only brackets and spaces removed): replies repeat them verbatim.
        inReplyTo: 'Earlier-1@Mail.Example.RU',
        references: ['Root-1@Mail.Example.RU', 'Earlier-1@Mail.Example.RU'],
        from: 'Ivan.Petrov@example.ru',
        fromName: 'Иван Петров',
        to: ['Поддержка <support@severveter.example>', 'sales@severveter.example'],
        cc: ['boss@example.ru'],
        replyTo: 'ivan.home@example.ru',
        subject: email.subject,
        text: email.text,
        html: email.html,
        deliveryStatus: 'received',
      });
      expect(new Date(message.receivedAt).toISOString()).toBe('2025-11-25T09:15:00.000Z');

      const stored = await storedInbound(stack.t, bare(email.messageId!));
      expect(stored?.headers).toMatchObject({ 'auto-submitted': 'no', 'x-mailer': 'Thunderbird 128.3' });
      expect(stored?.attachments).toEqual(email.attachments);
      await waitForTicket(stack.t, ticket.id, decided);
    });

    it('takes the minimum: a bare address and a text', async () => {
      const res = await postEmail(stack.t, { from: 'olga@example.org', text: 'Где мой заказ?' }).expect(202);
      const ticket = await getTicket(stack.t, res.body.ticketId);
      expect(ticket).toMatchObject({ customerEmail: 'olga@example.org', customerName: null, subject: '' });
      expect(ticket.messages[0]).toMatchObject({ text: 'Где мой заказ?', html: null, to: [], references: [], inReplyTo: null });
      const done = await waitForTicket(stack.t, ticket.id, decided);
      expect(promptFor(done)).toContain('Где мой заказ?');
    });

    it('reads every form of `from`: bare, bracketed, with a name, with a quoted name holding a comma', async () => {
      const forms: Array<[string, string, string | null]> = [
        ['anna@example.org', 'anna@example.org', null],
        ['<anna@example.org>', 'anna@example.org', null],
        ['Анна Смирнова <anna@example.org>', 'anna@example.org', 'Анна Смирнова'],
        ['"Смирнова, Анна" <anna@Example.ORG>', 'anna@example.org', 'Смирнова, Анна'],
      ];
      for (const [from, address, name] of forms) {
        const res = await postEmail(stack.t, customerEmail({ from })).expect(202);
        const ticket = await getTicket(stack.t, res.body.ticketId);
        expect({ from, customerEmail: ticket.customerEmail, customerName: ticket.customerName }).toEqual({ from, customerEmail: address, customerName: name });
      }
    });

    it('an HTML-only e-mail is stored as sent and reduced to text for the analysis', async () => {
      const html =
        '<html><head><style>p{color:red}</style></head><body><div dir="ltr">Здравствуйте!<br>Не могу <b>оплатить</b> заказ&nbsp;12345 картой «Мир».<br><a href="https://shop.example/pay/12345">Ссылка на оплату</a></div></body></html>';
      const res = await postEmail(stack.t, customerEmail({ text: undefined, html, subject: 'Оплата не проходит' })).expect(202);
      const ticket = await waitForTicket(stack.t, res.body.ticketId, decided);
      expect(ticket.messages[0]).toMatchObject({ text: null, html });
      const prompt = promptFor(ticket);
      expect(prompt).toContain('Не могу оплатить заказ 12345 картой «Мир».');
      expect(prompt).toContain('Ссылка на оплату (https://shop.example/pay/12345)');
      expect(prompt).not.toMatch(/<b>|<div|color:red|&nbsp;/);
    });

    it('accepts application/json with a charset parameter', async () => {
      const email = customerEmail();
      const res = await request(stack.t.http).post('/api/webhook/email').set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(email)).expect(202);
      expect((await getTicket(stack.t, res.body.ticketId)).messages[0].text).toBe(email.text);
    });
  });

  describe('raw RFC 822 (message/rfc822)', () => {
    it('decodes encoded-word From (UTF-8 B) and Subject (KOI8-R Q): the ticket equals the one the JSON form makes', async () => {
      const name = 'Иван Петров';
      const subject = 'Возврат: кроссовки не подошли';
      const text = 'Здравствуйте!\n\nКроссовки из заказа 12345 не подошли по размеру. Как их вернуть?\n\nИван';
      const viaJson = await postEmail(stack.t, customerEmail({ from: `${name} <ivan.petrov@example.ru>`, subject, text })).expect(202);

      const messageId = uniqueId('Mime-Encoded');
      const raw =
        crlf(`Return-Path: <ivan.petrov@example.ru>
Received: from mx.example.ru (mx.example.ru [203.0.113.5]) by mx.severveter.example; Tue, 25 Nov 2025 09:15:02 +0300
From: ${encodedWordB(name)} <ivan.petrov@example.ru>
To: =?UTF-8?B?0J/QvtC00LTQtdGA0LbQutCw?= <support@severveter.example>
Subject: ${encodedWordQ('Возврат: кроссовки ', 'koi8-r')}
 ${encodedWordQ('не подошли', 'koi8-r')}
Date: Tue, 25 Nov 2025 09:15:00 +0300
Message-ID: ${messageId}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

`) + crlf(text) + '\r\n';
      const viaMime = await postRawEmail(stack.t, raw).expect(202);
      expect(viaMime.body).toMatchObject({ status: 'received', duplicate: false });

      const fromJson = await waitForTicket(stack.t, viaJson.body.ticketId, decided);
      const fromMime = await waitForTicket(stack.t, viaMime.body.ticketId, decided);
      const shape = (t: TicketDetail) => ({ customerEmail: t.customerEmail, customerName: t.customerName, subject: t.subject, text: t.messages[0].text?.trimEnd() });
      expect(shape(fromMime)).toEqual(shape(fromJson));
      expect(shape(fromMime)).toEqual({ customerEmail: 'ivan.petrov@example.ru', customerName: name, subject, text });
      expect(fromMime.messages[0].messageId).toBe(bare(messageId));
      expect(fromMime.messages[0].to).toEqual(['Поддержка <support@severveter.example>']);
      expect(new Date((fromMime.messages[0] as unknown as { receivedAt: string }).receivedAt).toISOString()).toBe('2025-11-25T06:15:00.000Z');

      // The analysis reads the same words whichever way the e-mail came.
      const conversation = (t: TicketDetail) => promptFor(t).split('<<<ПЕРЕПИСКА')[1].split('ПЕРЕПИСКА>>>')[0].replace(/\[1\][^\n]*\n/, '');
      expect(conversation(fromMime)).toBe(conversation(fromJson));
    });

    it('reads multipart/alternative with quoted-printable text and HTML parts', async () => {
      const text =
        'Добрый день!\n\nОплатил заказ 7788 по ссылке, скидка = 10% не применилась, хотя промокод ВЕСНА действует до конца месяца и написан на главной странице магазина.\n\nОльга';
      const html = '<div dir="ltr">Добрый день!<br><br>Оплатил заказ 7788 по ссылке, скидка = 10% не применилась.<br><br>Ольга</div>';
      const raw =
        crlf(`From: Ольга <olga@example.org>
To: support@severveter.example
Subject: =?UTF-8?Q?=D0=A1=D0=BA=D0=B8=D0=B4=D0=BA=D0=B0_=D0=BD=D0=B5_=D0=BF=D1=80=D0=B8=D0=BC=D0=B5=D0=BD=D0=B8=D0=BB=D0=B0=D1=81=D1=8C?=
Date: Wed, 26 Nov 2025 10:00:00 +0300
Message-ID: ${uniqueId('Mime-Alt')}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000b1e2f3a4"

--000000000000b1e2f3a4
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

`) +
        quotedPrintable(text) +
        crlf(`

--000000000000b1e2f3a4
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

`) +
        quotedPrintable(html) +
        crlf(`

--000000000000b1e2f3a4--
`);
      expect(raw).toMatch(/=\r\n/); // the long line really is soft-wrapped
      const res = await postRawEmail(stack.t, raw).expect(202);
      const ticket = await waitForTicket(stack.t, res.body.ticketId, decided);
      expect(ticket).toMatchObject({ customerName: 'Ольга', customerEmail: 'olga@example.org', subject: 'Скидка не применилась' });
      expect(ticket.messages[0].text?.trimEnd()).toBe(text);
      expect(ticket.messages[0].html?.trim()).toBe(html);
      expect(promptFor(ticket)).toContain('скидка = 10% не применилась, хотя промокод ВЕСНА действует до конца месяца');
    });

    it('keeps attachments as metadata only (filename, content type, size), as the JSON form does', async () => {
      const pdf = Buffer.alloc(1234, 0x25);
      const jpeg = Buffer.alloc(500, 0xff);
      const raw =
        crlf(`From: Иван Петров <ivan.petrov@example.ru>
To: support@severveter.example
Subject: Чек по заказу 12345
Date: Wed, 26 Nov 2025 11:00:00 +0300
Message-ID: ${uniqueId('Mime-Attach')}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-42"

--mixed-42
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Прикладываю чек и фото коробки.
--mixed-42
Content-Type: application/pdf; name="=?UTF-8?B?${Buffer.from('чек-12345.pdf').toString('base64')}?="
Content-Disposition: attachment; filename*=UTF-8''%D1%87%D0%B5%D0%BA-12345.pdf
Content-Transfer-Encoding: base64

`) +
        base64Lines(pdf) +
        crlf(`
--mixed-42
Content-Type: image/jpeg
Content-Disposition: attachment; filename="photo.jpg"
Content-Transfer-Encoding: base64

`) +
        base64Lines(jpeg) +
        crlf(`
--mixed-42--
`);
      const res = await postRawEmail(stack.t, raw).expect(202);
      const ticket = await getTicket(stack.t, res.body.ticketId);
      expect(ticket.messages[0].text?.trim()).toBe('Прикладываю чек и фото коробки.');
      const stored = await storedInbound(stack.t, ticket.messages[0].messageId!);
      const expected = [
        { filename: 'чек-12345.pdf', contentType: 'application/pdf', size: 1234 },
        { filename: 'photo.jpg', contentType: 'image/jpeg', size: 500 },
      ];
      expect(stored?.attachments).toEqual(expected);
      // The contents are not kept anywhere.
      expect(JSON.stringify(stored)).not.toContain(pdf.toString('base64').slice(0, 40));
      expect(JSON.stringify(stored)).not.toContain(jpeg.toString('base64').slice(0, 40));

      const viaJson = await postEmail(stack.t, customerEmail({ subject: 'Чек по заказу 12345', text: 'Прикладываю чек и фото коробки.', attachments: expected })).expect(202);
      const jsonTicket = await getTicket(stack.t, viaJson.body.ticketId);
      expect((await storedInbound(stack.t, jsonTicket.messages[0].messageId!))?.attachments).toEqual(stored?.attachments);
      await waitForTicket(stack.t, ticket.id, decided);
    });

    it('decodes a windows-1251 body and windows-1251 encoded words like the JSON form', async () => {
      const name = 'Ольга Сергеевна Ёлкина';
      const subject = 'Не пришёл трек-номер';
      const text = 'Здравствуйте!\r\nЗаказ 5566 оплачен ещё в понедельник, а трек-номер так и не пришёл. Подскажите, пожалуйста, где посылка?\r\nОльга';
      const head = crlf(`From: =?windows-1251?B?${encodeSingleByte(name, 'windows-1251').toString('base64')}?= <olga.yolkina@example.ru>
To: support@severveter.example
Subject: ${encodedWordQ(subject, 'windows-1251')}
Date: Wed, 26 Nov 2025 12:00:00 +0300
Message-ID: ${uniqueId('Mime-1251')}
MIME-Version: 1.0
Content-Type: text/plain; charset="windows-1251"
Content-Transfer-Encoding: 8bit

`);
      const raw = Buffer.concat([Buffer.from(head, 'ascii'), encodeSingleByte(text, 'windows-1251'), Buffer.from('\r\n')]);
      expect(raw.includes(Buffer.from('Здравствуйте', 'utf8'))).toBe(false); // really not UTF-8 on the wire
      const viaMime = await postRawEmail(stack.t, raw).expect(202);
      const viaJson = await postEmail(stack.t, customerEmail({ from: `${name} <olga.yolkina@example.ru>`, subject, text: text.replace(/\r\n/g, '\n') })).expect(202);

      const fromMime = await waitForTicket(stack.t, viaMime.body.ticketId, decided);
      const fromJson = await waitForTicket(stack.t, viaJson.body.ticketId, decided);
      const shape = (t: TicketDetail) => ({ customerName: t.customerName, subject: t.subject, text: t.messages[0].text?.replace(/\r\n/g, '\n').trimEnd() });
      expect(shape(fromMime)).toEqual(shape(fromJson));
      expect(shape(fromMime)).toEqual({ customerName: name, subject, text: text.replace(/\r\n/g, '\n') });
      expect(promptFor(fromMime)).toContain('а трек-номер так и не пришёл');
    });

    it('an HTML-only raw message is stored like the JSON form of the same e-mail: no text part, the HTML as sent', async () => {
      const html = '<div dir="ltr">Здравствуйте!<br>Не могу <b>оплатить</b> заказ&nbsp;4545 картой.</div>';
      const viaJson = await postEmail(stack.t, customerEmail({ subject: 'Оплата', text: undefined, html })).expect(202);
      const raw = crlf(`From: Иван Петров <ivan.petrov@example.ru>
To: support@severveter.example
Subject: Оплата
Message-ID: ${uniqueId('Mime-Html-Only')}
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

${html}
`);
      const viaMime = await postRawEmail(stack.t, raw).expect(202);
      const fromJson = await waitForTicket(stack.t, viaJson.body.ticketId, decided);
      const fromMime = await waitForTicket(stack.t, viaMime.body.ticketId, decided);
      const shape = (t: TicketDetail) => ({ customerName: t.customerName, subject: t.subject, text: t.messages[0].text, html: t.messages[0].html?.trim() });
      expect(shape(fromJson)).toEqual({ customerName: 'Иван Петров', subject: 'Оплата', text: null, html });
      expect(promptFor(fromJson)).toContain('Не могу оплатить заказ 4545 картой.');
      expect(shape(fromMime)).toEqual(shape(fromJson));
      expect(promptFor(fromMime)).toContain('Не могу оплатить заказ 4545 картой.');
    });

    it('reads Message-ID, In-Reply-To and References from the headers', async () => {
      const messageId = uniqueId('Mime-Ids');
      const raw = crlf(`From: anna@example.org
To: support@severveter.example
Subject: Ещё вопрос
Message-ID: ${messageId}
In-Reply-To: <Unknown-Parent-1@Mail.Example.ORG>
References: <Unknown-Root-1@Mail.Example.ORG>
 <Unknown-Parent-1@Mail.Example.ORG>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Is there a size chart for the sneakers?
`);
      const res = await postRawEmail(stack.t, raw).expect(202);
      const ticket = await getTicket(stack.t, res.body.ticketId);
      expect(ticket.messages[0]).toMatchObject({
        messageId: bare(messageId),
        inReplyTo: 'Unknown-Parent-1@Mail.Example.ORG',
        references: ['Unknown-Root-1@Mail.Example.ORG', 'Unknown-Parent-1@Mail.Example.ORG'],
        from: 'anna@example.org',
        subject: 'Ещё вопрос',
      });
      expect(ticket.customerName).toBeNull();
      await waitForTicket(stack.t, ticket.id, decided);
    });
  });
});
