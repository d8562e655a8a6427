/**
 * Every order, medication, instruction, referral and task the protocols produce, one
 * ActivityDefinition each, with the request codes of terminology.md section C (the first coding is
 * the primary code). Orders that are the same across protocols are defined once (folder `shared`).
 */
import type { ActivityDefinition, Coding } from '@medplum/fhirtypes';
import { activityDefinition, CPG_ACTIVITY, coding, fhirpath, ICD9, LOCAL, LOINC, RXNORM, SCT, type AdSpec } from './common.ts';

const CATEGORY = {
  lab: coding(SCT, '108252007', 'Laboratory procedure'),
  imaging: coding(SCT, '363679005', 'Imaging'),
  surgery: coding(SCT, '387713003', 'Surgical procedure'),
  diagnostic: coding(SCT, '103693007', 'Diagnostic procedure'),
  referral: coding(SCT, '3457005', 'Referral procedure'),
  education: coding(SCT, '409073007', 'Education'),
  counselling: coding(SCT, '409063005', 'Counseling'),
} as const;

/** ServiceRequest.category has no ActivityDefinition element: set it with fixed dynamicValues. */
function category(c: Coding): NonNullable<ActivityDefinition['dynamicValue']> {
  return [
    { path: 'category[0].coding[0].system', expression: fhirpath(`'${c.system}'`) },
    { path: 'category[0].coding[0].code', expression: fhirpath(`'${c.code}'`) },
    { path: 'category[0].coding[0].display', expression: fhirpath(`'${c.display}'`) },
  ];
}

function order(folder: string, id: string, title: string, description: string, code: Coding[], cat: Coding, extra: Partial<ActivityDefinition> = {}): AdSpec {
  return { folder, id, title, description, kind: 'ServiceRequest', code, extra: { dynamicValue: category(cat), ...extra } };
}

/** A patient instruction: CommunicationRequest whose category carries the instruction's code. */
function instruction(folder: string, id: string, title: string, text: string, code: Coding[]): AdSpec {
  return {
    folder,
    id,
    title,
    description: text,
    kind: 'CommunicationRequest',
    code,
    extra: {
      participant: [{ type: 'patient' }],
      dynamicValue: [{ path: 'payload[0].contentString', expression: fhirpath(`'${text.replace(/'/g, "\\'")}'`) }],
    },
  };
}

/**
 * The texts of the HSG preparation that name the study: the HyCoSy branch writes them with "HyCoSy"
 * (action dynamicValues), so a woman having HyCoSy is never told about an HSG.
 */
export const STUDY_TEXTS = {
  atropineDosage: (study: string): string => `Intramuscular injection 30 minutes before the ${study}; dose per local protocol (not stated in the source).`,
  noIntercourseBefore: (study: string): string => `No sexual intercourse from the end of your period until the ${study}.`,
  studyDay: (study: string): string => `Eat normally on the day of the ${study}. A little bleeding is possible afterwards: bring sanitary pads.`,
};

/**
 * Atropine premedication before the study (HSG-P4), one ActivityDefinition per study so that its
 * instruction names the study the woman gets (HyCoSy keeps the HSG care: SAFE-8).
 */
function atropineBefore(id: string, study: string): AdSpec {
  return {
    folder: HSG,
    id: `atropine-im-before-${id}`,
    title: `Atropine IM half an hour before ${study}`,
    description: `Atropine by intramuscular injection 30 minutes before the ${study}, against uterine and tubal spasm (false blockage). The source gives no dose: dose per local protocol.`,
    kind: 'MedicationRequest',
    extra: {
      productCodeableConcept: { coding: [coding(SCT, '372832002', 'Atropine'), coding(RXNORM, '1223', 'Atropine')] },
      dosage: [{ text: STUDY_TEXTS.atropineDosage(study), route: { coding: [coding(SCT, '78421000', 'Intramuscular use')] } }],
    },
  };
}

