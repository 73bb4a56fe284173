import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantSettings } from './tenant-settings.js';

@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  display_name: string;

  @Column({ type: 'jsonb' })
  settings: TenantSettings;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;
}
