/**
 * Hysterosalpingography (source 001_77e565344cb021a4.txt, rules HSG-*).
 *
 * hsg (indication: infertility, or no pregnancy a year after reversal)
 *  |- hsg-ci-*            one do-not-perform HSG request per contraindication present (C1-C6)
 *  |- hsg-plan            no contraindication: schedule HSG 5-7 days after the menses
 *  |   `- hsg-timing      [required: menstrual data]
 *  |       |- hsg-window  window open
 *  |       |   `- hsg-cleared [required: pregnancy status, iodine allergy status] negative pregnancy test
 *  |       |       |- hsg-patency-test (exactly one: HSG | hydrotubation | laparoscopic chromopertubation)
 *  |       |       `- preparation, premedication and aftercare
 *  |       `- window passed / end of menses unknown -> collect the menses end date
 *  `- hsg-alternative-hycosy  iodine allergy is the only contraindication: the same, with HyCoSy
 */
import type { DataRequirement } from '@medplum/fhirtypes';
import { citations } from './citations.ts';
import {
  ACTIVE_ALLERGY,
  ACTIVE_CONDITION,
  adCanonical,
  applicability,
  codeInput,
  coding,
  contraindication,
  fhirpath,
  justify,
  LOCAL,
  performedDate,
  PROCEDURE_DONE,
  relatedAfterEnd,
  relatedBefore,
  relatedDaysBefore,
  RESULT_OK,
  SCT,
  vsInput,
  hasCoding,
  asDate,
  NOT_REFUTED,
  effectiveDate,
  variable,
  type Action,
} from './common.ts';
import {
  cycleTasks,
  CYCLE_STATE_VARIABLES,
  CYCLE_WINDOW_VARIABLES,
  LOOK_BACK,
  LOOK_BACK_WHY,
  MENSES_INPUTS,
  MENSES_JUSTIFICATION,
  MENSTRUATING_NOW,
  menstrualDataRequired,
  NO_PREGNANCY_YEAR_AFTER_REVERSAL,
  PREGNANCY_EVIDENCE,
  PREGNANCY_INPUTS,
  PREGNANCY_JUSTIFICATION,
  PREGNANCY_NEGATIVE,
  PREGNANT,
  pregnancyStatusRequired,
  RESULT_ABNORMAL_LATEST,
  RESULT_NORMAL_LATEST,
  REVERSAL_FOLLOW_UP_INPUTS,
  SYSTEMIC_DISEASE,
  SYSTEMIC_EVIDENCE,
  SYSTEMIC_INPUTS,
  windowDynamicValues,
  windowOpen,
} from './logic.ts';
import { planDefinition } from './plan.ts';
import { vsCodings } from './terminology.ts';

const WINDOW_START = 5;
const WINDOW_END = 7;

// ---- inputs of the whole plan -------------------------------------------------------------------

const INPUTS: DataRequirement[] = [
  vsInput('infertility', 'Condition', 'vs-female-infertility'),
  ...REVERSAL_FOLLOW_UP_INPUTS,
  ...PREGNANCY_INPUTS,
  vsInput('acuteGenitalInflammation', 'Condition', 'vs-genital-inflammation-acute'),
  codeInput('recentLeukorrhea', 'Observation', [coding(LOCAL, 'leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)')], {
    lookBackDays: LOOK_BACK.leukorrhea,
    newestFirst: true,
  }),
  ...SYSTEMIC_INPUTS,
  ...MENSES_INPUTS,
  vsInput('pregnancyEndingProcedures', 'Procedure', 'vs-recent-pregnancy-ending'),
  vsInput('pregnancyEndingConditions', 'Condition', 'vs-recent-pregnancy-ending'),
  vsInput('iodineAllergies', 'AllergyIntolerance', 'vs-contrast-iodine-allergy'),
  codeInput('iodineTests', 'Observation', [coding(LOCAL, 'iodine-sensitivity-test', 'Iodine (contrast) sensitivity test')], { newestFirst: true }),
  vsInput('constipation', 'Condition', 'vs-constipation'),
  codeInput('constipationNow', 'Observation', [coding(LOCAL, 'constipation-now', 'Currently constipated')], { lookBackDays: 7, latestOnly: true }),
];

// ---- indications --------------------------------------------------------------------------------

const INFERTILITY = `%infertility.where(${ACTIVE_CONDITION})`;
const INDICATED = `(${INFERTILITY}.exists() or ${NO_PREGNANCY_YEAR_AFTER_REVERSAL})`;
const INDICATION_EVIDENCE = `${INFERTILITY} | iif(${NO_PREGNANCY_YEAR_AFTER_REVERSAL}, %reanastomosis.where(${PROCEDURE_DONE}), {})`;

