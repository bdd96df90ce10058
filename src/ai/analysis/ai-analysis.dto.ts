import { ArrayMaxSize, IsArray, IsEnum, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Decision } from '../../tickets/ticket-status.js';

/**
 * What the model must return. The seed's four fields are required; confidence, language, the
 * articles used, the missing details and the escalation reason are ours and optional.
 */
export class AiAnalysisDto {
  @IsString()
  @MaxLength(255)
  full_name: string;

  @IsString()
  @MaxLength(2000)
  issue_summary: string;

  @IsEnum(Decision, { message: `must be one of ${Object.values(Decision).join(', ')}` })
  decision: Decision;

  @IsString()
  @MaxLength(20_000)
  draft_reply: string;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  confidence?: number;

  @IsOptional()
  @IsString()
  @MaxLength(16)
  language?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  used_article_ids?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  missing_details?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  escalation_reason?: string;
}

/** The validated analysis in our own spelling. */
export interface AiAnalysis {
  fullName: string | null;
  issueSummary: string;
  decision: Decision;
  draftReply: string;
  /** Null when the model gave none: a full_answer without one is escalated (decision-policy.ts). */
  confidence: number | null;
  language: string | null;
  usedArticleIds: string[];
  missingDetails: string[];
  escalationReason: string | null;
}
