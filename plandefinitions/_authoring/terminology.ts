/**
 * The module's own terminology: the local CodeSystem (concepts with no verified standard code,
 * terminology.md section 7.1, plus the contraindication reasons the protocols name), fragments of
 * the two Chinese NHSA code systems the ValueSets draw on, and the enumerated ValueSets the
 * protocol inputs bind to (section 7.2). Every standard code here is VERIFIED or VERIFIED-zh in
 * terminology.md section 10; none is UNVERIFIED.
 */
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { BASE, computableName, DATE, ICD10, ICD9, LOCAL, LOINC, NHSA10, NHSA9, PUBLISHER, RXNORM, SCT, VERSION, vsUrl } from './common.ts';

interface Concept {
  code: string;
  display: string;
  definition?: string;
}

const LOCAL_CONCEPTS: Concept[] = [
  // Procedures with no verified SNOMED CT concept (terminology.md 10.2 UNVERIFIED rows).
  {
    code: 'tubal-reanastomosis-open-microsurgical',
    display: 'Open microsurgical tubal reanastomosis',
    definition: 'Reversal of tubal sterilisation by laparotomy under an operating microscope (10-30x) or loupe (4-10x). Maps: ICD-9-CM 66.73; NHSA 66.7300 / 66.7900x004.',
  },
  {
    code: 'tubal-reanastomosis-laparoscopic',
    display: 'Laparoscopic tubal reanastomosis',
    definition: 'Laparoscopic tubo-tubal anastomosis with 7-0 non-absorbable suture. Maps: NHSA 66.7301.',
  },
  {
    code: 'tubal-reanastomosis-lap-assisted-minilaparotomy',
    display: 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis',
    definition:
      'Anastomosis through a small incision with laparoscopic assistance (treats pelvic endometriosis, pelvic lavage, immediate patency test). Maps: NHSA 66.7300 + 54.21.',
  },
  {
    code: 'methylene-blue-patency-test',
    display: 'Methylene-blue tubal patency test (intra-operative)',
    definition: 'Dye hydrotubation right after anastomosis ("Melanoma fluid pass test" in the source is a slip for methylene blue). NHSA 66.8x02.',
  },
  {
    code: 'anti-adhesion-barrier-application',
    display: 'Application of anti-adhesion agent',
    definition: 'Sodium hyaluronate or fibrin sealant applied to the surgical wound at the end of surgery.',
  },
  { code: 'fibrin-sealant', display: 'Fibrin sealant (biological protein glue)' },
  {
    code: 'laparoscopic-chromopertubation',
    display: 'Laparoscopic chromopertubation (dye test)',
    definition: 'Gold standard test of tubal patency; invasive, general anaesthesia. NHSA 66.8x02.',
  },
  {
    code: 'tubal-hydrotubation',
    display: 'Tubal hydrotubation (saline patency test)',
    definition: 'Saline injected through the cervix, patency judged from pressure; cannot tell which side is blocked. NHSA 66.8x01.',
  },
  {
    code: 'hycosy',
    display: 'Hysterosalpingo-contrast sonography (HyCoSy)',
    definition: 'Tubal patency by ultrasound contrast: no iodine, no ionising radiation. ICD-9-CM 88.79.',
  },
  { code: 'hysteroscopic-tubal-cannulation', display: 'Hysteroscopic tubal cannulation', definition: 'NHSA 66.8x03.' },
  { code: 'iodine-sensitivity-test', display: 'Iodine (contrast) sensitivity test', definition: 'Pre-HSG test; result value SNOMED 260385009 negative / 10828004 positive.' },
  { code: 'cleansing-enema', display: 'Cleansing enema', definition: 'NHSA 96.39.' },
  {
    code: 'leukorrhea-routine',
    display: 'Vaginal discharge routine examination (leukorrhea routine)',
    definition: 'Wet-mount panel (cleanliness grade, WBC, trichomonas, yeast, clue cells, pH, amine test); Observation.interpretation N = normal.',
  },
  { code: 'leukorrhea-cleanliness-grade', display: 'Vaginal cleanliness grade (I-IV)' },
  { code: 'mycoplasma-ureaplasma-culture', display: 'Genital mycoplasma/ureaplasma culture' },
  {
    code: 'semen-analysis-panel',
    display: 'Semen analysis panel (WHO)',
    definition: 'Partner semen analysis; Observation.focus = the partner RelatedPerson; interpretation N = normal.',
  },
  { code: 'coagulation-panel', display: 'Coagulation function panel', definition: 'PT, INR, aPTT, fibrinogen, thrombin time.' },
  { code: 'hbv-serology-5', display: 'Hepatitis B serology panel (5 items)', definition: 'HBsAg, anti-HBs, HBeAg, anti-HBe, anti-HBc.' },
  { code: 'trust', display: 'Toluidine red unheated serum test (TRUST)', definition: 'Observation.method for LOINC 22461-8.' },
  // Patient data elements.
  {
    code: 'menses-end-date',
    display: 'Date menstruation ended',
    definition: 'Observation valueDateTime (date): last day of bleeding. Day 1 of every procedure window is the day after it.',
  },
  { code: 'menstruating-now', display: 'Currently menstruating' },
  { code: 'menstrual-regularity', display: 'Menstrual regularity', definition: 'Observation valued SNOMED 78456001 (normal cycle) or LOCAL#irregular-menstrual-cycle.' },
  { code: 'irregular-menstrual-cycle', display: 'Irregular menstrual cycle' },
  { code: 'intercourse-since-menses', display: 'Sexual intercourse since end of last menses' },
  { code: 'constipation-now', display: 'Currently constipated' },
  { code: 'heavy-uterine-bleeding-now', display: 'Active heavy uterine bleeding' },
  {
    code: 'fit-for-procedure',
    display: 'Clinician assessment: fit for procedure (no serious systemic disease)',
    definition: 'Observation valueBoolean; false = a serious systemic disease makes the procedure unsafe.',
  },
  { code: 'recanalization-permit', display: 'Family-planning recanalization permit', definition: 'DocumentReference.type of the proof of approval for recanalization (China).' },
  { code: 'tube-segment-isthmic', display: 'Isthmic segment of fallopian tube' },
  { code: 'tube-segment-ampullary', display: 'Ampullary segment of fallopian tube' },
  { code: 'tube-segment-middle-third', display: 'Middle third of fallopian tube' },
  { code: 'tube-segment-fimbrial', display: 'Fimbrial segment of fallopian tube' },
  { code: 'tube-segment-interstitial', display: 'Interstitial segment of fallopian tube' },
  {
    code: 'patient-sex-confirmed-female',
    display: 'Patient confirmed female (female reproductive organs)',
    definition:
      'Confirmation that the patient is a woman, asked for when Patient.gender is absent, unknown or other: the protocols (HSG, hysteroscopy, tubal reversal) are for women and are not applied until it is confirmed.',
  },
  {
    code: 'tubal-reanastomosis-date',
    display: 'Date of the tubal reanastomosis',
    definition:
      'The day a recorded tubal reanastomosis was performed (Procedure.performed). The follow-up (TR-F1: no pregnancy one year after the reversal) counts from it and only tubal findings dated on or after it count.',
  },
  {
    code: 'birth-date-full',
    display: 'Full date of birth (day, month and year)',
    definition:
      'Patient.birthDate to the day. Age eligibility on the planned date (TR-I2, SAFE-5) cannot be decided from a birth year or month alone when the 40th birthday may fall before or within the surgery period.',
  },
  {
    code: 'tubal-ligation-method',
    display: 'Method of the original tubal sterilisation',
    definition:
      'What the operative record of the sterilisation says about the method and the site of the ligation (TR-O1): informs the expected outcome of a reversal, not eligibility (SAFE-9).',
  },
  { code: 'tl-method-core-extraction', display: 'Isthmic core extraction and embedding' },
  { code: 'tl-method-pomeroy', display: 'Fold ligation and cut (Pomeroy)' },
  { code: 'tl-method-ring', display: 'Tubal ring' },
  { code: 'tl-method-clip', display: 'Tubal clip' },
  { code: 'tl-method-electrocoagulation', display: 'Electrocoagulation' },
  { code: 'tl-method-salpingectomy', display: 'Salpingectomy' },
  { code: 'hsg-uterine-cavity', display: 'HSG uterine cavity assessment' },
  { code: 'filling-defect', display: 'Uterine cavity filling defect' },
  { code: 'contour-abnormal', display: 'Uterine cavity contour abnormal' },
  { code: 'normal', display: 'Normal' },
  { code: 'tubal-patency-panel', display: 'Tubal patency (per side)' },
  { code: 'tubal-patency-right', display: 'Right tube patency' },
  { code: 'tubal-patency-left', display: 'Left tube patency' },
  { code: 'patent', display: 'Patent' },
  { code: 'blocked-proximal', display: 'Blocked proximally' },
  { code: 'blocked-distal', display: 'Blocked distally' },
  { code: 'not-visualized', display: 'Not visualised' },
  { code: 'equivocal-spasm', display: 'Equivocal (possible spasm)' },
  { code: 'intrauterine-adhesions', display: 'Intrauterine adhesions (Asherman)' },
  { code: 'congenital-uterine-anomaly', display: 'Congenital uterine anomaly' },
  { code: 'failed-ivf-et', display: 'Failed IVF-ET (no pregnancy after at least one embryo transfer)' },
  // Patient instructions.
  { code: 'advice-no-tub-bath', display: 'Advice: no tub bathing until the next menses' },
  { code: 'advice-empty-bladder', display: 'Advice: empty the bladder before the procedure' },
  { code: 'advice-no-intercourse-until-procedure', display: 'Advice: no intercourse from the end of menses until the procedure' },
  { code: 'advice-conception-timing-post-hsg', display: 'Advice: avoid conception for one cycle after HSG, then try' },
  // Orders and reasons the texts name that have no verified standard code.
  { code: 'preop-gynecological-examination', display: 'Pre-operative gynaecological examination (pelvic inflammatory disease, acute vaginitis)' },
  { code: 'contraindication', display: 'Contraindication', definition: 'Action code: the action records that a procedure must not be performed.' },
  { code: 'acute-genital-inflammation', display: 'Acute or subacute inflammation of the genital tract', definition: 'Contraindication reason (HSG-C1, HYS-C1).' },
  {
    code: 'leukorrhea-abnormal',
    display: 'Abnormal vaginal discharge examination',
    definition: 'Contraindication reason: the leukorrhea routine must be normal before HSG (HSG-C1).',
  },
  { code: 'serious-systemic-disease', display: 'Serious systemic disease: cannot tolerate the procedure', definition: 'Contraindication reason (HSG-C2, TR-I4).' },
  { code: 'recent-pregnancy-ending', display: 'Delivery, abortion or curettage within the last 6 weeks', definition: 'Contraindication reason (HSG-C5).' },
  {
    code: 'not-eligible',
    display: 'Not eligible for the procedure',
    definition: 'Action code: a rule of the protocol excludes the patient; the action names the rule and what, if anything, is offered instead (SAFE-7).',
  },
  {
    code: 'result-on-record',
    display: 'Result on record used, not repeated',
    definition: 'Action code: a recent result of the study is on record and is used instead of ordering the study again (SAFE-6).',
  },
  {
    code: 'next-step-after-reversal',
    display: 'Clinician decision: next step after a reversal without pregnancy',
    definition:
      'Data element: a year or more after a tubal reversal without pregnancy, tubal patency assessed and not both tubes blocked; the source texts name no next step, so the clinician reviews the result and records the next step decided (TR-F1, TR-F2, SAFE-7).',
  },
  {
    code: 'follow-up-waiting',
    display: 'Keep trying to conceive; reassess at one year',
    definition: 'Action code: after a tubal reversal, no test is advised before one year without pregnancy (TR-F1, TR-A2, TR-A3).',
  },
  { code: 'partner-semen-abnormal', display: 'Abnormal partner semen analysis, to treat before surgery', definition: 'Reason to hold the reversal (TR-W1).' },
];

