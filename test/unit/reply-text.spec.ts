import { extractCleanText, htmlToPlainText, stripQuotedReply } from '../../src/webhook/reply-text.js';

/** The standard signature delimiter, written out so that editors cannot strip its trailing space. */
const SIG = '-- ';

describe('stripQuotedReply', () => {
  describe('attribution lines followed by a quoted block', () => {
    it('Gmail EN reply with the attribution wrapped onto two lines', () => {
      const body = `Hi,

The invoice #4821 still shows as unpaid although I paid it yesterday.
Could you check, please?

Thanks,
John

On Mon, Nov 3, 2025 at 10:15\u202fAM Support Team <support@example.com>
wrote:

> Hello John,
>
> Your invoice #4821 is ready: https://example.com/invoices/4821
>
> ${SIG}
> Support Team
`;
      const result = stripQuotedReply(body);
      expect(result).toBe(
        'Hi,\n\nThe invoice #4821 still shows as unpaid although I paid it yesterday.\nCould you check, please?\n\nThanks,\nJohn',
      );
      expect(result).not.toContain('wrote:');
      expect(result).not.toContain('Your invoice #4821 is ready');
    });

    it('Gmail EN reply with the attribution on one line', () => {
      const body = `Please resend the activation e-mail.

On Mon, 3 Nov 2025 at 10:15, Ivan Petrov <ivan@example.ru> wrote:
> Your account has been created.`;
      expect(stripQuotedReply(body)).toBe('Please resend the activation e-mail.');
    });

    it.each([
      ['on one line', 'пн, 3 нояб. 2025 г. в 10:15, Служба поддержки <support@example.ru>:'],
      ['wrapped onto two lines', 'пн, 3 нояб. 2025 г. в 10:15, Служба поддержки <\nsupport@example.ru>:'],
    ])('Gmail RU reply, attribution %s', (_label, attribution) => {
      const body = `Добрый день!

Заказ 12345 так и не пришёл, трек-номер не обновляется с пятницы.

${attribution}

> Здравствуйте, Иван!
>
> Ваш заказ передан в службу доставки.
`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Добрый день!\n\nЗаказ 12345 так и не пришёл, трек-номер не обновляется с пятницы.');
      expect(result).not.toContain('Служба поддержки');
      expect(result).not.toContain('передан в службу доставки');
    });

    it('Apple Mail / older Gmail RU "… написал(а):" attribution', () => {
      const body = `Спасибо, всё получилось.

3 ноября 2025 г., в 10:15, Служба поддержки <support@example.ru> написал(а):

> Попробуйте очистить кэш браузера.`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Спасибо, всё получилось.');
      expect(result).not.toContain('написал(а)');
      expect(result).not.toContain('очистить кэш');
    });

    it('Thunderbird / Yandex RU "… пишет:" attribution', () => {
      const body = `Добрый вечер.
Деньги так и не вернулись на карту.

03.11.2025 10:15, Служба поддержки пишет:
> Возврат оформлен, средства поступят в течение 10 дней.
>`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Добрый вечер.\nДеньги так и не вернулись на карту.');
      expect(result).not.toContain('пишет:');
      expect(result).not.toContain('Возврат оформлен');
    });

    it('Mail.ru RU reply with its "… от Имя <адрес>:" attribution', () => {
      const body = `Добрый день!
Не могу войти в личный кабинет: пишет «неверный пароль», хотя пароль я сбросил.


Понедельник, 3 ноября 2025, 10:15 +03:00 от Служба поддержки <support@example.ru>:
\u00a0
>Здравствуйте!
>Для сброса пароля перейдите по ссылке из письма.
>\u00a0
>${SIG}
>Служба поддержки
`;
      const result = stripQuotedReply(body);
      expect(result).toBe(
        'Добрый день!\nНе могу войти в личный кабинет: пишет «неверный пароль», хотя пароль я сбросил.',
      );
      expect(result).not.toContain('Понедельник');
      expect(result).not.toContain('Для сброса пароля');
    });

    it('Apple Mail EN reply', () => {
      const body = `Yes, that's the right delivery address.

Kind regards,
Emma

On 3 Nov 2025, at 10:15, Support Team <support@example.com> wrote:

> Hello Emma,
>
> Could you confirm your delivery address: 5 Baker Street, London?
`;
      const result = stripQuotedReply(body);
      expect(result).toBe("Yes, that's the right delivery address.\n\nKind regards,\nEmma");
      expect(result).not.toContain('wrote:');
      expect(result).not.toContain('Baker Street');
    });
  });

  describe('attribution followed by unquoted history', () => {
    it('Yandex RU reply: the old message below the attribution is cut', () => {
      const body = `Здравствуйте.

Пришлите, пожалуйста, закрывающие документы за октябрь.

03.11.2025, 10:15, "Служба поддержки" <support@example.ru>:

Добрый день! Документы за сентябрь отправлены курьером.

${SIG}
Служба поддержки`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Здравствуйте.\n\nПришлите, пожалуйста, закрывающие документы за октябрь.');
      expect(result).not.toContain('support@example.ru');
      expect(result).not.toContain('курьером');
    });
  });

  describe('Outlook header blocks', () => {
    it('Outlook EN reply with the "____" line and From/Sent/To/Subject', () => {
      const body = `Hello,

Please cancel my subscription from December.

Best regards,
Anna Smith
Head of Procurement, ACME LLC

________________________________
From: Support Team <support@example.com>
Sent: Monday, November 3, 2025 10:15 AM
To: Anna Smith <anna@acme.example>
Subject: RE: Subscription

Dear Anna,
Your subscription renews on December 1.
`;
      const result = stripQuotedReply(body);
      // Closing phrases are kept on purpose: only delimiters and known footers are cut.
      expect(result).toBe(
        'Hello,\n\nPlease cancel my subscription from December.\n\nBest regards,\nAnna Smith\nHead of Procurement, ACME LLC',
      );
      expect(result).not.toContain('____');
      expect(result).not.toContain('From:');
      expect(result).not.toContain('renews on December 1');
    });

    it('Outlook RU reply with От/Отправлено/Кому/Тема and no separator line', () => {
      const body = `Добрый день!

Счёт получили, оплатим до пятницы.

С уважением,
Мария

От: Служба поддержки <support@example.ru>
Отправлено: 3 ноября 2025 г. 10:15
Кому: Мария Иванова <maria@company.ru>
Тема: RE: Счёт на оплату

Мария, добрый день! Направляем счёт № 77.
`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Добрый день!\n\nСчёт получили, оплатим до пятницы.\n\nС уважением,\nМария');
      expect(result).not.toContain('От:');
      expect(result).not.toContain('Направляем счёт');
    });

    it('Outlook header with bold labels as rendered by Gmail ("*From:*")', () => {
      const body = `Noted, thank you.

*From:* Support Team <support@example.com>
*Sent:* Monday, November 3, 2025 10:15 AM
*To:* Anna Smith <anna@acme.example>
*Subject:* Maintenance window

We will be offline on Sunday.`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Noted, thank you.');
      expect(result).not.toContain('offline on Sunday');
    });
  });

  describe('separators', () => {
    it.each([
      ['—— Исходное сообщение ——'],
      ['-------- Пересылаемое сообщение --------'],
      ['-----Original Message-----'],
      ['-----Исходное сообщение-----'],
      ['---------- Forwarded message ---------'],
    ])('cuts at "%s"', (separator) => {
      const body = `Посмотрите, пожалуйста, письмо ниже — это про мой заказ 12345?

${separator}
От: Магазин <noreply@shop.example>
Дата: 3 ноября 2025 г., 10:15
Тема: Ваш заказ отменён

Ваш заказ отменён из-за неоплаты.`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Посмотрите, пожалуйста, письмо ниже — это про мой заказ 12345?');
      expect(result).not.toContain('отменён из-за неоплаты');
    });
  });

  describe('signatures and mobile footers', () => {
    it('cuts the "-- " signature and everything after it', () => {
      const body = `Добрый день, подскажите, как поменять e-mail в профиле?

${SIG}
Иван Петров
ООО «Ромашка»
+7 (495) 123-45-67`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Добрый день, подскажите, как поменять e-mail в профиле?');
      expect(result).not.toContain('Иван Петров');
      expect(result).not.toContain('+7 (495)');
    });

    it('cuts at "Отправлено с iPhone" and the iOS-quoted history after it', () => {
      const body = `Да, адрес доставки верный.

Отправлено с iPhone

> 3 нояб. 2025 г., в 10:15, Служба поддержки <support@example.ru> написал(а):
>
> Подтвердите, пожалуйста, адрес доставки.
`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Да, адрес доставки верный.');
      expect(result).not.toContain('Отправлено с iPhone');
      expect(result).not.toContain('Подтвердите');
    });

    it.each([
      ['Sent from my iPhone'],
      ['Отправлено из мобильной Почты Mail.ru'],
      ['Отправлено из приложения Яндекс Почта'],
      ['Get Outlook for iOS<https://aka.ms/o0ukef>'],
      ['Get Outlook for Android'],
    ])('cuts the mobile footer "%s"', (footer) => {
      const body = `Курьер не приехал, перезвоните мне, пожалуйста.\n\n${footer}\n`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Курьер не приехал, перезвоните мне, пожалуйста.');
      expect(result).not.toContain(footer);
    });
  });

  describe('">" quoted lines', () => {
    it('drops quoted blocks and the attribution line right before them, keeps inline answers', () => {
      const body = `Здравствуйте!

Служба поддержки писала:
> 1. Укажите номер заказа.
> 2. Когда вы оформили заказ?

Номер 12345, оформлял 1 ноября.

Спасибо!`;
      const result = stripQuotedReply(body);
      expect(result).toBe('Здравствуйте!\n\nНомер 12345, оформлял 1 ноября.\n\nСпасибо!');
      expect(result).not.toContain('писала:');
      expect(result).not.toContain('Укажите номер заказа');
    });

    it('drops a trailing quoted block whose attribution is in an unknown format', () => {
      const body = `I still have no access.

Support Team (support@example.com) schrieb:
> Please try again.
>> Earlier message`;
      const result = stripQuotedReply(body);
      expect(result).toBe('I still have no access.');
      expect(result).not.toContain('schrieb');
      expect(result).not.toContain('try again');
    });
  });

  describe('fallbacks and normalisation', () => {
    it('returns the original (trimmed) when the message is only a forward', () => {
      const body = `
---------- Forwarded message ---------
From: Bank <noreply@bank.example>
Date: Mon, Nov 3, 2025 at 10:15 AM
Subject: Payment declined
To: <john@example.com>

Your payment of 1 500 RUB was declined.
`;
      const result = stripQuotedReply(body);
      expect(result).toBe(body.trim());
      expect(result).toContain('Your payment of 1 500 RUB was declined.');
    });

    it('returns the original when everything is quoted', () => {
      const body = '> Только цитата\n> без нового текста';
      expect(stripQuotedReply(body)).toBe(body);
    });

    it('leaves a message without quotes unchanged apart from whitespace', () => {
      const body =
        '  \r\nДобрый день!\r\n\r\n\r\n\r\nХочу вернуть товар. Как оформить возврат?   \r\n\r\nС уважением,\r\nОльга\r\n\r\n';
      const result = stripQuotedReply(body);
      expect(result).toBe('Добрый день!\n\nХочу вернуть товар. Как оформить возврат?\n\nС уважением,\nОльга');
    });

    it('does not cut ordinary sentences that merely look like headers', () => {
      const body = `On Monday I wrote to you about the refund.
From: the statement, the charge is 1 500 RUB.
Sent from the office, not from home.
3 ноября в 10:15 я звонил вам:
никто не ответил.`;
      expect(stripQuotedReply(body)).toBe(body);
    });

    it('returns an empty string for blank input', () => {
      expect(stripQuotedReply('  \n \r\n')).toBe('');
    });
  });
});

