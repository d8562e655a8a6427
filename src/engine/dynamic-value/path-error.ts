/**
 * Why a dynamicValue cannot be written: its path is not Simple FHIRPath, names no R4 element, or
 * the value does not fit the element. Reported as an `invalid` issue, never written half-way.
 */
export class DynamicValuePathError extends Error {}
