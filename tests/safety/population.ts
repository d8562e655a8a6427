/**
 * The generated population of the safety invariants: a compact, printable description of one
 * patient (`GenCase`, what fast-check generates and shrinks) and the builder that turns it into her
 * record in the representations of terminology.md section C, with the resource builders of the
 * clinical test cases (tests/protocols/cases/fixtures.ts), so that generated data matches the real
 * input contract. Every date is counted from the case's `now` (its own calendar date, SAFE-10).
 *
 * Dimensions: `now` (date, time of day, offset Z / +08:00 / -05:00), age around 40 (the 40th
 * birthday before / on / after today and on every window day), menstrual state (end of bleeding
 * 0..12 days ago, bleeding now, a period started more than 8 days ago with no end, none),
 * pregnancy (tests and status, positive / negative, recent / old, pregnancy Condition), acute
 * genital inflammation (acute PID, vaginitis, endometritis; confirmed / provisional / differential /
 * unconfirmed / refuted / entered-in-error), vaginal discharge (normal / abnormal / indeterminate,
 * final / preliminary / entered-in-error), fitness (fit, not fit, absent; heart failure), iodine
 * allergy (active, inactive, refuted, none, no known allergy; iodine test), sterilisation
 * (completed / not-done / entered-in-error, method known or not), a reversal done, HSG results
 * (tubal patency panel, cavity), partner semen analysis, cycle regularity, permit, hysteroscopy
 * indications, recent delivery, birth date missing.
 */
import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import {
  allergy,
  birthDateFor,
  condition,
  daysAfter,
  daysAgo,
  fitness,
  hsgCavity,
  ICD10,
  iodineTest,
  LOCAL,
  leukorrhea,
  lmpStart,
  mensesEnd,
  noKnownAllergy,
  partner,
  patient,
  PATIENT_ID,
  pregnancyStatus,
  pregnancyTest,
  procedure,
  recanalizationPermit,
  regularity,
  SCT,
  semenAnalysis,
  tubalPatency,
} from '../protocols/cases/fixtures.ts';

export type ObsStatus = 'final' | 'amended' | 'preliminary' | 'entered-in-error' | 'cancelled';
export type Verification = 'confirmed' | 'provisional' | 'differential' | 'unconfirmed' | 'refuted' | 'entered-in-error';

export interface GenCase {
  now: string;
  age: { years: number; birthdayInDays: number; missing: boolean };
  menses:
    | { kind: 'ended'; daysAgo: number; length: number; withTime: boolean }
    | { kind: 'bleeding'; startedDaysAgo: number }
    | { kind: 'unended'; startedDaysAgo: number }
    | { kind: 'none' };
  pregnancy: { kind: 'test' | 'status'; positive: boolean; daysAgo: number; status: ObsStatus }[];
  pregnancyCondition: Verification | null;
  inflammation: { code: 'acute-pid' | 'vaginitis' | 'vaginitis-icd10' | 'endometritis'; verification: Verification; clinical: 'active' | 'resolved' } | null;
  leukorrhea: { result: 'N' | 'A' | 'IND'; daysAgo: number; status: ObsStatus } | null;
  fitness: { fit: boolean; daysAgo: number } | null;
  heartFailure: Verification | null;
  iodineAllergy: 'active' | 'inactive' | 'refuted' | 'none' | 'no-known-allergy';
  iodineTest: { positive: boolean; daysAgo: number } | null;
  sterilisation: { status: 'completed' | 'not-done' | 'entered-in-error'; methodKnown: boolean } | null;
  reversalDaysAgo: number | null;
  infertility: boolean;
  hysIndication: 'myomectomy' | 'menorrhagia' | 'recurrent-loss' | 'unexplained' | null;
  hsgResult: { patency: 'both-blocked' | 'one-blocked' | 'patent' | null; cavity: 'filling-defect' | 'normal' | null; daysAgo: number } | null;
  semen: 'normal' | 'abnormal' | null;
  regular: boolean | null;
  permit: boolean;
  deliveryDaysAgo: number | null;
}

/** `now`: a day in 2026-03-01 .. 2027-02-27 (no 29 February near it), a time and an offset. */
const DAY0 = Date.UTC(2026, 2, 1);
export const arbNow = fc
  .record({
    day: fc.integer({ min: 0, max: 363 }),
    time: fc.constantFrom('09:00:00', '00:30:00', '23:30:00', '14:15:00'),
    offset: fc.constantFrom('Z', '+08:00', '-05:00'),
  })
  .map(({ day, time, offset }) => `${new Date(DAY0 + day * 86_400_000).toISOString().slice(0, 10)}T${time}${offset}`);

