import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SubjectKind } from './subjects.js';

export type BlockKind = SubjectKind;

/** What every block row holds: which subject, until when, after how many failures. */
abstract class BlockRecord {
  @PrimaryColumn({ type: 'text' })
  kind: BlockKind;

  @PrimaryColumn({ type: 'text' })
  subject: string;

  @Column({ type: 'timestamptz' })
  blocked_until: Date;

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}

/** A block that started; the row is what listing and unblocking see from any replica. */
@Entity({ name: 'blocks' })
export class BlockEntity extends BlockRecord {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;
}

/** A running platform-wide block (failed API-key authentications per IP), like `blocks`. */
@Entity({ name: 'platform_blocks' })
export class PlatformBlockEntity extends BlockRecord {}
