/**
 * The exact sentences of the source texts (plandefinitions/sources/, copies of the shared sources)
 * each rule of clinical-rules.md encodes. A test checks every quote occurs verbatim in its file.
 * A citation names the document by its title and the section the sentence stands in, not by the
 * local file name: the file is where this repository keeps its copy, not something a reader can cite.
 */
import { readFileSync } from 'node:fs';
import { cite, SOURCE, type Quote, type SourceFile } from './common.ts';
import type { RelatedArtifact } from '@medplum/fhirtypes';

export interface SourceDocument {
  /** The document's own heading where it has one; otherwise the subject it opens with. */
  title: string;
  /** The section headings, each written exactly as it occurs in the text, in order. */
  headings: string[];
}

export const SOURCE_DOCUMENTS: Record<SourceFile, SourceDocument> = {
  [SOURCE.reversal]: {
    title: 'Post-ligation recanalization (tubal ligation reversal)',
    headings: ['1. Indications', '2.Surgery time', '4.Surgical effect', '5. Pregnancy planning after surgery', '6. Treatment for post-operative infertility'],
  },
  [SOURCE.hsg]: {
    title: 'Hysterosalpingography (HSG) and the other tubal patency tests',
    headings: [
      'What is the function?',
      'What are the indications?',
      'What are the contraindications?',
      'What is the preoperative preparation?',
      'What should I pay attention to after the examination?',
      'How soon after the test can I get pregnant?',
      'What are the similar other tests?',
    ],
  },
  [SOURCE.hysteroscopy]: {
    title: 'Hysteroscopy in infertility',
    headings: [
      'What is hysteroscopy?',
      'Indications for infertility hysteroscopy:',
      'Common infertility factors found by hysteroscopy:',
      'Contraindications for hysteroscopy:',
      'Hysteroscopy preoperative examination notes:',
    ],
  },
};

/** The copy of a source text this repository keeps (plandefinitions/sources/<file>). */
export const sourcePath = (file: SourceFile): URL => new URL(`../sources/${file}`, import.meta.url);

/**
 * The section a quote stands in: the last heading before it, read from the text itself (headings
 * as the text writes them, with a space after a number and no trailing colon).
 */
export function sectionOf(quote: Quote, text = readFileSync(sourcePath(quote.file), 'utf8')): string {
  const at = text.indexOf(quote.text);
  if (at < 0) throw new Error(`quote not in ${quote.file}: ${quote.text}`);
  const { headings } = SOURCE_DOCUMENTS[quote.file];
  const before = headings.filter((h) => {
    const offset = text.indexOf(h);
    if (offset < 0) throw new Error(`heading not in ${quote.file}: ${h}`);
    return offset <= at;
  });
  const heading = before.at(-1) ?? 'Introduction';
  return heading.replace(/^(\d+)\.\s*/, '$1. ').replace(/:$/, '');
}

const tr = (text: string): Quote => ({ file: SOURCE.reversal, text });
const hsg = (text: string): Quote => ({ file: SOURCE.hsg, text });
const hys = (text: string): Quote => ({ file: SOURCE.hysteroscopy, text });

const TR_INDICATIONS = tr(
  'After tubal ligation, the couple should be in good health, the female partner should be under 40 years old, have normal menstruation and conform to the national family planning policy (proof of recanalization is required).',
);
const TR_NO_CONTRAINDICATION = tr(
  'There is no contraindication to surgery, and if necessary, corresponding infertility tests should be done, such as semen examination of the male partner, to exclude abnormalities and cure before surgery.',
);
const TR_PREP = tr(
  'You can be hospitalized after your menstruation, because you have to prepare for 1-2 days before the operation, such as heart and lung function, blood, vaginal leucorrhoea and cervical smear, etc.',
);
const TR_LAP_ASSISTED = tr(
  'If laparoscopically assisted small incision abdominal tubal revascularization is used, it is ideal (at a higher cost) to achieve the desired revascularization effect and also to treat pelvic endometriosis under laparoscopy, flush out the blood from the abdominal cavity, and perform the Melanoma fluid pass test immediately to verify the effect of revascularization.',
);
const HSG_PREGNANCY_MENSES = hsg('3, pregnancy, menstruation;');
const HSG_HYCOSY = hsg(
  'Compared with HSG, HyCoSy is a non-invasive test that can avoid iodine allergy and radiation exposure, shorten the examination time, reduce the number of visits and costs, and is a cost effective test method.',
);

