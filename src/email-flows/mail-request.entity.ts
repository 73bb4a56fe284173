import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One public request for mail (sign-in code, password reset), counted per subject in a window. */
@Entity({ name: 'mail_requests' })
export class MailRequestEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  request_id: string;

  /** `ip:<address>` or `address:<purpose>:<keyed hash of the lower-cased address>`. */
  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}
