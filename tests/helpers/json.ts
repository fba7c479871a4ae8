/**
 * A value as its JSON reads back: what a catalog document is as data. A loaded catalog's units
 * are packed (`PackedUnit`: the creative is not in own properties), so comparing documents with
 * `toEqual`, or copying one with `structuredClone`, must go through their JSON.
 */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
