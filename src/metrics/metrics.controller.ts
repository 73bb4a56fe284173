import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { constantTimeEqual } from '../../libs/crypto/index.js';
import { Public } from '../auth/auth.decorators.js';
import { unauthorized } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('platform')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Public to the API-key guard: scrapers carry METRICS_TOKEN, not an API key. When
   * METRICS_TOKEN is unset the endpoint is open (keep it off the public listener then).
   */
  @Get()
  @Public()
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format; needs `Authorization: Bearer <METRICS_TOKEN>` when set',
  })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
      if (!constantTimeEqual(presented, expected)) {
        throw unauthorized('Send "Authorization: Bearer <METRICS_TOKEN>"');
      }
    }
    const { contentType, body } = await this.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  }
}
