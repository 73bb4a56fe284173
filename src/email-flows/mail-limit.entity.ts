import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How much mail one subject has asked for in its current window (see MailLimits). */
@Entity({ name: 'mail_limits' })
export class MailLimitEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  /** `ip:<address or /64>` or `address:<purpose>:<keyed hash of the lower-cased address>`. */
  @PrimaryColumn({ type: 'text' })
  subject: string;

  /** When the current window opened (the first request after the last one ran out). */
  @Column({ type: 'timestamptz' })
  window_start: Date;

  @Column({ type: 'integer' })
  count: number;
}