/** A collect-information Task naming the data element to record (as the engine's missing-data Tasks do). */
function collect(folder: string, id: string, title: string, description: string, element: Coding): AdSpec {
  return {
    folder,
    id,
    title,
    description,
    kind: 'Task',
    code: [coding(CPG_ACTIVITY, 'collect-information', 'Collect information')],
    extra: {
      dynamicValue: [
        { path: 'reasonCode.coding[0].system', expression: fhirpath(`'${element.system}'`) },
        { path: 'reasonCode.coding[0].code', expression: fhirpath(`'${element.code}'`) },
        { path: 'reasonCode.coding[0].display', expression: fhirpath(`'${element.display}'`) },
        { path: 'reasonCode.text', expression: fhirpath(`'${element.display}'`) },
      ],
    },
  };
}

const SHARED = 'shared';
const TR = 'tubal-reanastomosis';
const HSG = 'hysterosalpingography';
const HYS = 'infertility-hysteroscopy';

export const AD_SPECS: AdSpec[] = [
  // ---- procedures ----
  order(
    SHARED,
    'hysterosalpingography',
    'Hysterosalpingography (HSG)',
    'Contrast X-ray of the uterine cavity and fallopian tubes to assess tubal patency and uterine morphology.',
    [
      coding(SCT, '168884001', 'Hysterosalpingography'),
      coding(LOINC, '25022-5', 'RF Uterus and Fallopian tubes Views W contrast IU'),
      coding(ICD9, '87.83', 'Opaque dye contrast hysterosalpingogram'),
    ],
    CATEGORY.imaging,
  ),
  order(
    SHARED,
    'hysteroscopy',
    'Hysteroscopy',
    'Hysteroscopic examination (and treatment where indicated) of the uterine cavity.',
    [coding(SCT, '233545006', 'Hysteroscopy'), coding(ICD9, '68.12', 'Hysteroscopy')],
    CATEGORY.diagnostic,
  ),
  order(
    SHARED,
    'hycosy',
    'Hysterosalpingo-contrast sonography (HyCoSy)',
    'Tubal patency by ultrasound contrast: no iodinated contrast and no ionising radiation.',
    [coding(LOCAL, 'hycosy', 'Hysterosalpingo-contrast sonography (HyCoSy)')],
    CATEGORY.imaging,
  ),
  order(
    SHARED,
    'tubal-hydrotubation',
    'Tubal hydrotubation (saline)',
    'Saline injected through the cervix; patency judged from the pressure. Simpler than HSG but shows no image and cannot tell which side is blocked.',
    [coding(LOCAL, 'tubal-hydrotubation', 'Tubal hydrotubation (saline patency test)')],
    CATEGORY.diagnostic,
  ),
  order(
    SHARED,
    'laparoscopic-chromopertubation',
    'Laparoscopic chromopertubation',
    'Dye test of tubal patency under laparoscopy: the gold standard, but invasive (hospital admission, general anaesthesia) and costly, so not the first choice.',
    [coding(LOCAL, 'laparoscopic-chromopertubation', 'Laparoscopic chromopertubation (dye test)'), coding(SCT, '73632009', 'Laparoscopy')],
    CATEGORY.surgery,
  ),
  order(
    SHARED,
    'ivf-referral',
    'Referral for IVF (assisted reproduction)',
    'Referral to a reproductive medicine service for in-vitro fertilisation.',
    [coding(SCT, '52637005', 'Test tube ovum fertilization')],
    CATEGORY.referral,
  ),
  order(
    TR,
    'tubal-reanastomosis',
    'Tubal reanastomosis (any technique)',
    'Reversal of tubal sterilisation; the technique is chosen in the protocol. Used for do-not-perform decisions that hold whatever the technique.',
    [coding(ICD9, '66.73', 'Salpingo-salpingostomy')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'tubal-reanastomosis-open-microsurgical',
    'Open microsurgical tubal reanastomosis',
    'Laparotomy under an operating microscope (10-30x) or a surgical loupe (4-10x) with fine instruments.',
    [coding(LOCAL, 'tubal-reanastomosis-open-microsurgical', 'Open microsurgical tubal reanastomosis'), coding(ICD9, '66.73', 'Salpingo-salpingostomy')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'tubal-reanastomosis-laparoscopic',
    'Laparoscopic tubal reanastomosis',
    'Laparoscopic anastomosis with 7-0 non-absorbable suture: technically difficult and long.',
    [coding(LOCAL, 'tubal-reanastomosis-laparoscopic', 'Laparoscopic tubal reanastomosis'), coding(ICD9, '66.73', 'Salpingo-salpingostomy')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'tubal-reanastomosis-lap-assisted-minilaparotomy',
    'Laparoscopy-assisted mini-laparotomy tubal reanastomosis',
    'Ideal technique (higher cost): anastomosis through a small incision, with laparoscopic treatment of pelvic endometriosis, pelvic lavage and an immediate patency test.',
    [coding(LOCAL, 'tubal-reanastomosis-lap-assisted-minilaparotomy', 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis'), coding(ICD9, '66.73', 'Salpingo-salpingostomy')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'methylene-blue-patency-test',
    'Intra-operative methylene-blue patency test',
    'Dye hydrotubation right after the anastomosis to verify that the tubes are patent.',
    [coding(LOCAL, 'methylene-blue-patency-test', 'Methylene-blue tubal patency test (intra-operative)')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'anti-adhesion-barrier-application',
    'Anti-adhesion agent at the end of surgery',
    'Apply an anti-adhesion agent (fibrin sealant / sodium hyaluronate) to the surgical wound at the end of surgery.',
    [coding(LOCAL, 'anti-adhesion-barrier-application', 'Application of anti-adhesion agent')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'surgical-admission',
    'Admission to the surgical department',
    'Admission after the menses for 1-2 days of pre-operative preparation.',
    [coding(SCT, '305408004', 'Admission to surgical department')],
    CATEGORY.surgery,
  ),
  order(
    TR,
    'partner-semen-analysis',
    'Semen analysis of the male partner',
    'Semen analysis of the partner, to find and treat an abnormality before the reversal. The result Observation has focus = the partner (RelatedPerson).',
    [coding(SCT, '5025004', 'Semen analysis, presence and motility of sperm'), coding(LOCAL, 'semen-analysis-panel', 'Semen analysis panel (WHO)')],
    CATEGORY.lab,
  ),
  // ---- work-up: exams, imaging, labs (shared catalogue) ----
  order(SHARED, 'ecg', 'Electrocardiogram', 'Pre-operative heart function.', [coding(SCT, '29303009', 'Electrocardiographic procedure')], CATEGORY.diagnostic),
  order(SHARED, 'chest-x-ray', 'Chest X-ray', 'Pre-operative lung function.', [coding(SCT, '399208008', 'Plain chest X-ray')], CATEGORY.imaging),
  order(
    SHARED,
    'preop-cardiovascular-examination',
    'Pre-operative cardiovascular examination',
    'Physical examination of heart function before hysteroscopy.',
    [coding(SCT, '444733009', 'Preoperative cardiovascular examination')],
    CATEGORY.diagnostic,
  ),
  order(
    SHARED,
    'preop-pulmonary-examination',
    'Pre-operative pulmonary examination',
    'Physical examination of lung function before hysteroscopy.',
    [coding(SCT, '444562008', 'Preoperative pulmonary examination')],
    CATEGORY.diagnostic,
  ),
  order(
    SHARED,
    'preop-gynecological-examination',
    'Pre-operative gynaecological examination',
    'Look for pelvic inflammatory disease and acute vaginitis before hysteroscopy.',
    [coding(LOCAL, 'preop-gynecological-examination', 'Pre-operative gynaecological examination (pelvic inflammatory disease, acute vaginitis)')],
    CATEGORY.diagnostic,
  ),
  order(SHARED, 'complete-blood-count', 'Complete blood count', 'Blood routine.', [coding(LOINC, '57021-8', 'CBC W Auto Differential panel - Blood')], CATEGORY.lab),
  order(SHARED, 'urinalysis', 'Urinalysis', 'Urine routine.', [coding(LOINC, '24356-8', 'Urinalysis complete panel - Urine')], CATEGORY.lab),
  order(SHARED, 'liver-function', 'Liver function tests', 'Hepatic function panel.', [coding(LOINC, '24325-3', 'Hepatic function 2000 panel - Serum or Plasma')], CATEGORY.lab),
  order(SHARED, 'kidney-function', 'Kidney function tests', 'Renal function panel.', [coding(LOINC, '24362-6', 'Renal function 2000 panel - Serum or Plasma')], CATEGORY.lab),
  order(SHARED, 'fasting-glucose', 'Fasting blood glucose', 'Fasting glucose.', [coding(LOINC, '1558-6', 'Fasting glucose [Mass/volume] in Serum or Plasma')], CATEGORY.lab),
  order(
    SHARED,
    'coagulation-panel',
    'Coagulation function',
    'PT, INR, aPTT, fibrinogen, thrombin time.',
    [coding(LOCAL, 'coagulation-panel', 'Coagulation function panel')],
    CATEGORY.lab,
  ),
  order(
    SHARED,
    'hepatitis-b-serology',
    'Hepatitis B serology (5 items)',
    'HBsAg, anti-HBs, HBeAg, anti-HBe, anti-HBc.',
    [coding(LOCAL, 'hbv-serology-5', 'Hepatitis B serology panel (5 items)'), coding(LOINC, '5196-1', 'Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay')],
    CATEGORY.lab,
  ),
  order(SHARED, 'hepatitis-c-antibody', 'Hepatitis C antibody', 'HCV antibody.', [coding(LOINC, '16128-1', 'Hepatitis C virus Ab [Presence] in Serum')], CATEGORY.lab),
  order(
    SHARED,
    'hiv-screening',
    'HIV screening',
    'HIV 1+2 antibody and p24 antigen. A positive result goes to clinician review; the text does not make it an exclusion.',
    [coding(LOINC, '56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay')],
    CATEGORY.lab,
  ),
  order(
    SHARED,
    'syphilis-trust',
    'Syphilis serology (TRUST)',
    'Non-treponemal reagin antibody by the TRUST method.',
    [coding(LOINC, '22461-8', 'Reagin Ab [Presence] in Serum')],
    CATEGORY.lab,
  ),
  order(SHARED, 'blood-group', 'Blood group', 'ABO and Rh group.', [coding(LOINC, '882-1', 'ABO and Rh group [Type] in Blood')], CATEGORY.lab),
  order(
    SHARED,
    'leukorrhea-routine',
    'Vaginal discharge routine examination',
    'Leukorrhea routine (wet mount: cleanliness grade, WBC, trichomonas, yeast, clue cells, pH, amine test).',
    [coding(LOCAL, 'leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)')],
    CATEGORY.lab,
  ),
  order(
    SHARED,
    'pregnancy-test-procedure-day',
    'Pregnancy test on the day of the procedure',
    'Urine or serum hCG on the day of the procedure, before it (or within 24 hours before it): a negative result of the look-back speaks for the day it was taken, not for a procedure days later (SAFE-2). The procedure goes ahead only when it is negative. Where one plan holds several procedures on different days, one test before each.',
    [coding(SCT, '252160004', 'Standard pregnancy test')],
    CATEGORY.lab,
    // Each use is dated with its own procedure: never merged with another use (SAFE-2 over SAFE-6).
    { extension: [{ url: 'http://infertility-protocols.org/fhir/StructureDefinition/request-per-use', valueBoolean: true }] },
  ),
  order(
    SHARED,
    'cervical-smear',
    'Cervical smear',
    'Cervical cytology.',
    [coding(LOINC, '47528-5', 'Cytology report of Cervical or vaginal smear or scraping Cyto stain')],
    CATEGORY.lab,
  ),
  order(
    HYS,
    'cervical-chlamydia',
    'Cervical chlamydia test',
    'Chlamydia trachomatis in cervical secretions (if necessary).',
    [coding(LOINC, '21190-4', 'Chlamydia trachomatis DNA [Presence] in Cervix by NAA with probe detection')],
    CATEGORY.lab,
  ),
  order(
    HYS,
    'cervical-mycoplasma',
    'Cervical mycoplasma test',
    'Genital mycoplasma/ureaplasma culture of cervical secretions (if necessary).',
    [coding(LOCAL, 'mycoplasma-ureaplasma-culture', 'Genital mycoplasma/ureaplasma culture')],
    CATEGORY.lab,
  ),
  // ---- HSG preparation ----
  order(
    HSG,
    'iodine-sensitivity-test',
    'Iodine sensitivity test',
    'Iodine (contrast) sensitivity test; it must be negative before imaging.',
    [coding(LOCAL, 'iodine-sensitivity-test', 'Iodine (contrast) sensitivity test')],
    CATEGORY.lab,
  ),
  order(
    HSG,
    'cleansing-enema',
    'Cleansing enema',
    'Cleansing enema before the procedure for a constipated patient, so the uterus stays in its normal position.',
    [coding(LOCAL, 'cleansing-enema', 'Cleansing enema')],
    CATEGORY.diagnostic,
  ),
  atropineBefore('hsg', 'HSG'),
  atropineBefore('hycosy', 'HyCoSy'),
  instruction(HSG, 'instruction-no-intercourse-before-hsg', 'No intercourse before the HSG', STUDY_TEXTS.noIntercourseBefore('HSG'), [
    coding(LOCAL, 'advice-no-intercourse-until-procedure', 'Advice: no intercourse from the end of menses until the procedure'),
  ]),
  instruction(HSG, 'instruction-hsg-day', 'On the day of the HSG', STUDY_TEXTS.studyDay('HSG'), [coding(SCT, '409073007', 'Education')]),
  instruction(HSG, 'instruction-empty-bladder', 'Empty the bladder before the HSG', 'Empty your bladder just before the procedure.', [
    coding(LOCAL, 'advice-empty-bladder', 'Advice: empty the bladder before the procedure'),
  ]),
  instruction(
    HSG,
    'instruction-no-intercourse-after-hsg',
    'No intercourse for one cycle after the HSG',
    'To avoid infection: no sexual intercourse until your next period has ended (one menstrual cycle).',
    [coding(SCT, '243077000', 'Recommendation to limit sexual activity')],
  ),
  instruction(
    HSG,
    'instruction-no-tub-bath',
    'No tub bath for one cycle after the HSG',
    'To avoid infection: no tub bath until your next period has ended (one menstrual cycle); showers are fine.',
    [coding(LOCAL, 'advice-no-tub-bath', 'Advice: no tub bathing until the next menses')],
  ),
  instruction(
    HSG,
    'instruction-conception-after-hsg',
    'When to try to conceive after the HSG',
    'Wait one menstrual cycle (about a month) after the HSG, then try actively to conceive. The radiation dose is low and the iodised oil may even help.',
    [coding(LOCAL, 'advice-conception-timing-post-hsg', 'Advice: avoid conception for one cycle after HSG, then try')],
  ),
  // ---- reversal instructions ----
  instruction(
    TR,
    'instruction-reversal-admission',
    'Admission for the reversal',
    'Come into hospital after your period has ended: the operation is 3-7 days after the end of the period and needs 1-2 days of preparation (heart and lung tests, blood tests, vaginal discharge test, cervical smear).',
    [coding(SCT, '409073007', 'Education')],
  ),
  instruction(
    TR,
    'instruction-after-reversal',
    'After the reversal: conception',
    'No contraception is needed after the operation: you may conceive from your next menstrual cycle. If you are not pregnant one year after the operation, come back for a tubal patency test.',
    [coding(SCT, '171012002', 'Pre-pregnancy education')],
  ),
  // ---- tasks ----
  collect(
    SHARED,
    'collect-menses-end-date',
    'Record the end date of the current (or next) menses',
    'Record the date the current or next menstruation ends: the procedure window is counted from it.',
    coding(LOCAL, 'menses-end-date', 'Date menstruation ended'),
  ),
  collect(
    SHARED,
    'collect-pregnancy-status',
    'Record a current pregnancy test or status',
    'Pregnancy is not excluded by a recent final negative result (none in the look-back, a preliminary or indeterminate one, or a newer result that is not negative): test and record it before the procedure (SAFE-2).',
    coding('http://loinc.org', '82810-3', 'Pregnancy status'),
  ),
  collect(
    SHARED,
    'collect-fitness-assessment',
    'Record the clinician fitness assessment',
    'No clinician assessment of fitness for the procedure in the look-back: record it once the work-up is back; the procedure is never assumed fit (SAFE-4).',
    coding(LOCAL, 'fit-for-procedure', 'Clinician assessment: fit for procedure (no serious systemic disease)'),
  ),
  collect(
    SHARED,
    'collect-tubal-patency-result',
    'Record the result of the tubal patency study already done',
    'A tubal patency study (HSG) was done recently but its result is not on record: record it instead of repeating the study (SAFE-6).',
    coding(LOCAL, 'tubal-patency-panel', 'Tubal patency (per side)'),
  ),
  collect(
    TR,
    'collect-ligation-operative-record',
    'Obtain the operative record of the sterilisation',
    'The sterilisation record does not say how the tubes were ligated; the method and site decide the expected outcome of the reversal (TR-O1, SAFE-9).',
    coding(LOCAL, 'tubal-ligation-method', 'Method of the original tubal sterilisation'),
  ),
  collect(
    SHARED,
    'collect-patient-sex',
    "Confirm the patient's sex",
    'The record gives no gender, or "unknown" or "other": confirm that the patient is a woman (female reproductive organs) and correct the record; the protocol is not applied until then.',
    coding(LOCAL, 'patient-sex-confirmed-female', 'Patient confirmed female (female reproductive organs)'),
  ),
  collect(
    TR,
    'collect-menstrual-regularity',
    'Record the menstrual regularity',
    'Menstrual regularity is on record only as a result that does not count (registered, preliminary, cancelled): record the assessment (regular or irregular); eligibility for the reversal (TR-I3) is decided on it.',
    coding(LOCAL, 'menstrual-regularity', 'Menstrual regularity'),
  ),
  collect(
    TR,
    'collect-reversal-date',
    'Record the date of the tubal reversal',
    'A tubal reanastomosis is recorded without the day it was performed: the one-year follow-up (TR-F1) counts from it. Record the date of the operation and apply the protocol again.',
    coding(LOCAL, 'tubal-reanastomosis-date', 'Date of the tubal reanastomosis'),
  ),
  collect(
    TR,
    'collect-next-step-after-reversal',
    "Record the clinician's decision on the next step",
    'No pregnancy a year after the reversal, tubal patency assessed since, and not both tubes blocked: the source texts name no next step for this case (IVF only when both tubes are blocked, TR-F2). The clinician reviews the result with the couple and records the next step decided.',
    coding(LOCAL, 'next-step-after-reversal', 'Clinician decision: next step after a reversal without pregnancy'),
  ),
  collect(
    TR,
    'collect-full-birth-date',
    'Record the full date of birth',
    'The record gives the birth date only to the year or the month: whether she is under 40 on the planned surgery dates cannot be decided (TR-I2, SAFE-5). Record the full date of birth; the reversal is not proposed until then.',
    coding(LOCAL, 'birth-date-full', 'Full date of birth (day, month and year)'),
  ),
  collect(
    TR,
    'collect-recanalization-permit',
    'Collect the recanalization permit',
    'Obtain the proof of family-planning approval for recanalization before surgery (administrative, China).',
    coding(LOCAL, 'recanalization-permit', 'Family-planning recanalization permit'),
  ),
];

export const activityDefinitions: { folder: string; resource: ActivityDefinition }[] = AD_SPECS.map((spec) => ({
  folder: spec.folder,
  resource: activityDefinition(spec),
}));

/** The primary code of an ActivityDefinition above (its first coding): what a draft order for it carries. */
export function primaryCode(id: string): Coding {
  const code = AD_SPECS.find((spec) => spec.id === id)?.code?.[0];
  if (!code) throw new Error(`no ActivityDefinition '${id}' with a code`);
  return code;
}
