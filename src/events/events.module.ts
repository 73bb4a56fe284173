import { Global, Module } from '@nestjs/common';
import { ClusterSignals } from './cluster-signals.js';
import { InvalidationRelay } from './invalidation-relay.js';

/** Global: any module may emit or follow a cluster signal without importing this one. */
@Global()
@Module({
  providers: [InvalidationRelay, ClusterSignals],
  exports: [InvalidationRelay, ClusterSignals],
})
export class EventsModule {}