const obsStatus: fc.Arbitrary<ObsStatus> = fc.oneof(
  { withCrossShrink: true },
  { weight: 8, arbitrary: fc.constant<ObsStatus>('final') },
  { weight: 1, arbitrary: fc.constantFrom<ObsStatus>('amended', 'preliminary', 'entered-in-error', 'cancelled') },
);
const verification: fc.Arbitrary<Verification> = fc.oneof(
  { withCrossShrink: true },
  { weight: 3, arbitrary: fc.constant<Verification>('confirmed') },
  { weight: 3, arbitrary: fc.constantFrom<Verification>('provisional', 'differential', 'unconfirmed', 'refuted', 'entered-in-error') },
);

/**
 * `usual` with weight `w`, else `other` (weight 1); shrinks towards `usual`. The two populations
 * below differ only in these weights: "near" patients are mostly eligible (so that procedures are
 * proposed and their dates, work-up and age limits are exercised), "wild" ones vary everything.
 */
const pick = <T>(w: number, usual: fc.Arbitrary<T>, other: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ withCrossShrink: true }, { weight: w, arbitrary: usual }, { weight: 1, arbitrary: other });
const none = fc.constant(null);

function arbCaseWith(w: number): fc.Arbitrary<GenCase> {
  return fc.record({
    now: arbNow,
    age: fc.record({
      // 40 with the 40th birthday 3 days ago .. 15 days ahead (before / on / after today, every window day); else 25..39.
      years: fc.oneof(
        { withCrossShrink: true },
        { weight: 3, arbitrary: fc.integer({ min: 25, max: 39 }) },
        { weight: 2, arbitrary: fc.constant(40) },
        { weight: 1, arbitrary: fc.integer({ min: 41, max: 45 }) },
      ),
      birthdayInDays: fc.integer({ min: -3, max: 15 }),
      missing: pick(15, fc.constant(false), fc.constant(true)),
    }),
    menses: fc.oneof(
      { withCrossShrink: true },
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant('ended' as const), daysAgo: fc.integer({ min: 0, max: 12 }), length: fc.integer({ min: 3, max: 7 }), withTime: fc.boolean() }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('bleeding' as const), startedDaysAgo: fc.integer({ min: 0, max: 7 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('unended' as const), startedDaysAgo: fc.integer({ min: 9, max: 20 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    ),
    pregnancy: pick(
      w,
      fc.constant([{ kind: 'test' as const, positive: false, daysAgo: 1, status: 'final' }]),
      fc.array(
        fc.record({
          kind: fc.constantFrom('test' as const, 'status' as const),
          positive: fc.boolean(),
          daysAgo: fc.oneof({ withCrossShrink: true }, { weight: 4, arbitrary: fc.integer({ min: 0, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }) }),
          status: obsStatus,
        }),
        { maxLength: 3 },
      ),
    ),
    pregnancyCondition: pick(3 * w, none, verification),
    inflammation: pick(
      w,
      none,
      fc.record({
        code: fc.constantFrom('acute-pid' as const, 'vaginitis' as const, 'vaginitis-icd10' as const, 'endometritis' as const),
        verification,
        clinical: fc.constantFrom('active' as const, 'active' as const, 'resolved' as const),
      }),
    ),
    leukorrhea: pick(
      w,
      fc.oneof({ withCrossShrink: true }, none, fc.record({ result: fc.constant('N' as const), daysAgo: fc.integer({ min: 0, max: 10 }), status: fc.constant('final') })),
      fc.record({ result: fc.constantFrom('N' as const, 'A' as const, 'A' as const, 'IND' as const), daysAgo: fc.integer({ min: 0, max: 10 }), status: obsStatus }),
    ),
    fitness: pick(
      w,
      fc.record({ fit: fc.constant(true), daysAgo: fc.integer({ min: 0, max: 10 }) }),
      fc.oneof({ withCrossShrink: true }, none, fc.record({ fit: fc.boolean(), daysAgo: fc.integer({ min: 0, max: 40 }) })),
    ),
    heartFailure: pick(2 * w, none, verification),
    iodineAllergy: pick(
      Math.ceil(w / 2),
      fc.constant('no-known-allergy' as const),
      fc.constantFrom('active' as const, 'active' as const, 'inactive' as const, 'refuted' as const, 'none' as const),
    ),
    iodineTest: fc.oneof({ withCrossShrink: true }, none, fc.record({ positive: pick(w, fc.constant(false), fc.constant(true)), daysAgo: fc.integer({ min: 0, max: 10 }) })),
    sterilisation: fc.oneof(
      { withCrossShrink: true },
      none,
      fc.record({ status: pick(w, fc.constant('completed' as const), fc.constantFrom('not-done' as const, 'entered-in-error' as const)), methodKnown: fc.boolean() }),
    ),
    reversalDaysAgo: pick(2 * w, none, fc.integer({ min: 100, max: 800 })),
    infertility: pick(w, fc.constant(true), fc.constant(false)),
    hysIndication: fc.oneof({ withCrossShrink: true }, none, fc.constantFrom('myomectomy' as const, 'menorrhagia' as const, 'recurrent-loss' as const, 'unexplained' as const)),
    hsgResult: pick(
      Math.ceil(w / 2),
      none,
      fc.record({
        patency: fc.constantFrom('both-blocked' as const, 'one-blocked' as const, 'patent' as const, null),
        cavity: fc.constantFrom('filling-defect' as const, 'normal' as const, null),
        daysAgo: fc.integer({ min: 10, max: 120 }),
      }),
    ),
    semen: pick(w, fc.constant('normal' as const), fc.constantFrom(null, 'abnormal' as const)),
    regular: pick(w, fc.constant(true), fc.constantFrom(null, false)),
    permit: pick(w, fc.constant(true), fc.constant(false)),
    deliveryDaysAgo: pick(2 * w, none, fc.integer({ min: 20, max: 60 })),
  });
}

/** The population: two thirds mostly-eligible patients (one or two things off), one third varied in every dimension. */
export const arbCase: fc.Arbitrary<GenCase> = fc.oneof({ weight: 2, arbitrary: arbCaseWith(8) }, { weight: 1, arbitrary: arbCaseWith(1) });

const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

type Json = Record<string, unknown>;

function withObsStatus(r: Resource, status: ObsStatus): Resource {
  return { ...r, status } as Resource;
}

/** A Condition with the given verification status (entered-in-error carries no clinicalStatus, con-5). */
export function withConditionVerification(r: Resource, v: Verification): Resource {
  const c: Json = { ...(r as unknown as Json), verificationStatus: { coding: [{ system: VERIFICATION, code: v }] } };
  if (v === 'entered-in-error') delete c.clinicalStatus;
  return c as unknown as Resource;
}

function iodineAllergy(kind: GenCase['iodineAllergy']): Resource[] {
  if (kind === 'none') return [];
  if (kind === 'no-known-allergy') return [noKnownAllergy()];
  const a = allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media', kind === 'inactive' ? 'resolved' : 'active') as unknown as Json;
  if (kind === 'inactive') a.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'inactive' }] };
  if (kind === 'refuted') a.verificationStatus = { coding: [{ system: ALLERGY_VERIFICATION, code: 'refuted' }] };
  return [a as unknown as Resource];
}