export const QUOTES: Record<string, Quote[]> = {
  'TR-I1': [TR_INDICATIONS],
  'TR-I2': [TR_INDICATIONS],
  'TR-I3': [TR_INDICATIONS],
  'TR-I4': [TR_INDICATIONS, TR_NO_CONTRAINDICATION],
  'TR-I5': [TR_INDICATIONS],
  'TR-W1': [TR_NO_CONTRAINDICATION],
  'TR-T1': [tr('The operation time is appropriate 3-7 days after menstruation.'), TR_PREP],
  'TR-P1': [TR_PREP],
  'TR-S1': [
    tr('There are open tubal revascularization and laparoscopic revascularization.'),
    tr(
      'Open tubal reversal surgery is performed under an operating microscope (10-30 times magnification) or a surgical loupe (4-10 times magnification) with the help of fine instruments, which significantly improves the success rate of the surgery.',
    ),
    tr(
      'Laparoscopic revascularization has many advantages, but it is difficult and time-consuming to suture the tubal core under laparoscopy using a 7-0 non-absorbable needle and thread (a needle and thread as thick as a human hair).',
    ),
    TR_LAP_ASSISTED,
  ],
  'TR-S2': [TR_LAP_ASSISTED],
  'TR-S3': [
    tr(
      'In order to prevent the surgical wound adhesions, which affect the travel and function of the fallopian tubes, anti-adhesive agents, such as bioprotein gel and hyaluronic acid na, are applied to the surgical wound at the end of surgery.',
    ),
  ],
  'TR-O1': [
    tr('The effect of recanalization after tubal ligation varies according to the original ligation method.'),
    tr(
      'The original ligation method uses the isthmus core extraction method or the double fold ligation cut method, where the ligated part is in the middle 1/3 of the fallopian tube, which is convenient for anastomosis.',
    ),
    tr('More than 90% of patients have a successful pregnancy within one year after surgery.'),
  ],
  'TR-A1': [tr('No contraception is needed after surgery, and pregnancy can occur in the next menstrual cycle.')],
  'TR-A2': [tr('Tubal ligation after the next menstrual cycle has been advocated in the past, but there is an increased risk of pelvic infection.')],
  'TR-A3': [tr('Tubal iodography is even less desirable because contraception is needed for 2 to 3 months after the test.')],
  'TR-F1': [tr('If pregnancy is not achieved one year after surgery, tubal iodography (HSG) or laparoscopy should be performed to clarify the tubal patency.')],
  'TR-F2': [tr('If it is confirmed that the fallopian tubes are incompetent or incompetent bilaterally, assisted reproductive technology such as IVF is feasible.')],

  'HSG-I1': [
    hsg(
      '(1) Infertility: It is used to understand the cause of infertility, to see if it is tubal infertility, and to see where the fallopian tubes are not working and to provide a basis for the next step of treatment.',
    ),
  ],
  'HSG-I2': [hsg('2. Various other conditions that require knowledge of the patency of the fallopian tubes and the morphology of the uterus.')],
  'HSG-C1': [
    hsg(
      '1, acute or subacute inflammation of the internal and external genitalia (so it is necessary to check the leucorrhoea before imaging, and the leucorrhoea should be normal before imaging);',
    ),
  ],
  'HSG-C2': [hsg('2, serious systemic diseases that cannot tolerate the procedure;')],
  'HSG-C3': [HSG_PREGNANCY_MENSES],
  'HSG-C4': [HSG_PREGNANCY_MENSES],
  'HSG-C5': [hsg('4, postpartum, abortion, scraping within 6 weeks;')],
  'HSG-C6': [hsg('5, iodine allergy.'), HSG_HYCOSY],
  'HSG-T1': [
    hsg('1, imaging to clean menstruation 5-7 days is appropriate.'),
    hsg('If the endometrium is too early, the endometrium is not yet fully repaired and the hyperplastic endometrium is thin and easily damaged;'),
  ],
  'HSG-P1': [hsg('2, no intercourse after menstruation until before imaging;')],
  'HSG-P2': [hsg('3, normal diet on the day of imaging;'), hsg('4, there may be a small amount of bleeding after imaging, bring good tissues to be prepared;')],
  'HSG-P3': [hsg('5, iodine allergy test, negative before imaging;')],
  'HSG-P4': [
    hsg(
      'half an hour before the procedure intramuscular injection of atropine antispasmodic, to avoid or reduce the uterus, fallopian tube spasm and cause difficulties in the pavilion or cause false images;',
    ),
  ],
  'HSG-P5': [
    hsg(
      '6, emptying the bladder before the procedure, constipated people perform clean enema before the procedure, in order to make The uterus is kept in normal position to avoid the illusion of external pressure.',
    ),
  ],
  'HSG-A1': [
    hsg(
      'The purpose of all precautions is to avoid infection, so it is required not to have intercourse within one menstrual cycle, and it is prohibited to take a tub bath, etc.',
    ),
  ],
  'HSG-A2': [
    hsg('The advice given by most experts in China is to take a month off after the HSG test to actively try for pregnancy.'),
    hsg(
      'After the hysterosalpingogram, there is a doctor’s recommendation to use contraception for three months in order to reduce the possible effects of X-ray exposure on the eggs.',
    ),
  ],
  'HSG-X1': [
    hsg('1. To check the patency of the fallopian tubes with an accuracy rate of 98%, but not 100%.'),
    hsg('2. The conception rate is as high as 76%, which is 4 times higher than those who did not have HSG examination.'),
  ],
  'HSG-ALT1': [
    hsg('1. Tubal lavage: Instead of contrast, saline is injected and the pressure is felt by hand or depicted by a machine to determine the patency of the fallopian tubes.'),
    hsg(
      '2.Laparoscopic laparoscopic lavage (LC): It is recognized as the gold standard for evaluating the patency of the fallopian tubes, which can provide a visual understanding of the fallopian tubes and allow direct intubation of the blockage during the procedure to unblock the tubes and also detect other lesions in the pelvis.',
    ),
    hsg(
      'However, LV is an invasive test that requires hospitalization under general anesthesia and is more expensive, so it is generally not the preferred method for checking tubal patency.',
    ),
    HSG_HYCOSY,
  ],

  'HYS-I1': [hys('1, those with abnormal uterine bleeding;')],
  'HYS-I2': [hys('2, those with a history of complicated uterine or uterine surgery;')],
  'HYS-I3': [hys('3, those with repeated pregnancy failure;')],
  'HYS-I4': [hys('4, those with HSG suggesting uterine cavity abnormality or filling defect;')],
  'HYS-I5': [hys('5, those who have not done hysteroscopy before, which can be carried out at the same time with laparoscopy;')],
  'HYS-I6': [hys('6, those with unexplained infertility;')],
  'HYS-I7': [hys('and 7, those who have not done hysteroscopy before, and have failed IVF-ET.')],
  'HYS-C1': [hys('Contraindications for hysteroscopy: 1, acute inflammation: acute endometritis, acute adnexitis, acute pelvic inflammatory disease;')],
  'HYS-C2': [hys('2, massive uterine bleeding;')],
  'HYS-C3': [hys('3, pregnancy;')],
  'HYS-C4': [hys('4, chronic pelvic inflammatory disease.')],
  'HYS-P1': [
    hys(
      'Hysteroscopy preoperative examination notes: 1, physical examination: routine examination of cardiopulmonary function, the presence of pelvic inflammatory disease and acute vaginitis;',
    ),
  ],
  'HYS-P2': [
    hys(
      '2, laboratory tests: blood, urine routine, liver, kidney function, fasting blood sugar, coagulation function, hepatitis B complete set, hepatitis C, negative AIDS (HIV), syphilis (TRUST), blood type, vaginal secretions that is the ordinary leukorrhea examination, if necessary, take the cervical secretions for chlamydia, mycoplasma Check;',
    ),
  ],
  'HYS-T1': [
    hys('3, hysteroscopy time selection: except for special circumstances, generally about 3-10 days after menstruation is appropriate.'),
    hys('for those with irregular bleeding, they can be examined at any time after stopping bleeding.'),
  ],
  'HYS-F1': [
    hys(
      'Common infertility factors found by hysteroscopy: 1, uterine fibroids: hysteroscopy plays an important role in deciding the location of fibroids, determining the need for surgery and choosing the surgical method;',
    ),
    hys('6, tubal blockage : Tubal pathology is the most common cause of infertility.'),
  ],
};