// ---- contraindications (each a Boolean that is never empty) -----------------------------------------

const INFLAMMATION_EVIDENCE = `%acuteGenitalInflammation.where(${ACTIVE_CONDITION})`;
const C1_INFLAMMATION = `${INFLAMMATION_EVIDENCE}.exists()`;
const C1_LEUKORRHEA = RESULT_ABNORMAL_LATEST('recentLeukorrhea');
const C5_EVIDENCE =
  `%pregnancyEndingProcedures.where(${PROCEDURE_DONE} and ${performedDate}.exists($this >= today() - 42 days))` +
  ` | %pregnancyEndingConditions.where(${NOT_REFUTED} and ${asDate('onset.ofType(dateTime)')}.exists($this >= today() - 42 days))`;
const C5_RECENT = `(${C5_EVIDENCE}).exists()`;
const IODINE_EVIDENCE =
  `%iodineAllergies.where(${ACTIVE_ALLERGY})` +
  ` | %iodineTests.where(${RESULT_OK} and (${hasCoding('value.coding', SCT, ['10828004'])} or interpretation.coding.exists(code = 'POS')))`;
const C6_IODINE = `(${IODINE_EVIDENCE}).exists()`;
const LATEST_PERIOD_START = `%lastPeriodStart.where(${RESULT_OK}).where(${asDate('value.ofType(dateTime)')}.max() = ${asDate(`%lastPeriodStart.where(${RESULT_OK}).value.ofType(dateTime)`)}.max())`;

/**
 * Each contraindication is computed once, as a named expression on the HSG action, and read by the
 * do-not-perform actions and by the "no contraindication" / "HyCoSy instead" branches. Menstruation
 * now (HSG-C4) is %menstruatingNow of CYCLE_STATE_VARIABLES, declared on the same action just before these.
 */
const CI_VARIABLES = [
  variable('ciInflammation', C1_INFLAMMATION, 'HSG-C1: acute or subacute genital inflammation'),
  variable('ciLeukorrhea', C1_LEUKORRHEA, 'HSG-C1: vaginal discharge examination abnormal'),
  variable('ciSystemicDisease', SYSTEMIC_DISEASE, 'HSG-C2: serious systemic disease'),
  variable('ciPregnant', PREGNANT, 'HSG-C3: pregnancy'),
  variable('ciRecentPregnancyEnding', C5_RECENT, 'HSG-C5: within 6 weeks of delivery, abortion or curettage'),
  variable('ciIodine', C6_IODINE, 'HSG-C6: iodine allergy'),
];

/** Contraindications other than iodine allergy: they rule out HyCoSy as much as HSG. */
const NO_CI_EXCEPT_IODINE = `(%ciInflammation or %ciLeukorrhea or %ciSystemicDisease or %ciPregnant or ${MENSTRUATING_NOW} or %ciRecentPregnancyEnding).not()`;