export const localCodeSystem: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'infertility-workup',
  url: LOCAL,
  version: VERSION,
  name: 'InfertilityWorkup',
  title: 'Infertility work-up local concepts',
  status: 'draft',
  experimental: true,
  date: DATE,
  publisher: PUBLISHER,
  description:
    'Concepts the infertility protocols need that have no verified standard code (terminology.md section 7.1 and section 10 UNVERIFIED rows), and the contraindication reasons the protocols name. Replace a concept by a standard code once one is verified.',
  caseSensitive: true,
  content: 'complete',
  count: LOCAL_CONCEPTS.length,
  concept: LOCAL_CONCEPTS.map((c) => (c.definition ? { code: c.code, display: c.display, definition: c.definition } : { code: c.code, display: c.display })),
};

// ---- ValueSets -----------------------------------------------------------------------------------

type Include = { system: string; concepts: [string, string][] };

interface VsSpec {
  id: string;
  title: string;
  description: string;
  include: Include[];
  includeValueSets?: string[];
}

const sct = (concepts: [string, string][]): Include => ({ system: SCT, concepts });
const icd10 = (concepts: [string, string][]): Include => ({ system: ICD10, concepts });
const nhsa10 = (concepts: [string, string][]): Include => ({ system: NHSA10, concepts });
const icd9 = (concepts: [string, string][]): Include => ({ system: ICD9, concepts });
const nhsa9 = (concepts: [string, string][]): Include => ({ system: NHSA9, concepts });

