import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnowledgeBaseUnreadableError, loadKnowledgeBase, SECTION_SPLIT_THRESHOLD, splitIntoSections } from '../../src/knowledge-base/article-loader.js';
import { Bm25Index } from '../../src/knowledge-base/bm25-index.js';
import { type KnowledgeBaseService, MAX_QUERY_TERMS, QUERY_BODY_CHARS } from '../../src/knowledge-base/knowledge-base.service.js';
import { analyze } from '../../src/knowledge-base/text-analyzer.js';
import { captureNestLogs } from '../support/analysis-logs.js';
import { loadedKnowledgeBaseService, SHIPPED_KNOWLEDGE_BASE, type TempFolder, tempKnowledgeBase } from '../support/analysis-kb.js';

/** The knowledge base (SPEC.md): Markdown articles, Russian and English, searched with word-form awareness. */

const logs = captureNestLogs();
afterAll(() => logs.restore());

describe('text analyzer', () => {
  it.each([
    ['личном кабинете', 'личный кабинет'],
    ['возвратом денег', 'возврата денег'],
    ['деньгами', 'деньги'],
    ['доставкой курьером', 'доставка курьер'],
    ['повреждённой посылки', 'поврежденная посылка'],
    ['пришёл', 'пришел'],
    ['ещё зелёный', 'еще зеленый'],
    ['Returns and refunds', 'return refund'],
    ['shipping orders', 'shipped order'],
  ])('«%s» and «%s» give the same terms', (a, b) => {
    expect(analyze(a)).toEqual(analyze(b));
  });

  it('finds terms in ordinary words and drops greetings and function words', () => {
    expect(analyze('личном кабинете')).toHaveLength(2);
    expect(analyze('Здравствуйте! Как мне, пожалуйста, быть?')).toEqual(analyze('быть'));
    expect(analyze('Hello, could you please help')).toEqual(analyze('help'));
  });
});

describe('BM25 index', () => {
  const index = new Bm25Index([
    { titleTerms: ['возврат'], bodyTerms: ['товар', 'деньг'] },
    { titleTerms: ['доставк'], bodyTerms: ['курьер', 'товар', 'товар'] },
    { titleTerms: ['оплат'], bodyTerms: ['карт'] },
  ]);

  it('ranks by the query terms, best first, and leaves out documents that match nothing', () => {
    expect(index.search(new Map([['курьер', 1]]), 10).map((h) => h.doc)).toEqual([1]);
    const hits = index.search(new Map([['товар', 1], ['возврат', 1]]), 10);
    expect(hits.map((h) => h.doc)).toEqual([0, 1]);
    expect(hits[0].score).toBeGreaterThan(hits[1].score);
    expect(index.search(new Map([['нет-такого', 1]]), 10)).toEqual([]);
  });

  it('respects the limit and counts document frequencies', () => {
    expect(index.search(new Map([['товар', 1]]), 1)).toHaveLength(1);
    expect(index.documentFrequency('товар')).toBe(2);
    expect(index.idf('карт')).toBeGreaterThan(index.idf('товар'));
  });
});

