// The kernel interface is written three times: the assembly signatures (the
// source of truth), KernelExports in src/runtime/exports.ts (what the host
// calls) and the compiled build/hibiki.wasm. This test reads all three and
// fails on any difference in kernel name, argument count, argument name (by
// position) or type, naming the kernel and both sides. It also checks the
// activation codes, which are written twice (assembly ACT_* constants, and
// the host's ACTIVATION_CODES and gated code).
import { readFileSync, readdirSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ACTIVATION_CODES } from '../../src/runtime/ops/activation.js';
import { ACT_GATED } from '../../src/runtime/ops/conv.js';
import { WASM_URL } from '../../src/runtime/wasm.js';

const ASSEMBLY = new URL('../../assembly/', import.meta.url);
const EXPORTS_TS = new URL('../../src/runtime/exports.ts', import.meta.url);

interface Signature {
  where: string; // the file it was read from, for messages
  params: { name: string; type: string }[];
  result: string;
}

function parse(url: URL): ts.SourceFile {
  return ts.createSourceFile(url.pathname, readFileSync(url, 'utf8'), ts.ScriptTarget.Latest, true);
}

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

// ---------------------------------------------------------------------------
// The assembly side: the kernels assembly/index.ts re-exports, with the
// signature each has in its own file. AssemblyScript parses as TypeScript.

function assemblySignatures(): Map<string, Signature> {
  const kernels = new Map<string, Signature>();
  for (const stmt of parse(new URL('index.ts', ASSEMBLY)).statements) {
    if (!ts.isExportDeclaration(stmt) || !stmt.moduleSpecifier || !stmt.exportClause || !ts.isNamedExports(stmt.exportClause)) continue;
    const file = `${(stmt.moduleSpecifier as ts.StringLiteral).text.replace(/^\.\//, '')}.ts`;
    const declared = new Map<string, ts.FunctionDeclaration>();
    for (const s of parse(new URL(file, ASSEMBLY)).statements) {
      if (ts.isFunctionDeclaration(s) && s.name && isExported(s)) declared.set(s.name.text, s);
    }
    for (const spec of stmt.exportClause.elements) {
      const fn = declared.get(spec.name.text);
      if (!fn) throw new Error(`assembly/index.ts re-exports ${spec.name.text} from ${file}, which declares no such exported function`);
      kernels.set(spec.name.text, {
        where: `assembly/${file}`,
        params: fn.parameters.map((p) => ({ name: p.name.getText(), type: p.type?.getText() ?? '?' })),
        result: fn.type?.getText() ?? '?',
      });
    }
  }
  return kernels;
}

/** The wasm value type each AssemblyScript type lowers to (wasm32). */
const WASM_TYPE: Record<string, string> = {
  i32: 'i32', u32: 'i32', usize: 'i32', isize: 'i32', bool: 'i32', i8: 'i32', u8: 'i32', i16: 'i32', u16: 'i32',
  i64: 'i64', u64: 'i64', f32: 'f32', f64: 'f64', v128: 'v128',
};

/** What the host passes or gets for an AssemblyScript type (i64 crosses as a BigInt). */
const hostType = (asType: string): string => (asType === 'void' ? 'void' : WASM_TYPE[asType] === 'i64' ? 'bigint' : 'number');

// ---------------------------------------------------------------------------
// The host side: the methods of KernelExports.

function hostSignatures(): Map<string, Signature> {
  const iface = parse(EXPORTS_TS).statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'KernelExports',
  );
  if (!iface) throw new Error('src/runtime/exports.ts declares no KernelExports interface');
  const kernels = new Map<string, Signature>();
  for (const m of iface.members) {
    if (!ts.isMethodSignature(m)) throw new Error(`KernelExports.${m.name?.getText()} is not a method`);
    kernels.set(m.name.getText(), {
      where: 'src/runtime/exports.ts',
      params: m.parameters.map((p) => ({ name: p.name.getText(), type: p.type?.getText() ?? '?' })),
      result: m.type?.getText() ?? '?',
    });
  }
  return kernels;
}

// ---------------------------------------------------------------------------
// The compiled module: function exports with their types, read from the
// type (1), import (2), function (3) and export (7) sections (spec §5.5).

const VALTYPE: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

function wasmSignatures(bytes: Uint8Array): Map<string, { params: string[]; results: string[] }> {
  let at = 8; // magic + version
  const u32 = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
  };
  const name = (): string => {
    const n = u32();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const valtypes = (): string[] => Array.from({ length: u32() }, () => VALTYPE[bytes[at++]!] ?? '?');
  const limits = (): void => {
    const flags = bytes[at++]!;
    u32();
    if (flags & 1) u32();
  };
  const types: { params: string[]; results: string[] }[] = [];
  const funcTypes: number[] = []; // type index of each function, imported ones first
  const exports = new Map<string, { params: string[]; results: string[] }>();
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = u32();
    const end = at + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        at++; // 0x60, a function type
        types.push({ params: valtypes(), results: valtypes() });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[at++]!;
        if (kind === 0) funcTypes.push(u32());
        else if (kind === 1) { at++; limits(); } // reftype, limits
        else if (kind === 2) limits();
        else at += 2; // global: valtype, mutability
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exportName = name();
        const kind = bytes[at++]!;
        const index = u32();
        if (kind === 0) exports.set(exportName, types[funcTypes[index]!]!);
      }
    }
    at = end;
  }
  return exports;
}

// ---------------------------------------------------------------------------

const list = (s: Signature): string => `(${s.params.map((p) => `${p.name}: ${p.type}`).join(', ')}): ${s.result}`;

