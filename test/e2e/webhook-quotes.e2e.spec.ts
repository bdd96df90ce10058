import { testDatabases } from '../support/databases.js';
import { customerEmail, decided, postEmail, postRawEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { crlf, quotedPrintable } from '../support/ingestion-mime.js';
import { promptText, stackForSuite } from '../support/stack.js';

interface Reply {
  /** What the customer newly wrote: must reach GigaChat. */
  fresh: string[];
  /** Quoted history, attribution lines, signatures: must not. */
  history: string[];
  text?: string;
  html?: string;
}

/**
 * Replies as real mail clients write them: the analysis reads only what the customer newly wrote,
 * while the stored message keeps the e-mail exactly as it came.
 */
const replies: Record<string, Reply> = {
  'Gmail (English interface)': {
    text: `Thanks, but the return label link gives a 404 error. Could you send it again?

Ivan

On Tue, 25 Nov 2025 at 10:15, Северный Ветер <support@severveter.example> wrote:

> Hello Ivan!
> To return the sneakers, open "My orders" and press "Return". HIST-GMAIL-EN
>
> Support team
`,
    fresh: ['the return label link gives a 404 error. Could you send it again?'],
    history: ['HIST-GMAIL-EN', 'wrote:', 'open "My orders"'],
  },
  'Gmail (English, attribution wrapped over two lines)': {
    text: `The parcel arrived damaged, the box is torn.

On Tue, 25 Nov 2025 at 10:15, Северный Ветер Служба Поддержки Магазина <
support@severveter.example> wrote:

> Your order 55120 has been shipped. HIST-GMAIL-WRAP
`,
    fresh: ['The parcel arrived damaged, the box is torn.'],
    history: ['HIST-GMAIL-WRAP', 'support@severveter.example> wrote:'],
  },
  'Gmail (Russian interface)': {
    text: `Спасибо, но ссылка на ярлык возврата не открывается — пишет «Страница не найдена».

вт, 25 нояб. 2025 г. в 10:15, Северный Ветер <support@severveter.example>:

> Здравствуйте, Иван!
> Чтобы вернуть кроссовки, откройте «Мои заказы». ИСТОРИЯ-GMAIL-RU
>
> Служба поддержки
`,
    fresh: ['ссылка на ярлык возврата не открывается'],
    history: ['ИСТОРИЯ-GMAIL-RU', 'Чтобы вернуть кроссовки', 'вт, 25 нояб. 2025 г. в 10:15'],
  },
  'Outlook desktop (From/Sent/To/Subject block)': {
    text: `Hi, the courier did not come today either. Please help.

Best regards,
John Smith

From: Severny Veter Support <support@severveter.example>
Sent: Tuesday, November 25, 2025 10:15 AM
To: John Smith <john.smith@example.com>
Subject: RE: Delivery of order 12345 [#42]

Hello John,
Your order 12345 will be delivered tomorrow between 10:00 and 14:00. HIST-OUTLOOK-EN

Support team
`,
    fresh: ['the courier did not come today either. Please help.'],
    history: ['HIST-OUTLOOK-EN', 'Sent: Tuesday', 'will be delivered tomorrow'],
  },
  'Outlook on the web (rule line, then the header block)': {
    text: `Could you change the delivery address to Lenina 5?

________________________________
From: Severny Veter Support <support@severveter.example>
Sent: Tuesday, November 25, 2025 10:15
To: John Smith <john.smith@example.com>
Subject: Re: Order 777

Your order 777 is being packed. HIST-OWA
`,
    fresh: ['Could you change the delivery address to Lenina 5?'],
    history: ['HIST-OWA', 'is being packed', '________________________________'],
  },
  'Outlook (Russian interface, Исходное сообщение)': {
    text: `Курьер так и не приехал, второй день жду дома.

-----Исходное сообщение-----
От: Северный Ветер <support@severveter.example>
Отправлено: 25 ноября 2025 г. 10:15
Кому: Иван Петров <ivan.petrov@example.ru>
Тема: RE: Доставка заказа 12345

Здравствуйте! Курьер приедет завтра с 10 до 14. ИСТОРИЯ-OUTLOOK-RU
`,
    fresh: ['Курьер так и не приехал, второй день жду дома.'],
    history: ['ИСТОРИЯ-OUTLOOK-RU', 'Исходное сообщение', 'Курьер приедет завтра'],
  },
  'Mail.ru': {
    text: `Добрый день! Номер заказа 56789, оплачивал картой «Мир».


Вторник, 25 ноября 2025, 10:15 +03:00 от Северный Ветер <support@severveter.example>:
 
>Здравствуйте! Подскажите номер заказа и способ оплаты. ИСТОРИЯ-MAILRU
> 
>--
>Служба поддержки
 
 
--
Иван Петров
Отправлено из мобильной Почты Mail.ru
`,
    fresh: ['Номер заказа 56789, оплачивал картой «Мир».'],
    history: ['ИСТОРИЯ-MAILRU', 'Подскажите номер заказа', 'Отправлено из мобильной Почты'],
  },
  'Yandex Mail': {
    text: `Здравствуйте! Трек-номер RA123456789RU, посылка стоит в Казани уже неделю.

25.11.2025, 10:15, "Северный Ветер" <support@severveter.example>:
> Здравствуйте! Пришлите, пожалуйста, трек-номер отправления. ИСТОРИЯ-YANDEX
>
> -- 
> Служба поддержки

Отправлено из мобильной Яндекс.Почты
`,
    fresh: ['Трек-номер RA123456789RU, посылка стоит в Казани уже неделю.'],
    history: ['ИСТОРИЯ-YANDEX', 'Пришлите, пожалуйста, трек-номер', 'Яндекс.Почты'],
  },
  'Apple Mail (Russian) with the iPhone footer': {
    text: `Размер 42 подойдёт, меняйте.

Отправлено с iPhone

> 25 нояб. 2025 г., в 10:15, Северный Ветер <support@severveter.example> написал(а):
>
> Здравствуйте! Какой размер прислать на замену? ИСТОРИЯ-APPLE
`,
    fresh: ['Размер 42 подойдёт, меняйте.'],
    history: ['ИСТОРИЯ-APPLE', 'Какой размер прислать', 'Отправлено с iPhone'],
  },
  'Gmail, HTML only (div.gmail_quote)': {
    html: `<div dir="ltr">Здравствуйте!<div>Промокод ОСЕНЬ25 не применяется к заказу 8080.</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">вт, 25 нояб. 2025 г. в 10:15, Северный Ветер &lt;<a href="mailto:support@severveter.example">support@severveter.example</a>&gt;:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Здравствуйте! Промокод действует до конца месяца. ИСТОРИЯ-GMAIL-HTML</blockquote></div>`,
    fresh: ['Промокод ОСЕНЬ25 не применяется к заказу 8080.'],
    history: ['ИСТОРИЯ-GMAIL-HTML', 'Промокод действует до конца месяца'],
  },
  'Outlook on the web, HTML only (divRplyFwdMsg)': {
    html: `<html><body><div style="font-family:Calibri">Please cancel order 3131, I found it cheaper.</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri" style="font-size:11pt"><b>From:</b> Severny Veter Support &lt;support@severveter.example&gt;<br><b>Sent:</b> Tuesday, November 25, 2025 10:15<br><b>To:</b> John Smith<br><b>Subject:</b> Re: Order 3131</font><div>&nbsp;</div></div><div>Your order 3131 has been confirmed. HIST-OWA-HTML</div></body></html>`,
    fresh: ['Please cancel order 3131, I found it cheaper.'],
    history: ['HIST-OWA-HTML', 'has been confirmed', 'Sent:'],
  },
};

describe.each(testDatabases())('quote stripping before analysis on %s', (kind) => {
  const stack = stackForSuite(kind, { gigachat: { scope: 'GIGACHAT_API_B2B' } });

  /** The conversation part of the prompt GigaChat received for this ticket. */
  function conversationFor(ticket: TicketDetail): string {
    const body = stack.gigachat!.chatBodies.find((b) => promptText(b).includes(`Обращение #${ticket.number}.`));
    if (!body) throw new Error(`no chat call for ticket #${ticket.number}`);
    return promptText(body).split('<<<ПЕРЕПИСКА').at(-1)!.split('ПЕРЕПИСКА>>>')[0];
  }

  function expectOnlyFresh(conversation: string, reply: Reply): void {
    for (const fresh of reply.fresh) expect(conversation).toContain(fresh);
    for (const old of reply.history) expect(conversation, `the prompt still holds "${old}"`).not.toContain(old);
  }

  it.each(Object.entries(replies))('%s: GigaChat reads only the new text; the stored message is untouched', async (_client, reply) => {
    const email = customerEmail({ subject: 'Re: Ваш заказ', text: reply.text, html: reply.html });
    if (reply.text === undefined) delete email.text;
    const res = await postEmail(stack.t, email).expect(202);
    const ticket = await waitForTicket(stack.t, res.body.ticketId, decided);
    expectOnlyFresh(conversationFor(ticket), reply);
    expect(ticket.messages[0].text).toBe(reply.text ?? null);
    expect(ticket.messages[0].html).toBe(reply.html ?? null);
  });

  it.each(Object.entries(replies).filter(([, reply]) => reply.text === undefined))('%s, as a raw HTML-only message: GigaChat reads only the new text', async (_client, reply) => {
    const raw =
      crlf(`From: John Smith <john.smith@example.com>
To: support@severveter.example
Subject: Re: Order
Message-ID: <html-only-${Date.now()}-${Math.random().toString(36).slice(2)}@mail.example.com>
MIME-Version: 1.0
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

`) + quotedPrintable(reply.html!) + '\r\n';
    const res = await postRawEmail(stack.t, raw).expect(202);
    const ticket = await waitForTicket(stack.t, res.body.ticketId, decided);
    expectOnlyFresh(conversationFor(ticket), reply);
    expect(ticket.messages[0].html?.trim()).toBe(reply.html);
  });

  it('a raw MIME Gmail reply (quoted-printable text and HTML parts) is stripped the same way', async () => {
    const reply = replies['Gmail (Russian interface)'];
    const html = `<div dir="ltr">Спасибо, но ссылка на ярлык возврата не открывается — пишет «Страница не найдена».</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">вт, 25 нояб. 2025 г. в 10:15, Северный Ветер &lt;support@severveter.example&gt;:<br></div><blockquote class="gmail_quote">Здравствуйте, Иван!<br>Чтобы вернуть кроссовки, откройте «Мои заказы». ИСТОРИЯ-GMAIL-RU</blockquote></div>`;
    const raw =
      crlf(`From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan.petrov@example.ru>
To: support@severveter.example
Subject: Re: =?UTF-8?B?0JLQvtC30LLRgNCw0YIg0LrRgNC+0YHRgdC+0LLQvtC6?=
Date: Wed, 26 Nov 2025 09:00:00 +0300
Message-ID: <CAF3x9=quoted-${Date.now()}@mail.gmail.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="0000000000004a1b2c"

--0000000000004a1b2c
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

`) +
      quotedPrintable(reply.text!) +
      crlf(`
--0000000000004a1b2c
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

`) +
      quotedPrintable(html) +
      crlf(`
--0000000000004a1b2c--
`);
    const res = await postRawEmail(stack.t, raw).expect(202);
    const ticket = await waitForTicket(stack.t, res.body.ticketId, decided);
    expect(ticket.subject).toBe('Re: Возврат кроссовок');
    expectOnlyFresh(conversationFor(ticket), reply);
    expect(ticket.messages[0].text?.replace(/\r\n/g, '\n').trimEnd()).toBe(reply.text!.trimEnd());
    expect(ticket.messages[0].html?.trim()).toBe(html);
  });
});