describe('the shipped knowledge base', () => {
  let service: KnowledgeBaseService;

  beforeAll(async () => {
    service = await loadedKnowledgeBaseService(SHIPPED_KNOWLEDGE_BASE);
  });

  it('loads at least 15 articles, every one with its title from the front matter, and no warnings', async () => {
    const loaded = await loadKnowledgeBase(SHIPPED_KNOWLEDGE_BASE);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.articles.length).toBeGreaterThanOrEqual(15);
    const byId = new Map(loaded.articles.map((a) => [a.id, a]));
    expect(byId.get('returns/how-to-return')?.title).toBe('Как вернуть товар надлежащего качества');
    expect(byId.get('account/registration-and-login')?.title).toBe('Регистрация, вход и восстановление пароля');
    expect(byId.get('delivery/pickup-points')?.title).toBe('Пункты выдачи: хранение, примерка, получение');
    expect(byId.get('returns/how-to-return')?.tags).toContain('возврат денег');
    for (const article of loaded.articles) {
      expect(article.id).toMatch(/^[a-z-]+\/[a-z0-9-]+$/);
      expect(article.title.trim()).not.toBe('');
      expect(article.body).not.toMatch(/^---/);
    }
    expect(service.status()).toMatchObject({ loaded: true, articles: loaded.articles.length, sections: loaded.sections.length, warnings: [] });
  });

  it('splits long articles into sections at their headings', async () => {
    const { sections } = await loadKnowledgeBase(SHIPPED_KNOWLEDGE_BASE);
    const howToReturn = sections.filter((s) => s.articleId === 'returns/how-to-return');
    expect(howToReturn.length).toBeGreaterThan(1);
    expect(howToReturn.map((s) => s.heading)).toContain('Как оформить возврат в личном кабинете');
    expect(howToReturn.every((s) => s.text.trim().length > 0)).toBe(true);
    // An article without sub-headings stays whole.
    const refund = sections.filter((s) => s.articleId === 'returns/refund-timing');
    expect(refund).toHaveLength(1);
    expect(refund[0].heading).toBeNull();
    // Splitting applies to long articles only.
    const small = splitIntoSections({ id: 'x/short', title: 'Коротко', tags: [], body: '# Коротко\n\n## Раз\n\nПервое.\n\n## Два\n\nВторое.' });
    expect(small).toHaveLength(1);
    expect(SECTION_SPLIT_THRESHOLD).toBeGreaterThan(small[0].text.length);
  });

  it('returns one hit per article even when several of its sections match', () => {
    const hits = service.search('возврат товара в личном кабинете деньги заявка', 50);
    const ids = hits.map((h) => h.id);
    expect(ids).toContain('returns/how-to-return');
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers with {id, title, score, snippet}, best first, the snippet showing a matching word', () => {
    const hits = service.search('двойное списание', 5);
    expect(hits[0]).toEqual({ id: 'payment/payment-problems', title: expect.stringMatching(/двойное списание/), score: expect.any(Number), snippet: expect.any(String) });
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    expect(hits[0].snippet.toLowerCase()).toMatch(/списан|двойн/);
    expect(hits[0].snippet.length).toBeLessThanOrEqual(230);
  });

  it.each([
    ['личном кабинете', 'account/registration-and-login'],
    ['личный кабинет', 'account/registration-and-login'],
    ['возвратом денег', 'returns/refund-timing'],
    ['вернуть деньги', 'returns/refund-timing'],
    ['возвратом денег', 'returns/how-to-return'],
    ['доставкой курьером', 'delivery/delivery-options'],
  ])('«%s» finds %s among the best five', (query, id) => {
    expect(service.search(query, 5).map((h) => h.id)).toContain(id);
  });

  it('«доставкой курьером» ranks the delivery options first', () => {
    expect(service.search('доставкой курьером', 5)[0].id).toBe('delivery/delivery-options');
  });

  it('finds the same articles whatever the case of the words', () => {
    const ids = (q: string) => service.search(q, 5).map((h) => h.id);
    expect(ids('личном кабинете')).toEqual(ids('личный кабинет'));
    expect(ids('возвратом денег')).toEqual(ids('возврат денег'));
  });

  it('treats ё and е alike', () => {
    const withYo = service.search('повреждённая посылка ещё не пришла', 5);
    const withYe = service.search('поврежденная посылка еще не пришла', 5);
    expect(withYo.length).toBeGreaterThan(0);
    expect(withYo).toEqual(withYe);
    expect(withYo[0].id).toBe('delivery/delays-and-damaged-parcels');
  });

  it('finds nothing for words no article has', () => {
    expect(service.search('квантовый синхрофазотрон', 5)).toEqual([]);
    expect(service.findForEmail('Hello', 'qwerty zxcvb', 4)).toEqual([]);
  });

  describe('findForEmail', () => {
    it.each([
      ['Возврат товара', 'Здравствуйте! Две недели назад получил заказ, куртка не понравилась. Хочу её вернуть и получить деньги обратно. Как оформить возврат?', 'returns/how-to-return'],
      ['Задерживается доставка', 'Здравствуйте, заказ СВ-10458723 должен был прийти три дня назад, но так и не пришёл, статус не меняется уже неделю. Что делать?', 'delivery/delays-and-damaged-parcels'],
      ['Не могу войти в личный кабинет', 'Добрый день. Забыл пароль, код из SMS не приходит. Как восстановить пароль?', 'account/registration-and-login'],
      ['Баллы не начислились', 'Сделал заказ неделю назад, а бонусные баллы Ветер+ так и не начислились на мой счёт.', 'loyalty/veter-plus'],
      ['Гарантийный ремонт', 'Здравствуйте, у рюкзака через полгода оторвалась лямка. Можно ли сдать его в ремонт по гарантии?', 'warranty/warranty-and-repair'],
      ['Деньги списали два раза', 'Оплатил заказ картой, а в банке вижу два списания одной и той же суммы. Верните, пожалуйста, второй платёж.', 'payment/payment-problems'],
    ])('ranks the right article first: «%s»', (subject, body, id) => {
      const found = service.findForEmail(subject, body, 4);
      expect(found[0]?.id).toBe(id);
      expect(found.length).toBeLessThanOrEqual(4);
      expect(new Set(found.map((a) => a.id)).size).toBe(found.length);
      expect(found[0].content.length).toBeGreaterThan(100);
    });

    it('puts the return article into the prompt for a return e-mail that mentions the size', () => {
      const found = service.findForEmail('Возврат кроссовок', 'Здравствуйте! Купил кроссовки, они не подошли по размеру. Как оформить возврат товара в личном кабинете?', 4);
      expect(found.map((a) => a.id)).toContain('returns/how-to-return');
    });

    it('gives a long article as its best sections, with their headings, in the article order, within the size limit', () => {
      // The two best-matching sections of returns/how-to-return for this e-mail are these headings'.
      const [article] = service.findForEmail('Возврат товара', 'Как оформить возврат в личном кабинете и сколько денег вернут?', 1);
      expect(article.id).toBe('returns/how-to-return');
      expect(article.content.length).toBeLessThanOrEqual(3_001);
      const howTo = article.content.indexOf('Как оформить возврат в личном кабинете\n');
      const howMuch = article.content.indexOf('Сколько денег вернут и когда\n');
      expect(howTo).toBeGreaterThanOrEqual(0);
      expect(howMuch).toBeGreaterThan(howTo);
    });

    it('searches with at most 20 stems, from the subject and the start of the body', async () => {
      const { articles } = await loadKnowledgeBase(SHIPPED_KNOWLEDGE_BASE);
      const longBody = articles.find((a) => a.id === 'warranty/warranty-and-repair')!.body + '\n' + articles.find((a) => a.id === 'delivery/delivery-options')!.body;
      expect(new Set(analyze(longBody.slice(0, QUERY_BODY_CHARS))).size).toBeGreaterThan(MAX_QUERY_TERMS);
      const query = service.emailQuery('Вопрос про гарантию и доставку', longBody);
      expect(MAX_QUERY_TERMS).toBe(20);
      expect(query.size).toBeLessThanOrEqual(MAX_QUERY_TERMS);
      expect(query.size).toBe(MAX_QUERY_TERMS);

      // Only the start of the body counts; the subject always does.
      const filler = 'ааа '.repeat(QUERY_BODY_CHARS / 4);
      const late = service.emailQuery('Гарантия', `${filler}Сломалась молния, нужен ремонт`);
      expect([...late.keys()]).toEqual(analyze('Гарантия'));
    });
  });
});