describe('the kernel interface', () => {
  const assembly = assemblySignatures();
  const host = hostSignatures();

  it('KernelExports declares exactly the kernels assembly/index.ts exports', () => {
    const problems = [
      ...[...assembly.keys()].filter((k) => !host.has(k)).map((k) => `${k} is exported by assembly/index.ts but missing from KernelExports`),
      ...[...host.keys()].filter((k) => !assembly.has(k)).map((k) => `${k} is in KernelExports but not exported by assembly/index.ts`),
    ];
    expect(problems).toEqual([]);
  });

  for (const [kernel, asm] of assembly) {
    it(`${kernel}: KernelExports has the signature of ${asm.where}`, () => {
      const decl = host.get(kernel);
      if (!decl) return; // reported above
      const problems: string[] = [];
      if (decl.params.length !== asm.params.length) {
        problems.push(`${kernel}: KernelExports has ${decl.params.length} parameters, ${asm.where} has ${asm.params.length}`);
      }
      for (let i = 0; i < Math.max(decl.params.length, asm.params.length); i++) {
        const h = decl.params[i], a = asm.params[i];
        if (h && a && (h.name !== a.name || h.type !== hostType(a.type))) {
          problems.push(`${kernel} parameter ${i + 1}: KernelExports has ${h.name}: ${h.type}, ${asm.where} has ${a.name}: ${a.type}`);
        }
      }
      if (decl.result !== hostType(asm.result)) {
        problems.push(`${kernel}: KernelExports returns ${decl.result}, ${asm.where} returns ${asm.result}`);
      }
      if (problems.length) problems.push(`  KernelExports: ${list(decl)}`, `  ${asm.where}: ${list(asm)}`);
      expect(problems).toEqual([]);
    });
  }

  describe('build/hibiki.wasm', () => {
    const built = wasmSignatures(readFileSync(WASM_URL));
    const rebuild = 'rebuild with npm run build:wasm';

    it('exports exactly the functions assembly/index.ts exports', () => {
      const problems = [
        ...[...assembly.keys()].filter((k) => !built.has(k)).map((k) => `${k} is exported by assembly/index.ts but not by build/hibiki.wasm (${rebuild}?)`),
        ...[...built.keys()].filter((k) => !assembly.has(k)).map((k) => `build/hibiki.wasm exports ${k}, which assembly/index.ts does not (${rebuild}?)`),
      ];
      expect(problems).toEqual([]);
    });

    for (const [kernel, asm] of assembly) {
      it(`${kernel}: the compiled function has the types of ${asm.where}`, () => {
        const fn = built.get(kernel);
        if (!fn) return; // reported above
        const problems: string[] = [];
        const params = asm.params.map((p) => WASM_TYPE[p.type] ?? `? (${p.type})`);
        const results = asm.result === 'void' ? [] : [WASM_TYPE[asm.result] ?? `? (${asm.result})`];
        if (fn.params.length !== params.length) {
          problems.push(`${kernel}: build/hibiki.wasm takes ${fn.params.length} arguments, ${asm.where} declares ${params.length} (${rebuild}?)`);
        } else if (fn.params.join() !== params.join()) {
          problems.push(`${kernel}: build/hibiki.wasm takes (${fn.params.join(', ')}), ${asm.where} declares (${params.join(', ')}) (${rebuild}?)`);
        }
        if (fn.results.join() !== results.join()) {
          problems.push(`${kernel}: build/hibiki.wasm returns (${fn.results.join(', ')}), ${asm.where} declares (${results.join(', ')}) (${rebuild}?)`);
        }
        expect(problems).toEqual([]);
      });
    }
  });

  // Every `export const ACT_X: i32 = n` in assembly/ must be the host's code
  // for X (ACTIVATION_CODES.x, or the gated unit's code) and vice versa.
  it('the activation codes are the same on both sides', () => {
    const inAssembly = new Map<string, { value: number; where: string }>();
    for (const file of readdirSync(ASSEMBLY).filter((f) => f.endsWith('.ts')).sort()) {
      for (const s of parse(new URL(file, ASSEMBLY)).statements) {
        if (!ts.isVariableStatement(s) || !isExported(s)) continue;
        for (const d of s.declarationList.declarations) {
          const constName = d.name.getText();
          if (!constName.startsWith('ACT_')) continue;
          if (!d.initializer || !ts.isNumericLiteral(d.initializer)) throw new Error(`assembly/${file}: ${constName} is not a number literal`);
          const prior = inAssembly.get(constName);
          if (prior) throw new Error(`${constName} is defined in both ${prior.where} and assembly/${file}`);
          inAssembly.set(constName, { value: Number(d.initializer.text), where: `assembly/${file}` });
        }
      }
    }
    const onHost = new Map<string, { value: number; where: string }>([
      ...Object.entries(ACTIVATION_CODES).map(([act, value]) => [`ACT_${act.toUpperCase()}`, { value, where: `ACTIVATION_CODES.${act}` }] as const),
      ['ACT_GATED', { value: ACT_GATED, where: 'src/runtime/ops/conv.ts' }],
    ]);
    const problems: string[] = [];
    for (const [constName, a] of inAssembly) {
      const h = onHost.get(constName);
      if (!h) problems.push(`${constName} = ${a.value} (${a.where}) has no host code`);
      else if (h.value !== a.value) problems.push(`${constName}: ${a.where} has ${a.value}, ${h.where} has ${h.value}`);
    }
    for (const [constName, h] of onHost) {
      if (!inAssembly.has(constName)) problems.push(`${h.where} = ${h.value} has no ${constName} in assembly/`);
    }
    const byValue = new Map<number, string>();
    for (const [constName, a] of inAssembly) {
      const other = byValue.get(a.value);
      if (other) problems.push(`${other} and ${constName} are both ${a.value}`);
      byValue.set(a.value, constName);
    }
    expect(problems).toEqual([]);
  });
});
