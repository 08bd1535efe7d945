/**
 * Every export of the public API carries a doc comment: the entry points
 * package.json exports (src/index.ts, src/serve/server.ts, src/queue/index.ts)
 * are walked with the TypeScript compiler, re-exports followed to their
 * declarations, and every public member of an exported class (its own, its
 * statics and what it inherits from our own base classes) is checked too.
 * A failure lists `file:line name` of each one without a JSDoc comment.
 */
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY_POINTS = ['src/index.ts', 'src/serve/server.ts', 'src/queue/index.ts'];

export interface Undocumented {
  /** Path from the repository root. */
  file: string;
  line: number;
  /** The exported name, or `Class.member` (statics too). */
  name: string;
}

/** The compiler options of tsconfig.json (where `path` points). */
function compilerOptions(path: string): ts.CompilerOptions {
  const read = ts.readConfigFile(path, (p) => ts.sys.readFile(p));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path)).options;
}

/** Whether a declaration has a JSDoc comment with some text or a tag (an empty `/** *\/` does not count). */
function hasDoc(node: ts.Node): boolean {
  return ts.getJSDocCommentsAndTags(node).some((doc) => ts.isJSDoc(doc) && (!!ts.getTextOfJSDocComment(doc.comment)?.trim() || !!doc.tags?.length));
}

/** A member the API shows: neither private nor protected nor #private, and declared in our code. */
function isPublicMember(program: ts.Program, declaration: ts.Declaration): boolean {
  const source = declaration.getSourceFile();
  if (program.isSourceFileDefaultLibrary(source) || program.isSourceFileFromExternalLibrary(source)) return false; // Error's `message`, `stack`…
  const flags = ts.getCombinedModifierFlags(declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  const name = ts.getNameOfDeclaration(declaration);
  return !(name && ts.isPrivateIdentifier(name));
}

/**
 * The exports of `entryPoints` (and the public members of exported classes)
 * whose declarations carry no doc comment, in file and line order. A symbol
 * declared more than once (overloads, merged declarations) counts as
 * documented when any declaration is.
 */
export function undocumentedExports(program: ts.Program, entryPoints: readonly string[], root: string): Undocumented[] {
  const checker = program.getTypeChecker();
  // By declaration: a member inherited by several exported classes is reported once.
  const found = new Map<ts.Declaration, Undocumented>();
  const report = (name: string, declarations: readonly ts.Declaration[]) => {
    if (declarations.length === 0 || declarations.some(hasDoc)) return;
    const first = declarations[0]!;
    if (found.has(first)) return;
    const source = first.getSourceFile();
    const at = ts.getNameOfDeclaration(first) ?? first;
    const line = source.getLineAndCharacterOfPosition(at.getStart(source)).line + 1;
    const file = relative(root, source.fileName);
    found.set(first, { file, line, name });
  };

  for (const entry of entryPoints) {
    const source = program.getSourceFile(resolve(root, entry));
    if (!source) throw new Error(`${entry} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declarations = symbol.declarations ?? [];
      if (declarations.length === 0) throw new Error(`${entry}: cannot find the declaration of ${exported.name}`);
      report(exported.name, declarations);
      const classDeclaration = declarations.find(ts.isClassDeclaration);
      if (!classDeclaration) continue;
      const instance = checker.getDeclaredTypeOfSymbol(symbol);
      const statics = checker.getTypeOfSymbolAtLocation(symbol, classDeclaration);
      for (const member of [...checker.getPropertiesOfType(instance), ...checker.getPropertiesOfType(statics)]) {
        if (member.name === 'prototype') continue;
        report(`${exported.name}.${member.name}`, (member.declarations ?? []).filter((d) => isPublicMember(program, d)));
      }
    }
  }
  return [...found.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

const format = (items: readonly Undocumented[]) => items.map((u) => `${u.file}:${u.line} ${u.name}`).join('\n');

describe('the public API is documented', () => {
  const program = ts.createProgram(ENTRY_POINTS.map((e) => resolve(ROOT, e)), compilerOptions(resolve(ROOT, 'tsconfig.json')));
  const undocumented = undocumentedExports(program, ENTRY_POINTS, ROOT);

  it('every export of src/index.ts, hibiki/serve and hibiki/queue, and every public member of an exported class, has a doc comment', () => {
    expect(undocumented.length, `${undocumented.length} exports without a doc comment:\n${format(undocumented)}\n`).toBe(0);
  });
});

describe('the docs check itself', () => {
  /** A program over in-memory files, `/virtual/<name>`. */
  function virtualProgram(files: Record<string, string>): ts.Program {
    const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noLib: true, types: [] };
    const sources = new Map(Object.entries(files).map(([name, text]) => [`/virtual/${name}`, ts.createSourceFile(`/virtual/${name}`, text, ts.ScriptTarget.ES2022, true)]));
    const host = ts.createCompilerHost(options);
    host.getSourceFile = (name) => sources.get(name);
    host.fileExists = (name) => sources.has(name);
    host.readFile = (name) => sources.get(name)?.text;
    host.resolveModuleNameLiterals = (literals, containing) => literals.map((literal) => ({
      resolvedModule: { resolvedFileName: resolve(dirname(containing), literal.text.replace(/\.js$/, '.ts')), extension: ts.Extension.Ts },
    }));
    return ts.createProgram([...sources.keys()], options, host);
  }

  it('finds an undocumented function, type, constant, class, public member and static, through re-exports, and nothing else', () => {
    const program = virtualProgram({
      'entry.ts': `export { Documented, Bare, bare, BARE, type BareType, type Shape as Renamed } from './lib.js';\nexport { documented } from './lib.js';\n`,
      'lib.ts': [
        '/** A class. */',
        'export class Documented {',
        '  /** Documented. */',
        '  field = 1;',
        '  bareField = 2;',
        '  private hidden = 3;',
        '  protected guarded = 4;',
        '  /** One overload documented is enough. */',
        '  run(a: string): string;',
        '  run(a: number): number;',
        '  run(a: unknown): unknown { return a; }',
        '  static make(): Documented { return new Documented(); }',
        '  /** */',
        '  emptyDoc(): void {}',
        '}',
        'export class Bare extends Documented {}',
        '/** Documented. */',
        'export function documented(): void {}',
        'export function bare(): void {}',
        'export const BARE = 1;',
        'export type BareType = number;',
        'export interface Shape { x: number }',
      ].join('\n'),
    });
    const found = undocumentedExports(program, ['entry.ts'], '/virtual');
    expect(format(found).split('\n')).toEqual([
      'lib.ts:5 Documented.bareField',
      'lib.ts:12 Documented.make',
      'lib.ts:14 Documented.emptyDoc',
      'lib.ts:16 Bare',
      'lib.ts:19 bare',
      'lib.ts:20 BARE',
      'lib.ts:21 BareType',
      'lib.ts:22 Renamed',
    ]);
  });
});
