import { between, pick, seededRandom } from './random.js';

const NAMES = ['Иван Петров', 'Ольга Смирнова', 'Анна Кузнецова', 'Дмитрий Соколов', 'Мария Попова', 'Сергей Волков', 'Елена Морозова', 'Алексей Новиков', 'Татьяна Фёдорова', 'Николай Орлов'];
const SUBJECTS = [
  'Возврат заказа', 'Где мой заказ?', 'Двойное списание с карты', 'Не приходит код для входа', 'Как списать бонусы',
  'Брак: порвалась подошва', 'Обмен на другой размер', 'Доставка задерживается', 'Промокод не работает', 'Рассрочка',
  'Подарочная карта', 'Изменить адрес доставки', 'Отменить заказ', 'Счёт для юрлица', 'Удалить аккаунт',
];
const OPENINGS = ['Здравствуйте!', 'Добрый день.', 'Добрый вечер!', 'Здравствуйте, служба поддержки.'];
const SENTENCES = [
  'Я оформил заказ {order} на сайте неделю назад и до сих пор не получил никакой информации о доставке.',
  'В личном кабинете в разделе «Мои заказы» статус не меняется уже несколько дней.',
  'Кроссовки пришли, но размер оказался меньше, чем указано в таблице размеров.',
  'Хочу вернуть куртку надлежащего качества: она не подошла по цвету, бирки на месте, чек сохранён.',
  'С карты списали деньги дважды: {sum} ₽ и ещё раз {sum} ₽, хотя заказ один.',
  'Пункт выдачи на улице Ленина закрыт, а курьер не отвечает на звонки.',
  'Подскажите, пожалуйста, можно ли оплатить часть заказа бонусными баллами «Ветер+»?',
  'После первой прогулки у ботинок отклеилась подошва, это явно заводской брак.',
  'Промокод из рассылки пишет, что истёк срок действия, хотя в письме указано, что он действует до конца месяца.',
  'Не приходит СМС с кодом подтверждения, пробовал несколько раз с разных телефонов.',
  'Мне нужен счёт и закрывающие документы для организации, мы оплачиваем по безналичному расчёту.',
  'Можно ли изменить адрес доставки, если заказ уже передан в службу доставки?',
  'Я отправил товар обратно через пункт выдачи {days} дней назад, но деньги так и не вернулись.',
  'Посылка пришла с повреждённой упаковкой, внутри помята коробка и порван пакет.',
  'Хочу купить подарочную карту на {sum} ₽ и отправить её другу по электронной почте.',
  'Объясните, пожалуйста, как работает рассрочка «Четыре шага» и есть ли переплата.',
  'Прошу удалить мой аккаунт и все персональные данные, которые вы храните.',
  'Курьер привёз не тот цвет, в заказе была синяя толстовка, а пришла серая.',
];
const CLOSINGS = ['Спасибо!', 'Жду ответа.', 'Заранее благодарю.', 'С уважением,'];
const QUOTE_INTRO = ['пн, 23 нояб. 2026 г. в 10:15, Служба поддержки <support@severveter.example>:', 'On Mon, 23 Nov 2026 at 10:15, Support <support@severveter.example> wrote:'];

export interface BenchEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

/**
 * Distinct, realistic customer e-mails (2–5 KB of Russian text as UTF-8 JSON), some with quoted
 * history, for load tests. `__SEQ__` in messageId is replaced per request so every one is new.
 */
export function benchEmails(count: number, seed = 42): BenchEmail[] {
  const random = seededRandom(seed);
  const emails: BenchEmail[] = [];
  for (let i = 0; i < count; i++) {
    const name = pick(random, NAMES);
    const order = `СВ-${between(random, 10_000_000, 99_999_999)}`;
    const fill = (s: string) => s.replace('{order}', order).replace(/\{sum\}/g, String(between(random, 900, 25_000))).replace('{days}', String(between(random, 5, 20)));
    const target = between(random, 1100, 2400); // characters; Cyrillic is 2 bytes each in UTF-8
    const paragraphs: string[] = [pick(random, OPENINGS)];
    let length = paragraphs[0].length;
    while (length < target * 0.75) {
      const paragraph = Array.from({ length: between(random, 2, 4) }, () => fill(pick(random, SENTENCES))).join(' ');
      paragraphs.push(paragraph);
      length += paragraph.length;
    }
    paragraphs.push(`${pick(random, CLOSINGS)}\n${name}`);
    if (random() < 0.5) {
      paragraphs.push(`${pick(random, QUOTE_INTRO)}\n${'> Здравствуйте! Спасибо за обращение, мы уже разбираемся с вашим вопросом.\n'.repeat(between(random, 3, 8))}`);
    }
    emails.push({
      from: `${name} <customer${i}@example.ru>`,
      to: 'support@severveter.example',
      subject: `${pick(random, SUBJECTS)} ${order}`,
      text: paragraphs.join('\n\n'),
      messageId: `<bench-__SEQ__-${i}@mail.example.ru>`,
      headers: { 'X-Mailer': 'Bench Mail 1.0' },
    });
  }
  return emails;
}
