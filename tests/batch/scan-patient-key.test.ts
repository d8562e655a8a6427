import { describe, expect, it } from 'vitest';
import { patientIdOf } from '../../src/batch/patient-key.ts';
import { scanPatientKey } from '../../src/batch/scan-patient-key.ts';
import { parseNdjsonLine } from '../../src/data/read-input.ts';

/** The scan of `text` as one line (padded on both sides, so offsets are exercised). */
function scan(text: string | Buffer): string | undefined {
  const line = typeof text === 'string' ? Buffer.from(text) : text;
  const padded = Buffer.concat([Buffer.from('xx\n'), line, Buffer.from('\nyy')]);
  return scanPatientKey(padded, 3, 3 + line.length);
}

/**
 * What the partition's full path keys the line by: undefined for a line it rejects (there the
 * scan's key does not matter: phase 2 rejects the line too) or that names no Patient.
 */
function full(text: string): string | undefined {
  const resource = parseNdjsonLine(text, 'x', []);
  return resource ? patientIdOf(resource) : undefined;
}

const obs = (rest: string) => `{"resourceType":"Observation","id":"o1","status":"final",${rest}}`;

describe('scanPatientKey', () => {
  it('finds the key of the usual Bulk Data lines: Patient id, then subject / patient / beneficiary / individual', () => {
    expect(scan('{"resourceType":"Patient","id":"p-1.a","gender":"female"}')).toBe('p-1.a');
    expect(scan(obs('"subject":{"reference":"Patient/p1"}'))).toBe('p1');
    expect(scan('{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p2"}}')).toBe('p2');
    expect(scan('{"resourceType":"Coverage","beneficiary":{"reference":"Patient/p3"}}')).toBe('p3');
    expect(scan('{"resourceType":"EpisodeOfCare","individual":{"reference":"Patient/p4"}}')).toBe('p4');
    expect(scan(obs('"subject":{"reference":"http://x.org/fhir/Patient/p5/_history/2","display":"x"}'))).toBe('p5');
    // subject first; a subject that names no Patient falls through to patient, as patientIdOf does.
    expect(scan(obs('"patient":{"reference":"Patient/b"},"subject":{"reference":"Patient/a"}'))).toBe('a');
    expect(scan(obs('"subject":{"reference":"Group/g"},"patient":{"reference":"Patient/b"}'))).toBe('b');
    expect(scan(obs('"subject":"Patient/a","patient":{"reference":"Patient/b"}'))).toBe('b');
    expect(scan(obs('"subject":{"reference":7},"patient":{"reference":"Patient/b"}'))).toBe('b');
  });

  it('takes the top-level subject, never one in a contained resource, an extension or a component', () => {
    const contained = obs('"contained":[{"resourceType":"Observation","id":"c","subject":{"reference":"Patient/inner"}}],"subject":{"reference":"Patient/outer"}');
    expect(scan(contained)).toBe('outer');
    const after = obs('"subject":{"reference":"Patient/outer"},"contained":[{"resourceType":"Patient","id":"inner"}]');
    expect(scan(after)).toBe('outer');
    const inReference = obs('"subject":{"reference":"Patient/outer","extension":[{"url":"u","valueReference":{"reference":"Patient/inner"}}]}');
    expect(scan(inReference)).toBe('outer');
    // Only nested ones: the top level names no Patient, so the scan must not claim one.
    expect(scan(obs('"component":[{"subject":{"reference":"Patient/inner"}}],"focus":[{"reference":"Patient/f"}]'))).toBeUndefined();
    expect(scan(obs('"contained":[{"resourceType":"Observation","subject":{"reference":"Patient/inner"}}]'))).toBeUndefined();
    // A nested resourceType/id does not make an Observation a Patient.
    expect(scan(obs('"contained":[{"resourceType":"Patient","id":"inner"}],"subject":{"reference":"Patient/outer"}'))).toBe('outer');
  });

  it('reads JSON whitespace anywhere between tokens, and CR/tab/space after the object', () => {
    expect(scan('{ "resourceType" : "Observation" ,\t"subject" : { "reference" : "Patient/w" } }')).toBe('w');
    expect(scan('{"resourceType"\t:\t"Patient" , "id" : "w2" }\r')).toBe('w2');
    expect(scan('{"resourceType":"Patient","id":"w3"}  \t')).toBe('w3');
  });

  it('quotes, braces and names inside strings are text, not structure', () => {
    expect(scan(obs('"note":[{"text":"\\"subject\\":{\\"reference\\":\\"Patient/fake\\"} } ] {"}],"subject":{"reference":"Patient/real"}'))).toBe('real');
    expect(scan(obs('"code":{"text":"subject"},"subject":{"reference":"Patient/real"}'))).toBe('real');
    expect(scan(obs('"code":{"text":"a\\\\"},"subject":{"reference":"Patient/real"}'))).toBe('real');
  });

  it('duplicate names: the last one counts, as in JSON.parse', () => {
    expect(scan(obs('"subject":{"reference":"Patient/first"},"subject":{"reference":"Patient/last"}'))).toBe('last');
    expect(scan(obs('"subject":{"reference":"Patient/first","reference":"Patient/last"}'))).toBe('last');
    expect(scan(obs('"subject":{"reference":"Patient/first"},"subject":{"display":"x"},"patient":{"reference":"Patient/p"}'))).toBe('p');
    expect(scan('{"resourceType":"Patient","id":"p","resourceType":"Observation","subject":{"reference":"Patient/s"}}')).toBe('s');
    expect(scan('{"resourceType":"Observation","resourceType":"Patient","id":"p","subject":{"reference":"Patient/s"}}')).toBe('p');
    expect(scan('{"resourceType":"Patient","id":"a","id":"b"}')).toBe('b');
  });

  it('gives up (the full parse decides) whenever it is not sure', () => {
    for (const text of [
      '',
      '   ',
      '\ufeff{"resourceType":"Patient","id":"bom"}',
      ' {"resourceType":"Patient","id":"lead"}',
      '[{"resourceType":"Patient","id":"a"}]',
      // escapes where a name or a value we read could hide
      obs('"subj\\u0065ct":{"reference":"Patient/e"}'),
      obs('"subject":{"ref\\u0065rence":"Patient/e"}'),
      obs('"subject":{"reference":"Patient\\/e"}'),
      '{"resourceType":"Pati\\u0065nt","id":"e"}',
      '{"resourceType":"Patient","id":"\\u0065"}',
      // not a key
      '{"resourceType":"Patient"}',
      '{"resourceType":"Patient","id":7}',
      '{"resourceType":"Patient","id":"bad id"}',
      `{"resourceType":"Patient","id":"${'a'.repeat(65)}"}`,
      '{"resourceType":["Patient"],"id":"a"}',
      '{"id":"a"}',
      '{"resourceType":"Practitioner","id":"dr"}',
      obs('"subject":{"reference":"Group/g"}'),
      obs('"subject":{"reference":"Patient/ü"}'),
      // structure that is certainly broken
      '{"resourceType":"Patient","id":"a"',
      '{"resourceType":"Patient","id":"a"}}',
      '{"resourceType":"Patient","id":"a"] ',
      '{"resourceType":"Patient","id":"a"} x',
      '{"resourceType":"Patient","id":"a',
      `{"resourceType":"Patient","id":"a","x":${'['.repeat(70)}${']'.repeat(70)}}`,
    ]) {
      expect(scan(text), text).toBeUndefined();
    }
    // Bytes that are not UTF-8 inside an unrelated string do not matter; in a reference they do.
    const latin = Buffer.concat([
      Buffer.from('{"resourceType":"Observation","code":{"text":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"},"subject":{"reference":"Patient/u"}}'),
    ]);
    expect(scan(latin)).toBe('u');
  });

  it('never disagrees with the full parse on lines it accepts (seeded random lines)', () => {
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const references = ['Patient/a', 'Patient/b', 'Group/g', 'http://h/fhir/Patient/c', 'Patient/d/_history/1', 'Patient/', 'patient/x', 'Patient/e f'];
    const names = ['subject', 'patient', 'beneficiary', 'individual', 'resourceType', 'id', 'reference', 'contained', 'focus', 'note'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.25) return pick(['Patient', 'Observation', 'a', 'Patient/a', 'x "q" {', 3, null, true]);
      if (r < 0.35) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      if (r < 0.55) return { reference: pick(references) };
      return object(depth + 1);
    };
    const object = (depth: number): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      for (let k = Math.floor(random() * 5); k > 0; k--) o[pick(names)] = value(depth);
      return o;
    };
    const space = () => pick(['', '', ' ', '\t', ' \r ']);
    let keyed = 0;
    let agreed = 0;
    for (let n = 0; n < 3000; n++) {
      const members: [string, unknown][] = [['resourceType', pick(['Patient', 'Observation', 'Coverage'])]];
      if (random() < 0.7) members.push(['id', pick(['a', 'b', 'c', 'bad id'])]);
      for (let k = Math.floor(random() * 6); k > 0; k--) members.push([pick(names), value(1)]);
      // Shuffle, and allow duplicate names (JSON.stringify of an object could not produce them).
      members.sort(() => random() - 0.5);
      const text = `{${space()}${members.map(([k, v]) => `${JSON.stringify(k)}${space()}:${space()}${JSON.stringify(v)}`).join(`${space()},${space()}`)}${space()}}`;
      const scanned = scan(text);
      const expected = full(text);
      if (expected !== undefined) keyed++;
      if (scanned !== undefined && parseNdjsonLine(text, 'x', [])) {
        expect(scanned, text).toBe(expected);
        agreed++;
      }
    }
    // The scan must also be useful: it answers for most lines that have a key.
    expect(keyed).toBeGreaterThan(500);
    expect(agreed / keyed).toBeGreaterThan(0.9);
  });

  it('matches references on bytes exactly as the Patient reference pattern does (seeded random references)', () => {
    let seed = 99;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const segments = [
      'Patient',
      'Patient',
      'patient',
      'xPatient',
      'Patient ',
      '_history',
      '_history',
      '_History',
      'a',
      'p-1.X',
      '',
      'http:',
      'h.org',
      'fhir',
      'a_b',
      'a b',
      '%2F',
      'a'.repeat(64),
      'b'.repeat(65),
      '1',
    ];
    let found = 0;
    for (let n = 0; n < 5000; n++) {
      const reference = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(segments)).join('/');
      const line = obs(`"subject":{"reference":${JSON.stringify(reference)}}`);
      const expected = full(line);
      expect(scan(line), reference).toBe(expected);
      if (expected !== undefined) found++;
    }
    expect(found).toBeGreaterThan(200);
  });
});
