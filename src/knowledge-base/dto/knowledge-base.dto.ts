import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

// Rules run bottom-up and only the first to fail is reported (common/validation.ts): each
// property writes its type check last, so a value of the wrong type is told so.
export class SearchKnowledgeBaseQuery {
  @ApiProperty({ example: 'как вернуть товар в личном кабинете', maxLength: 1000 })
  @MaxLength(1000)
  @IsNotEmpty({ message: 'must not be empty' })
  @IsString()
  q: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 5, example: 5 })
  @IsOptional()
  @Type(() => Number)
  @Max(50, { message: 'must be a whole number between 1 and 50' })
  @Min(1, { message: 'must be a whole number between 1 and 50' })
  @IsInt({ message: 'must be a whole number between 1 and 50' })
  limit: number = 5;
}

export class KnowledgeSearchHitDto {
  @ApiProperty({ example: 'returns/how-to-return', description: 'Path of the article under the folder, without .md' })
  id: string;

  @ApiProperty({ example: 'Как вернуть товар' })
  title: string;

  @ApiProperty({ example: 8.314, description: 'BM25 score; only comparable within one answer' })
  score: number;

  @ApiProperty({ example: '…Оформить возврат можно в личном кабинете в разделе «Мои заказы»…' })
  snippet: string;
}

export class KnowledgeBaseStatusDto {
  @ApiProperty({ example: true })
  loaded: boolean;

  @ApiProperty({ example: 18 })
  articles: number;

  @ApiProperty({ example: 31 })
  sections: number;

  @ApiProperty({ nullable: true, example: '2026-11-26T09:00:00.000Z' })
  loadedAt: string | null;

  @ApiProperty({ type: [String], description: 'Files skipped at the last load, with the reason' })
  warnings: string[];
}
