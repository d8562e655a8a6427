/** The request and data-element codes the expectations name (terminology.md section C), as system|code. */
import { ICD9, LOCAL, LOINC, SCT } from './fixtures.ts';

const k = (system: string, code: string): string => `${system}|${code}`;

export const C = {
  // procedures
  hsg: k(SCT, '168884001'),
  hysteroscopy: k(SCT, '233545006'),
  hycosy: k(LOCAL, 'hycosy'),
  hydrotubation: k(LOCAL, 'tubal-hydrotubation'),
  lapChromopertubation: k(LOCAL, 'laparoscopic-chromopertubation'),
  reversalAny: k(ICD9, '66.73'),
  reversalOpen: k(LOCAL, 'tubal-reanastomosis-open-microsurgical'),
  reversalLaparoscopic: k(LOCAL, 'tubal-reanastomosis-laparoscopic'),
  reversalLapAssisted: k(LOCAL, 'tubal-reanastomosis-lap-assisted-minilaparotomy'),
  methyleneBlue: k(LOCAL, 'methylene-blue-patency-test'),
  antiAdhesion: k(LOCAL, 'anti-adhesion-barrier-application'),
  admission: k(SCT, '305408004'),
  ivfReferral: k(SCT, '52637005'),
  // work-up
  semen: k(SCT, '5025004'),
  ecg: k(SCT, '29303009'),
  chestXray: k(SCT, '399208008'),
  cbc: k(LOINC, '57021-8'),
  urinalysis: k(LOINC, '24356-8'),
  liver: k(LOINC, '24325-3'),
  kidney: k(LOINC, '24362-6'),
  glucose: k(LOINC, '1558-6'),
  coagulation: k(LOCAL, 'coagulation-panel'),
  hbv: k(LOCAL, 'hbv-serology-5'),
  hcv: k(LOINC, '16128-1'),
  hiv: k(LOINC, '56888-1'),
  syphilis: k(LOINC, '22461-8'),
  bloodGroup: k(LOINC, '882-1'),
  leukorrhea: k(LOCAL, 'leukorrhea-routine'),
  cervicalSmear: k(LOINC, '47528-5'),
  chlamydia: k(LOINC, '21190-4'),
  mycoplasma: k(LOCAL, 'mycoplasma-ureaplasma-culture'),
  cardioExam: k(SCT, '444733009'),
  pulmonaryExam: k(SCT, '444562008'),
  gynExam: k(LOCAL, 'preop-gynecological-examination'),
  iodineTest: k(LOCAL, 'iodine-sensitivity-test'),
  enema: k(LOCAL, 'cleansing-enema'),
  atropine: k(SCT, '372832002'),
  // instructions
  noIntercourseBefore: k(LOCAL, 'advice-no-intercourse-until-procedure'),
  hsgDay: k(SCT, '409073007'),
  emptyBladder: k(LOCAL, 'advice-empty-bladder'),
  noIntercourseAfter: k(SCT, '243077000'),
  noTubBath: k(LOCAL, 'advice-no-tub-bath'),
  conceptionAfterHsg: k(LOCAL, 'advice-conception-timing-post-hsg'),
  admissionInstruction: k(SCT, '409073007'),
  afterReversal: k(SCT, '171012002'),
  // data elements named by collect-information Tasks
  mensesEnd: k(LOCAL, 'menses-end-date'),
  pregnancyStatus: k(LOINC, '2106-3'),
  iodineAllergyStatus: k(SCT, '716186003'),
  fitness: k(LOCAL, 'fit-for-procedure'),
  regularity: k(LOCAL, 'menstrual-regularity'),
  permit: k(LOCAL, 'recanalization-permit'),
  /** The current pregnancy status asked for when a result on record does not exclude pregnancy (SAFE-2). */
  pregnancyStatusNow: k(LOINC, '82810-3'),
  /** The pregnancy test on the day of each procedure (SAFE-2): one per procedure, never merged. */
  pregnancyTestProcedureDay: k(SCT, '252160004'),
  ligationMethod: k(LOCAL, 'tubal-ligation-method'),
  fullBirthDate: k(LOCAL, 'birth-date-full'),
  tubalPatencyResult: k(LOCAL, 'tubal-patency-panel'),
} as const;

export const HSG_PREPARATION = [C.atropine, C.noIntercourseBefore, C.hsgDay, C.emptyBladder, C.noIntercourseAfter, C.noTubBath, C.conceptionAfterHsg];
/** HyCoSy keeps the care of HSG except what answers iodine or X-rays (SAFE-8). */
export const HYCOSY_PREPARATION = [C.atropine, C.noIntercourseBefore, C.hsgDay, C.emptyBladder, C.noIntercourseAfter, C.noTubBath];
export const HYS_WORKUP = [
  C.cardioExam,
  C.pulmonaryExam,
  C.gynExam,
  C.cbc,
  C.urinalysis,
  C.liver,
  C.kidney,
  C.glucose,
  C.coagulation,
  C.hbv,
  C.hcv,
  C.hiv,
  C.syphilis,
  C.bloodGroup,
  C.leukorrhea,
  C.chlamydia,
  C.mycoplasma,
];
export const TR_WORKUP = [C.ecg, C.chestXray, C.cbc, C.leukorrhea, C.cervicalSmear];