const VALUE_SETS: VsSpec[] = [
  {
    id: 'vs-tubal-sterilization-history',
    title: 'History of tubal sterilisation',
    description: 'Procedures and history situations meaning the woman had a tubal sterilisation (TR-I1).',
    include: [
      sct([
        ['267020005', 'History of tubal ligation'],
        ['287664005', 'Ligation of bilateral fallopian tubes'],
        ['77543007', 'Ligation of fallopian tube'],
        ['189234004', 'Tubal occlusion'],
        ['287945002', 'Resection of bilateral fallopian tubes'],
        ['25344002', 'Fimbriectomy of fallopian tube'],
      ]),
      icd10([['Z30.2', 'Sterilization']]),
      nhsa10([['Z98.800x318', 'Status post bilateral tubal sterilisation']]),
    ],
  },
  {
    id: 'vs-tubal-reanastomosis',
    title: 'Tubal reanastomosis (reversal of sterilisation)',
    description: 'A tubal reanastomosis that was performed (TR follow-up TR-F1/TR-F2, HSG-I2).',
    include: [
      {
        system: LOCAL,
        concepts: [
          ['tubal-reanastomosis-open-microsurgical', 'Open microsurgical tubal reanastomosis'],
          ['tubal-reanastomosis-laparoscopic', 'Laparoscopic tubal reanastomosis'],
          ['tubal-reanastomosis-lap-assisted-minilaparotomy', 'Laparoscopy-assisted mini-laparotomy tubal reanastomosis'],
        ],
      },
      icd9([['66.73', 'Salpingo-salpingostomy']]),
      nhsa9([
        ['66.7300', 'Salpingo-salpingostomy'],
        ['66.7301', 'Laparoscopic tubo-tubal anastomosis'],
        ['66.7900x004', 'Recanalisation of ligated tube'],
        ['66.7904', 'Recanalisation of transected tube'],
      ]),
    ],
  },
  {
    id: 'vs-genital-inflammation-acute',
    title: 'Acute or subacute genital tract inflammation',
    description: 'Active inflammation of the internal or external genitalia contraindicating HSG (HSG-C1).',
    include: [
      sct([
        ['237037006', 'Acute pelvic inflammatory disease'],
        ['198130006', 'Female pelvic inflammatory disease'],
        ['78623009', 'Endometritis'],
        ['30800001', 'Vaginitis'],
        ['419760006', 'Bacterial vaginosis'],
        ['276877003', 'Trichomonal vaginitis'],
        ['72605008', 'Candidal vulvovaginitis'],
        ['53277000', 'Vulvovaginitis'],
        ['237084006', 'Chlamydial cervicitis'],
        ['105629000', 'Chlamydial infection'],
        ['237039009', 'Chlamydial salpingitis'],
      ]),
      icd10([
        ['N70.0', 'Acute salpingitis and oophoritis'],
        ['N71.0', 'Acute inflammatory disease of uterus'],
        ['N73.0', 'Acute parametritis and pelvic cellulitis'],
        ['N73.9', 'Female pelvic inflammatory disease, unspecified'],
        ['N76.0', 'Acute vaginitis'],
        ['N72', 'Inflammatory disease of cervix uteri'],
        ['A56.0', 'Chlamydial infection of lower genitourinary tract'],
      ]),
      nhsa10([
        ['N71.001', 'Acute endometritis'],
        ['N70.001', 'Acute salpingitis'],
        ['N73.003', 'Acute female pelvic inflammatory disease'],
        ['N76.000x003', 'Bacterial vaginosis'],
        ['A56.002', 'Chlamydial cervicitis'],
      ]),
    ],
  },
  {
    id: 'vs-hysteroscopy-acute-inflammation',
    title: 'Acute endometritis, adnexitis or pelvic inflammatory disease',
    description:
      'HYS-C1. Endometritis (78623009) and unspecified PID (198130006, N73.9) are included: no verified code separates acute endometritis, and unspecified PID contraindicates hysteroscopy under HYS-C1 or HYS-C4 either way.',
    include: [
      sct([
        ['237037006', 'Acute pelvic inflammatory disease'],
        ['198130006', 'Female pelvic inflammatory disease'],
        ['78623009', 'Endometritis'],
        ['237039009', 'Chlamydial salpingitis'],
      ]),
      icd10([
        ['N70.0', 'Acute salpingitis and oophoritis'],
        ['N71.0', 'Acute inflammatory disease of uterus'],
        ['N73.0', 'Acute parametritis and pelvic cellulitis'],
        ['N73.9', 'Female pelvic inflammatory disease, unspecified'],
      ]),
      nhsa10([
        ['N71.001', 'Acute endometritis'],
        ['N70.001', 'Acute salpingitis'],
        ['N73.003', 'Acute female pelvic inflammatory disease'],
      ]),
    ],
  },
  {
    id: 'vs-pid-chronic',
    title: 'Chronic pelvic inflammatory disease',
    description: 'HYS-C4.',
    include: [sct([['237044002', 'Chronic pelvic inflammatory disease']]), nhsa10([['N73.101', 'Chronic female pelvic inflammatory disease']])],
  },
  {
    id: 'vs-recent-pregnancy-ending',
    title: 'Delivery, abortion or curettage',
    description: 'Events after which HSG must wait 6 weeks (HSG-C5): procedures (Procedure.performed) and conditions (Condition.onset).',
    include: [
      sct([
        ['236973005', 'Delivery procedure'],
        ['11466000', 'Cesarean section'],
        ['714812005', 'Induced termination of pregnancy'],
        ['386639001', 'Termination of pregnancy'],
        ['391897002', 'Aspiration curettage of uterus for termination of pregnancy'],
        ['13091001', 'Dilation and curettage'],
        ['11401008', 'Dilation and curettage of uterus'],
        ['176820000', 'Curettage of uterus'],
        ['76810006', 'Diagnostic dilation and curettage of uterus'],
        ['28379004', 'Dilation and curettage of uterus after abortion'],
        ['391998006', 'Dilation and curettage of uterus after delivery'],
        ['17369002', 'Miscarriage'],
        ['39406005', 'Legal termination of pregnancy'],
        ['86569001', 'Postpartum state'],
      ]),
      icd9([
        ['69.01', 'Dilation and curettage for termination of pregnancy'],
        ['69.02', 'Dilation and curettage following delivery or abortion'],
        ['69.09', 'Other dilation and curettage'],
      ]),
      icd10([
        ['O03.9', 'Spontaneous abortion, complete or unspecified, without complication'],
        ['O04.9', 'Medical abortion, complete or unspecified, without complication'],
      ]),
    ],
  },
  {
    id: 'vs-contrast-iodine-allergy',
    title: 'Iodine / iodinated contrast allergy',
    description:
      'AllergyIntolerance codes meaning an allergy to iodine or iodinated contrast (HSG-C6). The "Allergy to iodine" finding codes are unverified and deliberately absent: record the substance.',
    include: [
      sct([
        ['293637006', 'Allergy to contrast media'],
        ['293638001', 'X-ray contrast media allergy'],
        ['426722004', 'Iodinated contrast media'],
        ['44588005', 'Iodine'],
        ['385420005', 'Contrast media'],
        ['109224005', 'Ethiodized oil'],
        ['419297002', 'Lipiodol'],
      ]),
      { system: RXNORM, concepts: [['5933', 'Iodine']] },
      nhsa10([
        ['Z88.807', 'Personal history of allergy to iodine preparations'],
        ['Z88.808', 'Personal history of allergy to diatrizoate meglumine'],
      ]),
    ],
  },
  {
    id: 'vs-iodine-allergy-status',
    title: 'Iodine allergy status recorded',
    description: 'An iodine/contrast allergy, or "no known allergy": either means the allergy history was taken (HSG-C6 needs it).',
    include: [sct([['716186003', 'No known allergy']])],
    includeValueSets: ['vs-contrast-iodine-allergy'],
  },
  {
    id: 'vs-abnormal-uterine-bleeding',
    title: 'Abnormal uterine bleeding',
    description: 'HYS-I1 (and, with severity severe, HYS-C2).',
    include: [
      sct([
        ['44991000119100', 'Abnormal uterine bleeding'],
        ['301822002', 'Abnormal vaginal bleeding'],
        ['386692008', 'Menorrhagia'],
      ]),
      icd10([
        ['N93.9', 'Abnormal uterine and vaginal bleeding, unspecified'],
        ['N92.0', 'Excessive and frequent menstruation with regular cycle'],
      ]),
      nhsa10([['N93.901', 'Abnormal uterine bleeding']]),
    ],
  },
  {
    id: 'vs-irregular-uterine-bleeding',
    title: 'Irregular uterine bleeding',
    description:
      'Bleeding that does not follow the menstrual cycle (HYS-T1: any time after it stops). Menorrhagia and N92.0 are heavy bleeding WITH a regular cycle and are deliberately absent.',
    include: [
      sct([
        ['44991000119100', 'Abnormal uterine bleeding'],
        ['301822002', 'Abnormal vaginal bleeding'],
        ['386804004', 'Disorder of menstruation'],
      ]),
      icd10([['N93.9', 'Abnormal uterine and vaginal bleeding, unspecified']]),
      nhsa10([['N93.901', 'Abnormal uterine bleeding']]),
    ],
  },
  {
    id: 'vs-menstrual-disorder',
    title: 'Menstruation not regular',
    description: 'An active condition meaning the menstruation is not normal (TR-I3).',
    include: [
      sct([
        ['386804004', 'Disorder of menstruation'],
        ['14302001', 'Amenorrhea'],
      ]),
    ],
  },
  {
    id: 'vs-uterine-surgery',
    title: 'Uterine surgery',
    description: 'Previous uterine or intrauterine surgery (HYS-I2): procedures and history conditions.',
    include: [
      sct([
        ['42010004', 'Uterine myomectomy'],
        ['236901008', 'Endoscopic myomectomy'],
        ['11466000', 'Cesarean section'],
        ['54130005', 'Hysteroscopy with resection of intrauterine septum'],
        ['12398007', 'Excision of endometrial synechiae'],
        ['84064003', 'Hysteroscopy with removal of submucous leiomyomata'],
        ['274974008', 'Endoscopic endometrial polypectomy'],
        ['11401008', 'Dilation and curettage of uterus'],
        ['13091001', 'Dilation and curettage'],
        ['176820000', 'Curettage of uterus'],
        ['161805006', 'H/O: cesarean section'],
      ]),
      nhsa10([['Z98.800x302', 'Status post uterine surgery']]),
    ],
  },
  {
    id: 'vs-recurrent-pregnancy-loss',
    title: 'Recurrent pregnancy loss',
    description: 'HYS-I3 ("repeated pregnancy failure").',
    include: [
      sct([
        ['102878001', 'Recurrent miscarriage'],
        ['199088001', 'History of recurrent miscarriage - not delivered'],
      ]),
      icd10([['N96', 'Habitual aborter']]),
    ],
  },
  {
    id: 'vs-female-infertility',
    title: 'Female infertility',
    description: 'HSG-I1.',
    include: [
      sct([
        ['6738008', 'Female infertility'],
        ['5084002', 'Primary female infertility'],
        ['30238006', 'Secondary female infertility'],
        ['39446004', 'Female infertility of tubal origin'],
        ['85078005', 'Female infertility due to occlusion of fallopian tube'],
        ['198452006', 'Primary tubal infertility'],
        ['198453001', 'Secondary tubal infertility'],
        ['26899006', 'Female infertility of uterine origin'],
        ['1148927006', 'Idiopathic female infertility'],
        ['712584009', 'Female infertility due to endometriosis'],
        ['712585005', 'Female infertility due to pelvic peritoneal adhesion'],
        ['65454003', 'Female infertility associated with congenital anomaly of uterus'],
      ]),
      icd10([
        ['N97.1', 'Female infertility of tubal origin'],
        ['N97.2', 'Female infertility of uterine origin'],
        ['N97.4', 'Female infertility associated with male factors'],
        ['N97.9', 'Female infertility, unspecified'],
      ]),
      nhsa10([
        ['N97.100x001', 'Obstructive tubal infertility'],
        ['N97.901', 'Primary female infertility'],
        ['N97.902', 'Secondary female infertility'],
      ]),
    ],
  },
  {
    id: 'vs-unexplained-infertility',
    title: 'Unexplained infertility',
    description: 'HYS-I6. ICD-10 N97.9 (unspecified) is not "unexplained" and is deliberately absent.',
    include: [sct([['1148927006', 'Idiopathic female infertility']])],
  },
  {
    id: 'vs-hysteroscopy-procedures',
    title: 'Hysteroscopy (diagnostic or operative)',
    description: 'A previous hysteroscopy (HYS-I5, HYS-I7 need none).',
    include: [
      sct([
        ['233545006', 'Hysteroscopy'],
        ['88355005', 'Diagnostic hysteroscopy'],
        ['274974008', 'Endoscopic endometrial polypectomy'],
        ['236901008', 'Endoscopic myomectomy'],
        ['84064003', 'Hysteroscopy with removal of submucous leiomyomata'],
        ['54130005', 'Hysteroscopy with resection of intrauterine septum'],
        ['12398007', 'Excision of endometrial synechiae'],
        ['28136008', 'Removal of intraluminal foreign body from uterus without incision'],
      ]),
      icd9([['68.12', 'Hysteroscopy']]),
      nhsa9([['68.1200x001', 'Hysteroscopy']]),
    ],
  },
  {
    id: 'vs-laparoscopy',
    title: 'Laparoscopy',
    description: 'A planned laparoscopy (HYS-I5: do the hysteroscopy at the same time).',
    include: [
      sct([
        ['73632009', 'Laparoscopy'],
        ['1217393000', 'Laparoscopy of female pelvis'],
      ]),
      { system: LOCAL, concepts: [['laparoscopic-chromopertubation', 'Laparoscopic chromopertubation (dye test)']] },
      icd9([['54.21', 'Laparoscopy']]),
    ],
  },
  {
    id: 'vs-pregnancy-test-codes',
    title: 'Pregnancy tests and pregnancy status',
    description: 'Observation codes carrying pregnancy status (HSG-C3, HYS-C3, TR-F1).',
    include: [
      {
        system: LOINC,
        concepts: [
          ['2106-3', 'Choriogonadotropin (pregnancy test) [Presence] in Urine'],
          ['2118-8', 'Choriogonadotropin (pregnancy test) [Presence] in Serum or Plasma'],
          ['82810-3', 'Pregnancy status'],
        ],
      },
    ],
  },
  {
    id: 'vs-pregnancy-result',
    title: 'Determinate pregnancy results',
    description: 'Values of a pregnancy test or pregnancy status that settle the question (positive/negative, pregnant/not pregnant); "not yet confirmed" does not.',
    include: [
      sct([
        ['10828004', 'Positive'],
        ['260385009', 'Negative'],
        ['77386006', 'Pregnant'],
        ['60001007', 'Not pregnant'],
      ]),
    ],
  },
  {
    id: 'vs-last-menstrual-period',
    title: 'Start of the last menstrual period',
    description: 'First day of the last menstrual bleeding (terminology.md section C).',
    include: [{ system: LOINC, concepts: [['8665-2', 'Last menstrual period start date']] }],
  },
  {
    id: 'vs-menstrual-data',
    title: 'Menstrual data',
    description: 'Either the start of the last period or the end of bleeding: without any of them no procedure window can be computed.',
    include: [
      { system: LOINC, concepts: [['8665-2', 'Last menstrual period start date']] },
      { system: LOCAL, concepts: [['menses-end-date', 'Date menstruation ended']] },
    ],
  },
  {
    id: 'vs-workup-orders',
    title: 'Work-up orders of the protocols',
    description: 'The examinations and tests the protocols order before a procedure (and recognise as already done when a recent result is on record).',
    include: [
      sct([
        ['29303009', 'Electrocardiographic procedure'],
        ['399208008', 'Plain chest X-ray'],
        ['444733009', 'Preoperative cardiovascular examination'],
        ['444562008', 'Preoperative pulmonary examination'],
        ['5025004', 'Semen analysis, presence and motility of sperm'],
      ]),
      {
        system: LOINC,
        concepts: [
          ['57021-8', 'CBC W Auto Differential panel - Blood'],
          ['24356-8', 'Urinalysis complete panel - Urine'],
          ['24325-3', 'Hepatic function 2000 panel - Serum or Plasma'],
          ['24362-6', 'Renal function 2000 panel - Serum or Plasma'],
          ['1558-6', 'Fasting glucose [Mass/volume] in Serum or Plasma'],
          ['5196-1', 'Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay'],
          ['16128-1', 'Hepatitis C virus Ab [Presence] in Serum'],
          ['56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay'],
          ['22461-8', 'Reagin Ab [Presence] in Serum'],
          ['882-1', 'ABO and Rh group [Type] in Blood'],
          ['47528-5', 'Cytology report of Cervical or vaginal smear or scraping Cyto stain'],
          ['21190-4', 'Chlamydia trachomatis DNA [Presence] in Cervix by NAA with probe detection'],
        ],
      },
      {
        system: LOCAL,
        concepts: [
          ['preop-gynecological-examination', 'Pre-operative gynaecological examination (pelvic inflammatory disease, acute vaginitis)'],
          ['coagulation-panel', 'Coagulation function panel'],
          ['hbv-serology-5', 'Hepatitis B serology panel (5 items)'],
          ['leukorrhea-routine', 'Vaginal discharge routine examination (leukorrhea routine)'],
          ['mycoplasma-ureaplasma-culture', 'Genital mycoplasma/ureaplasma culture'],
          ['semen-analysis-panel', 'Semen analysis panel (WHO)'],
          ['iodine-sensitivity-test', 'Iodine (contrast) sensitivity test'],
        ],
      },
    ],
  },
  {
    id: 'vs-pregnancy-condition',
    title: 'Pregnant (condition)',
    description: 'A pregnancy recorded on the problem list.',
    include: [
      sct([['77386006', 'Pregnant']]),
      icd10([
        ['Z33', 'Pregnant state, incidental'],
        ['Z32.1', 'Pregnancy confirmed'],
      ]),
    ],
  },
  {
    id: 'vs-serious-systemic-disease',
    title: 'Serious systemic disease',
    description: 'Conditions that make the procedure unsafe (HSG-C2, TR-I4). Extend with verified codes only; the clinician assessment LOCAL#fit-for-procedure covers the rest.',
    include: [sct([['84114007', 'Heart failure']])],
  },
  {
    id: 'vs-constipation',
    title: 'Constipation',
    description: 'HSG-P5: cleansing enema before the procedure.',
    include: [
      sct([
        ['14760008', 'Constipation'],
        ['236069009', 'Chronic constipation'],
      ]),
      icd10([['K59.0', 'Constipation']]),
    ],
  },
  {
    id: 'vs-tubal-patency-study',
    title: 'Tubal patency study',
    description:
      'A study of tubal patency already done (HSG, or an alternative: HyCoSy, laparoscopic chromopertubation): its result is used rather than repeating a study (SAFE-6).',
    include: [
      sct([['168884001', 'Hysterosalpingography']]),
      {
        system: LOCAL,
        concepts: [
          ['hycosy', 'Hysterosalpingo-contrast sonography (HyCoSy)'],
          ['laparoscopic-chromopertubation', 'Laparoscopic chromopertubation (dye test)'],
        ],
      },
    ],
  },
  {
    id: 'vs-tubal-occlusion',
    title: 'Tubal occlusion',
    description: 'Blocked fallopian tubes; with bodySite SNOMED 51440002 (bilateral) it is TR-F2.',
    include: [sct([['85078005', 'Female infertility due to occlusion of fallopian tube']]), nhsa10([['N97.100x001', 'Obstructive tubal infertility']])],
  },
];

