import { Module } from '@nestjs/common';
import { InvalidationRelay } from './invalidation-relay.js';

@Module({ providers: [InvalidationRelay], exports: [InvalidationRelay] })
export class EventsModule {}