describe('loading a folder with problems', () => {
  let folder: TempFolder;

  beforeAll(() => {
    folder = tempKnowledgeBase({
      'good/first.md': '---\ntitle: Хорошая статья\ntags: [проверка, пример]\n---\n# Другой заголовок\n\nТекст хорошей статьи про подарочную упаковку.\n',
      'no-text.md': '---\ntitle: Пустая статья\n---\n\n<!-- только комментарий -->\n',
      'broken-yaml.md': '---\ntitle: [не закрыто\ntags: {\n---\nТекст статьи.\n',
      'unclosed.md': '---\ntitle: Без конца\nТекст статьи, но front matter так и не закрыт.\n',
      'list-front-matter.md': '---\n- первый\n- второй\n---\nТекст статьи.\n',
      'heading-title.md': '# Заголовок из текста\n\nСтатья без front matter про самовывоз.\n',
      'gift-wrapping.md': 'Подарочная упаковка стоит 200 рублей и добавляется в корзине.\n',
      'en/shipping-abroad.md':
        '---\ntitle: Shipping abroad\ntags: [international shipping, customs]\n---\nWe ship orders to Kazakhstan and Belarus. Delivery takes 7 to 14 days; customs duties are paid by the recipient.\n',
      'en/gift-cards.md': '# Gift cards\n\nGift cards can be bought online and used for any purchase within one year.\n',
      'notes.txt': 'not an article',
      '.drafts/hidden.md': '# Черновик\n\nНе публиковать.\n',
    });
  });

  afterAll(() => folder.drop());

  it('skips every bad file with a warning and loads the rest', async () => {
    const loaded = await loadKnowledgeBase(folder.dir);
    expect(loaded.articles.map((a) => a.id)).toEqual(['en/gift-cards', 'en/shipping-abroad', 'gift-wrapping', 'good/first', 'heading-title']);
    expect(loaded.warnings).toHaveLength(4);
    expect(loaded.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^no-text: skipped, has no text/),
        expect.stringMatching(/^broken-yaml: skipped, front matter is not valid YAML/),
        expect.stringMatching(/^unclosed: skipped, front matter is not closed/),
        expect.stringMatching(/^list-front-matter: skipped, front matter must be a YAML mapping/),
      ]),
    );
  });

  it('takes the title from the front matter, else the first # heading, else the file name', async () => {
    const titles = Object.fromEntries((await loadKnowledgeBase(folder.dir)).articles.map((a) => [a.id, a.title]));
    expect(titles).toEqual({
      'good/first': 'Хорошая статья',
      'heading-title': 'Заголовок из текста',
      'gift-wrapping': 'Gift wrapping',
      'en/shipping-abroad': 'Shipping abroad',
      'en/gift-cards': 'Gift cards',
    });
  });

  it('the service serves the good articles and logs a warning per skipped file', async () => {
    logs.clear();
    const service = await loadedKnowledgeBaseService(folder.dir);
    expect(service.status()).toMatchObject({ loaded: true, articles: 5 });
    expect(service.status().warnings).toHaveLength(4);
    const skipped = logs.entries.filter((e) => e.level === 'warn' && JSON.stringify(e.message).includes('knowledge base file skipped'));
    expect(skipped).toHaveLength(4);
    expect(service.search('самовывоз', 5).map((h) => h.id)).toEqual(['heading-title']);
  });

  it('searches English articles with English word forms', async () => {
    const service = await loadedKnowledgeBaseService(folder.dir);
    expect(service.search('shipped to Kazakhstan', 5)[0]?.id).toBe('en/shipping-abroad');
    expect(service.search('custom duty', 5)[0]?.id).toBe('en/shipping-abroad');
    expect(service.search('buying a gift card', 5)[0]?.id).toBe('en/gift-cards');
    expect(service.findForEmail('International shipping', 'Hello, do you ship orders to Belarus? How long does delivery take?', 4)[0]?.id).toBe('en/shipping-abroad');
  });

  it('a missing folder is an error of its own (the loader cannot tell "no articles" from "no folder")', async () => {
    await expect(loadKnowledgeBase(join(folder.dir, 'does-not-exist'))).rejects.toBeInstanceOf(KnowledgeBaseUnreadableError);
  });

  it('the service starts with an empty index when the folder is missing, saying why', async () => {
    logs.clear();
    const service = await loadedKnowledgeBaseService(join(folder.dir, 'does-not-exist'));
    expect(service.status()).toMatchObject({ loaded: true, articles: 0, warnings: [expect.stringMatching(/does-not-exist cannot be read \(ENOENT\)/)] });
    expect(logs.entries.some((e) => e.level === 'error' && JSON.stringify(e.message).includes('could not be loaded'))).toBe(true);
  });

  it('a reload that cannot read the folder keeps the previous index serving', async () => {
    const moving = tempKnowledgeBase({ 'pickup.md': '# Самовывоз\n\nЗаказ можно забрать в пункте выдачи через два дня.\n' });
    try {
      const service = await loadedKnowledgeBaseService(moving.dir);
      expect(service.status().articles).toBe(1);
      rmSync(moving.dir, { recursive: true, force: true });
      await service.reload();
      expect(service.status()).toMatchObject({ loaded: true, articles: 1 });
      expect(service.search('пункт выдачи', 5).map((h) => h.id)).toEqual(['pickup']);
    } finally {
      moving.drop();
    }
  });
});

