import { Injectable } from '@nestjs/common';

/** A user's link to an upstream identity provider, as GET /me lists it (issue 21). */
export interface MeIdentity {
  id: string;
  provider_id: string;
  label: string;
  icon_url: string | null;
  subject: string;
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** What other modules add to GET /me, each under its own key. */
export interface MeExtras {
  identities: MeIdentity[];
}

type Section<K extends keyof MeExtras> = (tenantId: string, userId: string) => Promise<MeExtras[K]>;

/**
 * GET /me's parts owned by other modules (the upstream module's linked identities): they
 * register here, so the users module answers /me without depending on them.
 */
@Injectable()
export class MeSections {
  private readonly sections = new Map<keyof MeExtras, Section<keyof MeExtras>>();

  register<K extends keyof MeExtras>(key: K, section: Section<K>): void {
    this.sections.set(key, section);
  }

  async collect(tenantId: string, userId: string): Promise<Partial<MeExtras>> {
    const entries = await Promise.all(
      [...this.sections].map(async ([key, section]) => [key, await section(tenantId, userId)]),
    );
    return Object.fromEntries(entries) as Partial<MeExtras>;
  }
}
