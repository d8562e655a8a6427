/**
 * docs/api.md from the declarations of the package's entry points (src/api/*.ts, what `exports`
 * in package.json names): every exported name, its kind, its type or signature and its doc comment.
 * `node scripts/build-api-docs.ts` writes it; tests/package/api-surface.test.ts fails when it is stale,
 * so a change of the public API shows in review as a diff of docs/api.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..');
export const API_DOC = join(ROOT, 'docs/api.md');

/** Entry points in the order of the exports map; the subpath is what a consumer imports. */
export const ENTRY_POINTS: readonly { subpath: string; file: string }[] = [
  { subpath: 'infertility-protocols', file: 'src/api/index.ts' },
  { subpath: 'infertility-protocols/knowledge', file: 'src/api/knowledge.ts' },
  { subpath: 'infertility-protocols/server', file: 'src/api/server.ts' },
  { subpath: 'infertility-protocols/cli', file: 'src/api/cli.ts' },
];

export interface ExportedName {
  name: string;
  kind: 'function' | 'class' | 'interface' | 'type' | 'const';
  /** The signature(s), members or type, as TypeScript prints them. */
  type: string;
  doc: string;
}

// Flags combine bitwise; TypeScript's own API takes such a combination as a TypeFormatFlags.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const FORMAT: ts.TypeFormatFlags = ts.TypeFormatFlags.NoTruncation + ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope + ts.TypeFormatFlags.WriteArrowStyleSignature;
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const FORMAT_ALIAS: ts.TypeFormatFlags = FORMAT + ts.TypeFormatFlags.InTypeAlias;

function program(): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('tsconfig.json could not be read');
  return ts.createProgram(
    ENTRY_POINTS.map((e) => join(ROOT, e.file)),
    config.options,
  );
}

function memberLines(checker: ts.TypeChecker, type: ts.Type, at: ts.Node): string {
  const lines: string[] = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (decl && ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    if (prop.name.startsWith('#')) continue;
    const optional = prop.flags & ts.SymbolFlags.Optional ? '?' : '';
    lines.push(`  ${prop.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(prop, at), at, FORMAT)};`);
  }
  return `{\n${lines.join('\n')}\n}`;
}

function describeSymbol(checker: ts.TypeChecker, exported: ts.Symbol, at: ts.Node): ExportedName {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim();
  const name = exported.name;
  if (symbol.flags & ts.SymbolFlags.Class) {
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    return { name, kind: 'class', type: memberLines(checker, instance, at), doc };
  }
  if (symbol.flags & ts.SymbolFlags.Function) {
    const signatures = checker.getTypeOfSymbolAtLocation(symbol, at).getCallSignatures();
    return { name, kind: 'function', type: signatures.map((s) => checker.signatureToString(s, at, FORMAT)).join('\n'), doc };
  }
  if (symbol.flags & ts.SymbolFlags.Interface) {
    return { name, kind: 'interface', type: memberLines(checker, checker.getDeclaredTypeOfSymbol(symbol), at), doc };
  }
  if (symbol.flags & ts.SymbolFlags.TypeAlias) {
    const declared = checker.getDeclaredTypeOfSymbol(symbol);
    const printed = checker.typeToString(declared, at, FORMAT_ALIAS);
    const type = declared.isUnion() || !(declared.flags & ts.TypeFlags.Object) ? printed : memberLines(checker, declared, at);
    return { name, kind: 'type', type, doc };
  }
  return { name, kind: 'const', type: checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, at), at, FORMAT), doc };
}

/** Every exported name of every entry point, sorted by name within an entry point. */
export function publicApi(): { subpath: string; names: ExportedName[] }[] {
  const prog = program();
  const checker = prog.getTypeChecker();
  return ENTRY_POINTS.map(({ subpath, file }) => {
    const source = prog.getSourceFile(join(ROOT, file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!source || !moduleSymbol) throw new Error(`${file}: not found`);
    const names = checker
      .getExportsOfModule(moduleSymbol)
      .map((s) => describeSymbol(checker, s, source))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { subpath, names };
  });
}

export function renderApiDocs(): string {
  const out = [
    '# Public API',
    '',
    '<!-- Generated by `node scripts/build-api-docs.ts` from src/api/*.ts; tests/package/api-surface.test.ts fails when it is stale. Do not edit. -->',
    '',
    'What `import ... from "infertility-protocols"` and its subpaths give (package.json `exports`; the',
    'built `dist/` carries the same declarations as `.d.ts`). Anything not listed here is internal and',
    'may change without notice. The engine is pure: the clock (`now`) is always passed in, and the',
    'knowledge is compiled once (`loadKnowledge()` / `compileKnowledge(resources)`) and passed to every call.',
    '',
  ];
  for (const entry of publicApi()) {
    out.push(`## \`${entry.subpath}\``, '');
    out.push('| name | kind |', '|---|---|');
    for (const n of entry.names) out.push(`| \`${n.name}\` | ${n.kind} |`);
    out.push('');
    for (const n of entry.names) {
      out.push(`### ${n.name}`, '');
      if (n.doc) out.push(n.doc, '');
      out.push('```ts', n.type, '```', '');
    }
  }
  return out.join('\n');
}

if (import.meta.main) {
  const text = renderApiDocs();
  const before = (() => {
    try {
      return readFileSync(API_DOC, 'utf8');
    } catch {
      return '';
    }
  })();
  writeFileSync(API_DOC, text);
  process.stdout.write(before === text ? 'docs/api.md unchanged\n' : 'docs/api.md written\n');
}