function hsgContraindications(): Action[] {
  const procedure = 'hysterosalpingography';
  return [
    contraindication({
      id: 'hsg-ci-acute-genital-inflammation',
      ruleId: 'HSG-C1',
      title: 'Do not perform HSG: acute or subacute genital inflammation',
      description: 'An active acute or subacute inflammation of the internal or external genitalia is recorded. Treat it first; the discharge examination must be normal before imaging.',
      present: '%ciInflammation',
      evidence: INFLAMMATION_EVIDENCE,
      reason: coding(LOCAL, 'acute-genital-inflammation', 'Acute or subacute inflammation of the genital tract'),
      procedure,
      documentation: citations('HSG-C1'),
    }),
    contraindication({
      id: 'hsg-ci-abnormal-leukorrhea',
      ruleId: 'HSG-C1',
      title: 'Do not perform HSG: vaginal discharge examination abnormal',
      description: 'The newest vaginal discharge (leukorrhea) examination of the last 7 days is abnormal; it must be normal before imaging.',
      present: '%ciLeukorrhea',
      evidence: `%recentLeukorrhea.where(${RESULT_OK}).first()`,
      reason: coding(LOCAL, 'leukorrhea-abnormal', 'Abnormal vaginal discharge examination'),
      procedure,
      documentation: [...citations('HSG-C1'), justify('HSG-C1', LOOK_BACK_WHY.leukorrhea)],
    }),
    contraindication({
      id: 'hsg-ci-serious-systemic-disease',
      ruleId: 'HSG-C2',
      title: 'Do not perform HSG: serious systemic disease',
      description: 'A serious systemic disease is recorded, or the newest fitness assessment (last 30 days) says the patient cannot tolerate the procedure.',
      present: '%ciSystemicDisease',
      evidence: SYSTEMIC_EVIDENCE,
      reason: coding(LOCAL, 'serious-systemic-disease', 'Serious systemic disease: cannot tolerate the procedure'),
      procedure,
      documentation: [...citations('HSG-C2'), justify('HSG-C2', 'Read as terminology.md section 1 A28: an active Condition in vs-serious-systemic-disease, or the clinician assessment LOCAL#fit-for-procedure = false. ' + LOOK_BACK_WHY.fitness)],
    }),
    contraindication({
      id: 'hsg-ci-pregnancy',
      ruleId: 'HSG-C3',
      title: 'Do not perform HSG: pregnancy',
      description: 'A positive pregnancy test or pregnancy status in the last 7 days, or an active pregnancy on the problem list.',
      present: '%ciPregnant',
      evidence: PREGNANCY_EVIDENCE,
      reason: coding(SCT, '77386006', 'Pregnant'),
      procedure,
      documentation: [...citations('HSG-C3'), PREGNANCY_JUSTIFICATION],
    }),
    contraindication({
      id: 'hsg-ci-menstruation',
      ruleId: 'HSG-C4',
      title: 'Do not perform HSG: menstruating now',
      description: 'The newest period has started (within the last 8 days) and has not ended. HSG is done 5-7 days after the end of the menses.',
      present: MENSTRUATING_NOW,
      evidence: LATEST_PERIOD_START,
      reason: coding(LOCAL, 'menstruating-now', 'Currently menstruating'),
      procedure,
      documentation: [...citations('HSG-C4'), justify('HSG-C4', 'terminology.md section 1 A19: "menstruation" = currently bleeding.'), MENSES_JUSTIFICATION],
    }),
    contraindication({
      id: 'hsg-ci-recent-pregnancy-ending',
      ruleId: 'HSG-C5',
      title: 'Do not perform HSG: within 6 weeks of delivery, abortion or curettage',
      description: 'A delivery, abortion or curettage on or after the day 42 days ago (6 weeks, inclusive).',
      present: '%ciRecentPregnancyEnding',
      evidence: C5_EVIDENCE,
      reason: coding(LOCAL, 'recent-pregnancy-ending', 'Delivery, abortion or curettage within the last 6 weeks'),
      procedure,
      documentation: [
        ...citations('HSG-C5'),
        justify('HSG-C5', 'terminology.md section 1 A13: "scraping" = uterine curettage. 6 weeks = 42 days: an event 42 days ago still contraindicates, 43 days ago no longer (procedure date = performed, or the end of a performed period; condition date = onset).'),
      ],
    }),
    contraindication({
      id: 'hsg-ci-iodine-allergy',
      ruleId: 'HSG-C6',
      title: 'Do not perform HSG: iodine allergy',
      description: 'An active allergy to iodine or iodinated contrast, or a positive iodine sensitivity test. HyCoSy (no iodine, no radiation) is proposed instead when nothing else contraindicates it.',
      present: '%ciIodine',
      evidence: IODINE_EVIDENCE,
      reason: coding(SCT, '293637006', 'Allergy to contrast media'),
      procedure,
      documentation: citations('HSG-C6', 'HSG-P3'),
    }),
  ];
}

// ---- scheduling ---------------------------------------------------------------------------------

const REASON_REFERENCE = { path: 'reasonReference', expression: fhirpath(INDICATION_EVIDENCE) };

