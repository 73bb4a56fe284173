import { AuditService } from '../src/audit/audit.service.js';
import { EmailTokensService } from '../src/email-flows/email-tokens.service.js';
import { waitUntil, newTenant, startTestApp, type TestApp } from './harness.js';
import { MailCatcher } from './mail-support.js';
import { userToken } from './user-token-support.js';

const UA = 'audit-email-test/1.0';

/** Password reset and email verification/change are logged with subject, actor and address. */
describe('audit events: email flows', () => {
  let t: TestApp;
  // A mail server that takes everything: these tests read tokens from the token service.
  const smtp = new MailCatcher();
  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function events(tenantId: string, type: string) {
    const found = await waitUntil(
      `a ${type} event`,
      async () => {
        await t.app.get(AuditService).flush();
        const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?type=${type}`);
        return r.body.data.length > 0 && (r.body.data as Array<Record<string, unknown>>);
      },
      { timeoutMs: 2_500, intervalMs: 50 },
    ).catch(() => []);
    return found;
  }

  it('records reset request and completion, verification, and email change', async () => {
    const { tenantId, key } = await newTenant(t, ['users:write', 'api-keys:write']);
    const base = `/api/v1/tenants/${tenantId}`;
    const user = await t.http('POST', `${base}/users`, {
      key,
      body: { username: 'frank', email: 'frank@example.test', password: 'old password 123' },
    });
    const userId = user.body.user_id as string;
    const headers = { 'user-agent': UA };
    const tokens = t.app.get(EmailTokensService);

    const requested = await t.http('POST', `${base}/password-reset`, {
      key: null,
      body: { email: 'frank@example.test' },
      headers,
    });
    expect(requested.status).toBe(202);
    const [req] = await events(tenantId, 'password_reset.requested');
    expect(req).toMatchObject({
      actor_type: 'system',
      subject_type: 'user',
      subject_id: userId,
      ip: '127.0.0.1',
      user_agent: UA,
      outcome: 'success',
    });

    const resetToken = await tokens.issueLink(
      tenantId,
      userId,
      'reset',
      'frank@example.test',
      60_000,
    );
    const done = await t.http('POST', `${base}/password-reset/confirm`, {
      key: null,
      body: { token: resetToken, password: 'new password 456' },
      headers,
    });
    expect(done.status).toBe(204);
    const [completed] = await events(tenantId, 'password_reset.completed');
    expect(completed).toMatchObject({
      actor_type: 'user',
      actor_id: userId,
      subject_id: userId,
      ip: '127.0.0.1',
      method: 'email_link',
    });
    expect(JSON.stringify(completed)).not.toContain('new password 456');

    const verifyToken = await tokens.issueLink(
      tenantId,
      userId,
      'verify',
      'frank@example.test',
      60_000,
    );
    expect(
      (
        await t.http('POST', `${base}/email/verify`, {
          key: null,
          body: { token: verifyToken },
          headers,
        })
      ).status,
    ).toBe(200);
    const [verified] = await events(tenantId, 'email.verified');
    expect(verified).toMatchObject({ actor_id: userId, subject_id: userId, ip: '127.0.0.1' });

    // Frank's own token from a fresh sign-in: an address change asks for it.
    const userKey = await userToken(t, tenantId, 'frank', 'new password 456');
    const change = await t.http('POST', `${base}/me/email`, {
      key: userKey,
      body: { new_email: 'frank2@example.test' },
      headers,
    });
    expect(change.status).toBe(202);
    const [asked] = await events(tenantId, 'email.change_requested');
    expect(asked).toMatchObject({
      actor_type: 'user',
      actor_id: userId,
      subject_id: userId,
      ip: '127.0.0.1',
      user_agent: UA,
    });
    const changeToken = await tokens.issueLink(
      tenantId,
      userId,
      'change',
      'frank2@example.test',
      60_000,
    );
    const confirmed = await t.http('POST', `${base}/email/confirm-change`, {
      key: null,
      body: { token: changeToken },
      headers,
    });
    expect(confirmed.status).toBe(200);
    const [changed] = await events(tenantId, 'email.changed');
    expect(changed).toMatchObject({ actor_id: userId, subject_id: userId, ip: '127.0.0.1' });
  });
});
