import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { crossTenant } from '../../libs/tenancy/index.js';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { Drain } from '../common/drain.js';
import { ProblemException } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty() version: string;
  @ApiProperty() env: string;
}

class ReadyDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { database: 'ok' },
  })
  checks: Record<string, string>;
}

@ApiTags('platform')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly drain: Drain,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process serves requests' })
  @Public()
  @ApiOkResponse({ type: HealthDto, description: 'liveness: the process serves requests' })
  health(): HealthDto {
    return { status: 'ok', version: this.config.version, env: this.config.env };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers and the server is not draining' })
  @Public()
  @ApiOkResponse({ type: ReadyDto, description: 'readiness: the database answers' })
  @ApiProblems([503, 'the database does not answer, or the server is shutting down'])
  async ready(): Promise<ReadyDto> {
    if (this.drain.draining)
      throw new ProblemException(
        503,
        'unavailable',
        'Service unavailable',
        'The server is shutting down',
      );
    try {
      await Promise.race([
        crossTenant(this.db).sql('health_ping', 'SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
    } catch {
      throw new ProblemException(
        503,
        'unavailable',
        'Service unavailable',
        'The database is not reachable',
      );
    }
    return { status: 'ok', checks: { database: 'ok' } };
  }
}
