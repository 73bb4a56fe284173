import { escapeHtml } from '../common/html.js';
import { passwordResetMail, verifyEmailMail } from './templates.js';

describe('mail templates', () => {
  it('escapes the tenant name and the link in HTML', () => {
    const m = verifyEmailMail('<b>Acme</b> & "Co"', 'https://x.test/a?token=1&b="2"', 24);
    expect(m.html).toContain('&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Co&quot;');
    expect(m.html).not.toContain('<b>Acme');
    expect(m.html).toContain('href="https://x.test/a?token=1&amp;b=&quot;2&quot;"');
    expect(m.text).toContain('https://x.test/a?token=1&b="2"');
  });

  it('keeps the subject and sender on one line', () => {
    const m = passwordResetMail('Acme\r\nBcc: evil@x.test', 'https://x.test', 60);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.fromName).toBe('Acme Bcc: evil@x.test');
  });

  it('escapes every HTML metacharacter', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
