import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { bodyParsers } from './common/http/body-parsers.js';
import { AppLogger } from './common/logging/app-logger.js';
import { requestLogging } from './common/logging/request-logging.js';
import { AppConfig } from './config/app-config.js';
import { describeRawMimeBody } from './webhook/webhook.openapi.js';

export const API_DESCRIPTION = `Turns a support inbox into decisions. Customer e-mails arrive through the webhook; GigaChat,
helped by the knowledge base, decides to answer, to ask for details, or to escalate to an operator in Telegram.

Try it: POST an e-mail to /api/webhook/email with \`?wait=true\` and read the decision in the answer, then
open the ticket with GET /api/tickets/{id}. When ADMIN_API_KEY is set, press "Authorize" and paste the key.`;

/**
 * Everything main.ts does to the application besides listening: the e2e tests call this too, so
 * they run the same middleware, logger and documentation as production.
 */
export function configureApp(app: INestApplication): void {
  const config = app.get(AppConfig);
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  // Behind an ingress the socket's address is the ingress's: TRUST_PROXY lets the rate limit and
  // the request log see the client's address from X-Forwarded-For, and only from the hops trusted.
  app.getHttpAdapter().getInstance().set('trust proxy', config.http.trustProxy);

  const apiHeaders = helmet();
  // Swagger UI runs inline scripts and styles; everything else gets helmet's strict defaults. Its
  // page must not ask for upgrade-insecure-requests either: served over plain HTTP (docker run -p,
  // a cluster without TLS) the browser would fetch its scripts over https and show a blank page.
  const docsHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'", 'https:'],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null,
      },
    },
  });
  app.use((req: { path: string }, res: unknown, next: () => void) =>
    (req.path.startsWith('/docs') ? docsHeaders : apiHeaders)(req as never, res as never, next),
  );
  app.use(requestLogging(logger.pino));
  for (const parser of bodyParsers(config.webhook.bodyLimitBytes)) app.use(parser);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('ai-support')
      .setDescription(API_DESCRIPTION)
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' }, 'admin')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Webhook-Token', description: 'WEBHOOK_SECRET' }, 'webhook-token')
      .build(),
  );
  describeRawMimeBody(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', customSiteTitle: 'ai-support API' });
}
