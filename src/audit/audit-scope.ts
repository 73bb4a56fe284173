import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  EntitySubscriberInterface,
  InsertEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import type { AuditEventEntity } from './audit-event.entity.js';

/**
 * The audit events of one change request (management API, SCIM) while it runs. Events recorded
 * in it are not buffered: they ride along with the request's next committing transaction (the
 * change's own), and whatever is left is written before the answer goes out. So a change that
 * committed has its event in the same commit, and an acknowledged change is always audited.
 */
export class AuditScope {
  /** Recorded, not yet handed to a transaction. */
  pending: AuditEventEntity[] = [];
  /** Handed to a transaction that has not committed yet, per transaction (query runner). */
  readonly inFlight = new Map<object, AuditEventEntity[]>();
  /** Committed (event ids). */
  readonly written = new Set<string>();
  /**
   * A staged event whose subject is the row the request creates: the first insert into `table`
   * names it (`field`), so the event carries it in the same commit.
   */
  subjectFrom?: { event: AuditEventEntity; table: string; field: string };
}

export const auditScope = new AsyncLocalStorage<AuditScope>();

/** Where a change request carries its scope, for the send hook (a handler may answer itself). */
export const SCOPE_OF_REQUEST = Symbol('idp:audit-scope');

/**
 * The TypeORM hook that puts a scope's pending events into the transaction about to commit
 * (the change's own, since the scope is the request's): same commit, or neither.
 */
export class AuditOutboxSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly insert: (
      events: AuditEventEntity[],
      event: TransactionCommitEvent,
    ) => Promise<void>,
  ) {}

  afterInsert(event: InsertEvent<unknown>) {
    const from = auditScope.getStore()?.subjectFrom;
    if (!from || from.event.subject_id || event.metadata.tableName !== from.table) return;
    const id = (event.entity as Record<string, unknown> | undefined)?.[from.field];
    if (typeof id === 'string') from.event.subject_id = id;
  }

  async beforeTransactionCommit(event: TransactionCommitEvent) {
    const scope = auditScope.getStore();
    if (!scope?.pending.length) return;
    const events = scope.pending.splice(0);
    scope.inFlight.set(event.queryRunner, [
      ...(scope.inFlight.get(event.queryRunner) ?? []),
      ...events,
    ]);
    await this.insert(events, event);
  }

  afterTransactionCommit(event: TransactionCommitEvent) {
    const events = this.take(event.queryRunner);
    if (events) for (const e of events.list) events.scope.written.add(e.event_id);
  }

  afterTransactionRollback(event: TransactionRollbackEvent) {
    const events = this.take(event.queryRunner);
    // The change did not happen: its events go back to wait for the next commit or the answer.
    if (events) events.scope.pending.unshift(...events.list);
  }

  private take(runner: object) {
    const scope = auditScope.getStore();
    const list = scope?.inFlight.get(runner);
    if (!scope || !list) return undefined;
    scope.inFlight.delete(runner);
    return { scope, list };
  }
}
