/**
 * Element ids are unique within a resource (R4 Element.id: "unique id for inter-element
 * referencing"): two `action.input` DataRequirements both called `menstrualData` in one
 * PlanDefinition make the resource invalid, and whatever refers to an element by id becomes
 * ambiguous. A contained resource is its own scope for its elements, and contained resources'
 * ids are unique among themselves. StructureDefinition.snapshot and .differential each list the
 * same ElementDefinitions by design, so each is its own scope too.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FindingSink } from './findings.ts';

/** Lists whose items repeat ids of another list by design (a scope of their own). */
const OWN_SCOPE = new Set(['snapshot', 'differential']);

const ACTION = /\.action\[\d+\]$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkResource(sink: FindingSink, file: string, resource: Record<string, unknown>, root: string): void {
  const contained = new Map<string, string>();
  const walk = (value: unknown, path: string, scope: Map<string, string>): void => {
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => {
        walk(item, `${path}[${i}]`, scope);
      });
      return;
    }
    if (!isObject(value)) return;
    const id = value['id'];
    if (path !== root && typeof id === 'string') {
      const first = scope.get(id);
      // Two actions with one id are reported by the action-id rule (lint-artifacts.ts) already.
      const bothActions = first !== undefined && ACTION.test(first) && ACTION.test(path);
      if (first && !bothActions) sink.add('error', 'duplicate', file, `${path}.id`, `element id '${id}' is already used at ${first}: element ids must be unique within a resource`);
      else scope.set(id, path);
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'id' || key.startsWith('_')) continue;
      if (key === 'contained' && Array.isArray(child)) {
        child.forEach((item: unknown, i) => {
          if (!isObject(item)) return;
          const at = `${path}.contained[${i}]`;
          const cid = item['id'];
          if (typeof cid === 'string') {
            const first = contained.get(cid);
            if (first) sink.add('error', 'duplicate', file, `${at}.id`, `contained resource id '${cid}' is already used at ${first}`);
            else contained.set(cid, at);
          }
          checkResource(sink, file, item, at);
        });
        continue;
      }
      walk(child, `${path}.${key}`, OWN_SCOPE.has(key) ? new Map<string, string>() : scope);
    }
  };
  walk(resource, root, new Map());
}

/** Reports every element id used twice within one artifact. */
export function checkDuplicateElementIds(sink: FindingSink, artifacts: readonly { file: string; resource: Resource }[]): void {
  for (const { file, resource } of artifacts) checkResource(sink, file, resource as unknown as Record<string, unknown>, resource.resourceType);
}