describe('htmlToPlainText', () => {
  const gmailHtml = `<div dir="ltr"><div>Добрый день!</div><div><br></div><div>При оплате картой появляется ошибка «Операция отклонена».</div><div><br></div><div>Иван</div></div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">пн, 3 нояб. 2025 г. в 10:15, Служба поддержки &lt;<a href="mailto:support@example.ru">support@example.ru</a>&gt;:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">Здравствуйте! Пришлите, пожалуйста, скриншот ошибки.</div></blockquote></div>`;

  const outlookWebHtml = `<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>
</head>
<body dir="ltr">
<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">
Hello,<br>the report for October is attached.</div>
<div class="elementToProof" style="font-family: Aptos, sans-serif; font-size: 12pt;"><br></div>
<div class="elementToProof" style="font-family: Aptos, sans-serif; font-size: 12pt;">Regards,<br>Anna</div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>From:</b> Support Team &lt;support@example.com&gt;<br>
<b>Sent:</b> Monday, November 3, 2025 10:15<br>
<b>To:</b> Anna Smith &lt;anna@acme.example&gt;<br>
<b>Subject:</b> Monthly report</font>
<div>&nbsp;</div>
</div>
<div>
<p>Dear Anna, please send the monthly report.</p>
</div>
</body>
</html>`;

  const outlookDesktopHtml = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--
/* Font Definitions */
@font-face {font-family:"Cambria Math";}
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--></head><body lang=RU link="#0563C1" vlink="#954F72" style='word-wrap:break-word'><div class=WordSection1><p class=MsoNormal>Добрый день!<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Во вложении акт сверки, подпишите, пожалуйста:<o:p></o:p></p><p class=MsoListParagraph style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span style='font-family:Symbol'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span><![endif]>акт за октябрь;<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>С уважением,<o:p></o:p></p><p class=MsoNormal>Мария<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>От:</b> Служба поддержки &lt;support@example.ru&gt; <br><b>Отправлено:</b> 3 ноября 2025 г. 10:15<br><b>Кому:</b> Мария &lt;maria@company.ru&gt;<br><b>Тема:</b> Акт сверки<o:p></o:p></p></div></div><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Мария, добрый день! Пришлите акт сверки.<o:p></o:p></p></div></body></html>`;

  it('converts Gmail HTML, keeping the full text by default', () => {
    const result = htmlToPlainText(gmailHtml);
    expect(result).toContain('Добрый день!\n\nПри оплате картой появляется ошибка «Операция отклонена».\n\nИван');
    expect(result).toContain('Пришлите, пожалуйста, скриншот ошибки.');
  });

  it('removes Gmail\'s gmail_quote container with stripQuotes', () => {
    const result = htmlToPlainText(gmailHtml, { stripQuotes: true });
    expect(result).toBe('Добрый день!\n\nПри оплате картой появляется ошибка «Операция отклонена».\n\nИван');
    expect(result).not.toContain('Служба поддержки');
    expect(result).not.toContain('скриншот');
  });

  it('cuts Outlook on the web at #appendonsend / #divRplyFwdMsg', () => {
    const expected = 'Hello,\nthe report for October is attached.\n\nRegards,\nAnna';
    expect(htmlToPlainText(outlookWebHtml, { stripQuotes: true })).toBe(expected);
    const withoutMarker = outlookWebHtml.replace('<div id="appendonsend"></div>', '');
    const result = htmlToPlainText(withoutMarker, { stripQuotes: true });
    expect(result).toBe(expected);
    expect(result).not.toContain('From:');
    expect(result).not.toContain('monthly report');
    expect(result).not.toContain('---');
    expect(htmlToPlainText(outlookWebHtml)).toContain('Dear Anna, please send the monthly report.');
  });

  it('handles Outlook desktop HTML: MsoNormal lines, conditional comments, border-top header', () => {
    const stripped = htmlToPlainText(outlookDesktopHtml, { stripQuotes: true });
    expect(stripped).toBe(
      'Добрый день!\n\nВо вложении акт сверки, подпишите, пожалуйста:\n·        акт за октябрь;\n\nС уважением,\nМария',
    );
    expect(stripped).not.toContain('От:');
    expect(stripped).not.toContain('Пришлите акт сверки');

    const full = htmlToPlainText(outlookDesktopHtml);
    expect(full).toContain('От: Служба поддержки <support@example.ru>');
    expect(full).toContain('Мария, добрый день! Пришлите акт сверки.');
    expect(full).not.toMatch(/Cambria|MsoNormal|shapedefaults|font-family/);
  });

  it('removes Apple Mail blockquote[type=cite] and Yahoo quotes with stripQuotes', () => {
    const apple = `<html><head></head><body dir="auto">Да, всё верно.<br><br><div dir="ltr">Отправлено с iPhone</div><div dir="ltr"><br><blockquote type="cite">3 нояб. 2025 г., в 10:15, Служба поддержки &lt;support@example.ru&gt; написал(а):<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">Подтвердите, пожалуйста, адрес.</div></blockquote></body></html>`;
    const appleText = htmlToPlainText(apple, { stripQuotes: true });
    expect(appleText).toBe('Да, всё верно.\n\nОтправлено с iPhone');
    expect(appleText).not.toContain('Подтвердите');

    const yahoo = `<div>Thanks, it works now.</div><div class="yahoo_quoted"><div>On Monday, 3 November 2025, 10:15, Support wrote:</div><div>Please restart the app.</div></div>`;
    const yahooText = htmlToPlainText(yahoo, { stripQuotes: true });
    expect(yahooText).toBe('Thanks, it works now.');
    expect(yahooText).not.toContain('restart');
  });

  it('drops <head>, <style>, <script> and images; formats links, lists and tables', () => {
    const html = `<!DOCTYPE html><html><head><title>Письмо</title><style>body{font-family:Arial}.x{color:red}</style><script>window.track&&track('open')</script></head><body><h2>Проблема с корзиной</h2><p>Здравствуйте!</p><p>Не работает <a href="https://shop.example.ru/cart">корзина</a> на сайте <a href="https://shop.example.ru">https://shop.example.ru</a>.</p><ul><li>Браузер: Chrome</li><li>ОС: Windows 11</li></ul><table><tr><th>Заказ</th><th>Сумма</th></tr><tr><td>12345</td><td>1&nbsp;500 ₽</td></tr></table><img src="https://track.example/pixel.gif" width="1" height="1" alt="pixel"><script>alert('x')</script><style>.y{}</style></body></html>`;
    const result = htmlToPlainText(html);
    expect(result).toBe(
      'Проблема с корзиной\n\nЗдравствуйте!\n\nНе работает корзина (https://shop.example.ru/cart) на сайте https://shop.example.ru.\n\n- Браузер: Chrome\n- ОС: Windows 11\n\nЗаказ | Сумма\n12345 | 1 500 ₽',
    );
    expect(result).not.toMatch(/Письмо|font-family|color:red|track|alert|pixel/);
  });

  it('copes with broken HTML', () => {
    const result = htmlToPlainText('<div>Привет<p>текст <b>жирный</div> <i>незакрытый <span>тег');
    expect(result).toContain('Привет');
    expect(result).toContain('текст жирный');
    expect(result).toContain('незакрытый тег');
  });

  it('returns an empty string for blank HTML', () => {
    expect(htmlToPlainText('  ')).toBe('');
    expect(htmlToPlainText('<html><head><style>p{}</style></head><body></body></html>')).toBe('');
  });
});

