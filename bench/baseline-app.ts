import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InboundEmailDto } from '../src/webhook/dto/inbound-email.dto.js';

/**
 * The ingestion baseline: a bare NestJS POST route from the same build that validates the same
 * DTO as the webhook and answers 202 without storing anything. Run as its own process, like the
 * service, so both meet the same load generator under the same conditions.
 */
@Controller('api/webhook')
class BaselineController {
  @Post('email')
  @HttpCode(202)
  receive(@Body() email: InboundEmailDto): { ticketId: string; status: string; duplicate: boolean } {
    void email;
    return { ticketId: randomUUID(), status: 'received', duplicate: false };
  }
}

@Module({ controllers: [BaselineController] })
class BaselineModule {}

const app = await NestFactory.create(BaselineModule, { logger: false });
app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, transform: true }));
await app.listen(Number(process.env.PORT ?? 8100), '127.0.0.1');
process.stdout.write('ready\n');
