import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { between, pick, seededRandom } from './random.js';

const TOPICS = ['Возврат', 'Обмен', 'Доставка', 'Оплата', 'Гарантия', 'Бонусы', 'Личный кабинет', 'Промокоды', 'Подарочные карты', 'Рассрочка', 'Самовывоз', 'Курьер', 'Пункт выдачи', 'Заказ', 'Брак', 'Размеры', 'Уход за изделием', 'Юридическим лицам', 'Персональные данные', 'Уведомления'];
const PRODUCTS = ['куртки', 'кроссовок', 'ботинок', 'рюкзака', 'палатки', 'спального мешка', 'термобелья', 'перчаток', 'шапки', 'толстовки', 'брюк', 'платья', 'пуховика', 'сапог', 'велосипеда', 'самоката', 'коврика', 'фонаря', 'горелки', 'треккинговых палок'];
const SITUATIONS = ['в первые 14 дней', 'после примерки', 'при получении', 'через пункт выдачи', 'курьерской доставкой', 'Почтой России', 'с бонусами', 'по промокоду', 'в рассрочку', 'подарочной картой', 'для организации', 'за границу', 'в праздничные дни', 'после окончания гарантии', 'без чека'];
const NOUNS = ['заказ', 'товар', 'покупатель', 'клиент', 'курьер', 'склад', 'посылка', 'упаковка', 'чек', 'квитанция', 'заявление', 'претензия', 'экспертиза', 'мастерская', 'ремонт', 'возмещение', 'баланс', 'карта', 'счёт', 'платёж', 'срок', 'стоимость', 'скидка', 'уровень', 'программа', 'сертификат', 'размер', 'модель', 'цвет', 'материал', 'шов', 'подошва', 'молния', 'ткань', 'мембрана', 'утеплитель', 'подкладка', 'капюшон', 'карман', 'ремешок'];
const VERBS = ['оформить', 'проверить', 'отправить', 'получить', 'вернуть', 'обменять', 'оплатить', 'отменить', 'изменить', 'подтвердить', 'указать', 'выбрать', 'заполнить', 'приложить', 'сохранить', 'дождаться', 'сообщить', 'уточнить', 'продлить', 'списать', 'начислить', 'рассчитать', 'доставить', 'упаковать', 'осмотреть'];
const ADJECTIVES = ['новый', 'оплаченный', 'доставленный', 'повреждённый', 'бракованный', 'надлежащего качества', 'подходящий', 'удобный', 'срочный', 'бесплатный', 'платный', 'электронный', 'бумажный', 'личный', 'корпоративный', 'сезонный', 'детский', 'мужской', 'женский', 'туристический'];
const PLACES = ['в личном кабинете', 'в разделе «Мои заказы»', 'на странице товара', 'в пункте выдачи', 'на складе в Подольске', 'в мобильном приложении', 'в чате поддержки', 'по телефону 8 800 000-00-00', 'в письме с подтверждением', 'в корзине'];

function sentence(random: () => number): string {
  const forms = [
    () => `Чтобы ${pick(random, VERBS)} ${pick(random, NOUNS)}, ${pick(random, VERBS)} ${pick(random, ADJECTIVES)} ${pick(random, NOUNS)} ${pick(random, PLACES)}.`,
    () => `Срок — ${between(random, 1, 30)} ${pick(random, ['дней', 'рабочих дней', 'часов'])} с момента, когда ${pick(random, NOUNS)} ${pick(random, ['поступил', 'передан', 'оформлен', 'доставлен'])}.`,
    () => `Стоимость составляет ${between(random, 99, 9_999)} ₽, если ${pick(random, NOUNS)} ${pick(random, ADJECTIVES)}.`,
    () => `${capitalize(pick(random, NOUNS))} можно ${pick(random, VERBS)} ${pick(random, SITUATIONS)}, если ${pick(random, NOUNS)} ${pick(random, ['сохранён', 'не использован', 'оплачен', 'подтверждён'])}.`,
    () => `Мы не можем ${pick(random, VERBS)} ${pick(random, NOUNS)} ${pick(random, SITUATIONS)}: обратитесь ${pick(random, PLACES)}.`,
  ];
  return pick(random, forms)();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Writes `count` Markdown articles of realistic Russian support prose (front matter, headings,
 * 1–4 KB each, some long enough to be split) into `dir`, in topic sub-folders.
 */
export function generateKnowledgeBase(dir: string, count: number, seed = 7): void {
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const topic = pick(random, TOPICS);
    const title = `${topic}: ${pick(random, PRODUCTS)} ${pick(random, SITUATIONS)} (${i})`;
    const folder = join(dir, topic.toLowerCase().replace(/[^a-zа-я0-9]+/gi, '-'));
    mkdirSync(folder, { recursive: true });
    const sections = random() < 0.3 ? between(random, 3, 5) : 1;
    const body: string[] = [`# ${title}`];
    for (let s = 0; s < sections; s++) {
      if (sections > 1) body.push(`## ${capitalize(pick(random, VERBS))} ${pick(random, NOUNS)}`);
      for (let p = 0; p < between(random, 2, 4); p++) {
        body.push(Array.from({ length: between(random, 3, 6) }, () => sentence(random)).join(' '));
      }
    }
    const frontMatter = `---\ntitle: "${title}"\ntags: [${topic.toLowerCase()}, ${pick(random, NOUNS)}]\n---\n`;
    writeFileSync(join(folder, `article-${i}.md`), `${frontMatter}${body.join('\n\n')}\n`);
  }
}
