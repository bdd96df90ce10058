import { Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminAuthGuard } from '../common/http/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/http/error-body.dto.js';
import { KnowledgeBaseStatusDto, KnowledgeSearchHitDto, SearchKnowledgeBaseQuery } from './dto/knowledge-base.dto.js';
import { KnowledgeBaseService } from './knowledge-base.service.js';

@ApiTags('knowledge-base')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'ADMIN_API_KEY is set and the bearer token is missing or wrong', type: ErrorBodyDto })
@UseGuards(AdminAuthGuard)
@Controller('api/knowledge-base')
export class KnowledgeBaseController {
  constructor(private readonly knowledgeBase: KnowledgeBaseService) {}

  @Get('search')
  @ApiOperation({
    summary: 'Search the knowledge base',
    description: 'Russian and English, with word forms: a query in one grammatical case finds articles in another.',
  })
  @ApiOkResponse({ type: [KnowledgeSearchHitDto], description: 'Best first' })
  @ApiBadRequestResponse({ description: 'q is missing or limit is out of range', type: ErrorBodyDto })
  async search(@Query() query: SearchKnowledgeBaseQuery): Promise<KnowledgeSearchHitDto[]> {
    await this.knowledgeBase.whenLoaded();
    return this.knowledgeBase.search(query.q, query.limit);
  }

  @Get()
  @ApiOperation({ summary: 'What is loaded: article and section counts, skipped files' })
  @ApiOkResponse({ type: KnowledgeBaseStatusDto })
  status(): KnowledgeBaseStatusDto {
    return this.knowledgeBase.status();
  }

  @Post('reload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-read KNOWLEDGE_BASE_DIR now (it is also re-read when files change)' })
  @ApiOkResponse({ type: KnowledgeBaseStatusDto })
  reload(): Promise<KnowledgeBaseStatusDto> {
    return this.knowledgeBase.reload();
  }
}