function patencyTestGroup(prefix: string, primary: 'hysterosalpingography' | 'hycosy'): Action {
  const primaryId = `${prefix}-order`;
  const isHsg = primary === 'hysterosalpingography';
  return {
    id: `${prefix}-patency-test`,
    title: 'Tubal patency test (choose one)',
    description: isHsg
      ? 'HSG is preselected; saline hydrotubation (simpler, less accurate) and laparoscopic chromopertubation (gold standard, invasive) are the alternatives the text gives.'
      : 'HyCoSy is preselected (iodine allergy); saline hydrotubation and laparoscopic chromopertubation use no iodinated contrast either.',
    documentation: citations('HSG-ALT1'),
    groupingBehavior: 'logical-group',
    selectionBehavior: 'exactly-one',
    requiredBehavior: 'must',
    action: [
      {
        id: primaryId,
        title: isHsg ? 'Hysterosalpingography 5-7 days after the menses' : 'HyCoSy 5-7 days after the menses (iodine allergy)',
        description: isHsg
          ? 'HSG in the window day 5 to day 7 after the end of bleeding: the endometrium is repaired but not yet thick (too early: thin, easily damaged; too late: contrast reflux, poor tubal filling).'
          : 'HyCoSy replaces HSG because of the iodine allergy; it is scheduled in the same window as HSG because the text\'s reason for the window (state of the endometrium) holds for any transcervical tubal study.',
        priority: 'routine',
        precheckBehavior: 'yes',
        goalId: ['tubal-patency-known'],
        documentation: isHsg
          ? [...citations('HSG-I1', 'HSG-I2', 'HSG-T1', 'HSG-X1'), justify('HSG-T1', 'terminology.md section 1 A10: the text says 5-7 days (the common Chinese norm is 3-7); the text is followed.'), MENSES_JUSTIFICATION]
          : [...citations('HSG-C6', 'HSG-T1'), justify('HSG-C6', 'The text names HyCoSy as the test that avoids iodine allergy and radiation (terminology.md section 1 A17: minimally invasive, not non-invasive). Window: our choice, the HSG window.')],
        definitionCanonical: adCanonical(primary),
        dynamicValue: [...windowDynamicValues(WINDOW_START, WINDOW_END), REASON_REFERENCE],
      },
      {
        id: `${prefix}-hydrotubation`,
        title: 'Alternative: tubal hydrotubation (saline)',
        description: 'Simpler than HSG, but shows no image of the cavity or tubes and cannot tell which side is blocked.',
        precheckBehavior: 'no',
        documentation: citations('HSG-ALT1'),
        definitionCanonical: adCanonical('tubal-hydrotubation'),
        dynamicValue: [...windowDynamicValues(WINDOW_START, WINDOW_END), REASON_REFERENCE],
      },
      {
        id: `${prefix}-laparoscopic-chromopertubation`,
        title: 'Alternative: laparoscopic chromopertubation (gold standard)',
        description: 'Gold standard, can unblock tubes and find other pelvic lesions, but invasive: hospital admission, general anaesthesia, higher cost; not the first choice.',
        precheckBehavior: 'no',
        documentation: citations('HSG-ALT1'),
        definitionCanonical: adCanonical('laparoscopic-chromopertubation'),
        dynamicValue: [REASON_REFERENCE],
      },
    ],
  };
}