describe('extractCleanText', () => {
  it('uses the HTML part of an HTML-only Gmail message without its gmail_quote', () => {
    const html = `<div dir="ltr">Hello,<div><br></div><div>I was charged twice for order <b>#5531</b>.</div><div><br></div><div>${SIG}</div><div class="gmail_signature">John Smith<br>+44 20 7946 0000</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Nov 3, 2025 at 10:15 AM Support Team &lt;<a href="mailto:support@example.com">support@example.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote">Thank you for your order #5531.</blockquote></div>`;
    const result = extractCleanText({ text: null, html });
    expect(result).toBe('Hello,\n\nI was charged twice for order #5531.');
    expect(result).not.toContain('Thank you for your order');
    expect(result).not.toContain('John Smith');
  });

  it('uses the HTML part of an Outlook message, cutting the divRplyFwdMsg block', () => {
    const html = `<html><body><div>Добрый день!<br>Подтверждаю отгрузку на 5 ноября.</div><div><br></div><div id="ms-outlook-mobile-signature">Get Outlook for Android</div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt"><b>От:</b> Служба поддержки &lt;support@example.ru&gt;<br><b>Отправлено:</b> 3 ноября 2025 г. 10:15<br><b>Кому:</b> Склад &lt;sklad@company.ru&gt;<br><b>Тема:</b> Отгрузка</font><div>&nbsp;</div></div><div>Когда планируете отгрузку?</div></body></html>`;
    const result = extractCleanText({ text: '', html });
    expect(result).toBe('Добрый день!\nПодтверждаю отгрузку на 5 ноября.');
    expect(result).not.toContain('Get Outlook');
    expect(result).not.toContain('Когда планируете отгрузку');
  });

  it('uses the HTML part of a Mail.ru message: plain blockquote plus its "от … <…>:" attribution', () => {
    const html = `<HTML><BODY><div>Добрый день!</div><div>Промокод WINTER25 не применяется к заказу.</div><div>&nbsp;</div><div>&nbsp;</div><blockquote style="border-left:1px solid #0857A6; margin:10px; padding:0 0 0 10px;">Понедельник, 3 ноября 2025, 10:15 +03:00 от Служба поддержки &lt;<a href="mailto:support@example.ru">support@example.ru</a>&gt;:<br>&nbsp;<div id=""><div class="js-helper js-readmsg-msg"><div>Здравствуйте! Промокод действует до 1 декабря.</div></div></div></blockquote></BODY></HTML>`;
    const result = extractCleanText({ text: undefined, html });
    expect(result).toBe('Добрый день!\nПромокод WINTER25 не применяется к заказу.');
    expect(result).not.toContain('Понедельник');
    expect(result).not.toContain('действует до 1 декабря');
  });

  it('prefers the text part when it has content', () => {
    const result = extractCleanText({
      text: 'Текстовая версия: прошу вернуть деньги.\n\n> старое письмо',
      html: '<p>HTML-версия: прошу вернуть деньги.</p>',
    });
    expect(result).toBe('Текстовая версия: прошу вернуть деньги.');
    expect(result).not.toContain('старое письмо');
  });

  it('uses the HTML part when the text part is a placeholder', () => {
    const result = extractCleanText({
      text: 'This is an HTML-only message. Please use an HTML-capable mail client.',
      html: '<p>Please delete my account.</p><blockquote type="cite">Old message</blockquote>',
    });
    expect(result).toBe('Please delete my account.');
    expect(result).not.toContain('HTML-only');
    expect(result).not.toContain('Old message');
  });

  it('strips script and style content from an HTML-only message', () => {
    const html = `<html><head><style>.hidden{display:none}</style><script>var secret = 1;</script></head><body><p>Не приходит SMS с кодом.</p><script>document.write('x')</script></body></html>`;
    const result = extractCleanText({ html });
    expect(result).toBe('Не приходит SMS с кодом.');
    expect(result).not.toMatch(/hidden|secret|document\.write/);
  });

  it('falls back to the full HTML when the whole body is a quote container', () => {
    const html = `<div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message ---------<br>From: Bank &lt;noreply@bank.example&gt;</div><div>Your payment was declined.</div></div>`;
    const result = extractCleanText({ html });
    expect(result).toContain('Your payment was declined.');
  });

  it('returns an empty string when there is no body at all', () => {
    expect(extractCleanText({})).toBe('');
    expect(extractCleanText({ text: null, html: null })).toBe('');
  });
});

