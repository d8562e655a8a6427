/**
 * Reads an action's `documentation` entry as the protocols write a rule's source
 * (plandefinitions/_authoring/common.ts `cite`): type `citation`, `label` = the rule id, `display`
 * = the source document and section, `citation` = markdown naming them, ending in a blockquote of
 * the exact sentence. Other entries (a justification, a citation from other content without a
 * label or blockquote) are read leniently: the rule is the label or display, the quote the whole text.
 */
import type { RelatedArtifact } from '@medplum/fhirtypes';

export interface Citation {
  /** The rule id (the entry's label, else its display) or "source" for an unlabelled quote. */
  rule: string;
  quote: string;
  /** The cited document and section, when the entry names them (`display` next to a label). */
  source?: string;
}

/** The blockquote of a markdown text (its `> ` lines, joined), or undefined when it has none. */
export function blockquoteOf(markdown: string): string | undefined {
  const lines = markdown.split('\n').filter((line) => /^>\s?/.test(line));
  return lines.length ? lines.map((line) => line.replace(/^>\s?/, '')).join(' ') : undefined;
}

export function readCitation(entry: RelatedArtifact): Citation | undefined {
  if (!entry.citation) return undefined;
  const rule = entry.label ?? entry.display ?? 'source';
  const quote = blockquoteOf(entry.citation);
  if (quote === undefined) return { rule, quote: entry.citation };
  const source = entry.label && entry.display ? entry.display : undefined;
  return source ? { rule, quote, source } : { rule, quote };
}

/** The rule citations of an action: `citation` entries with a label, a source and a quoted sentence. */
export function ruleCitations(documentation: readonly RelatedArtifact[] | undefined): Citation[] {
  return (documentation ?? []).flatMap((d) => {
    const read = d.type === 'citation' && d.label ? readCitation(d) : undefined;
    return read?.source && read.quote !== d.citation ? [read] : [];
  });
}
