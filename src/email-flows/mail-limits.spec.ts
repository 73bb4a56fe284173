import { ipSubject } from './mail-limits.js';

describe('mail limit subjects', () => {
  it('counts an IPv4 address as itself, also when mapped into IPv6', () => {
    expect(ipSubject('192.0.2.7')).toBe('ip:192.0.2.7');
    expect(ipSubject('::ffff:192.0.2.7')).toBe('ip:192.0.2.7');
  });

  it('counts IPv6 per /64, whatever the spelling of the address', () => {
    const subject = 'ip:2001:db8:0:1::/64';
    expect(ipSubject('2001:db8:0:1::1')).toBe(subject);
    expect(ipSubject('2001:0DB8:0000:0001:ffff:ffff:ffff:ffff')).toBe(subject);
    expect(ipSubject('2001:db8::1:0:0:0:2')).toBe(subject);
    expect(ipSubject('2001:db8:0:2::1')).not.toBe(subject);
    expect(ipSubject('::1')).toBe('ip:0:0:0:0::/64');
  });
});
