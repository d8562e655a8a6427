/**
 * The parts of fhirpath.js the fast path reuses, taken from the same CommonJS sources the engine
 * evaluates with (`fhirpath/src/*.js`), so that a value the fast path makes (an FP_Date, a
 * ResourceNode) is of the very class fhirpath.js checks with instanceof, and every value-level rule
 * (equality, comparison, date arithmetic, string and conversion functions, aggregates) is the
 * library's own code - the fast path replaces the interpreter, never the semantics.
 *
 * The library ships no types for these modules: each import states the shape it is used at.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A FHIRPath collection as fhirpath.js passes it between steps. */
export type Collection = unknown[];

/** The evaluation context fhirpath.js functions read through `this`. */
export interface FhirPathContext {
  vars: Record<string, unknown>;
  processedVars: Record<string, unknown>;
  instanceSelectorTypeByData: null;
  model: unknown;
  dataRoot: Collection;
  getDecimal: (value: unknown) => unknown;
  $index?: number;
}

export type LibraryFunction = (this: FhirPathContext, ...args: unknown[]) => unknown;

export interface ResourceNodeShape {
  data: unknown;
  path: string | null;
  fhirNodeDataType: string | null;
  parentResNode: unknown;
  propName: unknown;
  index: unknown;
  ctx: unknown;
  getTypeInfo(): unknown;
}

interface PathInfo {
  ctx: unknown;
  path: string | null;
  fhirNodeDataType: string | null;
  parentResNode: unknown;
  propName?: unknown;
  index?: unknown;
}

export interface TypesModule {
  ResourceNode: (new (...args: unknown[]) => ResourceNodeShape) & {
    makeResNode(ctx: unknown, data: unknown, parent: unknown, path: unknown, _data: unknown, type: unknown, propName?: unknown, index?: unknown): ResourceNodeShape;
  };
  TypeInfo: (new (init: { name: string; namespace?: string }) => { isValid(model: unknown): boolean; is(other: unknown, model: unknown): boolean }) & {
    System: string;
    FHIR: string;
  };
  FP_Type: abstract new (...args: unknown[]) => { toJSON(): unknown };
  FP_Decimal: abstract new (...args: unknown[]) => object;
  FP_Quantity: new (ctx: unknown, value: unknown, unit: unknown) => object;
  FP_Decimal_Native: { getDecimal: (value: unknown) => unknown };
}

export interface UtilitiesModule {
  makeChildResNodes(ctx: FhirPathContext, parent: ResourceNodeShape, key: string, model: unknown): Collection;
  arraify(value: unknown): Collection;
  resolveAndArraify(value: unknown): Collection;
  isEmpty(value: unknown): boolean;
}

type EngineModule = Record<string, LibraryFunction | undefined>;

export const types = require('fhirpath/src/types.js') as TypesModule;
export const util = require('fhirpath/src/utilities.js') as UtilitiesModule;
export const existence = require('fhirpath/src/existence.js') as EngineModule;
export const filtering = require('fhirpath/src/filtering.js') as EngineModule;
export const aggregate = require('fhirpath/src/aggregate.js') as EngineModule;
export const combining = require('fhirpath/src/combining.js') as EngineModule;
export const misc = require('fhirpath/src/misc.js') as EngineModule;
/** misc.singleton: a collection's one value converted to a parameter type (it reads no `this`). */
export const singleton = misc['singleton'] as unknown as (coll: Collection, type: string) => unknown;
export const equality = require('fhirpath/src/equality.js') as EngineModule;
export const collections = require('fhirpath/src/collections.js') as EngineModule;
export const math = require('fhirpath/src/math.js') as EngineModule;
export const strings = require('fhirpath/src/strings.js') as EngineModule;
export const logic = require('fhirpath/src/logic.js') as EngineModule;

export type { PathInfo };
