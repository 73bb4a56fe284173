import { invalidFilter, invalidPath } from './scim.errors.js';

/**
 * SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2), parsed by hand rather than with
 * scim2-parse-filter: that library re-escapes backslashes inside string literals (so
 * `"caf\u00e9"` compares as the six characters `caf\u00e9`), reports errors as plain strings,
 * and has no parser for PATCH paths (`emails[type eq "work"].value`), which share this grammar.
 */

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type CompValue = string | number | boolean | null;

export type Filter =
  | { op: CompareOp; attr: string; value: CompValue }
  | { op: 'pr'; attr: string }
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  /** `attr[filter]`: one element of a multi-valued attribute satisfies the inner filter. */
  | { op: 'valuePath'; attr: string; filter: Filter };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

interface Token {
  kind: 'word' | 'string' | '(' | ')' | '[' | ']';
  text: string;
  pos: number;
}

const ATTR_PATH =
  /^(?:urn:[A-Za-z0-9.:_-]+:)?[A-Za-z$][A-Za-z0-9_$-]*(?:\.[A-Za-z$][A-Za-z0-9_$-]*)?$/;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c, text: c, pos: i });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw invalidFilter(`Unterminated string starting at ${i}`);
      tokens.push({ kind: 'string', text: input.slice(i, j + 1), pos: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !' \t\n\r()[]"'.includes(input[j])) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j), pos: i });
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw invalidFilter(`Unexpected end of filter, expected ${what}`);
    return t;
  }

  atEnd() {
    return this.i >= this.tokens.length;
  }

  private isKeyword(t: Token | undefined, word: string) {
    return t?.kind === 'word' && t.text.toLowerCase() === word;
  }

  parseOr(): Filter {
    if (++this.depth > MAX_DEPTH) throw invalidFilter('The filter is nested too deeply');
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.i++;
      left = { op: 'or', left, right: this.parseAnd() };
    }
    this.depth--;
    return left;
  }

  private parseAnd(): Filter {
    let left = this.parseUnary();
    while (this.isKeyword(this.peek(), 'and')) {
      this.i++;
      left = { op: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Filter {
    const t = this.next('an attribute, "not" or "("');
    if (t.kind === '(') {
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    if (this.isKeyword(t, 'not')) {
      if (this.peek()?.kind !== '(') throw invalidFilter('"not" must be followed by "("');
      return { op: 'not', filter: this.parseUnary() };
    }
    if (t.kind !== 'word') throw invalidFilter(`Unexpected ${t.text} at ${t.pos}`);
    const attr = checkAttrPath(t.text, invalidFilter);
    const opToken = this.next('an operator');
    if (opToken.kind === '[') {
      if (attr.includes('.') && !attr.startsWith('urn:')) {
        throw invalidFilter(`A value filter applies to an attribute, not ${attr}`);
      }
      const inner = this.parseOr();
      this.expect(']');
      return { op: 'valuePath', attr, filter: inner };
    }
    const op = opToken.text.toLowerCase();
    if (opToken.kind !== 'word') throw invalidFilter(`Expected an operator after ${attr}`);
    if (op === 'pr') return { op: 'pr', attr };
    if (!COMPARE_OPS.has(op)) throw invalidFilter(`Unknown operator "${opToken.text}"`);
    return { op: op as CompareOp, attr, value: this.parseValue() };
  }

  private parseValue(): CompValue {
    const t = this.next('a value');
    if (t.kind === 'string') {
      try {
        return JSON.parse(t.text) as string;
      } catch {
        throw invalidFilter(`Invalid string literal at ${t.pos}`);
      }
    }
    if (t.kind !== 'word') throw invalidFilter(`Expected a value at ${t.pos}`);
    const lower = t.text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (/^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(t.text)) return Number(t.text);
    throw invalidFilter(`Expected a quoted string, a number, true, false or null at ${t.pos}`);
  }

  expect(kind: Token['kind']) {
    const t = this.next(`"${kind}"`);
    if (t.kind !== kind) throw invalidFilter(`Expected "${kind}" at ${t.pos}, found ${t.text}`);
  }
}

function checkAttrPath(text: string, fail: (d: string) => Error): string {
  if (!ATTR_PATH.test(text)) throw fail(`"${text}" is not an attribute path`);
  return text;
}

export function parseFilter(input: string): Filter {
  if (typeof input !== 'string' || !input.trim()) throw invalidFilter('The filter is empty');
  if (input.length > MAX_FILTER_LENGTH) throw invalidFilter('The filter is too long');
  const parser = new Parser(tokenize(input));
  const filter = parser.parseOr();
  if (!parser.atEnd()) {
    throw invalidFilter(`Unexpected "${parser.peek()!.text}" at ${parser.peek()!.pos}`);
  }
  return filter;
}

/** A PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub` (URN prefix allowed). */
export interface PatchPath {
  attr: string;
  filter?: Filter;
  sub?: string;
}

export function parsePatchPath(input: unknown): PatchPath {
  if (typeof input !== 'string' || !input.trim())
    throw invalidPath('The path must be a non-empty string');
  const path = input.trim();
  if (path.length > MAX_FILTER_LENGTH) throw invalidPath('The path is too long');
  const open = path.indexOf('[');
  if (open < 0) {
    checkAttrPath(path, invalidPath);
    return { attr: path };
  }
  const close = path.lastIndexOf(']');
  if (close < open) throw invalidPath(`Unbalanced "[" in path ${path}`);
  const attr = checkAttrPath(path.slice(0, open), invalidPath);
  const rest = path.slice(close + 1);
  let sub: string | undefined;
  if (rest) {
    if (!/^\.[A-Za-z$][A-Za-z0-9_$-]*$/.test(rest))
      throw invalidPath(`Unexpected "${rest}" in path`);
    sub = rest.slice(1);
  }
  let filter: Filter;
  try {
    filter = parseFilter(path.slice(open + 1, close));
  } catch (e) {
    throw invalidPath(`Invalid value filter in path: ${(e as Error).message}`);
  }
  return { attr, filter, sub };
}

// ---- in-memory evaluation (PATCH value filters on the elements of a multi-valued attribute)

function getCI(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function compare(actual: unknown, op: CompareOp, expected: CompValue): boolean {
  if (expected === null) return op === 'eq' ? actual == null : op === 'ne' ? actual != null : false;
  if (actual === undefined || actual === null) return op === 'ne';
  if (typeof expected === 'boolean') {
    const a = typeof actual === 'string' ? actual.toLowerCase() === 'true' : actual === true;
    if (op === 'eq') return a === expected;
    if (op === 'ne') return a !== expected;
    return false;
  }
  const a = typeof actual === 'string' ? actual.toLowerCase() : String(actual);
  const e = typeof expected === 'string' ? expected.toLowerCase() : String(expected);
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
  }
}

/** Does `element` (an object of sub-attributes, or a plain value) satisfy `filter`? Strings compare case-insensitively. */
export function matchesElement(filter: Filter, element: unknown): boolean {
  switch (filter.op) {
    case 'and':
      return matchesElement(filter.left, element) && matchesElement(filter.right, element);
    case 'or':
      return matchesElement(filter.left, element) || matchesElement(filter.right, element);
    case 'not':
      return !matchesElement(filter.filter, element);
    case 'valuePath':
      throw invalidFilter('Value filters cannot be nested');
    case 'pr': {
      const v = element && typeof element === 'object' ? getCI(element, filter.attr) : undefined;
      return v !== undefined && v !== null && v !== '';
    }
    default: {
      const v =
        element && typeof element === 'object'
          ? getCI(element, filter.attr)
          : filter.attr.toLowerCase() === 'value'
            ? element
            : undefined;
      return compare(v, filter.op, filter.value);
    }
  }
}

/** The attributes an element needs to carry to satisfy `filter` when it is a plain `a eq x and b eq y`. */
export function equalityTemplate(filter: Filter): Record<string, CompValue> | undefined {
  if (filter.op === 'eq') return { [filter.attr]: filter.value };
  if (filter.op === 'and') {
    const l = equalityTemplate(filter.left);
    const r = equalityTemplate(filter.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}