const INFLAMMATION = {
  'acute-pid': [SCT, '237037006', 'Acute pelvic inflammatory disease'],
  vaginitis: [SCT, '30800001', 'Vaginitis'],
  'vaginitis-icd10': [ICD10, 'N76.0', 'Acute vaginitis'],
  endometritis: [SCT, '78623009', 'Endometritis'],
} as const;

/** The subject's record for a generated case. */
export function buildRecord(g: GenCase): Resource[] {
  const now = g.now;
  const ago = (n: number) => daysAgo(now, n);
  const r: Resource[] = [];
  const p = patient(birthDateFor(now, g.age.years, g.age.birthdayInDays)) as unknown as Json;
  if (g.age.missing) delete p.birthDate;
  r.push(p as unknown as Resource);

  switch (g.menses.kind) {
    case 'ended': {
      const end = ago(g.menses.daysAgo);
      r.push(lmpStart('menses-start', daysAfter(end, -g.menses.length)));
      const e = mensesEnd('menses-end', end) as unknown as Json;
      if (g.menses.withTime) e.valueDateTime = `${end}T20:30:00+08:00`;
      r.push(e as unknown as Resource);
      break;
    }
    case 'bleeding':
    case 'unended':
      r.push(lmpStart('previous-start', ago(g.menses.startedDaysAgo + 28)), mensesEnd('previous-end', ago(g.menses.startedDaysAgo + 23)));
      r.push(lmpStart('lmp', ago(g.menses.startedDaysAgo)));
      break;
    case 'none':
      break;
  }

  g.pregnancy.forEach((t, i) => {
    const res =
      t.kind === 'test'
        ? pregnancyTest(`hcg-${i}`, ago(t.daysAgo), t.positive ? 'positive' : 'negative', i % 2 ? '2118-8' : '2106-3')
        : pregnancyStatus(`pregnancy-status-${i}`, ago(t.daysAgo), t.positive);
    r.push(withObsStatus(res, t.status));
  });
  if (g.pregnancyCondition) r.push(withConditionVerification(condition('pregnancy', SCT, '77386006', 'Pregnant', { onset: ago(30) }), g.pregnancyCondition));

  if (g.inflammation) {
    const [system, code, display] = INFLAMMATION[g.inflammation.code];
    r.push(withConditionVerification(condition('inflammation', system, code, display, { onset: ago(4), status: g.inflammation.clinical }), g.inflammation.verification));
  }
  if (g.leukorrhea) {
    const l = leukorrhea('leukorrhea', ago(g.leukorrhea.daysAgo), g.leukorrhea.result === 'N') as unknown as Json;
    if (g.leukorrhea.result === 'IND') l.interpretation = [{ coding: [{ system: V3, code: 'IND', display: 'Indeterminate' }] }];
    r.push(withObsStatus(l as unknown as Resource, g.leukorrhea.status));
  }
  if (g.fitness) r.push(fitness('fitness', ago(g.fitness.daysAgo), g.fitness.fit));
  if (g.heartFailure) r.push(withConditionVerification(condition('heart-failure', SCT, '84114007', 'Heart failure', { onset: '2024-06-01' }), g.heartFailure));
  r.push(...iodineAllergy(g.iodineAllergy));
  if (g.iodineTest) r.push(iodineTest('iodine-test', ago(g.iodineTest.daysAgo), g.iodineTest.positive));

  if (g.sterilisation) {
    const method = g.sterilisation.methodKnown ? [{ system: LOCAL, code: 'tl-method-pomeroy', display: 'Fold ligation and cut (Pomeroy)' }] : [];
    const s = procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2016-03-02', method);
    r.push({ ...s, status: g.sterilisation.status } as Resource);
  }
  if (g.reversalDaysAgo !== null) {
    r.push(procedure('reversal', LOCAL, 'tubal-reanastomosis-lap-assisted-minilaparotomy', 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis', ago(g.reversalDaysAgo)));
  }
  if (g.infertility) r.push(condition('infertility', SCT, '6738008', 'Female infertility', { onset: '2025-01-01' }));
  switch (g.hysIndication) {
    case 'myomectomy':
      r.push(procedure('myomectomy', SCT, '42010004', 'Uterine myomectomy', '2023-09-14'));
      break;
    case 'menorrhagia':
      r.push(condition('aub', SCT, '386692008', 'Menorrhagia', { onset: '2025-11-10' }));
      break;
    case 'recurrent-loss':
      r.push(condition('rpl', SCT, '102878001', 'Recurrent miscarriage', { onset: '2025-06-01' }));
      break;
    case 'unexplained':
      r.push(condition('unexplained', SCT, '1148927006', 'Idiopathic female infertility', { onset: '2025-03-01' }));
      break;
    case null:
      break;
  }
  if (g.hsgResult) {
    const when = ago(g.hsgResult.daysAgo);
    if (g.hsgResult.patency === 'both-blocked') r.push(tubalPatency('patency', when, 'blocked-proximal', 'blocked-distal'));
    if (g.hsgResult.patency === 'one-blocked') r.push(tubalPatency('patency', when, 'patent', 'blocked-distal'));
    if (g.hsgResult.patency === 'patent') r.push(tubalPatency('patency', when, 'patent', 'patent'));
    if (g.hsgResult.cavity) r.push(hsgCavity('hsg-cavity', when, g.hsgResult.cavity));
  }
  if (g.semen) r.push(partner(), semenAnalysis('semen', ago(20), g.semen === 'normal'));
  if (g.regular !== null) r.push(regularity('regularity', ago(20), g.regular));
  if (g.permit) r.push(recanalizationPermit('permit', ago(60)));
  if (g.deliveryDaysAgo !== null) r.push(procedure('delivery', SCT, '236973005', 'Delivery procedure', ago(g.deliveryDaysAgo)));
  return r;
}

// ---------------------------------------------------------------------------------------------
// A second patient in the same input (SAFE-1), with her own records that would contraindicate,
// move the window or trigger other plans if they were read as the subject's.

export const OTHER_ID = 'other';
export type OtherReferenceForm = 'relative' | 'absolute' | 'versioned';

export const arbOther = fc.record({
  form: fc.constantFrom<OtherReferenceForm>('relative', 'absolute', 'versioned'),
  records: fc.subarray(
    [
      'pregnant',
      'acute-pid',
      'abnormal-leukorrhea',
      'iodine-allergy',
      'heart-failure',
      'not-fit',
      'menses-end-old',
      'bleeding',
      'ligation',
      'reversal',
      'both-blocked',
      'cavity-defect',
      'infertility',
      'no-known-allergy',
      'negative-test',
    ] as const,
    { minLength: 1 },
  ),
});
export type GenOther = typeof arbOther extends fc.Arbitrary<infer T> ? T : never;

function referenceTo(form: OtherReferenceForm): string {
  return form === 'absolute' ? `https://example.org/fhir/Patient/${OTHER_ID}` : form === 'versioned' ? `Patient/${OTHER_ID}/_history/2` : `Patient/${OTHER_ID}`;
}

/** The other patient's own records (ids prefixed `other-`), referring to her in the given form. */
export function buildOther(o: GenOther, now: string): Resource[] {
  const ago = (n: number) => daysAgo(now, n);
  const list: Resource[] = [];
  for (const k of o.records) {
    switch (k) {
      case 'pregnant':
        list.push(pregnancyTest('hcg', ago(0), 'positive'));
        break;
      case 'acute-pid':
        list.push(condition('pid', SCT, '237037006', 'Acute pelvic inflammatory disease', { onset: ago(3) }));
        break;
      case 'abnormal-leukorrhea':
        list.push(leukorrhea('leukorrhea', ago(0), false));
        break;
      case 'iodine-allergy':
        list.push(allergy('iodine-allergy', SCT, '426722004', 'Iodinated contrast media'));
        break;
      case 'heart-failure':
        list.push(condition('heart-failure', SCT, '84114007', 'Heart failure', { onset: '2024-01-01' }));
        break;
      case 'not-fit':
        list.push(fitness('fitness', ago(0), false));
        break;
      case 'menses-end-old':
        list.push(lmpStart('menses-start', ago(25)), mensesEnd('menses-end', ago(20)));
        break;
      case 'bleeding':
        list.push(lmpStart('lmp', ago(0)));
        break;
      case 'ligation':
        list.push(procedure('ligation', SCT, '287664005', 'Ligation of bilateral fallopian tubes', '2012-01-01'));
        break;
      case 'reversal':
        list.push(procedure('reversal', LOCAL, 'tubal-reanastomosis-laparoscopic', 'Laparoscopic tubal reanastomosis', ago(500)));
        break;
      case 'both-blocked':
        list.push(tubalPatency('patency', ago(5), 'blocked-proximal', 'blocked-distal'));
        break;
      case 'cavity-defect':
        list.push(hsgCavity('hsg-cavity', ago(5), 'filling-defect'));
        break;
      case 'infertility':
        list.push(condition('infertility', SCT, '5084002', 'Primary female infertility', { onset: '2024-01-01' }));
        break;
      case 'no-known-allergy':
        list.push(noKnownAllergy());
        break;
      case 'negative-test':
        list.push(pregnancyTest('hcg-negative', ago(0), 'negative'));
        break;
    }
  }
  const ref = referenceTo(o.form);
  const own = list.map((r) => {
    const json = JSON.parse(JSON.stringify(r)) as Json;
    json.id = `${OTHER_ID}-${json.id as string}`;
    for (const key of ['subject', 'patient']) if (json[key]) json[key] = { reference: ref };
    return json as unknown as Resource;
  });
  const her = { ...(patient('1990-01-01') as unknown as Json), id: OTHER_ID, name: [{ family: 'Other', given: ['Woman'] }] } as unknown as Resource;
  return [her, ...own];
}

export const SUBJECT_ID = PATIENT_ID;
