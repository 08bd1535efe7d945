// The part of the WebAssembly JS API that hibiki uses. @types/node does not
// declare it, and lib "dom" (which does) clashes with Node's worker typings.
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(deltaPages: number): number;
    }
    interface ModuleExportDescriptor {
      name: string;
      kind: 'function' | 'table' | 'memory' | 'global';
    }
    interface ModuleImportDescriptor extends ModuleExportDescriptor {
      module: string;
    }
    class Module {
      constructor(bytes: BufferSource);
      static exports(module: Module): ModuleExportDescriptor[];
      static imports(module: Module): ModuleImportDescriptor[];
    }
    type ImportValue = Memory | ((...args: never[]) => unknown);
    type Imports = Record<string, Record<string, ImportValue>>;
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Record<string, unknown>;
    }
    class CompileError extends Error {}
    class RuntimeError extends Error {}
    function validate(bytes: BufferSource): boolean;
  }
}
export {};
