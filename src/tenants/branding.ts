import type { TenantSettings } from './tenant-settings.js';

/** How a tenant's pages and mails look: its name, logo and colour. */
export interface Branding {
  tenantId: string;
  displayName: string;
  logoUrl: string | null;
  primaryColor: string | null;
}

export function brandingOf(
  tenantId: string,
  settings: Pick<TenantSettings, 'logo_url' | 'primary_color'> & { display_name: string },
): Branding {
  return {
    tenantId,
    displayName: settings.display_name,
    logoUrl: settings.logo_url,
    primaryColor: settings.primary_color,
  };
}