function valueSet(spec: VsSpec): ValueSet {
  const include: NonNullable<ValueSet['compose']>['include'] = spec.include.map((inc) => ({
    system: inc.system,
    concept: inc.concepts.map(([code, display]) => ({ code, display })),
  }));
  if (spec.includeValueSets) include.push({ valueSet: spec.includeValueSets.map(vsUrl) });
  return {
    resourceType: 'ValueSet',
    id: spec.id,
    url: vsUrl(spec.id),
    version: VERSION,
    name: computableName(spec.id.replace(/^vs-/, '')),
    title: spec.title,
    status: 'draft',
    experimental: true,
    date: DATE,
    publisher: PUBLISHER,
    description: spec.description,
    compose: { include },
  };
}

export const valueSets: ValueSet[] = VALUE_SETS.map(valueSet);

/**
 * The codings of a ValueSet of this module (with displays, included value sets expanded), in the
 * given order of preference: required inputs list them as codes so that the collect-information
 * Task the engine writes is labelled with a readable display.
 */
export function vsCodings(id: string, first?: string): { system: string; code: string; display: string }[] {
  const spec = VALUE_SETS.find((v) => v.id === id);
  if (!spec) throw new Error(`no ValueSet ${id}`);
  const own = spec.include.flatMap((inc) => inc.concepts.map(([code, display]) => ({ system: inc.system, code, display })));
  const nested = (spec.includeValueSets ?? []).flatMap((v) => vsCodings(v));
  const all = [...nested, ...own];
  const i = first === undefined ? -1 : all.findIndex((c) => c.code === first);
  return i > 0 ? [all[i]!, ...all.slice(0, i), ...all.slice(i + 1)] : all;
}

