import { type Filter, matchesElement, parseFilter, parsePatchPath } from './scim.filter.js';
import { compileFilter } from './scim.sql.js';
import { GROUP_RESOURCE, USER_RESOURCE } from './scim.schemas.js';

describe('SCIM filter parser', () => {
  it('parses the RFC 7644 §3.4.2.2 examples', () => {
    expect(parseFilter('userName Eq "john"')).toEqual({
      op: 'eq',
      attr: 'userName',
      value: 'john',
    });
    expect(parseFilter('title pr')).toEqual({ op: 'pr', attr: 'title' });
    expect(parseFilter('title pr and userType eq "Employee" or active eq true')).toEqual({
      op: 'or',
      left: {
        op: 'and',
        left: { op: 'pr', attr: 'title' },
        right: { op: 'eq', attr: 'userType', value: 'Employee' },
      },
      right: { op: 'eq', attr: 'active', value: true },
    });
    expect(parseFilter('userType ne "Employee" and not (emails co "example.com")')).toEqual({
      op: 'and',
      left: { op: 'ne', attr: 'userType', value: 'Employee' },
      right: { op: 'not', filter: { op: 'co', attr: 'emails', value: 'example.com' } },
    });
    expect(parseFilter('emails[type eq "work" and value co "@example.com"]')).toEqual({
      op: 'valuePath',
      attr: 'emails',
      filter: {
        op: 'and',
        left: { op: 'eq', attr: 'type', value: 'work' },
        right: { op: 'co', attr: 'value', value: '@example.com' },
      },
    });
    expect(
      parseFilter(
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
      ),
    ).toMatchObject({
      attr: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
    });
  });

  it('decodes JSON string escapes and numbers', () => {
    expect((parseFilter('displayName eq "caf\\u00e9 \\"q\\""') as { value: string }).value).toBe(
      'café "q"',
    );
    expect((parseFilter('x gt 1.5e2') as { value: number }).value).toBe(150);
    expect((parseFilter('x eq null') as { value: null }).value).toBeNull();
  });

  it.each([
    '',
    'userName',
    'userName eq',
    'userName like "a"',
    'userName eq "a" or',
    '(userName eq "a"',
    'userName eq "a")',
    'not userName eq "a"',
    'userName eq bare',
    'a.b.c eq "x"',
    '"x" eq "y"',
    'emails[type eq "work"',
    '('.repeat(40) + 'a pr' + ')'.repeat(40),
  ])('refuses %j with invalidFilter', (f) => {
    expect(() => parseFilter(f)).toThrow(
      expect.objectContaining({ status: 400, scimType: 'invalidFilter' }),
    );
  });

  it('parses PATCH paths', () => {
    expect(parsePatchPath('members')).toEqual({ attr: 'members' });
    expect(parsePatchPath('name.familyName')).toEqual({ attr: 'name.familyName' });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({
      attr: 'emails',
      filter: { op: 'eq', attr: 'type', value: 'work' },
      sub: 'value',
    });
    expect(() => parsePatchPath('emails[type eq "work"]x')).toThrow(
      expect.objectContaining({ scimType: 'invalidPath' }),
    );
    expect(() => parsePatchPath('emails[type eq]')).toThrow(
      expect.objectContaining({ scimType: 'invalidPath' }),
    );
  });

  it('evaluates value filters on elements case-insensitively', () => {
    const f = parseFilter('type eq "WORK" and primary eq true') as Filter;
    expect(matchesElement(f, { type: 'work', primary: true })).toBe(true);
    expect(matchesElement(f, { Type: 'work', primary: 'True' })).toBe(true);
    expect(matchesElement(f, { type: 'home', primary: true })).toBe(false);
    expect(matchesElement(parseFilter('not (display pr)'), { value: 'x' })).toBe(true);
  });
});

function sql(f: string, kind: 'User' | 'Group' = 'User') {
  const p = { params: {} as Record<string, unknown>, next: 0 };
  const text = compileFilter(
    kind === 'User' ? USER_RESOURCE : GROUP_RESOURCE,
    kind,
    parseFilter(f),
    p,
  );
  return { text, params: p.params };
}

describe('SCIM filters as SQL', () => {
  it('binds every value as a parameter, never in the SQL text', () => {
    const evil = `x'); DROP TABLE users; --`;
    const { text, params } = sql(`userName eq "${evil}" or displayName co "${evil}"`);
    expect(text).not.toContain('DROP');
    expect(Object.values(params)).toEqual([evil.toLowerCase(), `%${evil.toLowerCase()}%`]);
  });

  it('uses the index expressions of the directory for the lookups clients make', () => {
    expect(sql('userName eq "A@B.c"')).toEqual({
      text: 'lower(u.username) COLLATE "C" = :scimp0',
      params: { scimp0: 'a@b.c' },
    });
    expect(sql('externalId eq "AbC"')).toEqual({
      text: 'u.external_id = :scimp0',
      params: { scimp0: 'AbC' },
    });
    expect(sql('displayName eq "Sales"', 'Group').text).toBe(
      'lower(coalesce(g.display_name, g.name)) = :scimp0',
    );
  });

  it('escapes LIKE metacharacters', () => {
    expect(sql('userName sw "a_b%"').params).toEqual({ scimp0: 'a\\_b\\%%' });
  });

  it('keeps NOT two-valued over absent attributes', () => {
    expect(sql('not (title eq "x")').text).toBe(
      `NOT COALESCE(lower(u.scim->>'title') = :scimp0, FALSE)`,
    );
  });
});
