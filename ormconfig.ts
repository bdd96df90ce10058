import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { parseDatabaseUrl } from './src/config/database-url.js';
import { buildDataSourceOptions } from './src/database/data-source.options.js';

/**
 * The TypeORM CLI data source (`npm run migration:run`, `migration:show`, `migration:revert`).
 * Same DATABASE_URL, same .env and the same options builder as the application.
 */
if (existsSync('.env')) process.loadEnvFile('.env');

export default new DataSource(
  buildDataSourceOptions(parseDatabaseUrl(process.env.DATABASE_URL ?? 'sqlite:./data/ai-support.sqlite')),
);