describe('knowledge base mounted from a Kubernetes ConfigMap (every entry a symbolic link)', () => {
  let root: string;
  let dir: string;

  beforeAll(() => {
    // What the kubelet writes: the real files in a timestamped dot-folder, `..data` pointing at it,
    // and one link per key (a key with a path gets a link to its folder).
    root = mkdtempSync(join(tmpdir(), 'ai-support-kb-configmap-'));
    dir = join(root, 'knowledge-base');
    const version = join(dir, '..2026_12_01_10_00_00.123456789');
    mkdirSync(join(version, 'returns'), { recursive: true });
    writeFileSync(join(version, 'delivery.md'), '# Доставка\n\nКурьер привозит заказ за два дня.\n');
    writeFileSync(join(version, 'returns', 'how-to-return.md'), '# Как вернуть товар\n\nВозврат оформляется в личном кабинете.\n');
    symlinkSync('..2026_12_01_10_00_00.123456789', join(dir, '..data'));
    symlinkSync('..data/delivery.md', join(dir, 'delivery.md'));
    symlinkSync('..data/returns', join(dir, 'returns'));
    symlinkSync('nowhere.md', join(dir, 'dangling.md'));
    symlinkSync('.', join(version, 'returns', 'loop'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('follows the links to files and folders, once each, and reads every article', async () => {
    const loaded = await loadKnowledgeBase(dir);
    expect(loaded.articles.map((a) => a.id)).toEqual(['delivery', 'returns/how-to-return']);
    expect(loaded.warnings).toEqual([expect.stringMatching(/^dangling\.md: skipped, a link to nothing/)]);
  });
});
