/** The sign-off tables (docs/rules-<protocol>.md): current, every rule of the protocol in them, every rule covered by a clinical case. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseRefs, PROCEDURES, ROOT, signOffDocs } from '../../plandefinitions/_authoring/build.ts';
import { ruleStatements, signOffRows } from '../../plandefinitions/_authoring/sign-off.ts';

const PREFIX: Record<string, string> = { 'tubal-reanastomosis': 'TR-', hysterosalpingography: 'HSG-', 'infertility-hysteroscopy': 'HYS-' };

describe('sign-off tables', () => {
  const cases = caseRefs();
  const statements = ruleStatements(ROOT);

  it('docs/rules-*.md are generated from the current authoring source (npm run build:protocols)', () => {
    for (const doc of signOffDocs()) expect(readFileSync(join(ROOT, doc.path), 'utf8'), doc.path).toBe(doc.text);
  });

  it.each(PROCEDURES.map((p) => [p.plan.id!, p.plan] as const))(
    '%s: every rule of the protocol has a row, a source quote, a condition or action, and a covering case',
    (id, plan) => {
      const rows = signOffRows(plan, cases, statements);
      const own = [...statements.keys()].filter((r) => r.startsWith(PREFIX[id]!));
      expect(own.filter((r) => !rows.some((row) => row.rule === r))).toEqual([]);
      // A rule is covered by a case tagged with it, or (shown as such in the table) by a case of another rule of the same action.
      expect(rows.filter((r) => r.cases.length === 0 && r.casesViaAction.length === 0).map((r) => r.rule)).toEqual([]);
      expect(rows.filter((r) => r.quotes.length === 0).map((r) => r.rule)).toEqual([]);
      expect(rows.filter((r) => r.actions.length === 0).map((r) => r.rule)).toEqual([]);
    },
  );
});
