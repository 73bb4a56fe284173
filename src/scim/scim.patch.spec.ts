import { applyPatch, parsePatchRequest, type PatchOperation } from './scim.patch.js';
import { SCHEMA_ENTERPRISE, SCHEMA_PATCH, USER_RESOURCE } from './scim.schemas.js';

const patch = (doc: Record<string, unknown>, Operations: unknown[]) =>
  applyPatch(USER_RESOURCE, doc, parsePatchRequest({ schemas: [SCHEMA_PATCH], Operations }));

describe('SCIM PATCH engine', () => {
  const base = {
    userName: 'u',
    active: true,
    emails: [{ value: 'a@x.com', type: 'work', primary: true }],
    name: { givenName: 'A', familyName: 'B' },
  };

  it('reads op names case-insensitively and "True"/"False" as booleans', () => {
    expect(patch(base, [{ op: 'Replace', path: 'active', value: 'False' }]).active).toBe(false);
    expect(patch(base, [{ op: 'REPLACE', path: 'Active', value: 'true' }]).active).toBe(true);
    expect(() =>
      parsePatchRequest({ schemas: [SCHEMA_PATCH], Operations: [{ op: 'copy', path: 'x' }] }),
    ).toThrow(expect.objectContaining({ scimType: 'invalidSyntax' }));
  });

  it('path-less values whose keys are attribute paths (Entra), ignoring read-only keys (Okta)', () => {
    const out = patch(base, [
      {
        op: 'replace',
        value: {
          id: 'ignored',
          displayName: 'D',
          'name.givenName': 'K',
          [`${SCHEMA_ENTERPRISE}:employeeNumber`]: '7',
          [SCHEMA_ENTERPRISE]: { department: 'R&D' },
        },
      },
    ]);
    expect(out).toMatchObject({ displayName: 'D', name: { givenName: 'K', familyName: 'B' } });
    expect(out[SCHEMA_ENTERPRISE]).toEqual({ employeeNumber: '7', department: 'R&D' });
    expect(out.id).toBeUndefined();
  });

  it('Add on a filtered single value replaces it, or creates the element', () => {
    const out = patch(base, [
      { op: 'Add', path: 'emails[type eq "work"].value', value: 'new@x.com' },
      { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1' },
    ]);
    expect(out.emails).toEqual([{ value: 'new@x.com', type: 'work', primary: true }]);
    expect(out.phoneNumbers).toEqual([{ type: 'mobile', value: '+1' }]);
  });

  it('manager as a bare id, removal by path', () => {
    const path = `${SCHEMA_ENTERPRISE}:manager`;
    const withManager = patch(base, [{ op: 'add', path, value: 'abc' }]);
    expect(withManager[SCHEMA_ENTERPRISE]).toEqual({ manager: { value: 'abc' } });
    expect(patch(withManager, [{ op: 'remove', path }])[SCHEMA_ENTERPRISE]).toBeUndefined();
  });

  it('remove with a value list removes those elements; without a value, all', () => {
    const doc = { ...base, emails: [{ value: 'a@x.com' }, { value: 'b@x.com' }] };
    expect(
      patch(doc, [{ op: 'remove', path: 'emails', value: [{ value: 'A@x.com' }] }]).emails,
    ).toEqual([{ value: 'b@x.com' }]);
    expect(patch(doc, [{ op: 'remove', path: 'emails' }]).emails).toBeUndefined();
  });

  it('a sub-attribute path without a filter applies to every element', () => {
    const doc = { ...base, phoneNumbers: [{ value: '1' }, { value: '2', type: 'home' }] };
    expect(
      patch(doc, [{ op: 'replace', path: 'phoneNumbers.type', value: 'work' }]).phoneNumbers,
    ).toEqual([
      { value: '1', type: 'work' },
      { value: '2', type: 'work' },
    ]);
    expect(patch(doc, [{ op: 'remove', path: 'phoneNumbers.type' }]).phoneNumbers).toEqual([
      { value: '1' },
      { value: '2' },
    ]);
  });

  it('does not touch its input, so a failing request changes nothing', () => {
    const doc = structuredClone(base);
    expect(() =>
      patch(doc, [
        { op: 'replace', path: 'displayName', value: 'X' },
        { op: 'replace', path: 'id', value: 'y' },
      ]),
    ).toThrow(expect.objectContaining({ scimType: 'mutability' }));
    expect(doc).toEqual(base);
  });

  it('refuses a remove of a required attribute and unknown attributes', () => {
    expect(() => patch(base, [{ op: 'remove', path: 'userName' }])).toThrow(
      expect.objectContaining({ scimType: 'invalidValue' }),
    );
    expect(() => patch(base, [{ op: 'add', value: { shoeSize: 9 } }])).toThrow(
      expect.objectContaining({ scimType: 'invalidPath' }),
    );
    const ops: PatchOperation[] = [
      { op: 'add', value: { 'urn:example:custom:1.0:User:shoeSize': 9 } },
    ];
    expect(applyPatch(USER_RESOURCE, base, ops)).toEqual(base);
  });
});