// Bodies built to break the converter: the HTML part is read on the request path, so each must
// finish in time linear in its size (a quadratic one runs for minutes and the test times out)
// and must not throw.
describe('hostile HTML bodies', () => {
  it('half a megabyte of unclosed "<div " tags', () => {
    expect(extractCleanText({ html: '<div '.repeat(100_000) })).toBe('');
  });

  it('an unclosed style attribute that never reaches its Outlook border', () => {
    expect(htmlToPlainText(`<p>Здравствуйте</p><div style="border:none;${'x'.repeat(500_000)}`, { stripQuotes: true })).toBe('Здравствуйте');
  });

  it('elements nested 100,000 deep keep their words and do not overflow the stack', () => {
    expect(extractCleanText({ html: `${'<div>'.repeat(100_000)}Где мой заказ 4821?${'</div>'.repeat(100_000)}` })).toBe('Где мой заказ 4821?');
  });

  it('ordinary nesting a few hundred deep is still converted with its structure', () => {
    const html = `${'<div>'.repeat(300)}<p>Первая строка</p><p>Вторая строка</p>${'</div>'.repeat(300)}`;
    expect(htmlToPlainText(html)).toBe('Первая строка\n\nВторая строка');
  });

  it('Outlook history is still cut at its marker, with the rule above it', () => {
    const html = '<p>Новый вопрос</p><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Support</div><p>Старое письмо</p>';
    expect(htmlToPlainText(html, { stripQuotes: true })).toBe('Новый вопрос');
  });
});

describe('hostile HTML bodies, second round', () => {
  it('a tag name of 160,000 letters and hyphens', () => {
    expect(extractCleanText({ html: `<a${'-a'.repeat(80_000)}` })).toBe('');
  });

  it('<p> and <li> alternating 60,000 deep (each closes only its own kind) keep their words', () => {
    expect(extractCleanText({ html: `${'<p><li>'.repeat(60_000)}Где мой заказ?` })).toBe('Где мой заказ?');
  });

  it('a real table of unclosed rows and cells is still converted with its structure', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `<tr><td>Заказ ${i}<td>доставлен`).join('');
    expect(htmlToPlainText(`<table>${rows}</table>`).split('\n')).toHaveLength(50);
  });
});
