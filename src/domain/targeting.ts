/**
 * Targeting trees compiled once per catalog version into small data nodes (values normalised,
 * fields and operators as numbers, long value lists as sets), so a decision evaluates a campaign's
 * rules without re-reading its JSON. One evaluator walks every tree.
 *
 * Semantics (documented in the README):
 * - words compare case-insensitively; `geo.country` upper-case; `daypart` is the UTC hour;
 * - list fields (`topics`, `keywords`) match `in` when any page value is in the list, `notIn` when
 *   none is, `contains`/`prefix` when any page value contains / starts with any rule value;
 * - `language` matches the full tag or its primary subtag (`en` matches a page in `en-GB`);
 * - a field the page does not send matches only `notIn`.
 */
import type { TargetingLeaf, TargetingNode } from "./catalog-schema.js";
import { normalizeWord, type PageContext } from "./context.js";
import { HashInterner, hashStrings, Interner, sameItems } from "./intern.js";

export type Predicate = (ctx: PageContext) => boolean;

/**
 * A targeting tree compiled once per catalog version: normalised values, and small data nodes that
 * one evaluator walks (no closures: at 100k campaigns, closures and their contexts per node held
 * ~45 MB). It is the root node itself, with no wrapper (`undefined`: no targeting, every page
 * matches); the source tree stays with the campaign.
 */
export type CompiledTargeting = TargetingCode | undefined;

/** Compiled nodes by the source subtree they came from, for one catalog compile (see `compileTargeting`). */
export type TargetingMemo = Map<TargetingNode, TargetingCode>;

/** Whether the page matches a compiled targeting tree. */
export function matchesTargeting(targeting: CompiledTargeting, ctx: PageContext): boolean {
  return targeting === undefined || evaluate(targeting, ctx);
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h));

const enum Kind {
  Leaf,
  All,
  Any,
  Not,
}
const enum Field {
  Section,
  Topics,
  Keywords,
  Url,
  Language,
  Country,
  Device,
  Daypart,
}
const enum Op {
  In,
  NotIn,
  Contains,
  Prefix,
}

const FIELDS: Record<TargetingLeaf["field"], Field> = {
  section: Field.Section,
  topics: Field.Topics,
  keywords: Field.Keywords,
  url: Field.Url,
  language: Field.Language,
  "geo.country": Field.Country,
  "device.type": Field.Device,
  daypart: Field.Daypart,
};
const OPS: Record<TargetingLeaf["op"], Op> = { in: Op.In, notIn: Op.NotIn, contains: Op.Contains, prefix: Op.Prefix };

/** Past this many values, `in`/`notIn` look values up in a set rather than scanning the list. */
const SET_FROM = 9;

/** One compiled node; every node has the same shape, so the evaluator's reads stay monomorphic. */
class TargetingCode {
  constructor(
    readonly kind: Kind,
    readonly field: Field,
    readonly op: Op,
    /** A leaf's normalised values. */
    readonly values: readonly string[],
    /** A leaf's values as a set, for long `in`/`notIn` lists. */
    readonly set: ReadonlySet<string> | undefined,
    /** The children of `all` and `any`, the child of `not`. */
    readonly children: readonly TargetingCode[],
  ) {}
}

const NO_VALUES: readonly string[] = Object.freeze([]);
const NO_CHILDREN: readonly TargetingCode[] = Object.freeze([]);

function normalizeValue(field: TargetingLeaf["field"], v: string | number): string {
  if (field === "daypart") return String(Number(v));
  if (field === "geo.country") return String(v).trim().toUpperCase();
  return normalizeWord(String(v));
}

/** A leaf's values normalised: the leaf's own list when normalising changes none of them (no copy). */
function normalizedValues(leaf: TargetingLeaf): readonly string[] {
  let same = true;
  for (const v of leaf.values) if (typeof v !== "string" || normalizeValue(leaf.field, v) !== v) same = false;
  return same ? (leaf.values as readonly string[]) : leaf.values.map((v) => normalizeValue(leaf.field, v));
}

/** Whether one page value passes the (positive) test of a leaf. */
function test(leaf: TargetingCode, v: string): boolean {
  switch (leaf.op) {
    case Op.In:
    case Op.NotIn:
      return leaf.set !== undefined ? leaf.set.has(v) : leaf.values.includes(v);
    case Op.Contains:
      for (const needle of leaf.values) if (v.includes(needle)) return true;
      return false;
    case Op.Prefix:
      for (const p of leaf.values) if (v.startsWith(p)) return true;
      return false;
  }
}

function testAll(leaf: TargetingCode, list: readonly string[]): boolean {
  for (const v of list) if (test(leaf, v)) return true;
  return false;
}

function testOne(leaf: TargetingCode, v: string | undefined): boolean {
  return v !== undefined && test(leaf, v);
}

/** "Some page value of the leaf's field passes its test" (a field the page lacks: none does). */
function anyValue(leaf: TargetingCode, ctx: PageContext): boolean {
  switch (leaf.field) {
    case Field.Section:
      return testOne(leaf, ctx.section);
    case Field.Topics:
      return testAll(leaf, ctx.topics);
    case Field.Keywords:
      return testAll(leaf, ctx.keywords);
    case Field.Url:
      return testOne(leaf, ctx.url);
    case Field.Language:
      // The full tag, and its primary subtag as an alternative (`en` matches a page in `en-GB`).
      return testOne(leaf, ctx.language) || (ctx.languagePrimary !== ctx.language && testOne(leaf, ctx.languagePrimary));
    case Field.Country:
      return testOne(leaf, ctx.country);
    case Field.Device:
      return testOne(leaf, ctx.deviceType);
    case Field.Daypart:
      return testOne(leaf, HOURS[ctx.hourUtc]);
  }
}