/** Fragments of the Chinese NHSA code systems: the codes this module uses, so every system resolves. */
function nhsaFragment(id: string, url: string, title: string, system: string): CodeSystem {
  const seen = new Map<string, string>();
  for (const spec of VALUE_SETS) for (const inc of spec.include) if (inc.system === system) for (const [c, d] of inc.concepts) seen.set(c, d);
  const concepts = [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, display]) => ({ code, display }));
  return {
    resourceType: 'CodeSystem',
    id,
    url,
    version: VERSION,
    name: computableName(id),
    title,
    status: 'draft',
    experimental: true,
    date: DATE,
    publisher: PUBLISHER,
    description: `${title}: the codes this module uses (VERIFIED-zh in terminology.md section 10; English displays are glosses of the Chinese titles). No official FHIR URI exists for this system.`,
    caseSensitive: true,
    content: 'fragment',
    count: concepts.length,
    concept: concepts,
  };
}

export const codeSystems: CodeSystem[] = [
  localCodeSystem,
  nhsaFragment('cn-nhsa-icd10-v2', NHSA10, 'China NHSA ICD-10 v2.0 clinical extension (fragment)', NHSA10),
  nhsaFragment('cn-nhsa-icd9cm3-v2', NHSA9, 'China NHSA ICD-9-CM-3 v2.0 clinical extension (fragment)', NHSA9),
];

export const LOCAL_CODES = new Set(LOCAL_CONCEPTS.map((c) => c.code));
export { BASE };