/**
 * The binding safety rules (clinical-rules.md SAFE-n) read the three texts together: each is cited
 * with the source sentences it combines. SAFE-1 (one patient's data) is a rule of the data boundary
 * (src/data/patient-compartment.ts), not of an action.
 */
const SAFE_QUOTES: Record<string, Quote[]> = {
  'SAFE-2': [HSG_PREGNANCY_MENSES, hys('3, pregnancy;'), TR_INDICATIONS],
  'SAFE-3': [...QUOTES['HSG-C1']!, ...QUOTES['HYS-C1']!, ...QUOTES['HYS-P1']!, TR_PREP],
  'SAFE-4': [TR_NO_CONTRAINDICATION, ...QUOTES['HSG-C2']!, ...QUOTES['HYS-P1']!],
  'SAFE-5': [...QUOTES['TR-T1']!, TR_INDICATIONS, ...QUOTES['HSG-P3']!, ...QUOTES['HSG-T1']!.slice(0, 1), ...QUOTES['HYS-T1']!],
  'SAFE-6': [...QUOTES['HYS-I5']!, ...QUOTES['TR-F1']!],
  'SAFE-7': [...QUOTES['TR-F2']!, ...QUOTES['HYS-I4']!],
  'SAFE-8': [HSG_HYCOSY, ...QUOTES['HSG-A1']!],
  'SAFE-9': [...QUOTES['TR-O1']!.slice(0, 2)],
  'SAFE-10': [...QUOTES['HSG-C1']!, HSG_PREGNANCY_MENSES],
};
Object.assign(QUOTES, SAFE_QUOTES);

/** The plan-level `documentation` entry naming the whole source text a protocol is read from. */
export function sourceText(source: keyof typeof SOURCE): RelatedArtifact {
  return { type: 'documentation', display: 'Source text', citation: `${SOURCE_DOCUMENTS[SOURCE[source]].title}. Clinical expert text, English translation.` };
}

/** The citation RelatedArtifacts of one or more rules. */
export function citations(...ruleIds: string[]): RelatedArtifact[] {
  return ruleIds.flatMap((id) => {
    const quotes = QUOTES[id];
    if (!quotes) throw new Error(`no quote for rule ${id}`);
    return quotes.map((q) => cite(id, q, { title: SOURCE_DOCUMENTS[q.file].title, section: sectionOf(q) }));
  });
}
