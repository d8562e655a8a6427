/**
 * plandefinitions/README.md, generated: the rule -> action -> test case table is computed from the
 * PlanDefinitions and the case files, so it cannot drift from them.
 */
import type { PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import { LOOK_BACK_WHY } from './logic.ts';

export interface CaseRef {
  plan: string;
  name: string;
  rules: string[];
}

function actionsByRule(plans: PlanDefinition[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const walk = (plan: PlanDefinition, actions: PlanDefinitionAction[] | undefined) => {
    for (const a of actions ?? []) {
      for (const d of a.documentation ?? []) {
        if (d.type !== 'citation' || !d.label) continue;
        const list = map.get(d.label) ?? [];
        const label = `${plan.id}#${a.id}`;
        if (!list.includes(label)) list.push(label);
        map.set(d.label, list);
      }
      walk(plan, a.action);
    }
  };
  for (const plan of plans) walk(plan, plan.action);
  return map;
}

const SLIPS: [string, string][] = [
  [
    'TR-A2',
    '"Tubal ligation after the next menstrual cycle" = routine post-operative tubal hydrotubation (flushing); encoded as a do-not-perform hydrotubation (terminology.md section 1 A1).',
  ],
  ['TR-S2', '"Melanoma fluid pass test" = methylene-blue (meilan) dye patency test, LOCAL#methylene-blue-patency-test (A2).'],
  ['TR-S3', '"bioprotein gel" = fibrin sealant, "hyaluronic acid na" = sodium hyaluronate (A4).'],
  ['TR-T1 / HSG-T1 / HYS-T1', '"N days after menstruation" = after the menses have ENDED; day 1 = the day after LOCAL#menses-end-date; bounds inclusive (A7, A10, A23).'],
  ['TR-I2', '"under 40": strictly under 40 on the apply date (the surgery date is not fixed at planning time) (A8).'],
  ['TR-I5', 'Recanalization permit: administrative, China only; collected by a Task, the clinical plan is not held back (A9).'],
  ['TR-F2', '"incompetent or incompetent bilaterally" = both tubes not patent; only findings dated after the reversal count (A6).'],
  ['HSG-T1', 'The text says 5-7 days (common Chinese norm 3-7): the text is followed (A10).'],
  ['HSG-C4', '"menstruation" = bleeding now: an LMP start within the last 8 days with no end recorded after it (A19).'],
  ['HSG-C5', '"scraping" = uterine curettage; 6 weeks = 42 days, inclusive (A13).'],
  ['HSG-A2', 'Conception advice: one cycle then try (the HSG text\'s expert consensus); the 3-month and "2 to 3 months" advice is not required (A14).'],
  ['HSG-ALT1', '"Laparoscopic laparoscopic lavage (LC) / LV" = laparoscopic chromopertubation (A16); HyCoSy is minimally invasive, not "non-invasive" (A17).'],
  ['HSG-P4', 'Atropine dose not in the source: dose per local protocol (A27).'],
  ['HYS-I2', '"complicated uterine or uterine surgery" = any previous uterine surgery (A20).'],
  ['HYS-I3', '"repeated pregnancy failure" = recurrent pregnancy loss, recorded as a diagnosis (A21).'],
  ['HYS-I5', 'Laparoscopy planned and no previous hysteroscopy: do both together (A22).'],
  ['HYS-C4', 'Chronic PID encoded as stated (a contraindication), flagged for clinical review (A24).'],
  ['HYS-P2', '"negative AIDS (HIV)" = the test is required; a positive result goes to clinician review, not an automatic exclusion (A25).'],
];

const OUR_CHOICES: [string, string][] = [
  ['Pregnancy status (HSG-C3, HYS-C3)', LOOK_BACK_WHY.pregnancy],
  ['Vaginal discharge examination (HSG-C1, TR-P1, HYS-P2)', LOOK_BACK_WHY.leukorrhea],
  ['Iodine sensitivity test (HSG-P3)', LOOK_BACK_WHY.iodineTest],
  ['Fitness assessment (HSG-C2, TR-I4)', LOOK_BACK_WHY.fitness],
  ['Partner semen analysis (TR-W1)', LOOK_BACK_WHY.semen],
  ['CBC, urinalysis, liver, kidney, glucose, coagulation, chlamydia, mycoplasma (TR-P1, HYS-P2)', LOOK_BACK_WHY.routineLabs],
  ['HBV, HCV, HIV, syphilis (HYS-P2)', LOOK_BACK_WHY.serology],
  ['Blood group (HYS-P2)', LOOK_BACK_WHY.bloodGroup],
  ['ECG (TR-P1)', LOOK_BACK_WHY.ecg],
  ['Chest X-ray (TR-P1)', LOOK_BACK_WHY.chestXray],
  ['Cervical smear (TR-P1)', LOOK_BACK_WHY.cervicalSmear],
  ['Pre-operative examinations (HYS-P1)', LOOK_BACK_WHY.exam],
  [
    'Heavy bleeding now (HYS-C2)',
    'Look-back 7 days: the newest LOCAL#heavy-uterine-bleeding-now observation of the week decides (or an active abnormal bleeding condition graded severe).',
  ],
  [
    'Menstruating now (HSG-C4, all windows)',
    'An LMP start with no end after it is "bleeding now" for 8 days (FIGO: normal menses last up to 8 days); after that the end date is collected instead of assumed.',
  ],
  [
    'HyCoSy (HSG-C6)',
    "Proposed only when iodine allergy is the ONLY contraindication (the others concern instrumentation of the uterine cavity), in the HSG window (the text's reason for the window holds for any transcervical tubal study).",
  ],
  [
    'Irregular bleeding (HYS-T1)',
    'Active abnormal/irregular bleeding condition (vs-irregular-uterine-bleeding: menorrhagia and N92.0, heavy bleeding WITH regular cycles, excluded) or menstrual regularity = irregular: window from day 1 after the bleeding stopped, no end.',
  ],
  [
    'TR-F1 follow-up',
    'One year = on or after the first anniversary of the reversal; "no pregnancy" = no positive pregnancy result or pregnancy condition dated on or after the reversal; not repeated when tubal patency was already assessed after the reversal. The HSG option applies the whole HSG protocol (contraindications, window, preparation).',
  ],
  [
    'Missing data',
    'Required inputs are grouped so that every missing item of a decision is asked at once (HSG: menstrual data, pregnancy status, iodine allergy history; HYS: menstrual data, pregnancy status; TR: birth date, menstrual regularity, then menstrual data and pregnancy status). The fitness assessment is asked for beside them (SAFE-4). A window that no longer fits, a period whose end is unknown, or bleeding now produce a collect-information Task for the menses end date (SAFE-5, SAFE-10).',
  ],
  [
    'Pregnancy (SAFE-2)',
    'Safer reading than "the newest result decides": a positive result of the 7-day look-back (a preliminary one included) contraindicates even when a later one is negative; pregnancy is excluded only by a final negative result newer than every other result of the look-back. Otherwise the current status is collected (collect-pregnancy-status). The reversal now needs this too (before: never checked).',
  ],
  [
    'Genital inflammation (SAFE-3)',
    'One definition for the three protocols: an acute genital inflammation Condition (vs-genital-inflammation-acute: PID, endometritis, adnexitis, vaginitis, cervicitis), suspected (provisional, differential, unconfirmed) included, or an abnormal vaginal discharge routine of the last 7 days. Abnormal = any v3 interpretation other than N, IND or E (an unknown code holds); IND and E are repeated; the newest valid result decides and a same-day tie holds; a preliminary result can hold but never clears.',
  ],
  [
    'Fitness (SAFE-4)',
    'One definition for the three protocols: not fit = an active serious systemic disease, or the newest assessment of the last 30 days is false (a preliminary "not fit" counts); fit = the newest final assessment says true and no serious systemic disease is active. No assessment: the procedure is not proposed, the assessment is collected, and the work-up that informs it is proposed (reversal: ECG, chest X-ray, labs, partner semen analysis; hysteroscopy: examinations and labs). HSG, which has no such work-up, now also waits for the assessment (before: an absent assessment counted as fit).',
  ],
  [
    'Procedure dates (SAFE-5)',
    'Every procedure period starts on the later of its window start and the first day the preparation allows: today, or tomorrow when a preparation test or work-up is ordered (its result must be back the day before), or 2 days from today for the reversal (admission 1-2 days before the surgery cannot be in the past). Work-up is dated from today to the day before the period starts. A period that is empty (the window is over, or too close to its end for the preparation) moves to the next cycle. The reversal period ends the day before the 40th birthday; when that leaves nothing, she is not eligible on the planned date (TR-I2).',
  ],
  [
    'Done already (SAFE-6)',
    'Look-back 180 days for a tubal patency study (HSG, HyCoSy, laparoscopic chromopertubation, or an HSG cavity result) and for a hysteroscopy: the result is used, the study is not repeated; a study whose result is not recorded produces a task to record it. After a reversal only studies dated on or after it count.',
  ],
  [
    'Both tubes blocked (SAFE-7)',
    'A confirmed bilateral occlusion (suspected ones are what HSG is for) or the newest tubal patency study with both sides blocked: IVF referral, no new HSG. Before a reversal the ligated tubes are blocked by design: findings before the reversal do not count for the follow-up.',
  ],
  [
    'Ineligible for the reversal (SAFE-7)',
    'A do-not-perform reversal request coded LOCAL#not-eligible names the rule (TR-I2 age on the planned date, TR-I3 irregular menstruation); for age, an IVF referral is proposed instead (our reading of TR-F2: ligated tubes are non-functional).',
  ],
  [
    'HyCoSy care (SAFE-8)',
    'HyCoSy keeps the discharge exam, pregnancy check, window, premedication, instructions and aftercare (HSG-A1) of HSG; it drops the iodine sensitivity test and the conception advice HSG-A2 (which answers X-ray exposure and iodised oil).',
  ],
  [
    'Ligation method (SAFE-9)',
    'Known when a completed sterilisation Procedure has a note or a method code (LOCAL#tl-method-*, NHSA 66.3201 / 66.3200x002 / 66.3902 / 66.2900x001, SNOMED 25344002 / 287945002); otherwise the operative record is asked for.',
  ],
  [
    'One request per activity',
    'The pathway can reach the same ActivityDefinition twice (e.g. the discharge exam before HSG and before hysteroscopy): the engine issues one request for it, dated in the period both uses allow.',
  ],
];

export function renderReadme(plans: PlanDefinition[], cases: CaseRef[], ruleIds: string[]): string {
  const byRule = actionsByRule(plans);
  const casesByRule = new Map<string, string[]>();
  for (const c of cases) for (const r of c.rules) casesByRule.set(r, [...(casesByRule.get(r) ?? []), `${c.plan}/${c.name}`]);
  const rows = ruleIds.map((id) => {
    const actions = (byRule.get(id) ?? []).filter((a) => !a.startsWith('infertility-work-up-pathway#')).map((a) => `\`${a}\``);
    const tests = (casesByRule.get(id) ?? []).sort().map((t) => `[${t.split('/')[1]}](../tests/protocols/${t}.json)`);
    return `| ${id} | ${actions.join('<br>')} | ${tests.join('<br>')} |`;
  });
  return `# Protocols: PlanDefinitions and ActivityDefinitions

<!-- Generated by plandefinitions/_authoring (npm run build:protocols). Do not edit by hand. -->

| PlanDefinition | canonical | source |
|---|---|---|
| \`tubal-reanastomosis\` | http://infertility-protocols.org/fhir/PlanDefinition/tubal-reanastomosis\\|0.1.0 | sources/000_df67b89a1d6e44a9.txt |
| \`hysterosalpingography\` | http://infertility-protocols.org/fhir/PlanDefinition/hysterosalpingography\\|0.1.0 | sources/001_77e565344cb021a4.txt |
| \`infertility-hysteroscopy\` | http://infertility-protocols.org/fhir/PlanDefinition/infertility-hysteroscopy\\|0.1.0 | sources/002_04369e6709d45ade.txt |
| \`infertility-work-up-pathway\` | http://infertility-protocols.org/fhir/PlanDefinition/infertility-work-up-pathway\\|0.1.0 | links the three (nested PlanDefinitions) |

Layout: \`<plan id>/PlanDefinition-<id>.json\` with the ActivityDefinitions only that protocol uses;
\`shared/\` holds the ActivityDefinitions several protocols use (one CBC, one HSG, one hysteroscopy,
one IVF referral, ...). The local CodeSystem and the ValueSets are in \`../profiles/\`.
\`sources/\` holds verbatim copies of the source texts and of clinical-rules.md, against which the
tests check every citation.

**Authoring.** The JSON is generated from \`_authoring/*.ts\` (\`npm run build:protocols\`): each rule's
logic, citation and justification is written once there, and
\`tests/protocols/protocol-artifacts.test.ts\` fails if the committed JSON differs. Test cases are
generated from \`tests/protocols/cases/*.ts\` (\`npm run build:protocol-cases\`), with the expected
outcomes written from the rules.

## How results read

- **Proposed procedure**: a ServiceRequest (code of terminology.md section C) with
  \`occurrencePeriod\` = the window counted from the end of bleeding, and \`reasonReference\` = the
  patient data that indicate it.
- **Contraindicated**: one do-not-perform request per contraindication present (\`doNotPerform: true\`,
  \`reasonReference\` = the patient resources that contraindicate it, \`reasonCode\` naming the
  contraindication), plus HyCoSy when iodine allergy is the only contraindication to HSG.
- **Not indicated**: nothing; the trace names the failed condition by its rule id.
- **Not eligible** (e.g. 40 or older for the reversal): a do-not-perform request coded
  \`not-eligible\` whose \`reasonCode\` names the rule, and what is offered instead (SAFE-7).
- **Dates**: never before today; work-up from today to the day before the procedure (SAFE-5).
- **Missing data**: a collect-information Task naming the element's codes (engine mechanism:
  \`action.input\` marked \`input-required\`); never a guess.
- Work-up tests, atropine, instructions and referrals: one request each, not re-ordered when a valid
  recent result is on record (look-backs below).

## Rule -> action -> test cases

Actions are \`<plan id>#<action id>\`; every one cites the exact sentence of its source text in
\`documentation\` (type citation, label = the rule id, display = the source document and section, the
sentence as a blockquote in \`citation\`).

| rule | actions | test cases |
|---|---|---|
${rows.join('\n')}

## Translation slips and how they are encoded

| rule | reading |
|---|---|
${SLIPS.map(([r, t]) => `| ${r} | ${t} |`).join('\n')}

## Choices the texts do not make (stated in the actions' documentation as \`justification\`)

| what | choice and reason |
|---|---|
${OUR_CHOICES.map(([r, t]) => `| ${r} | ${t.replace(/\|/g, '\\|')} |`).join('\n')}
`;
}
