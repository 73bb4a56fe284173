import proxyAddr from '@fastify/proxy-addr';
import { Controller, Get, Headers, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../../libs/crypto/index.js';
import { Public } from '../auth/auth.decorators.js';
import { forbidden, unauthorized } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from './metrics.service.js';
import { ApiProblems } from '../common/api-docs.js';

/** 127.0.0.0/8 and ::1, IPv4-mapped forms included (proxy-addr's own reading). */
const isLoopback = proxyAddr.compile('loopback');

@ApiTags('platform')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Public to the API-key guard: scrapers carry METRICS_TOKEN, not an API key. Without
   * METRICS_TOKEN only a loopback client is answered (the client address as TRUST_PROXY
   * resolves it, so a proxy on the same host does not make everyone local), unless
   * METRICS_PUBLIC=true opens it on purpose; others get a 403 problem.
   */
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics' })
  @Public()
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description:
      'Prometheus text format; needs `Authorization: Bearer <METRICS_TOKEN>` when set; without it, answered only to loopback clients unless METRICS_PUBLIC=true',
  })
  @ApiProblems(
    [401, 'METRICS_TOKEN is set and was not presented'],
    [403, 'no METRICS_TOKEN, not METRICS_PUBLIC, and not loopback'],
  )
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
      if (!constantTimeEqual(presented, expected)) {
        throw unauthorized('Send "Authorization: Bearer <METRICS_TOKEN>"');
      }
    } else if (!this.config.metricsPublic && !isLoopback(req.ip, 0)) {
      throw forbidden(
        'Without METRICS_TOKEN, metrics are served to loopback clients only (or set METRICS_PUBLIC=true)',
      );
    }
    const { contentType, body } = await this.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  }
}