function hsgPreparation(): Action[] {
  const target = 'hsg-order';
  return [
    {
      id: 'hsg-leukorrhea-test',
      title: 'Vaginal discharge examination before imaging',
      description: 'No normal discharge examination in the last 7 days: order one; HSG goes ahead only if it is normal (an abnormal result contraindicates, HSG-C1).',
      documentation: [...citations('HSG-C1'), justify('HSG-C1', LOOK_BACK_WHY.leukorrhea)],
      condition: [applicability(`${RESULT_NORMAL_LATEST('recentLeukorrhea')}.not()`, 'HSG-C1: no normal vaginal discharge examination in the last 7 days')],
      relatedAction: [relatedDaysBefore(target, 1)],
      definitionCanonical: adCanonical('leukorrhea-routine'),
    },
    {
      id: 'hsg-iodine-sensitivity-test',
      title: 'Iodine sensitivity test (must be negative)',
      description: 'No negative iodine sensitivity test in the last 7 days: order one; it must be negative before imaging (positive = iodine allergy, HSG-C6).',
      documentation: [...citations('HSG-P3'), justify('HSG-P3', LOOK_BACK_WHY.iodineTest)],
      condition: [
        applicability(
          `%iodineTests.where(${RESULT_OK} and ${hasCoding('value.coding', SCT, ['260385009'])} and ${effectiveDate}.exists($this >= today() - ${LOOK_BACK.iodineTest} days)).empty()`,
          'HSG-P3: no negative iodine sensitivity test in the last 7 days',
        ),
      ],
      relatedAction: [relatedDaysBefore(target, 1)],
      definitionCanonical: adCanonical('iodine-sensitivity-test'),
    },
    {
      id: 'hsg-atropine',
      title: 'Atropine IM half an hour before the HSG',
      description: 'Antispasmodic premedication against uterine and tubal spasm (a spasm can mimic a blocked tube). Dose per local protocol: the text gives none.',
      documentation: [...citations('HSG-P4'), justify('HSG-P4', 'terminology.md section 1 A27: no dose in the source; A11: spasm causes false blockage.')],
      relatedAction: [relatedBefore(target, 30)],
      definitionCanonical: adCanonical('atropine-im-before-hsg'),
    },
    {
      id: 'hsg-instruction-no-intercourse-before',
      title: 'No intercourse from the end of the menses until the HSG',
      documentation: citations('HSG-P1'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-intercourse-before-hsg'),
    },
    {
      id: 'hsg-instruction-day',
      title: 'Normal diet on the day; bring pads',
      documentation: citations('HSG-P2'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-hsg-day'),
    },
    {
      id: 'hsg-instruction-empty-bladder',
      title: 'Empty the bladder before the procedure',
      documentation: citations('HSG-P5'),
      relatedAction: [relatedBefore(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-empty-bladder'),
    },
    {
      id: 'hsg-enema',
      title: 'Cleansing enema before the procedure (constipation)',
      description: 'Only for a constipated patient: active constipation on the problem list, or reported constipation in the last 7 days.',
      documentation: citations('HSG-P5'),
      condition: [
        applicability(
          `%constipation.where(${ACTIVE_CONDITION}).exists() or %constipationNow.where(${RESULT_OK} and value.ofType(boolean) = true).exists()`,
          'HSG-P5: the patient is constipated',
        ),
      ],
      relatedAction: [relatedBefore(target)],
      definitionCanonical: adCanonical('cleansing-enema'),
    },
    {
      id: 'hsg-instruction-no-intercourse-after',
      title: 'After the HSG: no intercourse for one menstrual cycle',
      documentation: [...citations('HSG-A1'), justify('HSG-A1', 'terminology.md section 1 A15: one cycle = until the next menses has finished.')],
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-intercourse-after-hsg'),
    },
    {
      id: 'hsg-instruction-no-tub-bath',
      title: 'After the HSG: no tub bath for one menstrual cycle',
      documentation: citations('HSG-A1'),
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-no-tub-bath'),
    },
    {
      id: 'hsg-instruction-conception',
      title: 'After the HSG: wait one cycle, then try to conceive',
      documentation: [
        ...citations('HSG-A2'),
        justify('HSG-A2', 'terminology.md section 1 A14: the texts disagree (3 months; "2 to 3 months" in the reversal text); the HSG text\'s expert consensus (one month, then try) is the default; the 3-month advice is not required.'),
      ],
      relatedAction: [relatedAfterEnd(target)],
      participant: [{ type: 'patient' }],
      definitionCanonical: adCanonical('instruction-conception-after-hsg'),
    },
  ];
}

function schedule(prefix: string, cleared: Action[], requireIodineStatus: boolean): Action {
  // All the data the decision needs is required here, so every missing item is asked for at once.
  const inputs: DataRequirement[] = [menstrualDataRequired(), pregnancyStatusRequired()];
  if (requireIodineStatus) {
    inputs.push(codeInput('iodineAllergyStatus', 'AllergyIntolerance', vsCodings('vs-iodine-allergy-status', '293637006'), { required: true }));
  }
  return {
    id: `${prefix}-timing`,
    title: 'Timing: 5-7 days after the menses are clean',
    description:
      'Needs menstrual data (the LMP start or the end of bleeding), a determinate pregnancy result from the last 7 days' +
      (requireIodineStatus ? ' and the iodine allergy history (an iodine allergy or "no known allergy")' : '') +
      '; each is collected when absent, never assumed.',
    documentation: [
      ...citations('HSG-T1', 'HSG-C3'),
      MENSES_JUSTIFICATION,
      PREGNANCY_JUSTIFICATION,
      ...(requireIodineStatus ? [...citations('HSG-C6'), justify('HSG-C6', 'The allergy history is required before iodinated contrast; SNOMED 716186003 "no known allergy" records it as clear (terminology.md section C).')] : []),
    ],
    input: inputs,
    // The window state is needed only here (HSG and HyCoSy timing exclude each other: computed once).
    extension: CYCLE_WINDOW_VARIABLES,
    action: [
      {
        id: `${prefix}-window`,
        title: 'The window of this cycle is open (up to day 7 after the menses)',
        documentation: [...citations('HSG-T1'), MENSES_JUSTIFICATION],
        condition: [applicability(windowOpen(WINDOW_END), `HSG-T1: the end of the menses is known and today is on or before day ${WINDOW_END}`)],
        action: [
          {
            id: `${prefix}-cleared`,
            title: 'Pregnancy excluded',
            description: 'The newest pregnancy result of the last 7 days is negative.',
            documentation: [...citations('HSG-C3'), PREGNANCY_JUSTIFICATION],
            condition: [applicability(PREGNANCY_NEGATIVE, 'HSG-C3: the newest pregnancy result of the last 7 days is negative')],
            action: cleared,
          },
        ],
      },
      ...cycleTasks(prefix, WINDOW_END, 'HSG-T1'),
    ],
  };
}

export const hysterosalpingographyPlan = planDefinition({
  id: 'hysterosalpingography',
  title: 'Hysterosalpingography (HSG) in the infertility work-up',
  description:
    'Hysterosalpingography for infertility (tubal factor, uterine cavity) or after a tubal reversal without pregnancy: contraindication screen, timing 5-7 days after the menses are clean, iodine sensitivity test, atropine premedication, patient instructions before and after, conception advice, and the alternatives (HyCoSy when iodine allergy, saline hydrotubation, laparoscopic chromopertubation).',
  purpose: 'Encodes 001_77e565344cb021a4.txt (rules HSG-* of clinical-rules.md) so that every HSG proposal is screened, timed and prepared the same way.',
  usage:
    'Apply with the patient record. Results: HSG ServiceRequest with occurrencePeriod = day 5..7 after the end of bleeding; a doNotPerform HSG request per contraindication (reasonReference = the patient data); collect-information Tasks for missing menstrual data, pregnancy status or iodine allergy history.',
  relatedArtifact: [
    { type: 'documentation', display: 'Source text', citation: '001_77e565344cb021a4.txt (Hysterosalpingography and its alternatives)' },
    { type: 'documentation', display: 'Rules', citation: 'clinical-rules.md, section Hysterosalpingography (HSG-*)' },
  ],
  goal: [
    {
      id: 'tubal-patency-known',
      description: { text: 'Tubal patency and uterine cavity morphology assessed' },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-priority', code: 'medium-priority' }] },
      documentation: citations('HSG-X1'),
    },
  ],
  action: [
    {
      id: 'hsg',
      title: 'Hysterosalpingography (HSG)',
      description: 'Indicated for infertility (HSG-I1) or another need to know tubal patency and uterine morphology: here, no pregnancy one year after a tubal reversal (HSG-I2, TR-F1).',
      documentation: [
        ...citations('HSG-I1', 'HSG-I2', 'HSG-X1'),
        justify('HSG-I2', 'Computable form of "other conditions": a completed tubal reanastomosis at least one year ago with no positive pregnancy result or pregnancy recorded since (TR-F1). Routine HSG soon after a reversal is not advised (TR-A3).'),
      ],
      input: INPUTS,
      extension: [...CYCLE_STATE_VARIABLES, ...CI_VARIABLES],
      condition: [applicability(INDICATED, 'HSG-I1/HSG-I2: active female infertility, or no pregnancy one year after a tubal reversal')],
      action: [
        ...hsgContraindications(),
        {
          id: 'hsg-plan',
          title: 'No contraindication: plan the HSG',
          documentation: citations('HSG-C1', 'HSG-C2', 'HSG-C3', 'HSG-C4', 'HSG-C5', 'HSG-C6'),
          condition: [applicability(`${NO_CI_EXCEPT_IODINE} and %ciIodine.not()`, 'HSG-C1..C6: no contraindication is recorded')],
          action: [schedule('hsg', [patencyTestGroup('hsg', 'hysterosalpingography'), ...hsgPreparation()], true)],
        },
        {
          id: 'hsg-alternative-hycosy',
          title: 'Iodine allergy only: plan HyCoSy instead',
          description: 'HyCoSy avoids iodinated contrast and radiation. Every other HSG contraindication (inflammation, systemic disease, pregnancy, menstruation, recent delivery/abortion/curettage) rules it out too: it is also a transcervical study of the uterine cavity.',
          documentation: [
            ...citations('HSG-C6', 'HSG-ALT1'),
            justify('HSG-C6', 'Our reading: HyCoSy removes only the iodine (and radiation) problem; the other contraindications concern instrumentation of the uterine cavity and apply unchanged.'),
          ],
          condition: [applicability(`${NO_CI_EXCEPT_IODINE} and %ciIodine`, 'HSG-C6: iodine allergy is the only contraindication')],
          action: [schedule('hycosy', [patencyTestGroup('hycosy', 'hycosy')], false)],
        },
      ],
    },
  ],
});

