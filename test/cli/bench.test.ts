import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hibiki } from '../helpers/cli.js';

describe('hibiki bench', () => {
  it('prints a JSON report with the system, the peak and one row per problem', () => {
    const r = hibiki('bench', '--filter', 'gemm 64×', '--time', '20', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.version).toBe(1);
    expect(report.system.simd).toBe(true);
    expect(report.system.node).toBe(process.version);
    expect(report.peakGflops).toBeGreaterThan(1);
    expect(report.rows).toHaveLength(1);
    const [row] = report.rows;
    expect(row.problem).toBe('gemm 64×64×64');
    expect(row.flops).toBe(2 * 64 ** 3);
    expect(row.gflops).toBeCloseTo(row.flops / row.ms / 1e6, 6);
    expect(row.speedup).toBeCloseTo(row.referenceMs / row.ms, 6);
  });

  it('prints the system line and a table', () => {
    const r = hibiki('bench', '--filter', 'f32_add', '--time', '10', '--no-reference');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^system: node v\d+\.\d+\.\d+ .*\| wasm simd yes, kernels (relaxed|simd128) \|.*\| workers 1$/m);
    expect(r.stdout).toMatch(/^add n=65536 .* ms/m);
    expect(r.stdout).toMatch(/WASM SIMD peak .*: \d+\.\d GFLOP\/s/);
  });

  it('-o FILE writes the JSON report beside the table; -o - prints it on stdout, as --json', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hibiki-bench-')), 'kernels.json');
    const r = hibiki('bench', '--filter', 'f32_add', '--time', '10', '--no-reference', '-o', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^system: /);
    expect(JSON.parse(readFileSync(file, 'utf8')).rows[0].problem).toMatch(/^add n=/);
    const piped = hibiki('bench', '--filter', 'f32_add', '--time', '10', '--no-reference', '-o', '-');
    expect(piped.code, piped.stderr).toBe(0);
    const report = JSON.parse(piped.stdout);
    expect(report.rows.map((row: { problem: string }) => row.problem)).toEqual(JSON.parse(readFileSync(file, 'utf8')).rows.map((row: { problem: string }) => row.problem));
  });

  it('rejects a bad flag with one clear line and exit code 2', () => {
    const r = hibiki('bench', '--time', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--time must be a number from 1 to 60000, got "soon"');
    expect(r.stdout).toBe('');
  });
});
