/**
 * The infertility work-up pathway: applies the three protocols in order, each with its own
 * indications, so that their links hold across one apply:
 * - after a tubal ligation: the reversal protocol (and, one year without pregnancy, its HSG
 *   follow-up; both tubes blocked: IVF referral);
 * - otherwise: HSG for infertility;
 * - hysteroscopy whenever one of its indications holds, including an HSG showing a cavity
 *   abnormality or filling defect (HYS-I4).
 */
import { citations } from './citations.ts';
import { applicability, coding, ICD9, NOT_REFUTED, pdCanonical, PROCEDURE_DONE, SCT, vsInput } from './common.ts';
import { planDefinition } from './plan.ts';

const STERILISED = `(%sterilisationProcedures.where(${PROCEDURE_DONE}) | %sterilisationHistory.where(${NOT_REFUTED})).exists()`;

export const pathwayPlan = planDefinition({
  id: 'infertility-work-up-pathway',
  title: 'Infertility work-up pathway (reversal, HSG, hysteroscopy)',
  type: 'workflow-definition',
  description:
    'Links the three protocols: a woman with a previous tubal ligation follows the reversal protocol (failed reversal -> HSG -> IVF); otherwise HSG assesses the tubes; hysteroscopy follows its own indications, among them an HSG cavity abnormality or filling defect.',
  purpose: 'One apply for the whole work-up, with each protocol keeping its own rules and citations.',
  usage: 'Apply instead of the single protocols to get one CarePlan with a nested RequestGroup per protocol that applies.',
  relatedArtifact: [
    { type: 'composed-of', display: 'Tubal ligation reversal', resource: pdCanonical('tubal-reanastomosis') },
    { type: 'composed-of', display: 'Hysterosalpingography', resource: pdCanonical('hysterosalpingography') },
    { type: 'composed-of', display: 'Hysteroscopy', resource: pdCanonical('infertility-hysteroscopy') },
  ],
  action: [
    {
      id: 'pathway',
      title: 'Infertility work-up',
      documentation: citations('TR-I1', 'HSG-I1', 'HYS-I4'),
      input: [vsInput('sterilisationProcedures', 'Procedure', 'vs-tubal-sterilization-history'), vsInput('sterilisationHistory', 'Condition', 'vs-tubal-sterilization-history')],
      action: [
        {
          id: 'pathway-reversal',
          title: 'Previous tubal ligation: reversal protocol (failed reversal -> HSG -> IVF)',
          documentation: citations('TR-I1', 'TR-F1', 'TR-F2'),
          condition: [applicability(STERILISED, 'TR-I1: a previous tubal sterilisation is recorded')],
          // The nested RequestGroup carries the code of what it plans (every request is coded, SAFE-6).
          code: [{ coding: [coding(ICD9, '66.73', 'Salpingo-salpingostomy')] }],
          definitionCanonical: pdCanonical('tubal-reanastomosis'),
        },
        {
          id: 'pathway-hsg',
          title: 'No tubal ligation: HSG for infertility',
          documentation: citations('HSG-I1'),
          condition: [applicability(`${STERILISED}.not()`, 'HSG-I1: no tubal sterilisation (after one, HSG is part of the reversal follow-up)')],
          code: [{ coding: [coding(SCT, '168884001', 'Hysterosalpingography')] }],
          definitionCanonical: pdCanonical('hysterosalpingography'),
        },
        {
          id: 'pathway-hysteroscopy',
          title: 'Hysteroscopy when indicated (e.g. HSG cavity defect)',
          documentation: citations('HYS-I4'),
          code: [{ coding: [coding(SCT, '233545006', 'Hysteroscopy')] }],
          definitionCanonical: pdCanonical('infertility-hysteroscopy'),
        },
      ],
    },
  ],
});
