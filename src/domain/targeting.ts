/**
 * Targeting trees compiled once per catalog version into closures, so a decision evaluates a
 * campaign's rules without re-reading its JSON. One readable predicate per operator.
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
import { Interner } from "./intern.js";

export type Predicate = (ctx: PageContext) => boolean;

export interface CompiledTargeting {
  readonly source: TargetingNode | undefined;
  readonly matches: Predicate;
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h));

/**
 * How a leaf reads its page field: scalar fields as one value (or none), list fields as a list.
 * Kept apart so evaluating a scalar leaf allocates nothing on the request path.
 */
type FieldReader =
  | { readonly kind: "scalar"; readonly get: (ctx: PageContext) => string | undefined; readonly alt?: (ctx: PageContext) => string | undefined }
  | { readonly kind: "list"; readonly get: (ctx: PageContext) => readonly string[] };

function fieldReader(field: TargetingLeaf["field"]): FieldReader {
  switch (field) {
    case "section":
      return { kind: "scalar", get: (ctx) => ctx.section };
    case "topics":
      return { kind: "list", get: (ctx) => ctx.topics };
    case "keywords":
      return { kind: "list", get: (ctx) => ctx.keywords };
    case "url":
      return { kind: "scalar", get: (ctx) => ctx.url };
    case "language":
      // The full tag, and its primary subtag as an alternative (`en` matches a page in `en-GB`).
      return { kind: "scalar", get: (ctx) => ctx.language, alt: (ctx) => (ctx.languagePrimary !== ctx.language ? ctx.languagePrimary : undefined) };
    case "geo.country":
      return { kind: "scalar", get: (ctx) => ctx.country };
    case "device.type":
      return { kind: "scalar", get: (ctx) => ctx.deviceType };
    case "daypart":
      return { kind: "scalar", get: (ctx) => HOURS[ctx.hourUtc] };
  }
}

function normalizeValue(field: TargetingLeaf["field"], v: string | number): string {
  if (field === "daypart") return String(Number(v));
  if (field === "geo.country") return String(v).trim().toUpperCase();
  return normalizeWord(String(v));
}

/** Whether one page value satisfies the (positive) test of an op. */
function valueTest(op: TargetingLeaf["op"], values: readonly string[]): (v: string) => boolean {
  switch (op) {
    case "in":
    case "notIn": {
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case "contains":
      return (v) => {
        for (const needle of values) if (v.includes(needle)) return true;
        return false;
      };
    case "prefix":
      return (v) => {
        for (const p of values) if (v.startsWith(p)) return true;
        return false;
      };
  }
}

export function compileLeaf(leaf: TargetingLeaf): Predicate {
  const test = valueTest(leaf.op, leaf.values.map((v) => normalizeValue(leaf.field, v)));
  const reader = fieldReader(leaf.field);
  // "any page value passes the test"; `notIn` is its negation (so a missing field matches notIn).
  let any: Predicate;
  if (reader.kind === "scalar") {
    const { get, alt } = reader;
    any = alt
      ? (ctx) => {
          const v = get(ctx);
          if (v !== undefined && test(v)) return true;
          const a = alt(ctx);
          return a !== undefined && test(a);
        }
      : (ctx) => {
          const v = get(ctx);
          return v !== undefined && test(v);
        };
  } else {
    const { get } = reader;
    any = (ctx) => {
      for (const v of get(ctx)) if (test(v)) return true;
      return false;
    };
  }
  return leaf.op === "notIn" ? (ctx) => !any(ctx) : any;
}

export function isLeaf(node: TargetingNode): node is TargetingLeaf {
  return "field" in node;
}

/** Equal leaves (field, operator, normalised values) share one compiled predicate across campaigns. */
const leaves = new Interner<Predicate>();

function compileNode(node: TargetingNode): Predicate {
  if (isLeaf(node)) return leaves.get(JSON.stringify([node.field, node.op, node.values.map((v) => normalizeValue(node.field, v))]), () => compileLeaf(node));
  if ("all" in node) {
    const children = node.all.map(compileNode);
    return (ctx) => children.every((p) => p(ctx));
  }
  if ("any" in node) {
    const children = node.any.map(compileNode);
    return (ctx) => children.some((p) => p(ctx));
  }
  const inner = compileNode(node.not);
  return (ctx) => !inner(ctx);
}

const ALWAYS: Predicate = () => true;

export function compileTargeting(tree: TargetingNode | undefined): CompiledTargeting {
  return { source: tree, matches: tree === undefined ? ALWAYS : compileNode(tree) };
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
    return [...new Set(tree.values.map((v) => prefix + normalizeValue(tree.field, v)))];
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
