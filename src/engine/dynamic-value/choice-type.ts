/**
 * For a choice element written without its type (`occurrence`, `extension('u').value`): which
 * typed variant a value goes to, guessed from its shape. A value that fits none is an error
 * asking the author to name the type.
 */
import { DynamicValuePathError } from './path-error.ts';
import { DATE, DATE_TIME_PARTIAL_TIME, describe, hasOnlyKeys, isCoding, isPlainObject, isResource, quantityFromText, REFERENCE_KEYS, TIME } from './value-shapes.ts';

/** For a choice element written without its type (`occurrence`, `extension('u').value`): the
 *  type suffix that fits the JavaScript value. */
export function pickChoiceType(value: unknown, types: readonly string[], target: string): string {
  const has = (t: string) => types.includes(t);
  const first = (...candidates: string[]) => candidates.find(has);
  let pick: string | undefined;
  if (typeof value === 'boolean') pick = first('Boolean');
  else if (typeof value === 'number') pick = Number.isInteger(value) ? first('Integer', 'Decimal', 'UnsignedInt', 'PositiveInt') : first('Decimal');
  else if (typeof value === 'string') {
    if (DATE_TIME_PARTIAL_TIME.test(value)) pick = first('DateTime', 'Instant');
    else if (DATE.test(value)) pick = first('Date', 'DateTime');
    else if (TIME.test(value)) pick = first('Time');
    else if (quantityFromText(value)) pick = first('Quantity', 'Duration', 'Age');
    pick ??= first('String', 'Markdown', 'Code', 'Uri', 'Url', 'Canonical', 'Id');
  } else if (isResource(value)) pick = first('Reference');
  else if (isPlainObject(value)) {
    if ('coding' in value) pick = first('CodeableConcept');
    else if (isCoding(value)) pick = first('Coding', 'CodeableConcept');
    else if (typeof value['value'] === 'number') pick = first('Quantity', 'Duration', 'Age', 'Count', 'Distance', 'Money');
    else if ('start' in value || 'end' in value) pick = first('Period');
    else if ('low' in value || 'high' in value) pick = first('Range');
    else if ('numerator' in value || 'denominator' in value) pick = first('Ratio');
    else if ('repeat' in value || 'event' in value) pick = first('Timing');
    else if (hasOnlyKeys(value, REFERENCE_KEYS)) pick = first('Reference');
    else if ('contentType' in value || 'data' in value) pick = first('Attachment');
    else if (typeof value['text'] === 'string' && Object.keys(value).length === 1) pick = first('CodeableConcept', 'Annotation');
    else if ('language' in value && 'expression' in value) pick = first('Expression');
  }
  if (!pick) {
    throw new DynamicValuePathError(
      `cannot tell which type of ${target}[x] ${describe(value)} is (allowed: ${types.join(', ')}); name the type with ofType() or the typed element name`,
    );
  }
  return pick;
}