function evaluate(node: TargetingCode, ctx: PageContext): boolean {
  switch (node.kind) {
    case Kind.Leaf:
      // `notIn` is the negation of "any page value is in the list" (so a missing field matches it).
      return node.op === Op.NotIn ? !anyValue(node, ctx) : anyValue(node, ctx);
    case Kind.All:
      for (const child of node.children) if (!evaluate(child, ctx)) return false;
      return true;
    case Kind.Any:
      for (const child of node.children) if (evaluate(child, ctx)) return true;
      return false;
    case Kind.Not:
      return !evaluate(node.children[0] as TargetingCode, ctx);
  }
}

function leafCode(leaf: TargetingLeaf, values: readonly string[]): TargetingCode {
  const op = OPS[leaf.op];
  const set = (op === Op.In || op === Op.NotIn) && values.length >= SET_FROM ? new Set(values) : undefined;
  return new TargetingCode(Kind.Leaf, FIELDS[leaf.field], op, values, set, NO_CHILDREN);
}

/** A leaf as a predicate (for tests and `explain`). */
export function compileLeaf(leaf: TargetingLeaf): Predicate {
  const code = leafCode(leaf, normalizedValues(leaf));
  return (ctx) => evaluate(code, ctx);
}

export function isLeaf(node: TargetingNode): node is TargetingLeaf {
  return "field" in node;
}

/** Equal leaves (field, operator, normalised values) share one compiled node across campaigns. */
const leaves = new HashInterner<TargetingCode>();

function compileNode(node: TargetingNode, memo: TargetingMemo | undefined): TargetingCode {
  if (isLeaf(node)) {
    const values = normalizedValues(node);
    const field = FIELDS[node.field];
    const op = OPS[node.op];
    return leaves.get(
      hashStrings(values, field * 8 + op),
      (c) => c.field === field && c.op === op && sameItems(c.values, values),
      () => leafCode(node, values),
    );
  }
  const known = memo?.get(node);
  if (known) return known;
  const code =
    "all" in node
      ? new TargetingCode(Kind.All, Field.Section, Op.In, NO_VALUES, undefined, node.all.map((n) => compileNode(n, memo)))
      : "any" in node
        ? new TargetingCode(Kind.Any, Field.Section, Op.In, NO_VALUES, undefined, node.any.map((n) => compileNode(n, memo)))
        : new TargetingCode(Kind.Not, Field.Section, Op.In, NO_VALUES, undefined, [compileNode(node.not, memo)]);
  memo?.set(node, code);
  return code;
}

/**
 * Compiles a tree. `memo` (one per catalog compile) gives a subtree object that several campaigns
 * share — as a catalog read from Redis shares equal subtrees — one compiled node.
 */
export function compileTargeting(tree: TargetingNode | undefined, memo?: TargetingMemo): CompiledTargeting {
  return tree === undefined ? undefined : compileNode(tree, memo);
}

/**
 * The node that makes a tree fail for this page, for `explain`: the first failing leaf under an
 * `all`, the `any` node itself when none of its children match, the `not` node when its child
 * matches. `undefined` when the tree matches.
 */
export function findFailingNode(tree: TargetingNode | undefined, ctx: PageContext): TargetingNode | undefined {
  if (tree === undefined) return undefined;
  if (isLeaf(tree)) return compileLeaf(tree)(ctx) ? undefined : tree;
  if ("all" in tree) {
    for (const child of tree.all) {
      const failing = findFailingNode(child, ctx);
      if (failing) return failing;
    }
    return undefined;
  }
  if ("any" in tree) return tree.any.some((c) => findFailingNode(c, ctx) === undefined) ? undefined : tree;
  return findFailingNode(tree.not, ctx) === undefined ? tree : undefined;
}

/** One string per distinct index key, shared by every campaign's key list. */
const indexKeyStrings = new Interner<string>();
const internKey = (key: string): string => indexKeyStrings.get(key, () => key);

/**
 * Index keys a page must carry for this tree to possibly match (`s:<section>`, `t:<topic>`,
 * `k:<keyword>`), or `undefined` when the tree can match pages without any of them. Sound but not
 * complete: used only to skip campaigns that cannot match, never to decide a match.
 */
export function requiredIndexKeys(tree: TargetingNode | undefined): string[] | undefined {
  if (tree === undefined) return undefined;
  if (isLeaf(tree)) {
    if (tree.op !== "in") return undefined;
    const prefix = tree.field === "section" ? "s:" : tree.field === "topics" ? "t:" : tree.field === "keywords" ? "k:" : undefined;
    if (!prefix) return undefined;
    return [...new Set(tree.values.map((v) => internKey(prefix + normalizeValue(tree.field, v))))];
  }
  if ("all" in tree) {
    let best: string[] | undefined;
    for (const child of tree.all) {
      const keys = requiredIndexKeys(child);
      if (keys && (!best || keys.length < best.length)) best = keys;
    }
    return best;
  }
  if ("any" in tree) {
    const union = new Set<string>();
    for (const child of tree.any) {
      const keys = requiredIndexKeys(child);
      if (!keys) return undefined;
      for (const k of keys) union.add(k);
    }
    return [...union];
  }
  return undefined;
}

/** The index keys a page carries (see `requiredIndexKeys`). */
export function pageIndexKeys(ctx: PageContext): string[] {
  const keys: string[] = [];
  if (ctx.section !== undefined) keys.push("s:" + ctx.section);
  for (const t of ctx.topics) keys.push("t:" + t);
  for (const k of ctx.keywords) keys.push("k:" + k);
  return keys;
}
