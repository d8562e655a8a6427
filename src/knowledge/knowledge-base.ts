/**
 * Knowledge artifacts (PlanDefinition, ActivityDefinition, Library, ValueSet, CodeSystem,
 * StructureDefinition, Questionnaire...) indexed by canonical url and version. Canonicals are
 * resolved by lookup, never by parsing the URL for a resource type.
 */
import type { Resource, ValueSet } from '@medplum/fhirtypes';
import { codingKey } from '../data/patient-data.ts';

type CanonicalResource = Resource & { url?: string; version?: string; id?: string };

export interface CanonicalParts {
  url: string;
  version?: string;
  fragment?: string;
}

export function parseCanonical(canonical: string): CanonicalParts {
  const hash = canonical.indexOf('#');
  const fragment = hash >= 0 ? canonical.slice(hash + 1) : undefined;
  const base = hash >= 0 ? canonical.slice(0, hash) : canonical;
  const bar = base.indexOf('|');
  const parts: CanonicalParts = { url: bar >= 0 ? base.slice(0, bar) : base };
  if (bar >= 0) parts.version = base.slice(bar + 1);
  if (fragment !== undefined) parts.fragment = fragment;
  return parts;
}

/** Orders versions numerically where they look like dotted numbers, else lexically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isInteger(nx) && Number.isInteger(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

export class KnowledgeBase {
  private readonly byUrl = new Map<string, CanonicalResource[]>();
  private readonly byTypeId = new Map<string, CanonicalResource>();
  private readonly valueSetCodes = new Map<string, Set<string>>();
  /** Changes whenever an artifact is added, so memo tables built from this knowledge know they are stale. */
  private changes = 0;

  constructor(resources: Iterable<Resource> = []) {
    for (const r of resources) this.add(r);
  }

  add(resource: Resource): void {
    const r = resource as CanonicalResource;
    if (r.id) this.byTypeId.set(`${r.resourceType}/${r.id}`, r);
    if (!r.url) return;
    const list = this.byUrl.get(r.url) ?? [];
    const same = list.findIndex((x) => x.resourceType === r.resourceType && x.version === r.version);
    if (same >= 0) list[same] = r;
    else list.push(r);
    list.sort((a, b) => compareVersions(b.version ?? '', a.version ?? ''));
    this.byUrl.set(r.url, list);
    this.valueSetCodes.clear();
    this.changes++;
  }

  /** A number that differs after every change to the knowledge. */
  get revision(): number {
    return this.changes;
  }

  /** All artifacts, in insertion order of their url groups. */
  all(): CanonicalResource[] {
    const seen = new Set<CanonicalResource>();
    for (const list of this.byUrl.values()) for (const r of list) seen.add(r);
    for (const r of this.byTypeId.values()) seen.add(r);
    return [...seen];
  }

  /** Resolves `url` or `url|version` (the newest version when none is given), optionally of one type. */
  resolve<T extends Resource = Resource>(canonical: string, type?: T['resourceType']): T | undefined {
    const { url, version } = parseCanonical(canonical);
    const candidates = (this.byUrl.get(url) ?? []).filter((r) => !type || r.resourceType === type);
    const found = version === undefined ? candidates[0] : candidates.find((r) => r.version === version);
    return found as T | undefined;
  }

  /** Finds by `Type/id` or by plain id within a type. */
  byId<T extends Resource = Resource>(type: T['resourceType'], id: string): T | undefined {
    return this.byTypeId.get(`${type}/${id}`) as T | undefined;
  }

  /**
   * The system|code keys of a ValueSet, from its expansion or its enumerated compose (include
   * concepts and included value sets; exclusions removed). Filters need a terminology server and
   * are reported as unsupported by returning undefined.
   */
  valueSetKeys(canonical: string): Set<string> | undefined {
    const cached = this.valueSetCodes.get(canonical);
    if (cached) return cached;
    const keys = this.expand(canonical, new Set());
    if (keys) this.valueSetCodes.set(canonical, keys);
    return keys;
  }

  private expand(canonical: string, visiting: Set<string>): Set<string> | undefined {
    if (visiting.has(canonical)) return new Set();
    visiting.add(canonical);
    const vs = this.resolve<ValueSet>(canonical, 'ValueSet');
    if (!vs) return undefined;
    const keys = new Set<string>();
    if (vs.expansion?.contains) {
      const walk = (items: NonNullable<ValueSet['expansion']>['contains']) => {
        for (const c of items ?? []) {
          if (c.code) keys.add(codingKey(c.system, c.code));
          walk(c.contains);
        }
      };
      walk(vs.expansion.contains);
      return keys;
    }
    for (const include of vs.compose?.include ?? []) {
      if (include.filter?.length) return undefined;
      if (include.concept) for (const c of include.concept) keys.add(codingKey(include.system, c.code));
      else if (include.system && !include.valueSet) {
        const cs = this.resolve(include.system, 'CodeSystem') as { concept?: { code: string; concept?: unknown[] }[] } | undefined;
        if (!cs) return undefined;
        const walk = (concepts: { code: string; concept?: unknown[] }[] | undefined) => {
          for (const c of concepts ?? []) {
            keys.add(codingKey(include.system, c.code));
            walk(c.concept as { code: string; concept?: unknown[] }[] | undefined);
          }
        };
        walk(cs.concept);
      }
      for (const nested of include.valueSet ?? []) {
        const inner = this.expand(nested, visiting);
        if (!inner) return undefined;
        for (const k of inner) keys.add(k);
      }
    }
    for (const exclude of vs.compose?.exclude ?? []) {
      for (const c of exclude.concept ?? []) keys.delete(codingKey(exclude.system, c.code));
    }
    return keys;
  }
}
