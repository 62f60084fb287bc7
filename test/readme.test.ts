// The README teaches only what works: its API tour runs as written, in order, on the sample data; its
// curl bodies are valid requests; its error table is the server's list of codes (src/errors/codes.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { DEVELOPMENT_ADMIN, ensureDevelopmentAdmin } from '../src/dev-admin.js';
import { ERROR_CODES } from '../src/errors/index.js';
import { seedSample } from '../prisma/seed.js';
import { useTestApp } from './helpers/app.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The text of the section `## title` (up to the next `## `). */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Fenced blocks of a language, each with the prose since the previous block. */
function blocks(text: string, lang: string): { code: string; before: string }[] {
  const found: { code: string; before: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1] === lang) found.push({ code: m[2]!, before: text.slice(last, m.index) });
    last = m.index! + m[0].length;
  }
  return found;
}

describe('the README API tour', () => {
  const t = useTestApp();
  let token: string;
  beforeAll(async () => {
    await seedSample(t.db.prisma);
    await ensureDevelopmentAdmin(t.db.prisma);
    token = await signToken(t.config.auth, { sub: DEVELOPMENT_ADMIN.id, role: 'ADMIN' });
  });

  const tour = blocks(section('API tour'), 'graphql');

  it('shows every query and mutation of the contract', () => {
    const contract = readFileSync(path.join(root, 'contract/api-contract.graphql'), 'utf8');
    const fields = (type: string) => [...new RegExp(`type ${type} \\{([\\s\\S]*?)\\n\\}`).exec(contract)![1]!.matchAll(/^\s+"?([a-z]\w*)[(:]/gm)].map((m) => m[1]!);
    const shown = tour.map((b) => b.code).join('\n');
    for (const field of [...fields('Query'), ...fields('Mutation')]) expect(shown, field).toMatch(new RegExp(`\\b${field}\\s*[({]`));
    expect(section('API tour')).toContain('subscription { events');
  });

  it('runs every block as written, in order, as the development admin', async () => {
    expect(tour.length).toBeGreaterThan(8);
    let claims = 0;
    for (const { code, before } of tour) {
      const res = await t.gql(code, {}, { token });
      expect(res.errors, code).toBeUndefined();
      for (const [field, value] of Object.entries(res.data ?? {})) {
        expect(value, `${field} in\n${code}`).not.toBeNull();
        const typename = (value as { __typename?: string }).__typename;
        if (code.trimStart().startsWith('mutation')) expect(typename, code).toMatch(/Success$/);
      }
      // "Run it twice: the second answers `X`" must be what happens.
      const claim = /second(?: run)? answers `(\w+)`/.exec((before.trim().split('\n\n').at(-1) ?? '').replace(/\s+/g, ' '));
      if (claim) {
        claims++;
        const again = await t.gql(code, {}, { token });
        expect(
          Object.values(again.data ?? {}).map((v) => (v as { __typename: string }).__typename),
          code,
        ).toEqual([claim[1]]);
      }
    }
    expect(claims).toBe(3);
  });

  it('its curl bodies are requests the server answers without errors', async () => {
    const bodies = [section('Quick start'), section('API tour')]
      .flatMap((text) => blocks(text, 'sh'))
      .flatMap((b) => [...b.code.matchAll(/-d '(\{[\s\S]*?\})'/g)].map((m) => m[1]!))
      .filter((body) => !body.includes('subscription'));
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const body of bodies) {
      const res = await t.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      const json = (await res.json()) as { errors?: unknown };
      expect(json.errors, body).toBeUndefined();
    }
  });
});

/** Every TypeScript file under src/ but the generated client. */
function sources(dir = path.join(root, 'src')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'generated') return [];
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

describe('the README error table', () => {
  it('is ERROR_CODES, row by row: every code with its HTTP statuses and meaning', () => {
    const rows = [...section('Errors').matchAll(/^\| `([A-Z][A-Z_]+)` \| ([^|]+) \| (.+) \|$/gm)].map((m) => `| \`${m[1]}\` | ${m[2]!.trim()} | ${m[3]!.trim()} |`);
    const expected = Object.entries(ERROR_CODES).map(([code, spec]) => `| \`${code}\` | ${spec.http} | ${spec.description} |`);
    // On failure the diff is the table to paste into README.md (or the entry to fix in src/errors/codes.ts).
    expect(rows.join('\n')).toBe(expected.join('\n'));
  });

  it("lists each code's refusal status and its status without data in its HTTP column", () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const statuses = spec.http.split(/, | or /).map(Number);
      expect(statuses, code).toContain(spec.status);
      if (spec.statusWithoutData !== undefined) expect(statuses, code).toContain(spec.statusWithoutData);
    }
  });

  it('is the only vocabulary: no file outside src/errors/ spells a code itself', () => {
    const spelled = sources()
      .filter((file) => !file.startsWith(path.join(root, 'src', 'errors') + path.sep))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bcode: '([A-Z_]+)'|\brefusal\(fetchAPI, \d{3}/g)].map((m) => `${path.relative(root, file)}: ${m[0]}`));
    expect(spelled).toEqual([]);
  });
});
